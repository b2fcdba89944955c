"""Interval estimates and verdict rules shared by the claims' empirical checks.

Every empirical verdict reports ``n`` and an ``interval`` and, below the claim's minimum
sample size, says ``INSUFFICIENT`` rather than ``PASS`` (``docs/claims.md#checks-and-verdicts``).
The claims use three shapes of test, each with one rule here, so that the same words
mean the same thing in every row of the table:

* **directional** (:func:`directional_verdict`: "X is larger under A than under B"):
  ``PASS`` iff the ``1 − alpha`` interval of the difference lies above 0; a difference
  whose interval lies below 0 (a significant reversal) is a ``FAIL`` at any ``n``; below
  the minimum ``n`` anything else is ``INSUFFICIENT``; at or above it, a difference not
  shown is a ``FAIL`` ("no significant gain").
* **banded** (:func:`banded_verdict`: "the estimate equals the prediction within
  ``tol``"): ``FAIL`` iff the interval misses ``[prediction − tol, prediction + tol]``;
  ``PASS`` iff it meets the band *and* excludes every rival value (e.g. the exponents
  ``e ± 1`` of the neighbouring laws), so that a pass says the data could tell the claim
  from its rivals; otherwise ``INSUFFICIENT``.
* **bounded** (MAGIC, :mod:`theory.claims.magic.records`: "a rate is at most ``tol``",
  "a mean is at least ``−tol``"): a contradiction fails at any ``n``, a pass needs the
  minimum ``n``; the module says when an observed exceedance is itself a contradiction
  (a predicted exact zero) and when it must be significant (an inequality on a mean).

The interval functions work on numpy arrays as well as on scalars, so the numeric checks
can measure a test's size, power and coverage on thousands of synthetic data sets at
once (:mod:`theory.claims.kale.empirical`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from scipy import stats

from theory.claims.base import CheckResult, Status, to_plain


def z_value(alpha: float) -> float:
    """The two-sided normal quantile ``z_{1 − alpha/2}``."""
    return float(stats.norm.ppf(1.0 - alpha / 2.0))


def wilson_bounds(successes: Any, n: Any, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval of a binomial proportion at level ``1 − alpha`` (vectorised).

    The endpoints are the two roots ``π`` of ``(p̂ − π)² = z² π(1 − π)/n`` (the symbolic
    check of the KALE claims re-derives them). ``n = 0`` gives ``[0, 1]``.
    """
    x = np.asarray(successes, dtype=np.float64)
    m = np.asarray(n, dtype=np.float64)
    z = z_value(alpha)
    safe = np.where(m > 0, m, 1.0)
    phat = x / safe
    denom = 1.0 + z * z / safe
    centre = (phat + z * z / (2.0 * safe)) / denom
    half = z * np.sqrt(np.maximum(phat * (1.0 - phat) / safe + z * z / (4.0 * safe**2), 0.0))
    half = half / denom
    lo = np.where(m > 0, np.maximum(0.0, centre - half), 0.0)
    hi = np.where(m > 0, np.minimum(1.0, centre + half), 1.0)
    return lo, hi


def newcombe_difference(
    x1: Any, n1: Any, x2: Any, n2: Any, alpha: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``p1 − p2`` of two independent proportions with Newcombe's hybrid score interval.

    Newcombe (1998, Stat. Med. 17, method 10): with Wilson intervals ``[l_i, u_i]`` of
    each proportion, ``[d − √((p1−l1)² + (u2−p2)²), d + √((u1−p1)² + (p2−l2)²)]``. It
    stays inside ``[−1, 1]`` and keeps its coverage when a count is 0 or ``n``, where the
    Wald interval collapses. Returns ``(d, lo, hi)``.
    """
    n1a, n2a = np.asarray(n1, dtype=np.float64), np.asarray(n2, dtype=np.float64)
    p1 = np.asarray(x1, dtype=np.float64) / np.where(n1a > 0, n1a, 1.0)
    p2 = np.asarray(x2, dtype=np.float64) / np.where(n2a > 0, n2a, 1.0)
    l1, u1 = wilson_bounds(x1, n1, alpha)
    l2, u2 = wilson_bounds(x2, n2, alpha)
    d = p1 - p2
    lo = d - np.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    hi = d + np.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return d, lo, hi


def agresti_min_difference(
    n11: Any, n10: Any, n01: Any, n00: Any, alpha: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``p1 − p2`` of paired binary outcomes with the Agresti–Min (2005) interval.

    ``n10`` pairs have outcome 1 under the first method only, ``n01`` under the second
    only. The estimate is ``(n10 − n01)/n``; the interval adds 1/2 to each of the four
    cells and takes the Wald interval of the multinomial variance
    ``(π10 + π01 − (π10 − π01)²)/n`` (re-derived by the symbolic check), so it keeps its
    width when ``n10`` or ``n01`` is 0. It is the interval of
    :func:`theory.evaluation.paired.mcnemar`, on counts rather than outcome arrays.
    Returns ``(d, lo, hi)``.
    """
    a, b, c, d_ = (np.asarray(v, dtype=np.float64) for v in (n11, n10, n01, n00))
    n = a + b + c + d_
    est = (b - c) / np.where(n > 0, n, 1.0)
    n_adj = n + 2.0
    p10, p01 = (b + 0.5) / n_adj, (c + 0.5) / n_adj
    centre = p10 - p01
    half = z_value(alpha) * np.sqrt(np.maximum(p10 + p01 - centre**2, 0.0) / n_adj)
    return est, np.maximum(-1.0, centre - half), np.minimum(1.0, centre + half)


def mean_interval(values: Sequence[float] | np.ndarray, alpha: float) -> tuple[float, float, float]:
    """Mean with its Student-t interval at level ``1 − alpha``; ``(m, m, m)`` if no spread."""
    x = np.asarray(values, dtype=np.float64)
    m = float(x.mean())
    if x.size < 2:
        return m, -math.inf, math.inf
    se = float(x.std(ddof=1)) / math.sqrt(x.size)
    if se == 0.0:
        return m, m, m
    t = float(stats.t.ppf(1.0 - alpha / 2.0, x.size - 1))
    return m, m - t * se, m + t * se


def welch_difference(
    x: Sequence[float] | np.ndarray, y: Sequence[float] | np.ndarray, alpha: float
) -> tuple[float, float, float]:
    """``mean(x) − mean(y)`` with the Welch interval (unequal variances) at ``1 − alpha``.

    Needs two values per group; with no spread in either group the interval is the point.
    """
    a, b = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    d = float(a.mean() - b.mean())
    va, vb = float(a.var(ddof=1)) / a.size, float(b.var(ddof=1)) / b.size
    se2 = va + vb
    if se2 == 0.0:
        return d, d, d
    df = se2**2 / (va**2 / (a.size - 1) + vb**2 / (b.size - 1))
    t = float(stats.t.ppf(1.0 - alpha / 2.0, df))
    half = t * math.sqrt(se2)
    return d, d - half, d + half


def slope_interval(
    x: Sequence[float] | np.ndarray, y: Sequence[float] | np.ndarray, alpha: float
) -> tuple[float, float, float, float]:
    """Least-squares slope of ``y`` on ``x`` with its t interval (``n − 2`` df).

    Returns ``(slope, lo, hi, intercept)``; needs three points at two or more distinct x.
    """
    xa, ya = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    x_bar, y_bar = float(xa.mean()), float(ya.mean())
    sxx = float(np.sum((xa - x_bar) ** 2))
    slope = float(np.sum((xa - x_bar) * (ya - y_bar)) / sxx)
    intercept = y_bar - slope * x_bar
    df = xa.size - 2
    if df <= 0:
        return slope, -math.inf, math.inf, intercept
    rss = float(np.sum((ya - intercept - slope * xa) ** 2))
    se = math.sqrt(rss / df / sxx)
    half = float(stats.t.ppf(1.0 - alpha / 2.0, df)) * se
    return slope, slope - half, slope + half, intercept


def _result(status: Status, summary: str, evidence: Mapping[str, Any], tol: float | None) -> Any:
    return CheckResult(status, summary, to_plain(evidence), tol)


def directional_verdict(
    *,
    difference: float,
    interval: tuple[float, float],
    n: int,
    enough: bool,
    what: str,
    min_text: str,
    evidence: Mapping[str, Any],
    alpha: float,
) -> CheckResult:
    """The directional rule (module docstring): "``what`` is positive".

    ``enough`` says whether the sample reaches the claim's minimum (``min_text`` says
    what that minimum is); ``evidence`` gets ``n``, ``interval`` and ``interval_of``.
    """
    lo, hi = float(interval[0]), float(interval[1])
    text = f"{what} = {difference:.3g}, {1 - alpha:.0%} interval [{lo:.3g}, {hi:.3g}], n={n}"
    ev = {**evidence, "n": n, "interval": [lo, hi], "interval_of": what, "alpha": alpha}
    if hi < 0:
        return _result(Status.FAIL, f"failed: reversed: {text}", ev, None)
    if not enough:
        return _result(Status.INSUFFICIENT, f"insufficient data: {min_text} ({text})", ev, None)
    if lo > 0:
        return _result(Status.PASS, text, ev, None)
    return _result(Status.FAIL, f"failed: no significant effect: {text}", ev, None)


def banded_verdict(
    *,
    estimate: float,
    interval: tuple[float, float],
    prediction: float,
    tol: float,
    rivals: Sequence[float],
    n: int,
    what: str,
    evidence: Mapping[str, Any],
    alpha: float,
) -> CheckResult:
    """The banded rule (module docstring): "``what`` equals ``prediction`` within ``tol``".

    ``rivals`` are the values of the neighbouring laws the data must exclude to pass.
    """
    lo, hi = float(interval[0]), float(interval[1])
    band = (prediction - tol, prediction + tol)
    text = (
        f"{what} = {estimate:.3g}, {1 - alpha:.0%} interval [{lo:.3g}, {hi:.3g}] vs "
        f"{prediction:g} ± {tol:g}, n={n}"
    )
    ev = {
        **evidence,
        "n": n,
        "interval": [lo, hi],
        "interval_of": what,
        "prediction": prediction,
        "alpha": alpha,
    }
    if hi < band[0] or lo > band[1]:
        return _result(Status.FAIL, f"failed: {text} (outside the tolerance band)", ev, tol)
    included = [r for r in rivals if lo <= r <= hi]
    if included:
        return _result(
            Status.INSUFFICIENT,
            f"insufficient data: the interval also contains the rival value(s) "
            f"{', '.join(f'{r:g}' for r in included)} ({text})",
            ev,
            tol,
        )
    return _result(Status.PASS, text, ev, tol)
