"""The small CLI commands: agents, envs, tiny build."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from conftest import CliRunner


def test_agents_lists_kinds_and_strategies(cli: CliRunner) -> None:
    code, out, _ = cli(["agents"])
    assert code == 0
    for needle in ("scripted", "hf", "role-play", "keyword-filter", "base64"):
        assert needle in out


def test_envs_lists_environments(cli: CliRunner) -> None:
    code, out, _ = cli(["envs"])
    assert code == 0 and "attack_defense_v0" in out


def test_tiny_build_is_idempotent(tmp_path: Path, cli: CliRunner) -> None:
    target = tmp_path / "tiny"
    assert cli(["tiny", "build", "--path", str(target)])[0] == 0
    assert (target / "config.json").exists() and (target / "tokenizer.json").exists()
    assert cli(["tiny", "build", "--path", str(target)])[0] == 0


def test_usage_errors_exit_2(cli: CliRunner) -> None:
    code, _, err = cli(["play"])
    assert code == 2 and "Missing environment" in err and "strategy_game" in err
    code, _, err = cli(["play", "attack_defense", "--bogus"])
    assert code == 2 and err.count("\n") == 1 and "--bogus" in err and "Fix:" in err
    code, _, err = cli(["theory", "solve"])
    assert code == 2 and err.startswith("error: Missing argument") and err.count("\n") == 1


def test_report_needs_a_finished_run(tmp_path: Path, cli: CliRunner) -> None:
    code, _, err = cli(["report", str(tmp_path)])
    assert code == 2 and "not a finished play run" in err and "Fix:" in err
