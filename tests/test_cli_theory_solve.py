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


# -- CSV / .npy payoff files and the stackelberg, spne, dynamics and rank commands --------


def _rps_csv(tmp_path: Path) -> Path:
    path = tmp_path / "rps.csv"
    path.write_text(",R,P,S\nR,0,-1,1\nP,1,0,-1\nS,-1,1,0\n", encoding="utf-8")
    return path


def _commitment_npy(tmp_path: Path) -> tuple[Path, Path]:
    a, b = tmp_path / "a.npy", tmp_path / "b.npy"
    np.save(a, np.array([[2.0, 4.0], [1.0, 3.0]]))
    np.save(b, np.array([[1.0, 0.0], [0.0, 1.0]]))
    return a, b


def test_solve_reads_csv_and_json_has_payoffs_players_and_labels(tmp_path: Path) -> None:
    payload = solve_json(str(_rps_csv(tmp_path)))
    assert payload["method"] == "lp" and payload["title"] == "rps"
    assert payload["players"] == ["player 1", "player 2"]
    assert payload["strategy_labels"] == [["R", "P", "S"], ["R", "P", "S"]]
    assert payload["payoffs"][0][1] == [1.0, 0.0, -1.0] and payload["payoffs"][1][1][0] == -1.0
    assert np.allclose(payload["equilibria"][0]["strategies"], 1 / 3)
    named = solve_json(str(DATA / "battle_of_sexes.nfg"))
    assert named["players"] == ["Alice", "Bob"] and len(named["payoffs"]) == 2


def test_solve_reads_two_files_as_a_bimatrix(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("3,0\n5,1\n", encoding="utf-8")
    (tmp_path / "b.csv").write_text("3,5\n0,1\n", encoding="utf-8")
    payload = solve_json(str(tmp_path / "a.csv"), str(tmp_path / "b.csv"))
    assert payload["payoffs"] == [[[3, 0], [5, 1]], [[3, 5], [0, 1]]]
    assert [eq["strategies"] for eq in payload["equilibria"]] == [[[0.0, 1.0], [0.0, 1.0]]]
    np.save(tmp_path / "pd.npy", np.array(payload["payoffs"], dtype=float))
    assert solve_json(str(tmp_path / "pd.npy"))["equilibria"] == payload["equilibria"]


def test_malformed_csv_is_one_line_with_the_line_number(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from arena.cli import main

    path = tmp_path / "bad.csv"
    path.write_text("1,2\n3,four\n", encoding="utf-8")
    with pytest.raises(SystemExit) as info:
        main(["theory", "solve", str(path)])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "bad.csv: line 2, column 2: 'four'" in err
    assert len(err.strip().splitlines()) == 1
    missing = runner.invoke(theory_app, ["solve", str(path), str(tmp_path / "nope.csv")])
    assert isinstance(missing.exception, ArenaError)


def test_stackelberg_and_spne_commands(tmp_path: Path) -> None:
    a, b = _commitment_npy(tmp_path)
    result = runner.invoke(theory_app, ["stackelberg", str(a), str(b), "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["leader_value"] > 3.4 and payload["follower_action"] == 1
    assert np.allclose(payload["leader_strategy"], [0.5, 0.5], atol=1e-6)
    table = runner.invoke(theory_app, ["stackelberg", str(a), str(b)])
    assert "player 1 commits to" in table.stdout and "replies 2" in table.stdout
    result = runner.invoke(theory_app, ["spne", str(a), str(b), "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["leader_action"] == 1 and payload["leader_value"] == 3.0
    assert payload["follower_policy"] == [[1.0, 0.0], [0.0, 1.0]]
    table = runner.invoke(theory_app, ["spne", str(a), str(b), "--leader", "1"])
    assert table.exit_code == 0 and "player 2 plays 1" in table.stdout
    bad = runner.invoke(theory_app, ["spne", str(a), str(b), "--leader", "2"])
    assert bad.exit_code == 2


def test_dynamics_command(tmp_path: Path) -> None:
    path = _rps_csv(tmp_path)
    for kind in ("fictitious-play", "regret-matching", "psro"):
        result = runner.invoke(
            theory_app, ["dynamics", str(path), "--kind", kind, "--iterations", "300", "--json"]
        )
        assert result.exit_code == 0, result.output
        payload = json.loads(result.stdout)
        assert payload["kind"] == kind and payload["exploitability"] < 0.05
        assert payload["trajectory"][-1] == payload["exploitability"]
    table = runner.invoke(theory_app, ["dynamics", str(path), "-k", "replicator", "--t-max", "2"])
    assert table.exit_code == 0, table.output
    assert "replicator: final exploitability" in table.stdout and "R: 0.3333" in table.stdout


def test_rank_command(tmp_path: Path) -> None:
    path = _rps_csv(tmp_path)
    result = runner.invoke(theory_app, ["rank", str(path), "--json"])
    assert result.exit_code == 0, result.output
    ranking = json.loads(result.stdout)["ranking"]
    assert [r["label"] for r in ranking] == ["R", "P", "S"]
    assert np.allclose([r["nash"] for r in ranking], 1 / 3)
    alpha = runner.invoke(theory_app, ["rank", str(path), "-m", "alpha-rank", "--json"])
    assert alpha.exit_code == 0, alpha.output
    masses = [r["mass"] for r in json.loads(alpha.stdout)["ranking"]]
    assert np.allclose(masses, 1 / 3)
    table = runner.invoke(theory_app, ["rank", str(path)])
    assert "nash-averaging (rps.csv)" in table.stdout and "rating" in table.stdout
    (tmp_path / "pd.csv").write_text("3,0\n5,1\n", encoding="utf-8")
    (tmp_path / "pdb.csv").write_text("3,5\n0,1\n", encoding="utf-8")
    general = runner.invoke(
        theory_app, ["rank", str(tmp_path / "pd.csv"), str(tmp_path / "pdb.csv")]
    )
    assert isinstance(general.exception, ArenaError)  # Nash averaging needs zero-sum
    assert "not zero-sum" in str(general.exception) and "--method alpha-rank" in str(
        general.exception
    )
