"""Nash averaging: the maximum-entropy Nash of an antisymmetric meta-game (Balduzzi et al.)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import linprog, minimize
from scipy.special import logsumexp

from theory.equilibria import solve_zero_sum
from theory.errors import InvalidGameError, NumericalError, UnsupportedGameError
from theory.games import ZERO_SUM_TOL, NormalFormGame

FloatArray = NDArray[np.float64]


def _matrix(values: ArrayLike, what: str) -> FloatArray:
    try:
        m = np.array(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidGameError(f"{what} must be a numeric matrix: {exc}.") from exc
    if m.ndim != 2 or m.size == 0:
        raise InvalidGameError(f"{what} must be a non-empty 2-D matrix, got shape {m.shape}.")
    if not np.all(np.isfinite(m)):
        raise InvalidGameError(f"{what} has NaN or infinite entries. Fix: use finite values.")
    return m


def max_entropy_maximin(
    matrix: ArrayLike,
    *,
    value: float | None = None,
) -> tuple[FloatArray, float]:
    """The maximum-entropy maximin strategy of the row player of a zero-sum matrix game.

    The row player maximises ``x^T M y``. Its optimal (maximin) strategies form the
    polytope ``P = {p in simplex : M^T p >= v}`` with ``v`` the game value; entropy is
    strictly concave, so ``argmax_{p in P} H(p)`` is unique. It is computed in four
    steps, each checkable:

    1. ``v`` by linear programming (:func:`theory.equilibria.solve_zero_sum`), unless
       given (an antisymmetric matrix has ``v = 0`` exactly).
    2. One LP over the cone ``{y >= 0 : M^T y >= v 1^T y}`` (the optimal strategies,
       unnormalised) finds the *maximal support* ``S`` (rows positive in some optimal
       strategy) and the *tight* columns ``T`` (``(M^T p)_j = v`` for every optimal
       ``p``): maximise ``sum z + sum w`` with ``0 <= z, w <= 1``, ``z_i <= y_i`` and
       ``w_j <= (M^T y)_j - v 1^T y``. The cone is closed under scaling, so at the
       optimum ``z_i = 1`` exactly on ``S`` and ``w_j = 1`` exactly off ``T``.
    3. The maximum-entropy point lies in the relative interior of ``P``: its support is
       ``S`` and only the ``T`` constraints bind. So it maximises entropy on the affine
       set ``{q on S : (M_S^T q)_T = v, sum q = 1}``, whose convex dual
       ``min_mu logsumexp(M_ST mu) - v sum(mu)`` is unconstrained and smooth; Newton's
       method (exact Hessian, least-norm steps, backtracking) solves it to machine
       precision and ``p = softmax(M_ST mu)``.
    4. A polish by the least-norm correction that makes the ``T`` constraints hold
       exactly, then a check of every constraint. Should the check fail (a column
       misclassified at the LP's tolerance) the bound-constrained dual over all
       columns is solved instead by L-BFGS-B.

    The LP imposes ``M^T y >= v 1^T y`` with no slack (a slack would scale with ``y``)
    and caps ``y`` at ``1e6``: a strategy whose shortfall from the value is within
    HiGHS's feasibility tolerance (about ``1e-7``) may count as optimal, and one whose
    weight is below ``1e-6`` of the largest in every optimal strategy may be missed. Returns
    ``(p, v)``; raises :class:`NumericalError` if the result violates optimality by more
    than ``1e-7 * scale`` (``scale = max(1, max|M|)``).
    """
    m = _matrix(matrix, "matrix")
    n_rows = m.shape[0]
    scale = max(1.0, float(np.max(np.abs(m))))
    v = float(solve_zero_sum(m).value) if value is None else float(value)
    support, tight = _optimal_face(m, v)
    idx = np.flatnonzero(support)
    p = np.zeros(n_rows)
    if idx.size == 1:
        p[idx[0]] = 1.0
        return p, v
    sub = m[idx, :]
    polished = _onto_tight_constraints(sub[:, tight], _maxent_affine(sub[:, tight], v, scale), v)
    if polished is None or float(np.max(v - sub.T @ polished)) > 1e-9 * scale:
        q = _maxent_inequality(sub, v)
    else:
        q = polished
    violation = float(np.max(v - sub.T @ q))
    if violation > 1e-7 * scale or np.any(q < 0):
        raise NumericalError(
            f"the maximum-entropy strategy violates optimality by {violation:.3g}. "
            "Fix: rescale the payoffs (entries of order 1 work best)."
        )
    p[idx] = q
    return p, v


_CONE_CAP = 1e6


def _optimal_face(m: FloatArray, v: float) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
    """Maximal support rows and tight columns of ``{p in simplex : M^T p >= v}`` (one LP)."""
    n_rows, n_cols = m.shape
    # variables [y (n_rows), z (n_rows), w (n_cols)]; maximise sum(z) + sum(w)
    cost = np.concatenate([np.zeros(n_rows), -np.ones(n_rows), -np.ones(n_cols)])
    cone = np.hstack([-(m - v).T, np.zeros((n_cols, n_rows)), np.eye(n_cols)])  # w <= (M-v)^T y
    link = np.hstack([-np.eye(n_rows), np.eye(n_rows), np.zeros((n_rows, n_cols))])  # z <= y
    # The cone is unbounded, which HiGHS handles badly on larger games; capping y at
    # _CONE_CAP keeps the LP bounded at the cost of missing strategies whose weight in
    # every optimal strategy is below 1/_CONE_CAP of the largest weight.
    res = None
    for cap in (_CONE_CAP, _CONE_CAP**0.5):
        res = linprog(
            cost,
            A_ub=np.vstack([cone, link]),
            b_ub=np.zeros(n_cols + n_rows),
            bounds=[(0.0, cap)] * n_rows + [(0.0, 1.0)] * (n_rows + n_cols),
            method="highs",
        )
        if res.status == 0:
            break
    if res is None or res.status != 0:
        raise NumericalError(
            f"the LP for the optimal strategies failed ({res.message if res else ''}). "
            "Fix: omit value= so it is computed, or rescale the payoffs."
        )
    support = np.asarray(res.x[n_rows : 2 * n_rows] > 0.5)
    tight = np.asarray(res.x[2 * n_rows :] < 0.5)
    if not support.any():
        raise NumericalError(
            "no strategy reaches the game value: the value passed is too high. "
            "Fix: omit value= so it is computed."
        )
    return support, tight


def _maxent_affine(g: FloatArray, v: float, scale: float) -> FloatArray:
    """argmax H(q) on ``{q in open simplex : g^T q = v}`` by Newton on the dual."""
    n, k = g.shape
    if k == 0:
        return np.full(n, 1.0 / n)
    mu = np.zeros(k)

    def dual(x: FloatArray) -> tuple[float, FloatArray, FloatArray]:
        logits = g @ x
        lse = float(logsumexp(logits))
        q = np.exp(logits - lse)
        return lse - v * float(x.sum()), q, g.T @ q - v

    f, q, grad = dual(mu)
    for _ in range(200):
        if float(np.max(np.abs(grad))) <= 1e-14 * scale:
            break
        centred = g - q @ g  # rows of g minus their q-mean
        hessian = centred.T @ (q[:, None] * centred)
        # least-norm Newton step through the eigendecomposition (the Hessian is PSD
        # and singular whenever constraints are redundant, e.g. duplicated agents)
        eigval, eigvec = np.linalg.eigh(hessian)
        keep = eigval > 1e-12 * max(float(eigval[-1]), 1e-300)
        step = -eigvec[:, keep] @ ((eigvec[:, keep].T @ grad) / eigval[keep])
        slope = float(grad @ step)
        if slope >= 0:  # the least-norm step is no descent direction: rounding dominates
            break
        t = 1.0
        while t > 1e-12:
            f_new, q_new, grad_new = dual(mu + t * step)
            if f_new <= f + 1e-4 * t * slope:
                break
            t *= 0.5
        else:
            break
        mu = mu + t * step
        f, q, grad = f_new, q_new, grad_new
    return q


def _maxent_inequality(sub: FloatArray, v: float) -> FloatArray:
    """argmax H(q) on ``{q in simplex : sub^T q >= v}`` by L-BFGS-B on the dual (fallback)."""
    n_cols = sub.shape[1]

    def dual(lam: FloatArray) -> tuple[float, FloatArray]:
        logits = sub @ lam
        lse = float(logsumexp(logits))
        q = np.exp(logits - lse)
        return lse - v * float(lam.sum()), sub.T @ q - v

    res = minimize(
        dual,
        np.zeros(n_cols),
        jac=True,
        method="L-BFGS-B",
        bounds=[(0.0, None)] * n_cols,
        options={"ftol": 0.0, "gtol": 1e-13, "maxiter": 20_000},
    )
    logits = sub @ res.x
    return np.asarray(np.exp(logits - logsumexp(logits)), dtype=np.float64)


def _onto_tight_constraints(g: FloatArray, q: FloatArray, v: float) -> FloatArray | None:
    """Least-norm move of ``q`` onto ``{g^T q = v, sum(q) = 1}``; ``None`` if it leaves q >= 0."""
    lhs = np.vstack([g.T, np.ones((1, q.size))])
    target = np.concatenate([np.full(g.shape[1], v), [1.0]])
    moved = q + np.linalg.lstsq(lhs, target - lhs @ q, rcond=None)[0]
    if np.any(moved <= 0):
        return None
    return np.asarray(moved, dtype=np.float64)


@dataclass(frozen=True)
class NashAveragingResult:
    """Nash averaging of agents against agents.

    ``nash`` is the maximum-entropy Nash equilibrium of the symmetric zero-sum
    meta-game (the same mixture for both players); ``ratings[i] = (A @ nash)[i]`` is
    agent ``i``'s expected payoff against it: 0 for agents in the support, negative
    for agents the equilibrium beats.
    """

    nash: FloatArray
    ratings: FloatArray
    labels: tuple[str, ...]

    @property
    def support(self) -> NDArray[np.bool_]:
        return np.asarray(self.nash > 0.0)

    @property
    def entropy(self) -> float:
        p = self.nash[self.nash > 0]
        return float(-np.sum(p * np.log(p)))

    def ranking(self) -> list[str]:
        """Labels from best to worst rating (stable for ties)."""
        order = np.argsort(-self.ratings, kind="stable")
        return [self.labels[i] for i in order]


@dataclass(frozen=True)
class AgentTaskRatings:
    """Nash averaging of agents against tasks (Balduzzi et al. 2018, appendix D).

    The meta-game is zero-sum: an agent-player picks agents to score high on ``S``, a
    task-player picks tasks to make them score low. Its Nash equilibria form a product
    (maximin set x minimax set), so the maximum-entropy Nash is the pair of
    maximum-entropy maximin strategies ``agent_nash`` (of ``S``) and ``task_nash`` (of
    ``-S^T``). ``agent_skill = S @ task_nash``, ``task_difficulty = -S.T @ agent_nash``
    and ``value`` is the meta-game's value. (OpenSpiel's ``nash_averaging`` imposes the
    same equilibrium conditions, pair by pair.)
    """

    agent_nash: FloatArray
    task_nash: FloatArray
    agent_skill: FloatArray
    task_difficulty: FloatArray
    value: float


def _antisymmetric(
    values: ArrayLike | NormalFormGame, tol: float
) -> tuple[FloatArray, tuple[str, ...]]:
    if isinstance(values, NormalFormGame):
        game = values
        if game.num_players != 2 or not game.is_zero_sum(tol):
            raise UnsupportedGameError(
                "Nash averaging needs a two-player zero-sum game. Fix: pass the "
                "evaluation matrix A (A[i, j] = how much agent i beats agent j)."
            )
        a = np.asarray(game.payoffs[0], dtype=np.float64)
        labels = game.strategies[0]
    else:
        a = _matrix(values, "evaluation matrix")
        labels = tuple(str(i) for i in range(a.shape[0]))
    scale = max(1.0, float(np.max(np.abs(a))))
    if a.shape[0] != a.shape[1] or not np.allclose(a, -a.T, atol=tol * scale, rtol=0.0):
        raise UnsupportedGameError(
            f"Nash averaging of agents vs agents needs an antisymmetric matrix (A == -A.T); "
            f"got shape {a.shape}"
            + (
                ""
                if a.shape[0] != a.shape[1]
                else f", max |A + A.T| = {np.max(np.abs(a + a.T)):.3g}"
            )
            + ". Fix: build it with antisymmetric_from_win_rates(P), or use "
            "nash_averaging_agent_vs_task for a rectangular agents x tasks matrix."
        )
    return (a - a.T) / 2.0, labels


def nash_averaging(
    evaluation: ArrayLike | NormalFormGame,
    *,
    labels: tuple[str, ...] | None = None,
    tol: float = ZERO_SUM_TOL,
) -> NashAveragingResult:
    """Rate agents by Nash averaging (Balduzzi et al. 2018).

    ``evaluation`` is the antisymmetric matrix ``A`` with ``A[i, j]`` the margin by
    which agent ``i`` beats agent ``j`` (e.g. ``logit`` of the win rate, see
    :func:`antisymmetric_from_win_rates`), or a symmetric two-player zero-sum
    :class:`NormalFormGame` whose row payoffs are that matrix. The meta-game's value is
    0, so the maximum-entropy Nash is computed by :func:`max_entropy_maximin` with
    ``value=0``.
    """
    a, default_labels = _antisymmetric(evaluation, tol)
    names = tuple(labels) if labels is not None else default_labels
    if len(names) != a.shape[0]:
        raise InvalidGameError(f"{len(names)} labels given for {a.shape[0]} agents.")
    p, _ = max_entropy_maximin(a, value=0.0)
    ratings = a @ p
    ratings.setflags(write=False)
    p.setflags(write=False)
    return NashAveragingResult(nash=p, ratings=ratings, labels=names)


def nash_averaging_agent_vs_task(
    scores: ArrayLike, *, normalize_tasks: bool = False
) -> AgentTaskRatings:
    """Nash averaging for an agents x tasks score matrix ``S`` (higher = agent did better).

    Tasks on different scales weigh differently; Balduzzi et al. recommend normalising
    ``S`` first. ``normalize_tasks=True`` rescales each task's column to ``[0, 1]``
    (min-max, as OpenSpiel does; a constant column becomes zeros). The ratings are
    reported on the scale of the matrix actually solved.
    """
    s = _matrix(scores, "score matrix")
    if normalize_tasks:
        low, high = s.min(axis=0), s.max(axis=0)
        span = np.where(high > low, high - low, 1.0)
        s = (s - low) / span
    agent_nash, value = max_entropy_maximin(s)
    task_nash, _ = max_entropy_maximin(-s.T, value=-value)
    return AgentTaskRatings(
        agent_nash=agent_nash,
        task_nash=task_nash,
        agent_skill=s @ task_nash,
        task_difficulty=-s.T @ agent_nash,
        value=value,
    )


def antisymmetric_from_win_rates(
    win_rates: ArrayLike, *, method: str = "logit", clip: float = 1e-6
) -> FloatArray:
    """Turn a matrix of win rates ``P[i, j]`` (agent ``i`` beats ``j``) into ``A``.

    ``method="logit"`` gives ``A = logit(P)`` (the paper's choice: Elo/Bradley-Terry
    ratings ``r_i - r_j`` produce exactly such a matrix); ``"centered"`` gives
    ``A = P - 1/2``. Measured rates rarely satisfy ``P + P^T = 1`` exactly, so the
    result is antisymmetrised, ``(A - A^T) / 2``; the diagonal is ignored. Rates are
    clipped to ``[clip, 1 - clip]`` so a perfect record gives a large finite margin.
    """
    p = _matrix(win_rates, "win-rate matrix")
    if p.shape[0] != p.shape[1]:
        raise InvalidGameError(f"a win-rate matrix must be square, got shape {p.shape}.")
    if np.any(p < 0) or np.any(p > 1):
        raise InvalidGameError("win rates must lie in [0, 1]. Fix: pass probabilities.")
    p = p.copy()
    np.fill_diagonal(p, 0.5)
    if method == "logit":
        q = np.clip(p, clip, 1.0 - clip)
        a = np.log(q) - np.log1p(-q)
    elif method == "centered":
        a = p - 0.5
    else:
        raise InvalidGameError(f"method must be 'logit' or 'centered', got {method!r}.")
    return np.asarray((a - a.T) / 2.0, dtype=np.float64)
