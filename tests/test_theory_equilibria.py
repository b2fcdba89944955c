"""Equilibrium solvers: known games with known answers, cross-checks, properties."""

from __future__ import annotations

import importlib
import sys
import types
import warnings
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.optimize import linprog

import theory.equilibria.sequential as sequential_module
import theory.equilibria.zero_sum as zero_sum_module
from theory.equilibria import (
    DegenerateGameWarning,
    Equilibrium,
    best_response,
    degeneracy_report,
    exploitability,
    is_degenerate,
    is_equilibrium,
    lemke_howson,
    lemke_howson_all,
    lemke_howson_search,
    nash_conv,
    pure_equilibria,
    solve,
    solve_zero_sum,
    solve_zero_sum_first_order,
    spne,
    stackelberg_commitment,
    support_enumeration,
    verify_equilibrium,
    vertex_enumeration,
)
from theory.equilibria.lemke import _exact_path
from theory.equilibria.zero_sum import ZeroSumSolution
from theory.errors import (
    InvalidGameError,
    IterationLimitError,
    NumericalError,
    SolverTimeLimitError,
    UnsupportedGameError,
)
from theory.games import LeaderFollowerGame, NormalFormGame

# The package exports a function named solve, which hides the submodule attribute.
solve_module = importlib.import_module("theory.equilibria.solve")

MATCHING_PENNIES = NormalFormGame.zero_sum([[1, -1], [-1, 1]])
RPS = NormalFormGame.zero_sum([[0, -1, 1], [1, 0, -1], [-1, 1, 0]])
BATTLE_OF_SEXES = NormalFormGame.from_bimatrix([[2, 0], [0, 1]], [[1, 0], [0, 2]])
SHAPLEY = NormalFormGame.from_bimatrix(
    [[0, 1, 0], [0, 0, 1], [1, 0, 0]], [[0, 0, 1], [1, 0, 0], [0, 1, 0]]
)
# The degenerate variant of the 3x2 example in von Stengel (2002), "Computing equilibria
# for two-person games": the top row has two best responses, so equilibria form a continuum.
DEGENERATE = NormalFormGame.from_bimatrix([[3, 3], [2, 5], [0, 6]], [[3, 3], [2, 6], [3, 1]])


def profiles(equilibria: list[Equilibrium]) -> list[list[list[float]]]:
    return [[np.round(s, 9).tolist() for s in eq.strategies] for eq in equilibria]


def as_set(equilibria: list[Equilibrium]) -> set[tuple[float, ...]]:
    return {tuple(np.round(np.concatenate(eq.strategies), 7) + 0.0) for eq in equilibria}


def random_game(seed: int, m: int, n: int) -> NormalFormGame:
    rng = np.random.default_rng(seed)
    return NormalFormGame.from_bimatrix(rng.normal(size=(m, n)), rng.normal(size=(m, n)))


# -- zero-sum --------------------------------------------------------------------------


def test_matching_pennies_lp() -> None:
    sol = solve_zero_sum(MATCHING_PENNIES)
    assert np.allclose(sol.row, [0.5, 0.5]) and np.allclose(sol.col, [0.5, 0.5])
    assert abs(sol.value) < 1e-12
    assert sol.gap < 1e-12


def test_rps_lp_and_exploitability() -> None:
    sol = solve_zero_sum(RPS.payoffs[0])
    assert np.allclose(sol.row, 1 / 3) and np.allclose(sol.col, 1 / 3)
    assert exploitability(RPS, [sol.row, sol.col]) < 1e-12
    # Pure rock is exploited by paper: NashConv = 1 (column gains 1) + 1 (row gains 1).
    rock = np.array([1.0, 0.0, 0.0])
    assert nash_conv(RPS, [rock, rock]) == pytest.approx(2.0)
    assert exploitability(RPS, [rock, rock]) == pytest.approx(1.0)
    assert best_response(RPS, [rock, rock], 1).tolist() == [0.0, 1.0, 0.0]


def test_zero_sum_value_of_a_game_with_a_saddle_point() -> None:
    A = np.array([[3.0, 1.0, 4.0], [2.0, 0.5, 0.0], [5.0, 0.9, 1.5]])
    sol = solve_zero_sum(A)
    assert sol.value == pytest.approx(1.0)
    assert sol.row.tolist() == pytest.approx([1.0, 0.0, 0.0])
    assert sol.col.tolist() == pytest.approx([0.0, 1.0, 0.0])


def test_lp_refuses_general_sum_game() -> None:
    with pytest.raises(InvalidGameError, match="zero-sum"):
        solve_zero_sum(BATTLE_OF_SEXES)
    with pytest.raises(UnsupportedGameError, match="zero-sum"):
        solve(BATTLE_OF_SEXES, "lp")


def test_lp_on_large_game_uses_interior_point_and_is_exact() -> None:
    A = np.random.default_rng(0).uniform(size=(400, 300))
    sol = solve_zero_sum(A)
    assert sol.gap < 1e-10
    assert sol.row.sum() == pytest.approx(1.0) and sol.col.sum() == pytest.approx(1.0)


def test_first_order_reaches_tolerance_and_matches_lp() -> None:
    A = np.random.default_rng(1).uniform(size=(60, 40))
    approx = solve_zero_sum_first_order(A, tol=1e-4)
    exact = solve_zero_sum(A)
    game = NormalFormGame.zero_sum(A)
    assert exploitability(game, [approx.row, approx.col]) <= 1e-4
    assert approx.gap <= 2e-4
    assert approx.value == pytest.approx(exact.value, abs=2e-4)


def test_first_order_raises_when_it_cannot_reach_tolerance() -> None:
    A = np.random.default_rng(2).uniform(size=(30, 30))
    with pytest.raises(NumericalError, match="max_iters"):
        solve_zero_sum_first_order(A, tol=1e-12, max_iters=5)


def _spy_lp_sizes(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int]]:
    """Record the shape of every LP that solve_zero_sum hands to HiGHS."""
    sizes: list[tuple[int, int]] = []
    real = zero_sum_module._lp_strategies

    def spy(M: np.ndarray, time_limit: float | None) -> tuple[np.ndarray, np.ndarray]:
        sizes.append(M.shape)
        return real(M, time_limit)

    monkeypatch.setattr(zero_sum_module, "_lp_strategies", spy)
    return sizes


def _full_lp_only(A: np.ndarray, monkeypatch: pytest.MonkeyPatch) -> ZeroSumSolution:
    with monkeypatch.context() as patch:
        patch.setattr(zero_sum_module, "RESTRICTED_MIN_ENTRIES", 10**12)
        return solve_zero_sum(A)


def _without_simplex_walk(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the simplex walk from the RM+ guess give up, so the restricted LP runs."""
    monkeypatch.setattr(zero_sum_module, "solve_from_basis", lambda *args: None)


@pytest.mark.parametrize(("seed", "dist"), [(0, "normal"), (1, "normal"), (2, "uniform")])
def test_restricted_lp_agrees_with_full_lp(
    seed: int, dist: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = np.random.default_rng(seed)
    A = rng.normal(size=(600, 600)) if dist == "normal" else rng.uniform(size=(600, 600))
    _without_simplex_walk(monkeypatch)
    sizes = _spy_lp_sizes(monkeypatch)
    fast = solve_zero_sum(A)
    assert len(sizes) == 1 and max(sizes[0]) < 600  # only the sub-game LP ran
    full = _full_lp_only(A, monkeypatch)
    assert sizes[1] == (600, 600)
    assert fast.value == pytest.approx(full.value, abs=1e-9)
    assert fast.gap <= 1e-10
    assert exploitability(NormalFormGame.zero_sum(A), [fast.row, fast.col]) <= 1e-10


def test_restricted_lp_adds_violators_then_falls_back(monkeypatch: pytest.MonkeyPatch) -> None:
    A = np.random.default_rng(3).normal(size=(600, 600))
    exact = _full_lp_only(A, monkeypatch)
    _without_simplex_walk(monkeypatch)
    sizes = _spy_lp_sizes(monkeypatch)
    # A sub-game far smaller than the ~300-strategy supports must miss some of them.
    monkeypatch.setattr(zero_sum_module, "CANDIDATE_FACTOR", 0.6)
    sol = solve_zero_sum(A)
    assert len(sizes) >= 2 and sizes[1][0] > sizes[0][0]  # violators were added
    assert sol.value == pytest.approx(exact.value, abs=1e-9) and sol.gap <= 1e-10
    sizes.clear()
    monkeypatch.setattr(zero_sum_module, "RESTRICTED_ROUNDS", 1)
    sol = solve_zero_sum(A)
    assert sizes[-1] == (600, 600)  # the unverified guess was dropped for the full LP
    assert sol.value == pytest.approx(exact.value, abs=1e-9) and sol.gap <= 1e-10


def test_time_limit_names_the_whole_game_when_the_restricted_lp_runs() -> None:
    A = np.random.default_rng(5).normal(size=(600, 600))
    with pytest.raises(SolverTimeLimitError, match=r"600x600 zero-sum LP within 0\.0001 s"):
        solve_zero_sum(A, time_limit=1e-4)


@pytest.mark.parametrize("kind", ["ternary", "rank3", "duplicated"])
def test_restricted_lp_on_degenerate_large_games(
    kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = np.random.default_rng(4)
    if kind == "ternary":  # integer payoffs: many ties, degenerate
        A = rng.integers(-1, 2, size=(600, 600)).astype(float)
    elif kind == "rank3":
        A = rng.normal(size=(600, 3)) @ rng.normal(size=(3, 600))
    else:  # every column twice: equilibria are not unique
        A = np.repeat(rng.normal(size=(600, 300)), 2, axis=1)
    sol = solve_zero_sum(A)
    exact = _full_lp_only(A, monkeypatch)
    scale = max(1.0, float(np.ptp(A)))
    assert exploitability(NormalFormGame.zero_sum(A), [sol.row, sol.col]) <= 1e-9 * scale
    assert sol.value == pytest.approx(exact.value, abs=1e-9 * scale)
    assert (sol.row @ A).min() >= sol.value - 1e-9 * scale
    assert (A @ sol.col).max() <= sol.value + 1e-9 * scale


# -- general-sum ---------------------------------------------------------------------------


def test_battle_of_the_sexes_all_methods() -> None:
    expected = [[[1, 0], [1, 0]], [[0, 1], [0, 1]], [[2 / 3, 1 / 3], [1 / 3, 2 / 3]]]
    for method in (support_enumeration, vertex_enumeration):
        found = profiles(method(BATTLE_OF_SEXES))
        assert len(found) == 3
        for got, want in zip(found, expected, strict=True):
            assert np.allclose(np.concatenate(got), np.concatenate(want))  # type: ignore[call-overload]
    # Lemke-Howson from each label finds the pure equilibria (the mixed one has index -1).
    assert as_set(lemke_howson_all(BATTLE_OF_SEXES)) == as_set(
        vertex_enumeration(BATTLE_OF_SEXES)[:2]
    )
    assert not is_degenerate(BATTLE_OF_SEXES)


def test_shapley_game_has_only_the_uniform_equilibrium() -> None:
    for method in (support_enumeration, vertex_enumeration, lemke_howson_all):
        found = method(SHAPLEY)
        assert len(found) == 1
        assert np.allclose(np.concatenate(found[0].strategies), 1 / 3)
    assert not is_degenerate(SHAPLEY)


def test_zero_sum_games_by_enumeration_agree_with_lp() -> None:
    for game in (MATCHING_PENNIES, RPS):
        (eq,) = vertex_enumeration(game)
        sol = solve_zero_sum(game)
        assert np.allclose(eq.strategies[0], sol.row) and np.allclose(eq.strategies[1], sol.col)


def test_degenerate_game_is_detected_and_extreme_equilibria_found() -> None:
    report = degeneracy_report(DEGENERATE)
    assert report.degenerate and report.exhaustive
    assert report.witness is not None and "support ['1']" in report.witness
    assert "2 pure best responses" in report.witness
    extreme = profiles(vertex_enumeration(DEGENERATE))
    want = [
        [[1, 0, 0], [1, 0]],
        [[1, 0, 0], [2 / 3, 1 / 3]],
        [[0, 1 / 3, 2 / 3], [1 / 3, 2 / 3]],
    ]
    assert len(extreme) == 3
    for w in want:
        assert any(np.allclose(np.concatenate(g), np.concatenate(w)) for g in extreme)  # type: ignore[call-overload]
    # The segment between the first two extreme equilibria is made of equilibria too.
    mid = (np.array([1.0, 0.0]) + np.array([2 / 3, 1 / 3])) / 2
    assert nash_conv(DEGENERATE, [np.array([1.0, 0, 0]), mid]) < 1e-12
    with pytest.warns(DegenerateGameWarning, match="degenerate"):
        support_enumeration(DEGENERATE)
    result = solve(DEGENERATE)
    assert result.degenerate and result.method == "vertex" and len(result.equilibria) == 3


def test_degenerate_game_lemke_howson_still_returns_equilibria() -> None:
    for eq in lemke_howson_all(DEGENERATE):
        assert nash_conv(DEGENERATE, eq.strategies) < 1e-9


@pytest.mark.parametrize("seed", range(6))
def test_random_games_methods_agree(seed: int) -> None:
    game = random_game(seed, 6, 5)
    assert not is_degenerate(game)
    support = as_set(support_enumeration(game))
    vertex = as_set(vertex_enumeration(game))
    assert support == vertex
    assert len(vertex) % 2 == 1  # nondegenerate games have an odd number of equilibria
    assert as_set(lemke_howson_all(game)) <= vertex


def test_random_games_agree_with_nashpy_vertex_enumeration() -> None:
    nashpy = pytest.importorskip("nashpy")
    for seed in range(3):
        game = random_game(100 + seed, 5, 5)
        A, B = game.bimatrix()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            theirs = {
                tuple(np.round(np.concatenate(p), 7) + 0.0)
                for p in nashpy.Game(A, B).vertex_enumeration()
            }
        assert as_set(vertex_enumeration(game)) == theirs


def _gambit_extreme_set(
    gbt: types.ModuleType, A: np.ndarray, B: np.ndarray
) -> set[tuple[float, ...]]:
    """Gambit's enummixed extreme equilibria of the bimatrix game (A, B), rounded."""
    # Exact rationals of the float payoffs, so Gambit solves the very same game.
    exact = [np.vectorize(Fraction, otypes=[object])(M) for M in (A, B)]
    g = gbt.StrategicGame.from_arrays(*exact)
    out = set()
    for eq in gbt.nash.enummixed_solve(g, rational=True).equilibria:
        flat = [float(v) for player in list(g.players) for _, v in eq[player]]
        out.add(tuple(np.round(flat, 7) + 0.0))
    return out


@pytest.mark.parametrize("m,n,seeds", [(3, 3, 3), (4, 6, 2), (6, 6, 2), (7, 5, 1)])
def test_random_games_agree_with_pygambit(m: int, n: int, seeds: int) -> None:
    gbt = pytest.importorskip("pygambit", reason="pygambit is not installed here")
    for seed in range(seeds):
        game = random_game(1000 * m + 10 * n + seed, m, n)
        report = degeneracy_report(game)
        assert not report.degenerate and report.exhaustive
        ours = as_set(vertex_enumeration(game))
        assert ours == _gambit_extreme_set(gbt, *game.bimatrix())
        assert as_set(support_enumeration(game, warn=False)) == ours


def _catalog_bimatrices(gbt: types.ModuleType) -> list[tuple[str, np.ndarray, np.ndarray]]:
    out = []
    for slug in gbt.catalog.games()["Game"]:
        g = gbt.catalog.load(slug)
        if len(list(g.players)) != 2:
            continue
        A, B = (np.asarray(M, dtype=np.float64) for M in g.to_arrays())
        out.append((slug, A, B))
    return out


def test_catalog_games_agree_with_pygambit_enummixed() -> None:
    gbt = pytest.importorskip("pygambit", reason="pygambit is not installed here")
    checked = []
    for slug, A, B in _catalog_bimatrices(gbt):
        game = NormalFormGame.from_bimatrix(A, B)
        ours = as_set(vertex_enumeration(game))
        report = degeneracy_report(game)
        if report.degenerate or not report.exhaustive:
            continue
        assert ours == _gambit_extreme_set(gbt, A, B), slug
        checked.append(slug)
    assert "journals/dcg/vonstengel1999/6x6_game_with_75_eq" in checked
    assert len(checked) >= 5


def test_lemke_howson_label_range_and_large_game() -> None:
    with pytest.raises(InvalidGameError, match="initial_label"):
        lemke_howson(BATTLE_OF_SEXES, 4)
    game = random_game(11, 40, 40)
    for label in (0, 39, 40, 79):
        assert lemke_howson(game, label).exploitability < 1e-9


# Found by a stress test: from label 0 the float tableau must pivot on an entry of 1e-9,
# which wipes out nine digits; the exact integer-pivoting path takes over.
NEAR_DEGENERATE = NormalFormGame.from_bimatrix(
    [[10.0, -1.0, 1 / 3], [3.5, 0.0, 1e-09], [10.0, 0.0, 0.5]],
    [[1 / 3, 1 / 3, 1.1920929e-07], [0.0, 1 / 3, 1.0], [1e-09, 0.0, -1e-07]],
)


def test_lemke_howson_falls_back_to_exact_pivoting() -> None:
    eq = lemke_howson(NEAR_DEGENERATE, 0)
    assert eq.exploitability < 1e-12
    assert as_set([eq]) <= as_set(vertex_enumeration(NEAR_DEGENERATE))


@pytest.mark.parametrize("seed", range(3))
def test_exact_integer_path_matches_float_path(seed: int) -> None:
    game = random_game(200 + seed, 5, 4)
    A, B = game.bimatrix()
    for label in range(9):
        x, y = _exact_path(A, B, label, 1000)
        eq = lemke_howson(game, label)
        assert np.allclose(x / x.sum(), eq.strategies[0], atol=1e-9)
        assert np.allclose(y / y.sum(), eq.strategies[1], atol=1e-9)


def test_pure_equilibria_three_players() -> None:
    payoffs = np.zeros((3, 2, 2, 2))
    payoffs[:, 0, 0, 0] = 1.0
    payoffs[:, 1, 1, 1] = 2.0
    game = NormalFormGame(payoffs)
    found = pure_equilibria(game)
    assert [tuple(int(np.argmax(s)) for s in eq.strategies) for eq in found] == [
        (0, 0, 0),
        (1, 1, 1),
    ]
    result = solve(game)
    assert result.method == "pure" and not result.degeneracy_exhaustive
    with pytest.raises(UnsupportedGameError, match="two-player"):
        vertex_enumeration(game)


def test_nash_conv_three_players_by_hand() -> None:
    payoffs = np.zeros((3, 2, 2, 2))
    payoffs[:, 0, 0, 0] = 1.0
    payoffs[:, 1, 1, 1] = 2.0
    game = NormalFormGame(payoffs)
    # Everyone plays 0 except player 3: all get 0; players 1 and 2 cannot gain
    # alone, player 3 gains 1 by switching to 0.
    profile = [np.array([1.0, 0.0]), np.array([1.0, 0.0]), np.array([0.0, 1.0])]
    assert nash_conv(game, profile) == pytest.approx(1.0)
    assert exploitability(game, profile) == pytest.approx(1 / 3)


def test_verify_equilibrium_rejects_a_non_equilibrium() -> None:
    with pytest.raises(NumericalError, match="NashConv"):
        verify_equilibrium(RPS, [np.array([1.0, 0, 0]), np.array([1.0, 0, 0])])


def test_solve_auto_methods_and_errors() -> None:
    assert solve(MATCHING_PENNIES).method == "lp"
    assert solve(BATTLE_OF_SEXES).method == "vertex"
    assert solve(random_game(3, 30, 30)).method == "lemke-howson"
    assert solve(MATCHING_PENNIES, "first-order").equilibria[0].exploitability <= 1e-3
    with pytest.raises(InvalidGameError, match="unknown method"):
        solve(MATCHING_PENNIES, "magic")


# -- Stackelberg and SPNE ------------------------------------------------------------------


def test_stackelberg_known_game() -> None:
    # The classic commitment example: U dominates, so the Nash payoff is 2; committing to
    # mix 1/2, 1/2 makes the follower indifferent, it breaks the tie for r, leader gets 3.5.
    game = NormalFormGame.from_bimatrix([[2, 4], [1, 3]], [[1, 0], [0, 1]])
    sol = stackelberg_commitment(game)
    assert sol.follower_action == 1
    assert sol.leader_value == pytest.approx(3.5)
    assert sol.leader_strategy.tolist() == pytest.approx([0.5, 0.5])
    (nash,) = vertex_enumeration(game)
    assert nash.strategies[0].tolist() == [1.0, 0.0]
    assert sol.leader_value > game.expected_payoffs(nash.strategies)[0]


def test_spne_tie_breaking_rules() -> None:
    game = LeaderFollowerGame([[3, 1], [4, 0], [2, 2]], [[1, 1], [0, 2], [1, 0]])
    favorable = spne(game, "leader-favorable")
    assert favorable.leader_action == 0 and favorable.leader_value == 3.0
    assert favorable.follower_policy.tolist() == [[1, 0], [0, 1], [1, 0]]
    adverse = spne(game, "leader-adverse")
    assert adverse.leader_action == 2 and adverse.leader_value == 2.0
    assert adverse.follower_policy[0].tolist() == [0, 1]
    first = spne(game, "first")
    assert first.follower_policy[0].tolist() == [1, 0]
    uniform = spne(game, "uniform")
    assert uniform.follower_policy[0].tolist() == [0.5, 0.5]
    with pytest.raises(InvalidGameError, match="tie_break"):
        spne(game, "random")


@pytest.mark.parametrize("seed", range(4))
def test_spne_is_a_nash_equilibrium_of_the_normal_form(seed: int) -> None:
    rng = np.random.default_rng(seed)
    game = LeaderFollowerGame(rng.integers(0, 4, (3, 3)), rng.integers(0, 4, (3, 3)))
    sol = spne(game)
    replies = tuple(int(np.argmax(row)) for row in sol.follower_policy)
    column = game.follower_strategies().index(replies)
    follower = np.zeros(3**3)
    follower[column] = 1.0
    nf = game.to_normal_form()
    assert nash_conv(nf, [sol.leader_strategy, follower]) < 1e-12
    assert nf.expected_payoffs([sol.leader_strategy, follower])[0] == pytest.approx(
        sol.leader_value
    )


# -- properties ----------------------------------------------------------------------------

small_int_games = st.tuples(st.integers(1, 4), st.integers(1, 4)).flatmap(
    lambda shape: st.tuples(
        arrays(np.int64, shape, elements=st.integers(-3, 3)),
        arrays(np.int64, shape, elements=st.integers(-3, 3)),
    )
)
float_matrices = st.tuples(st.integers(1, 6), st.integers(1, 6)).flatmap(
    lambda shape: arrays(np.float64, shape, elements=st.floats(-10, 10, allow_nan=False, width=32))
)
PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(small_int_games)
def test_property_every_returned_profile_has_tiny_exploitability(
    pair: tuple[np.ndarray, np.ndarray],
) -> None:
    game = NormalFormGame.from_bimatrix(*pair)
    found = vertex_enumeration(game) + lemke_howson_all(game)
    assert found  # every finite game has an equilibrium
    for eq in found:
        assert eq.exploitability <= 1e-8
        assert exploitability(game, eq.strategies) <= 1e-8
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DegenerateGameWarning)
        for eq in support_enumeration(game):
            assert eq.exploitability <= 1e-8
    if not is_degenerate(game):
        assert as_set(support_enumeration(game, warn=False)) == as_set(vertex_enumeration(game))


@PROPERTY
@given(float_matrices)
def test_property_zero_sum_value_matches_lp_duality(A: np.ndarray) -> None:
    sol = solve_zero_sum(A)
    tol = 1e-9 * max(1.0, float(np.ptp(A)))
    # Weak duality made tight: the maximin guarantee equals the minimax cap.
    assert (sol.row @ A).min() >= sol.value - tol
    assert (A @ sol.col).max() <= sol.value + tol
    # And equals the optimum of an independently solved column-player LP.
    m, n = A.shape
    res = linprog(
        np.r_[np.zeros(n), 1.0],
        A_ub=np.c_[A, -np.ones(m)],
        b_ub=np.zeros(m),
        A_eq=np.r_[np.ones(n), 0.0][None, :],
        b_eq=[1.0],
        bounds=[(0, None)] * n + [(None, None)],
        method="highs",
    )
    assert res.fun == pytest.approx(sol.value, abs=1e-7 * max(1.0, float(np.ptp(A))))
    assert exploitability(NormalFormGame.zero_sum(A), [sol.row, sol.col]) <= 1e-8 * max(
        1.0, float(np.ptp(A))
    )


@PROPERTY
@given(small_int_games, st.sampled_from([0, 1]))
def test_property_stackelberg_value_at_least_nash_value(
    pair: tuple[np.ndarray, np.ndarray], leader: int
) -> None:
    game = NormalFormGame.from_bimatrix(*pair)
    sol = stackelberg_commitment(game, leader)
    for eq in vertex_enumeration(game):
        nash_value = game.expected_payoffs(eq.strategies)[leader]
        assert sol.leader_value >= nash_value - 1e-9


# -- review fixes ----------------------------------------------------------------------


def test_solve_auto_on_100x100_skips_long_lemke_howson_paths() -> None:
    # In this game labels 1, 8, 9, 40, ... need more than 50 (m + n) = 10000 pivots; the
    # search used to raise on label 1. Now they are skipped and listed in the note.
    game = random_game(1, 100, 100)
    result = solve(game)
    assert result.method == "lemke-howson"
    assert len(result.equilibria) > 1
    for eq in result.equilibria:
        assert nash_conv(game, eq.strategies) <= 1e-9 * game.payoff_scale()
    assert "skipped labels 1, 8-9, 40" in result.note
    assert "longer than 10000 pivots" in result.note


def test_lemke_howson_search_limits() -> None:
    game = random_game(11, 40, 40)
    with pytest.raises(IterationLimitError, match="within 3 pivots"):
        lemke_howson(game, 0, max_pivots=3)
    with pytest.raises(IterationLimitError, match="no label"):
        lemke_howson_search(game, max_pivots=1)  # every path needs at least two pivots
    search = lemke_howson_search(game, max_pivots=45)
    assert search.equilibria and set(search.skipped.values()) == {"pivot limit"}
    assert len(search.skipped) < 80
    with pytest.raises(SolverTimeLimitError, match="no label"):
        solve(game, "lemke-howson", time_limit=1e-9)


def test_lemke_howson_time_budget_skips_the_remaining_labels(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A fake clock that advances 10 ms per reading makes the budget deterministic.
    ticks = iter(range(10**6))
    clock = types.SimpleNamespace(perf_counter=lambda: next(ticks) * 0.01)
    monkeypatch.setattr(sys.modules["theory.equilibria.lemke"], "time", clock)
    result = solve(random_game(11, 40, 40), "lemke-howson", time_limit=0.5)
    assert result.equilibria
    assert "(time limit 0.5 s)" in result.note and "-79 (time limit" in result.note


def test_verify_equilibrium_fails_on_an_infinite_scale(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(NormalFormGame, "payoff_scale", lambda self: np.inf)
    profile = [np.array([0.5, 0.5]), np.array([0.5, 0.5])]
    with pytest.raises(NumericalError, match="NashConv"):
        verify_equilibrium(MATCHING_PENNIES, profile)
    assert not is_equilibrium(MATCHING_PENNIES, profile)


def test_huge_finite_payoffs_are_solved_in_units_of_their_range() -> None:
    game = NormalFormGame.from_bimatrix([[1e308, 0.0], [0.0, 1e307]], [[1.0, 0.0], [0.0, 2.0]])
    for method in ("vertex", "support", "lemke-howson"):
        for eq in solve(game, method).equilibria:
            assert nash_conv(game, eq.strategies) <= 1e-9 * game.payoff_scale()


def test_zero_sum_gap_is_held_to_the_verification_tolerance(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Matching pennies (range 2): a row strategy 1.5e-9 off uniform has duality gap
    # 3e-9, above verify_equilibrium's 1e-9 x 2 but below the old 2 x 1e-9 x 2.
    d = 1.5e-9
    fake = (np.array([0.5 + d, 0.5 - d]), np.array([0.5, 0.5]))
    monkeypatch.setattr(zero_sum_module, "_lp_strategies", lambda M, limit: fake)
    monkeypatch.setattr(zero_sum_module, "_equalizer_polish", lambda M, x, y: (x, y))
    assert nash_conv(MATCHING_PENNIES, fake) == pytest.approx(2 * d, rel=1e-3)
    with pytest.raises(NumericalError, match="duality gap"):
        solve_zero_sum(MATCHING_PENNIES)


def test_solve_checks_degeneracy_only_where_it_matters(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(game: NormalFormGame) -> None:
        raise AssertionError("degeneracy_report ran")

    monkeypatch.setattr(solve_module, "degeneracy_report", refuse)
    zero_sum_game = NormalFormGame.zero_sum(np.random.default_rng(0).normal(size=(10, 10)))
    for method in ("auto", "lp", "first-order"):
        result = solve(zero_sum_game, method)
        assert result.degenerate is None and not result.degeneracy_exhaustive
        assert result.degeneracy_witness is None
    three = NormalFormGame(np.zeros((3, 2, 2, 2)))
    assert solve(three).degenerate is None
    with pytest.raises(AssertionError, match="ran"):
        solve(BATTLE_OF_SEXES, "vertex")


def test_rm_kernel_lives_in_a_leaf_module() -> None:
    import theory.equilibria._rm as rm_module
    import theory.equilibria.first_order as first_order_module

    assert zero_sum_module.regret_matching_plus is rm_module.regret_matching_plus
    assert first_order_module.regret_matching_plus is rm_module.regret_matching_plus
    assert zero_sum_module.duality_gap is rm_module.duality_gap


def test_spne_verification_is_independent_of_the_construction(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    game = LeaderFollowerGame([[3, 1], [4, 0], [2, 2]], [[1, 1], [0, 2], [1, 0]])
    # A tie tolerance of 10 makes every reply a "best" reply; the check must catch it.
    monkeypatch.setattr(sequential_module, "TIE_TOL", 10.0)
    with pytest.raises(NumericalError, match="not subgame perfect"):
        spne(game, "uniform")


def test_spne_normal_form_check_runs_for_small_games(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    real = sequential_module.verify_equilibrium

    def spy(*args: object, **kwargs: object) -> Equilibrium:
        calls.append(1)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(sequential_module, "verify_equilibrium", spy)
    spne(LeaderFollowerGame([[3, 1], [4, 0], [2, 2]], [[1, 1], [0, 2], [1, 0]]), "uniform")
    assert calls == [1]
    spne(LeaderFollowerGame(np.zeros((20, 3)), np.zeros((20, 3))))  # 3^20 maps: skipped
    assert calls == [1]


# von Stengel (1999), "New maximal numbers of equilibria in bimatrix games": a 6x6 game
# with 75 equilibria (Gambit catalog journals/dcg/vonstengel1999/6x6_game_with_75_eq).
def _von_stengel_game() -> NormalFormGame:
    flat = [
        9504,
        72336,
        -111771,
        -461736,
        397584,
        1227336,
        171204,
        -1718376,
        1303104,
        1303104,
        737154,
        -453420,
        -660,
        48081,
        31680,
        -300036,
        -113850,
        774576,
        -45936,
        -1039236,
        -453420,
        737154,
        -227040,
        -227040,
        19976,
        29216,
        -130944,
        -178761,
        451176,
        451176,
        208626,
        -586476,
        1227336,
        397584,
        774576,
        -113850,
        -20526,
        14124,
        168124,
        -84436,
        -586476,
        208626,
        -263076,
        -263076,
        -1718376,
        171204,
        -1039236,
        -45936,
        1776,
        1776,
        -8514,
        -8976,
        29216,
        19976,
        14124,
        -20526,
        72336,
        9504,
        48081,
        -660,
        -8976,
        -8514,
        52764,
        52764,
        -178761,
        -130944,
        -84436,
        168124,
        -461736,
        -111771,
        -300036,
        31680,
    ]
    # NFG order: contingencies with the row strategy varying fastest, (u1, u2) each.
    pairs = np.array(flat, dtype=np.float64).reshape(36, 2)
    A = pairs[:, 0].reshape(6, 6).T
    B = pairs[:, 1].reshape(6, 6).T
    return NormalFormGame.from_bimatrix(A, B)


def test_von_stengel_game_has_all_75_equilibria() -> None:
    game = _von_stengel_game()
    report = degeneracy_report(game)
    assert not report.degenerate and report.exhaustive and report.doubt is None
    vertex = as_set(vertex_enumeration(game))
    assert len(vertex) == 75
    assert as_set(support_enumeration(game, warn=False)) == vertex
    result = solve(game)
    assert len(result.equilibria) == 75 and result.note == "all equilibria (nondegenerate game)"


def test_von_stengel_game_matches_gambit_catalog() -> None:
    gbt = pytest.importorskip("pygambit", reason="pygambit is not installed here")
    g = gbt.catalog.load("journals/dcg/vonstengel1999/6x6_game_with_75_eq")
    A, B = (np.asarray(M, dtype=np.float64) for M in g.to_arrays())
    ours = _von_stengel_game().bimatrix()
    assert np.array_equal(A, ours[0]) and np.array_equal(B, ours[1])


def test_singularity_is_judged_by_conditioning_not_determinant() -> None:
    """The old test (|det| < 1e-12 x Hadamard bound) rejects well-conditioned bases of
    von Stengel's game: payoffs mapped to [1, 2] make every system nearly rank one, so
    the determinant is tiny although the condition number is only ~1e7."""
    from theory.equilibria._polytope import (
        RCOND_SINGULAR,
        batched_solve,
        polytope_vertices,
        positive_scaled,
        support_pairs,
    )

    _, B = _von_stengel_game().bimatrix()
    M = positive_scaled(B)
    ((S, J),) = support_pairs(6, 6, 6)
    systems = M[S[:, None, :], J[:, :, None]]
    _, logdet = np.linalg.slogdet(systems)
    log_bound = np.log(np.linalg.norm(systems, axis=2)).sum(axis=1)
    old_singular = logdet <= log_bound + np.log(1e-12)
    cond = np.linalg.cond(systems)
    wrongly_rejected = old_singular & (cond < 1e9)
    assert np.any(wrongly_rejected)  # the magnitude test threw these away
    sol, ok = batched_solve(systems, np.ones(systems.shape[:2]))
    assert np.all(ok[wrongly_rejected]) and np.all(1 / cond[ok] > RCOND_SINGULAR / 10)
    # ... and they are solved to working accuracy.
    residual = np.einsum("tij,tj->ti", systems[ok], sol[ok]) - 1.0
    assert np.abs(residual).max() < 1e-12
    # An exactly singular system (two equal columns) is still rejected.
    twin = np.ones((1, 3, 3)) + np.array([[[0.0, 0.5, 0.5], [0.2, 0.1, 0.1], [0.3, 0.7, 0.7]]])
    assert not batched_solve(twin, np.ones((1, 3)))[1][0]
    assert len(polytope_vertices(M)[0]) > 0


def test_degeneracy_proof_is_withdrawn_when_precision_cannot_decide(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import theory.equilibria._polytope as polytope_module

    game = random_game(5, 4, 4)
    assert degeneracy_report(game).exhaustive
    polytope_module._cached_vertices.cache_clear()
    # Pretend double precision were much worse: every basis's label error bound now
    # covers real slacks, and the report must stop claiming a proof.
    monkeypatch.setattr(polytope_module, "RCOND_SINGULAR", 1e-13)
    monkeypatch.setattr(polytope_module, "LABEL_TOL", 1e-10)
    original = np.finfo(np.float64).eps
    monkeypatch.setattr(
        polytope_module.np, "finfo", lambda _t: types.SimpleNamespace(eps=original * 1e12)
    )
    report = degeneracy_report(game)
    polytope_module._cached_vertices.cache_clear()
    assert not report.degenerate and not report.exhaustive
    assert report.doubt is not None and "error bound" in report.doubt
    # A genuinely degenerate game is still caught with a witness.
    assert degeneracy_report(DEGENERATE).degenerate
