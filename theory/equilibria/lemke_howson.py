"""The Lemke-Howson algorithm with a lexicographic ratio test.

Lemke-Howson (1964) follows a path of almost completely labelled vertex pairs of the
best-response polytopes ``P = {x >= 0 : B^T x <= 1}`` and ``Q = {y >= 0 : A y <= 1}``
from the artificial equilibrium ``(0, 0)``, dropping one label ``k`` and pivoting
alternately in the two tableaux until ``k`` is picked up again. Labels: ``i < m`` is
row strategy ``i`` (``x_i = 0`` in ``P``, ``(A y)_i = 1`` in ``Q``), ``m + j`` is column
strategy ``j`` (``(B^T x)_j = 1`` in ``P``, ``y_j = 0`` in ``Q``). We index the tableau
variables so that *variable ``l`` is nonbasic exactly when its point carries label
``l``*, which makes the complementary pivoting rule "the variable that just left one
tableau enters the other".

Robustness:

* Payoffs are mapped affinely to ``[1, 2]`` (equilibria unchanged, polytopes bounded,
  tableau entries of order one).
* The minimum-ratio test is lexicographic (von Stengel 2002, section 3.6): ties in
  ``rhs / pivot column`` are broken by comparing the rows of the current basis inverse
  (the slack columns) divided by the pivot entry. This simulates a perturbation of the
  right-hand side, so every step is well defined and the method terminates even on
  degenerate games, where the plain ratio test can cycle.
* Floating-point pivoting accumulates rounding, so the end point is *polished*: on the
  supports found, the indifference equations are solved once more from the original
  payoffs. The polished profile is used when it is a better equilibrium, and the result
  is verified by the best-response check in any case.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from theory.equilibria._polytope import positive_scaled
from theory.equilibria.best_response import Equilibrium, nash_conv, verify_equilibrium
from theory.equilibria.general_sum import require_two_players, sort_equilibria
from theory.equilibria.zero_sum import _equalize
from theory.errors import InvalidGameError, NumericalError
from theory.games import NormalFormGame

FloatArray = NDArray[np.float64]

PIVOT_TOL = 1e-12
LEX_TOL = 1e-11


class _Tableau:
    """Dictionary ``basic = rhs - sum(T[:, j] * nonbasic_j)`` kept as ``[T | rhs]``.

    Columns ``0 .. m+n-1`` are the variables (by label), the last column is the right
    hand side; ``slack`` lists the columns that started as the identity (they hold the
    basis inverse, used by the lexicographic rule).
    """

    def __init__(self, matrix: FloatArray, basis: list[int], slack: NDArray[np.intp]) -> None:
        self.matrix = matrix
        self.basis = basis
        self.slack = slack

    def ratio_row(self, entering: int) -> int:
        column = self.matrix[:, entering]
        rows = np.flatnonzero(column > PIVOT_TOL)
        if len(rows) == 0:
            raise NumericalError(
                "Lemke-Howson met an unbounded ray; the best-response polytope is not "
                "bounded, which cannot happen for positive payoffs (a numerical failure)."
            )
        pivots = column[rows]
        keys = np.column_stack([self.matrix[rows, -1], self.matrix[np.ix_(rows, self.slack)]])
        keys = keys / pivots[:, None]
        for c in range(keys.shape[1]):
            values = keys[:, c]
            best = values.min()
            near = values <= best + LEX_TOL * max(1.0, abs(best))
            rows, keys = rows[near], keys[near]
            if len(rows) == 1:
                break
        return int(rows[0])

    def pivot(self, row: int, entering: int) -> int:
        T = self.matrix
        T[row] /= T[row, entering]
        column = T[:, entering].copy()
        column[row] = 0.0
        T -= np.outer(column, T[row])
        leaving = self.basis[row]
        self.basis[row] = entering
        return leaving

    def values(self, count: int, offset: int) -> FloatArray:
        """Values of variables ``offset .. offset+count-1`` (zero when nonbasic)."""
        out = np.zeros(count)
        for row, var in enumerate(self.basis):
            if offset <= var < offset + count:
                out[var - offset] = max(self.matrix[row, -1], 0.0)
        return out


def _path(A: FloatArray, B: FloatArray, label: int, max_pivots: int) -> tuple[FloatArray, FloatArray, int]:
    m, n = A.shape
    # P: basic slacks s_j = 1 - (B^T x)_j (variables m + j), nonbasic x_i (variables i).
    tab_p = _Tableau(
        np.hstack([B.T, np.eye(n), np.ones((n, 1))]), list(range(m, m + n)), np.arange(m, m + n)
    )
    # Q: basic slacks r_i = 1 - (A y)_i (variables i), nonbasic y_j (variables m + j).
    tab_q = _Tableau(np.hstack([np.eye(m), A, np.ones((m, 1))]), list(range(m)), np.arange(m))
    tableau, other = (tab_p, tab_q) if label < m else (tab_q, tab_p)
    entering = label
    for step in range(1, max_pivots + 1):
        leaving = tableau.pivot(tableau.ratio_row(entering), entering)
        if leaving == label:
            x = tab_p.values(m, 0)
            y = tab_q.values(n, m)
            return x, y, step
        entering = leaving
        tableau, other = other, tableau
    raise NumericalError(
        f"Lemke-Howson from label {label} did not finish within {max_pivots} pivots. "
        "Fix: pass a larger max_pivots (the path can be exponentially long) or try "
        "another starting label."
    )


def _polish(A0: FloatArray, B0: FloatArray, x: FloatArray, y: FloatArray) -> tuple[FloatArray, FloatArray]:
    rows = np.flatnonzero(x > 1e-9)
    cols = np.flatnonzero(y > 1e-9)
    if len(rows) != len(cols) or len(rows) == 0:
        return x, y
    y_new = _equalize(A0, rows, cols)
    x_new = _equalize(np.ascontiguousarray(B0.T), cols, rows)
    if y_new is None or x_new is None:
        return x, y
    return x_new, y_new


def lemke_howson(
    game: NormalFormGame, initial_label: int = 0, *, max_pivots: int | None = None
) -> Equilibrium:
    """One equilibrium of a two-player game, reached by dropping ``initial_label``.

    Labels ``0 .. m-1`` are the row player's strategies and ``m .. m+n-1`` the column
    player's (nashpy's ``initial_dropped_label`` convention). ``max_pivots`` defaults
    to ``50 * (m + n)``.
    """
    A0, B0 = require_two_players(game, "Lemke-Howson")
    m, n = game.num_strategies
    if not 0 <= initial_label < m + n:
        raise InvalidGameError(
            f"initial_label must be in 0..{m + n - 1} for a {m}x{n} game, got {initial_label}."
        )
    limit = max_pivots if max_pivots is not None else 50 * (m + n)
    A, B = positive_scaled(A0), positive_scaled(B0)
    x, y, _ = _path(A, B, initial_label, limit)
    if x.sum() <= 0 or y.sum() <= 0:
        raise NumericalError("Lemke-Howson returned the artificial equilibrium (0, 0).")
    x, y = x / x.sum(), y / y.sum()
    x_p, y_p = _polish(A, B, x, y)
    x_p, y_p = x_p / x_p.sum(), y_p / y_p.sum()
    if nash_conv(game, (x_p, y_p)) < nash_conv(game, (x, y)):
        x, y = x_p, y_p
    return verify_equilibrium(game, (x, y), method="Lemke-Howson")


def lemke_howson_all(game: NormalFormGame, *, max_pivots: int | None = None) -> list[Equilibrium]:
    """The distinct equilibria reached by Lemke-Howson from every one of the m+n labels.

    In a nondegenerate game these include every equilibrium on the Lemke-Howson graph's
    paths from (0, 0); they need not be *all* equilibria (use vertex enumeration for
    that on small games).
    """
    m, n = require_two_players(game, "Lemke-Howson")[0].shape
    return sort_equilibria(
        [lemke_howson(game, label, max_pivots=max_pivots) for label in range(m + n)]
    )
