"""Plain-data summaries of a DS experiment: per-method deltas, swaps, sweeps.

Why separate from the training code: the LLM and the tabular experiments produce the
same per-run entries (``method``, ``seed``, ``before``/``after`` per split with ``p1``,
``a``, ``one_minus_b``, ``accuracy``), and the report reads only these summaries, so
both policies get one table and one set of figures.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from envs.stats import Mean

RATES = ("accuracy", "p1", "a", "one_minus_b")


def _mean(values: Iterable[float]) -> dict[str, Any]:
    vals = [float(v) for v in values if v is not None and not math.isnan(float(v))]
    if not vals:
        return {"mean": None, "low": None, "high": None, "n": 0}
    m = Mean.of(vals)
    finite = math.isfinite(m.low)
    return {
        "mean": m.value,
        "low": m.low if finite else None,
        "high": m.high if finite else None,
        "n": m.n,
    }


def method_summary(entries: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Per method: mean (95% t interval over seeds) of before, after and delta per rate."""
    out = []
    for method in dict.fromkeys(e["method"] for e in entries):
        group = [e for e in entries if e["method"] == method]
        row: dict[str, Any] = {"method": method, "runs": len(group)}
        for split in ("id", "ood"):
            for rate in RATES:
                before = [e["before"][split][rate] for e in group]
                after = [e["after"][split][rate] for e in group]
                row[f"{split}_{rate}_before"] = _mean(before)
                row[f"{split}_{rate}_after"] = _mean(after)
                row[f"{split}_{rate}_delta"] = _mean(
                    a - b for a, b in zip(after, before, strict=True)
                )
        shares = [e["attribution"]["share_decision"] for e in group if "attribution" in e]
        row["share_decision"] = _mean(shares)
        out.append(row)
    return out


def swap_summary(swaps: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Mean measured accuracy per (sampler, decider) pair, over seeds."""
    keys = list(dict.fromkeys((s["sampler"], s["decider"]) for s in swaps))
    rows = []
    for sampler, decider in keys:
        group = [s for s in swaps if (s["sampler"], s["decider"]) == (sampler, decider)]
        rows.append(
            {
                "sampler": sampler,
                "decider": decider,
                "id_accuracy": _mean(s["id"]["accuracy"] for s in group),
                "ood_accuracy": _mean(s["ood"]["accuracy"] for s in group),
            }
        )
    return rows


def sweep_summary(entries: Sequence[Mapping[str, Any]], key: str) -> list[dict[str, Any]]:
    """Per swept value and method: accuracy gain (ID) and decision share of the gain."""
    rows = []
    values = sorted({float(e[key]) for e in entries})
    for value in values:
        for method in dict.fromkeys(e["method"] for e in entries):
            group = [e for e in entries if float(e[key]) == value and e["method"] == method]
            if not group:
                continue
            rows.append(
                {
                    key: value,
                    "method": method,
                    "runs": len(group),
                    "id_accuracy_after": _mean(e["after"]["id"]["accuracy"] for e in group),
                    "id_accuracy_gain": _mean(
                        e["after"]["id"]["accuracy"] - e["before"]["id"]["accuracy"] for e in group
                    ),
                    "ood_accuracy_after": _mean(e["after"]["ood"]["accuracy"] for e in group),
                    "share_decision": _mean(e["attribution"]["share_decision"] for e in group),
                }
            )
    return rows
