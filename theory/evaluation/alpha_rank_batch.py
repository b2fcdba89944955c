"""Alpha-rank batched over bootstrap replicates (empirical games' intervals).

The point estimate is :func:`theory.evaluation.alpha_rank`; the replicates run the same
Markov chain for a whole batch at once (Grassmann-Taksar-Heyman elimination, in log
space where rates underflow), which the tests check against the point estimate.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from theory.evaluation.alpha_rank import _log_fixation_constant, alpha_rank
from theory.games import NormalFormGame

FloatArray = NDArray[np.float64]

# -- alpha-rank -------------------------------------------------------------------------


def alpha_rank_point(
    table: FloatArray, symmetric: bool, alpha: float, population_size: int
) -> list[FloatArray]:
    """Alpha-rank marginals of the point estimate by :func:`theory.evaluation.alpha_rank`."""
    if symmetric:
        res = alpha_rank(table[0], alpha=alpha, population_size=population_size)
        return [np.array(res.marginals[0])]
    game = NormalFormGame.from_bimatrix(table[0], table[1])
    res = alpha_rank(game, alpha=alpha, population_size=population_size)
    return [np.array(res.marginals[0]), np.array(res.marginals[1])]


def _logsumexp(x: FloatArray, axis: int) -> FloatArray:
    """``log(sum(exp(x)))`` along ``axis``; ``-inf`` where every entry is ``-inf``."""
    top = np.max(x, axis=axis, keepdims=True)
    safe = np.where(np.isfinite(top), top, 0.0)
    with np.errstate(divide="ignore"):
        out = np.log(np.sum(np.exp(x - safe), axis=axis, keepdims=True)) + safe
    return np.asarray(np.squeeze(out, axis=axis), dtype=np.float64)


# Below this log-rate a chain is solved in log space; above it in linear space, where
# GTH's products cannot underflow into anything that matters (see _stationary_batch).
_LINEAR_GTH_MIN_LOG_RATE = -600.0


def _stationary_batch(log_rates: FloatArray) -> FloatArray:
    """Stationary laws of a batch of chains ``(R, S, S)`` by GTH state reduction.

    The Grassmann-Taksar-Heyman reduction :func:`theory.evaluation.alpha_rank` uses,
    run on all replicates at once. GTH only adds and multiplies non-negative numbers,
    and every intermediate rate it forms is a transition probability of a censored
    chain (at most 1), so the only numerical hazard is underflow. Chains whose smallest
    positive rate is at least ``exp(-600)`` are reduced in linear space (one fused
    multiply-add per entry, ~20x faster than ``logaddexp``): a product that underflows
    there is below ``1e-308`` against exit rates above ``1e-260``, so its effect on the
    result is below ``1e-47``. Other chains (very large ``alpha``) are reduced in log
    space exactly as theory does. The back-substitution runs in log space for both, so
    stationary masses far below ``1e-308`` keep their relative accuracy. A replicate
    whose chain is reducible comes back as NaN.
    """
    lr = np.array(log_rates, dtype=np.float64)
    runs, n, _ = lr.shape
    idx = np.arange(n)
    lr[:, idx, idx] = -np.inf
    finite = np.where(np.isfinite(lr), lr, np.inf)
    linear = finite.reshape(runs, -1).min(axis=1) >= _LINEAR_GTH_MIN_LOG_RATE
    columns = np.full((runs, n, n), -np.inf)  # log of the divided columns p[:j, j]
    bad = np.zeros(runs, dtype=bool)
    if linear.any():
        q = np.exp(lr[linear])
        stuck = np.zeros(q.shape[0], dtype=bool)
        for k in range(n - 1, 0, -1):
            total = q[:, k, :k].sum(axis=1)
            empty = total <= 0.0
            stuck |= empty
            total[empty] = 1.0
            q[:, :k, k] /= total[:, None]
            q[:, :k, :k] += q[:, :k, k, None] * q[:, k, None, :k]
        bad[np.flatnonzero(linear)[stuck]] = True
        with np.errstate(divide="ignore"):
            columns[linear] = np.log(q)
    if (~linear).any():
        p = lr[~linear]
        stuck = np.zeros(p.shape[0], dtype=bool)
        for k in range(n - 1, 0, -1):
            total = _logsumexp(p[:, k, :k], axis=1)
            empty = ~np.isfinite(total)
            stuck |= empty
            total[empty] = 0.0
            p[:, :k, k] -= total[:, None]
            p[:, :k, :k] = np.logaddexp(p[:, :k, :k], p[:, :k, k, None] + p[:, k, None, :k])
        bad[np.flatnonzero(~linear)[stuck]] = True
        columns[~linear] = p
    log_pi = np.full((runs, n), -np.inf)
    log_pi[:, 0] = 0.0
    for j in range(1, n):
        log_pi[:, j] = _logsumexp(log_pi[:, :j] + columns[:, :j, j], axis=1)
    pi = np.exp(log_pi - _logsumexp(log_pi, axis=1)[:, None])
    pi[bad] = np.nan
    return np.asarray(pi, dtype=np.float64)


def alpha_rank_batch(
    tables: FloatArray, symmetric: bool, alpha: float, population_size: int, chunk: int = 16
) -> list[FloatArray]:
    """Alpha-rank marginals of every replicate, per side: ``[(R, m)]`` or ``[(R, m), (R, n)]``.

    The chain is :func:`theory.evaluation.alpha_rank`'s (finite population, Fermi
    selection, mutation rate ``eta``; ``local_selection=False``), built and solved in
    batches of replicates.
    """
    runs, _, m_rows, n_cols = tables.shape
    eps = 0.01  # alpha_rank's default inf_alpha_eps, used only when alpha is inf
    pop = int(population_size)
    out_rows = np.empty((runs, m_rows))
    out_cols = np.empty((runs, n_cols))
    for start in range(0, runs, chunk):
        block = tables[start : start + chunk]
        if symmetric:
            log_rho = _single_population_log_fixation(block[:, 0], alpha, pop, eps)
            eta = 1.0 / (m_rows - 1) if m_rows > 1 else 1.0
            pi = (
                _stationary_batch(log_rho + math.log(eta))
                if m_rows > 1
                else np.ones((len(block), 1))
            )
            out_rows[start : start + len(block)] = pi
            continue
        log_rho = _two_population_log_fixation(block, alpha, pop, eps)
        dims = (m_rows - 1) + (n_cols - 1)
        eta = 1.0 / dims if dims > 0 else 1.0
        states = m_rows * n_cols
        pi = _stationary_batch(log_rho + math.log(eta)) if states > 1 else np.ones((len(block), 1))
        grid = pi.reshape(len(block), m_rows, n_cols)
        out_rows[start : start + len(block)] = grid.sum(axis=2)
        out_cols[start : start + len(block)] = grid.sum(axis=1)
    return [out_rows] if symmetric else [out_rows, out_cols]


def _two_population_log_fixation(
    block: FloatArray, alpha: float, pop: int, eps: float
) -> FloatArray:
    """Log fixation probabilities ``(R, S, S)`` over profiles ``s = a * n + b``."""
    runs, _, m, n = block.shape
    log_rho = np.full((runs, m * n, m * n), -np.inf)
    ids = np.arange(m * n).reshape(m, n)
    # row population: a -> a2 in context b, gain A[a2, b] - A[a, b]
    src0 = np.broadcast_to(ids[:, None, :], (m, m, n))
    dst0 = np.broadcast_to(ids[None, :, :], (m, m, n))
    off0 = np.broadcast_to(~np.eye(m, dtype=bool)[:, :, None], (m, m, n))
    # column population: b -> b2 in context a, gain B[a, b2] - B[a, b]
    src1 = np.broadcast_to(ids[:, :, None], (m, n, n))
    dst1 = np.broadcast_to(ids[:, None, :], (m, n, n))
    off1 = np.broadcast_to(~np.eye(n, dtype=bool)[None, :, :], (m, n, n))
    for r in range(runs):
        a, b = block[r, 0], block[r, 1]
        scale = max(1.0, float(a.max() - a.min()), float(b.max() - b.min()))
        gain0 = a[None, :, :] - a[:, None, :]  # [a, a2, b]
        gain1 = b[:, None, :] - b[:, :, None]  # [a, b, b2]
        log_rho[r, src0[off0], dst0[off0]] = _log_fixation_constant(
            gain0[off0], alpha, pop, eps, scale
        )
        log_rho[r, src1[off1], dst1[off1]] = _log_fixation_constant(
            gain1[off1], alpha, pop, eps, scale
        )
    return log_rho


def _single_population_log_fixation(
    matrices: FloatArray, alpha: float, pop: int, eps: float
) -> FloatArray:
    """Log fixation probabilities ``(R, n, n)`` of mutant ``r`` in resident ``s`` ([s, r])."""
    runs, n, _ = matrices.shape
    if math.isinf(alpha):
        out = np.full((runs, n, n), -np.inf)
        off = ~np.eye(n, dtype=bool)
        for r in range(runs):
            mat = matrices[r]
            scale = max(1.0, float(np.max(np.abs(mat))))
            gain = mat.T - mat  # [s, r] = M[r, s] - M[s, r]
            out[r][off] = _log_fixation_constant(gain[off], alpha, pop, eps, scale)
        return out
    k = np.arange(1, pop, dtype=np.float64)  # number of mutants
    diag = np.einsum("rii->ri", matrices)  # M[x, x]
    m_rs = np.swapaxes(matrices, 1, 2)  # [s, r] -> M[r, s]
    # f_r(k) = ((k-1) M[r,r] + (m-k) M[r,s]) / (m-1); f_s(k) = (k M[s,r] + (m-k-1) M[s,s]) / (m-1)
    f_r = ((k - 1) * diag[:, None, :, None] + (pop - k) * m_rs[:, :, :, None]) / (pop - 1)
    f_s = (k * matrices[:, :, :, None] + (pop - k - 1) * diag[:, :, None, None]) / (pop - 1)
    partial = np.concatenate([np.zeros((runs, n, n, 1)), np.cumsum(f_r - f_s, axis=3)], axis=3)
    log_rho = -_logsumexp(-alpha * partial, axis=3)
    idx = np.arange(n)
    log_rho[:, idx, idx] = -np.inf
    return log_rho
