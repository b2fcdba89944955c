"""Empirical side of the RAPO claims: logistic iso-refusal fits to (k, t, refused) records."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import optimize, stats

from theory.claims.base import (
    CheckResult,
    RecordSchemaError,
    record_float,
    require_keys,
    skipped,
    verdict,
)


@dataclass(frozen=True)
class _Family:
    """A claimed iso-refusal curve ``τ_θ(k)`` with the logit scale the model implies."""

    name: str
    n_params: int
    tau: Callable[[np.ndarray, np.ndarray], np.ndarray]
    scale: Callable[[np.ndarray, np.ndarray], np.ndarray]
    init: tuple[float, ...]
    bounds: tuple[tuple[float | None, float | None], ...]


def _inv_k1(k: np.ndarray, _theta: np.ndarray) -> np.ndarray:
    return 1.0 / (k + 1.0)


PAPER_FAMILY = _Family("t*(k) = κ·k", 1, lambda k, th: th[0] * k, _inv_k1, (1.0,), ((None, None),))
GENERAL_FAMILY = _Family(
    "t*(k) = a + b·k",
    2,
    lambda k, th: th[0] + th[1] * k,
    _inv_k1,
    (0.0, 1.0),
    ((None, None), (None, None)),
)
MASKED_FAMILY = _Family(
    "t*(k) = (a + b·k)/(1 + ρ·k)",
    3,
    lambda k, th: (th[0] + th[1] * k) / (1.0 + th[2] * k),
    lambda k, th: (1.0 + th[2] * k) / (k + 1.0),
    (0.0, 1.0, 0.0),
    ((None, None), (None, None), (0.0, None)),
)


def _nll(logit: np.ndarray, y: np.ndarray) -> float:
    """Bernoulli negative log-likelihood with ``y ∈ {0, 1}``."""
    return float(np.sum(np.logaddexp(0.0, logit) - y * logit))


def _parse_refusal_records(
    records: Sequence[Mapping[str, Any]], claim_id: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    require_keys(records, ("k", "t", "refused"), claim_id)
    k = np.array([record_float(r, "k", claim_id, i) for i, r in enumerate(records)])
    t = np.array([record_float(r, "t", claim_id, i) for i, r in enumerate(records)])
    y = np.array([float(bool(r["refused"])) for r in records])
    if np.any(k < 0):
        raise RecordSchemaError(f"{claim_id}: k must be >= 0. Fix: k counts distractors.")
    return k, t, y


def iso_refusal_test(
    records: Sequence[Mapping[str, Any]], family: _Family, tol: float, claim_id: str
) -> CheckResult:
    """Likelihood-ratio test of a claimed iso-refusal curve against a free curve per k.

    Family model: ``logit P(refuse) = B · scale_θ(k) · (t − τ_θ(k))`` (the stochastic
    rule ``σ(β(s(t,k) − γ))`` of ``docs/papers.md#rapo-game-primitives`` rearranged; only
    ``B`` and the curve are identifiable, so δ and η are reported through the curve's coefficients,
    e.g. ``κ = δ/(η(1−δ))``). Saturated model: an independent logistic regression in
    ``t`` for each distinct ``k``. ``PASS`` iff the LR test's p-value is at least ``tol``
    (no significant departure from the claimed law).
    """
    if not records:
        return skipped("no records: pass dicts with keys k, t, refused")
    k, t, y = _parse_refusal_records(records, claim_id)
    ks = np.unique(k)
    if ks.size < 3:
        return skipped(f"need at least 3 distinct k values to test a curve, got {ks.size}")
    sat_nll = 0.0
    per_k: dict[str, Any] = {}
    for kv in ks:
        m = k == kv
        tm, ym = t[m], y[m]

        def per_k_loss(v: np.ndarray, tm: np.ndarray = tm, ym: np.ndarray = ym) -> float:
            return _nll(v[0] * tm + v[1], ym) + 1e-6 * float(v @ v)

        res = optimize.minimize(per_k_loss, np.zeros(2), method="BFGS")
        sat_nll += _nll(res.x[0] * tm + res.x[1], ym)
        tau_k = -res.x[1] / res.x[0] if abs(res.x[0]) > 1e-12 else float("nan")
        per_k[f"{kv:g}"] = {"n": int(m.sum()), "refusal_rate": float(ym.mean()), "t50": tau_k}

    def fam_loss(params: np.ndarray) -> float:
        log_b, theta = params[0], params[1:]
        logit = math.exp(log_b) * family.scale(k, theta) * (t - family.tau(k, theta))
        return _nll(logit, y)

    starts = [np.array([0.0, *family.init])]
    starts.append(np.array([2.0, *[v + 0.5 for v in family.init]]))
    best = None
    for x0 in starts:
        res = optimize.minimize(
            fam_loss, x0, method="L-BFGS-B", bounds=((-10.0, 10.0), *family.bounds)
        )
        if best is None or res.fun < best.fun:
            best = res
    assert best is not None
    lr = max(0.0, 2.0 * (best.fun - sat_nll))
    df = 2 * ks.size - (1 + family.n_params)
    p_value = float(stats.chi2.sf(lr, df)) if df > 0 else 1.0
    evidence = {
        "family": family.name,
        "fitted_theta": best.x[1:].tolist(),
        "fitted_sharpness_B": math.exp(best.x[0]),
        "lr_statistic": lr,
        "df": df,
        "p_value": p_value,
        "n_records": len(records),
        "per_k": per_k,
    }
    ok = p_value >= tol
    summary = (
        f"iso-refusal {family.name}: LR p={p_value:.3g} "
        + (">=" if ok else "<")
        + f" {tol:g} over {ks.size} k values"
    )
    return verdict(ok, summary, evidence, tol)
