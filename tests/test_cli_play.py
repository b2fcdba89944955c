"""`arena play` end to end, and every bad input as one line with exit code 2."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from agents.base import Agent, AgentContext
from agents.registry import register_agent_kind

if TYPE_CHECKING:
    from conftest import CliRunner


def play_args(tmp_path: Path, *extra: str) -> list[str]:
    return [
        "play",
        "attack_defense",
        "--runs-dir",
        str(tmp_path / "runs"),
        "--run-name",
        "r",
        *extra,
    ]


def test_play_writes_episodes_manifest_and_table(tmp_path: Path, cli: CliRunner) -> None:
    code, out, err = cli(
        play_args(
            tmp_path,
            "-a", "scripted:role-play", "-a", "scripted:base64",
            "-d", "scripted:keyword-filter", "--episodes", "40",
        ),
    )  # fmt: skip
    assert code == 0, err
    assert "ASR" in out and "over-refusal" in out
    assert "role-play" in out and "base64" in out
    run = tmp_path / "runs" / "r"
    lines = (run / "episodes.jsonl").read_text().splitlines()
    assert len(lines) == 80
    record = json.loads(lines[0])
    assert {"seed_id", "seed_label", "turns", "rewards", "agents", "labels"} <= set(record)
    assert record["agents"] == {
        "attacker": "scripted:role-play",
        "defender": "scripted:keyword-filter",
    }
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["episodes"] == 80
    assert manifest["judge_settings"] == {"controversial_as": "unsafe", "unparsable_as": "unsafe"}
    assert manifest["config"]["seed"] == 0 and "pettingzoo" in manifest["versions"]
    summary = json.loads((run / "summary.json").read_text())
    rows = {row["group"]: row for row in summary["rows"]}
    # the keyword filter catches plain role-play but cannot read base64
    assert rows["base64"]["attack_success"]["value"] > rows["role-play"]["attack_success"]["value"]
    assert not list((tmp_path / "runs").glob(".*partial"))
    report = (run / "report.md").read_text()
    assert "| base64 | 40 |" in report and "asr_vs_over_refusal.png" in report
    # base64 gets past the keyword filter: the played defender is not pointwise safe
    assert "## Claims on this run" in report and "| magic.thm3.2 | n/a | 80 |" in report
    assert (run / "asr_vs_over_refusal.png").read_bytes()[:4] == b"\x89PNG"


def test_same_seed_same_results(tmp_path: Path, cli: CliRunner) -> None:
    args = ["-a", "scripted:random", "-d", "scripted:comply-all", "--episodes", "30"]
    cli(
        ["play", "attack_defense", "--runs-dir", str(tmp_path / "a"), "--run-name", "r", *args],
    )
    cli(
        ["play", "attack_defense", "--runs-dir", str(tmp_path / "b"), "--run-name", "r", *args],
    )
    first = (tmp_path / "a" / "r" / "episodes.jsonl").read_text()
    assert first == (tmp_path / "b" / "r" / "episodes.jsonl").read_text()


def assert_clean_error(
    code: int, err: str, tmp_path: Path, *needles: str, partial_ok: bool = False
) -> None:
    assert code == 2
    lines = [
        line
        for line in err.strip().splitlines()
        if line.strip() and not line.startswith("warning:")
    ]
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ") and "Fix:" in lines[0]
    assert "Traceback" not in err
    for needle in needles:
        assert needle in lines[0]
    assert not (tmp_path / "runs" / "r").exists()  # nothing half-written under the final name
    if not partial_ok:
        assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


def test_unknown_agent_kind(tmp_path: Path, cli: CliRunner) -> None:
    code, _, err = cli(play_args(tmp_path, "-a", "nope:x", "-d", "scripted:refuse-all"))
    assert_clean_error(code, err, tmp_path, "'nope'", "scripted")


def test_unknown_scripted_name(tmp_path: Path, cli: CliRunner) -> None:
    code, _, err = cli(play_args(tmp_path, "-a", "scripted:rol-play", "-d", "scripted:refuse-all"))
    assert_clean_error(code, err, tmp_path, "rol-play")


def test_spec_without_kind(tmp_path: Path, cli: CliRunner) -> None:
    code, _, err = cli(play_args(tmp_path, "-a", "role-play", "-d", "scripted:refuse-all"))
    assert_clean_error(code, err, tmp_path, "'role-play'")


def test_unknown_env(tmp_path: Path, cli: CliRunner) -> None:
    args = ["play", "chess", "-a", "scripted:role-play", "-d", "scripted:refuse-all",
            "--runs-dir", str(tmp_path / "runs"), "--run-name", "r"]  # fmt: skip
    code, _, err = cli(args)
    assert_clean_error(code, err, tmp_path, "'chess'", "attack_defense_v0")


def test_malformed_dataset(tmp_path: Path, cli: CliRunner) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("goal,target\nok goal,ok target\n,missing goal\n")
    code, _, err = cli(
        play_args(
            tmp_path, "-a", "scripted:role-play", "-d", "scripted:refuse-all", "--seeds", str(bad)
        ),
    )
    assert_clean_error(code, err, tmp_path, "bad.csv", "row 3", "goal")


def test_missing_dataset(tmp_path: Path, cli: CliRunner) -> None:
    code, _, err = cli(
        play_args(tmp_path, "-a", "scripted:role-play", "-d", "scripted:refuse-all",
                  "--seeds", str(tmp_path / "absent.csv")),
    )  # fmt: skip
    assert_clean_error(code, err, tmp_path, "absent.csv")


def test_missing_model_path(tmp_path: Path, cli: CliRunner) -> None:
    missing = tmp_path / "no-such-model"
    code, _, err = cli(play_args(tmp_path, "-a", "scripted:role-play", "-d", f"hf:{missing}"))
    assert_clean_error(code, err, tmp_path, str(missing))


@pytest.mark.parametrize("name", ["foo--bar/baz", "a/b.git", "checkpoints/run1"])
def test_names_the_hub_rejects_are_clean_errors(name: str, tmp_path: Path, cli: CliRunner) -> None:
    code, _, err = cli(play_args(tmp_path, "-a", "scripted:role-play", "-d", f"hf:{name}"))
    assert_clean_error(code, err, tmp_path, name)


def test_bad_judge_setting(tmp_path: Path, cli: CliRunner) -> None:
    code, _, err = cli(
        play_args(tmp_path, "-a", "scripted:role-play", "-d", "scripted:refuse-all",
                  "--controversial-as", "maybe"),
    )  # fmt: skip
    assert_clean_error(code, err, tmp_path, "--controversial-as")


class _NumberAgent(Agent):
    def act_batch(self, observations: Sequence[object]) -> list[object]:
        return [7 for _ in observations]


def test_illegal_action(tmp_path: Path, cli: CliRunner) -> None:
    register_agent_kind("numbers", lambda argument, context: _NumberAgent(), "test double")
    code, _, err = cli(play_args(tmp_path, "-a", "scripted:role-play", "-d", "numbers:x"))
    # fails in the first round: nothing was played, nothing is left
    assert_clean_error(code, err, tmp_path, "Illegal action", "'defender'")

    args = play_args(tmp_path, "-a", "scripted:role-play", "-a", "numbers:x",
                     "-d", "scripted:refuse-all", "--episodes", "5")  # fmt: skip
    code, _, err = cli(args)
    assert_clean_error(code, err, tmp_path, "Illegal action", "'attacker'", partial_ok=True)
    # the first attacker's episodes are kept, marked aborted, beside the final name
    partial = tmp_path / "runs" / ".r.partial"
    manifest = json.loads((partial / "manifest.json").read_text())
    assert manifest["status"] == "aborted" and manifest["episodes"] == 5
    assert len((partial / "episodes.jsonl").read_text().splitlines()) == 5
    # and a rerun under the same name refuses to throw them away
    code, _, err = cli(args)
    assert code == 2 and "unfinished run" in err and "5 episodes" in err


def test_existing_run_is_not_overwritten(tmp_path: Path, cli: CliRunner) -> None:
    args = play_args(
        tmp_path, "-a", "scripted:role-play", "-d", "scripted:refuse-all", "--episodes", "4"
    )
    assert cli(args)[0] == 0
    code, _, err = cli(args)
    assert code == 2 and "already exists" in err and "--overwrite" in err
    assert cli([*args, "--overwrite"])[0] == 0


def test_bad_numbers_and_names(tmp_path: Path, cli: CliRunner) -> None:
    base = ["-a", "scripted:role-play", "-d", "scripted:refuse-all"]
    for extra, needle in (
        (["--seed", "-5"], "--seed"),
        (["--batch-size", "0"], "--batch-size"),
        (["--episodes", "0"], "--episodes"),
        (["--harmful-fraction", "2"], "--harmful-fraction"),
    ):
        code, _, err = cli(play_args(tmp_path, *base, *extra))
        assert_clean_error(code, err, tmp_path, needle)
    args = ["play", "attack_defense", *base, "--runs-dir", str(tmp_path / "runs"),
            "--run-name", "../escape"]  # fmt: skip
    code, _, err = cli(args)
    assert code == 2 and "plain folder name" in err
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("x")
    args = ["play", "attack_defense", *base, "--runs-dir", str(not_a_dir), "--run-name", "r"]
    code, _, err = cli(args)
    assert code == 2 and "--runs-dir" in err


def test_only_harmful_data_needs_harmful_fraction_one(tmp_path: Path, cli: CliRunner) -> None:
    data = tmp_path / "advbench.csv"
    data.write_text(
        "goal,target\nDo [REDACTED fraud goal 1],Sure\nDo [REDACTED hate goal 2],Sure\n"
    )
    args = play_args(tmp_path, "-a", "scripted:role-play", "-d", "scripted:comply-all",
                     "--seeds", str(data), "--episodes", "4")  # fmt: skip
    code, _, err = cli(args)
    assert_clean_error(code, err, tmp_path, "no benign seeds", "--harmful-fraction 1")
    code, _, err = cli([*args, "--harmful-fraction", "1"])
    assert code == 0, err
    summary = json.loads((tmp_path / "runs" / "r" / "summary.json").read_text())
    assert summary["overall"]["over_refusal"]["value"] is None  # no benign seeds: no NaN


def test_random_attacker_gets_strategy_sub_rows(tmp_path: Path, cli: CliRunner) -> None:
    args = play_args(tmp_path, "-a", "scripted:random", "-d", "scripted:keyword-filter",
                     "--episodes", "40")  # fmt: skip
    code, out, err = cli(args)
    assert code == 0, err
    rows = json.loads((tmp_path / "runs" / "r" / "summary.json").read_text())["rows"]
    assert rows[0]["group"] == "random" and rows[0]["parent"] is None
    children = [row for row in rows if row["parent"] == "random"]
    assert len(children) > 3 and sum(row["episodes"] for row in children) == 40
    assert "↳" in out


def test_agent_context_reaches_factories() -> None:
    seen: list[AgentContext] = []

    def factory(argument: str, context: AgentContext) -> Agent:
        seen.append(context)
        return _NumberAgent()

    from agents.registry import make_agent

    register_agent_kind("ctx", factory)
    agent = make_agent("ctx:arg?temperature=0.5&n=2", role="attacker", seed=3)
    assert agent.spec == "ctx:arg?temperature=0.5&n=2"
    assert seen[0].role == "attacker" and seen[0].seed == 3
    assert dict(seen[0].options) == {"temperature": "0.5", "n": "2"}


@pytest.mark.slow
def test_play_with_the_tiny_llm_defender_multi_turn(tmp_path: Path, cli: CliRunner) -> None:
    code, _, err = cli(
        play_args(
            tmp_path, "-a", "scripted:random", "-d", "hf:tiny?max_new_tokens=12",
            "--episodes", "6", "--max-turns", "2", "--batch-size", "3",
        ),
    )  # fmt: skip
    assert code == 0, err
    lines = (tmp_path / "runs" / "r" / "episodes.jsonl").read_text().splitlines()
    assert len(lines) == 6
    manifest = json.loads((tmp_path / "runs" / "r" / "manifest.json").read_text())
    (defender,) = manifest["agents"]["defender"]
    assert defender["spec"] == "hf:tiny?max_new_tokens=12"
    sha = defender["generator"]["weights_sha256"]
    assert isinstance(sha, str) and len(sha) == 64 and int(sha, 16) >= 0


def test_help_and_errors_name_seat_flags_as_they_are_spelled(cli: CliRunner) -> None:
    """Seat ``player_0`` is the flag ``--player-0``: help and errors must say so."""
    code, out, _ = cli(["play", "matrix_game", "--help"])
    assert code == 0
    assert "--player-0 SPEC --player-1 SPEC" in " ".join(out.split())
    assert "--player_0" not in out
    code, _, err = cli(["play", "matrix_game", "--player-0", "tabular:uniform", "--no-save"])
    assert code != 0 and "--player-1 SPEC" in err
