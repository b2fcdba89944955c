"""The zero-sum LP by the parametric self-dual simplex method, from a guessed basis.

For a matrix ``M >= 1`` (m x n) the LP of :mod:`theory.equilibria.zero_sum` is

    minimise 1^T u   subject to   M^T u - s = 1,   u >= 0,  s >= 0.

A basis is described by its *kernel*: the rows ``S`` whose ``u_i`` are basic and the
columns ``J`` whose surplus ``s_j`` is nonbasic (tight), ``|S| = |J| = k``; the other
surpluses ``s_T`` (``T`` = the remaining columns) are basic. With ``K = M[S, J]`` the
basic solution is ``u_S = K^-T 1``, ``s_T = M[S, T]^T u_S - 1`` and the dual is
``w_J = K^-1 1`` (the column player's strategy, up to scale), so a good guess of the
two supports (regret matching+ ranks them well) is a nearly optimal basis. HiGHS
cannot start from a given basis through scipy, so this module walks from it.

The parametric self-dual simplex method (Dantzig; Vanderbei, *Linear Programming*,
ch. 7) perturbs the right-hand side and the costs by ``mu`` times vectors chosen so that
the starting basis is optimal for every large ``mu``, then lowers ``mu`` to 0: at each
step the first basic value or reduced cost to reach zero as ``mu`` falls decides a
dual or a primal simplex pivot. From a guess that is off by a few dozen strategies
this takes a few dozen pivots. Each computes the pivot row and the pivot column
(one matrix-vector product with ``M`` each), updates the basic values and reduced
costs with them (the textbook simplex update, checked by the pivot element both must
share) and updates ``K^-1`` in ``O(k^2)`` (rank-one replacements, bordering for a
growing or shrinking kernel); every :data:`REFACTOR_EVERY` pivots ``K^-1`` is
refactorised and the values recomputed from ``M``. The products are single-threaded
(:func:`theory.equilibria._rm.matvec`: they do not stall on a loaded machine, as
multithreaded BLAS does) and one vector at a time, and the rank-one updates run in
place through a reused buffer: temporaries of ``k^2`` entries cost more in page faults
than in arithmetic.

The result is a guess like any other: :func:`solve_from_basis` returns ``None`` when a
pivot is numerically unsafe, the pivot budget or the deadline runs out, or an
unbounded ratio test says something went wrong, and the caller verifies the returned
profile by its duality gap on the full matrix (falling back to HiGHS).
"""

from __future__ import annotations

import time

import numpy as np
from numpy.typing import NDArray

from theory.equilibria._rm import matvec, vecmat

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]

# Pivots between two refactorisations of K^-1 (and recomputations of every basic value
# and reduced cost) from M.
REFACTOR_EVERY = 64
# The pivot element computed from the row and from the column must agree to this
# (relative); otherwise the values are recomputed from a fresh K^-1.
AGREE_TOL = 1e-7
# A basic value or reduced cost counts as moving with mu when its mu-coefficient
# exceeds this; ratio tests ignore entries below it (payoffs are scaled to [1, 2]).
STEP_TOL = 1e-11
# A pivot element (relative to the row or column it updates) smaller than this makes
# the pivot unsafe: give up and let HiGHS solve the LP.
PIVOT_TOL = 1e-9
# Seed of the random perturbation rates.
PERTURBATION_SEED = 20260
# Pivots at most by default, as a multiple of m + n, plus PIVOT_BUDGET_EXTRA. A good
# guess needs 1-5% of m + n; from a poor one the walk needs a few times m + n, and
# HiGHS solves the LP sooner (at 1000x1000 its LP costs about as much as 300-500
# pivots), so the walk gives up.
PIVOT_BUDGET = 0.1
PIVOT_BUDGET_EXTRA = 50


class _Kernel:
    """``K = M[S, J]`` with its explicit inverse (rows of ``K^-1`` follow ``J``, columns
    follow ``S``), kept up to date under the four kinds of simplex pivots."""

    def __init__(self, M: FloatArray, rows: IntArray, cols: IntArray) -> None:
        self.M = M
        self.S = [int(i) for i in rows]
        self.J = [int(j) for j in cols]
        self.inverse = np.zeros((0, 0))
        self._buffer = np.zeros((0, 0))
        self.refactor()

    def refactor(self) -> None:
        if not self.S:
            self.inverse = np.zeros((0, 0))
            return
        self.inverse = np.ascontiguousarray(np.linalg.inv(self.M[np.ix_(self.S, self.J)]))

    def _rank_one(self, scale: float, left: FloatArray, right: FloatArray) -> None:
        """``inverse += scale * outer(left, right)`` in place, through a reused buffer
        (no BLAS threads, no fresh ``k^2`` temporary)."""
        shape = self.inverse.shape
        if self._buffer.shape != shape:
            self._buffer = np.empty(shape)
        np.multiply((scale * left)[:, None], right[None, :], out=self._buffer)
        self.inverse += self._buffer

    def replace_row(self, p: int, i: int) -> bool:
        """Row ``S[p]`` leaves the kernel, row ``i`` takes its place."""
        z = vecmat(self.M[i, self.J], self.inverse)
        if abs(z[p]) < PIVOT_TOL * max(1.0, float(np.abs(z).max())):
            return False
        scale = -1.0 / z[p]
        z[p] -= 1.0
        self._rank_one(scale, self.inverse[:, p].copy(), z)
        self.S[p] = i
        return True

    def replace_column(self, q: int, t: int) -> bool:
        """Column ``J[q]`` leaves the kernel, column ``t`` takes its place."""
        g = matvec(self.inverse, self.M[self.S, t])
        if abs(g[q]) < PIVOT_TOL * max(1.0, float(np.abs(g).max())):
            return False
        scale = -1.0 / g[q]
        g[q] -= 1.0
        self._rank_one(scale, g, self.inverse[q, :].copy())
        self.J[q] = t
        return True

    def grow(self, i: int, t: int) -> bool:
        """Row ``i`` and column ``t`` join the kernel (bordering)."""
        b, c, d = self.M[self.S, t], self.M[i, self.J], float(self.M[i, t])
        g, h = matvec(self.inverse, b), vecmat(c, self.inverse)
        sigma = d - float(c @ g)
        if abs(sigma) < PIVOT_TOL * max(1.0, abs(d)):
            return False
        k = len(self.S)
        out = np.zeros((k + 1, k + 1))
        out[:k, :k] = self.inverse
        self.inverse = out
        self._rank_one(1.0 / sigma, np.append(g, -1.0), np.append(h, -1.0))
        out[k, k] = 1.0 / sigma
        self.S.append(i)
        self.J.append(t)
        return True

    def shrink(self, p: int, q: int) -> bool:
        """Row ``S[p]`` and column ``J[q]`` leave the kernel."""
        inv = self.inverse
        pivot = float(inv[q, p])
        if abs(pivot) < PIVOT_TOL * max(1.0, float(np.abs(inv[q]).max())):
            return False
        self._rank_one(-1.0 / pivot, inv[:, p].copy(), inv[q, :].copy())
        keep_rows = np.delete(np.arange(len(self.J)), q)
        keep_cols = np.delete(np.arange(len(self.S)), p)
        self.inverse = np.ascontiguousarray(inv[np.ix_(keep_rows, keep_cols)])
        del self.S[p]
        del self.J[q]
        return True


def solve_from_basis(
    M: FloatArray,
    rows: IntArray,
    cols: IntArray,
    deadline: float | None = None,
    max_pivots: int | None = None,
) -> tuple[FloatArray, FloatArray] | None:
    """Optimal ``(x, y)`` of the zero-sum game ``M`` (entries >= 1) from the kernel
    ``M[rows, cols]`` (``len(rows) == len(cols)``), or None (see the module docstring).
    ``max_pivots`` defaults to ``PIVOT_BUDGET * (m + n) + PIVOT_BUDGET_EXTRA``.
    """
    m, n = M.shape
    if len(rows) != len(cols) or len(rows) > min(m, n):
        return None
    try:
        walk = _Walk(M, rows, cols)
    except np.linalg.LinAlgError:
        return None
    budget = (
        max_pivots if max_pivots is not None else int(PIVOT_BUDGET * (m + n)) + PIVOT_BUDGET_EXTRA
    )
    fresh = True
    for pivot in range(budget):
        if deadline is not None and time.perf_counter() > deadline:
            return None
        if pivot and pivot % REFACTOR_EVERY == 0 and not fresh and not walk.refresh():
            return None
        step = walk.step()
        if step is None:
            return None  # unbounded ratio test or unsafe pivot
        if step == "optimal":
            return walk.profile()
        if step == "disagree":
            if fresh or not walk.refresh():
                return None  # even fresh values disagree: give up
            fresh = True
            continue
        fresh = False
    return None


def _crossing(value: FloatArray, rate: FloatArray, live: NDArray[np.bool_]) -> FloatArray:
    """For quantities ``value + mu rate``: the ``mu`` where each live one that grows
    with ``mu`` crosses zero (-inf for the others)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(live & (rate > STEP_TOL), -value / rate, -np.inf)


class _Walk:
    """The self-dual simplex walk. Variables are numbered ``0 .. m-1`` (``u_i``) and
    ``m .. m+n-1`` (``s_j``); ``value`` holds the basic values and ``reduced`` the
    reduced costs of the nonbasic variables (zero elsewhere), column 0 for the LP and
    column 1 for the perturbation."""

    def __init__(self, M: FloatArray, rows: IntArray, cols: IntArray) -> None:
        m, n = M.shape
        self.M, self.MT = M, np.ascontiguousarray(M.T)  # M @ v as rows of M^T (_rm.vecmat)
        self.m, self.n = m, n
        self.kernel = _Kernel(M, rows, cols)
        self.in_s = np.zeros(m, dtype=bool)
        self.in_s[self.kernel.S] = True
        self.in_j = np.zeros(n, dtype=bool)
        self.in_j[self.kernel.J] = True
        # Perturbations (column 1): the right-hand side moves by B r and the costs of
        # the nonbasic variables by c, so at the starting basis every basic value grows
        # with mu at rate r > 0 and every reduced cost at rate c > 0. Random rates
        # (fixed seed: the result is deterministic) keep ties, and with them cycling,
        # away: with equal rates a poor start (say, the empty kernel) ties every ratio.
        rates = np.random.default_rng(PERTURBATION_SEED).uniform(0.5, 1.5, size=(2, m + n))
        in_s, in_j = self.in_s, self.in_j
        self.rhs = (np.ones(n), vecmat(rates[0, :m] * in_s, M) - rates[0, m:] * ~in_j)
        self.cost_u = (np.ones(m), rates[1, :m] * ~in_s)
        self.cost_s1 = rates[1, m:] * in_j  # the LP's own surplus costs are zero
        self.value = np.zeros((m + n, 2))
        self.reduced = np.zeros((m + n, 2))
        self._recompute()

    def basic(self) -> NDArray[np.bool_]:
        return np.concatenate([self.in_s, ~self.in_j])

    def refresh(self) -> bool:
        """Refactorise ``K^-1`` and recompute every value from ``M``."""
        try:
            self.kernel.refactor()
        except np.linalg.LinAlgError:
            return False
        self._recompute()
        return True

    def _recompute(self) -> None:
        M, m = self.M, self.m
        S = np.array(self.kernel.S, dtype=np.intp)
        J = np.array(self.kernel.J, dtype=np.intp)
        inv = self.kernel.inverse
        T = np.flatnonzero(~self.in_j)
        self.value[:] = 0.0
        self.reduced[:] = 0.0
        for side in (0, 1):
            u = np.zeros(m)
            if len(S):
                u[S] = vecmat(self.rhs[side][J], inv)
            self.value[:m, side] = u
            self.value[m + T, side] = (vecmat(u, M) - self.rhs[side])[T]
            # Duals: pi_T = -(surplus costs), pi_J from the basic u columns.
            pi = np.zeros(self.n)
            if side == 1:
                pi[T] = -self.cost_s1[T]
            if len(S):
                target = self.cost_u[side][S]
                moved = T[pi[T] != 0.0]
                if len(moved):
                    target = target - M[np.ix_(S, moved)] @ pi[moved]
                pi[J] = matvec(inv, target)
            reduced_u = self.cost_u[side] - vecmat(pi, self.MT)
            self.reduced[:m, side] = np.where(self.in_s, 0.0, reduced_u)
            surplus_cost = self.cost_s1[J] if side == 1 else 0.0
            self.reduced[m + J, side] = surplus_cost + pi[J]

    def profile(self) -> tuple[FloatArray, FloatArray] | None:
        """Normalised strategies of the LP's basic solution: ``x`` from ``u``, ``y``
        from the duals of the tight columns (the reduced costs of their surpluses)."""
        x = np.clip(self.value[: self.m, 0], 0.0, None)
        y = np.zeros(self.n)
        y[self.kernel.J] = self.reduced[self.m + np.array(self.kernel.J, dtype=np.intp), 0]
        y = np.clip(y, 0.0, None)
        if not (x.sum() > 0 and y.sum() > 0 and np.isfinite(x).all() and np.isfinite(y).all()):
            return None
        return x / x.sum(), y / y.sum()

    def row(self, r: int) -> FloatArray:
        """Row of basic variable ``r`` in ``B^-1 N``, over all variables (zero on the
        basic ones)."""
        kernel, m = self.kernel, self.m
        J = np.array(kernel.J, dtype=np.intp)
        rho = np.zeros(self.n)
        if r < m:
            rho[J] = kernel.inverse[:, kernel.S.index(r)]
        else:
            t = r - m
            if kernel.S:
                rho[J] = matvec(kernel.inverse, self.M[kernel.S, t])
            rho[t] = -1.0
        alpha = np.concatenate([vecmat(rho, self.MT), -rho])
        alpha[self.basic()] = 0.0
        return alpha

    def column(self, e: int) -> FloatArray:
        """Column ``B^-1 a_e`` of nonbasic variable ``e``, over all variables (zero on
        the nonbasic ones)."""
        kernel, m = self.kernel, self.m
        J = np.array(kernel.J, dtype=np.intp)
        full = np.zeros(m)
        if e < m:
            a = self.M[e]
            if kernel.S:
                full[kernel.S] = vecmat(a[J], kernel.inverse)
            surplus = vecmat(full, self.M) - a
        else:
            full[kernel.S] = -kernel.inverse[kernel.J.index(e - m), :]
            surplus = vecmat(full, self.M)
        column = np.concatenate([full, surplus])
        column[~self.basic()] = 0.0
        return column

    def step(self) -> str | None:
        """One pivot: "pivoted", "optimal", "disagree" (row and column disagree on the
        pivot element: values need a refresh) or None (give up)."""
        basic = self.basic()
        value, reduced = self.value, self.reduced
        primal_mu = _crossing(value[:, 0], value[:, 1], basic)
        dual_mu = _crossing(reduced[:, 0], reduced[:, 1], ~basic)
        r, e = int(np.argmax(primal_mu)), int(np.argmax(dual_mu))
        mu = max(float(primal_mu[r]), float(dual_mu[e]))
        if mu <= 0.0:
            return "optimal"
        with np.errstate(divide="ignore", invalid="ignore"):
            if primal_mu[r] >= dual_mu[e]:
                # Dual pivot: basic r drops to zero first; the dual ratio test on its
                # row picks the entering variable.
                alpha = self.row(r)
                costs = np.maximum(reduced[:, 0] + mu * reduced[:, 1], 0.0)
                ratios = np.where(~basic & (alpha < -STEP_TOL), costs / -alpha, np.inf)
                e = int(np.argmin(ratios))
                if not np.isfinite(ratios[e]):
                    return None  # dual unbounded: impossible for this LP
                column = self.column(e)
            else:
                # Primal pivot: reduced cost e reaches zero first; the primal ratio
                # test on its column picks the leaving variable.
                column = self.column(e)
                values = np.maximum(value[:, 0] + mu * value[:, 1], 0.0)
                ratios = np.where(basic & (column > STEP_TOL), values / column, np.inf)
                r = int(np.argmin(ratios))
                if not np.isfinite(ratios[r]):
                    return None  # primal unbounded: impossible for M >= 1
                alpha = self.row(r)
        element = float(column[r])
        if abs(element - float(alpha[e])) > AGREE_TOL * max(1.0, abs(element)):
            return "disagree"
        # The simplex update of values and reduced costs, for both columns.
        theta = value[r] / element
        value -= np.outer(column, theta)
        value[e] = theta
        value[r] = 0.0
        delta = reduced[e] / element
        reduced -= np.outer(alpha, delta)
        reduced[r] = -delta
        reduced[e] = 0.0
        return "pivoted" if self._swap(r, e) else None

    def _swap(self, r: int, e: int) -> bool:
        """Update the kernel and the basis masks: ``r`` leaves, ``e`` enters."""
        kernel, m = self.kernel, self.m
        if r < m:  # u_r leaves: its row goes
            p = kernel.S.index(r)
            # u_e enters: row replacement; s_j enters: column j leaves the kernel too.
            ok = kernel.replace_row(p, e) if e < m else kernel.shrink(p, kernel.J.index(e - m))
        elif e < m:  # s_t leaves (column t becomes tight), u_e enters: the kernel grows
            ok = kernel.grow(e, r - m)
        else:  # s_t leaves, s_j enters: column j is replaced by t
            ok = kernel.replace_column(kernel.J.index(e - m), r - m)
        if not ok:
            return False
        if r < m:
            self.in_s[r] = False
        else:
            self.in_j[r - m] = True
        if e < m:
            self.in_s[e] = True
        else:
            self.in_j[e - m] = False
        return True
