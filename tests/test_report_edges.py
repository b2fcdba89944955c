"""`arena report` at its edges: intervals of bounded quantities, other run kinds,
truncated episode files, and the knowledge-graph figure (outside report, round 2)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from analysis.ds_report import CLIPPED_MARK, _fmt, render_ds_report
from analysis.play_report import KG_FIGURE_NAME, render_play_report
from analysis.run_kinds import detect_other_run_kind
from envs.errors import ArenaError
from envs.stats import Mean, clip_interval

if TYPE_CHECKING:
    from conftest import CliRunner


# ------------------------------------------------------------------ bounded intervals
def test_bounded_mean_interval_is_clipped_and_says_so() -> None:
    """Two accuracies 0.1 and 0.7: the t-interval is 0.4 ± 3.8, an accuracy lies in [0, 1]."""
    raw = Mean.of([0.1, 0.7])
    assert raw.low < 0 and raw.high > 1 and not raw.clipped  # the old, impossible interval
    bounded = Mean.of([0.1, 0.7], bounds=(0.0, 1.0))
    assert (bounded.low, bounded.high, bounded.clipped) == (0.0, 1.0, True)
    assert bounded.value == pytest.approx(0.4) and bounded.n == 2
    inside = Mean.of([0.4, 0.5, 0.45, 0.42], bounds=(0.0, 1.0))
    assert 0 < inside.low < inside.high < 1 and not inside.clipped


def test_clip_interval_leaves_missing_intervals_alone() -> None:
    low, high, clipped = clip_interval(math.nan, math.nan, (0.0, 1.0))
    assert math.isnan(low) and math.isnan(high) and not clipped
    assert clip_interval(-0.5, 0.5, None) == (-0.5, 0.5, False)
    assert clip_interval(-3.0, 2.0, (-1.0, 1.0)) == (-1.0, 1.0, True)


def test_ds_cells_are_clipped_to_their_range() -> None:
    """The researcher's rows: accuracy 0.399 [-0.65, 1.45], decision share +0.574
    [-2.39, +3.53] (2 runs); an interval already inside the range is unchanged."""
    accuracy = {"mean": 0.399, "low": -0.65, "high": 1.45, "n": 2}
    share = {"mean": 0.574, "low": -2.39, "high": 3.53, "n": 2}
    assert _fmt(accuracy) == f"0.399 [0.00, 1.00]{CLIPPED_MARK}"
    assert _fmt(share, signed=True) == f"+0.574 [-1.00, +1.00]{CLIPPED_MARK}"
    assert _fmt({"mean": 0.5, "low": 0.4, "high": 0.6, "n": 5}) == "0.500 [0.40, 0.60]"


def _ds_results(sweep_row: dict[str, object]) -> dict[str, object]:
    return {"policy": "tabular", "summary": [], "sweeps": {"rho": [sweep_row], "beta": []}}


def test_ds_report_sweep_table_has_no_impossible_bounds(tmp_path: Path) -> None:
    cell = {"mean": 0.399, "low": -0.65, "high": 1.45, "n": 2}
    row = {
        "rho": 0.5,
        "method": "rl",
        "runs": 2,
        "id_accuracy_after": cell,
        "id_accuracy_gain": {"mean": 0.044, "low": -0.12, "high": 0.2, "n": 2},
        "ood_accuracy_after": cell,
        "share_decision": {"mean": 0.574, "low": -2.39, "high": 3.53, "n": 2},
    }
    (tmp_path / "results.json").write_text(json.dumps(_ds_results(row)))
    text = render_ds_report(tmp_path)[0].read_text()
    assert "-0.65" not in text and "1.45" not in text and "3.53" not in text
    assert "| 0.5 | rl | 2 | 0.399 [0.00, 1.00]†" in text
    assert "clipped to the possible range" in text


# ------------------------------------------------------------------ other run kinds
def _write(path: Path, data: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))


@pytest.mark.parametrize(
    ("name", "files", "kind", "where"),
    [
        ("m1", {"run.json": {"recipe": "magic"}}, "MAGIC training run", "log.csv"),
        ("r2", {"run.json": {"recipe": "rapo"}}, "RAPO training run", "arena sweep rapo"),
        ("s1", {"manifest.json": {"kind": "rapo_sweep"}}, "RAPO sweep", "theory check --run"),
        ("k1", {"kale.json": {"kind": "kale"}}, "KALE run", "arena kale eval"),
    ],
)
def test_report_names_the_run_kind_and_where_its_results_are(
    tmp_path: Path, cli: CliRunner, name: str, files: dict[str, object], kind: str, where: str
) -> None:
    run = tmp_path / name
    for file, data in files.items():
        _write(run / file, data)
    code, _, err = cli(["report", str(run)])
    assert code == 2 and err.count("\n") == 1, err
    assert kind in err and where in err and "Fix:" in err
    assert "not a finished play run" not in err


def test_a_folder_of_no_known_kind_is_still_not_a_play_run(tmp_path: Path) -> None:
    assert detect_other_run_kind(tmp_path) is None
    _write(tmp_path / "run.json", {"recipe": "something-else"})
    assert detect_other_run_kind(tmp_path) is None
    with pytest.raises(ArenaError, match="not a finished play run"):
        render_play_report(tmp_path)


# ------------------------------------------------------------------ kg play runs
@pytest.fixture(scope="module")
def kg_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished 6-episode kg_traversal play run (one `arena play`, shared)."""
    from arena.cli import main

    runs = tmp_path_factory.mktemp("kg")
    args = ["play", "kg_traversal", "-n", "tabular:uniform", "--episodes", "6"]
    with pytest.raises(SystemExit) as exit_info:
        main([*args, "--questions", "40", "--runs-dir", str(runs), "--run-name", "kg"])
    assert exit_info.value.code in (0, None)
    return runs / "kg"


def test_kg_report_has_a_figure(kg_run: Path) -> None:
    (kg_run / KG_FIGURE_NAME).unlink(missing_ok=True)
    text = render_play_report(kg_run).read_text()
    assert f"]({KG_FIGURE_NAME})" in text
    assert (kg_run / KG_FIGURE_NAME).stat().st_size > 0


def test_truncated_episodes_file_is_reported_as_damaged(kg_run: Path, tmp_path: Path) -> None:
    """The manifest says 6 episodes; a file cut inside its 4th line holds 3."""
    import shutil

    run = tmp_path / "cut"
    shutil.copytree(kg_run, run)
    lines = (run / "episodes.jsonl").read_text().splitlines(keepends=True)
    (run / "episodes.jsonl").write_text("".join(lines[:3]) + lines[3][:40])
    with pytest.raises(ArenaError, match="damaged") as info:
        render_play_report(run)
    message = info.value.one_line()
    assert "3 complete episodes" in message and "line 4" in message and "says" in message
    assert "6" in message
    (run / "episodes.jsonl").write_text("".join(lines[:3]))  # whole lines, but too few
    with pytest.raises(ArenaError, match="holds 3 complete episodes"):
        render_play_report(run)
