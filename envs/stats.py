"""Small statistics every summary uses: rates with Wilson intervals, means with t-intervals.

The Wilson score interval is used for rates (ASR, over-refusal) because runs are often
small and rates near 0 or 1, where the normal approximation gives impossible bounds.
Means (payoffs) get a Student-t interval. Bounds are cleaned at ~1e-12 of their scale,
so a rate of 0 prints as ``0%``, not ``3.47e-18``. A mean of a bounded quantity (hops in
``[0, max_hops]``, an accuracy in ``[0, 1]``) passes its ``bounds``: with few samples a
t-interval can reach past what the quantity can be (2 runs: t = 12.7), and an interval
such as ``0.40 [-0.65, 1.45]`` for an accuracy is read as a bug, so it is clipped to the
possible range and :attr:`Mean.clipped` says so (a caption can then tell the reader).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

Z_95 = 1.959963984540054
CLEAN_TOL = 1e-12


def clean(value: float, scale: float = 1.0) -> float:
    """``value`` with float dust below ``CLEAN_TOL * scale`` set to exactly 0."""
    return 0.0 if abs(value) <= CLEAN_TOL * max(scale, 1e-300) else value


@dataclass(frozen=True)
class Rate:
    successes: int
    trials: int

    @property
    def value(self) -> float:
        return self.successes / self.trials if self.trials else math.nan

    def wilson(self, z: float = Z_95) -> tuple[float, float]:
        n = self.trials
        if n == 0:
            return (math.nan, math.nan)
        p = self.successes / n
        denom = 1 + z * z / n
        centre = (p + z * z / (2 * n)) / denom
        half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
        low = clean(max(0.0, centre - half))
        high = 1.0 - clean(1.0 - min(1.0, centre + half))
        return (low, high)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: an empty rate is ``None`` (strict JSON has no NaN)."""
        if not self.trials:
            return {**asdict(self), "value": None, "ci95": None}
        low, high = self.wilson()
        return {**asdict(self), "value": self.value, "ci95": [low, high]}


def _t_quantile_975(dof: int) -> float:
    try:
        from scipy.stats import t

        return float(t.ppf(0.975, dof))
    except ImportError:  # pragma: no cover - scipy is a core dependency
        return Z_95


def clip_interval(
    low: float, high: float, bounds: tuple[float, float] | None
) -> tuple[float, float, bool]:
    """``(low, high)`` clipped into ``bounds`` and whether anything was cut.

    Why: a t-interval of a bounded quantity from few samples can leave the range the
    quantity can take; the part outside is impossible, so it is dropped (and reported,
    so the reader knows the interval is not the symmetric t-interval any more).
    ``bounds=None`` or a NaN bound (no interval) leaves the interval as it is.
    """
    if bounds is None or not (math.isfinite(low) and math.isfinite(high)):
        return low, high, False
    lo, hi = bounds
    clipped_low, clipped_high = min(max(low, lo), hi), max(min(high, hi), lo)
    return clipped_low, clipped_high, (clipped_low, clipped_high) != (low, high)


@dataclass(frozen=True)
class Mean:
    """A sample mean with its 95% Student-t interval (``n < 2``: no interval).

    ``clipped`` is true when the interval was cut to the quantity's possible range
    (see :func:`clip_interval`).
    """

    value: float
    n: int
    low: float
    high: float
    clipped: bool = False

    @classmethod
    def of(cls, values: Sequence[float], bounds: tuple[float, float] | None = None) -> Mean:
        """The mean of ``values``; ``bounds`` = the range the quantity can take, if any."""
        n = len(values)
        if n == 0:
            return cls(math.nan, 0, math.nan, math.nan)
        mean = math.fsum(values) / n
        if n < 2:
            return cls(mean, n, math.nan, math.nan)
        var = math.fsum((v - mean) ** 2 for v in values) / (n - 1)
        half = _t_quantile_975(n - 1) * math.sqrt(var / n)
        scale = max(abs(mean), half, 1.0)
        low, high, clipped = clip_interval(
            clean(mean - half, scale), clean(mean + half, scale), bounds
        )
        return cls(clean(mean, scale), n, low, high, clipped)

    def to_dict(self) -> dict[str, Any]:
        finite = math.isfinite(self.low)
        return {
            "value": self.value if math.isfinite(self.value) else None,
            "n": self.n,
            "ci95": [self.low, self.high] if finite else None,
        }

    def format(self, digits: int = 3) -> str:
        if not math.isfinite(self.value):
            return "—"
        if not math.isfinite(self.low):
            return f"{self.value:+.{digits}f}"
        return f"{self.value:+.{digits}f} ({self.low:+.{digits}f}, {self.high:+.{digits}f})"


def format_rate(rate: Rate) -> str:
    """``12.5% (8%–19%)`` with the Wilson interval, or ``—`` for an empty rate."""
    if not rate.trials:
        return "—"
    low, high = rate.wilson()
    return f"{rate.value:.1%} ({low:.0%}–{high:.0%})"


def format_percent(rate: Rate) -> str:
    return f"{rate.value:.1%}" if rate.trials else "—"
