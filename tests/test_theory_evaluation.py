"""Nash averaging and alpha-rank (theory/evaluation.py)."""

from __future__ import annotations

import itertools
import math
from typing import Any

import networkx as nx
import numpy as np
import pytest
from scipy.optimize import linprog, minimize

from theory import evaluation
from theory.equilibria import solve_zero_sum
from theory.errors import InvalidGameError, UnsupportedGameError
from theory.evaluation import (
    alpha_rank,
    antisymmetric_from_win_rates,
    max_entropy_maximin,
    nash_averaging,
    nash_averaging_agent_vs_task,
)
from theory.games import NormalFormGame

RPS = np.array([[0.0, -1.0, 1.0], [1.0, 0.0, -1.0], [-1.0, 1.0, 0.0]])
PRISONERS = NormalFormGame.from_bimatrix([[3, 0], [5, 1]], [[3, 5], [0, 1]])


def _random_antisymmetric(n: int, seed: int) -> np.ndarray:
    x = np.random.default_rng(seed).normal(size=(n, n))
    return x - x.T


def _entropy(p: np.ndarray) -> float:
    q = p[p > 0]
    return float(-np.sum(q * np.log(q)))


def _slsqp_maxent(m: np.ndarray, v: float) -> np.ndarray:
    """An independent (slow, less precise) maxent solve over the whole simplex."""
    n = m.shape[0]
    res = minimize(
        lambda p: float(np.sum(p * np.log(np.maximum(p, 1e-300)))),
        np.full(n, 1.0 / n),
        jac=lambda p: np.log(np.maximum(p, 1e-300)) + 1.0,
        method="SLSQP",
        bounds=[(0.0, 1.0)] * n,
        constraints=[
            {"type": "ineq", "fun": lambda p: m.T @ p - v},
            {"type": "eq", "fun": lambda p: p.sum() - 1.0},
        ],
        options={"ftol": 1e-14, "maxiter": 2000},
    )
    return np.asarray(res.x)


def _maxent_gap(m: np.ndarray, v: float, p: np.ndarray) -> float:
    """Bound on ``max H(q) - H(p)`` over ``P = {q in simplex : m.T q >= v}``; no reference.

    Entropy is concave, so ``H(q) <= H(p) + grad H(p) . (q - p)`` for every ``q`` with no
    mass off ``p``'s support; the largest right-hand side over ``P`` is one LP. A ``q`` in
    ``P`` with mass off the support (found by a second LP) makes the gap infinite: moving
    towards it raises the entropy at an infinite rate.
    """
    n = m.shape[0]
    on = p > 0
    a_ub, b_ub = -m.T, np.full(m.shape[1], -v)
    ones = np.ones((1, n))
    off = linprog(-(~on).astype(float), A_ub=a_ub, b_ub=b_ub, A_eq=ones, b_eq=[1.0])
    assert off.status == 0, off.message
    if -off.fun > 1e-9:
        return math.inf
    grad = np.zeros(n)
    grad[on] = -np.log(p[on]) - 1.0
    bounds = [(0.0, None) if i else (0.0, 0.0) for i in on]
    best = linprog(-grad, A_ub=a_ub, b_ub=b_ub, A_eq=ones, b_eq=[1.0], bounds=bounds)
    assert best.status == 0, best.message
    return float(-best.fun - grad @ p)


def _assert_max_entropy_equilibrium(m: np.ndarray, v: float, p: np.ndarray) -> None:
    """``p`` is a maximin strategy of ``m`` with the largest entropy, to ``1e-7``."""
    assert np.all(p >= 0) and p.sum() == pytest.approx(1.0, abs=1e-12), "not a mixed strategy"
    assert np.min(m.T @ p) >= v - 1e-12, "not an equilibrium"
    assert _maxent_gap(m, v, p) <= 1e-7, "another equilibrium has a larger entropy"


def _at_least_as_good(p: np.ndarray, reference: np.ndarray, tol: float = 1e-7) -> bool:
    return _entropy(p) >= _entropy(reference) - tol


# cvxpy's interior-point answers leave up to ~1e-6 of mass on strategies that are in no
# equilibrium; each such crumb adds up to ~1e-5 of entropy (-x log x is steep near 0)
INTERIOR_POINT_ENTROPY_TOL = 1e-4


# ----------------------------------------------------------------- Nash averaging


def test_nash_averaging_on_rps_is_uniform_with_zero_ratings() -> None:
    res = nash_averaging(RPS, labels=("rock", "paper", "scissors"))
    np.testing.assert_allclose(res.nash, np.full(3, 1 / 3), atol=1e-12)
    np.testing.assert_allclose(res.ratings, 0.0, atol=1e-12)
    assert res.entropy == pytest.approx(math.log(3))
    assert res.support.all()


def test_maxent_splits_mass_between_redundant_copies() -> None:
    # rock twice: the Nash set is {(a, b, 1/3, 1/3) : a + b = 1/3}; maxent has a = b
    idx = [0, 0, 1, 2]
    res = nash_averaging(RPS[np.ix_(idx, idx)])
    np.testing.assert_allclose(res.nash, [1 / 6, 1 / 6, 1 / 3, 1 / 3], atol=1e-10)
    np.testing.assert_allclose(res.ratings, 0.0, atol=1e-12)


@pytest.mark.parametrize("seed", range(4))
def test_nash_averaging_is_invariant_to_redundant_copies(seed: int) -> None:
    """Balduzzi et al.'s key property: copies change no agent's rating."""
    n = 12
    a = _random_antisymmetric(n, seed)
    copies = np.random.default_rng(100 + seed).integers(0, n, size=8).tolist()
    idx = list(range(n)) + copies
    base = nash_averaging(a)
    padded = nash_averaging(a[np.ix_(idx, idx)])
    np.testing.assert_allclose(padded.ratings[:n], base.ratings, atol=1e-10)
    np.testing.assert_allclose(padded.ratings[n:], base.ratings[copies], atol=1e-10)
    # the mass of each original agent is shared equally by it and its copies
    for agent in range(n):
        group = [j for j, i in enumerate(idx) if i == agent]
        np.testing.assert_allclose(padded.nash[group].sum(), base.nash[agent], atol=1e-9)
        np.testing.assert_allclose(padded.nash[group], padded.nash[group[0]], atol=1e-9)


def test_nash_averaging_of_a_transitive_game_rates_by_skill_gap() -> None:
    skill = np.array([0.3, 1.2, -0.5, 0.9])
    res = nash_averaging(skill[:, None] - skill[None, :], labels=("a", "b", "c", "d"))
    np.testing.assert_allclose(res.nash, [0, 1, 0, 0], atol=1e-12)
    np.testing.assert_allclose(res.ratings, skill - skill.max(), atol=1e-12)
    assert res.ranking() == ["b", "d", "a", "c"]


def _copies_game(seed: int) -> np.ndarray:
    a = _random_antisymmetric(5, seed)
    idx = [0, 1, 2, 3, 4, 0, 2, 2]  # copies make the Nash set a polytope, not a point
    return a[np.ix_(idx, idx)]


@pytest.mark.parametrize("seed", range(3))
def test_maxent_is_the_max_entropy_equilibrium_on_non_unique_nash_sets(seed: int) -> None:
    """At least as much entropy as any equilibrium (LP certificate) and as SLSQP's answer.

    SLSQP is a weaker solver whose answer varies by machine, so only the property is
    compared, never the point.
    """
    m = _copies_game(seed)
    p, v = max_entropy_maximin(m, value=0.0)
    assert v == 0.0
    _assert_max_entropy_equilibrium(m, 0.0, p)
    assert _at_least_as_good(p, _slsqp_maxent(m, 0.0))


def test_the_max_entropy_check_rejects_wrong_solutions() -> None:
    m = _copies_game(0)
    p, _ = max_entropy_maximin(m, value=0.0)
    assert p[0] > 0.1 and p[5] > 0.1  # agent 0 and its copy share its mass
    skewed = p.copy()  # still an equilibrium (rows 0 and 5 are equal), less entropy
    skewed[0] += 1e-3
    skewed[5] -= 1e-3
    np.testing.assert_allclose(m.T @ skewed, m.T @ p, atol=1e-15)
    with pytest.raises(AssertionError, match="larger entropy"):
        _assert_max_entropy_equilibrium(m, 0.0, skewed)
    assert not _at_least_as_good(skewed, p)
    merged = p.copy()  # an equilibrium that leaves the copy out: off the maximal support
    merged[0], merged[5] = p[0] + p[5], 0.0
    assert _maxent_gap(m, 0.0, merged) == math.inf
    vertex = np.asarray(solve_zero_sum(m).row)  # an LP vertex equilibrium
    with pytest.raises(AssertionError, match="larger entropy"):
        _assert_max_entropy_equilibrium(m, 0.0, vertex)
    assert not _at_least_as_good(vertex, p)
    with pytest.raises(AssertionError, match="not an equilibrium"):
        _assert_max_entropy_equilibrium(m, 0.0, np.full(8, 1 / 8))
    _assert_max_entropy_equilibrium(m, 0.0, p)  # the right answer passes
    assert _at_least_as_good(p, vertex)


@pytest.mark.parametrize("seed", range(3))
def test_max_entropy_maximin_on_rectangular_games(seed: int) -> None:
    m = np.random.default_rng(seed).integers(-2, 3, size=(6, 8)).astype(float)
    p, v = max_entropy_maximin(m)
    lp = solve_zero_sum(m)
    assert v == pytest.approx(lp.value, abs=1e-12)
    assert np.min(m.T @ p) >= v - 1e-9
    assert _entropy(p) >= _entropy(np.asarray(lp.row)) - 1e-9
    assert _maxent_gap(m, v, p) <= 1e-7


def test_nash_averaging_agent_vs_task() -> None:
    # agent 0 aces task 0, agent 1 aces task 1, agent 2 is mediocre everywhere
    s = np.array([[1.0, -1.0], [-1.0, 1.0], [-0.5, -0.5]])
    res = nash_averaging_agent_vs_task(s)
    np.testing.assert_allclose(res.agent_nash, [0.5, 0.5, 0.0], atol=1e-9)
    np.testing.assert_allclose(res.task_nash, [0.5, 0.5], atol=1e-9)
    np.testing.assert_allclose(res.agent_skill, s @ res.task_nash)
    np.testing.assert_allclose(res.task_difficulty, -s.T @ res.agent_nash)
    np.testing.assert_allclose(res.agent_skill, [0.0, 0.0, -0.5], atol=1e-9)
    assert res.value == pytest.approx(0.0, abs=1e-12)


def test_agent_vs_task_with_a_non_zero_value() -> None:
    # every agent scores positively: the meta-game value is positive, not 0
    s = np.array([[0.9, 0.2, 0.5], [0.4, 0.8, 0.5], [0.3, 0.3, 0.3]])
    res = nash_averaging_agent_vs_task(s)
    lp = solve_zero_sum(s)
    assert res.value == pytest.approx(lp.value, abs=1e-12)
    assert res.agent_nash.sum() == pytest.approx(1.0) and res.task_nash.sum() == pytest.approx(1.0)
    assert np.min(s.T @ res.agent_nash) >= res.value - 1e-9  # agents' maximin
    assert np.max(s @ res.task_nash) <= res.value + 1e-9  # tasks' minimax
    np.testing.assert_allclose(res.agent_skill.max(), res.value, atol=1e-9)
    scaled = nash_averaging_agent_vs_task(s * [[1.0, 10.0, 1.0]], normalize_tasks=True)
    normalised = nash_averaging_agent_vs_task((s - s.min(axis=0)) / (s.max(axis=0) - s.min(axis=0)))
    np.testing.assert_allclose(scaled.agent_nash, normalised.agent_nash, atol=1e-9)


def test_nash_averaging_accepts_a_symmetric_zero_sum_game() -> None:
    game = NormalFormGame.zero_sum(RPS, strategies=[("R", "P", "S"), ("R", "P", "S")])
    assert nash_averaging(game).labels == ("R", "P", "S")


def test_nash_averaging_rejects_non_antisymmetric_input() -> None:
    with pytest.raises(UnsupportedGameError, match="antisymmetric"):
        nash_averaging(np.array([[0.0, 1.0], [1.0, 0.0]]))
    with pytest.raises(UnsupportedGameError, match="antisymmetric"):
        nash_averaging(np.zeros((2, 3)))
    with pytest.raises(UnsupportedGameError, match="zero-sum"):
        nash_averaging(PRISONERS)
    with pytest.raises(InvalidGameError, match="labels"):
        nash_averaging(RPS, labels=("a", "b"))


def test_antisymmetric_from_win_rates() -> None:
    p = np.array([[0.5, 0.8, 0.6], [0.2, 0.5, 0.7], [0.4, 0.3, 0.5]])
    a = antisymmetric_from_win_rates(p)
    np.testing.assert_allclose(a, -a.T)
    assert a[0, 1] == pytest.approx(math.log(0.8 / 0.2))
    np.testing.assert_allclose(antisymmetric_from_win_rates(p, method="centered"), p - 0.5)
    assert np.isfinite(antisymmetric_from_win_rates(np.array([[0.5, 1.0], [0.0, 0.5]]))).all()
    with pytest.raises(InvalidGameError):
        antisymmetric_from_win_rates(np.array([[0.5, 1.5], [0.0, 0.5]]))
    with pytest.raises(InvalidGameError):
        antisymmetric_from_win_rates(p, method="probit")


# ----------------------------------------------------------------- alpha-rank


@pytest.mark.parametrize("alpha", [0.1, 1.0, 10.0, 100.0, math.inf])
@pytest.mark.parametrize("local", [False, True])
def test_alpha_rank_of_rps_is_uniform(alpha: float, local: bool) -> None:
    res = alpha_rank(RPS, alpha=alpha, local_selection=local)
    np.testing.assert_allclose(res.stationary, np.full(3, 1 / 3), atol=1e-12)
    assert res.single_population


def test_multi_population_rps_has_uniform_marginals() -> None:
    # cycling R -> P -> S in both populations maps the game to itself
    res = alpha_rank(NormalFormGame.zero_sum(RPS), alpha=2.0)
    assert not res.single_population and len(res.states) == 9
    for marginal in res.marginals:
        np.testing.assert_allclose(marginal, np.full(3, 1 / 3), atol=1e-12)


@pytest.mark.parametrize("alpha", [1.0, 10.0, 1000.0])
def test_alpha_rank_concentrates_on_the_dominant_strategy(alpha: float) -> None:
    single = alpha_rank(PRISONERS, alpha=alpha, single_population=True)
    multi = alpha_rank(PRISONERS, alpha=alpha)
    assert single.stationary[1] > 0.999
    assert multi.states[int(np.argmax(multi.stationary))] == (1, 1)
    assert multi.marginals[0][1] > 0.999 and multi.marginals[1][1] > 0.999
    assert multi.ranking()[0][0] == "2 / 2"


def test_alpha_rank_mass_grows_with_alpha_on_a_dominance_game() -> None:
    masses = [alpha_rank(PRISONERS, alpha=a).marginals[0][1] for a in (0.0, 0.01, 0.05, 0.2)]
    assert masses[0] == pytest.approx(0.5)  # no selection: neutral drift
    assert all(b > a for a, b in itertools.pairwise(masses))


def _sink_components(game: NormalFormGame) -> set[tuple[int, ...]]:
    """Profiles in the sink strongly connected components of the response graph."""
    graph = nx.DiGraph()
    states = list(np.ndindex(*game.num_strategies))
    graph.add_nodes_from(states)
    for s in states:
        for k, n_k in enumerate(game.num_strategies):
            for b in range(n_k):
                r = (*s[:k], b, *s[k + 1 :])
                if game.payoffs[(k, *r)] > game.payoffs[(k, *s)]:
                    graph.add_edge(s, r)
    condensed = nx.condensation(graph)
    sinks: set[tuple[int, ...]] = set()
    for node in condensed.nodes:
        if condensed.out_degree(node) == 0:
            sinks |= set(condensed.nodes[node]["members"])
    return sinks


@pytest.mark.parametrize("seed", range(5))
def test_large_alpha_concentrates_on_sink_components(seed: int) -> None:
    """Omidshafiei et al.: as alpha grows, mass goes to the response graph's sinks."""
    rng = np.random.default_rng(seed)
    payoffs = np.stack([rng.permutation(16).reshape(4, 4) for _ in range(2)]).astype(float)
    game = NormalFormGame(payoffs)
    sinks = _sink_components(game)
    for res in (alpha_rank(game, alpha=10.0), alpha_rank(game, alpha=math.inf, inf_alpha_eps=1e-6)):
        mass = sum(p for s, p in zip(res.states, res.stationary, strict=True) if s in sinks)
        assert mass >= 0.999


@pytest.mark.parametrize("seed", range(3))
def test_alpha_rank_chain_is_stochastic_and_stationary(seed: int) -> None:
    rng = np.random.default_rng(seed)
    game = NormalFormGame(rng.normal(size=(3, 3, 2, 4)))  # three populations
    res = alpha_rank(game, alpha=0.5, population_size=20)
    np.testing.assert_allclose(res.transition.sum(axis=1), 1.0, atol=1e-12)
    assert np.all(res.transition >= 0)
    np.testing.assert_allclose(res.stationary @ res.transition, res.stationary, atol=1e-12)
    assert len(res.marginals) == 3 and [m.size for m in res.marginals] == [3, 2, 4]
    # multi-population fixation: the closed form with a constant fitness gain
    j = res.states.index((0, 0, 0))
    r = res.states.index((0, 1, 0))
    u = 0.5 * (game.payoffs[1, 0, 1, 0] - game.payoffs[1, 0, 0, 0])
    assert res.fixation[j, r] == pytest.approx((1 - math.exp(-u)) / (1 - math.exp(-20 * u)))


def test_single_population_fixation_follows_the_finite_population_formula() -> None:
    m_size, alpha = 6, 0.7
    payoff = np.random.default_rng(4).normal(size=(3, 3))
    res = alpha_rank(payoff, alpha=alpha, population_size=m_size)
    s, r = 0, 2
    total = 1.0
    prod = 1.0
    for k in range(1, m_size):
        f_r = ((k - 1) * payoff[r, r] + (m_size - k) * payoff[r, s]) / (m_size - 1)
        f_s = (k * payoff[s, r] + (m_size - k - 1) * payoff[s, s]) / (m_size - 1)
        prod *= math.exp(-alpha * (f_r - f_s))
        total += prod
    assert res.fixation[s, r] == pytest.approx(1.0 / total, rel=1e-12)
    local = alpha_rank(payoff, alpha=alpha, population_size=m_size, local_selection=True)
    u = alpha * (payoff[r, s] - payoff[s, r])
    expected = (1 - math.exp(-u)) / (1 - math.exp(-m_size * u))
    assert local.fixation[s, r] == pytest.approx(expected, rel=1e-12)


def test_alpha_rank_stays_accurate_when_rates_underflow() -> None:
    # alpha * gain * m ~ 1e4: exp(-1e4) underflows, the log-space chain does not
    res = alpha_rank(PRISONERS, alpha=100.0, population_size=50)
    assert res.stationary[res.states.index((1, 1))] == pytest.approx(1.0)
    assert np.all(np.isfinite(res.stationary))


def test_single_population_alpha_rank_symmetry_uses_the_game_tolerance() -> None:
    a = np.asarray(PRISONERS.payoffs[0])
    near = NormalFormGame.from_bimatrix(a, a.T + 1e-11)  # rounding noise: accepted
    assert alpha_rank(near, single_population=True).single_population
    # a relative error of 1e-6 passed np.allclose's default rtol=1e-5, but is far above
    # the 1e-9 x scale at which the solvers would treat the game as symmetric
    off = NormalFormGame.from_bimatrix(a, a.T * (1 + 1e-6))
    with pytest.raises(UnsupportedGameError, match="symmetric"):
        alpha_rank(off, single_population=True)


def test_alpha_rank_arguments_are_checked() -> None:
    with pytest.raises(InvalidGameError, match="population_size"):
        alpha_rank(RPS, population_size=1)
    with pytest.raises(InvalidGameError, match="square"):
        alpha_rank(np.zeros((2, 3)))
    with pytest.raises(UnsupportedGameError, match="symmetric"):
        alpha_rank(NormalFormGame.zero_sum([[1, 2], [3, 4]]), single_population=True)
    with pytest.raises(InvalidGameError, match="inf_alpha_eps"):
        alpha_rank(RPS, alpha=math.inf, inf_alpha_eps=0.0)


def test_stationary_law_of_a_chain_with_underflowing_rates() -> None:
    """Birth-death chain: detailed balance gives pi exactly, even at rates exp(-3000)."""
    n = 6
    up = -500.0 * np.arange(1, n)  # log rate k -> k+1
    down = np.zeros(n - 1)  # log rate k+1 -> k
    log_rates = np.full((n, n), -np.inf)
    log_rates[np.arange(n - 1), np.arange(1, n)] = up
    log_rates[np.arange(1, n), np.arange(n - 1)] = down
    pi = evaluation._stationary(log_rates)
    log_expected = np.concatenate([[0.0], np.cumsum(up - down)])
    expected = np.exp(log_expected - np.logaddexp.reduce(log_expected))
    assert pi[0] == pytest.approx(1.0)
    # the tiny masses keep their relative accuracy instead of underflowing to zero
    assert pi[1] == pytest.approx(expected[1], rel=1e-12)
    assert pi[1] > 0.0


# ----------------------------------------------------------------- OpenSpiel cross-checks


def _openspiel_alpharank() -> Any:
    pytest.importorskip("open_spiel")
    from open_spiel.python.egt import alpharank

    return alpharank


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("alpha", [0.3, 2.0])
@pytest.mark.parametrize("local", [True, False])
def test_single_population_alpha_rank_matches_openspiel(
    seed: int, alpha: float, local: bool
) -> None:
    alpharank = _openspiel_alpharank()
    payoff = np.random.default_rng(seed).normal(size=(4, 4))
    _, _, pi, _, _ = alpharank.compute([payoff], m=20, alpha=alpha, use_local_selection_model=local)
    ours = alpha_rank(payoff, alpha=alpha, population_size=20, local_selection=local)
    np.testing.assert_allclose(ours.stationary, pi, atol=1e-9)


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("alpha", [0.3, 2.0, math.inf])
def test_multi_population_alpha_rank_matches_openspiel(seed: int, alpha: float) -> None:
    alpharank = _openspiel_alpharank()
    payoffs = np.random.default_rng(seed).normal(size=(2, 3, 4))
    inf = math.isinf(alpha)
    _, _, pi, _, _ = alpharank.compute(
        list(payoffs),
        m=20,
        alpha=1.0 if inf else alpha,
        use_inf_alpha=inf,
        inf_alpha_eps=0.01,
    )
    ours = alpha_rank(NormalFormGame(payoffs), alpha=alpha, population_size=20)
    # OpenSpiel orders profiles as np.ndindex does (first population slowest)
    np.testing.assert_allclose(ours.stationary, pi, atol=1e-9)


def test_infinite_alpha_single_population_matches_openspiel() -> None:
    alpharank = _openspiel_alpharank()
    payoff = np.random.default_rng(9).normal(size=(5, 5))
    _, _, pi, _, _ = alpharank.compute(
        [payoff], m=20, alpha=1.0, use_inf_alpha=True, inf_alpha_eps=0.01
    )
    ours = alpha_rank(payoff, alpha=math.inf, population_size=20, local_selection=True)
    np.testing.assert_allclose(ours.stationary, pi, atol=1e-9)


def _openspiel_nash_averaging() -> Any:
    pytest.importorskip("open_spiel")
    pytest.importorskip("cvxpy")  # OpenSpiel solves the entropy program with cvxpy
    from open_spiel.python.algorithms import nash_averaging as os_nash_averaging

    return os_nash_averaging


@pytest.mark.parametrize("seed", range(3))
def test_nash_averaging_agrees_with_openspiel(seed: int) -> None:
    """OpenSpiel (cvxpy) solves the same program: its answer is an equilibrium of our
    meta-game, ours has at least its entropy, and its ratings follow our ``A @ nash``."""
    os_nash_averaging = _openspiel_nash_averaging()
    import pyspiel

    a = _random_antisymmetric(5, seed)
    # two copies of agent 0 make the Nash set non-unique, so the max-entropy choice matters
    copies = [0, 1, 2, 3, 4, 0]
    a = a[np.ix_(copies, copies)]
    game = pyspiel.create_matrix_game(a.tolist(), (-a).tolist())
    nash, ratings = os_nash_averaging.nash_averaging(game)
    theirs = np.clip(np.ravel(nash), 0.0, None)  # interior-point: accurate to about 1e-7
    ours = nash_averaging(a)
    _assert_max_entropy_equilibrium(a, 0.0, np.asarray(ours.nash))
    assert np.min(a.T @ theirs) >= -1e-6 and theirs.sum() == pytest.approx(1.0, abs=1e-6)
    assert _at_least_as_good(np.asarray(ours.nash), theirs, INTERIOR_POINT_ENTROPY_TOL)
    np.testing.assert_allclose(np.ravel(ratings), a @ np.ravel(nash), atol=1e-12)
    np.testing.assert_allclose(ours.ratings, a @ ours.nash, atol=1e-12)


@pytest.mark.parametrize("seed", range(3))
def test_agent_vs_task_nash_averaging_agrees_with_openspiel(seed: int) -> None:
    os_nash_averaging = _openspiel_nash_averaging()
    scores = np.random.default_rng(seed).normal(size=(5, 4))
    (agent_nash, task_nash), (skill, difficulty) = os_nash_averaging.nash_averaging_avt_matrix(
        scores
    )
    x, y = (np.clip(np.ravel(t), 0.0, None) for t in (agent_nash, task_nash))
    ours = nash_averaging_agent_vs_task(scores, normalize_tasks=True)
    s = (scores - scores.min(axis=0)) / (scores.max(axis=0) - scores.min(axis=0))
    # both answers are equilibria of the same normalised game ...
    for agents, tasks, tol in ((ours.agent_nash, ours.task_nash, 1e-9), (x, y, 1e-6)):
        assert np.min(s.T @ agents) >= ours.value - tol
        assert np.max(s @ tasks) <= ours.value + tol
    # ... ours with the most entropy, and the ratings follow the same conventions
    _assert_max_entropy_equilibrium(s, ours.value, np.asarray(ours.agent_nash))
    _assert_max_entropy_equilibrium(-s.T, -ours.value, np.asarray(ours.task_nash))
    assert _at_least_as_good(np.asarray(ours.agent_nash), x, INTERIOR_POINT_ENTROPY_TOL)
    assert _at_least_as_good(np.asarray(ours.task_nash), y, INTERIOR_POINT_ENTROPY_TOL)
    np.testing.assert_allclose(np.ravel(skill), s @ np.ravel(task_nash), atol=1e-12)
    np.testing.assert_allclose(np.ravel(difficulty), -s.T @ np.ravel(agent_nash), atol=1e-12)
    np.testing.assert_allclose(ours.agent_skill, s @ ours.task_nash, atol=1e-12)
    np.testing.assert_allclose(ours.task_difficulty, -s.T @ ours.agent_nash, atol=1e-12)
