"""Exact solution of two-player zero-sum matrix games by one linear program.

The row player maximises ``x^T A y`` and the column player minimises it. After an affine
rescaling ``M = (A - min A) / range + 1`` (so ``1 <= M <= 2``; equilibria are unchanged
and the LP is well scaled whatever the payoff units), the classic LP

    minimise 1^T u   subject to   M^T u >= 1,  u >= 0

has optimum ``1 / v(M)`` with ``x = u v(M)`` a maximin strategy. Its dual,
``maximise 1^T w  s.t.  M w <= 1, w >= 0``, gives the column player's minimax strategy
``y = w v(M)`` and HiGHS returns it as the constraint marginals. One solve therefore
yields both strategies; nashpy's ``linear_program`` solves two LPs, one per player.

Large games (``m n >= RESTRICTED_MIN_ENTRIES``) start from a guess. A quick
regret-matching+ run (float32 products, ~500 iterations at 1000x1000) gives
approximate strategies whose payoff vectors ``M ybar`` and ``xbar^T M`` rank every
strategy; the best-ranked rows and columns, about as many as the estimated support
size, form a basis of the LP (its kernel ``M[S, J]``) that is nearly optimal. The
parametric self-dual simplex method of :mod:`theory.equilibria._selfdual` walks from
it to the optimum, typically in 10-50 pivots at 1000x1000, each a few matrix-vector
products, instead of solving the LP from scratch (HiGHS cannot be warm-started
through scipy). If the walk gives up (its pivot budget, a numerically unsafe pivot),
a *restricted* LP runs: the ~55% best-ranked rows and columns form a sub-game solved
by HiGHS, and every left-out strategy is checked against the result; violators are
added and the sub-game re-solved once, and failing that the full LP runs. Either way
the guess only chooses where to look: the profile is accepted only when its duality
gap on the *full* matrix is at most ``POLISH_ABOVE``. (Solving only the square
equalizer system on the guessed support fails: RM+ misranks a few strategies near the
boundary, and simultaneous corrections of the support oscillate; the simplex pivots
fix them one at a time.)

When the LP's answer leaves a duality gap above ``POLISH_ABOVE`` (on the rescaled
matrix), it is *polished*: on the supports the LP found, the equalizer equations are
solved exactly, which removes the LP's feasibility tolerance (~1e-9) from the
strategies; the polished profile is kept only when it is a better equilibrium. Finally
the duality gap on the original payoffs, which is the profile's NashConv, is held to
the bound of :func:`theory.equilibria.best_response.verify_equilibrium`
(``tol x max(1, payoff range)``), so a returned solution always passes that check.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import OptimizeWarning, linprog
from scipy.sparse import csc_array

from theory.equilibria._polytope import indifference_systems, positive_scaled
from theory.equilibria._rm import duality_gap, regret_matching_plus
from theory.equilibria._selfdual import solve_from_basis
from theory.equilibria.best_response import VERIFY_TOL, normalize_profile
from theory.errors import InvalidGameError, NumericalError, SolverTimeLimitError
from theory.games import NormalFormGame

__all__ = ["ZeroSumSolution", "as_matrix", "duality_gap", "solve_zero_sum"]

FloatArray = NDArray[np.float64]

# Dual simplex wins on small games; HiGHS's interior-point solver (IPX) wins once the
# dense constraint matrix has more than ~10^5 entries (measured: 1000x1000 takes ~10 s
# with dual simplex and ~2 s with IPX on a 2-core machine).
IPM_MIN_ENTRIES = 100_000
POLISH_ABOVE = 1e-11
# From this many payoff entries on, solve_zero_sum first tries the restricted LP (see
# _restricted_strategies). Below it a full LP takes < 0.3 s and guessing does not pay.
RESTRICTED_MIN_ENTRIES = 250_000
# RM+ runs to this duality gap on the [1, 2] scale (~150-350 iterations at 1000x1000).
GUESS_GAP = 2e-5
GUESS_MAX_ITERS = 2_000
# The simplex walk starts from a kernel this much larger than the estimated support
# (the estimate runs ~2% short: measured on random 600x600 to 1500x1500 games, this
# factor needs the fewest pivots, ~10-50 instead of 10-60 without it).
GUESS_SUPPORT_FACTOR = 1.02
# LP candidate sets are this much larger than the estimated support, plus a few.
CANDIDATE_FACTOR = 1.12
CANDIDATE_EXTRA = 8
RESTRICTED_ROUNDS = 2


@dataclass(frozen=True, eq=False)
class ZeroSumSolution:
    """Maximin strategy of the row player, minimax strategy of the column player, value.

    ``gap`` is the duality gap ``max_i (A y)_i - min_j (x^T A)_j`` of the returned
    strategies (twice their exploitability); it is zero at an exact solution.
    """

    row: FloatArray
    col: FloatArray
    value: float
    gap: float = 0.0
    iterations: int = 0


def as_matrix(A: ArrayLike | NormalFormGame) -> FloatArray:
    """The row player's payoff matrix from a matrix or a two-player zero-sum game."""
    if isinstance(A, NormalFormGame):
        if A.num_players != 2 or not A.is_zero_sum():
            raise InvalidGameError(
                f"{A!r} is not a two-player zero-sum game. Fix: use support or vertex "
                "enumeration (or Lemke-Howson) for general-sum games."
            )
        return np.asarray(A.payoffs[0], dtype=np.float64)
    matrix = np.asarray(A, dtype=np.float64)
    if (
        matrix.ndim != 2
        or matrix.size == 0
        or not np.all(np.isfinite(matrix))
        or not np.isfinite(float(matrix.max()) - float(matrix.min()))
    ):
        raise InvalidGameError(
            f"a zero-sum game needs a non-empty finite 2-D payoff matrix whose range fits in "
            f"float64, got shape {matrix.shape}. Fix: pass the row player's payoffs as an "
            "m x n array of finite numbers (rescale them if they are near 1e308)."
        )
    return matrix


def _equalize(M: FloatArray, rows: NDArray[np.intp], cols: NDArray[np.intp]) -> FloatArray | None:
    """Column strategy on ``cols`` making the row player indifferent over ``rows``.

    Solves the square system ``M[rows, cols] y = v 1, sum y = 1`` (``|rows| == |cols|``),
    the same indifference system support enumeration solves in batches. Returns
    ``None`` when it is singular or the solution leaves the simplex.
    """
    k = len(cols)
    system = indifference_systems(M, rows[None, :], cols[None, :])[0]
    rhs = np.zeros(k + 1)
    rhs[-1] = 1.0
    try:
        sol = np.linalg.solve(system, rhs)
    except np.linalg.LinAlgError:
        return None
    y = np.zeros(M.shape[1])
    y[cols] = sol[:k]
    if not np.all(np.isfinite(y)) or y.min() < -1e-12:
        return None
    return y


def _equalizer_polish(M: FloatArray, x: FloatArray, y: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Solve the equalizer equations on the LP's supports; keep the result if it is better."""
    threshold = 1e-9
    rows = np.flatnonzero(x > threshold)
    cols = np.flatnonzero(y > threshold)
    if len(rows) != len(cols):
        return x, y
    y_new = _equalize(M, rows, cols)
    x_new = _equalize(M.T, cols, rows)
    if y_new is None or x_new is None:
        return x, y
    x_new, y_new = normalize_profile((x_new, y_new))
    if duality_gap(M, x_new, y_new) < duality_gap(M, x, y):
        return x_new, y_new
    return x, y


def _negated_transpose_csc(M: FloatArray) -> csc_array:
    """``-M^T`` as a CSC matrix, built without scanning the dense array for zeros.

    Column ``i`` of ``-M^T`` is row ``i`` of ``-M``, contiguous in memory; handing HiGHS
    the CSC arrays directly saves linprog's dense-to-sparse conversion (~0.1 s at
    1000x1000). Explicit zeros are harmless to the LP.
    """
    m, n = M.shape
    return csc_array(
        (
            -M.reshape(-1),
            np.tile(np.arange(n, dtype=np.int32), m),
            np.arange(0, m * n + 1, n, dtype=np.int64),
        ),
        shape=(n, m),
    )


def _lp_strategies(M: FloatArray, time_limit: float | None) -> tuple[FloatArray, FloatArray]:
    """Both optimal strategies of ``M`` (all entries >= 1) from one HiGHS LP."""
    m, n = M.shape
    method = "highs-ipm" if M.size >= IPM_MIN_ENTRIES else "highs-ds"
    # HiGHS's default feasibility tolerances (1e-7) let it mix in strategies that are
    # 1e-7 worse; 1e-10 (its tightest sensible setting) costs no measurable time.
    options: dict[str, object] = {
        "primal_feasibility_tolerance": 1e-10,
        "dual_feasibility_tolerance": 1e-10,
    }
    if method == "highs-ipm":
        options["presolve"] = False
    if time_limit is not None:
        options["time_limit"] = float(time_limit)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", OptimizeWarning)
        res = linprog(
            np.ones(m),
            A_ub=_negated_transpose_csc(M),
            b_ub=-np.ones(n),
            bounds=(0, None),
            method=method,
            options=options,
        )
    if res.status == 1 and time_limit is not None:
        raise SolverTimeLimitError(
            f"HiGHS did not solve the {m}x{n} zero-sum LP within {time_limit:g} s. "
            "Fix: raise time_limit or use solve_zero_sum_first_order."
        )
    if res.status != 0 or res.x is None or res.ineqlin is None:
        raise NumericalError(
            f"HiGHS could not solve the zero-sum LP ({res.message}). Fix: check the payoffs "
            "for extreme magnitudes, or use solve_zero_sum_first_order for an approximation."
        )
    x, y = normalize_profile(
        (np.asarray(res.x, dtype=np.float64), -np.asarray(res.ineqlin.marginals, dtype=np.float64))
    )
    return x, y


def _restricted_strategies(
    M: FloatArray, deadline: float | None
) -> tuple[FloatArray, FloatArray] | None:
    """Optimal strategies of ``M`` from a guess of the supports, or ``None`` to fall back.

    RM+ gives approximate strategies whose payoff vectors ``M ybar`` and ``xbar^T M``
    rank the strategies. First the simplex walk of :mod:`theory.equilibria._selfdual`
    starts from the basis whose kernel is the best-ranked rows and columns, as many as
    the estimated support size; if it gives up, the best-ranked rows and columns, a
    little more than the estimated support size, form a sub-game solved by the LP.
    Its solution, padded with zeros, is an equilibrium of the full game exactly when no
    row outside earns more than the sub-game's maximum and no column outside less than
    its minimum (the full duality gap is checked). Violators are added and the sub-game
    re-solved (double oracle) for at most ``RESTRICTED_ROUNDS`` LPs; then ``None``.
    """
    m, n = M.shape
    # RM+ only ranks strategies, so float32 products do: they halve the memory traffic
    # of its ~1,000 matrix-vector products, which dominates its time; single-threaded
    # products do not stall on a loaded machine (see _rm.matvec).
    x_bar, y_bar, _ = regret_matching_plus(
        M.astype(np.float32), GUESS_GAP, GUESS_MAX_ITERS, deadline, single_threaded=True
    )
    row_score, col_score = M @ y_bar, x_bar @ M
    guess_gap = float(row_score.max() - col_score.min())
    support = max(
        int(np.count_nonzero(row_score >= row_score.max() - 2 * guess_gap)),
        int(np.count_nonzero(col_score <= col_score.min() + 2 * guess_gap)),
    )
    row_order, col_order = np.argsort(-row_score), np.argsort(col_score)
    # First the simplex method from the basis whose kernel is the guessed supports
    # (a few dozen pivots when the guess is good; see _selfdual).
    guess = min(int(GUESS_SUPPORT_FACTOR * support), m, n)
    walked = solve_from_basis(M, row_order[:guess], col_order[:guess], deadline)
    if walked is not None:
        x, y = walked
        if duality_gap(M, x, y) > POLISH_ABOVE:
            x, y = _equalizer_polish(M, x, y)
        if duality_gap(M, x, y) <= POLISH_ABOVE:
            return x, y
    k = int(CANDIDATE_FACTOR * support) + CANDIDATE_EXTRA
    if k >= 0.8 * min(m, n):
        return None  # the sub-game would cost nearly as much as the full LP
    rows = np.sort(row_order[:k])
    cols = np.sort(col_order[:k])
    for _ in range(RESTRICTED_ROUNDS):
        remaining = None if deadline is None else deadline - time.perf_counter()
        if remaining is not None and remaining <= 0:
            return None
        try:
            x_sub, y_sub = _lp_strategies(M[np.ix_(rows, cols)], remaining)
        except NumericalError:
            return None  # the full LP decides
        x, y = np.zeros(m), np.zeros(n)
        x[rows], y[cols] = x_sub, y_sub
        row_payoff, col_payoff = M @ y, x @ M
        high, low = float(row_payoff[rows].max()), float(col_payoff[cols].min())
        if float(row_payoff.max() - col_payoff.min()) <= POLISH_ABOVE:
            return x, y
        new_rows = np.flatnonzero(row_payoff > high + POLISH_ABOVE)
        new_cols = np.flatnonzero(col_payoff < low - POLISH_ABOVE)
        if len(new_rows) + len(new_cols) == 0:
            return None
        rows = np.union1d(rows, new_rows)
        cols = np.union1d(cols, new_cols)
    return None


def solve_zero_sum(
    A: ArrayLike | NormalFormGame,
    *,
    tol: float = VERIFY_TOL,
    time_limit: float | None = None,
) -> ZeroSumSolution:
    """Exact maximin/minimax strategies and the value of the zero-sum game ``A``.

    ``A`` is the row player's payoff matrix (or a two-player zero-sum
    :class:`NormalFormGame`). Raises :class:`NumericalError` if the returned profile's
    duality gap, which is its NashConv, exceeds ``tol * max(1, payoff range)``, the
    bound :func:`~theory.equilibria.best_response.verify_equilibrium` applies (never
    expected for a finite matrix; it guards against solver failures), and
    :class:`SolverTimeLimitError` if
    HiGHS does not finish within ``time_limit`` seconds (default: no limit). Games with
    at least ``RESTRICTED_MIN_ENTRIES`` payoffs first try the verified simplex walk from
    an RM+ guess, then the restricted LP, of the module docstring; the result is exact
    to the same tolerance either way.
    """
    matrix = as_matrix(A)
    low, high = float(matrix.min()), float(matrix.max())
    spread = high - low
    if spread == 0.0:  # every profile is an equilibrium; return the uniform one
        m, n = matrix.shape
        return ZeroSumSolution(np.full(m, 1.0 / m), np.full(n, 1.0 / n), low)
    M = positive_scaled(matrix)
    deadline = None if time_limit is None else time.perf_counter() + time_limit
    try:
        profile = None
        if M.size >= RESTRICTED_MIN_ENTRIES:
            profile = _restricted_strategies(M, deadline)
        if profile is None:
            remaining = None if deadline is None else deadline - time.perf_counter()
            if remaining is not None and remaining <= 0:
                raise SolverTimeLimitError("time limit reached before the full LP")
            profile = _lp_strategies(M, remaining)
    except SolverTimeLimitError:  # name the caller's game and limit, not a sub-problem's
        m, n = M.shape
        raise SolverTimeLimitError(
            f"HiGHS did not solve the {m}x{n} zero-sum LP within {time_limit:g} s. "
            "Fix: raise time_limit or use solve_zero_sum_first_order."
        ) from None
    x, y = profile
    # HiGHS's basic solutions are usually exact to ~1e-14 on the [1, 2] scale; polishing
    # costs two dense solves, so it only runs when the LP left a visible gap.
    gap = duality_gap(matrix, x, y)
    if gap > POLISH_ABOVE * spread:
        x, y = _equalizer_polish(M, x, y)
        gap = duality_gap(matrix, x, y)
    # The duality gap is the profile's NashConv, so this is verify_equilibrium's test
    # (NashConv <= tol x payoff scale) without building a NormalFormGame.
    if not gap <= tol * max(1.0, spread):
        raise NumericalError(
            f"the zero-sum LP solution has duality gap {gap:.3g}, above the verification "
            f"tolerance {tol * max(1.0, spread):.3g}. Fix: rescale the payoffs or use "
            "solve_zero_sum_first_order."
        )
    value = float(x @ matrix @ y)
    return ZeroSumSolution(x, y, value, max(gap, 0.0))
