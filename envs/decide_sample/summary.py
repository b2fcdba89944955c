"""Summaries of ``decide_sample_v0`` episodes: one row per matchup and split.

The columns separate the two DS components (``kale_ds.md`` B.4, reconstructed): the
sampling part by first-attempt accuracy ``p1``, the decision part by
``a = P(STOP | attempt correct)`` and ``1 - b = P(REVISE | attempt wrong)``, both over
the decisions the agent actually made (forced stops after ``k_max`` are not choices and
are left out). Rates carry Wilson 95% intervals (:mod:`envs.stats`), since runs are
often small and rates near 0 or 1.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from envs.decide_sample.config import DecideSampleConfig
from envs.game_spec import Summary, SummaryTable
from envs.stats import Mean, Rate, format_rate


def component_rates(records: Sequence[Mapping[str, Any]]) -> dict[str, Rate]:
    """Accuracy, ``p1``, ``a``, ``1-b`` and flip rates over ``records`` as :class:`Rate`."""
    acc = first = stop_ok = n_ok = rev_bad = n_bad = w2r = r2w = transitions = 0
    for record in records:
        attempts = record.get("attempts") or []
        if not attempts:
            continue
        acc += bool(record.get("final_correct"))
        first += bool(attempts[0]["correct"])
        for attempt in attempts:
            if attempt.get("forced") or attempt.get("decision") is None:
                continue
            if attempt["correct"]:
                n_ok += 1
                stop_ok += attempt["decision"] == "STOP"
            else:
                n_bad += 1
                rev_bad += attempt["decision"] == "REVISE"
        flips = record.get("flips") or {}
        w2r += int(flips.get("wrong_to_right", 0))
        r2w += int(flips.get("right_to_wrong", 0))
        transitions += len(attempts) - 1
    n = sum(1 for r in records if r.get("attempts"))
    return {
        "accuracy": Rate(acc, n),
        "p1": Rate(first, n),
        "a": Rate(stop_ok, n_ok),
        "one_minus_b": Rate(rev_bad, n_bad),
        "wrong_to_right": Rate(w2r, transitions),
        "right_to_wrong": Rate(r2w, transitions),
    }


def episode_metrics(
    record: Mapping[str, Any], config: DecideSampleConfig
) -> dict[str, float | None]:
    """Per-episode numbers a tournament stores beside the rewards."""
    del config
    attempts = record.get("attempts") or []
    if not attempts:
        return {"accuracy": None, "first_attempt": None, "attempts": None}
    return {
        "accuracy": float(bool(record.get("final_correct"))),
        "first_attempt": float(bool(attempts[0]["correct"])),
        "attempts": float(len(attempts)),
    }


def _matchup(record: Mapping[str, Any]) -> str:
    agents = record.get("agents") or {}
    names = [str(agents[seat]) for seat in sorted(agents)]
    return " + ".join(names) if names else "?"


def summarize(records: Sequence[Mapping[str, Any]], config: DecideSampleConfig) -> Summary:
    groups: dict[tuple[str, str], list[Mapping[str, Any]]] = {}
    for record in records:
        key = (_matchup(record), str(record.get("split", "id")))
        groups.setdefault(key, []).append(record)
    table = SummaryTable(
        title=(
            f"decide_sample_v0: K_max={config.k_max}, rho={config.rho:g}, "
            f"{config.n_candidates} candidates"
        ),
        columns=(
            "matchup",
            "split",
            "n",
            "accuracy",
            "p1 (first attempt)",
            "a = P(stop|correct)",
            "1-b = P(revise|wrong)",
            "mean reward (95% CI)",
        ),
        caption=(
            "rates with Wilson 95% intervals; a and 1-b count the agent's own decisions "
            "(forced stops at K_max excluded). DS components are a reconstruction "
            "(kale_ds.md B.2), not the paper's definitions."
        ),
    )
    rows: list[dict[str, Any]] = []
    for (matchup, split), group in sorted(groups.items()):
        rates = component_rates(group)
        reward = Mean.of([float(r.get("total_reward", 0.0)) for r in group])
        table.add_row(
            matchup,
            split,
            str(len(group)),
            format_rate(rates["accuracy"]),
            format_rate(rates["p1"]),
            format_rate(rates["a"]),
            format_rate(rates["one_minus_b"]),
            reward.format(),
        )
        rows.append(
            {
                "matchup": matchup,
                "split": split,
                "n": len(group),
                **{name: rate.to_dict() for name, rate in rates.items()},
                "mean_reward": reward.to_dict(),
            }
        )
    return Summary(table=table, data={"k_max": config.k_max, "rho": config.rho, "rows": rows})
