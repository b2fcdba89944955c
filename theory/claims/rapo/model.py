"""RAPO's dilution model built from explicit concept vectors, and the claimed thresholds."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import sympy as sp

PAPER = "RAPO (Wei et al. 2026)"

DELTA, ETA, GAMMA, K, T = sp.symbols("delta eta gamma k t", positive=True)
RHO, EPS = sp.symbols("rho epsilon", nonnegative=True)
_ARGS = (DELTA, ETA, GAMMA, K, RHO, EPS)

PAPER_T_STAR: sp.Expr = DELTA * K / (ETA * (1 - DELTA))
GENERAL_T_STAR: sp.Expr = ((K + 1) * GAMMA - DELTA) / (ETA * (1 - DELTA))
# δ ∈ (0, 1) cannot be declared to sympy directly; δ = 1/(1+u) with u > 0 can.
_U = sp.symbols("u", positive=True)


def _positive_for_unit_delta(expr: sp.Expr) -> bool:
    """Whether ``expr`` is positive for every δ ∈ (0, 1) (other symbols as declared)."""
    return bool(sp.simplify(expr.subs(DELTA, 1 / (1 + _U))).is_positive)


MASKED_T_STAR: sp.Expr = ((K + 1) * GAMMA - DELTA + K * EPS) / (ETA * (1 - DELTA) * (1 + K * RHO))

# Relative precision at which a simulated threshold must equal the claimed one. The
# simulation is a handful of float64 dot products, so anything above ~1e-12 is a real
# disagreement; 1e-7 leaves room for ill-conditioned draws (δ near 1, η small).
_REL_TOL = 1e-7


@dataclass(frozen=True)
class DilutionInstance:
    """One draw of the model's parameters (``rho = eps = 0`` is the paper's setting)."""

    delta: float
    eta: float
    gamma: float
    k: int
    rho: float = 0.0
    eps: float = 0.0

    def as_args(self) -> tuple[float, ...]:
        return (self.delta, self.eta, self.gamma, float(self.k), self.rho, self.eps)


class DilutionModel:
    """Concept vectors in a random orthonormal frame, and the in-context gradient step.

    ``c_0 = e_0``; ``c_i = ρ e_0 + √(1−ρ²) e_i``; ``w = δ e_0 + β Σ_i e_i + ν e_{k+1}``
    with ``β`` chosen so that ``w·c_i = −ε``, and ``ν`` a nuisance component orthogonal
    to every concept (it must not matter). Everything is rotated by a random orthogonal
    matrix so no coordinate is special.
    """

    def __init__(self, inst: DilutionInstance, rng: np.random.Generator) -> None:
        self.inst = inst
        k, rho = inst.k, inst.rho
        dim = k + 2
        frame, _ = np.linalg.qr(rng.standard_normal((dim, dim)))
        basis = frame.T  # rows are orthonormal vectors
        concepts = np.empty((k + 1, dim))
        concepts[0] = basis[0]
        for i in range(1, k + 1):
            concepts[i] = rho * basis[0] + math.sqrt(1.0 - rho * rho) * basis[i]
        beta = (-inst.eps - rho * inst.delta) / math.sqrt(1.0 - rho * rho)
        w = inst.delta * basis[0] + float(rng.normal()) * basis[k + 1]
        for i in range(1, k + 1):
            w = w + beta * basis[i]
        self.concepts = concepts
        self.w = w
        self.x0 = concepts.mean(axis=0)

    def score(self, t: int) -> float:
        """``w_new·x_0`` after one GD step on ``t`` safe traces (and inert distractor traces).

        Distractor traces ``(c_i, 0)`` are included when ``ε = 0``, where the model says
        they contribute no gradient; with masking (``ε > 0``) the reasoning consists of
        the ``t`` safe traces only.
        """
        rows = [np.repeat(self.concepts[:1], t, axis=0)]
        labels = [np.ones(t)]
        if self.inst.eps == 0.0 and self.inst.k > 0:
            rows.append(self.concepts[1:])
            labels.append(np.zeros(self.inst.k))
        x = np.concatenate(rows)
        y = np.concatenate(labels)
        grad = x.T @ (y - x @ self.w)
        w_new = self.w + self.inst.eta * grad
        return float(w_new @ self.x0)

    def refuses(self, t: int) -> bool:
        return self.score(t) >= self.inst.gamma - 1e-12

    def score_counts(self, counts: np.ndarray) -> float:
        """``w_new·x_0`` after one GD step on a multiset of traces.

        ``counts[0]`` copies of the safe trace ``(c_0, 1)`` and ``counts[i]`` copies of the
        distractor trace ``(c_i, 0)``: the reasoning of a model that picks which concept
        to address at each step.
        """
        labels = np.zeros(self.inst.k + 1)
        labels[0] = 1.0
        residual = labels - self.concepts @ self.w
        grad = self.concepts.T @ (np.asarray(counts, dtype=np.float64) * residual)
        return float((self.w + self.inst.eta * grad) @ self.x0)

    def refuses_counts(self, counts: np.ndarray) -> bool:
        return self.score_counts(counts) >= self.inst.gamma - 1e-12

    def exact_threshold(self) -> float:
        """The real ``t`` at which the score reaches γ (the score is affine in ``t``)."""
        s0, s1 = self.score(0), self.score(1)
        return (self.inst.gamma - s0) / (s1 - s0)


def _lambdify(expr: sp.Expr) -> Callable[..., float]:
    fn = sp.lambdify(_ARGS, expr, "math")
    return lambda *a: float(fn(*a))


def _explicit_vector_score(k_value: int, masked: bool) -> sp.Expr:
    """The post-step score built from explicit sympy vectors for a concrete ``k``."""
    dim = k_value + 1
    basis = [sp.Matrix([1 if j == i else 0 for j in range(dim)]) for i in range(dim)]
    rho = RHO if masked else sp.Integer(0)
    eps = EPS if masked else sp.Integer(0)
    root = sp.sqrt(1 - rho**2)
    concepts = [basis[0]] + [rho * basis[0] + root * basis[i] for i in range(1, dim)]
    beta = (-eps - rho * DELTA) / root
    w = DELTA * basis[0]
    for i in range(1, dim):
        w = w + beta * basis[i]
    x0 = sum(concepts, sp.zeros(dim, 1)) / dim
    c0 = concepts[0]
    grad = T * (1 - (w.T * c0)[0]) * c0  # t identical traces (c_0, 1)
    if not masked:  # distractor traces (c_i, 0)
        for c in concepts[1:]:
            grad = grad + (0 - (w.T * c)[0]) * c
    w_new = w + ETA * grad
    return sp.simplify((w_new.T * x0)[0])
