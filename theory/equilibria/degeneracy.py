"""Detecting degenerate games, so solvers can say so instead of losing equilibria.

A bimatrix game is *nondegenerate* when no mixed strategy with support of size ``k``
has more than ``k`` pure best responses (von Stengel, "Computing equilibria for
two-person games", 2002, Def. 3.2). Only then is every equilibrium isolated, are the
supports of each equilibrium of equal size, and does Lemke-Howson from each label
reach a well-defined equilibrium; support enumeration over equal-size supports is
complete only then. In a degenerate game equilibria can form continua (for instance a
strategy with two best responses lets the opponent mix freely between them), which is
why nashpy users see "missing" equilibria (nashpy issues #39, #41, #60, #82, #231).

What we check, exactly: after mapping payoffs to [1, 2] (which changes no best
response), the best-response polytopes ``P = {x >= 0 : B^T x <= 1}`` and
``Q = {y >= 0 : A y <= 1}`` are bounded, and a point of ``P`` other than 0 with label
set ``L`` is a scaled mixed strategy whose zero coordinates and pure best responses
are the labels. Such a point has more than ``m`` labels exactly when its support of
size ``k`` has more than ``k`` best responses. The set of points carrying a given
label set is a face of ``P``, and every face contains a vertex carrying at least those
labels, so the game is degenerate **iff some vertex of P has more than m labels or some
vertex of Q more than n**. We enumerate all vertices (:func:`polytope_vertices`) and
count; the first offending vertex is reported as a witness (a support and its best
responses). Bases are judged singular by their condition number, not by the size of
their determinant, and the proof is withdrawn (``exhaustive=False`` with a ``doubt``)
when some basis or label sits within the rounding error its conditioning allows, so
floating point cannot turn a degenerate game into a "proof" of nondegeneracy by losing
the vertex or the label that shows it.

Deciding degeneracy is computationally hard in general (this check is exponential in
the size of the game), so it is exhaustive only for games whose enumeration fits
:data:`theory.equilibria._polytope.AUTO_ENUMERATION` (about 10x10, a second). Beyond
that, and for games with more than two players, we check pure strategies only (does
some pure profile of the others give a player two tied best responses?) and report the
check as *not exhaustive*.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import comb

import numpy as np

from theory.equilibria._polytope import (
    AUTO_ENUMERATION,
    LABEL_TOL,
    polytope_doubts,
    polytope_vertices,
    popcount,
    positive_scaled,
)
from theory.games import NormalFormGame


@dataclass(frozen=True)
class DegeneracyReport:
    """Outcome of a degeneracy check.

    ``degenerate``: a witness was found. ``exhaustive``: the check covered every mixed
    strategy, so ``degenerate=False`` is a proof of nondegeneracy; when it is False only
    pure strategies were checked, or the enumeration met bases or labels that double
    precision cannot decide (then ``doubt`` says which). ``witness``: a readable
    description of the offending strategy and its best responses (None if none found).
    """

    degenerate: bool
    exhaustive: bool
    witness: str | None = None
    doubt: str | None = None


def _bits(mask: int, count: int) -> list[int]:
    return [i for i in range(count) if mask >> i & 1]


def _pure_check(game: NormalFormGame) -> DegeneracyReport:
    """Ties among a player's best responses to some pure profile of the others."""
    scale = game.payoff_scale()
    for i in range(game.num_players):
        u = game.payoffs[i]
        best = u.max(axis=i, keepdims=True)
        ties = (u >= best - LABEL_TOL * scale).sum(axis=i)
        if np.any(ties > 1):
            where = tuple(int(c) for c in np.argwhere(ties > 1)[0])
            others = [
                game.strategies[k][a]
                for k, a in zip([k for k in range(game.num_players) if k != i], where, strict=True)
            ]
            return DegeneracyReport(
                True,
                False,
                f"{game.players[i]} has {int(ties[where])} tied best responses to the pure "
                f"profile {others} of the other players",
            )
    return DegeneracyReport(False, False)


def degeneracy_report(game: NormalFormGame) -> DegeneracyReport:
    """Check ``game`` for degeneracy; exhaustive for two-player games of moderate size."""
    if game.num_players != 2:
        return _pure_check(game)
    m, n = game.num_strategies
    if m + n > 63 or comb(m + n, m) > AUTO_ENUMERATION:
        return _pure_check(game)
    A, B = (positive_scaled(M) for M in game.bimatrix())
    doubts: list[str] = []
    for player, (matrix, own, other) in enumerate([(B, m, n), (np.ascontiguousarray(A.T), n, m)]):
        _, zero_bits, tight_bits = polytope_vertices(matrix)
        doubt = polytope_doubts(matrix)
        if doubt is not None:
            doubts.append(f"polytope of {game.players[player]}: {doubt}")
        labels = popcount(zero_bits) + popcount(tight_bits)
        bad = np.flatnonzero(labels > own)
        if len(bad):
            t = int(bad[0])
            support = sorted(set(range(own)) - set(_bits(int(zero_bits[t]), own)))
            replies = _bits(int(tight_bits[t]), other)
            me, you = game.players[player], game.players[1 - player]
            mine = [game.strategies[player][s] for s in support]
            theirs = [game.strategies[1 - player][r] for r in replies]
            return DegeneracyReport(
                True,
                True,
                f"a strategy of {me} with support {mine} ({len(mine)} strategies) has "
                f"{len(theirs)} pure best responses of {you}: {theirs}",
            )
    if doubts:
        # No witness, but floating point may have hidden one (a regular basis too
        # ill-conditioned to solve, or a label within rounding of tight): not a proof.
        return DegeneracyReport(False, False, None, "; ".join(doubts))
    return DegeneracyReport(False, True)


def is_degenerate(game: NormalFormGame) -> bool:
    """Whether a degeneracy witness exists (exhaustive for small two-player games).

    See :func:`degeneracy_report` for what is checked and when the check is exhaustive.
    """
    return degeneracy_report(game).degenerate
