"""Claim verdicts people read: premise vs refutation, sane intervals, short tables.

The outside report (item 11, 13): a scripted run with two episodes per prompt read
``magic.thm3.2 | fail`` (a refutation) where the premise was merely not established; the
contrast showed the interval ``[-707, 707]``; every matrix-game report carried sixteen
"no adapter" rows; a missing run folder was "not a play run"; and an exact
equilibrium's exploitability printed as ``5.55e-17``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from analysis.claims_bridge import (
    DoesNotApply,
    claims_for_episodes,
    claims_for_run,
    claims_markdown,
    collapse_inapplicable,
)
from analysis.play_report import _claims_section, render_play_report
from arena.cli_theory import _human, theory_app
from envs.errors import ArenaError
from theory.claims import Status
from theory.claims import all_claims as registered_claims
from theory.claims.magic import MagicPointwiseSafetyClaim, MagicSimultaneousContrastClaim

DATA = Path(__file__).parent / "data"
runner = CliRunner()


def _two_per_prompt(prompts: int = 36, unsafe_at: int = 0) -> list[dict[str, Any]]:
    """A scripted-agent run as in the report: two episodes per prompt, one unsafe answer."""
    records: list[dict[str, Any]] = []
    for p in range(prompts):
        for k in range(2):
            unsafe = p == unsafe_at and k == 0
            reward = -1.0 if unsafe else (1.5 if p % 2 else 0.0)
            records.append(
                {"attacker_action": f"p{p}", "defender_action": f"d{k}", "r_defender": reward}
            )
    return records


# -- premise not established: n/a, not FAIL ---------------------------------------------


def test_one_unsafe_answer_of_two_is_premise_not_a_refutation() -> None:
    result = MagicPointwiseSafetyClaim().check_empirical(_two_per_prompt(), 0.05)
    assert result.status is Status.NOT_APPLICABLE, result
    # the reason is kept: which prompt, how many episodes, how firmly
    assert result.summary.startswith("premise not established:")
    assert "1 of 2 episodes" in result.summary and "interval still reaches tol" in result.summary
    assert result.evidence["n"] == 72 and len(result.evidence["interval"]) == 2


def test_off_equilibrium_tables_are_not_applicable() -> None:
    # the defender complies at a1 although refusing is better: not an SPNE, not a Nash one
    table = {"r_defender_table": [[0.0, -1.0], [1.0, -1.0]], "defender_policy": [[1, 0], [0, 1]]}
    pointwise = MagicPointwiseSafetyClaim().check_empirical([table], 0.05)
    contrast = MagicSimultaneousContrastClaim().check_empirical([table], 0.05)
    for result in (pointwise, contrast):
        assert result.status is Status.NOT_APPLICABLE, result
        assert result.summary.startswith("premise not established:")
    no_fallback = {"r_defender_table": [[-0.5, -1.0]], "defender_policy": [[1, 0]]}
    result = MagicSimultaneousContrastClaim().check_empirical([no_fallback], 0.05)
    assert result.status is Status.NOT_APPLICABLE and "no safe response" in result.summary


def test_a_contradiction_with_the_premise_established_still_fails() -> None:
    """The wrong variant: a best-responding defender (premise established) that is unsafe.

    Exact arithmetic rules it out, so only rounding-sized rewards produce it; the claims
    must still say FAIL then, or no run could ever refute them.
    """
    table = {
        "r_defender_table": [[-0.5e-9, -0.9e-9]],  # mean −0.7e-9 < −tol = 0, regret 0.2e-9
        "defender_policy": [[0.5, 0.5]],
    }
    # a safe fallback (≥ −1e-9), half the mass on an unsafe reply (< −1e-9), regret 0.45e-9
    unsafe = {"r_defender_table": [[-0.5e-9, -1.4e-9]], "defender_policy": [[0.5, 0.5]]}
    pointwise = MagicPointwiseSafetyClaim().check_empirical([unsafe], 0.05)
    assert pointwise.status is Status.FAIL, pointwise
    assert "contradicts Theorem 3.2" in pointwise.summary
    contrast = MagicSimultaneousContrastClaim().check_empirical([table], 0.0)
    assert contrast.status is Status.FAIL, contrast
    assert "contradicts the contrast" in contrast.summary


# -- the contrast's interval ---------------------------------------------------------------


def test_contrast_interval_is_sane_with_two_episodes_per_prompt() -> None:
    result = MagicSimultaneousContrastClaim().check_empirical(_two_per_prompt(), 0.05)
    low, high = result.evidence["interval"]
    # rewards lie in [-1, 1.5]; a t interval on one degree of freedom at alpha/37 gave ±707
    assert -2.0 < low <= high < 2.5, result.evidence["interval"]
    assert result.evidence["min_n_per_prompt"] == 5
    assert "pooled mean" in result.evidence["interval_of"]


def test_contrast_gives_a_well_sampled_prompt_its_own_interval() -> None:
    records = [
        {"attacker_action": "a", "defender_action": "x", "r_defender": r} for r in (0.0, 1.5) * 20
    ]
    records += _two_per_prompt(prompts=3, unsafe_at=99)
    result = MagicSimultaneousContrastClaim().check_empirical(records, 0.05)
    rows = {row["prompt"]: row for row in result.evidence["per_prompt"]}
    assert rows["a"]["interval"] is not None and rows["p0"]["interval"] is None


# -- claims that cannot read the run: one row -------------------------------------------


def _matrix_run(folder: Path) -> Path:
    folder.mkdir(parents=True)
    (folder / "manifest.json").write_text(json.dumps({"kind": "play", "env": "matrix_game_v0"}))
    episode = {"rewards": {"player_0": 2.0, "player_1": 1.0}, "rounds": []}
    (folder / "episodes.jsonl").write_text(json.dumps(episode) + "\n")
    return folder


def test_inapplicable_claims_collapse_into_one_row() -> None:
    rows = claims_for_episodes("matrix_game_v0", [{"rewards": {}}])
    total = len(registered_claims())
    assert len(rows) == total and all(isinstance(line, DoesNotApply) for _, line in rows)
    shown = collapse_inapplicable(rows)
    assert len(shown) == 1 and shown[0][0] == f"{total} claims"
    line = shown[0][1]
    assert isinstance(line, DoesNotApply) and "do not apply to matrix_game_v0 runs" in line
    table = claims_markdown(rows)
    assert table.count("\n") == 2 and "no adapter" not in table
    # one claim asked for by name keeps its own reason
    one = claims_for_episodes("matrix_game_v0", [{"rewards": {}}], "ds.t1")
    assert collapse_inapplicable(one) == one


def test_cli_run_table_collapses_but_json_keeps_every_claim(tmp_path: Path) -> None:
    run = _matrix_run(tmp_path / "bos")
    human = runner.invoke(theory_app, ["check", "--run", str(run)])
    assert human.exit_code == 0, human.output
    assert "no adapter" not in human.stdout and "claims" in human.stdout
    assert "do not apply to" in human.stdout and "matrix_game_v0 runs" in human.stdout
    as_json = runner.invoke(theory_app, ["check", "--run", str(run), "--json"])
    rows = json.loads(as_json.stdout)
    assert len(rows) == len(registered_claims())


def test_play_report_says_no_claim_applies_in_one_sentence(tmp_path: Path) -> None:
    lines = _claims_section(_matrix_run(tmp_path / "bos"))
    assert len(lines) == 1 and lines[0].startswith("No claim applies to matrix_game_v0 runs")


# -- missing folders, float dust --------------------------------------------------------


def test_missing_run_folder_says_it_does_not_exist(tmp_path: Path) -> None:
    with pytest.raises(ArenaError, match="does not exist") as info:
        claims_for_run(tmp_path / "nope")
    assert "manifest" not in str(info.value)
    (tmp_path / "file").write_text("x")
    with pytest.raises(ArenaError, match="is a file"):
        claims_for_run(tmp_path / "file")
    with pytest.raises(ArenaError, match="does not exist"):
        render_play_report(tmp_path / "nope")
    result = runner.invoke(theory_app, ["check", "--run", str(tmp_path / "nope")])
    assert result.exit_code != 0 and "does not exist" in str(result.exception)


def test_float_dust_prints_as_zero_but_json_keeps_it() -> None:
    assert _human(5.551115123125783e-17, ".2e") == "0"
    assert _human(-3e-13, ".4g") == "0"
    assert _human(2e-3, ".2e") == "2.00e-03" and _human(1e-12, ".1e") == "1.0e-12"
    table = runner.invoke(theory_app, ["solve", str(DATA / "matching_pennies.nfg")])
    assert table.exit_code == 0, table.output
    assert "e-1" not in table.stdout
    payload = json.loads(
        runner.invoke(theory_app, ["solve", str(DATA / "matching_pennies.nfg"), "--json"]).stdout
    )
    assert all(isinstance(eq["exploitability"], float) for eq in payload["equilibria"])
