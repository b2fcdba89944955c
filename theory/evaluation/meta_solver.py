"""Equilibrium selection for empirical games, on one payoff table or on a bootstrap batch.

:class:`~theory.evaluation.empirical_game.EmpiricalGame` needs *one* equilibrium per
replicate, chosen by a fixed rule so that the bootstrap distribution of "agent i's weight"
means something (the rule is stated in that module's docstring). This module applies the
rule; it is separate because the batched zero-sum LP and the support checks are the
bulk of the work and are tested on their own.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import linprog
from scipy.sparse import coo_array

from theory.equilibria import lemke_howson, solve_zero_sum
from theory.errors import NumericalError
from theory.evaluation.nash_averaging import (
    max_entropy_maximin,
    nash_averaging,
    nash_averaging_agent_vs_task,
)
from theory.games import NormalFormGame

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]

# -- equilibrium selection --------------------------------------------------------------


class EquilibriumSelector:
    """Applies the module's equilibrium-selection rule to one table or to replicates."""

    def __init__(self, symmetric: bool, constant_sum: float | None) -> None:
        self.symmetric = symmetric
        self.constant_sum = constant_sum
        if constant_sum is not None:
            self.description = (
                "maximum-entropy equilibrium (constant-sum game"
                + (", symmetric: Nash averaging's" if symmetric else "")
                + ")"
            )
        elif symmetric:
            self.description = (
                "symmetric equilibrium: Lemke-Howson from label 0 on the imitation game (M, I)"
            )
        else:
            self.description = "Lemke-Howson from label 0 (first equilibrium found)"

    def _zero_sum_part(self, tables: FloatArray) -> FloatArray:
        """``(A - B) / 2``: the zero-sum game strategically equal to a constant-sum one.

        ``tables`` is ``(..., 2, m, n)``; symmetric games are also antisymmetrised, so
        rounding cannot break the symmetry the maximum-entropy equilibrium relies on.
        """
        a0 = (tables[..., 0, :, :] - tables[..., 1, :, :]) / 2.0
        if self.symmetric:
            a0 = (a0 - np.swapaxes(a0, -1, -2)) / 2.0
        return np.asarray(a0, dtype=np.float64)

    def point(self, table: FloatArray) -> tuple[FloatArray, FloatArray, list[FloatArray] | None]:
        """Equilibrium ``(x, y)`` of the point estimate (and its Nash averaging), via theory."""
        if self.constant_sum is not None:
            a0 = self._zero_sum_part(table)
            if self.symmetric:
                res = nash_averaging(a0)
                x = np.array(res.nash)
                return x, x.copy(), [np.array(res.ratings)]
            at = nash_averaging_agent_vs_task(a0)
            return (
                np.array(at.agent_nash),
                np.array(at.task_nash),
                [np.array(at.agent_skill), np.array(at.task_difficulty)],
            )
        x, y = self._general_sum(table)
        return x, y, None

    def replicates(
        self, tables: FloatArray, x0: FloatArray, y0: FloatArray
    ) -> tuple[FloatArray, FloatArray, BoolArray]:
        """Equilibria of every replicate; ``ok[r]`` False where the solver failed."""
        runs = tables.shape[0]
        xs = np.full((runs, x0.size), np.nan)
        ys = np.full((runs, y0.size), np.nan)
        ok = np.zeros(runs, dtype=bool)
        if self.constant_sum is not None:
            games = self._zero_sum_part(tables)
            guess = batched_zero_sum_lp(games) if runs else None
        for r in range(runs):
            try:
                if self.constant_sum is None:
                    x, y = self._general_sum(tables[r])
                else:
                    found = None
                    if guess is not None:
                        s = np.flatnonzero(guess[0][r] > 1e-9)
                        t = np.flatnonzero(guess[1][r] > 1e-9)
                        found = unique_on_support(games[r], s, t)
                    x, y = found if found is not None else self._max_entropy(games[r])
                    if self.symmetric:
                        y = x.copy()
            except (NumericalError, np.linalg.LinAlgError):
                continue
            xs[r], ys[r], ok[r] = x, y, True
        return xs, ys, ok

    def _general_sum(self, table: FloatArray) -> tuple[FloatArray, FloatArray]:
        if self.symmetric:
            m = table[0]
            imitation = NormalFormGame.from_bimatrix(m, np.eye(m.shape[0]))
            eq = lemke_howson(imitation, 0)
            y = np.asarray(eq.strategies[1], dtype=np.float64)
            return y, y.copy()
        eq = lemke_howson(NormalFormGame.from_bimatrix(table[0], table[1]), 0)
        return (
            np.asarray(eq.strategies[0], dtype=np.float64),
            np.asarray(eq.strategies[1], dtype=np.float64),
        )

    def _max_entropy(self, a: FloatArray) -> tuple[FloatArray, FloatArray]:
        """The maximum-entropy equilibrium of the zero-sum game ``a`` (row maximises).

        The exact LP first; if its equilibrium is the only one it is the answer,
        otherwise theory's :func:`max_entropy_maximin` picks the maximum-entropy point
        of the optimal face for each player.
        """
        sol = solve_zero_sum(a)
        found = unique_on_support(
            a, np.flatnonzero(sol.row > 1e-12), np.flatnonzero(sol.col > 1e-12)
        )
        if found is not None:
            return found
        x, _ = max_entropy_maximin(a, value=sol.value)
        if self.symmetric:
            return x, x.copy()
        y, _ = max_entropy_maximin(-a.T, value=-sol.value)
        return x, y


def batched_zero_sum_lp(games: FloatArray) -> tuple[FloatArray, FloatArray] | None:
    """Optimal strategies of many zero-sum games ``(R, m, n)`` from one block LP.

    Replicate ``r``'s block maximises ``v_r`` subject to ``A_r^T x_r >= v_r``,
    ``sum(x_r) = 1``, ``x_r >= 0``; the blocks share no variable, so maximising the sum
    of the ``v_r`` solves each, and the column strategies are the duals of the
    ``A_r^T x_r >= v_r`` rows. One HiGHS call for 200 replicates of a 10x10 game takes
    about 0.1 s, against about 1.5 s for 200 separate calls (scipy's per-call overhead
    dominates small LPs). The result is only a guess of the supports: each replicate is
    then verified exactly by :func:`unique_on_support`. Returns None if HiGHS fails.
    """
    runs, m, n = games.shape
    width = m + 1
    block = np.arange(runs)[:, None, None]
    i = np.arange(m)[None, :, None]
    j = np.arange(n)[None, None, :]
    shape = (runs, m, n)
    ineq_rows = np.concatenate(
        [
            np.broadcast_to(block * n + j, shape).ravel(),
            (np.arange(runs)[:, None] * n + np.arange(n)).ravel(),
        ]
    )
    ineq_cols = np.concatenate(
        [
            np.broadcast_to(block * width + i, shape).ravel(),
            np.repeat(np.arange(runs) * width + m, n),
        ]
    )
    ineq_vals = np.concatenate([-games.ravel(), np.ones(runs * n)])
    a_ub = coo_array((ineq_vals, (ineq_rows, ineq_cols)), shape=(runs * n, runs * width)).tocsr()
    eq_cols = (np.arange(runs)[:, None] * width + np.arange(m)).ravel()
    a_eq = coo_array(
        (np.ones(runs * m), (np.repeat(np.arange(runs), m), eq_cols)), shape=(runs, runs * width)
    ).tocsr()
    cost = np.zeros(runs * width)
    cost[m::width] = -1.0
    bounds = np.zeros((runs * width, 2))
    bounds[:, 1] = np.inf
    bounds[m::width, 0] = -np.inf
    res = linprog(
        cost,
        A_ub=a_ub,
        b_ub=np.zeros(runs * n),
        A_eq=a_eq,
        b_eq=np.ones(runs),
        bounds=bounds,
        method="highs",
    )
    if res.status != 0 or res.x is None:
        return None
    x = res.x.reshape(runs, width)[:, :m]
    y = -np.asarray(res.ineqlin.marginals).reshape(runs, n)
    return np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)


def unique_on_support(
    a: FloatArray, s: NDArray[np.intp], t: NDArray[np.intp]
) -> tuple[FloatArray, FloatArray] | None:
    """The zero-sum equilibrium with row support ``s`` and column support ``t``, if it is
    the game's only one; else None.

    Solves the indifference systems ``A_st y = v 1``, ``A_st^T x = v 1`` (square,
    ``|s| = |t|``) and accepts the result when it is an equilibrium with *strict*
    complementarity: weights on the supports positive and every strategy off them
    strictly worse. Then every optimal strategy of either player lives on the same
    support and solves the same nonsingular system, so the equilibrium is unique (and
    is therefore also the maximum-entropy one). Margins are relative to the payoff
    scale; a near-degenerate replicate fails the test and takes the slow path instead.
    """
    k = s.size
    if k == 0 or k != t.size:
        return None
    m, n = a.shape
    scale = max(1.0, float(np.max(np.abs(a))))
    sub = a[np.ix_(s, t)]
    lhs = np.zeros((2, k + 1, k + 1))
    lhs[0, :k, :k] = sub
    lhs[1, :k, :k] = sub.T
    lhs[:, :k, k] = -1.0
    lhs[:, k, :k] = 1.0
    rhs = np.zeros((2, k + 1, 1))
    rhs[:, k, 0] = 1.0
    try:
        sol = np.linalg.solve(lhs, rhs)[:, :, 0]
    except np.linalg.LinAlgError:
        return None
    if not np.all(np.isfinite(sol)):
        return None
    y_t, v = sol[0, :k], float(sol[0, k])
    x_s, v2 = sol[1, :k], float(sol[1, k])
    if abs(v - v2) > 1e-9 * scale or np.any(y_t <= 1e-9) or np.any(x_s <= 1e-9):
        return None
    x = np.zeros(m)
    y = np.zeros(n)
    x[s], y[t] = x_s, y_t
    rows = a @ y
    cols = x @ a
    margin = 1e-7 * scale
    off_s = np.ones(m, dtype=bool)
    off_s[s] = False
    off_t = np.ones(n, dtype=bool)
    off_t[t] = False
    if np.any(rows[off_s] >= v - margin) or np.any(cols[off_t] <= v + margin):
        return None
    if np.max(np.abs(rows[s] - v)) > 1e-9 * scale or np.max(np.abs(cols[t] - v)) > 1e-9 * scale:
        return None
    return x, y
