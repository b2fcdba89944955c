"""Inputs of ``arena theory``: CSV payoff files, ``dynamics --init`` and ``rank`` errors.

Each test pins one problem an outside user hit: a payoff row with a typo silently taken
for a header, ';'-separated files, dynamics that never moved from the uniform start of
Shapley's game without saying why, and a rank error that named Python functions.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from arena.cli_theory import theory_app
from envs.errors import ArenaError
from theory import Game
from theory.dynamics import random_profile
from theory.errors import InvalidGameError
from theory.facade import read_payoff_csv

runner = CliRunner()

#: Shapley's game: uniform is its only equilibrium, and a start elsewhere cycles
SHAPLEY = np.array(
    [
        [[1, 0, 0], [0, 1, 0], [0, 0, 1]],
        [[0, 1, 0], [0, 0, 1], [1, 0, 0]],
    ],
    dtype=float,
)


def _csv(tmp_path: Path, text: str, name: str = "g.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _shapley(tmp_path: Path) -> Path:
    path = tmp_path / "shapley.npy"
    np.save(path, SHAPLEY)
    return path


# -- CSV payoff files ----------------------------------------------------------------------


def test_first_row_with_a_typo_is_an_error_not_a_header(tmp_path: Path) -> None:
    path = _csv(tmp_path, "1,x\n2,3\n", "nonnum.csv")
    with pytest.raises(InvalidGameError) as info:
        read_payoff_csv(path)
    message = str(info.value)
    assert message.startswith(str(path))
    assert "line 1, column 2: 'x' is not a number" in message


def test_labelled_rows_without_header_keep_their_first_row(tmp_path: Path) -> None:
    matrix, rows, cols = read_payoff_csv(_csv(tmp_path, "x,1,2\ny,3,4\n"))
    assert matrix.tolist() == [[1, 2], [3, 4]] and rows == ("x", "y") and cols == ("1", "2")


@pytest.mark.parametrize(
    "text",
    [",R,P\nR,0,-1\nP,1,0\n", "R,P\nR,0,-1\nP,1,0\n", "R;P\nR;0;-1\nP;1;0\n"],
)
def test_a_header_of_labels_still_names_the_columns(tmp_path: Path, text: str) -> None:
    matrix, rows, cols = read_payoff_csv(_csv(tmp_path, text))
    assert matrix.tolist() == [[0, -1], [1, 0]] and rows == ("R", "P") and cols == ("R", "P")


@pytest.mark.parametrize("sep", [";", "\t"])
def test_semicolon_and_tab_separated_files_are_read(tmp_path: Path, sep: str) -> None:
    matrix, _, _ = read_payoff_csv(_csv(tmp_path, f"1{sep}2\n3{sep}4\n"))
    assert matrix.tolist() == [[1, 2], [3, 4]]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1,5;2\n3;4,5\n", "line 1, column 2: '5;2' is not a number. Fix: separate every cell"),
        ("1 2\n3 4\n", "line 1: '1 2' is one cell, not a row of payoffs. Fix: separate"),
        ("1;2\n3,4\n", "holds ';'"),
    ],
)
def test_a_separator_problem_is_named(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(InvalidGameError) as info:
        read_payoff_csv(_csv(tmp_path, text))
    assert expected in str(info.value) and "\n" not in str(info.value)


def test_solve_cli_reports_the_typo_row(tmp_path: Path) -> None:
    result = runner.invoke(theory_app, ["solve", str(_csv(tmp_path, "1,x\n2,3\n"))])
    assert isinstance(result.exception, InvalidGameError)
    assert "'x' is not a number" in str(result.exception)


# -- dynamics --init -----------------------------------------------------------------------


def _dynamics(*args: str) -> dict:
    result = runner.invoke(theory_app, ["dynamics", *args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.mark.parametrize("kind", ["regret-matching", "replicator"])
def test_random_start_on_shapley_moves(tmp_path: Path, kind: str) -> None:
    path = str(_shapley(tmp_path))
    payload = _dynamics(
        path, "-k", kind, "--iterations", "300", "--t-max", "5", "--init", "random", "--seed", "1"
    )
    trajectory = np.array(payload["trajectory"])
    assert np.ptp(trajectory) > 1e-3  # the trajectory moves
    assert payload["exploitability"] > 1e-3 and not payload["rest_point"]
    assert payload["start"] == [list(s) for s in random_profile(Game(SHAPLEY).normal_form, 1)]
    again = _dynamics(
        path, "-k", kind, "--iterations", "300", "--t-max", "5", "--init", "random", "--seed", "1"
    )
    assert again["trajectory"] == payload["trajectory"]  # seeded


@pytest.mark.parametrize("kind", ["regret-matching", "replicator"])
def test_uniform_start_says_it_is_a_rest_point(tmp_path: Path, kind: str) -> None:
    path = str(_shapley(tmp_path))
    table = runner.invoke(
        theory_app, ["dynamics", path, "-k", kind, "--iterations", "50", "--t-max", "1"]
    )
    assert table.exit_code == 0, table.output
    assert "the start is an equilibrium (a rest point)" in table.stdout
    assert "try --init random" in table.stdout
    payload = _dynamics(path, "-k", kind, "--iterations", "50", "--t-max", "1")
    assert payload["rest_point"] and payload["init"] == "uniform"


def test_explicit_start_is_used(tmp_path: Path) -> None:
    payload = _dynamics(
        str(_shapley(tmp_path)),
        "-k",
        "replicator",
        "--t-max",
        "1",
        "--init",
        "0.6,0.3,0.1; 1/3,1/3,1/3",
    )
    assert np.allclose(payload["start"], [[0.6, 0.3, 0.1], [1 / 3] * 3])
    assert payload["start_exploitability"] > 0.1 and not payload["rest_point"]


@pytest.mark.parametrize(
    ("init", "problem"),
    [
        ("0.5,0.5", "1 probability list for 2 players"),
        ("0.5,0.5;0.2,0.2,0.6", "player 1 has 2 probabilities for 3 strategies"),
        ("0.6,0.3,x;0.2,0.2,0.6", "player 1: 'x' is not a number"),
        ("1.2,-0.2,0;0.2,0.2,0.6", "player 1: -0.2 is negative"),
        ("0.6,0.3,0.1;0.2,0.2,0.5", "player 2's probabilities sum to 0.9, not 1"),
        ("randon", "not 'uniform', 'random' or probabilities"),
    ],
)
def test_a_wrong_explicit_start_is_one_clear_error(tmp_path: Path, init: str, problem: str) -> None:
    result = runner.invoke(
        theory_app, ["dynamics", str(_shapley(tmp_path)), "-k", "replicator", "--init", init]
    )
    assert isinstance(result.exception, ArenaError)
    message = str(result.exception)
    assert message.startswith(f"--init {init!r}: {problem}.")
    assert "--init '1,0,0;1,0,0'" in message and "\n" not in message


def test_psro_refuses_a_start_profile(tmp_path: Path) -> None:
    result = runner.invoke(
        theory_app, ["dynamics", str(_shapley(tmp_path)), "-k", "psro", "--init", "random"]
    )
    assert isinstance(result.exception, ArenaError) and "psro" in str(result.exception)


# -- rank ----------------------------------------------------------------------------------


def test_rank_refusal_names_cli_actions_not_python_functions(tmp_path: Path) -> None:
    path = _csv(tmp_path, "0,1\n2,0\n", "margins.csv")
    result = runner.invoke(theory_app, ["rank", str(path)])
    assert isinstance(result.exception, ArenaError)
    message = str(result.exception)
    assert "not antisymmetric (max |A[i][j] + A[j][i]| = 3)" in message
    assert f"arena theory rank {path} --method alpha-rank" in message
    assert "antisymmetric_from_win_rates" not in message and "nash_averaging_" not in message
    assert runner.invoke(theory_app, ["rank", str(path), "-m", "alpha-rank"]).exit_code == 0
