"""The small CLI commands: agents, envs, tiny build."""

from __future__ import annotations

from pathlib import Path

import pytest

from arena.cli import main


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(args)
        raise SystemExit(0)
    captured = capsys.readouterr()
    return int(exit_info.value.code or 0), captured.out, captured.err


def test_agents_lists_kinds_and_strategies(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["agents"], capsys)
    assert code == 0
    for needle in ("scripted", "hf", "role-play", "keyword-filter", "base64"):
        assert needle in out


def test_envs_lists_environments(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["envs"], capsys)
    assert code == 0 and "attack_defense_v0" in out


def test_tiny_build_is_idempotent(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "tiny"
    assert run(["tiny", "build", "--path", str(target)], capsys)[0] == 0
    assert (target / "config.json").exists() and (target / "tokenizer.json").exists()
    assert run(["tiny", "build", "--path", str(target)], capsys)[0] == 0


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["play"], capsys)
    assert code == 2 and "Missing argument" in err
