"""The DS toy model shared by T1-T4 (reconstructed; see the package docstring)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import sympy as sp

PAPER = "DS (Zhao et al. 2026)"
_RECONSTRUCTED_NOTE = "reconstructed from the abstract (docs/papers.md#ds); not the paper's wording"

P, A, B = sp.symbols("p a b", positive=True)
L_SYM, R_SYM = sp.symbols("L r", positive=True)

V2_CLAIM: sp.Expr = P * (1 + (1 - P) * (A - B))
VINF_CLAIM: sp.Expr = P * A / (P * A + (1 - P) * B)
_D = P * A + (1 - P) * B
VINF_GRAD_CLAIM: tuple[sp.Expr, sp.Expr, sp.Expr] = (
    A * B / _D**2,
    B * P * (1 - P) / _D**2,
    -A * P * (1 - P) / _D**2,
)
V2_GRAD_CLAIM: tuple[sp.Expr, sp.Expr, sp.Expr] = (
    1 + (1 - 2 * P) * (A - B),
    P * (1 - P),
    -P * (1 - P),
)
SFT_SHARE_CLAIM: sp.Expr = 1 / (1 + L_SYM * R_SYM)


def _sigmoid(x: np.ndarray | float) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.asarray(x, dtype=np.float64)))


def value_and_grad(
    p: np.ndarray, a: np.ndarray, b: np.ndarray, k_max: int
) -> tuple[np.ndarray, np.ndarray]:
    """``V_K`` and ``∂V_K/∂(p, a, b)`` by the backward recursion (vectorised).

    Returns ``(value, grad)`` with ``grad`` stacked on a new last axis of size 3.
    """
    p, a, b = (np.asarray(x, dtype=np.float64) for x in (p, a, b))
    value = p.copy()
    grad = np.stack([np.ones_like(p), np.zeros_like(p), np.zeros_like(p)], axis=-1)
    cont = p * (1 - a) + (1 - p) * (1 - b)
    for _ in range(k_max - 1):
        d_p = a + (b - a) * value + cont * grad[..., 0]
        d_a = p - p * value + cont * grad[..., 1]
        d_b = -(1 - p) * value + cont * grad[..., 2]
        value = p * a + cont * value
        grad = np.stack([d_p, d_a, d_b], axis=-1)
    return value, grad


def _recursion_value(k_max: int) -> sp.Expr:
    value: sp.Expr = P
    for _ in range(k_max - 1):
        value = P * A + (P * (1 - A) + (1 - P) * (1 - B)) * value
    return sp.expand(value)


def _trajectories(k_max: int) -> list[tuple[sp.Expr, int, sp.Expr, sp.Expr, sp.Expr]]:
    """Every episode as ``(probability, reward, ∂P/∂p, ∂P/∂a, ∂P/∂b)`` (sympy, exact)."""
    out: list[tuple[sp.Expr, int, sp.Expr, sp.Expr, sp.Expr]] = []

    def walk(prob: sp.Expr, attempt: int) -> None:
        for correct in (True, False):
            q = prob * (P if correct else 1 - P)
            if attempt == k_max:
                out.append((q, int(correct), *(sp.diff(q, s) for s in (P, A, B))))
                continue
            stop = A if correct else B
            stopped = q * stop
            out.append((stopped, int(correct), *(sp.diff(stopped, s) for s in (P, A, B))))
            walk(q * (1 - stop), attempt + 1)

    walk(sp.Integer(1), 1)
    return out


def _lambdify3(exprs: Sequence[sp.Expr]) -> Callable[..., np.ndarray]:
    fns = [sp.lambdify((P, A, B), e, "numpy") for e in exprs]
    return lambda p, a, b: np.stack(
        [np.broadcast_to(np.asarray(f(p, a, b), dtype=np.float64), np.shape(p)) for f in fns],
        axis=-1,
    )
