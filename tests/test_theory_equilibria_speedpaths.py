"""The fast paths of the equilibrium solvers agree with the slow, simple ones.

* Vertex enumeration walks the edges of simple best-response polytopes
  (``_pivot_vertices``) and falls back to visiting every basis (``_basis_vertices``)
  otherwise; both must give the same vertices, labels and doubts.
* Completely labelled pairs are matched by a sorted lookup when every vertex carries
  exactly its dimension's number of labels, by comparing all pairs otherwise.
* ``lemke_howson_graph`` follows Lemke-Howson paths from every equilibrium it finds
  (Gambit's ``lcp_solve``).
* ``deviation_gains`` has a two-player shortcut.

No test here depends on timing.
"""

from __future__ import annotations

import sys
import types
from fractions import Fraction

import numpy as np
import pytest

from theory.equilibria import (
    lemke_howson_all,
    lemke_howson_graph,
    nash_conv,
    vertex_enumeration,
)
from theory.equilibria._polytope import (
    _basis_vertices,
    _cached_vertices,
    _pivot_vertices,
    polytope_doubts,
    polytope_vertices,
    positive_scaled,
)
from theory.equilibria.best_response import Equilibrium, deviation_gains
from theory.equilibria.general_sum import _complete_pairs
from theory.equilibria.lemke import PIVOT_LIMIT, TIME_LIMIT
from theory.errors import IterationLimitError, SolverTimeLimitError
from theory.games import NormalFormGame

BATTLE_OF_SEXES = NormalFormGame.from_bimatrix([[2, 0], [0, 1]], [[1, 0], [0, 2]])
SHAPLEY = NormalFormGame.from_bimatrix(
    [[0, 1, 0], [0, 0, 1], [1, 0, 0]], [[0, 0, 1], [1, 0, 0], [0, 1, 0]]
)
DEGENERATE = NormalFormGame.from_bimatrix([[3, 3], [2, 5], [0, 6]], [[3, 3], [2, 6], [3, 1]])


def random_game(seed: int, m: int, n: int) -> NormalFormGame:
    rng = np.random.default_rng(seed)
    return NormalFormGame.from_bimatrix(rng.normal(size=(m, n)), rng.normal(size=(m, n)))


def as_set(equilibria: list[Equilibrium]) -> set[tuple[float, ...]]:
    return {tuple(np.round(np.concatenate(eq.strategies), 7) + 0.0) for eq in equilibria}


def _vertex_table(
    points: np.ndarray, zeros: np.ndarray, tights: np.ndarray
) -> dict[tuple[int, int], np.ndarray]:
    return {
        (int(z), int(t)): p for p, z, t in zip(points, zeros.tolist(), tights.tolist(), strict=True)
    }


def _polytopes(game: NormalFormGame) -> list[np.ndarray]:
    A, B = game.bimatrix()
    return [positive_scaled(B), np.ascontiguousarray(positive_scaled(A).T)]


# -- vertex enumeration ------------------------------------------------------------------


@pytest.mark.parametrize(
    "seed,m,n", [(0, 2, 2), (1, 3, 5), (2, 5, 3), (3, 6, 6), (4, 7, 4), (5, 8, 8), (6, 9, 7)]
)
def test_edge_walk_finds_the_vertices_of_every_basis(seed: int, m: int, n: int) -> None:
    for M in _polytopes(random_game(seed, m, n)):
        walked = _pivot_vertices(M)
        assert walked is not None  # random games are nondegenerate
        points, zeros, tights, doubt = _basis_vertices(M)
        assert doubt is None
        ours, reference = _vertex_table(*walked), _vertex_table(points, zeros, tights)
        assert ours.keys() == reference.keys()
        for key, point in reference.items():
            assert np.allclose(ours[key], point, atol=1e-12, rtol=0)
        # Every vertex of a simple polytope has exactly p labels.
        p = M.shape[0]
        labels = [bin(z).count("1") + bin(t).count("1") for z, t in ours]
        assert labels == [p] * len(labels)


def test_edge_walk_declines_degenerate_polytopes() -> None:
    _, B = DEGENERATE.bimatrix()
    M = positive_scaled(B)
    assert _pivot_vertices(M) is None  # a vertex with an extra label
    _cached_vertices.cache_clear()
    points, zeros, tights = polytope_vertices(M)
    reference = _basis_vertices(M)
    assert _vertex_table(points, zeros, tights).keys() == _vertex_table(*reference[:3]).keys()
    assert polytope_doubts(M) == reference[3]
    # A constant matrix: every vertex but the origin is degenerate.
    assert _pivot_vertices(np.ones((3, 3))) is None


def test_edge_walk_refuses_when_precision_cannot_decide(monkeypatch: pytest.MonkeyPatch) -> None:
    import theory.equilibria._polytope as polytope_module

    M = _polytopes(random_game(5, 4, 4))[0]
    assert _pivot_vertices(M) is not None
    original = np.finfo(np.float64).eps
    monkeypatch.setattr(
        polytope_module.np, "finfo", lambda _t: types.SimpleNamespace(eps=original * 1e12)
    )
    assert _pivot_vertices(M) is None


def test_von_stengel_polytopes_are_walked() -> None:
    from test_theory_equilibria import _von_stengel_game

    for M in _polytopes(_von_stengel_game()):
        walked = _pivot_vertices(M)
        assert walked is not None
        reference = _basis_vertices(M)
        assert _vertex_table(*walked).keys() == _vertex_table(*reference[:3]).keys()


def test_complete_pairs_lookup_matches_all_pairs() -> None:
    rng = np.random.default_rng(3)
    m, n = 4, 5
    full = (1 << (m + n)) - 1

    def masks(count: int, bits: int) -> np.ndarray:
        out: set[int] = set()
        while len(out) < count:
            chosen = rng.choice(m + n, size=bits, replace=False)
            out.add(sum(1 << int(c) for c in chosen))
        return np.array(sorted(out), dtype=np.uint64)

    p_labels, q_labels = masks(60, m), masks(80, n)
    # Make sure some pairs complete each other.
    q_labels = np.unique(np.concatenate([q_labels, p_labels[:10] ^ np.uint64(full)]))
    fast = sorted(_complete_pairs(p_labels, q_labels, m, n))
    brute = sorted(
        (i, j)
        for i in range(len(p_labels))
        for j in range(len(q_labels))
        if int(p_labels[i]) | int(q_labels[j]) == full
    )
    assert fast == brute and len(fast) >= 10
    # With a vertex carrying an extra label the general comparison runs.
    extra = np.concatenate([p_labels, np.array([(1 << (m + 1)) - 1], dtype=np.uint64)])
    wide = sorted(_complete_pairs(extra, q_labels, m, n))
    assert set(fast) <= set(wide)
    assert all(int(extra[i]) | int(q_labels[j]) == full for i, j in wide)


@pytest.mark.parametrize("seed", range(3))
def test_vertex_enumeration_same_either_way(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """The full solver with the edge walk equals the full solver forced onto bases."""
    import theory.equilibria._polytope as polytope_module

    game = random_game(40 + seed, 6, 7)
    _cached_vertices.cache_clear()
    fast = as_set(vertex_enumeration(game))
    with monkeypatch.context() as patch:
        patch.setattr(polytope_module, "_pivot_vertices", lambda M: None)
        _cached_vertices.cache_clear()
        slow = as_set(vertex_enumeration(game))
    _cached_vertices.cache_clear()
    assert fast == slow and len(fast) % 2 == 1


# -- Lemke-Howson graph ------------------------------------------------------------------


@pytest.mark.parametrize("seed,m,n", [(0, 4, 4), (1, 5, 7), (2, 8, 6), (3, 8, 8)])
def test_lemke_howson_graph_on_random_games(seed: int, m: int, n: int) -> None:
    game = random_game(100 + seed, m, n)
    search = lemke_howson_graph(game)
    assert search.complete and not search.skipped and not search.unfinished
    graph = as_set(search.equilibria)
    assert as_set(lemke_howson_all(game)) <= graph <= as_set(vertex_enumeration(game))
    for eq in search.equilibria:
        assert nash_conv(game, eq.strategies) <= 1e-9 * game.payoff_scale()


def test_lemke_howson_graph_reaches_the_mixed_equilibrium_of_battle_of_sexes() -> None:
    # From (0, 0) every label leads to a pure equilibrium; the mixed one (index -1) is
    # only reached from them.
    assert len(as_set(lemke_howson_all(BATTLE_OF_SEXES))) == 2
    assert as_set(lemke_howson_graph(BATTLE_OF_SEXES).equilibria) == as_set(
        vertex_enumeration(BATTLE_OF_SEXES)
    )
    (eq,) = lemke_howson_graph(SHAPLEY).equilibria
    assert np.allclose(np.concatenate(eq.strategies), 1 / 3)


def test_lemke_howson_graph_on_a_degenerate_game() -> None:
    search = lemke_howson_graph(DEGENERATE)
    assert search.equilibria
    for eq in search.equilibria:
        assert nash_conv(DEGENERATE, eq.strategies) < 1e-9


def test_lemke_howson_graph_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    game = random_game(11, 15, 15)
    with pytest.raises(IterationLimitError, match="no label"):
        lemke_howson_graph(game, max_pivots=1)
    search = lemke_howson_graph(game, max_pivots=6)
    if search.skipped or search.unfinished:
        assert not search.complete
        assert set(search.skipped.values()) | set(search.unfinished) <= {PIVOT_LIMIT}
        assert "pivots" in search.skipped_summary()
    with pytest.raises(SolverTimeLimitError, match="no label"):
        lemke_howson_graph(game, time_limit=0.0)
    # A fake clock that advances 10 ms per reading makes the budget deterministic.
    ticks = iter(range(10**6))
    clock = types.SimpleNamespace(perf_counter=lambda: next(ticks) * 0.01)
    monkeypatch.setattr(sys.modules["theory.equilibria.lemke_graph"], "time", clock)
    monkeypatch.setattr(sys.modules["theory.equilibria.lemke_graph"], "CLOCK_EVERY", 1)
    try:
        partial = lemke_howson_graph(game, time_limit=0.15)
    except SolverTimeLimitError:
        return  # nothing finished in time: also a correct outcome
    assert not partial.complete
    assert TIME_LIMIT in set(partial.skipped.values()) | set(partial.unfinished)


def test_lemke_howson_graph_non_square_and_padding() -> None:
    for m, n in ((2, 6), (7, 3), (1, 4)):
        game = random_game(7 * m + n, m, n)
        search = lemke_howson_graph(game)
        assert search.complete
        assert as_set(search.equilibria) <= as_set(vertex_enumeration(game))


@pytest.mark.parametrize("seed,size", [(0, 5), (1, 6), (2, 8)])
def test_lemke_howson_graph_finds_what_gambit_lcp_finds(seed: int, size: int) -> None:
    gbt = pytest.importorskip("pygambit", reason="pygambit is not installed here")
    game = random_game(500 + seed, size, size)
    A, B = game.bimatrix()
    exact = [np.vectorize(Fraction, otypes=[object])(M) for M in (A, B)]
    g = gbt.StrategicGame.from_arrays(*exact)
    theirs = set()
    for eq in gbt.nash.lcp_solve(g, rational=True).equilibria:
        flat = [float(v) for player in list(g.players) for _, v in eq[player]]
        theirs.add(tuple(np.round(flat, 7) + 0.0))
    assert theirs <= as_set(lemke_howson_graph(game).equilibria)


# -- two-player deviation gains ----------------------------------------------------------


def test_two_player_deviation_gains_match_the_general_formula() -> None:
    rng = np.random.default_rng(9)
    game = random_game(9, 5, 3)
    for _ in range(5):
        profile = (rng.dirichlet(np.ones(5)), rng.dirichlet(np.ones(3)))
        general = [
            game.payoff_vector(profile, i).max() - game.payoff_vector(profile, i) @ profile[i]
            for i in range(2)
        ]
        assert np.allclose(deviation_gains(game, profile), np.maximum(general, 0.0), atol=1e-14)


# -- zero-sum: the simplex walk from the RM+ guess ----------------------------------------


def test_kernel_updates_match_fresh_inverses() -> None:
    from theory.equilibria._selfdual import _Kernel

    M = np.random.default_rng(0).uniform(1.0, 2.0, size=(12, 10))
    kernel = _Kernel(M, np.array([0, 1, 2, 3]), np.array([0, 1, 2, 3]))
    steps = [
        lambda: kernel.replace_row(1, 7),
        lambda: kernel.replace_column(2, 8),
        lambda: kernel.grow(9, 5),
        lambda: kernel.shrink(0, 3),
        lambda: kernel.grow(11, 9),
        lambda: kernel.shrink(4, 0),
    ]
    for step in steps:
        assert step()
        fresh = np.linalg.inv(M[np.ix_(kernel.S, kernel.J)])
        assert np.abs(kernel.inverse - fresh).max() < 1e-10
    # A pivot on a (numerically) zero element is refused, not taken.
    flat = _Kernel(np.full((3, 3), 1.5), np.array([0]), np.array([0]))
    assert not flat.grow(1, 1)  # [[1.5, 1.5], [1.5, 1.5]] is singular


def _lp_optimum(M: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    import theory.equilibria.zero_sum as zero_sum_module

    return zero_sum_module._lp_strategies(M, None)


@pytest.mark.parametrize("seed,m,n", [(0, 40, 40), (1, 60, 35), (2, 30, 70), (3, 120, 120)])
def test_simplex_walk_reaches_the_optimum_from_any_kernel(seed: int, m: int, n: int) -> None:
    from theory.equilibria._rm import duality_gap
    from theory.equilibria._selfdual import solve_from_basis

    rng = np.random.default_rng(seed)
    M = positive_scaled(rng.normal(size=(m, n)))
    x_opt, y_opt = _lp_optimum(M)
    S, J = np.flatnonzero(x_opt > 1e-12), np.flatnonzero(y_opt > 1e-12)
    value = float(x_opt @ M @ y_opt)
    starts = [
        (S, J),  # the optimal basis itself
        (rng.permutation(m)[:5], rng.permutation(n)[:5]),  # a poor guess
        (np.array([], dtype=np.intp), np.array([], dtype=np.intp)),  # the empty kernel
        (rng.permutation(m)[: min(m, n)], rng.permutation(n)[: min(m, n)]),  # too big
    ]
    for rows, cols in starts:
        # Poor starts need a few times m + n pivots, beyond the default budget.
        found = solve_from_basis(M, rows, cols, max_pivots=10 * (m + n))
        assert found is not None
        x, y = found
        assert duality_gap(M, x, y) <= 1e-10
        assert float(x @ M @ y) == pytest.approx(value, abs=1e-10)
    assert solve_from_basis(M, S[:2], J[:3]) is None  # |S| != |J|
    assert solve_from_basis(M, S, J, deadline=0.0) is None  # out of time
    assert solve_from_basis(M, starts[2][0], starts[2][1], max_pivots=3) is None  # budget


@pytest.mark.parametrize(("seed", "dist"), [(0, "normal"), (2, "uniform")])
def test_large_zero_sum_games_skip_the_lp(
    seed: int, dist: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import theory.equilibria.zero_sum as zero_sum_module
    from theory.equilibria import exploitability, solve_zero_sum

    rng = np.random.default_rng(seed)
    A = rng.normal(size=(600, 600)) if dist == "normal" else rng.uniform(size=(600, 600))
    sizes: list[tuple[int, int]] = []
    real = zero_sum_module._lp_strategies

    def spy(M: np.ndarray, time_limit: float | None) -> tuple[np.ndarray, np.ndarray]:
        sizes.append(M.shape)
        return real(M, time_limit)

    monkeypatch.setattr(zero_sum_module, "_lp_strategies", spy)
    fast = solve_zero_sum(A)
    assert sizes == []  # the simplex walk from the RM+ guess finished without HiGHS
    monkeypatch.setattr(zero_sum_module, "RESTRICTED_MIN_ENTRIES", 10**12)
    full = solve_zero_sum(A)
    assert sizes == [(600, 600)]
    assert fast.value == pytest.approx(full.value, abs=1e-9)
    assert fast.gap <= 1e-10
    assert exploitability(NormalFormGame.zero_sum(A), [fast.row, fast.col]) <= 1e-10
