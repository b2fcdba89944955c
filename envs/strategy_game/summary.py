"""Summaries of strategy-game episodes: payoffs with intervals beside the exact values.

For each matchup and seat the table shows the mean episode payoff with its 95% Student-t
interval, and the *exact* normal-form value of the strategies the agents actually
played: the empirical action frequencies of each seat taken as mixed strategies
(the seats act independently), ``x^T P_i y`` per round, times the rounds per episode. The
two differ only by the environment's chance moves (benign users, logistic refusals) and
by sampling, so an exact value far outside the interval points at a bug.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from envs.game_spec import Summary, SummaryTable
from envs.stats import Mean, clean
from envs.strategy_game.config import StrategyGameConfig
from envs.strategy_game.model import ATTACKER, DEFENDER

SEATS = (ATTACKER, DEFENDER)
TOP_ACTIONS = 2


def _payoffs(config: StrategyGameConfig) -> tuple[np.ndarray, tuple[str, ...], tuple[str, ...]]:
    from envs.strategy_game.env import StrategyGameEnv

    environment = StrategyGameEnv(rounds=config.rounds, model=config.model)
    return (
        environment.payoffs,
        tuple(environment.attacker_labels),
        tuple(environment.defender_labels),
    )


def summarize(records: Sequence[Mapping[str, Any]], config: StrategyGameConfig) -> Summary:
    payoffs, attacker_labels, defender_labels = _payoffs(config)
    sizes = (len(attacker_labels), len(defender_labels))
    labels = (attacker_labels, defender_labels)
    groups: dict[tuple[str, str], list[Mapping[str, Any]]] = {}
    for record in records:
        agents = record.get("agents") or {}
        groups.setdefault((str(agents.get(ATTACKER)), str(agents.get(DEFENDER))), []).append(record)
    table = SummaryTable(
        title=f"strategy_game_v0 ({config.rounds} round(s) per episode)",
        columns=("matchup", "seat", "n", "mean payoff (95% CI)", "exact value", "top actions"),
        caption=(
            "mean episode payoff with its 95% t-interval; exact value: the normal-form payoff "
            "of the empirical action frequencies as mixed strategies (x^T P y × rounds)"
        ),
    )
    data_rows: list[dict[str, Any]] = []
    for (attacker, defender), group in groups.items():
        counts = [np.zeros(sizes[0]), np.zeros(sizes[1])]
        for record in group:
            for a, d in record.get("actions", []):
                counts[0][a] += 1
                counts[1][d] += 1
        total = counts[0].sum()
        mixed = [c / total if total else c for c in counts]
        scale = float(np.max(np.abs(payoffs))) if payoffs.size else 1.0
        for seat_index, seat in enumerate(SEATS):
            mean = Mean.of([float(record["rewards"][seat]) for record in group])
            exact = (
                clean(float(mixed[0] @ payoffs[seat_index] @ mixed[1]) * config.rounds, scale)
                if total
                else float("nan")
            )
            order = np.argsort(-counts[seat_index], kind="stable")[:TOP_ACTIONS]
            top = ", ".join(
                f"{labels[seat_index][i]} {mixed[seat_index][i]:.0%}"
                for i in order
                if counts[seat_index][i] > 0
            )
            table.add_row(
                f"{attacker} vs {defender}" if seat_index == 0 else "",
                seat,
                str(mean.n),
                mean.format(),
                f"{exact:+.3f}",
                top,
            )
            data_rows.append(
                {
                    "attacker": attacker,
                    "defender": defender,
                    "seat": seat,
                    "payoff": mean.to_dict(),
                    "exact_value": exact,
                    "action_frequencies": {
                        labels[seat_index][i]: float(mixed[seat_index][i])
                        for i in range(sizes[seat_index])
                        if counts[seat_index][i] > 0
                    },
                }
            )
    return Summary(table=table, data={"rows": data_rows})
