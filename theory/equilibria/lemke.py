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
* The minimum-ratio test is lexicographic (von Stengel 2002): ties in
  ``rhs / pivot column`` are broken by comparing the rows of the current basis inverse
  (the slack columns) divided by the pivot entry. This simulates a perturbation of the
  right-hand side, so every step is well defined and the method terminates even on
  degenerate games, where the plain ratio test can cycle.
* Floating-point pivoting accumulates rounding, so the end point is recomputed from its
  final *basis*: the basic strategies and the tight constraints define a square system
  that is solved once from the (scaled) payoffs. That exact vertex is used when it is a
  better equilibrium.
* If, even so, the float end point fails the best-response check (a nearly degenerate
  game can force pivots on entries of order 1e-9, which wipe out nine digits), the same
  path is followed again with exact *integer pivoting* (Bareiss elimination on Python
  ints, as von Stengel 2002 describes for Lemke-Howson) from the exact rational values
  of the float payoffs. The result is verified by the best-response check in any case.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np
from numpy.typing import NDArray

from theory.equilibria._polytope import positive_scaled
from theory.equilibria.best_response import (
    VERIFY_TOL,
    Equilibrium,
    nash_conv,
    normalize_profile,
    verify_equilibrium,
)
from theory.equilibria.general_sum import require_two_players, sort_equilibria
from theory.errors import (
    InvalidGameError,
    IterationLimitError,
    NumericalError,
    SolverTimeLimitError,
)
from theory.games import NormalFormGame

FloatArray = NDArray[np.float64]

PIVOT_TOL = 1e-12
LEX_TOL = 1e-11
# Pivots between two looks at the clock (a float pivot of a 100x100 game takes ~20 us).
CLOCK_EVERY = 64
# Reasons a label is skipped by lemke_howson_search.
PIVOT_LIMIT = "pivot limit"
TIME_LIMIT = "time limit"


def lexicographic_ratio_row(matrix: FloatArray, entering: int, slack: NDArray[np.intp]) -> int:
    """The leaving row of ``[T | rhs]`` when ``entering`` enters: the minimum ratio
    ``rhs / T[:, entering]`` over positive entries, ties broken lexicographically by
    the rows of the basis inverse (the ``slack`` columns) divided by the pivot entry."""
    column = matrix[:, entering]
    rows = np.flatnonzero(column > PIVOT_TOL)
    if len(rows) == 0:
        raise NumericalError(
            "Lemke-Howson met an unbounded ray; the best-response polytope is not "
            "bounded, which cannot happen for positive payoffs (a numerical failure)."
        )
    pivots = column[rows]
    # Plain ratio test first; the lexicographic keys (basis-inverse rows) are only
    # built for the rows tied on it, which is rare and keeps a pivot O(rows).
    ratios = matrix[rows, -1] / pivots
    best = ratios.min()
    near = ratios <= best + LEX_TOL * max(1.0, abs(best))
    rows, pivots = rows[near], pivots[near]
    if len(rows) == 1:
        return int(rows[0])
    keys = matrix[np.ix_(rows, slack)] / pivots[:, None]
    for c in range(keys.shape[1]):
        values = keys[:, c]
        best = values.min()
        near = values <= best + LEX_TOL * max(1.0, abs(best))
        rows, keys = rows[near], keys[near]
        if len(rows) == 1:
            break
    return int(rows[0])


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
        return lexicographic_ratio_row(self.matrix, entering, self.slack)

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


def _check_clock(step: int, deadline: float | None, label: int) -> None:
    if deadline is not None and step % CLOCK_EVERY == 0 and time.perf_counter() > deadline:
        raise SolverTimeLimitError(
            f"Lemke-Howson from label {label} reached its time limit after {step} pivots. "
            "Fix: raise time_limit or try another starting label."
        )


def _path(
    A: FloatArray, B: FloatArray, label: int, max_pivots: int, deadline: float | None = None
) -> tuple[_Tableau, _Tableau]:
    m, n = A.shape
    # P: basic slacks s_j = 1 - (B^T x)_j (variables m + j), nonbasic x_i (variables i).
    tab_p = _Tableau(
        np.hstack([B.T, np.eye(n), np.ones((n, 1))]), list(range(m, m + n)), np.arange(m, m + n)
    )
    # Q: basic slacks r_i = 1 - (A y)_i (variables i), nonbasic y_j (variables m + j).
    tab_q = _Tableau(np.hstack([np.eye(m), A, np.ones((m, 1))]), list(range(m)), np.arange(m))
    tableau, other = (tab_p, tab_q) if label < m else (tab_q, tab_p)
    entering = label
    for step in range(max_pivots):
        _check_clock(step, deadline, label)
        leaving = tableau.pivot(tableau.ratio_row(entering), entering)
        if leaving == label:
            return tab_p, tab_q
        entering = leaving
        tableau, other = other, tableau
    raise IterationLimitError(
        f"Lemke-Howson from label {label} did not finish within {max_pivots} pivots. "
        "Fix: pass a larger max_pivots (the path can be exponentially long) or try "
        "another starting label."
    )


def _basis_vertex(
    M: FloatArray, basis: list[int], own: int, offset: int, other_offset: int
) -> FloatArray | None:
    """The exact vertex of a final basis, recomputed from the payoffs.

    In ``P`` (``M = B``, ``own = m``): the basic ``x_i`` (variables ``< m``) form the
    support ``S`` and the nonbasic slacks give the tight columns ``T``, ``|S| = |T|``;
    ``M[S, T]^T x_S = 1`` is the basis system, solved here without the rounding the
    pivots accumulated. ``Q`` is the same with ``M = A^T``.
    """
    count_other = M.shape[1]
    support = [v - offset for v in basis if offset <= v < offset + own]
    basic_slacks = {
        v - other_offset for v in basis if other_offset <= v < other_offset + count_other
    }
    tight = [j for j in range(count_other) if j not in basic_slacks]
    if len(support) != len(tight) or not support:
        return None
    try:
        values = np.linalg.solve(M[np.ix_(support, tight)].T, np.ones(len(tight)))
    except np.linalg.LinAlgError:
        return None
    point = np.zeros(own)
    point[support] = values
    if not np.all(np.isfinite(point)) or point.min() < -1e-12:
        return None
    return np.clip(point, 0.0, None)


def _integer_matrix(M: FloatArray) -> list[list[int]]:
    """``M - min M + 1`` scaled to positive integers, exactly (floats are dyadic rationals)."""
    fractions = [[Fraction(float(v)) for v in row] for row in M]
    low = min(min(row) for row in fractions)
    shifted = [[v - low + 1 for v in row] for row in fractions]
    scale = math.lcm(*(v.denominator for row in shifted for v in row))
    return [[int(v * scale) for v in row] for row in shifted]


class _IntegerTableau:
    """Integer pivoting (Bareiss): exact arithmetic with Python ints, no fractions.

    Every basic column is ``det`` times a unit vector, so the basic variable of row
    ``i`` has value ``rows[i][-1] / det``; a pivot replaces row ``i`` by
    ``(rows[i] * p - rows[i][c] * rows[r]) / det``, an exact division.
    """

    def __init__(self, rows: list[list[int]], basis: list[int], slack: list[int]) -> None:
        self.rows = rows
        self.basis = basis
        self.slack = slack
        self.det = 1

    def ratio_row(self, entering: int) -> int:
        candidates = [i for i, row in enumerate(self.rows) if row[entering] > 0]
        if not candidates:
            raise NumericalError("exact Lemke-Howson met an unbounded ray (a bug).")
        for column in [-1, *self.slack]:
            # Smallest rows[i][column] / rows[i][entering] by cross-multiplication.
            best = candidates[0]
            for i in candidates[1:]:
                if (
                    self.rows[i][column] * self.rows[best][entering]
                    < self.rows[best][column] * self.rows[i][entering]
                ):
                    best = i
            a, b = self.rows[best][column], self.rows[best][entering]
            candidates = [
                i for i in candidates if self.rows[i][column] * b == a * self.rows[i][entering]
            ]
            if len(candidates) == 1:
                break
        return candidates[0]

    def pivot(self, row: int, entering: int) -> int:
        pivot_row = self.rows[row]
        p, det = pivot_row[entering], self.det
        for i, current in enumerate(self.rows):
            if i != row:
                factor = current[entering]
                self.rows[i] = [
                    (v * p - factor * w) // det for v, w in zip(current, pivot_row, strict=True)
                ]
        self.det = p
        leaving = self.basis[row]
        self.basis[row] = entering
        return leaving

    def values(self, count: int, offset: int) -> FloatArray:
        out = np.zeros(count)
        for row, var in enumerate(self.basis):
            if offset <= var < offset + count:
                out[var - offset] = float(Fraction(self.rows[row][-1], self.det))
        return out


def _exact_path(
    A: FloatArray, B: FloatArray, label: int, max_pivots: int, deadline: float | None = None
) -> tuple[FloatArray, FloatArray]:
    """The same Lemke-Howson path in exact integer arithmetic; returns ``(x, y)``."""
    m, n = A.shape
    a_int, b_int = _integer_matrix(A), _integer_matrix(B)
    identity_n = [[int(i == j) for j in range(n)] for i in range(n)]
    identity_m = [[int(i == j) for j in range(m)] for i in range(m)]
    tab_p = _IntegerTableau(
        [[b_int[i][j] for i in range(m)] + identity_n[j] + [1] for j in range(n)],
        list(range(m, m + n)),
        list(range(m, m + n)),
    )
    tab_q = _IntegerTableau(
        [identity_m[i] + a_int[i] + [1] for i in range(m)], list(range(m)), list(range(m))
    )
    tableau, other = (tab_p, tab_q) if label < m else (tab_q, tab_p)
    entering = label
    for step in range(max_pivots):
        _check_clock(step, deadline, label)
        leaving = tableau.pivot(tableau.ratio_row(entering), entering)
        if leaving == label:
            return tab_p.values(m, 0), tab_q.values(n, m)
        entering = leaving
        tableau, other = other, tableau
    raise IterationLimitError(
        f"exact Lemke-Howson from label {label} did not finish within {max_pivots} pivots."
    )


def lemke_howson(
    game: NormalFormGame,
    initial_label: int = 0,
    *,
    max_pivots: int | None = None,
    time_limit: float | None = None,
) -> Equilibrium:
    """One equilibrium of a two-player game, reached by dropping ``initial_label``.

    Labels ``0 .. m-1`` are the row player's strategies and ``m .. m+n-1`` the column
    player's (nashpy's ``initial_dropped_label`` convention). ``max_pivots`` defaults
    to ``50 * (m + n)``; a longer path raises :class:`IterationLimitError`, and one
    still running after ``time_limit`` seconds :class:`SolverTimeLimitError` (both are
    :class:`NumericalError`).
    """
    A0, B0 = require_two_players(game, "Lemke-Howson")
    m, n = game.num_strategies
    if not 0 <= initial_label < m + n:
        raise InvalidGameError(
            f"initial_label must be in 0..{m + n - 1} for a {m}x{n} game, got {initial_label}."
        )
    limit = max_pivots if max_pivots is not None else 50 * (m + n)
    deadline = None if time_limit is None else time.perf_counter() + time_limit
    A, B = positive_scaled(A0), positive_scaled(B0)
    tab_p, tab_q = _path(A, B, initial_label, limit, deadline)
    x, y = tab_p.values(m, 0), tab_q.values(n, m)
    if x.sum() <= 0 or y.sum() <= 0:
        raise NumericalError("Lemke-Howson returned the artificial equilibrium (0, 0).")
    x, y = normalize_profile((x, y))
    # Recompute the end point from its basis (no accumulated rounding); keep the better.
    x_b = _basis_vertex(B, tab_p.basis, m, 0, m)
    y_b = _basis_vertex(np.ascontiguousarray(A.T), tab_q.basis, n, m, 0)
    if x_b is not None and y_b is not None and x_b.sum() > 0 and y_b.sum() > 0:
        exact = normalize_profile((x_b, y_b))
        if nash_conv(game, exact) <= nash_conv(game, (x, y)):
            x, y = exact
    if nash_conv(game, (x, y)) <= VERIFY_TOL * game.payoff_scale():
        return verify_equilibrium(game, (x, y), method="Lemke-Howson")
    # Rounding broke the float path (tiny pivots in a nearly degenerate game): follow
    # the same path again in exact integer arithmetic.
    x, y = _exact_path(A0, B0, initial_label, limit, deadline)
    return verify_equilibrium(game, (x, y), method="Lemke-Howson")


@dataclass(frozen=True)
class LemkeHowsonSearch:
    """Equilibria reached from the labels that finished, and the labels that did not.

    ``skipped`` maps a label to why its path was abandoned: :data:`PIVOT_LIMIT` (longer
    than ``max_pivots``; paths can be exponentially long) or :data:`TIME_LIMIT` (the
    search's time budget ran out during or before it). ``unfinished`` is only used by
    :func:`~theory.equilibria.lemke_graph.lemke_howson_graph`, which also follows paths
    from the equilibria it finds: the number of those paths abandoned, by reason.
    """

    equilibria: list[Equilibrium]
    skipped: dict[int, str] = field(default_factory=dict)
    max_pivots: int = 0
    time_limit: float | None = None
    unfinished: dict[str, int] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        """Whether every path the search set out to follow was followed to its end."""
        return not self.skipped and not any(self.unfinished.values())

    def skipped_summary(self) -> str:
        """The skipped labels grouped by reason, e.g. ``"16, 28 (longer than 10000
        pivots); 40-199 (time limit 5 s)"``; empty when none was skipped."""
        parts = []
        reasons = {
            PIVOT_LIMIT: f"longer than {self.max_pivots} pivots",
            TIME_LIMIT: f"time limit {self.time_limit:g} s" if self.time_limit else "time",
        }
        for reason, why in reasons.items():
            labels = sorted(k for k, r in self.skipped.items() if r == reason)
            if labels:
                parts.append(f"{_ranges(labels)} ({why})")
        parts.extend(
            f"{count} paths from found equilibria ({reasons.get(reason, reason)})"
            for reason, count in sorted(self.unfinished.items())
            if count
        )
        return "; ".join(parts)


def _ranges(labels: list[int]) -> str:
    """``[1, 2, 3, 7]`` -> ``"1-3, 7"``."""
    out: list[str] = []
    start = prev = labels[0]
    for k in [*labels[1:], None]:
        if k is not None and k == prev + 1:
            prev = k
            continue
        out.append(str(start) if start == prev else f"{start}-{prev}")
        if k is not None:
            start = prev = k
    return ", ".join(out)


def lemke_howson_search(
    game: NormalFormGame,
    *,
    max_pivots: int | None = None,
    time_limit: float | None = None,
) -> LemkeHowsonSearch:
    """Lemke-Howson from every label in turn, skipping paths that run too long.

    A random 100x100 game has labels whose paths need more than ``50 * (m + n)``
    pivots, and following all of them can take tens of seconds, so a label whose path
    exceeds ``max_pivots`` is skipped, and once ``time_limit`` seconds (for the whole
    search) have passed the current and remaining labels are skipped; the result lists
    them. Any other failure is raised. Raises :class:`IterationLimitError` or
    :class:`SolverTimeLimitError` when no label finished at all.
    """
    m, n = require_two_players(game, "Lemke-Howson")[0].shape
    limit = max_pivots if max_pivots is not None else 50 * (m + n)
    deadline = None if time_limit is None else time.perf_counter() + time_limit
    found: list[Equilibrium] = []
    skipped: dict[int, str] = {}
    for label in range(m + n):
        remaining = None if deadline is None else deadline - time.perf_counter()
        if remaining is not None and remaining <= 0:
            skipped[label] = TIME_LIMIT
            continue
        try:
            found.append(lemke_howson(game, label, max_pivots=limit, time_limit=remaining))
        except SolverTimeLimitError:
            skipped[label] = TIME_LIMIT
        except IterationLimitError:
            skipped[label] = PIVOT_LIMIT
    search = LemkeHowsonSearch(sort_equilibria(found), skipped, limit, time_limit)
    if not found:
        error = SolverTimeLimitError if TIME_LIMIT in skipped.values() else IterationLimitError
        raise error(
            f"Lemke-Howson finished from no label of this {m}x{n} game: "
            f"{search.skipped_summary()}. Fix: raise max_pivots or time_limit."
        )
    return search


def lemke_howson_all(
    game: NormalFormGame,
    *,
    max_pivots: int | None = None,
    time_limit: float | None = None,
) -> list[Equilibrium]:
    """The distinct equilibria reached by Lemke-Howson from every one of the m+n labels.

    In a nondegenerate game these include every equilibrium on the Lemke-Howson graph's
    paths from (0, 0); they need not be *all* equilibria (use vertex enumeration for
    that on small games). Labels whose paths exceed ``max_pivots`` or the
    ``time_limit`` are skipped (:func:`lemke_howson_search` says which).
    """
    return lemke_howson_search(game, max_pivots=max_pivots, time_limit=time_limit).equilibria
