"""``arena theory solve`` and ``arena theory check`` through typer's CliRunner."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from arena.cli_theory import theory_app
from envs.errors import ArenaError
from theory.errors import NFGFormatError, UnsupportedGameError

DATA = Path(__file__).parent / "data"
runner = CliRunner()


def solve_json(*args: str) -> dict:
    result = runner.invoke(theory_app, ["solve", *args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_table_output_lists_equilibria_and_degeneracy() -> None:
    result = runner.invoke(theory_app, ["solve", str(DATA / "battle_of_sexes.nfg")])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "Battle of the sexes" in out and "Alice" in out and "Bob" in out
    assert "Opera: 0.6667" in out
    assert "3 equilibria" in out
    assert "nondegenerate game" in out


def test_json_schema_and_strategy_order() -> None:
    payload = solve_json(str(DATA / "battle_of_sexes.nfg"))
    assert set(payload) >= {"degenerate", "method", "equilibria"}
    assert payload["degenerate"] is False
    assert payload["method"] == "vertex"
    strategies = [eq["strategies"] for eq in payload["equilibria"]]
    assert strategies[0] == [[1.0, 0.0], [1.0, 0.0]]
    assert strategies[1] == [[0.0, 1.0], [0.0, 1.0]]
    assert np.allclose(strategies[2], [[2 / 3, 1 / 3], [1 / 3, 2 / 3]])
    assert all(eq["exploitability"] <= 1e-8 for eq in payload["equilibria"])


def test_zero_sum_file_uses_lp_and_methods_can_be_chosen() -> None:
    payload = solve_json(str(DATA / "matching_pennies.nfg"))
    assert payload["method"] == "lp"
    assert np.allclose(payload["equilibria"][0]["strategies"], 0.5)
    for method in ("support", "vertex", "lemke-howson"):
        chosen = solve_json(str(DATA / "matching_pennies.nfg"), "--method", method)
        assert chosen["method"] == method
        assert np.allclose(chosen["equilibria"][0]["strategies"], 0.5)


def test_degenerate_game_is_flagged() -> None:
    payload = solve_json(str(DATA / "degenerate.nfg"))
    assert payload["degenerate"] is True
    assert len(payload["equilibria"]) == 3
    table = runner.invoke(theory_app, ["solve", str(DATA / "degenerate.nfg")])
    assert "degenerate game" in table.stdout and "support ['T']" in table.stdout


def test_three_player_game_reports_pure_equilibria() -> None:
    payload = solve_json(str(DATA / "three_player.nfg"))
    assert payload["method"] == "pure"
    assert len(payload["equilibria"]) == 2
    assert len(payload["equilibria"][0]["strategies"]) == 3


def test_malformed_file_raises_the_line_numbered_error() -> None:
    result = runner.invoke(theory_app, ["solve", str(DATA / "malformed.nfg")])
    assert result.exit_code != 0
    assert isinstance(result.exception, NFGFormatError)
    assert "malformed.nfg: line 4:" in str(result.exception)


def test_missing_file_raises_arena_error(tmp_path: Path) -> None:
    result = runner.invoke(theory_app, ["solve", str(tmp_path / "nope.nfg")])
    assert isinstance(result.exception, ArenaError)
    assert "no game file" in str(result.exception) and "Fix:" in str(result.exception)


def test_method_that_does_not_fit_the_game_raises() -> None:
    result = runner.invoke(theory_app, ["solve", str(DATA / "degenerate.nfg"), "-m", "lp"])
    assert isinstance(result.exception, UnsupportedGameError)


def test_unknown_method_is_a_usage_error() -> None:
    result = runner.invoke(theory_app, ["solve", str(DATA / "degenerate.nfg"), "-m", "magic"])
    assert result.exit_code == 2


@pytest.mark.skipif(
    importlib.util.find_spec("theory.claims") is None, reason="theory.claims not present"
)
def test_check_command_renders_claim_rows() -> None:
    result = runner.invoke(theory_app, ["check", "--n", "5", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert rows and {"claim", "paper", "symbolic", "numeric", "empirical", "evidence"} <= set(
        rows[0]
    )
    table = runner.invoke(theory_app, ["check", "--n", "5"])
    assert table.exit_code == 0, table.output
    assert "Claims (seed 0, 5 random instances" in table.stdout
    assert "symbolic" in table.stdout and "evidence" in table.stdout


def test_single_equilibrium_is_singular_and_lp_skips_degeneracy() -> None:
    result = runner.invoke(theory_app, ["solve", str(DATA / "matching_pennies.nfg")])
    assert result.exit_code == 0, result.output
    assert "1 equilibrium:" in result.stdout and "1 equilibria" not in result.stdout
    assert "degeneracy not checked" in result.stdout
    payload = solve_json(str(DATA / "matching_pennies.nfg"))
    assert payload["degenerate"] is None and payload["degeneracy_witness"] is None


def test_json_includes_the_degeneracy_witness() -> None:
    payload = solve_json(str(DATA / "degenerate.nfg"))
    assert "support ['T']" in payload["degeneracy_witness"]
    assert solve_json(str(DATA / "battle_of_sexes.nfg"))["degeneracy_witness"] is None


@pytest.mark.parametrize("args", [["--seed", "-1"], ["--n", "0"], ["--n", "-3"]])
def test_check_rejects_negative_seed_and_empty_n(args: list[str]) -> None:
    result = runner.invoke(theory_app, ["check", *args])
    assert result.exit_code == 2
    assert "Invalid value" in result.output


BAD_FILES = {
    "overflow": 'NFG 1 R "x" { "a" "b" } { 1 1 }\n1\n1e400\n',
    "digits": 'NFG 1 R "x" { "a" "b" } { 1 1 }\n1\n' + "9" * 400 + "\n",
    "exponent": 'NFG 1 R "x" { "a" "b" } { 1 1 }\n1\n1e99999999999\n',
    "count": 'NFG 1 R "x" { "a" "b" }\n{ 3000000000 2 }\n1 2\n',
    "range": 'NFG 1 R "x" { "a" "b" } { 2 1 }\n1e308 0 -1e308 0\n',
    "bom": '\ufeffNFG 1 R "x" { "a" } { 1 }\nfoo\n',
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_arena_cli_prints_one_line_and_exits_2(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from arena.cli import main

    path = tmp_path / f"{case}.nfg"
    path.write_text(BAD_FILES[case], encoding="utf-8")
    with pytest.raises(SystemExit) as info:
        main(["theory", "solve", str(path)])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and f"{case}.nfg" in err
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err


def test_zero_payoffs_print_as_zero_not_float_dust(tmp_path: Path, cli: Any) -> None:
    path = tmp_path / "rps.nfg"
    path.write_text(
        'NFG 1 R "rps" { "a" "b" } { 3 3 }\n0 0 -1 1 1 -1 1 -1 0 0 -1 1 -1 1 1 -1 0 0\n',
        encoding="utf-8",
    )
    code, out, _ = cli(["theory", "solve", str(path)])
    assert code == 0 and "0, 0" in out
    assert not re.search(r"\de-(2|3)\d", out)  # payoff dust such as 6.163e-33
