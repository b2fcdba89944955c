"""Runs → claims: ``analysis.claims_bridge`` on small real runs, and ``check --run``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from analysis.claims_bridge import RAPO_CIRCULAR, claims_for_run
from arena.cli import app
from arena.play import PlayConfig, play
from envs.errors import ArenaError
from theory.claims import CheckResult, Status, UnknownClaimError


def _run(tmp_path: Path, env: str, attacker: str, defender: str, episodes: int) -> Path:
    result = play(
        PlayConfig(
            env=env, seats={"attacker": [attacker], "defender": [defender]}, episodes=episodes
        ),
        runs_dir=tmp_path,
    )
    assert result.run_dir is not None
    return result.run_dir


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("runs")
    return {
        "filter": _run(base, "attack_defense", "scripted:role-play", "scripted:refuse-all", 30),
        "comply": _run(base, "attack_defense", "scripted:role-play", "scripted:comply-all", 30),
        "game": _run(base, "strategy_game", "tabular:uniform", "tabular:nash", 200),
    }


def _verdict(rows: list[tuple[str, CheckResult | str]], claim: str) -> CheckResult | str:
    return dict(rows)[claim]


def test_magic_passes_on_a_pointwise_safe_defender(runs: dict[str, Path]) -> None:
    result = _verdict(claims_for_run(runs["filter"]), "magic.thm3.2")
    assert isinstance(result, CheckResult) and result.status is Status.PASS
    assert result.evidence["n"] == 30


def test_magic_is_not_applicable_when_the_run_is_off_equilibrium(runs: dict[str, Path]) -> None:
    # a defender that complies with harmful seeds answers unsafely: not pointwise safe
    result = _verdict(claims_for_run(runs["comply"], "magic.thm3.2"), "magic.thm3.2")
    assert isinstance(result, CheckResult) and result.status is Status.NOT_APPLICABLE
    # the run is not at an SPNE: n/a says the premise is not established, not that the
    # theorem is false (a FAIL would), and names the rate that shows it, with n and an
    # interval
    assert result.summary.startswith("premise not established:")
    assert "unsafe rate" in result.summary and result.evidence["n"] == 30
    assert len(result.evidence["interval"]) == 2


def test_strategy_game_magic_uses_outcomes_and_rapo_is_circular(runs: dict[str, Path]) -> None:
    rows = dict(claims_for_run(runs["game"]))
    pointwise = rows["magic.thm3.2"]
    assert isinstance(pointwise, CheckResult) and pointwise.evidence["n"] == 200
    # the mixed Nash defender answers some complex attacks: not pointwise safe
    assert pointwise.status is Status.NOT_APPLICABLE
    assert pointwise.summary.startswith("premise not established:")
    for claim, outcome in rows.items():
        if claim.startswith("rapo."):
            assert outcome == RAPO_CIRCULAR
        elif claim.startswith(("ds.", "kale.")):
            assert outcome == "no adapter for strategy_game_v0 runs"


def test_corrupted_record_gives_one_line_not_a_pass(runs: dict[str, Path], tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "manifest.json").write_text((runs["filter"] / "manifest.json").read_text())
    lines = (runs["filter"] / "episodes.jsonl").read_text().splitlines()
    first = json.loads(lines[0])
    del first["turns"][0]["r_defender"]
    (broken / "episodes.jsonl").write_text("\n".join([json.dumps(first), *lines[1:]]) + "\n")
    outcome = _verdict(claims_for_run(broken), "magic.thm3.2")
    assert isinstance(outcome, str)
    assert outcome.startswith("cannot read:") and "r_defender" in outcome

    first["turns"][0]["r_defender"] = "lots"
    (broken / "episodes.jsonl").write_text("\n".join([json.dumps(first), *lines[1:]]) + "\n")
    outcome = _verdict(claims_for_run(broken), "magic.thm3.2")
    assert isinstance(outcome, str) and "not a number" in outcome

    (broken / "episodes.jsonl").write_text("{not json\n")
    with pytest.raises(ArenaError, match="line 1 is not JSON"):
        claims_for_run(broken)


def test_not_a_run_and_unknown_claim(runs: dict[str, Path], tmp_path: Path) -> None:
    with pytest.raises(ArenaError, match="not a play run"):
        claims_for_run(tmp_path)
    with pytest.raises(UnknownClaimError):
        claims_for_run(runs["filter"], "no.such.claim")


def test_rapo_on_attack_defense_runs_says_why(runs: dict[str, Path]) -> None:
    outcome = _verdict(claims_for_run(runs["filter"], "rapo.thm3.1"), "rapo.thm3.1")
    assert isinstance(outcome, str) and "(k, t) sweep" in outcome


def test_cli_check_run(runs: dict[str, Path]) -> None:
    cli = CliRunner()
    result = cli.invoke(app, ["theory", "check", "--run", str(runs["comply"]), "--json"])
    assert result.exit_code == 0, result.output
    rows = {row["claim"]: row for row in json.loads(result.stdout)}
    assert rows["magic.thm3.2"]["verdict"] == "n/a" and rows["magic.thm3.2"]["n"] == "30"
    assert rows["rapo.thm3.1"]["verdict"] == "-"
    one = cli.invoke(
        app, ["theory", "check", "--run", str(runs["filter"]), "--claim", "magic.thm3.2"]
    )
    assert one.exit_code == 0 and "magic.thm3.2" in one.stdout and "rapo" not in one.stdout
    bad = cli.invoke(app, ["theory", "check", "--run", str(runs["filter"]), "--claim", "x.y"])
    assert bad.exit_code != 0


def test_cli_check_one_claim_with_its_explanation() -> None:
    cli = CliRunner()
    result = cli.invoke(app, ["theory", "check", "--claim", "ds.t2.adam", "--explain", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [row["claim"] for row in rows] == ["ds.t2.adam"]
    assert rows[0]["explanation"] and rows[0]["source"]["kind"] == "extension"
    bad = cli.invoke(app, ["theory", "check", "--claim", "no.such"])
    assert bad.exit_code != 0


def _kale_records(ka_correct: float, sft_correct: float, n: int = 60) -> list[dict[str, object]]:
    """Paired multi-hop answers: KA right on the first ``ka_correct`` share, SFT on its own."""
    rows: list[dict[str, object]] = []
    for i in range(n):
        for method, share in (("ka", ka_correct), ("sft", sft_correct)):
            rows.append({"method": method, "hops": 2, "correct": i < share * n,
                         "known": True, "question_id": i})  # fmt: skip
    return rows


def _write_claim_records(folder: Path, claim_id: str, rows: list[dict[str, object]]) -> None:
    (folder / "claim_records").mkdir(parents=True, exist_ok=True)
    text = "".join(json.dumps(r) + "\n" for r in rows)
    (folder / "claim_records" / f"{claim_id}.jsonl").write_text(text, encoding="utf-8")


def test_claim_records_folder_feeds_exactly_its_claims(tmp_path: Path) -> None:
    """A run's ``claim_records/ID.jsonl`` reaches claim ID; a reversed effect fails it."""
    good, bad = tmp_path / "good", tmp_path / "bad"
    _write_claim_records(good, "kale.multihop-gain", _kale_records(0.8, 0.3))
    _write_claim_records(bad, "kale.multihop-gain", _kale_records(0.3, 0.8))
    rows = dict(claims_for_run(good))
    assert isinstance(rows["kale.multihop-gain"], CheckResult)
    assert rows["kale.multihop-gain"].status is Status.PASS
    assert rows["kale.multihop-gain"].evidence["n"] == 120
    assert isinstance(rows["kale.known-incorrect"], str)
    assert "claim_records/kale.known-incorrect.jsonl" in rows["kale.known-incorrect"]
    reversed_row = dict(claims_for_run(bad, "kale.multihop-gain"))["kale.multihop-gain"]
    assert isinstance(reversed_row, CheckResult) and reversed_row.status is Status.FAIL


def test_claim_records_with_an_unknown_claim_or_garbage_is_one_error(tmp_path: Path) -> None:
    _write_claim_records(tmp_path / "a", "no.such-claim", [{"x": 1}])
    with pytest.raises(ArenaError, match=r"unknown claims: no\.such-claim"):
        claims_for_run(tmp_path / "a")
    folder = tmp_path / "b" / "claim_records"
    folder.mkdir(parents=True)
    (folder / "kale.multihop-gain.jsonl").write_text("{not json\n", encoding="utf-8")
    with pytest.raises(ArenaError, match="line 1 is not JSON"):
        claims_for_run(tmp_path / "b")
    _write_claim_records(tmp_path / "c", "kale.multihop-gain", [{"method": "ka"}])
    row = dict(claims_for_run(tmp_path / "c", "kale.multihop-gain"))["kale.multihop-gain"]
    assert isinstance(row, str) and row.startswith("cannot read")
