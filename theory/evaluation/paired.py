"""Paired tests between two agents that played the same episode seeds.

When agents A and B each play the same seeds (same prompts, same opponents, same
environment randomness), the per-seed difference removes the variation between seeds,
which is usually most of the variance: a paired test needs far fewer episodes than
comparing two independent averages. Each function takes the two agents' per-episode
outcomes aligned by seed (``a[k]`` and ``b[k]`` come from the same seed; see
:func:`pair_by_seed`) and returns a :class:`PairedTestResult` with the number of pairs,
an effect estimate with a confidence interval, the p-value and a one-line verdict.

* :func:`mcnemar`: binary outcomes (attack succeeded, answer correct). Only the
  discordant seeds (one agent succeeded, the other not) carry information (McNemar
  1947, Psychometrika 12). Below ``exact_below`` discordant pairs the p-value is the
  exact two-sided binomial test of ``b ~ Bin(b + c, 1/2)``; above, the chi-square
  statistic with Edwards' (1948) continuity correction ``(|b - c| - 1)^2 / (b + c)``.
  The effect is the difference in success rates with the Agresti-Min (2005, Stat. Med.
  24) interval, which adds 1/2 to each cell of the 2x2 table so it stays sensible when
  ``b`` or ``c`` is 0 (the plain Wald interval then has zero width).
* :func:`paired_t`: continuous payoffs; the effect is the mean difference, with the
  Student-t interval (valid for large n by the central limit theorem whatever the
  payoff distribution; for small n it assumes roughly normal differences).
* :func:`wilcoxon_signed_rank`: continuous payoffs with heavy tails or outliers
  (Wilcoxon 1945). The p-value is scipy's; the effect is the Hodges-Lehmann estimate
  (the median of the Walsh averages ``(d_i + d_j) / 2``, ``i <= j``) with its
  distribution-free interval (Hodges & Lehmann 1963; Hollander, Wolfe & Chicken 2014,
  "Nonparametric Statistical Methods"), found by counting Walsh averages below a
  bisected threshold in ``O(n log n)`` per step rather than listing all
  ``n (n + 1) / 2`` of them.

Below ``min_n`` pairs no test is run: ``p_value`` is NaN, ``sufficient`` is False and
the verdict says "insufficient data". A p-value from five episodes is technically
computable and practically misleading, so the result refuses to give one.

Testing many pairs of agents inflates false positives; :func:`holm` adjusts a family of
p-values (Holm 1979) before they are compared with ``alpha``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats

from theory.errors import InvalidGameError

FloatArray = NDArray[np.float64]

DEFAULT_MIN_N = 10
"""Fewest paired episodes for which a test is run (below it: "insufficient data")."""


@dataclass(frozen=True)
class PairedTestResult:
    """One paired comparison of agent ``labels[0]`` (A) against ``labels[1]`` (B).

    ``effect`` estimates how much A exceeds B (its meaning is in ``effect_name``) with
    the interval ``[lower, upper]`` at ``confidence``; ``p_value`` tests "no
    difference". ``n`` is the number of paired episodes; ``sufficient`` is False (and
    ``p_value``, ``lower``, ``upper`` NaN) when ``n < min_n``. ``details`` holds the
    test's own counts (McNemar: the discordant counts ``b`` = A only, ``c`` = B only).
    """

    test: str
    labels: tuple[str, str]
    n: int
    effect: float
    effect_name: str
    lower: float
    upper: float
    confidence: float
    p_value: float
    statistic: float
    alpha: float
    min_n: int
    sufficient: bool
    details: dict[str, float] = field(default_factory=dict)

    @property
    def significant(self) -> bool:
        """True when there were enough pairs and ``p_value < alpha``."""
        return self.sufficient and self.p_value < self.alpha

    @property
    def verdict(self) -> str:
        """One line for a report, e.g. ``"A better than B (p = 0.003)"``."""
        a, b = self.labels
        if not self.sufficient:
            return f"insufficient data ({self.n} paired episodes, need {self.min_n})"
        if not self.significant:
            return f"no significant difference between {a} and {b} (p = {self.p_value:.3g})"
        better, worse = (a, b) if self.effect > 0 else (b, a)
        return f"{better} better than {worse} (p = {self.p_value:.3g})"


def _paired_arrays(a: ArrayLike, b: ArrayLike) -> tuple[FloatArray, FloatArray]:
    x = np.asarray(a, dtype=np.float64).ravel()
    y = np.asarray(b, dtype=np.float64).ravel()
    if x.shape != y.shape:
        raise InvalidGameError(
            f"paired tests need one outcome per seed for each agent; got {x.size} and "
            f"{y.size}. Fix: align them with pair_by_seed."
        )
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        raise InvalidGameError("outcomes contain NaN or infinite values.")
    return x, y


def _check_levels(confidence: float, alpha: float, min_n: int) -> None:
    if not 0.0 < confidence < 1.0:
        raise InvalidGameError(f"confidence must lie in (0, 1), got {confidence}.")
    if not 0.0 < alpha < 1.0:
        raise InvalidGameError(f"alpha must lie in (0, 1), got {alpha}.")
    if min_n < 1:
        raise InvalidGameError(f"min_n must be at least 1, got {min_n}.")


def pair_by_seed(
    a: Mapping[int, float], b: Mapping[int, float]
) -> tuple[FloatArray, FloatArray, list[int]]:
    """Align two agents' outcomes ``{seed: outcome}`` on the seeds both played.

    Returns ``(x, y, seeds)`` with ``x[k] = a[seeds[k]]``, ``y[k] = b[seeds[k]]`` and
    the seeds sorted; seeds only one agent played are dropped (they cannot be paired).
    """
    seeds = sorted(set(a) & set(b))
    x = np.array([float(a[s]) for s in seeds], dtype=np.float64)
    y = np.array([float(b[s]) for s in seeds], dtype=np.float64)
    return x, y, seeds


def mcnemar(
    a: ArrayLike,
    b: ArrayLike,
    *,
    labels: tuple[str, str] = ("A", "B"),
    alpha: float = 0.05,
    confidence: float = 0.95,
    min_n: int = DEFAULT_MIN_N,
    exact_below: int = 25,
) -> PairedTestResult:
    """McNemar's test for paired binary outcomes (1 = success) of agents A and B.

    ``b`` counts seeds where only A succeeded, ``c`` those where only B did. The
    p-value is exact (binomial) while ``b + c < exact_below`` and the continuity-
    corrected chi-square otherwise (25 discordant pairs is the customary switch point;
    below it the chi-square approximation is poor). The effect is ``(b - c) / n``, A's success rate
    minus B's, with the Agresti-Min interval.
    """
    _check_levels(confidence, alpha, min_n)
    x, y = _paired_arrays(a, b)
    if not (np.all((x == 0) | (x == 1)) and np.all((y == 0) | (y == 1))):
        raise InvalidGameError(
            "McNemar's test needs binary outcomes (0 or 1). Fix: use paired_t or "
            "wilcoxon_signed_rank for continuous payoffs."
        )
    n = int(x.size)
    only_a = int(np.sum((x == 1) & (y == 0)))
    only_b = int(np.sum((x == 0) & (y == 1)))
    discordant = only_a + only_b
    effect = (only_a - only_b) / n if n else math.nan
    details = {
        "only_a": float(only_a),
        "only_b": float(only_b),
        "both": float(np.sum((x == 1) & (y == 1))),
        "neither": float(np.sum((x == 0) & (y == 0))),
        "rate_a": float(x.mean()) if n else math.nan,
        "rate_b": float(y.mean()) if n else math.nan,
    }
    if n < min_n:
        return _insufficient(
            "mcnemar",
            labels,
            n,
            effect,
            "difference in success rate (A - B)",
            confidence,
            alpha,
            min_n,
            details,
        )
    if discordant == 0:
        p_value, statistic, test = 1.0, 0.0, "mcnemar-exact"
    elif discordant < exact_below:
        p_value = float(stats.binomtest(only_a, discordant, 0.5).pvalue)
        statistic, test = float(only_a), "mcnemar-exact"
    else:
        statistic = (abs(only_a - only_b) - 1.0) ** 2 / discordant
        p_value, test = float(stats.chi2.sf(statistic, df=1)), "mcnemar-chi2"
    # Agresti & Min (2005): add 1/2 to each of the four cells, then the Wald interval.
    n_adj = n + 2.0
    p12, p21 = (only_a + 0.5) / n_adj, (only_b + 0.5) / n_adj
    centre = p12 - p21
    half = stats.norm.ppf(0.5 + confidence / 2.0) * math.sqrt(
        max(p12 + p21 - centre**2, 0.0) / n_adj
    )
    return PairedTestResult(
        test=test,
        labels=labels,
        n=n,
        effect=effect,
        effect_name="difference in success rate (A - B)",
        lower=max(-1.0, centre - half),
        upper=min(1.0, centre + half),
        confidence=confidence,
        p_value=min(1.0, p_value),
        statistic=statistic,
        alpha=alpha,
        min_n=min_n,
        sufficient=True,
        details=details,
    )


def paired_t(
    a: ArrayLike,
    b: ArrayLike,
    *,
    labels: tuple[str, str] = ("A", "B"),
    alpha: float = 0.05,
    confidence: float = 0.95,
    min_n: int = DEFAULT_MIN_N,
) -> PairedTestResult:
    """Paired t-test of the mean difference ``a - b`` (Student 1908), via scipy.

    When every difference is the same (zero spread) the t statistic is undefined; the
    result then has p = 1 if the differences are all 0 and p = 0 otherwise, with a
    zero-width interval.
    """
    _check_levels(confidence, alpha, min_n)
    x, y = _paired_arrays(a, b)
    d = x - y
    n = int(d.size)
    effect = float(d.mean()) if n else math.nan
    name = "mean difference (A - B)"
    details = {
        "mean_a": float(x.mean()) if n else math.nan,
        "mean_b": float(y.mean()) if n else math.nan,
    }
    min_n = max(min_n, 2)  # a standard deviation needs two differences
    if n < min_n:
        return _insufficient("paired-t", labels, n, effect, name, confidence, alpha, min_n, details)
    sd = float(d.std(ddof=1))
    if sd <= 1e-15 * max(1.0, float(np.abs(d).max())):
        p_value = 1.0 if effect == 0.0 else 0.0
        lower = upper = effect
        statistic = 0.0 if effect == 0.0 else math.copysign(math.inf, effect)
    else:
        res = stats.ttest_1samp(d, 0.0)
        p_value, statistic = float(res.pvalue), float(res.statistic)
        half = float(stats.t.ppf(0.5 + confidence / 2.0, df=n - 1)) * sd / math.sqrt(n)
        lower, upper = effect - half, effect + half
    details["sd_difference"] = sd
    return PairedTestResult(
        test="paired-t",
        labels=labels,
        n=n,
        effect=effect,
        effect_name=name,
        lower=lower,
        upper=upper,
        confidence=confidence,
        p_value=p_value,
        statistic=statistic,
        alpha=alpha,
        min_n=min_n,
        sufficient=True,
        details=details,
    )


def _walsh_count(d_sorted: FloatArray, theta: float) -> int:
    """Number of Walsh averages ``(d_i + d_j) / 2`` (``i <= j``) that are ``<= theta``."""
    ordered = int(np.searchsorted(d_sorted, 2.0 * theta - d_sorted, side="right").sum())
    diagonal = int(np.searchsorted(d_sorted, theta, side="right"))
    return (ordered + diagonal) // 2


def walsh_order_statistic(d: ArrayLike, k: int) -> float:
    """The ``k``-th smallest (1-based) Walsh average of ``d`` without listing them all.

    Bisection on the value: the count of Walsh averages ``<= theta`` is monotone in
    ``theta`` and costs one ``searchsorted`` (``O(n log n)``), so 200 steps locate the
    order statistic to the last bit for any ``n``.
    """
    values = np.sort(np.asarray(d, dtype=np.float64).ravel())
    total = values.size * (values.size + 1) // 2
    if not 1 <= k <= total:
        raise InvalidGameError(f"k must lie in 1..{total}, got {k}.")
    lo, hi = float(values[0]), float(values[-1])
    if _walsh_count(values, lo) >= k:
        return lo
    for _ in range(200):  # invariant: count(lo) < k <= count(hi)
        mid = 0.5 * (lo + hi)
        if mid <= lo or mid >= hi:
            break
        if _walsh_count(values, mid) >= k:
            hi = mid
        else:
            lo = mid
    return hi


def _signed_rank_lower_index(n: int, confidence: float) -> int:
    """``k`` such that ``[W_(k), W_(N+1-k)]`` covers the pseudo-median at ``confidence``.

    ``k - 1`` is the largest ``c`` with ``P(T+ <= c - 1) <= (1 - confidence) / 2`` under
    the null distribution of the signed-rank statistic ``T+``; exact (by dynamic
    programming over rank subsets) up to n = 60, normal approximation beyond.
    """
    tail = (1.0 - confidence) / 2.0
    total = n * (n + 1) // 2
    if n <= 60:
        counts = np.zeros(total + 1)
        counts[0] = 1.0
        for r in range(1, n + 1):
            counts[r:] = counts[r:] + counts[: total + 1 - r]
        cdf = np.cumsum(counts) / 2.0**n
        # largest k with P(T+ <= k - 1) <= tail
        return int(np.searchsorted(cdf, tail, side="right"))
    # P(T+ <= k - 1) ~ Phi((k - 1/2 - N/2) / sd) with the continuity correction
    z = float(stats.norm.ppf(1.0 - tail))
    k = math.floor(total / 2.0 + 0.5 - z * math.sqrt(n * (n + 1) * (2 * n + 1) / 24.0))
    return max(k, 0)


def wilcoxon_signed_rank(
    a: ArrayLike,
    b: ArrayLike,
    *,
    labels: tuple[str, str] = ("A", "B"),
    alpha: float = 0.05,
    confidence: float = 0.95,
    min_n: int = DEFAULT_MIN_N,
) -> PairedTestResult:
    """Wilcoxon signed-rank test of ``a - b`` with the Hodges-Lehmann effect and interval.

    The p-value is :func:`scipy.stats.wilcoxon` with zero differences dropped
    (Wilcoxon's convention) and scipy's choice of exact or normal null distribution.
    The effect is the Hodges-Lehmann pseudo-median of the differences; its interval
    ``[W_(k), W_(N+1-k)]`` over the sorted Walsh averages is distribution-free for
    continuous symmetric differences (conservative with ties). When every difference
    is 0 the p-value is 1 and the effect 0.
    """
    _check_levels(confidence, alpha, min_n)
    x, y = _paired_arrays(a, b)
    d = x - y
    n = int(d.size)
    name = "Hodges-Lehmann pseudo-median of A - B"
    details = {"nonzero": float(np.count_nonzero(d))}
    if n == 0:
        return _insufficient(
            "wilcoxon", labels, 0, math.nan, name, confidence, alpha, min_n, details
        )
    total = n * (n + 1) // 2
    if total % 2:
        effect = walsh_order_statistic(d, (total + 1) // 2)
    else:
        effect = 0.5 * (
            walsh_order_statistic(d, total // 2) + walsh_order_statistic(d, total // 2 + 1)
        )
    if n < min_n:
        return _insufficient("wilcoxon", labels, n, effect, name, confidence, alpha, min_n, details)
    if not np.any(d != 0):
        p_value, statistic = 1.0, 0.0
    else:
        res = stats.wilcoxon(d, zero_method="wilcox", alternative="two-sided")
        p_value, statistic = float(res.pvalue), float(res.statistic)
    k = _signed_rank_lower_index(n, confidence)
    if k >= 1:
        lower = walsh_order_statistic(d, k)
        upper = walsh_order_statistic(d, total + 1 - k)
    else:  # too few pairs for any finite interval at this confidence
        lower, upper = -math.inf, math.inf
    return PairedTestResult(
        test="wilcoxon",
        labels=labels,
        n=n,
        effect=effect,
        effect_name=name,
        lower=lower,
        upper=upper,
        confidence=confidence,
        p_value=p_value,
        statistic=statistic,
        alpha=alpha,
        min_n=min_n,
        sufficient=True,
        details=details,
    )


def paired_test(
    a: ArrayLike,
    b: ArrayLike,
    *,
    kind: Literal["auto", "mcnemar", "t", "wilcoxon"] = "auto",
    labels: tuple[str, str] = ("A", "B"),
    alpha: float = 0.05,
    confidence: float = 0.95,
    min_n: int = DEFAULT_MIN_N,
) -> PairedTestResult:
    """Run the paired test named by ``kind``; ``"auto"`` picks McNemar for 0/1 outcomes
    and the paired t-test otherwise (the payoff table reports means, and the t-test is
    about the mean; use ``"wilcoxon"`` for heavy-tailed payoffs)."""
    common = {"labels": labels, "alpha": alpha, "confidence": confidence, "min_n": min_n}
    if kind == "auto":
        x, y = _paired_arrays(a, b)
        binary = bool(np.all((x == 0) | (x == 1)) and np.all((y == 0) | (y == 1)))
        kind = "mcnemar" if binary else "t"
    if kind == "mcnemar":
        return mcnemar(a, b, **common)  # type: ignore[arg-type]
    if kind == "t":
        return paired_t(a, b, **common)  # type: ignore[arg-type]
    if kind == "wilcoxon":
        return wilcoxon_signed_rank(a, b, **common)  # type: ignore[arg-type]
    raise InvalidGameError(f"kind must be auto, mcnemar, t or wilcoxon, got {kind!r}.")


def holm(p_values: Sequence[float] | ArrayLike) -> FloatArray:
    """Holm (1979) step-down adjusted p-values for a family of tests.

    Compare each adjusted p-value with ``alpha``: the family-wise error rate (any false
    positive among all pairs of agents) is then at most ``alpha``, with no assumption
    about how the tests depend on each other. NaN entries (insufficient data) are left
    NaN and do not count as tests.
    """
    p = np.asarray(p_values, dtype=np.float64).ravel()
    out = np.full(p.shape, np.nan)
    ok = np.flatnonzero(~np.isnan(p))
    m = ok.size
    if m == 0:
        return out
    order = ok[np.argsort(p[ok], kind="stable")]
    adjusted = np.maximum.accumulate((m - np.arange(m)) * p[order])
    out[order] = np.minimum(adjusted, 1.0)
    return out


def _insufficient(
    test: str,
    labels: tuple[str, str],
    n: int,
    effect: float,
    name: str,
    confidence: float,
    alpha: float,
    min_n: int,
    details: dict[str, float],
) -> PairedTestResult:
    return PairedTestResult(
        test=test,
        labels=labels,
        n=n,
        effect=effect,
        effect_name=name,
        lower=math.nan,
        upper=math.nan,
        confidence=confidence,
        p_value=math.nan,
        statistic=math.nan,
        alpha=alpha,
        min_n=min_n,
        sufficient=False,
        details=details,
    )
