"""The summary of ``kg_traversal_v0`` runs: accuracy, hops and return per matchup."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from envs.game_spec import Summary, SummaryTable
from envs.kg.answerer import ANSWERER, NAVIGATOR
from envs.stats import Mean, Rate, format_rate


def episode_metrics(record: Mapping[str, Any], config: Any) -> dict[str, float | None]:
    return {"correct": float(bool(record.get("correct"))), "hops": float(record.get("hops", 0))}


def summarize(records: Sequence[Mapping[str, Any]], config: Any) -> Summary:
    """Accuracy (Wilson interval), mean hops and return (t-intervals) per navigator, or
    per (navigator, answerer) pair with the navigator's own commit accuracy beside."""
    two_seats = getattr(config, "answerer_mode", "none") != "none"
    groups: dict[tuple[str, str], list[Mapping[str, Any]]] = {}
    for record in records:
        agents = record.get("agents") or {}
        key = (str(agents.get(NAVIGATOR)), str(agents.get(ANSWERER)) if two_seats else "")
        groups.setdefault(key, []).append(record)
    seat_columns: tuple[str, ...] = ("navigator", "answerer") if two_seats else ("navigator",)
    middle = ("navigator commits correct",) if two_seats else ("answered",)
    mode = f", answerer {config.answerer_mode}" if two_seats else ""
    table = SummaryTable(
        title=f"{_env_name(config)}: {config.kg} KG, {config.split} split{mode}",
        columns=(*seat_columns, "n", "accuracy (95% CI)", *middle, "mean hops", "mean return"),
        caption="accuracy with Wilson interval; hops and return: mean with 95% t-interval"
        + (
            "; rewards are shared by both seats"
            if two_seats
            else "; answered = episodes where the navigator committed an answer before the "
            "hop limit (each record's `answered` is the committed entity, null if truncated)"
        ),
    )
    rows = []
    for (name, answerer), group in groups.items():
        accuracy = Rate(sum(bool(r.get("correct")) for r in group), len(group))
        answered = Rate(sum(r.get("answered") is not None for r in group), len(group))
        navigator = Rate(sum(bool(r.get("navigator_correct")) for r in group), len(group))
        hops = Mean.of([float(r.get("hops", 0)) for r in group], bounds=(0.0, config.max_hops))
        returns = Mean.of([float((r.get("rewards") or {}).get(NAVIGATOR, 0.0)) for r in group])
        seats = (name, answerer) if two_seats else (name,)
        table.add_row(
            *seats,
            str(len(group)),
            format_rate(accuracy),
            format_rate(navigator if two_seats else answered),
            hops.format(2),
            returns.format(3),
        )
        row: dict[str, Any] = {
            "navigator": name,
            "n": len(group),
            "accuracy": accuracy.to_dict(),
            "answered": answered.to_dict(),
            "mean_hops": {**hops.to_dict(), "clipped": hops.clipped},
            "mean_return": returns.to_dict(),
        }
        if two_seats:
            row["answerer"] = answerer
            row["navigator_accuracy"] = navigator.to_dict()
        rows.append(row)
    if any(row["mean_hops"].get("clipped") for row in rows):
        table.caption += f"; hop intervals clipped to the possible range [0, {config.max_hops}]"
    data = {"kg": config.kg, "split": config.split, "navigators": rows}
    if two_seats:
        data["answerer_mode"] = config.answerer_mode
    return Summary(table=table, data=data)


def _env_name(config: Any) -> str:
    """The game a config belongs to: the two-seat game has a name of its own."""
    return "kg_answer_v0" if type(config).__name__ == "KGAnswerConfig" else "kg_traversal_v0"
