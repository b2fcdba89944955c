"""`arena tournament`, `arena replay`, `arena store`, `arena report` from the command line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from conftest import CliRunner


def _start(cli: CliRunner, folder: Path, *extra: str) -> tuple[int, str, str]:
    return cli(
        [
            "tournament", "attack_defense",
            "--attackers", "scripted:role-play,scripted:base64",
            "--defenders", "scripted:keyword-filter",
            "--episodes", "8", "--out", str(folder), "--bootstrap", "20", *extra,
        ]
    )  # fmt: skip


def test_start_add_resume_report_replay_export(tmp_path: Path, cli: CliRunner) -> None:
    folder = tmp_path / "t1"
    code, out, err = _start(cli, folder)
    assert code == 0, err
    assert "played 16 episodes (0 failed) in 2 of 2 cells" in out
    assert "report:" in out and (folder / "report.html").exists()
    code, out, err = cli(
        ["tournament", str(folder), "--add-defender", "scripted:decode-then-filter", "--no-report"]
    )
    assert code == 0, err
    assert "played 16 episodes (0 failed) in 2 of 4 cells; 2 cells were complete" in out
    code, out, err = cli(["tournament", str(folder), "--no-report"])
    assert code == 0 and "played 0 episodes" in out
    code, out, err = cli(["tournament", str(folder), "--episodes", "10", "--no-report"])
    assert code == 0 and "played 8 episodes (0 failed) in 4 of 4 cells" in out, err
    code, out, err = cli(["tournament", str(folder), "--episodes", "9", "--no-report"])
    assert code == 2 and "would not extend it" in err
    code, out, err = cli(["report", str(folder), "--bootstrap", "20"])
    assert code == 0, err
    assert "decode-then-filter" in (folder / "report.md").read_text()
    code, out, err = cli(["replay", str(folder), "3:5"])
    assert code == 0, err
    assert "reproduced" in out
    code, out, err = cli(["store", str(folder), "--export", str(tmp_path / "all.csv")])
    assert code == 0, err
    assert len((tmp_path / "all.csv").read_text().splitlines()) == 41
    spec = json.loads((folder / "tournament.json").read_text())
    assert spec["seats"]["defender"] == ["scripted:keyword-filter", "scripted:decode-then-filter"]


def test_mistakes_are_one_line(tmp_path: Path, cli: CliRunner) -> None:
    folder = tmp_path / "t"
    assert _start(cli, folder, "--no-report")[0] == 0
    cases = (
        (["tournament", str(folder), "--attackers", "scripted:x"], "rosters are changed with"),
        (
            ["tournament", "attack_defense", "--attackers", "scripted:role-play"],
            "No agent for the defender",
        ),
        (["tournament", "nowhere_game", "--players", "a:b,c:d"], "Unknown environment"),
        (["tournament", str(tmp_path / "none"), "--add-defender", "scripted:x"], "nothing to add"),
        (["replay", str(folder), "3"], "is not CELL:EPISODE"),
        (["replay", str(folder), "1:99"], "has no episode 99 in cell 1"),
        (["replay", str(tmp_path), "1:1"], "has no result store"),
        (["store", str(folder), "--export", str(tmp_path / "x.xlsx")], "no known format"),
        (
            ["tournament", str(folder), "--add-defender", "nokind:x", "--no-report"],
            "Unknown agent kind",
        ),
    )
    for args, expected in cases:
        code, out, err = cli(args)
        assert code == 2, (args, out, err)
        lines = [line for line in err.splitlines() if line.strip()]
        assert len(lines) == 1 and expected in lines[0], (args, err)
        assert "Traceback" not in err
    spec = json.loads((folder / "tournament.json").read_text())
    assert spec["seats"]["defender"] == ["scripted:keyword-filter"]  # the bad add left no trace
