"""All equilibria of two-player general-sum games: support and vertex enumeration.

* :func:`support_enumeration` solves the indifference equations for every pair of
  equal-size supports (Porter, Nudelman & Shoham 2004; nashpy's algorithm), batched
  per support size with numpy. It is complete for nondegenerate games; on a degenerate
  game it warns (:class:`DegenerateGameWarning`) because equilibria whose supports have
  different sizes, and continua, are out of its reach.
* :func:`vertex_enumeration` enumerates the vertices of the two best-response polytopes
  and returns every completely labelled vertex pair (Avis, Rosenberg, Savani & von
  Stengel 2010, the algorithm of Gambit's ``enummixed`` / ``lrsnash``). Its output is
  every *extreme* equilibrium of any game, degenerate or not; in a degenerate game the
  full equilibrium set is the union of convex hulls of "cliques" of these extreme
  equilibria (profiles ``(x_a, y_b)`` all of which are equilibria).
* :func:`pure_equilibria` lists the pure-strategy equilibria of an N-player game.

Every profile returned has passed :func:`verify_equilibrium`.
"""

from __future__ import annotations

import warnings

import numpy as np
from numpy.typing import NDArray

from theory.equilibria._polytope import (
    LABEL_TOL,
    batched_solve,
    check_enumeration_size,
    indifference_systems,
    polytope_vertices,
    popcount,
    positive_scaled,
    support_pairs,
)
from theory.equilibria.best_response import Equilibrium, verify_equilibrium
from theory.equilibria.degeneracy import degeneracy_report
from theory.errors import UnsupportedGameError
from theory.games import NormalFormGame

FloatArray = NDArray[np.float64]


# Vertex pairs whose labels are compared per numpy call in vertex enumeration.
MATCH_BLOCK = 1 << 22


class DegenerateGameWarning(UserWarning):
    """A method that is only complete for nondegenerate games was run on a degenerate one."""


def require_two_players(game: NormalFormGame, method: str) -> tuple[FloatArray, FloatArray]:
    if game.num_players != 2:
        raise UnsupportedGameError(
            f"{method} needs a two-player game; {game!r} has {game.num_players} players. "
            "Fix: use method 'pure' (pure equilibria of N-player games)."
        )
    return game.bimatrix()


def profile_key(strategies: tuple[FloatArray, ...]) -> tuple[float, ...]:
    """A hashable key identifying a profile up to 1e-7 (for removing duplicates)."""
    return tuple(float(v) for v in np.round(np.concatenate(strategies), 7))


def sort_equilibria(found: list[Equilibrium]) -> list[Equilibrium]:
    """Deduplicate and order equilibria: pure ones first, then by support, lexicographically."""
    unique: dict[tuple[float, ...], Equilibrium] = {}
    for eq in found:
        unique.setdefault(profile_key(eq.strategies), eq)

    def order(eq: Equilibrium) -> tuple[int, tuple[float, ...]]:
        size = sum(int(np.count_nonzero(s)) for s in eq.strategies)
        return size, tuple(-v for v in np.concatenate(eq.strategies))

    return sorted(unique.values(), key=order)


def support_enumeration(game: NormalFormGame, *, warn: bool = True) -> list[Equilibrium]:
    """Every equilibrium of a nondegenerate two-player game, by support enumeration.

    For each support size ``k`` and each pair of ``k``-supports ``(S, J)``, solve the
    indifference equations for both players, keep the solutions that are positive on
    their supports and against which no strategy outside the support does better.
    On a degenerate game (checked with :func:`degeneracy_report`) a
    :class:`DegenerateGameWarning` says so; use :func:`vertex_enumeration` there.
    """
    A0, B0 = require_two_players(game, "support enumeration")
    m, n = game.num_strategies
    check_enumeration_size(m, n, "support enumeration")
    if warn:
        report = degeneracy_report(game)
        if report.degenerate:
            warnings.warn(
                f"{game!r} is degenerate ({report.witness}); support enumeration can miss "
                "equilibria of degenerate games. Use vertex_enumeration, which returns "
                "every extreme equilibrium.",
                DegenerateGameWarning,
                stacklevel=2,
            )
    A, B = positive_scaled(A0), positive_scaled(B0)
    BT = np.ascontiguousarray(B.T)
    found: list[Equilibrium] = []
    for k in range(1, min(m, n) + 1):
        rhs = np.zeros(k + 1)
        rhs[k] = 1.0
        for S, J in support_pairs(m, n, k):
            count = len(S)
            rhs_stack = np.broadcast_to(rhs, (count, k + 1))
            ysol, ok_y = batched_solve(indifference_systems(A, S, J), rhs_stack)
            keep = ok_y & np.all(ysol[:, :k] > LABEL_TOL, axis=1)
            if not np.any(keep):
                continue
            S, J, ysol = S[keep], J[keep], ysol[keep]
            xsol, ok_x = batched_solve(indifference_systems(BT, J, S), rhs_stack[: len(S)])
            keep = ok_x & np.all(xsol[:, :k] > LABEL_TOL, axis=1)
            if not np.any(keep):
                continue
            S, J, ysol, xsol = S[keep], J[keep], ysol[keep], xsol[keep]
            y = np.zeros((len(S), n))
            np.put_along_axis(y, J, ysol[:, :k], axis=1)
            x = np.zeros((len(S), m))
            np.put_along_axis(x, S, xsol[:, :k], axis=1)
            # Best-response conditions: no pure strategy beats the support's value.
            good = np.all(y @ A.T <= ysol[:, k : k + 1] + LABEL_TOL, axis=1)
            good &= np.all(x @ B <= xsol[:, k : k + 1] + LABEL_TOL, axis=1)
            for xi, yi in zip(x[good], y[good], strict=True):
                found.append(verify_equilibrium(game, (xi, yi), method="support enumeration"))
    return sort_equilibria(found)


def vertex_enumeration(game: NormalFormGame) -> list[Equilibrium]:
    """Every extreme equilibrium of a two-player game (degenerate or not).

    Enumerates the vertices of ``P = {x >= 0 : B^T x <= 1}`` and
    ``Q = {y >= 0 : A y <= 1}`` (payoffs mapped to [1, 2]) and keeps the pairs
    ``(x, y) != (0, 0)`` whose labels cover all ``m + n`` strategies; normalising such a
    pair gives an equilibrium, and every extreme equilibrium arises this way.
    """
    A0, B0 = require_two_players(game, "vertex enumeration")
    m, n = game.num_strategies
    check_enumeration_size(m, n, "vertex enumeration")
    A, B = positive_scaled(A0), positive_scaled(B0)
    px, pzero, ptight = polytope_vertices(B)  # labels: zero x_i -> i, tight col j -> m + j
    qy, qzero, qtight = polytope_vertices(np.ascontiguousarray(A.T))  # tight row i -> i
    p_labels = pzero | (ptight << np.uint64(m))
    q_labels = qtight | (qzero << np.uint64(m))
    p_keep = np.flatnonzero(px.sum(axis=1) > LABEL_TOL)
    q_keep = np.flatnonzero(qy.sum(axis=1) > LABEL_TOL)
    p_labels, q_labels = p_labels[p_keep], q_labels[q_keep]
    found: list[Equilibrium] = []
    for i, j in _complete_pairs(p_labels, q_labels, m, n):
        x, y = px[p_keep[i]], qy[q_keep[j]]
        found.append(verify_equilibrium(game, (x, y), method="vertex enumeration"))
    return sort_equilibria(found)


def _complete_pairs(
    p_labels: NDArray[np.uint64], q_labels: NDArray[np.uint64], m: int, n: int
) -> list[tuple[int, int]]:
    """Index pairs ``(i, j)`` whose label masks cover all ``m + n`` labels.

    When every vertex of ``P`` has exactly ``m`` labels and every vertex of ``Q``
    exactly ``n`` (always so in a nondegenerate game), a pair covers all labels exactly
    when ``q_labels[j]`` is the complement of ``p_labels[i]``: a sorted lookup. Otherwise
    (degenerate games) all pairs are compared, a block of ``P`` at a time.
    """
    full = np.uint64((1 << (m + n)) - 1)
    if np.all(popcount(p_labels) == m) and np.all(popcount(q_labels) == n):
        order = np.argsort(q_labels)
        ordered = q_labels[order]
        want = p_labels ^ full
        at = np.minimum(np.searchsorted(ordered, want), max(len(ordered) - 1, 0))
        hit = np.flatnonzero(ordered[at] == want) if len(ordered) else np.zeros(0, np.intp)
        return [(int(i), int(order[at[i]])) for i in hit]
    pairs: list[tuple[int, int]] = []
    block = max(1, MATCH_BLOCK // max(1, len(q_labels)))
    for lo in range(0, len(p_labels), block):
        rows, cols = np.nonzero((p_labels[lo : lo + block, None] | q_labels[None, :]) == full)
        pairs.extend(zip((lo + rows).tolist(), cols.tolist(), strict=True))
    return pairs


def pure_equilibria(game: NormalFormGame) -> list[Equilibrium]:
    """Every pure-strategy Nash equilibrium of an N-player game.

    A pure profile is an equilibrium when each player's payoff is within
    ``LABEL_TOL x payoff scale`` of the best payoff along their own axis.
    """
    scale = game.payoff_scale()
    mask = np.ones(game.num_strategies, dtype=bool)
    for i in range(game.num_players):
        u = game.payoffs[i]
        mask &= u >= u.max(axis=i, keepdims=True) - LABEL_TOL * scale
    found = []
    for profile in np.argwhere(mask):
        strategies = []
        for a, size in zip(profile, game.num_strategies, strict=True):
            s = np.zeros(size)
            s[a] = 1.0
            strategies.append(s)
        found.append(verify_equilibrium(game, strategies, method="pure enumeration"))
    return sort_equilibria(found)
