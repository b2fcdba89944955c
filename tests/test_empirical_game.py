"""Empirical games from episodes (theory/evaluation/empirical_game.py).

Planted structures must be found: a cycle that forms the equilibrium support gets
support probability near 1 and dominated agents near 0, dominated agents have positive
regret, a strictly dominant agent is the unique equilibrium of a general-sum table.
The batched bootstrap paths are checked against theory's own solvers on replicates.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from theory import Game
from theory.equilibria import exploitability
from theory.errors import InvalidGameError
from theory.evaluation import (
    EmpiricalGame,
    alpha_rank,
    nash_averaging,
    nash_averaging_agent_vs_task,
)
from theory.evaluation.alpha_rank_batch import alpha_rank_batch
from theory.evaluation.meta_solver import (
    EquilibriumSelector,
    batched_zero_sum_lp,
    unique_on_support,
)
from theory.games import NormalFormGame


def _bernoulli_cells(
    success: np.ndarray, episodes: int, seed: int, rows: str = "r", cols: str = "c"
) -> dict[tuple[str, str], np.ndarray]:
    """Role-split win/loss samples: seat 0 gets x ~ Bernoulli(success), seat 1 gets 1 - x."""
    rng = np.random.default_rng(seed)
    out = {}
    for i in range(success.shape[0]):
        for j in range(success.shape[1]):
            x = (rng.random(episodes) < success[i, j]).astype(float)
            out[(f"{rows}{i}", f"{cols}{j}")] = np.stack([x, 1.0 - x], axis=1)
    return out


# Attacker x defender success rates: r0/r1 vs c0/c1 is matching pennies (the planted
# support, each 1/2); r2 is beaten by every defender, c2 loses to every attacker.
PLANTED = np.array(
    [
        [0.9, 0.1, 0.95],
        [0.1, 0.9, 0.95],
        [0.05, 0.05, 0.6],
    ]
)


# -- construction ------------------------------------------------------------------------


def test_cell_statistics() -> None:
    samples = {
        ("a", "x"): [[1.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 0.0]],
        ("a", "y"): [[0.0, 1.0]],
        ("b", "x"): [[1.0, 0.0], [1.0, 0.0]],
        ("b", "y"): [[0.5, 0.5], [0.0, 1.0]],
    }
    game = EmpiricalGame.role_split(samples)
    assert game.row_labels == ("a", "b") and game.col_labels == ("x", "y")
    np.testing.assert_allclose(game.payoffs[0], [[0.75, 0.0], [1.0, 0.25]])
    np.testing.assert_allclose(game.payoffs[1], 1.0 - game.payoffs[0])
    np.testing.assert_array_equal(game.count, [[4, 1], [2, 2]])
    assert abs(game.stderr[0, 0, 0] - np.std([1, 0, 1, 1], ddof=1) / 2) < 1e-12
    assert math.isnan(game.stderr[0, 0, 1])  # one episode: no standard error
    assert game.constant_sum == 1.0
    nfg = game.to_normal_form()
    assert nfg.strategies == (("a", "b"), ("x", "y")) and nfg.players == ("row", "column")
    assert isinstance(game.to_game(), Game)


def test_missing_cell_names_the_cell() -> None:
    samples = {("a", "x"): [[1.0, 0.0]], ("b", "y"): [[1.0, 0.0]], ("a", "y"): [[0.0, 1.0]]}
    with pytest.raises(InvalidGameError, match=r"row agent 'b', column agent 'x'.*count 0"):
        EmpiricalGame.role_split(samples)
    with pytest.raises(InvalidGameError, match="'z' is not among the column agents"):
        EmpiricalGame.role_split({("a", "z"): [[1.0, 0.0]]}, col_agents=("x",))


def test_symmetric_pools_both_seatings_and_needs_self_play() -> None:
    samples = {
        ("a", "b"): [[1.0, 0.0], [1.0, 0.0]],
        ("b", "a"): [[1.0, 0.0], [0.0, 1.0]],  # b in seat 0 wins one, loses one
    }
    with pytest.raises(InvalidGameError, match=r"self-play cell \('a' vs 'a'\)"):
        EmpiricalGame.symmetric(samples)
    game = EmpiricalGame.symmetric(samples, self_play=0.5)
    # a's results against b: 1, 1 (seat 0), 0, 1 (seat 1) -> 0.75
    np.testing.assert_allclose(game.payoffs[0], [[0.5, 0.75], [0.25, 0.5]])
    np.testing.assert_allclose(game.payoffs[1], game.payoffs[0].T)
    np.testing.assert_array_equal(game.count, [[0, 4], [4, 0]])
    assert game.constant_sum == 1.0
    played = EmpiricalGame.symmetric({**samples, ("a", "a"): [[0.2, 0.4]], ("b", "b"): [[1, 1]]})
    assert abs(played.payoffs[0, 0, 0] - 0.3) < 1e-12
    assert played.constant_sum is None  # self-play sums 0.6 and 2, not 1
    with pytest.raises(InvalidGameError, match=r"pair \('a', 'c'\) has no episodes"):
        EmpiricalGame.symmetric({**samples, ("b", "c"): [[1.0, 0.0]]}, self_play=0.5)


def test_from_episodes_and_shape_errors() -> None:
    episodes = [("a", "x", 1.0, 0.0), ("a", "x", 0.0, 1.0), ("b", "x", 1.0, 0.0)]
    game = EmpiricalGame.from_episodes(episodes, symmetric=False)
    np.testing.assert_allclose(game.payoffs[0], [[0.5], [1.0]])
    with pytest.raises(InvalidGameError, match="shape"):
        EmpiricalGame.role_split({("a", "x"): [1.0, 0.0, 1.0]})
    with pytest.raises(InvalidGameError, match="NaN"):
        EmpiricalGame.role_split({("a", "x"): [[float("nan"), 0.0]]})


# -- equilibria -------------------------------------------------------------------------------


def test_planted_equilibrium_is_found_with_support_probabilities() -> None:
    game = EmpiricalGame.role_split(_bernoulli_cells(PLANTED, 200, seed=0))
    result = game.analyze(n_boot=200, seed=0)
    rows, cols = result.populations
    assert result.equilibrium_method.startswith("maximum-entropy")
    np.testing.assert_allclose(rows.equilibrium.point, [0.5, 0.5, 0.0], atol=0.08)
    np.testing.assert_allclose(cols.equilibrium.point, [0.5, 0.5, 0.0], atol=0.08)
    for side in (rows, cols):
        assert side.support_probability[0] >= 0.95 and side.support_probability[1] >= 0.95
        assert side.support_probability[2] <= 0.05
        assert side.regret.lower[2] > 0.1  # the dominated agent gives up payoff
        assert abs(side.regret.point[0]) < 1e-9 and abs(side.regret.point[1]) < 1e-9
    assert result.value.lower[0] <= 0.5 <= result.value.upper[0]
    assert result.failed_replicates == 0
    # the same table with the plant removed (every cell a coin flip) has no sure support
    flat = EmpiricalGame.role_split(_bernoulli_cells(np.full((3, 3), 0.5), 200, seed=0))
    flat_rows = flat.analyze(n_boot=200, seed=0, with_alpha_rank=False).populations[0]
    assert flat_rows.support_probability.min() < 0.9


def test_point_equilibrium_and_nash_averaging_are_theorys() -> None:
    game = EmpiricalGame.role_split(_bernoulli_cells(PLANTED, 50, seed=1))
    result = game.analyze(n_boot=20, seed=0)
    a0 = (game.payoffs[0] - game.payoffs[1]) / 2
    reference = nash_averaging_agent_vs_task(a0)
    np.testing.assert_allclose(result.populations[0].equilibrium.point, reference.agent_nash)
    np.testing.assert_allclose(result.populations[1].equilibrium.point, reference.task_nash)
    rows_na = result.populations[0].nash_averaging
    assert rows_na is not None
    np.testing.assert_allclose(rows_na.point, reference.agent_skill)
    # Nash averaging is the payoff against the max-entropy equilibrium minus c/2
    np.testing.assert_allclose(
        rows_na.point, result.populations[0].payoff_vs_equilibrium.point - 0.5, atol=1e-9
    )
    assert (
        exploitability(
            game.to_normal_form(),
            [result.populations[0].equilibrium.point, result.populations[1].equilibrium.point],
        )
        < 1e-9
    )


def test_replicate_equilibria_are_exact_maximum_entropy_equilibria() -> None:
    game = EmpiricalGame.role_split(
        _bernoulli_cells(np.random.default_rng(2).random((5, 4)), 40, 3)
    )
    tables = game.resample(30, seed=1)
    solver = EquilibriumSelector(False, 1.0)
    x0, y0, _ = solver.point(np.asarray(game.payoffs))
    xs, ys, ok = solver.replicates(tables, x0, y0)
    assert ok.all()
    for r in range(tables.shape[0]):
        nfg = NormalFormGame.from_bimatrix(tables[r, 0], tables[r, 1])
        assert exploitability(nfg, [xs[r], ys[r]]) < 1e-9
        if r >= 5:  # theory's maximum-entropy solver is slow; five comparisons suffice
            continue
        reference = nash_averaging_agent_vs_task((tables[r, 0] - tables[r, 1]) / 2)
        np.testing.assert_allclose(xs[r], reference.agent_nash, atol=1e-7)
        np.testing.assert_allclose(ys[r], reference.task_nash, atol=1e-7)


def test_unique_support_check_refuses_duplicated_agents() -> None:
    rps = np.array([[0.0, -1.0, 1.0], [1.0, 0.0, -1.0], [-1.0, 1.0, 0.0]])
    found = unique_on_support(rps, np.arange(3), np.arange(3))
    assert found is not None
    np.testing.assert_allclose(found[0], 1 / 3)
    doubled = np.vstack([rps, rps[2]])  # a copy of the third agent: equilibria form a segment
    assert unique_on_support(doubled, np.array([0, 1, 2]), np.arange(3)) is None
    # the slow path splits the weight between the copies (maximum entropy)
    x, _ = EquilibriumSelector(False, 0.0)._max_entropy(doubled)
    np.testing.assert_allclose(x, [1 / 3, 1 / 3, 1 / 6, 1 / 6], atol=1e-6)


def test_batched_lp_solves_each_block() -> None:
    games = np.random.default_rng(4).normal(size=(25, 4, 6))
    guess = batched_zero_sum_lp(games)
    assert guess is not None
    for r in range(25):
        nfg = NormalFormGame.zero_sum(games[r])
        assert exploitability(nfg, [guess[0][r], guess[1][r]]) < 1e-7


def test_general_sum_dominant_strategy_is_the_equilibrium() -> None:
    # prisoner's dilemma payoffs with noise: defect (d) strictly dominates for both seats
    rng = np.random.default_rng(5)
    means = {("c", "c"): (3, 3), ("c", "d"): (0, 5), ("d", "c"): (5, 0), ("d", "d"): (1, 1)}
    samples = {k: np.array(v) + rng.normal(0, 0.5, (80, 2)) for k, v in means.items()}
    result = EmpiricalGame.role_split(samples).analyze(n_boot=100, seed=0)
    assert result.constant_sum is None and result.equilibrium_method.startswith("Lemke")
    for side in result.populations:
        np.testing.assert_allclose(side.equilibrium.point, [0.0, 1.0])
        np.testing.assert_allclose(side.support_probability, [0.0, 1.0])
        assert side.regret.lower[0] > 0.5  # cooperating against defect: about 1 lost
        assert side.nash_averaging is None


def test_symmetric_constant_sum_uses_nash_averaging() -> None:
    # rock-paper-scissors among three agents, two weak agents that lose to everyone
    win = np.full((5, 5), 0.5)
    cycle = [(0, 1), (1, 2), (2, 0)]
    for i, j in cycle:
        win[i, j], win[j, i] = 0.2, 0.8  # j beats i
    for weak in (3, 4):
        for strong in (0, 1, 2):
            win[weak, strong], win[strong, weak] = 0.1, 0.9
    rng = np.random.default_rng(6)
    names = [f"a{k}" for k in range(5)]
    samples = {}
    for i in range(5):
        for j in range(i + 1, 5):
            x = (rng.random(300) < win[i, j]).astype(float)
            samples[(names[i], names[j])] = np.stack([x, 1 - x], axis=1)
    game = EmpiricalGame.symmetric(samples, self_play=0.5)
    result = game.analyze(n_boot=150, seed=0)
    (pop,) = result.populations
    assert result.symmetric and "Nash averaging" in result.equilibrium_method
    reference = nash_averaging((game.payoffs[0] - game.payoffs[0].T) / 2)
    np.testing.assert_allclose(pop.equilibrium.point, reference.nash)
    assert np.all(pop.support_probability[:3] >= 0.95)
    assert np.all(pop.support_probability[3:] <= 0.05)
    assert pop.nash_averaging is not None
    assert np.all(pop.nash_averaging.upper[3:] < 0) and np.all(
        np.abs(pop.nash_averaging.point[:3]) < 1e-9
    )
    assert pop.alpha_rank is not None and pop.alpha_rank.point[3:].sum() < 0.05


def test_symmetric_general_sum_equilibrium_is_symmetric() -> None:
    rng = np.random.default_rng(7)
    m = rng.random((4, 4))
    samples = {}
    names = [f"s{k}" for k in range(4)]
    for i in range(4):
        for j in range(i, 4):
            samples[(names[i], names[j])] = np.stack(
                [m[i, j] + rng.normal(0, 0.05, 30), m[j, i] + rng.normal(0, 0.05, 30)], axis=1
            )
    game = EmpiricalGame.symmetric(samples)
    assert game.constant_sum is None
    tables = game.resample(20, seed=0)
    solver = EquilibriumSelector(True, None)
    for r in range(20):
        x, y = solver._general_sum(tables[r])
        np.testing.assert_array_equal(x, y)
        nfg = NormalFormGame.from_bimatrix(tables[r, 0], tables[r, 1])
        assert exploitability(nfg, [x, y]) < 1e-9
    result = game.analyze(n_boot=20, seed=0)
    assert len(result.populations) == 1 and result.value.point.shape == (1,)


# -- bootstrap --------------------------------------------------------------------------------


def test_payoff_intervals_cover_the_true_means() -> None:
    truth = np.random.default_rng(8).uniform(0.1, 0.9, (6, 6))
    game = EmpiricalGame.role_split(_bernoulli_cells(truth, 100, seed=9))
    result = game.analyze(n_boot=300, seed=0, with_alpha_rank=False)
    cover = (result.payoffs.lower[0] <= truth) & (truth <= result.payoffs.upper[0])
    assert cover.mean() >= 0.85
    wrong = 1.0 - truth
    assert ((result.payoffs.lower[0] <= wrong) & (wrong <= result.payoffs.upper[0])).mean() < 0.3


def test_resampling_matches_the_sampling_distribution_of_the_mean() -> None:
    data = np.random.default_rng(10).normal(2.0, 1.0, (50, 2))
    game = EmpiricalGame.role_split({("a", "x"): data, ("a", "y"): data + 1.0})
    tables = game.resample(4000, seed=0)
    assert abs(tables[:, 0, 0, 0].mean() - data[:, 0].mean()) < 0.01
    expected_sd = data[:, 0].std(ddof=0) / math.sqrt(50)
    assert abs(tables[:, 0, 0, 0].std() / expected_sd - 1.0) < 0.05


def test_bootstrap_is_seeded_and_n_boot_zero_gives_nan_intervals() -> None:
    game = EmpiricalGame.role_split(_bernoulli_cells(PLANTED, 30, seed=11))
    a = game.analyze(n_boot=30, seed=3)
    b = game.analyze(n_boot=30, seed=3)
    np.testing.assert_array_equal(a.populations[0].regret.lower, b.populations[0].regret.lower)
    none = game.analyze(n_boot=0)
    assert np.all(np.isnan(none.populations[0].equilibrium.lower))
    assert np.all(np.isnan(none.populations[0].support_probability))
    rows = a.populations[0].as_rows()
    assert rows[0]["agent"] == "r0" and "alpha_rank_lower" in rows[0]


@pytest.mark.parametrize("alpha", [10.0, 50.0, math.inf])
def test_batched_alpha_rank_equals_theory(alpha: float) -> None:
    rng = np.random.default_rng(12)
    tables = rng.random((3, 2, 3, 4))
    batch = alpha_rank_batch(tables, False, alpha, 20)
    for r in range(3):
        ref = alpha_rank(
            NormalFormGame.from_bimatrix(tables[r, 0], tables[r, 1]),
            alpha=alpha,
            population_size=20,
        )
        np.testing.assert_allclose(batch[0][r], ref.marginals[0], atol=1e-10)
        np.testing.assert_allclose(batch[1][r], ref.marginals[1], atol=1e-10)
    square = rng.random((3, 2, 4, 4))
    square[:, 1] = np.swapaxes(square[:, 0], 1, 2)
    single = alpha_rank_batch(square, True, alpha, 20)
    for r in range(3):
        ref = alpha_rank(square[r, 0], alpha=alpha, population_size=20)
        np.testing.assert_allclose(single[0][r], ref.marginals[0], atol=1e-10)
