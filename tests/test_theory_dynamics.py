"""Learning dynamics and PSRO (theory/dynamics.py).

Tolerances are stated per test; "exploitability" is NashConv / 2 (the convention of
theory.equilibria.exploitability).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from theory.dynamics import (
    MetaStrategy,
    exact_best_response_oracle,
    fictitious_play,
    psro,
    random_profile,
    regret_matching,
    replicator_dynamics,
)
from theory.equilibria import exploitability, solve_zero_sum
from theory.errors import InvalidGameError, UnsupportedGameError
from theory.games import NormalFormGame

RPS = NormalFormGame.zero_sum([[0, -1, 1], [1, 0, -1], [-1, 1, 0]])
PENNIES = NormalFormGame.zero_sum([[1, -1], [-1, 1]])
# Weighted RPS and biased pennies: equilibria away from uniform.
WEIGHTED_RPS = NormalFormGame.zero_sum([[0, -1, 2], [1, 0, -1], [-2, 1, 0]])
BIASED_PENNIES = NormalFormGame.zero_sum([[2, -1], [-1, 1]])  # Nash (0.4, 0.6) for both
PRISONERS = NormalFormGame.from_bimatrix([[3, 0], [5, 1]], [[3, 5], [0, 1]])  # C, D
START = {
    3: [np.array([0.6, 0.3, 0.1]), np.array([0.2, 0.2, 0.6])],
    2: [np.array([0.9, 0.1]), np.array([0.3, 0.7])],
}


def _start(game: NormalFormGame) -> list[np.ndarray]:
    return START[game.num_strategies[0]]


# ----------------------------------------------------------------- fictitious play


@pytest.mark.parametrize("game", [RPS, PENNIES, WEIGHTED_RPS, BIASED_PENNIES])
def test_fictitious_play_converges_on_zero_sum_games(game: NormalFormGame) -> None:
    res = fictitious_play(game, 3000, initial=_start(game), record_every=300)
    assert res.final_exploitability <= 0.03  # Robinson: FP converges in zero-sum games
    assert res.exploitability[-1] < res.exploitability[0]
    assert res.iterations.tolist() == list(range(300, 3001, 300))
    # the recorded value is the exploitability of the returned average profile
    assert res.final_exploitability == pytest.approx(exploitability(game, res.profile), abs=1e-12)


def test_alternating_fictitious_play_is_faster_on_pennies() -> None:
    plain = fictitious_play(BIASED_PENNIES, 1000, initial=_start(BIASED_PENNIES))
    alternating = fictitious_play(
        BIASED_PENNIES, 1000, initial=_start(BIASED_PENNIES), alternating=True
    )
    assert alternating.final_exploitability <= 0.005
    assert alternating.final_exploitability < plain.final_exploitability
    np.testing.assert_allclose(alternating.profile[0], [0.4, 0.6], atol=0.01)


def test_fictitious_play_last_iterate_is_pure() -> None:
    res = fictitious_play(RPS, 50, initial=_start(RPS))
    for s in res.last_iterate:
        assert sorted(s.tolist()) == [0.0, 0.0, 1.0]


# ----------------------------------------------------------------- regret matching


@pytest.mark.parametrize("game", [RPS, PENNIES, WEIGHTED_RPS, BIASED_PENNIES])
def test_regret_matching_converges_on_zero_sum_games(game: NormalFormGame) -> None:
    res = regret_matching(game, 3000, initial=_start(game), record_every=300)
    assert res.final_exploitability <= 0.03
    assert res.exploitability[-1] < res.exploitability[0] / 2
    assert res.method == "regret-matching (simultaneous, uniform)"


@pytest.mark.parametrize("game", [RPS, PENNIES, WEIGHTED_RPS, BIASED_PENNIES])
def test_regret_matching_plus_is_much_faster(game: NormalFormGame) -> None:
    plus = regret_matching(game, 1000, plus=True, initial=_start(game), record_every=100)
    plain = regret_matching(game, 1000, initial=_start(game), record_every=100)
    assert plus.final_exploitability <= 0.005
    assert plus.final_exploitability < plain.final_exploitability
    assert plus.method == "regret-matching+ (alternating, linear)"


def test_regret_matching_finds_the_dominant_strategy() -> None:
    res = regret_matching(PRISONERS, 500)
    np.testing.assert_allclose(res.profile[0], [0.0, 1.0], atol=0.01)
    np.testing.assert_allclose(res.last_iterate[1], [0.0, 1.0], atol=1e-12)


def test_regret_matching_from_uniform_on_rps_stays_at_the_equilibrium() -> None:
    res = regret_matching(RPS, 20)
    assert res.final_exploitability == pytest.approx(0.0, abs=1e-15)


def test_random_profile_is_a_seeded_interior_start_that_moves_rps() -> None:
    start = random_profile(RPS, seed=4)
    assert [s.shape for s in start] == [(3,), (3,)]
    assert all(np.all(s > 0) and s.sum() == pytest.approx(1.0) for s in start)
    again = random_profile(RPS, seed=4)
    assert all(np.array_equal(a, b) for a, b in zip(start, again, strict=True))
    assert not np.array_equal(start[0], random_profile(RPS, seed=5)[0])
    res = regret_matching(RPS, 20, initial=start)  # uniform would stay put (test above)
    assert np.ptp(res.exploitability) > 1e-3


def test_iterative_arguments_are_checked() -> None:
    with pytest.raises(InvalidGameError, match="iterations"):
        fictitious_play(RPS, 0)
    with pytest.raises(InvalidGameError, match="record_every"):
        regret_matching(RPS, 10, record_every=0)
    with pytest.raises(InvalidGameError, match="averaging"):
        regret_matching(RPS, 10, averaging="cubic")  # type: ignore[arg-type]
    with pytest.raises(InvalidGameError):
        fictitious_play(RPS, 10, initial=[np.array([0.5, 0.5]), np.ones(3) / 3])


# ----------------------------------------------------------------- replicator dynamics


def test_replicator_cycles_on_rps_single_population() -> None:
    x0 = np.array([0.5, 0.3, 0.2])
    res = replicator_dynamics(RPS, x0, population="single", t_max=60.0)
    assert res.success
    # sum(log x) is a constant of motion for RPS: the orbit is closed, not converging
    h = np.log(res.trajectory[0]).sum(axis=1)
    assert np.ptp(h) <= 1e-6
    assert res.exploitability.min() >= 0.05
    # it really moves around: each strategy is the most played at some time
    assert set(np.argmax(res.trajectory[0], axis=1).tolist()) == {0, 1, 2}


def test_replicator_conserves_the_two_population_constant_on_rps() -> None:
    x0 = [np.array([0.5, 0.3, 0.2]), np.array([0.2, 0.2, 0.6])]
    res = replicator_dynamics(RPS, x0, t_max=40.0)
    h = np.log(res.trajectory[0]).sum(axis=1) + np.log(res.trajectory[1]).sum(axis=1)
    assert np.ptp(h) <= 1e-6
    assert res.exploitability.min() >= 0.05
    assert res.times[0] == 0.0 and res.times[-1] == pytest.approx(40.0)


@pytest.mark.parametrize("population", ["single", "multi"])
def test_replicator_converges_to_the_dominant_strategy(population: Any) -> None:
    x0 = np.array([0.95, 0.05])
    start = x0 if population == "single" else [x0, x0]
    res = replicator_dynamics(PRISONERS, start, population=population, t_max=40.0)
    np.testing.assert_allclose(res.profile[0], [0.0, 1.0], atol=1e-6)
    assert res.final_exploitability <= 1e-6
    assert np.all(np.diff(res.trajectory[0][:, 1]) >= -1e-9)  # defection only grows


def test_replicator_on_a_three_strategy_dominance_game() -> None:
    # strategy 2 strictly dominates, 1 dominates 0: a single population ends on 2
    a = np.array([[1.0, 0.0, 0.0], [2.0, 1.0, 0.5], [3.0, 2.0, 1.0]])
    game = NormalFormGame.from_bimatrix(a, a.T)
    res = replicator_dynamics(game, np.array([0.7, 0.2, 0.1]), population="single", t_max=40)
    np.testing.assert_allclose(res.profile[0], [0.0, 0.0, 1.0], atol=1e-6)


def test_single_population_symmetry_uses_the_game_tolerance() -> None:
    """B == A.T is tested by NormalFormGame.is_symmetric: rounding noise is accepted."""
    a = RPS.payoffs[0]
    noisy = NormalFormGame.from_bimatrix(a, a.T + 1e-11)
    res = replicator_dynamics(noisy, [0.5, 0.3, 0.2], population="single", t_max=1.0)
    assert res.success
    with pytest.raises(UnsupportedGameError, match="symmetric"):
        replicator_dynamics(
            NormalFormGame.from_bimatrix(a, a.T + 1e-6), population="single", t_max=1.0
        )


def test_single_population_needs_a_symmetric_game() -> None:
    with pytest.raises(UnsupportedGameError, match="symmetric"):
        replicator_dynamics(BIASED_PENNIES, np.array([0.5, 0.5]), population="single")
    with pytest.raises(InvalidGameError):
        replicator_dynamics(RPS, population="both")  # type: ignore[arg-type]


# ----------------------------------------------------------------- PSRO


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_psro_with_exact_oracle_solves_random_zero_sum_games(seed: int) -> None:
    rng = np.random.default_rng(seed)
    game = NormalFormGame.zero_sum(rng.normal(size=(30, 25)))
    res = psro(game, iterations=100)
    assert res.converged
    assert res.final_exploitability <= 1e-9
    assert res.profile is not None
    assert exploitability(game, res.profile) <= 1e-9
    assert res.exploitability[0] > 0.1  # the single initial strategy was exploitable
    assert game.expected_payoffs(res.profile)[0] == pytest.approx(
        solve_zero_sum(game.payoffs[0]).value, abs=1e-9
    )
    # populations only hold strategies the oracle added, without repeats
    for pop in res.populations:
        assert len(set(pop)) == len(pop)
    assert len(res.exploitability) == len(res.oracle_nash_conv) == len(res.population_sizes)


def test_psro_exact_oracle_estimate_equals_the_exact_nash_conv() -> None:
    game = NormalFormGame.zero_sum(np.random.default_rng(7).normal(size=(12, 12)))
    res = psro(game, iterations=3)  # stop early so there is something to measure
    queried = ~np.isnan(res.oracle_nash_conv)
    # with an exact best response, the oracle's gain is the NashConv (= 2 x exploitability)
    np.testing.assert_allclose(
        res.oracle_nash_conv[queried], 2 * res.exploitability[queried], atol=1e-9
    )
    assert not res.converged


def test_psro_on_a_general_sum_game_with_nash_meta_solver() -> None:
    rng = np.random.default_rng(3)
    game = NormalFormGame.from_bimatrix(rng.normal(size=(6, 6)), rng.normal(size=(6, 6)))
    res = psro(game, iterations=50)
    assert res.converged
    assert res.profile is not None and exploitability(game, res.profile) <= 1e-9


@pytest.mark.parametrize("meta_solver", ["uniform", "regret-matching"])
def test_psro_other_meta_solvers_run(meta_solver: Any) -> None:
    game = NormalFormGame.zero_sum(np.random.default_rng(5).normal(size=(8, 8)))
    res = psro(game, iterations=10, meta_solver=meta_solver)
    assert len(res.exploitability) >= 2
    for w in res.meta_strategy:
        assert w.sum() == pytest.approx(1.0)


@pytest.mark.parametrize(
    "game", [RPS, NormalFormGame.zero_sum(np.eye(4) - np.roll(np.eye(4), 1, 1))]
)
def test_psro_with_a_uniform_meta_solver_that_stalls_is_not_converged(
    game: NormalFormGame,
) -> None:
    """The oracle adds nothing new, but the uniform mixture is still exploitable."""
    res = psro(game, iterations=20, meta_solver="uniform")
    assert res.final_exploitability > 0.1
    assert res.oracle_nash_conv[-1] > 0.1
    assert not res.converged
    # the same stall under a Nash meta solver is convergence
    nash = psro(game, iterations=20)
    assert nash.converged and nash.final_exploitability <= 1e-9


class _Policy:
    """A stand-in for a trained agent: an object holding a mixed strategy."""

    def __init__(self, strategy: np.ndarray) -> None:
        self.strategy = strategy


def test_psro_with_a_payoff_function_and_object_policies() -> None:
    """The arena's use: policies are opaque objects, payoffs come from "matches"."""
    game = NormalFormGame.zero_sum(np.random.default_rng(11).normal(size=(9, 9)))
    calls: list[int] = []

    def payoff_fn(profile: tuple[Any, ...]) -> np.ndarray:
        calls.append(1)
        return game.expected_payoffs([p.strategy for p in profile])

    def oracle(meta: MetaStrategy, player: int) -> _Policy:
        ((policies, weights),) = meta.opponents(player)
        opponent = sum(w * p.strategy for p, w in zip(policies, weights, strict=True))
        values = game.payoff_vector([opponent, opponent], player)
        best = np.zeros(9)
        best[int(np.argmax(values))] = 1.0
        return _Policy(best)

    uniform = _Policy(np.full(9, 1.0 / 9))
    res = psro(payoff_fn, oracle, initial_policies=[[uniform], [uniform]], iterations=40)
    assert np.isnan(res.exploitability).all()  # no full game to measure against
    # the meta strategy over objects, mapped back to the game, is an equilibrium
    mixed = [
        sum(w * p.strategy for p, w in zip(pop, weights, strict=True))
        for pop, weights in zip(res.populations, res.meta_strategy, strict=True)
    ]
    assert exploitability(game, mixed) <= 1e-9
    assert res.converged and res.oracle_nash_conv[-2] <= 1e-9
    # each pair of policies was evaluated once
    sizes = [len(p) for p in res.populations]
    assert len(calls) == sizes[0] * sizes[1]


def test_psro_with_exact_oracle_helper_and_custom_start() -> None:
    game = NormalFormGame.zero_sum(np.random.default_rng(2).normal(size=(10, 10)))
    res = psro(
        game,
        exact_best_response_oracle(game),
        initial_policies=[[3, 4], [0]],
        meta_solver=lambda g: [
            np.asarray(solve_zero_sum(g.payoffs[0]).row),
            np.asarray(solve_zero_sum(g.payoffs[0]).col),
        ],
    )
    assert res.populations[0][:2] == (3, 4)
    assert res.final_exploitability <= 1e-9


def test_psro_arguments_are_checked() -> None:
    with pytest.raises(InvalidGameError, match="oracle"):
        psro(lambda profile: [0.0, 0.0])
    with pytest.raises(InvalidGameError, match="strategy index"):
        psro(RPS, initial_policies=[[5], [0]])
    with pytest.raises(InvalidGameError, match="meta_solver"):
        psro(RPS, meta_solver="best")  # type: ignore[arg-type]
    with pytest.raises(InvalidGameError, match="one payoff per player"):
        psro(lambda p: [1.0], lambda m, i: object(), initial_policies=[[1], [2]])
