"""Regret matching+ and the duality gap: the kernel shared by the zero-sum solvers.

A leaf module (numpy only) so that :mod:`theory.equilibria.zero_sum` (which uses RM+ to
guess the supports of a large game) and :mod:`theory.equilibria.first_order` (which
returns RM+'s profile after checking it) can both import it without importing each
other. See :mod:`theory.equilibria.first_order` for the algorithm and references.
"""

from __future__ import annotations

import time

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]


def matvec(matrix: NDArray[np.floating], vector: NDArray[np.floating]) -> FloatArray:
    """``matrix @ vector`` in one thread (numpy's own loop, not BLAS), as float64.

    Multithreaded BLAS ``gemv`` is fast on an idle machine but stalls badly when the
    cores are shared: each call waits for all its threads, and a thread that lost its
    core costs a scheduler time slice. Measured on a loaded 2-core machine, a 1000x1000
    product took 1.7 ms with BLAS's two threads, 0.2 ms with one and 0.6 ms here. The
    loops that make hundreds of such products (the RM+ guess and the simplex walk of
    the zero-sum solver) use this and :func:`vecmat`, which never stall.
    """
    return np.asarray(np.einsum("ij,j->i", matrix, vector), dtype=np.float64)


def vecmat(vector: NDArray[np.floating], matrix: NDArray[np.floating]) -> FloatArray:
    """``vector @ matrix`` in one thread (see :func:`matvec`), as float64. For a
    C-ordered matrix this form (a sum of scaled rows) is about twice as fast as
    :func:`matvec`; keep a transposed copy where ``matrix @ vector`` is frequent."""
    return np.asarray(np.einsum("i,ij->j", vector, matrix), dtype=np.float64)


def duality_gap(A: FloatArray, x: FloatArray, y: FloatArray) -> float:
    """``max_i (A y)_i - min_j (x^T A)_j``: what the two players could gain in total."""
    return float(np.max(A @ y) - np.min(x @ A))


def regret_matching_plus(
    matrix: NDArray[np.floating],
    target_gap: float,
    max_iters: int,
    deadline: float | None = None,
    *,
    single_threaded: bool = False,
) -> tuple[FloatArray, FloatArray, int]:
    """Averaged RM+ strategies at duality gap ``target_gap``, ``max_iters`` or ``deadline``.

    No verification and no error: :func:`solve_zero_sum_first_order` checks the result,
    and :func:`theory.equilibria.zero_sum.solve_zero_sum` uses it only as a guess of the
    supports. ``deadline`` is a :func:`time.perf_counter` value. Returns
    ``(xbar, ybar, iterations)``. A float32 ``matrix`` makes the products float32
    (half the memory traffic, the bottleneck on large games) while the regrets and
    averages stay float64. ``single_threaded`` computes the products with
    :func:`matvec` / :func:`vecmat` instead of BLAS.
    """
    m, n = matrix.shape
    dtype = matrix.dtype
    if single_threaded:
        # Both products as row combinations (numpy's fastest single-threaded form):
        # A y = y^T A^T, with A^T stored contiguously once.
        transposed = np.ascontiguousarray(matrix.T)
        row_product, col_product = (
            lambda v: vecmat(v, transposed),
            lambda v: vecmat(v, matrix),
        )
    else:
        row_product, col_product = (
            lambda v: np.asarray(matrix @ v, dtype=np.float64),
            lambda v: np.asarray(v @ matrix, dtype=np.float64),
        )

    regret_x = np.zeros(m)
    regret_y = np.zeros(n)
    x = np.full(m, 1.0 / m)
    y = np.full(n, 1.0 / n)
    sum_x = np.zeros(m)
    sum_y = np.zeros(n)
    sum_Ay = np.zeros(m)  # sum_t w_t A y_t   -> A ybar
    sum_xA = np.zeros(n)  # sum_t w_t x_t^T A -> xbar^T A
    weight = 0.0
    Ay = row_product(y.astype(dtype, copy=False))
    gap = np.inf
    iteration = 0
    for iteration in range(1, max_iters + 1):
        # Row player: instantaneous regrets against the current column strategy.
        regret_x += Ay - x @ Ay
        np.maximum(regret_x, 0.0, out=regret_x)
        total = regret_x.sum()
        x = regret_x / total if total > 0 else np.full(m, 1.0 / m)
        # Column player (alternating): responds to the new row strategy.
        xA = col_product(x.astype(dtype, copy=False))
        regret_y += (y @ xA) - xA
        np.maximum(regret_y, 0.0, out=regret_y)
        total = regret_y.sum()
        y = regret_y / total if total > 0 else np.full(n, 1.0 / n)
        Ay = row_product(y.astype(dtype, copy=False))

        w = float(iteration) ** 2
        weight += w
        sum_x += w * x
        sum_xA += w * xA
        sum_y += w * y
        sum_Ay += w * Ay
        gap = float(sum_Ay.max() - sum_xA.min()) / weight
        if gap <= target_gap or (deadline is not None and time.perf_counter() > deadline):
            break

    return sum_x / sum_x.sum(), sum_y / sum_y.sum(), iteration
