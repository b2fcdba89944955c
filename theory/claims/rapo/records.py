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
    Status,
    check_alpha,
    insufficient,
    record_float,
    require_keys,
    skipped,
    to_plain,
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


MIN_REFUSAL_RECORDS = 200


def _hessian(fn: Callable[[np.ndarray], float], x: np.ndarray, h: float = 1e-4) -> np.ndarray:
    n = x.size
    out = np.empty((n, n))
    for i in range(n):
        for j in range(n):
            e_i, e_j = np.eye(n)[i] * h, np.eye(n)[j] * h
            out[i, j] = (
                fn(x + e_i + e_j) - fn(x + e_i - e_j) - fn(x - e_i + e_j) + fn(x - e_i - e_j)
            ) / (4 * h * h)
    return out


def iso_refusal_test(
    records: Sequence[Mapping[str, Any]],
    family: _Family,
    alpha: float,
    claim_id: str,
    min_records: int = MIN_REFUSAL_RECORDS,
) -> CheckResult:
    """Does refusal follow the claimed iso-refusal curve, with power against noise?

    Family model: ``logit P(refuse) = B · scale_θ(k) · (t − τ_θ(k))`` (the stochastic
    rule ``σ(β(s(t,k) − γ))`` of ``docs/papers.md#rapo-game-primitives`` rearranged; only
    ``B`` and the curve are identifiable, so δ and η are reported through the curve's
    coefficients, e.g. ``κ = δ/(η(1−δ))``). ``PASS`` needs all of:

    1. the law has signal: the family fits significantly better than a constant refusal
       rate (likelihood-ratio p < ``alpha``), so pure noise and a model that always (or
       never) refuses fail ("flat");
    2. the threshold grows with k: the fitted slope ``τ(k_max) − τ(k_min)`` has a Wald
       interval at level ``1 − alpha`` entirely above 0 (the inverse law fails);
    3. no significant departure: the LR test against a free logistic curve per k has
       p ≥ ``alpha``.

    Below ``min_records`` records (or with fewer than 3 distinct k) the verdict is
    ``INSUFFICIENT``. The evidence reports n, the fitted curve coefficients with their
    intervals, and every p-value.
    """
    if not records:
        return skipped("no records: pass dicts with keys k, t, refused")
    check_alpha(alpha)
    k, t, y = _parse_refusal_records(records, claim_id)
    ks = np.unique(k)
    if len(records) < min_records:
        return insufficient(len(records), min_records)
    if ks.size < 3:
        return insufficient(int(ks.size), 3, "distinct k values")
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
    starts.append(np.array([0.0, *[-v - 0.5 for v in family.init]]))
    best = None
    for x0 in starts:
        res = optimize.minimize(
            fam_loss, x0, method="L-BFGS-B", bounds=((-10.0, 10.0), *family.bounds)
        )
        if best is None or res.fun < best.fun:
            best = res
    assert best is not None
    # 1. signal: family vs a constant refusal rate
    rate = float(np.clip(y.mean(), 1e-12, 1 - 1e-12))
    null_nll = _nll(np.full_like(y, math.log(rate / (1 - rate))), y)
    lr_signal = max(0.0, 2.0 * (null_nll - best.fun))
    p_signal = float(stats.chi2.sf(lr_signal, 1 + family.n_params))
    # 2. slope of the fitted threshold over the observed k range, with a Wald interval
    k_lo, k_hi = float(ks.min()), float(ks.max())

    def slope_of(params: np.ndarray) -> float:
        th = params[1:]
        lo = family.tau(np.array([k_lo]), th)[0]
        hi = family.tau(np.array([k_hi]), th)[0]
        return float((hi - lo) / (k_hi - k_lo))

    z = float(stats.norm.ppf(1 - alpha / 2))
    slope = slope_of(best.x)
    try:
        cov = np.linalg.pinv(_hessian(fam_loss, best.x))
        grad = _grad(slope_of, best.x)
        slope_se = float(math.sqrt(max(0.0, grad @ cov @ grad)))
        theta_se = [float(math.sqrt(max(0.0, cov[i, i]))) for i in range(1, best.x.size)]
    except (np.linalg.LinAlgError, ValueError):
        slope_se, theta_se = math.inf, [math.inf] * family.n_params
    slope_interval = [slope - z * slope_se, slope + z * slope_se]
    theta_intervals = [
        [float(v - z * se), float(v + z * se)] for v, se in zip(best.x[1:], theta_se, strict=True)
    ]
    # 3. goodness of fit against a free curve per k
    lr = max(0.0, 2.0 * (best.fun - sat_nll))
    df = 2 * ks.size - (1 + family.n_params)
    p_value = float(stats.chi2.sf(lr, df)) if df > 0 else 1.0
    checks = {
        f"refusal depends on (t, k) as the law says (signal p={p_signal:.2g} < {alpha:g})": (
            p_signal < alpha
        ),
        f"threshold grows with k (slope interval {slope_interval[0]:.3g}..."
        f"{slope_interval[1]:.3g} > 0)": slope_interval[0] > 0,
        f"no significant departure from {family.name} (p={p_value:.2g} ≥ {alpha:g})": (
            p_value >= alpha
        ),
    }
    failed = [name for name, ok in checks.items() if not ok]
    evidence = {
        "n": len(records),
        "family": family.name,
        "fitted_theta": best.x[1:].tolist(),
        "fitted_theta_interval": theta_intervals,
        "interval": slope_interval,
        "interval_of": f"slope of the fitted threshold over k ∈ [{k_lo:g}, {k_hi:g}]",
        "threshold_slope": slope,
        "fitted_sharpness_B": math.exp(best.x[0]),
        "signal_p_value": p_signal,
        "lr_statistic": lr,
        "df": df,
        "p_value": p_value,
        "alpha": alpha,
        "refusal_rate": float(y.mean()),
        "checks": checks,
        "per_k": per_k,
    }
    theta_text = ", ".join(
        f"{v:.3g} [{lo:.3g}, {hi:.3g}]"
        for v, (lo, hi) in zip(best.x[1:], theta_intervals, strict=True)
    )
    if failed:
        summary = f"failed: {'; '.join(failed)} (n={len(records)}, fitted θ {theta_text})"
    else:
        summary = (
            f"iso-refusal {family.name}: fitted θ {theta_text} ({1 - alpha:.0%} intervals), "
            f"threshold slope in k {slope_interval[0]:.3g}..{slope_interval[1]:.3g}; "
            f"fit p={p_value:.3g}, signal p={p_signal:.2g}; n={len(records)}, {ks.size} k values"
        )
    return CheckResult(
        Status.PASS if not failed else Status.FAIL, summary, to_plain(evidence), alpha
    )


def _grad(fn: Callable[[np.ndarray], float], x: np.ndarray, h: float = 1e-6) -> np.ndarray:
    out = np.empty(x.size)
    for i in range(x.size):
        e = np.eye(x.size)[i] * h
        out[i] = (fn(x + e) - fn(x - e)) / (2 * h)
    return out
