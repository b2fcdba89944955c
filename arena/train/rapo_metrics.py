"""Scoring a batch of RAPO rollouts (R, G and the rates logged with them) and ``log.csv``.

Shared by the GRPO reward functions (each step's batch) and the stage evaluations, so the
log and ``run.json`` report the same quantities computed the same way.
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from arena.train.rapo_config import RapoConfig
from arena.train.rapo_rewards import CASES, general_rewards, risk_reward
from envs.attack_defense.judges import Judge

LOG_FIELDS = (
    "step",
    "stage",
    "kind",
    "loss",
    "reward",
    "r_risk",
    "g_general",
    *(f"share_{case}" for case in CASES),
    "sentences",
    "refusal_harmful",
    "over_refusal",
    "answered",
    "seconds",
)


# ---------------------------------------------------------------------------- scoring
def score_batch(
    config: RapoConfig,
    judge: Judge,
    completions: Sequence[str],
    levels: Sequence[int],
    judge_prompts: Sequence[str],
    seed_labels: Sequence[str],
) -> tuple[list[int], list[int], dict[str, Any]]:
    """(R per rollout, G per rollout, summary row) of one batch of rollouts."""
    risks = [
        risk_reward(
            text,
            level,
            sentences_per_level=config.sentences_per_level,
            tolerance=config.length_tolerance,
            min_safety_share=config.min_safety_share,
            scheme=config.r_scheme,
        )
        for text, level in zip(completions, levels, strict=True)
    ]
    generals = general_rewards(judge, judge_prompts, completions, seed_labels)
    n = max(len(risks), 1)
    cases = Counter(r.case for r in risks)
    harmful = [g for g, label in zip(generals, seed_labels, strict=True) if label == "harmful"]
    benign = [g for g, label in zip(generals, seed_labels, strict=True) if label == "benign"]
    row: dict[str, Any] = {
        "r_risk": sum(r.reward for r in risks) / n,
        "g_general": sum(g.reward for g in generals) / n,
        "reward": sum(r.reward + g.reward for r, g in zip(risks, generals, strict=True)) / n,
        **{f"share_{case}": cases[case] / n for case in CASES},
        "sentences": sum(r.sentences for r in risks) / n,
        "refusal_harmful": (
            sum(g.outcome.refused for g in harmful) / len(harmful) if harmful else ""
        ),
        "over_refusal": sum(g.outcome.refused for g in benign) / len(benign) if benign else "",
        "answered": sum(g.answered for g in generals) / n,
        "n": len(risks),
        "n_harmful": len(harmful),
        "n_benign": len(benign),
    }
    return [r.reward for r in risks], [g.reward for g in generals], row


# ---------------------------------------------------------------------------- logging
class RapoLog:
    """``log.csv``: one row per SFT/GRPO step, flushed as written; resume keeps only the
    rows of completed stages."""

    def __init__(self, path: Path, keep_stages: int) -> None:
        rows: list[dict[str, str]] = []
        if path.exists():
            with path.open(newline="") as handle:
                rows = [r for r in csv.DictReader(handle) if int(r["stage"]) <= keep_stages]
        self._handle = path.open("w", newline="")
        self._writer = csv.DictWriter(self._handle, fieldnames=LOG_FIELDS, extrasaction="ignore")
        self._writer.writeheader()
        self._writer.writerows(rows)
        self._handle.flush()

    def write(self, row: dict[str, Any]) -> None:
        self._writer.writerow(
            {k: f"{v:.4f}" if isinstance(v, float) else v for k, v in row.items()}
        )
        self._handle.flush()

    def close(self) -> None:
        self._handle.close()
