"""Game-theoretic evaluation of agents: Nash averaging and alpha-rank.

Both rank a set of agents from their head-to-head results without assuming that skill
is transitive (which Elo and Bradley-Terry do), so a rock-paper-scissors triangle of
checkpoints is reported as a tie rather than an artefact of match order.

* :func:`nash_averaging` (Balduzzi, Tuyls, Perolat & Graepel, "Re-evaluating
  evaluation", NeurIPS 2018). The evaluation matrix ``A`` (``A[i, j]``: how much agent
  ``i`` beats agent ``j``; antisymmetric) is read as a symmetric zero-sum meta-game.
  Its *maximum-entropy* Nash equilibrium ``p*`` is unique, and each agent's rating is
  its payoff against it, ``A @ p*``. Because ``p*`` spreads mass evenly across
  redundant copies, adding copies of an agent changes no rating: the property that
  makes the method robust to a tournament padded with near-identical checkpoints.
  :func:`nash_averaging_agent_vs_task` is the paper's agents-vs-tasks variant.
* :func:`alpha_rank` (Omidshafiei, Papadimitriou, Piliouras, Tuyls, Rowland, Lespiau,
  Czarnecki, Lanctot, Perolat & Munos, "alpha-Rank: Multi-agent evaluation by
  evolution", Sci. Rep. 2019). A finite population of size ``m`` evolves under
  mutation and Fermi selection of intensity ``alpha``; alpha-rank is the stationary
  distribution of the Markov chain over monomorphic states (one strategy per
  population). Single-population (symmetric games) and multi-population (one
  population per player, any number of players) are both supported; as ``alpha``
  grows the mass concentrates on the sink strongly connected components of the
  response graph.

Solvers: the zero-sum value and the face of optimal strategies (support and tight
constraints) come from linear programs (HiGHS via :func:`scipy.optimize.linprog`); the
entropy maximisation is solved through its smooth dual by Newton's method (see
:func:`max_entropy_maximin`); the stationary distribution comes from the
Grassmann-Taksar-Heyman elimination run on logarithms, which is subtraction-free and so
stays accurate for the nearly-reducible chains that large ``alpha`` produces.
``tests/test_theory_evaluation.py`` compares both with OpenSpiel's ``alpharank.compute``
and ``nash_averaging`` on random games when OpenSpiel is installed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import linprog, minimize
from scipy.special import logsumexp

from theory.equilibria import solve_zero_sum
from theory.errors import InvalidGameError, NumericalError, UnsupportedGameError
from theory.games import SYMMETRY_TOL, ZERO_SUM_TOL, NormalFormGame

FloatArray = NDArray[np.float64]

__all__ = [
    "AgentTaskRatings",
    "AlphaRankResult",
    "NashAveragingResult",
    "alpha_rank",
    "antisymmetric_from_win_rates",
    "max_entropy_maximin",
    "nash_averaging",
    "nash_averaging_agent_vs_task",
]

# Largest Markov chain alpha_rank builds: GTH elimination is O(states^3).
MAX_ALPHA_RANK_STATES = 2500


# ------------------------------------------------------------------ maximum-entropy Nash


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


# ------------------------------------------------------------------ alpha-rank


@dataclass(frozen=True)
class AlphaRankResult:
    """Alpha-rank's stationary distribution and the chain it came from.

    ``states[j]`` is a monomorphic state: the pure profile ``(s_1, ..., s_K)`` of the
    K populations (single population: ``(s,)``), with mass ``stationary[j]``.
    ``marginals[k][s]`` is the mass on states in which population ``k`` plays ``s``
    (the per-player ranking). ``transition[j, l]`` and ``fixation[j, l]`` are the
    Markov chain and the fixation probabilities of a mutant taking state ``j`` to ``l``.
    """

    stationary: FloatArray
    states: tuple[tuple[int, ...], ...]
    labels: tuple[str, ...]
    marginals: tuple[FloatArray, ...]
    transition: FloatArray
    fixation: FloatArray
    alpha: float
    population_size: int
    single_population: bool

    def ranking(self) -> list[tuple[str, float]]:
        """``(label, mass)`` of every state, from most to least mass (stable for ties)."""
        order = np.argsort(-self.stationary, kind="stable")
        return [(self.labels[j], float(self.stationary[j])) for j in order]


def _log_fixation(differences: FloatArray, alpha: float) -> float:
    """Log fixation probability of one mutant in a population of size ``m``.

    ``differences[k-1] = f_mutant(k) - f_resident(k)`` with ``k`` mutants present
    (``k = 1..m-1``). The textbook formula ``1 / (1 + sum_l prod_{k<=l} exp(-alpha d_k))``
    is evaluated as ``-logsumexp(-alpha * cumsum)``, so large ``alpha`` neither overflows
    nor rounds the tiny fixation probability of a worse mutant to zero.
    """
    partial = np.concatenate([[0.0], np.cumsum(differences)])
    return float(-logsumexp(-alpha * partial))


def _log_fixation_constant(
    delta: FloatArray, alpha: float, m: int, eps: float, scale: float
) -> FloatArray:
    """Vectorised log fixation probability when the fitness gain ``delta`` is constant.

    ``rho = (1 - e^{-u}) / (1 - e^{-m u})`` with ``u = alpha * delta`` (``1/m`` when
    ``u = 0``), written with ``expm1`` on the side where it cannot overflow. With
    ``alpha = inf`` the infinite-alpha rates ``1 - eps``, ``eps`` or 1/2 are returned.
    """
    delta = np.asarray(delta, dtype=np.float64)
    if math.isinf(alpha):
        rates = np.where(delta > 0, 1.0 - eps, eps)
        rates = np.where(np.abs(delta) <= 1e-12 * scale, 0.5, rates)
        return np.asarray(np.log(rates), dtype=np.float64)
    u = alpha * delta
    out = np.full(u.shape, -math.log(m))
    pos = u > 1e-12
    neg = u < -1e-12
    up = u[pos]
    out[pos] = np.log(-np.expm1(-up)) - np.log(-np.expm1(-m * up))
    un = u[neg]
    out[neg] = (m - 1) * un + np.log(-np.expm1(un)) - np.log(-np.expm1(m * un))
    small = ~(pos | neg)
    if np.any(small & (u != 0)):
        # first-order expansion around neutrality: rho ~ (1/m) (1 + (m-1) u / 2)
        us = u[small]
        out[small] = -math.log(m) + np.log1p((m - 1) * us / 2.0)
    return out


def _stationary(log_rates: FloatArray) -> FloatArray:
    """Stationary distribution by Grassmann-Taksar-Heyman state reduction, in log space.

    ``log_rates[j, l]`` is the log transition probability ``j -> l`` (the diagonal is
    ignored; ``-inf`` marks impossible moves). GTH uses only sums and products of
    non-negative numbers, so it can run on logarithms with ``logaddexp``: masses like
    ``exp(-1000)`` that large ``alpha`` produces keep their relative accuracy instead
    of underflowing, and the chain never looks reducible when it is not. The cost is
    ``O(states^3)`` ``logaddexp`` calls, which :data:`MAX_ALPHA_RANK_STATES` bounds.
    """
    p = np.array(log_rates, dtype=np.float64)
    n = p.shape[0]
    np.fill_diagonal(p, -np.inf)
    for k in range(n - 1, 0, -1):
        total = logsumexp(p[k, :k])
        if not np.isfinite(total):
            raise NumericalError(
                "the alpha-rank Markov chain is reducible (a state cannot reach the others), "
                "so the stationary distribution is not unique. Fix: use a finite alpha, or "
                "alpha=math.inf with a positive inf_alpha_eps."
            )
        p[:k, k] -= total
        p[:k, :k] = np.logaddexp(p[:k, :k], p[:k, k][:, None] + p[k, :k][None, :])
    log_pi = np.full(n, -np.inf)
    log_pi[0] = 0.0
    for j in range(1, n):
        log_pi[j] = logsumexp(log_pi[:j] + p[:j, j])
    return np.asarray(np.exp(log_pi - logsumexp(log_pi)), dtype=np.float64)


def alpha_rank(
    payoffs: NormalFormGame | ArrayLike,
    *,
    alpha: float = 10.0,
    population_size: int = 50,
    single_population: bool | None = None,
    local_selection: bool = False,
    inf_alpha_eps: float = 0.01,
    labels: tuple[str, ...] | None = None,
) -> AlphaRankResult:
    """Alpha-rank (Omidshafiei et al. 2019).

    ``payoffs`` is either a square matrix ``M`` (single population: ``M[i, j]`` is the
    payoff of strategy ``i`` against ``j``) or a :class:`NormalFormGame` (one population
    per player; ``single_population=True`` uses one population for a symmetric
    two-player game, ``B == A.T``).

    Dynamics: ``m = population_size`` individuals per population; with probability
    proportional to ``eta`` one of them mutates (``eta = 1/(n-1)`` single-population,
    ``1/sum_k(n_k - 1)`` multi-population, mutations uniform over other strategies);
    the mutant fixates with the Moran/Fermi probability

    ``rho = [1 + sum_{l=1}^{m-1} prod_{k=1}^{l} exp(-alpha (f_mutant(k) - f_resident(k)))]^-1``.

    * Multi-population: fitness is the mutating population's payoff in the profile,
      so ``f_mutant - f_resident`` is constant and ``rho = (1-e^{-u}) / (1-e^{-m u})``,
      ``u = alpha * (payoff gain)`` (``1/m`` when neutral).
    * Single population (paper eq. for finite populations): with ``k`` mutants ``r``
      among residents ``s``, ``f_r = ((k-1) M[r,r] + (m-k) M[r,s]) / (m-1)`` and
      ``f_s = (k M[s,r] + (m-k-1) M[s,s]) / (m-1)``. ``local_selection=True`` uses
      OpenSpiel's local model ``f_r - f_s = M[r,s] - M[s,r]`` instead.

    ``alpha=math.inf`` gives infinite-alpha alpha-rank (Rowland et al. 2019): a mutant
    that does strictly better fixates with rate ``1 - inf_alpha_eps``, a worse one with
    ``inf_alpha_eps``, a neutral one with 1/2 (single population compares
    ``M[r,s]`` with ``M[s,r]``). As ``alpha`` grows the stationary mass concentrates
    on the sink strongly connected components of the response graph.
    """
    if population_size < 2:
        raise InvalidGameError(f"population_size must be at least 2, got {population_size}.")
    if not alpha >= 0:
        raise InvalidGameError(f"alpha must be non-negative (or math.inf), got {alpha}.")
    if math.isinf(alpha) and not 0 < inf_alpha_eps < 0.5:
        raise InvalidGameError(f"inf_alpha_eps must lie in (0, 0.5), got {inf_alpha_eps}.")
    m = int(population_size)
    if isinstance(payoffs, NormalFormGame):
        game = payoffs
        if single_population:
            if game.num_players != 2:
                raise UnsupportedGameError(
                    "single-population alpha-rank needs a symmetric two-player game."
                )
            if not game.is_symmetric():
                raise UnsupportedGameError(
                    "single-population alpha-rank needs a symmetric game (B == A.T within "
                    f"{SYMMETRY_TOL:g} x the payoff scale). "
                    "Fix: pass single_population=False for one population per player."
                )
            return _alpha_rank_single(
                np.asarray(game.payoffs[0]),
                alpha,
                m,
                local_selection,
                inf_alpha_eps,
                labels or game.strategies[0],
            )
        return _alpha_rank_multi(game, alpha, m, inf_alpha_eps, labels)
    matrix = _matrix(payoffs, "payoff matrix")
    if matrix.shape[0] != matrix.shape[1]:
        raise InvalidGameError(
            f"a single-population payoff matrix must be square, got {matrix.shape}. Fix: pass "
            "a NormalFormGame for one population per player."
        )
    if single_population is False:
        return _alpha_rank_multi(
            NormalFormGame.from_bimatrix(matrix, matrix.T), alpha, m, inf_alpha_eps, labels
        )
    return _alpha_rank_single(
        matrix,
        alpha,
        m,
        local_selection,
        inf_alpha_eps,
        labels or tuple(str(i) for i in range(matrix.shape[0])),
    )


def _chain(log_rho: FloatArray, eta: float) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Fixation matrix, transition matrix ``eta * rho`` (+ self-loops) and its stationary law."""
    rho = np.exp(log_rho)
    c = eta * rho
    np.fill_diagonal(c, 0.0)
    np.fill_diagonal(c, 1.0 - c.sum(axis=1))
    n = c.shape[0]
    pi = _stationary(log_rho + math.log(eta)) if n > 1 else np.ones(1)
    return rho, c, pi


def _alpha_rank_single(
    matrix: FloatArray,
    alpha: float,
    m: int,
    local_selection: bool,
    eps: float,
    labels: tuple[str, ...],
) -> AlphaRankResult:
    n = matrix.shape[0]
    if len(labels) != n:
        raise InvalidGameError(f"{len(labels)} labels given for {n} strategies.")
    scale = max(1.0, float(np.max(np.abs(matrix))))
    log_rho = np.full((n, n), -np.inf)
    k = np.arange(1, m, dtype=np.float64)
    for s in range(n):
        for r in range(n):
            if r == s:
                continue
            if math.isinf(alpha):
                gain = np.array([matrix[r, s] - matrix[s, r]])
                log_rho[s, r] = float(_log_fixation_constant(gain, alpha, m, eps, scale)[0])
                continue
            if local_selection:
                diff = np.full(m - 1, matrix[r, s] - matrix[s, r])
            else:
                f_r = ((k - 1) * matrix[r, r] + (m - k) * matrix[r, s]) / (m - 1)
                f_s = (k * matrix[s, r] + (m - k - 1) * matrix[s, s]) / (m - 1)
                diff = f_r - f_s
            log_rho[s, r] = _log_fixation(diff, alpha)
    eta = 1.0 / (n - 1) if n > 1 else 1.0
    rho, c, pi = _chain(log_rho, eta)
    return AlphaRankResult(
        stationary=pi,
        states=tuple((s,) for s in range(n)),
        labels=tuple(labels),
        marginals=(pi.copy(),),
        transition=c,
        fixation=rho,
        alpha=float(alpha),
        population_size=m,
        single_population=True,
    )


def _alpha_rank_multi(
    game: NormalFormGame,
    alpha: float,
    m: int,
    eps: float,
    labels: tuple[str, ...] | None,
) -> AlphaRankResult:
    sizes = game.num_strategies
    n_states = int(np.prod(sizes))
    if n_states > MAX_ALPHA_RANK_STATES:
        raise UnsupportedGameError(
            f"multi-population alpha-rank on this game has {n_states} profiles, more than "
            f"{MAX_ALPHA_RANK_STATES}. Fix: prune dominated strategies or rank a subset."
        )
    states = list(np.ndindex(*sizes))
    eta = 1.0 / sum(n - 1 for n in sizes) if sum(sizes) > len(sizes) else 1.0
    scale = game.payoff_scale()
    log_rho = np.full((n_states, n_states), -np.inf)
    ids = np.arange(n_states).reshape(sizes)
    for k, n_k in enumerate(sizes):
        # move population k's axis last: [..., a] is the profile with population k at a
        own = np.moveaxis(game.payoffs[k], k, -1).reshape(-1, n_k)
        state_id = np.moveaxis(ids, k, -1).reshape(-1, n_k)
        # delta[c, a, b]: population k's gain from switching a -> b in context c
        delta = own[:, None, :] - own[:, :, None]
        src = np.broadcast_to(state_id[:, :, None], delta.shape)
        dst = np.broadcast_to(state_id[:, None, :], delta.shape)
        off = ~np.eye(n_k, dtype=bool)[None, :, :].repeat(own.shape[0], axis=0)
        log_rho[src[off], dst[off]] = _log_fixation_constant(delta[off], alpha, m, eps, scale)
    rho, c, pi = _chain(log_rho, eta)
    names = labels or tuple(
        " / ".join(game.strategies[k][a] for k, a in enumerate(s)) for s in states
    )
    if len(names) != n_states:
        raise InvalidGameError(f"{len(names)} labels given for {n_states} profiles.")
    marginals = []
    grid = pi.reshape(sizes)
    for k in range(len(sizes)):
        axes = tuple(a for a in range(len(sizes)) if a != k)
        marginals.append(np.asarray(grid.sum(axis=axes), dtype=np.float64))
    return AlphaRankResult(
        stationary=pi,
        states=tuple(tuple(int(x) for x in s) for s in states),
        labels=tuple(names),
        marginals=tuple(marginals),
        transition=c,
        fixation=rho,
        alpha=float(alpha),
        population_size=m,
        single_population=False,
    )
