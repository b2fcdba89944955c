"""Summary statistics of attack-defense episodes: rates with Wilson intervals, means.

The Wilson score interval is used for rates (ASR, over-refusal) because runs are often
small and rates near 0 or 1, where the normal approximation gives impossible bounds.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

Z_95 = 1.959963984540054


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
        return (max(0.0, centre - half), min(1.0, centre + half))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: an empty rate is ``None`` (strict JSON has no NaN)."""
        if not self.trials:
            return {**asdict(self), "value": None, "ci95": None}
        low, high = self.wilson()
        return {**asdict(self), "value": self.value, "ci95": [low, high]}


@dataclass(frozen=True)
class GroupSummary:
    """One row of the summary table: an attacker (or strategy) against the defender."""

    group: str
    episodes: int
    attack_success: Rate
    over_refusal: Rate
    refusal_on_harmful: Rate
    format_ok: Rate
    mean_reward_attacker: float
    mean_reward_defender: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "group": self.group,
            "episodes": self.episodes,
            "attack_success": self.attack_success.to_dict(),
            "over_refusal": self.over_refusal.to_dict(),
            "refusal_on_harmful": self.refusal_on_harmful.to_dict(),
            "format_ok": self.format_ok.to_dict(),
            "mean_reward_attacker": _finite_or_none(self.mean_reward_attacker),
            "mean_reward_defender": _finite_or_none(self.mean_reward_defender),
        }


def _finite_or_none(value: float) -> float | None:
    return value if math.isfinite(value) else None


def summarize(group: str, records: Iterable[Mapping[str, Any]]) -> GroupSummary:
    """Aggregate episode records (as written to ``episodes.jsonl``) into one row."""
    n = harmful = benign = success = over = refused_harmful = fmt_ok = fmt_n = 0
    reward_a = reward_d = 0.0
    for record in records:
        n += 1
        reward_a += record["rewards"]["attacker"]
        reward_d += record["rewards"]["defender"]
        last = record["turns"][-1] if record["turns"] else {}
        refused = last.get("verdict", {}).get("refusal") is True
        if record["seed_label"] == "harmful":
            harmful += 1
            success += bool(record["attack_success"])
            refused_harmful += refused
        else:
            benign += 1
            over += bool(record["over_refusal"])
        for turn in record["turns"]:
            fmt_n += 1
            fmt_ok += bool(turn["well_formatted"])
    return GroupSummary(
        group=group,
        episodes=n,
        attack_success=Rate(success, harmful),
        over_refusal=Rate(over, benign),
        refusal_on_harmful=Rate(refused_harmful, harmful),
        format_ok=Rate(fmt_ok, fmt_n),
        mean_reward_attacker=reward_a / n if n else math.nan,
        mean_reward_defender=reward_d / n if n else math.nan,
    )
