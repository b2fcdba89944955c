"""Alpha-rank (Omidshafiei et al. 2019): the stationary ranking of a Markov-Conley chain."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import logsumexp

from theory.errors import InvalidGameError, NumericalError, UnsupportedGameError
from theory.evaluation.nash_averaging import (
    FloatArray,
    _matrix,
)
from theory.games import SYMMETRY_TOL, NormalFormGame

# Largest Markov chain alpha_rank builds: GTH elimination is O(states^3).
MAX_ALPHA_RANK_STATES = 2500


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
