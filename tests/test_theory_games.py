"""NormalFormGame and LeaderFollowerGame: construction, validation, evaluation."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from theory.errors import InvalidGameError
from theory.games import ZERO_SUM_TOL, LeaderFollowerGame, NormalFormGame


def test_defaults_and_shape() -> None:
    game = NormalFormGame.from_bimatrix([[1, 2, 3], [4, 5, 6]], np.zeros((2, 3)))
    assert game.num_players == 2
    assert game.num_strategies == (2, 3)
    assert game.players == ("player 1", "player 2")
    assert game.strategies == (("1", "2"), ("1", "2", "3"))
    assert game.payoffs.dtype == np.float64
    A, B = game.bimatrix()
    assert A.tolist() == [[1, 2, 3], [4, 5, 6]]
    assert not B.any()


def test_game_is_frozen_and_arrays_read_only() -> None:
    game = NormalFormGame.zero_sum([[1.0, -1.0], [-1.0, 1.0]])
    with pytest.raises(dataclasses.FrozenInstanceError):
        game.title = "x"  # type: ignore[misc]
    with pytest.raises(ValueError):
        game.payoffs[0, 0, 0] = 5.0


def test_input_array_is_copied() -> None:
    A = np.array([[1.0, 2.0], [3.0, 4.0]])
    game = NormalFormGame.zero_sum(A)
    A[0, 0] = 100.0
    assert game.payoffs[0, 0, 0] == 1.0


def test_zero_sum_detection() -> None:
    assert NormalFormGame.zero_sum([[1, 2], [3, 4]]).is_zero_sum()
    assert not NormalFormGame.from_bimatrix([[1, 2], [3, 4]], [[1, 2], [3, 4]]).is_zero_sum()


@pytest.mark.parametrize(
    ("payoffs", "message"),
    [
        (np.zeros((3, 2, 2)), "shape"),
        (np.zeros((2, 2)), "shape"),
        (np.array([[[np.nan]], [[0.0]]]), "NaN"),
        ([["a"]], "numeric"),
        (np.zeros((2, 0, 3)), "at least one strategy"),
    ],
)
def test_invalid_payoffs_are_rejected(payoffs: object, message: str) -> None:
    with pytest.raises(InvalidGameError, match=message):
        NormalFormGame(payoffs)  # type: ignore[arg-type]


def test_names_must_match_shape() -> None:
    with pytest.raises(InvalidGameError, match="player names"):
        NormalFormGame(np.zeros((2, 2, 2)), players=("only one",))
    with pytest.raises(InvalidGameError, match="strategy names"):
        NormalFormGame(np.zeros((2, 2, 2)), strategies=(("a",), ("b", "c")))
    with pytest.raises(InvalidGameError, match="same 2-D shape"):
        NormalFormGame.from_bimatrix(np.zeros((2, 2)), np.zeros((2, 3)))


def test_expected_payoffs_three_players() -> None:
    rng = np.random.default_rng(3)
    payoffs = rng.normal(size=(3, 2, 3, 2))
    game = NormalFormGame(payoffs)
    profile = [np.array([0.3, 0.7]), np.array([0.2, 0.5, 0.3]), np.array([0.6, 0.4])]
    expected = np.einsum("pabc,a,b,c->p", payoffs, *profile)
    assert np.allclose(game.expected_payoffs(profile), expected)
    # payoff_vector: player 1's payoff per own pure strategy against the others.
    vector = game.payoff_vector(profile, 1)
    assert np.allclose(vector, np.einsum("abc,a,c->b", payoffs[1], profile[0], profile[2]))
    assert np.isclose(vector @ profile[1], expected[1])


def test_profile_validation() -> None:
    game = NormalFormGame.zero_sum([[1, 2], [3, 4]])
    with pytest.raises(InvalidGameError, match="probability vector"):
        game.expected_payoffs([[0.5, 0.6], [0.5, 0.5]])
    with pytest.raises(InvalidGameError, match="one strategy per player"):
        game.expected_payoffs([[1.0, 0.0]])
    with pytest.raises(InvalidGameError, match="entries"):
        game.expected_payoffs([[1.0, 0.0, 0.0], [0.5, 0.5]])


def test_equality() -> None:
    a = NormalFormGame.zero_sum([[1, 2], [3, 4]], title="t")
    b = NormalFormGame.zero_sum([[1, 2], [3, 4]], title="t")
    c = NormalFormGame.zero_sum([[1, 2], [3, 5]], title="t")
    assert a == b
    assert a != c
    assert a != NormalFormGame.zero_sum([[1, 2], [3, 4]], title="other")


def test_leader_follower_normal_form() -> None:
    game = LeaderFollowerGame(
        [[2, 4], [1, 3]],
        [[1, 0], [0, 1]],
        leader_actions=("U", "D"),
        follower_actions=("l", "r"),
    )
    nf = game.to_normal_form()
    assert nf.num_strategies == (2, 4)
    assert nf.strategies[1] == ("U->l, D->l", "U->l, D->r", "U->r, D->l", "U->r, D->r")
    # Column "U->l, D->r": leader U meets l, leader D meets r.
    assert nf.payoffs[0][:, 1].tolist() == [2.0, 3.0]
    assert nf.payoffs[1][:, 1].tolist() == [1.0, 1.0]
    assert game.follower_strategies()[1] == (0, 1)


def test_leader_follower_validation_and_size_guard() -> None:
    with pytest.raises(InvalidGameError, match="same shape"):
        LeaderFollowerGame(np.zeros((2, 2)), np.zeros((2, 3)))
    big = LeaderFollowerGame(np.zeros((30, 3)), np.zeros((30, 3)))
    with pytest.raises(InvalidGameError, match="spne"):
        big.to_normal_form()


def test_payoff_range_that_overflows_is_rejected() -> None:
    # max - min = 2e308 overflows: every tolerance (tol x range) would be infinite.
    with pytest.raises(InvalidGameError, match="overflows float64"):
        NormalFormGame.from_bimatrix([[1e308, -1e308]], [[0.0, 0.0]])
    with pytest.raises(InvalidGameError, match="overflows float64"):
        LeaderFollowerGame([[0.0, 0.0]], [[1e308, -1e308]])
    # A huge but finite range is fine.
    game = NormalFormGame.from_bimatrix([[1e308, 0.0]], [[0.0, 1.0]])
    assert game.payoff_scale() == 1e308


def test_zero_sum_tolerance_is_relative_and_shared() -> None:
    A = np.array([[1.0, 2.0], [3.0, 4.0]])
    assert ZERO_SUM_TOL == 1e-9
    assert NormalFormGame.from_bimatrix(A, -A + 1e-12).is_zero_sum()
    assert not NormalFormGame.from_bimatrix(A, -A + 1e-6).is_zero_sum()


def test_is_symmetric_two_and_three_players() -> None:
    rps = NormalFormGame.zero_sum([[0, -1, 1], [1, 0, -1], [-1, 1, 0]])
    assert rps.is_symmetric()
    prisoners = NormalFormGame.from_bimatrix([[3, 0], [5, 1]], [[3, 5], [0, 1]])
    assert prisoners.is_symmetric()
    assert not NormalFormGame.from_bimatrix([[2, 0], [0, 1]], [[1, 0], [0, 2]]).is_symmetric()
    assert not NormalFormGame.from_bimatrix(np.zeros((2, 3)), np.zeros((2, 3))).is_symmetric()
    # Within tolerance (relative to the payoff range) and not.
    A = np.array([[3.0, 0.0], [5.0, 1.0]])
    nudge = np.array([[0.0, 1.0], [0.0, 0.0]])
    assert NormalFormGame.from_bimatrix(A, A.T + 1e-12 * nudge).is_symmetric()
    assert not NormalFormGame.from_bimatrix(A, A.T + 1e-3 * nudge).is_symmetric()
    # Three players: u_i = number of players who match player i's choice, plus a bonus
    # for strategy 1 -- the same rule for everyone, so symmetric.
    payoffs = np.zeros((3, 2, 2, 2))
    for a in np.ndindex(2, 2, 2):
        for i in range(3):
            payoffs[(i, *a)] = sum(a[k] == a[i] for k in range(3)) + 0.5 * a[i]
    assert NormalFormGame(payoffs).is_symmetric()
    # Player 3 alone gets an extra payoff: swapping players 2 and 3 changes the game.
    skewed = payoffs.copy()
    skewed[2] += 1.0
    assert not NormalFormGame(skewed).is_symmetric()
    # Players 1 and 2 swap correctly but player 3's payoff depends on who plays what.
    order = payoffs.copy()
    order[2, 1, 0, :] += 1.0
    assert not NormalFormGame(order).is_symmetric()


def test_check_profile_clips_rounding_negatives() -> None:
    game = NormalFormGame.zero_sum([[1, 2], [3, 4]])
    (row, col) = game.check_profile([[-1e-12, 1 + 1e-12], [0.5, 0.5]])
    assert row.min() == 0.0 and col.tolist() == [0.5, 0.5]


def test_leader_follower_payoff_scale() -> None:
    game = LeaderFollowerGame([[0, 5]], [[1, -2]])
    assert game.payoff_scale() == 5.0
    assert LeaderFollowerGame([[0.1, 0.2]], [[0.0, 0.3]]).payoff_scale() == 1.0
