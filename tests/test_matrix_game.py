"""matrix_game_v0: textbook payoffs and equilibria, payoff files, symmetry, the API, play."""

from __future__ import annotations

import dataclasses
import json
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest
from pettingzoo.test import api_test, parallel_api_test

import theory.facade
from arena.play import PlayConfig, play
from envs import load_game, matrix_game_v0
from envs.errors import ArenaError, IllegalActionError
from envs.game_spec import RecordsEpisodes
from envs.matrix_game import games as games_module
from envs.matrix_game.summary import summarize
from theory.equilibria import is_equilibrium, solve
from theory.games import NormalFormGame

if TYPE_CHECKING:
    from conftest import CliRunner

Config = matrix_game_v0.MatrixGameConfig

# The textbook tables, written out here independently of envs/matrix_game/games.py:
# labels, A (player_0, rows) and B (player_1, columns).
TEXTBOOK: dict[str, tuple[tuple[str, ...], list[list[float]], list[list[float]]]] = {
    "rock_paper_scissors": (
        ("rock", "paper", "scissors"),
        [[0, -1, 1], [1, 0, -1], [-1, 1, 0]],
        [[0, 1, -1], [-1, 0, 1], [1, -1, 0]],
    ),
    "matching_pennies": (("heads", "tails"), [[1, -1], [-1, 1]], [[-1, 1], [1, -1]]),
    # Axelrod: T=5, R=3, P=1, S=0
    "prisoners_dilemma": (("cooperate", "defect"), [[3, 0], [5, 1]], [[3, 5], [0, 1]]),
    "stag_hunt": (("stag", "hare"), [[2, 0], [1, 1]], [[2, 1], [0, 1]]),
    "chicken": (("swerve", "straight"), [[3, 2], [4, 1]], [[3, 4], [2, 1]]),
    "battle_of_the_sexes": (("bach", "stravinsky"), [[2, 0], [0, 1]], [[1, 0], [0, 2]]),
}

# Every Nash equilibrium (player_0's and player_1's mixed strategies) and its payoffs.
EQUILIBRIA: dict[str, list[tuple[list[float], list[float], tuple[float, float]]]] = {
    "rock_paper_scissors": [([1 / 3] * 3, [1 / 3] * 3, (0, 0))],
    "matching_pennies": [([0.5, 0.5], [0.5, 0.5], (0, 0))],
    "prisoners_dilemma": [([0, 1], [0, 1], (1, 1))],
    "stag_hunt": [
        ([1, 0], [1, 0], (2, 2)),
        ([0, 1], [0, 1], (1, 1)),
        ([0.5, 0.5], [0.5, 0.5], (1, 1)),
    ],
    "chicken": [
        ([1, 0], [0, 1], (2, 4)),
        ([0, 1], [1, 0], (4, 2)),
        ([0.5, 0.5], [0.5, 0.5], (2.5, 2.5)),
    ],
    "battle_of_the_sexes": [
        ([1, 0], [1, 0], (2, 1)),
        ([0, 1], [0, 1], (1, 2)),
        ([2 / 3, 1 / 3], [1 / 3, 2 / 3], (2 / 3, 2 / 3)),
    ],
}

SYMMETRIC = {"rock_paper_scissors", "prisoners_dilemma", "stag_hunt", "chicken"}


def one_line_error(exc: pytest.ExceptionInfo[ArenaError]) -> str:
    text = str(exc.value)
    assert "\n" not in text and text.count("Fix:") == 1, text
    return text


# ----------------------------------------------------------------- built-in games


def test_every_builtin_game_is_tested() -> None:
    assert set(matrix_game_v0.BUILTIN_GAMES) == set(TEXTBOOK) == set(EQUILIBRIA)
    assert games_module.SUFFIXES == theory.facade.SUFFIXES


@pytest.mark.parametrize("name", sorted(TEXTBOOK))
def test_builtin_payoffs_are_the_textbook_tables(name: str) -> None:
    labels, a, b = TEXTBOOK[name]
    game = matrix_game_v0.normal_form(Config(game=name))
    assert game.players == ("player_0", "player_1")
    assert game.strategies == (labels, labels)
    assert np.array_equal(game.payoffs, [a, b])
    # ... and the environment pays exactly those entries, round by round
    env = matrix_game_v0.parallel_env(game=name)
    for i in range(len(labels)):
        for j in range(len(labels)):
            env.reset(seed=0)
            _, rewards, *_ = env.step({"player_0": i, "player_1": j})
            assert rewards == {"player_0": a[i][j], "player_1": b[i][j]}
    # failing variant: the players' matrices swapped is another table (except where B = A^T
    # and A = A^T, which no built-in game is)
    assert not np.array_equal(game.payoffs, [b, a])


@pytest.mark.parametrize("name", sorted(EQUILIBRIA))
def test_builtin_equilibria_are_the_known_ones(name: str) -> None:
    game = matrix_game_v0.normal_form(Config(game=name))
    found = solve(game, "vertex")
    assert found.degenerate is False
    assert len(found.equilibria) == len(EQUILIBRIA[name])
    for x, y, value in EQUILIBRIA[name]:
        assert is_equilibrium(game, [x, y])
        assert game.expected_payoffs([x, y]) == pytest.approx(value)
        assert any(
            np.allclose(e.strategies[0], x) and np.allclose(e.strategies[1], y)
            for e in found.equilibria
        )
    # failing variant: uniform-vs-pure is no equilibrium of any of these games
    n = len(TEXTBOOK[name][0])
    assert not is_equilibrium(game, [[1 / n] * n, [1.0] + [0.0] * (n - 1)])


def test_symmetry_detection() -> None:
    for name in TEXTBOOK:
        config = Config(game=name)
        assert matrix_game_v0.GAME.is_symmetric(config) is (name in SYMMETRIC), name


def test_symmetry_of_files(tmp_path: Path) -> None:
    a = np.array([[1.0, 4.0], [0.0, 3.0]])
    np.save(tmp_path / "sym.npy", np.stack([a, a.T]))
    np.save(tmp_path / "asym.npy", np.stack([a, a]))  # B = A, not A^T
    np.save(tmp_path / "wide.npy", np.zeros((2, 2, 3)))  # not square
    game = matrix_game_v0.GAME
    assert game.is_symmetric(Config(game=str(tmp_path / "sym.npy")))
    assert not game.is_symmetric(Config(game=str(tmp_path / "asym.npy")))
    assert not game.is_symmetric(Config(game=str(tmp_path / "wide.npy")))


# ----------------------------------------------------------------- the config


def test_config_is_frozen_hashable_and_cached() -> None:
    config = Config(game="chicken", rounds=2)
    assert hash(config) == hash(Config(game="chicken", rounds=2))
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.rounds = 3  # type: ignore[misc]
    assert matrix_game_v0.normal_form(config) is matrix_game_v0.normal_form(
        Config(game="chicken", rounds=2)
    )
    assert matrix_game_v0.GAME.config({"game": "chicken", "rounds": 2}) == config
    assert Config() == Config(game="rock_paper_scissors", rounds=1)


@pytest.mark.parametrize(
    ("settings", "needle"),
    [
        ({"rounds": 0}, "rounds must be a positive integer"),
        ({"rounds": True}, "rounds must be a positive integer"),
        ({"rounds": 1.5}, "rounds must be a positive integer"),
        ({"game": "rock-paper-scissor"}, "neither a built-in game nor a payoff file"),
        ({"game": ""}, "game must be a game name or a file path"),
        ({"game": "missing.csv"}, "does not exist"),
    ],
)
def test_bad_settings_are_one_clear_error(settings: dict[str, Any], needle: str) -> None:
    with pytest.raises(ArenaError) as exc:
        matrix_game_v0.GAME.config(settings)
    assert needle in one_line_error(exc)
    with pytest.raises(ArenaError):  # the environment applies the same checks
        matrix_game_v0.parallel_env(**settings)


def test_unknown_setting_lists_the_valid_ones() -> None:
    with pytest.raises(ArenaError, match="use any of: game, rounds"):
        matrix_game_v0.GAME.config({"games": "chicken"})


# ----------------------------------------------------------------- payoff files


def test_csv_payoff_file_loads(tmp_path: Path) -> None:
    path = tmp_path / "coordination.csv"
    path.write_text("# a zero-sum game\n,left,right\nup,1,-2\ndown,-3,4\n")
    config = Config(game=str(path), rounds=2)
    game = matrix_game_v0.normal_form(config)
    assert game.players == ("player_0", "player_1")
    assert game.strategies == (("up", "down"), ("left", "right"))
    assert np.array_equal(game.payoffs, [[[1, -2], [-3, 4]], [[-1, 2], [3, -4]]])  # (A, -A)
    env = matrix_game_v0.parallel_env(game=str(path))
    env.reset(seed=1)
    _, rewards, *_ = env.step({"player_0": 1, "player_1": 1})
    assert rewards == {"player_0": 4.0, "player_1": -4.0}
    assert matrix_game_v0.GAME.make_env(config, None).to_normal_form() == game
    assert matrix_game_v0.describe(config)["stage_game"]["source"] == "file"


def test_npy_bimatrix_file_loads(tmp_path: Path) -> None:
    a, b = TEXTBOOK["battle_of_the_sexes"][1:]
    np.save(tmp_path / "bos.npy", np.array([a, b], dtype=float))
    game = matrix_game_v0.normal_form(Config(game=str(tmp_path / "bos.npy")))
    assert np.array_equal(game.payoffs, [a, b]) and game.strategies == (("1", "2"),) * 2


def test_non_two_player_file_is_one_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "three.npy"
    np.save(path, np.zeros((3, 2, 2, 2)))
    with pytest.raises(ArenaError) as exc:
        Config(game=str(path))
    text = one_line_error(exc)
    assert "3-player game" in text and "three.npy" in text
    # failing variant: the same payoffs as a two-player game load
    np.save(path, np.zeros((2, 2, 2)))
    assert Config(game=str(path)).game == str(path)


@pytest.mark.parametrize(
    ("name", "text", "needle"),
    [
        ("words.csv", "1,2\n3,oops\n", "line 2, column 2: 'oops' is not a number"),
        ("ragged.csv", "1,2\n3\n", "line 2: 1 payoffs, but the first row has 2"),
        ("empty.csv", "# nothing\n", "no payoffs found"),
        ("bad.nfg", 'NFG 1 R "x" { oops\n', "bad.nfg"),
        ("bad.npy", "not an array", "not a readable .npy array"),
    ],
)
def test_malformed_file_is_one_clear_error(
    tmp_path: Path, name: str, text: str, needle: str
) -> None:
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(ArenaError) as exc:
        Config(game=str(path))
    message = one_line_error(exc)
    assert needle in message and "is not a valid payoff file" in message


def test_environment_takes_a_normal_form_game() -> None:
    game = NormalFormGame.from_bimatrix([[1, 2, 3]], [[0, 0, 1]], title="one row")
    env = matrix_game_v0.parallel_env(game=game)
    assert env.to_normal_form().players == ("player_0", "player_1")
    assert env.action_space("player_0").n == 1 and env.action_space("player_1").n == 3
    assert env.observation_space("player_0").n == 4 and env.observation_space("player_1").n == 2
    with pytest.raises(ArenaError, match="two-player games; this one has 3"):
        matrix_game_v0.parallel_env(game=NormalFormGame(np.zeros((3, 2, 2, 2))))


# ----------------------------------------------------------------- the environment


def test_observations_rewards_and_episode_record() -> None:
    env = matrix_game_v0.parallel_env(game="prisoners_dilemma", rounds=3)
    assert isinstance(env, RecordsEpisodes)
    obs, _ = env.reset(seed=5)
    assert obs == {"player_0": 2, "player_1": 2}  # n: nobody has moved yet
    assert all(env.observation_space(a).contains(o) for a, o in obs.items())
    totals = {"player_0": 0.0, "player_1": 0.0}
    plays = [(0, 0), (0, 1), (1, 1)]
    for k, (i, j) in enumerate(plays):
        obs, rewards, terms, truncs, _ = env.step({"player_0": i, "player_1": j})
        assert obs == {"player_0": j, "player_1": i}  # each sees the other's action
        assert all(terms.values()) is (k == 2) and not any(truncs.values())
        for seat in totals:
            totals[seat] += rewards[seat]
    assert totals == {"player_0": 3 + 0 + 1, "player_1": 3 + 5 + 1}
    assert env.agents == []
    record = env.episode_record()
    assert json.loads(json.dumps(record)) == record  # plain JSON data
    assert record["rounds"][1] == {
        "round": 2,
        "actions": [0, 1],
        "labels": ["cooperate", "defect"],
        "payoffs": [0.0, 5.0],
    }
    with pytest.raises(ArenaError, match="finished episode"):
        env.step({"player_0": 0, "player_1": 0})
    env.reset()
    assert env.episode_record() == {"rounds": []}


@pytest.mark.parametrize(
    "actions",
    [{"player_0": 3, "player_1": 0}, {"player_0": -1, "player_1": 0}, {"player_0": "rock",
     "player_1": 0}, {"player_0": 0.5, "player_1": 0}, {"player_1": 0}],
)  # fmt: skip
def test_illegal_actions(actions: dict[str, Any]) -> None:
    env = matrix_game_v0.parallel_env()
    env.reset(seed=0)
    with pytest.raises(IllegalActionError):
        env.step(actions)
    # failing variant: numpy integers are legal actions
    _, rewards, *_ = env.step({"player_0": np.int64(1), "player_1": 0})
    assert rewards == {"player_0": 1.0, "player_1": -1.0}


def test_render_and_describe() -> None:
    env = matrix_game_v0.parallel_env(game="chicken", render_mode="ansi")
    env.reset(seed=0)
    assert "no round played yet" in str(env.render())
    env.step({"player_0": 1, "player_1": 1})
    assert env.render() == "round 1/1: straight vs straight -> payoffs (1, 1)"
    assert env.describe()["actions"]["player_1"] == ["swerve", "straight"]
    with pytest.raises(ArenaError, match="render_mode"):
        matrix_game_v0.parallel_env(render_mode="rgb_array")


@pytest.mark.parametrize("settings", [{"game": "battle_of_the_sexes", "rounds": 4}, {}])
def test_pettingzoo_api_without_warnings(settings: dict[str, Any]) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        parallel_api_test(matrix_game_v0.parallel_env(**settings), num_cycles=20)
        api_test(matrix_game_v0.env(**settings), num_cycles=20)
    # api_test's only advice: an observation of 0 ("the opponent played action 0") is
    # "all zeros", a heuristic meant for image-like observations
    messages = {str(w.message) for w in caught if issubclass(w.category, UserWarning)}
    assert messages <= {"Observation numpy array is all zeros."}, messages


# ----------------------------------------------------------------- summary and play


def test_summary_counts_actions_and_exact_values() -> None:
    config = Config(game="matching_pennies", rounds=2)
    agents = {"player_0": "x", "player_1": "y"}
    records = [
        {"agents": agents, "rewards": {"player_0": 2.0, "player_1": -2.0},
         "rounds": [{"actions": [0, 0]}, {"actions": [1, 1]}]},
        {"agents": agents, "rewards": {"player_0": 0.0, "player_1": 0.0},
         "rounds": [{"actions": [0, 0]}, {"actions": [0, 1]}]},
    ]  # fmt: skip
    summary = summarize(records, config)
    assert summary.table.rows[0][:2] == ("x vs y", "2")
    assert summary.table.rows[0][4:] == ("heads 75%, tails 25%", "heads 50%, tails 50%")
    row = summary.data["matchups"][0]
    assert row["payoff"]["player_0"]["value"] == 1.0
    assert row["action_frequencies"]["player_0"] == {"heads": 0.75, "tails": 0.25}
    # x = (3/4, 1/4) against y = (1/2, 1/2): exactly 0 per round in matching pennies
    assert row["exact_value"] == {"player_0": 0.0, "player_1": 0.0}
    assert "asymmetric" in summary.table.caption
    assert summarize([], config).table.rows == []


def test_play_rps_nash_against_uniform() -> None:
    seats = {"player_0": ["tabular:nash"], "player_1": ["tabular:uniform"]}
    result = play(PlayConfig(env="matrix_game", seats=seats, episodes=400), runs_dir=None)
    payoff = result.summary.data["matchups"][0]["payoff"]
    low, high = payoff["player_0"]["ci95"]
    assert low < 0 < high and abs(payoff["player_0"]["value"]) < 0.15
    assert payoff["player_1"]["value"] == pytest.approx(-payoff["player_0"]["value"])
    assert len(result.records) == 400 and result.records[0]["rounds"][0]["round"] == 1
    # failing variant: in the prisoner's dilemma Nash (always defect) earns
    # (5 + 1) / 2 = 3 per round against uniform, an interval far from 0
    pd = play(
        PlayConfig(
            env="matrix_game_v0",
            seats=seats,
            episodes=100,
            env_config={"game": "prisoners_dilemma", "rounds": 2},
        ),
        runs_dir=None,
    )
    row = pd.summary.data["matchups"][0]
    assert row["payoff"]["player_0"]["ci95"][0] > 4.5
    assert row["action_frequencies"]["player_0"] == {"defect": 1.0}


def test_cli_play(tmp_path: Path, cli: CliRunner) -> None:
    code, out, err = cli(
        ["play", "matrix_game", "--game", "battle_of_the_sexes", "--rounds", "2",
         "--player-0", "tabular:nash", "--player-1", "tabular:nash", "--episodes", "10",
         "--runs-dir", str(tmp_path), "--run-name", "bos"],
    )  # fmt: skip
    assert code == 0, err
    assert "battle of the sexes" in out and "bach 100%" in out
    manifest = json.loads((tmp_path / "bos" / "manifest.json").read_text())
    assert manifest["stage_game"]["payoffs"] == [[[2, 0], [0, 1]], [[1, 0], [0, 2]]]
    report = (tmp_path / "bos" / "report.md").read_text()
    assert (tmp_path / "bos" / "payoffs.png").is_file() and "(payoffs.png)" in report
    code, _, err = cli(["play", "matrix_game", "--game", "nope", "--player-0", "tabular:nash",
                        "--player-1", "tabular:nash"])  # fmt: skip
    assert code == 2 and "neither a built-in game" in err and "\n" not in err.strip()


def test_registered() -> None:
    assert load_game("matrix_game") is matrix_game_v0.GAME
    assert matrix_game_v0.GAME.parallel and matrix_game_v0.GAME.seats == ("player_0", "player_1")
