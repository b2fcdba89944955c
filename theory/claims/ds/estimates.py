"""Empirical tests shared by the DS claims: Monte Carlo estimates and fitted length laws.

Both follow the rules of :mod:`theory.claims.stats`, so every DS verdict reports ``n``
and an ``interval`` and says ``INSUFFICIENT`` where the data cannot decide:

* :func:`mc_estimate_test` (T1 and its GRPO variant): records hold Monte Carlo
  estimates with standard errors; each estimate gets a ``1 − alpha/m`` interval
  (Bonferroni over the ``m`` estimates) that must meet ``[analytic ± tol]``.
* :func:`length_slope_test` (T2, T3, the Adam variant): the slope of
  ``log(sample/decision)`` in ``log L`` with its t interval, against the claimed
  exponent ``± tol``; a pass must exclude the neighbouring exponents ``e ± 1``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

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
from theory.claims.stats import banded_verdict, slope_interval, z_value

#: an estimate whose interval is wider than this (half-width) says nothing about the
#: toy's quantities, whose magnitudes are at most 1 (values) and 1/4 (logit gradients)
MC_RESOLUTION = 0.1


def mc_estimate_test(
    records: Sequence[Mapping[str, Any]],
    *,
    claim_id: str,
    required: Sequence[str],
    keys: Sequence[str],
    analytic: Callable[[Mapping[str, Any], int], Mapping[str, float]],
    tol: float,
    alpha: float,
) -> CheckResult:
    """Compare Monte Carlo estimates with closed forms, one interval per estimate.

    ``analytic(record, index)`` gives the closed-form value of every key in ``keys``.
    An estimate ``x`` with standard error ``se_x`` (0 if absent: an exact number) has the
    interval ``x ± z·se`` with ``z = z_{1 − alpha/(2m)}``; the verdict ``FAIL``s when some
    interval misses ``[analytic − tol, analytic + tol]``. Estimates whose half-width
    exceeds :data:`MC_RESOLUTION` are set aside as too noisy; with none left the verdict
    is ``INSUFFICIENT``. ``n`` is the number of estimates compared; the reported
    interval is the worst estimate's.
    """
    if not records:
        return skipped(f"no records: pass MC estimates with {', '.join(required)} and {keys}")
    check_alpha(alpha)
    require_keys(records, required, claim_id)
    items: list[dict[str, Any]] = []
    for i, r in enumerate(records):
        present = [k for k in keys if k in r]
        if not present:
            raise RecordSchemaError(
                f"{claim_id}: record {i} has none of {list(keys)}. "
                "Fix: store at least one MC estimate."
            )
        closed = analytic(r, i)
        for key in present:
            se = record_float(r, f"se_{key}", claim_id, i) if f"se_{key}" in r else 0.0
            if se < 0:
                raise RecordSchemaError(f"{claim_id}: record {i} has se_{key} < 0.")
            items.append(
                {
                    "record": i,
                    "key": key,
                    "estimate": record_float(r, key, claim_id, i),
                    "se": se,
                    "analytic": float(closed[key]),
                }
            )
    z = z_value(alpha / len(items))
    informative, too_noisy, failing = [], [], []
    for item in items:
        half = z * item["se"]
        item["interval"] = [item["estimate"] - half, item["estimate"] + half]
        # distance from the interval to the tolerance band (0 when they meet)
        gap = max(abs(item["estimate"] - item["analytic"]) - half - tol, 0.0)
        item["gap"] = gap
        if gap > 0:
            failing.append(item)
        elif half > MC_RESOLUTION:
            too_noisy.append(item)
        else:
            informative.append(item)
    worst = max(items, key=lambda it: (it["gap"], abs(it["estimate"] - it["analytic"])))
    evidence = {
        "n": len(items),
        "interval": worst["interval"],
        "interval_of": f"record {worst['record']} {worst['key']} "
        f"(estimate; closed form {worst['analytic']:.4g}), level 1 − alpha/{len(items)}",
        "worst": worst,
        "too_noisy": [(it["record"], it["key"]) for it in too_noisy][:10],
        "episodes": sum(
            int(record_float(r, "episodes", claim_id, i))
            for i, r in enumerate(records)
            if "episodes" in r
        ),
        "alpha": alpha,
    }
    if failing:
        summary = (
            f"failed: {len(failing)}/{len(items)} estimates miss their closed form by more "
            f"than tol + z·se; worst record {worst['record']} {worst['key']} = "
            f"{worst['estimate']:.4g} [{worst['interval'][0]:.4g}, {worst['interval'][1]:.4g}] "
            f"vs {worst['analytic']:.4g} (tol {tol:g})"
        )
        return CheckResult(Status.FAIL, summary, to_plain(evidence), tol)
    if not informative:
        return insufficient(
            0,
            1,
            f"estimates with a half-width below {MC_RESOLUTION:g} "
            f"({len(too_noisy)} too noisy: more episodes per estimate)",
            evidence,
        )
    summary = (
        f"{len(informative)} MC estimates within tol {tol:g} of their closed forms at "
        f"level {1 - alpha:.0%} (family-wise); worst record {worst['record']} {worst['key']} "
        f"{worst['estimate']:.4g} [{worst['interval'][0]:.4g}, {worst['interval'][1]:.4g}] "
        f"vs {worst['analytic']:.4g}; n={len(items)}"
        + (f", {len(too_noisy)} too noisy to count" if too_noisy else "")
    )
    return CheckResult(Status.PASS, summary, to_plain(evidence), tol)


#: fewest records (and distinct L values) for a slope with a t interval
MIN_SLOPE_RECORDS = 3


def length_slope_test(
    records: Sequence[Mapping[str, Any]],
    keys: tuple[str, str],
    claim_id: str,
    tol: float,
    alpha: float,
    exponent: float,
) -> CheckResult:
    """Fit ``log(sample/decision) = c + s·log L``; compare ``s`` with ``exponent ± tol``.

    ``FAIL`` when the ``1 − alpha`` t interval of ``s`` misses the band; ``PASS`` when it
    meets the band and excludes ``exponent ± 1`` (so the data tell the claimed law from
    its neighbours, e.g. "∝ L" from "flat"); otherwise, and below three records at
    three distinct L, ``INSUFFICIENT``.
    """
    if not records:
        return skipped(f"no records: pass dicts with keys L, {keys[0]}, {keys[1]}")
    check_alpha(alpha)
    require_keys(records, ("L", *keys), claim_id)
    length = np.array([record_float(r, "L", claim_id, i) for i, r in enumerate(records)])
    num = np.array([record_float(r, keys[0], claim_id, i) for i, r in enumerate(records)])
    den = np.array([record_float(r, keys[1], claim_id, i) for i, r in enumerate(records)])
    if np.any(length <= 0) or np.any(num <= 0) or np.any(den <= 0):
        raise RecordSchemaError(
            f"{claim_id}: L and both norms must be positive. Fix: drop zero rows."
        )
    distinct = int(np.unique(length).size)
    if len(records) < MIN_SLOPE_RECORDS or distinct < MIN_SLOPE_RECORDS:
        return insufficient(
            min(len(records), distinct),
            MIN_SLOPE_RECORDS,
            "records at distinct L (a slope with an interval needs three)",
            {"records": len(records), "distinct_L": distinct},
        )
    slope, lo, hi, intercept = slope_interval(np.log(length), np.log(num / den), alpha)
    return banded_verdict(
        estimate=slope,
        interval=(lo, hi),
        prediction=exponent,
        tol=tol,
        rivals=(exponent - 1.0, exponent + 1.0),
        n=len(records),
        what=f"slope of log({keys[0]}/{keys[1]}) in log L",
        evidence={"slope": slope, "intercept": intercept, "distinct_L": distinct},
        alpha=alpha,
    )
