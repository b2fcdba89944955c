"""The tournament report: content, figures, and the page as a browser renders it.

The browser test opens ``report.html`` in headless Chromium (Debian's ``chromium``;
``.ci/run`` installs it) with a probe script appended to a copy of the page: on load it
counts images that failed to decode and reports them, with any console error, through
the console, which Chromium logs to stderr. It also takes a screenshot. A mutant page
(a broken image and a console error) must fail the same check, so the check can fail.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from analysis.tournament_report import analyze_tournament, render_tournament_report
from arena.tournament import CellSamples, TournamentSpec, create, run_tournament

PROBE = """
<script>
window.addEventListener("load", () => {
  const images = Array.from(document.images);
  const broken = images.filter((i) => !i.complete || i.naturalWidth === 0).length;
  console.log("ARENA-PROBE images=" + images.length + " broken=" + broken);
});
</script>
"""


@pytest.fixture(scope="module")
def tournament(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("report") / "t"
    create(
        folder,
        TournamentSpec(
            env="attack_defense",
            seats={
                "attacker": ["scripted:role-play", "scripted:base64", "scripted:random"],
                "defender": ["scripted:keyword-filter", "scripted:decode-then-filter"],
            },
            episodes=40,
        ),
    )
    run_tournament(folder)
    render_tournament_report(folder, bootstrap=50)
    return folder


def test_report_files_and_sections(tournament: Path) -> None:
    markdown = (tournament / "report.md").read_text()
    for heading in (
        "## Payoff matrix",
        "## Empirical game: attacker",
        "## Empirical game: defender",
        "## Ranking within the attacker seat",
        "## Ranking within the defender seat",
        "## Paired tests",
        "## Claims on this tournament's episodes",
    ):
        assert heading in markdown
    for figure in ("payoffs", "equilibrium", "ratings", "strategies"):
        assert (tournament / "figures" / f"{figure}.png").stat().st_size > 5_000
        assert f"figures/{figure}.png" in markdown
    data = json.loads((tournament / "analysis.json").read_text())
    assert len(data["cells"]) == 6 and all(c["n"] == 40 for c in data["cells"])
    page = (tournament / "report.html").read_text()
    assert page.count("data:image/png;base64,") == 4  # self-contained


def test_report_numbers_follow_the_data(tournament: Path) -> None:
    analysis = analyze_tournament(tournament, bootstrap=30)
    cells = {(c["agents"]["attacker"], c["agents"]["defender"]): c for c in analysis.cells}
    # base64 gets past the keyword filter but not the decoder (the rule judge sees harm)
    beats = cells[("scripted:base64", "scripted:keyword-filter")]["metrics"]["attack_success"]
    blocked = cells[("scripted:base64", "scripted:decode-then-filter")]["metrics"]["attack_success"]
    assert beats["lower"] > blocked["upper"]
    assert analysis.empirical is not None
    defender = analysis.empirical["populations"][1]["rows"]
    weights = {r["agent"]: r for r in defender}
    assert weights["scripted:decode-then-filter"]["support_probability"] > 0.9
    assert weights["scripted:keyword-filter"]["regret"] > 0
    assert analysis.strategies["attacker"].keys() == {"scripted:random"}


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


def _open(page: Path, tmp: Path) -> tuple[list[str], str, Path]:
    """Console lines of ``page`` (with the probe) in headless Chromium, and a screenshot."""
    browser = _chromium()
    assert browser is not None
    probed = tmp / f"probed-{page.name}"
    probed.write_text(page.read_text().replace("</body>", PROBE + "</body>"))
    common = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]
    run = subprocess.run(
        [*common, "--enable-logging=stderr", "--v=0", "--dump-dom", probed.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    console = [line for line in run.stderr.splitlines() if ":CONSOLE" in line]
    shot = tmp / f"{page.stem}.png"
    subprocess.run(
        [*common, f"--screenshot={shot}", "--window-size=1280,2400", probed.as_uri()],
        capture_output=True,
        timeout=120,
        check=False,
    )
    return console, run.stdout, shot


def _problems(console: list[str]) -> list[str]:
    problems = [line for line in console if "ARENA-PROBE" not in line]
    probe = [line for line in console if "ARENA-PROBE" in line]
    if not probe:
        return [*problems, "the probe never ran (page did not load)"]
    match = re.search(r"images=(\d+) broken=(\d+)", probe[0])
    assert match is not None
    images, broken = int(match.group(1)), int(match.group(2))
    if images == 0:
        problems.append("no images on the page")
    if broken:
        problems.append(f"{broken} of {images} images failed to load")
    return problems


@pytest.mark.skipif(
    _chromium() is None and not os.environ.get("CI"),
    reason="headless Chromium is not installed (apt-get install chromium; CI installs it)",
)
def test_report_page_renders_in_headless_chromium(tournament: Path, tmp_path: Path) -> None:
    console, dom, shot = _open(tournament / "report.html", tmp_path)
    assert _problems(console) == []
    assert "Payoff matrix" in dom
    assert shot.exists() and shot.stat().st_size > 20_000
    # the same check on a broken page must fail
    broken = tmp_path / "broken.html"
    broken.write_text(
        '<html><body><img src="data:image/png;base64,AAAA">'
        "<script>console.error('boom')</script></body></html>"
    )
    problems = _problems(_open(broken, tmp_path)[0])
    assert any("boom" in p for p in problems) and any("failed to load" in p for p in problems)


def test_a_count_metric_is_a_mean_and_a_0_1_metric_a_rate() -> None:
    """Hops (kg games) are counts: a Wilson interval of them is meaningless (and used to
    raise); they get a mean with a t-interval, while 0/1 outcomes keep the rate."""
    from analysis.tournament_report import _metric_cell

    hops = _metric_cell(np.array([1.0, 4.0, 2.0, np.nan, 3.0]))
    assert hops["kind"] == "mean" and hops["n"] == 4 and hops["value"] == 2.5
    assert hops["lower"] < 2.5 < hops["upper"]
    rate = _metric_cell(np.array([1.0, 0.0, 1.0, 1.0]))
    assert rate["kind"] == "rate" and rate["value"] == 0.75 and 0 <= rate["lower"] < 0.75


def _cell(cell_id: int, matchup: dict[str, str], rewards: Any, success: Any) -> CellSamples:
    n = len(rewards)
    return CellSamples(
        cell_id=cell_id,
        matchup=matchup,
        episodes=np.arange(n),
        rewards=np.column_stack([rewards, -np.asarray(rewards)]),
        metrics={"attack_success": np.asarray(success, float), "over_refusal": np.full(n, np.nan)},
        failed=0,
        failures=[],
    )


def test_a_paired_verdict_follows_the_holm_adjusted_p_value() -> None:
    """Raw p = 0.042 < 0.05 < Holm p = 0.084 (two tests in the seat): the verdict must
    say "no significant difference" and show the adjusted p; it used to call B better on
    the raw p, contradicting the table's own "p (Holm)" column."""
    from analysis.tournament_stats import paired
    from envs.attack_defense_v0 import GAME

    diff = np.array([1.0, -1, 1, 1, -1, 1, 1, 0, 1, -1, 1, 1, 0, 1, -1, 1, 1, 0, 1, 0])
    samples = [
        _cell(1, {"attacker": "A", "defender": "D"}, np.zeros(20), np.zeros(20)),
        _cell(2, {"attacker": "B", "defender": "D"}, diff, np.zeros(20)),
    ]
    rows = paired(GAME, samples, round_robin=False)
    reward = next(r for r in rows if r["outcome"] == "attacker reward")
    assert reward["p_value"] < 0.05 < reward["p_holm"]
    assert reward["verdict"].startswith("no significant difference between A and B")
    assert f"Holm p = {reward['p_holm']:.3g}" in reward["verdict"]
    # a clear difference is still called, with the adjusted p
    samples[1] = _cell(2, {"attacker": "B", "defender": "D"}, np.ones(20) + diff / 10, np.ones(20))
    rows = paired(GAME, samples, round_robin=False)
    verdicts = {r["outcome"]: r["verdict"] for r in rows}
    assert verdicts["attacker reward"].startswith("B better than A (Holm p = ")
    assert verdicts["attack success"].startswith("attack success higher with B than A (Holm p")


def test_builtin_seeds_give_no_warning(tournament: Path) -> None:
    assert "Warning" not in (tournament / "report.md").read_text()
    assert 'class="warning"' not in (tournament / "report.html").read_text()


def test_own_data_with_the_rule_judge_warns_at_the_top_of_both_reports(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The rule judge cannot read an AdvBench file (0% attack success whatever happens):
    both report pages must say so before any number. (No figures: they take seconds and
    have nothing to do with it.)"""
    monkeypatch.setattr("analysis.tournament_report.render_figures", lambda *_: [])
    data = tmp_path / "advbench.csv"
    data.write_text("goal,target\nWrite a harmful thing,Sure here is\nDo harm,Sure\n")
    folder = tmp_path / "t"
    create(
        folder,
        TournamentSpec(
            env="attack_defense",
            seats={"attacker": ["scripted:base64"], "defender": ["scripted:comply-all"]},
            episodes=2,
            env_config={"seeds": f"{data},builtin"},
        ),
    )
    run_tournament(folder)
    render_tournament_report(folder, bootstrap=5)
    markdown = (folder / "report.md").read_text()
    head = markdown.split("## ", 1)[0]
    assert "**Warning:** the rule judge only recognises the harm marker" in head
    page = (folder / "report.html").read_text()
    body = page.split("<h2>", 1)[0]
    assert '<p class="warning"><strong>Warning:</strong> the rule judge' in body


def test_an_asymmetric_game_has_no_cross_seat_ladder(tournament: Path) -> None:
    """Attacker and defender rewards are on different scales: "higher reward than the
    other seat" is no win, so no Elo/Bradley-Terry; each seat is ranked on its own."""
    analysis = analyze_tournament(tournament, bootstrap=10)
    assert analysis.ratings is None and "not interchangeable" in analysis.ratings_note
    assert set(analysis.seat_means) == {"attacker", "defender"}
    defenders = analysis.seat_means["defender"]
    assert defenders[0]["agent"] == "scripted:decode-then-filter"
    means = [r["mean"] for r in defenders]
    assert means == sorted(means, reverse=True)
    assert all(r["opponents"] == 3 and r["seeds"] == 40 for r in defenders)
    assert all(r["lower"] <= r["mean"] <= r["upper"] for r in defenders)
    markdown = (tournament / "report.md").read_text()
    assert "## Elo ratings" not in markdown and "not interchangeable" in markdown


@pytest.fixture(scope="module")
def round_robin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("rr") / "pd"
    create(
        folder,
        TournamentSpec(
            env="matrix_game",
            seats={"players": ["tabular:uniform", "tabular:nash"]},
            mode="round-robin",
            episodes=30,
            env_config={"game": "prisoners_dilemma"},
        ),
    )
    run_tournament(folder)
    render_tournament_report(folder, bootstrap=10)
    return folder


def test_a_round_robin_keeps_its_ladder_and_gets_paired_tests(round_robin: Path) -> None:
    """The README lists paired tests for every tournament: a round robin compares two
    agents in the same seat against the same opponent on the same seeds (both seats)."""
    analysis = analyze_tournament(round_robin, bootstrap=10)
    assert analysis.ratings is not None and analysis.seat_means == {}
    assert analysis.ratings["elo"][0]["agent"] == "tabular:nash"
    (row,) = analysis.paired
    assert row["seat"] == "players" and row["outcome"] == "reward"
    assert row["n"] == 2 * 2 * 30  # two seats x two common opponents x 30 seeds
    assert row["verdict"].startswith("tabular:nash better than tabular:uniform (Holm p")
    markdown = (round_robin / "report.md").read_text()
    assert "## Elo ratings" in markdown and "## Paired tests" in markdown
    # prisoner's dilemma is not constant-sum: the missing column is explained
    assert "No Nash-averaging column" in markdown


def test_a_symmetric_game_in_cross_play_keeps_its_ladder(tmp_path: Path) -> None:
    folder = tmp_path / "cross"
    create(
        folder,
        TournamentSpec(
            env="matrix_game",
            seats={"player_0": ["tabular:uniform", "tabular:nash"], "player_1": ["tabular:nash"]},
            episodes=10,
            env_config={"game": "prisoners_dilemma"},
        ),
    )
    run_tournament(folder)
    analysis = analyze_tournament(folder, bootstrap=5)
    assert analysis.ratings is not None and analysis.seat_means == {}
