"""Summaries of matrix-game episodes: one row per matchup.

Each row shows, per seat, the mean episode payoff (the sum over the episode's rounds)
with its 95% Student-t interval and how often each action was played. The data adds the
*exact value* of the strategies played: each seat's empirical action frequencies taken
as mixed strategies, ``x^T A y`` (and ``x^T B y``) per round times the rounds per episode.
For agents whose play does not depend on the history (e.g. ``tabular:``), the mean
payoff should lie near it; far outside the interval points at a bug.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from envs.game_spec import Summary, SummaryTable
from envs.matrix_game.config import MatrixGameConfig
from envs.matrix_game.games import SEATS, load_stage_game
from envs.stats import Mean, clean

#: A seat's action column lists every action up to this many, else the most played ones.
LISTED_ACTIONS = 4


def _frequencies(labels: Sequence[str], counts: np.ndarray) -> tuple[str, dict[str, float]]:
    total = float(counts.sum())
    if not total:
        return "—", {}
    share = counts / total
    order = np.argsort(-counts, kind="stable")
    shown = order if len(labels) <= LISTED_ACTIONS else order[: LISTED_ACTIONS - 1]
    text = ", ".join(f"{labels[i]} {share[i]:.0%}" for i in shown if counts[i] > 0)
    if len(shown) < int(np.count_nonzero(counts)):
        text += ", …"
    return text, {labels[i]: float(share[i]) for i in range(len(labels)) if counts[i] > 0}


def summarize(records: Sequence[Mapping[str, Any]], config: MatrixGameConfig) -> Summary:
    stage = load_stage_game(config.game)
    labels = stage.strategies
    payoffs = stage.payoffs
    groups: dict[tuple[str, str], list[Mapping[str, Any]]] = {}
    for record in records:
        agents = record.get("agents") or {}
        key = (str(agents.get(SEATS[0])), str(agents.get(SEATS[1])))
        groups.setdefault(key, []).append(record)
    kind = "zero-sum" if stage.is_zero_sum() else "general-sum"
    symmetry = "symmetric" if stage.is_symmetric() else "asymmetric"
    table = SummaryTable(
        title=f"matrix_game_v0: {stage.title} ({config.rounds} round(s) per episode)",
        columns=(
            "matchup",
            "n",
            f"{SEATS[0]} payoff (95% CI)",
            f"{SEATS[1]} payoff (95% CI)",
            f"{SEATS[0]} actions",
            f"{SEATS[1]} actions",
        ),
        caption=(
            f"{'x'.join(map(str, stage.num_strategies))} {kind}, {symmetry} stage game; "
            "mean episode payoff (summed over rounds) with its 95% t-interval; "
            "action frequencies over all rounds"
        ),
    )
    scale = float(np.max(np.abs(payoffs))) if payoffs.size else 1.0
    matchups: list[dict[str, Any]] = []
    for (first, second), group in groups.items():
        counts = [np.zeros(n) for n in stage.num_strategies]
        for record in group:
            for entry in record.get("rounds") or []:
                i, j = entry["actions"]
                counts[0][i] += 1
                counts[1][j] += 1
        means = [Mean.of([float(r["rewards"][seat]) for r in group]) for seat in SEATS]
        texts, shares = zip(*(_frequencies(labels[k], counts[k]) for k in range(2)), strict=True)
        exact: dict[str, float | None] = {seat: None for seat in SEATS}
        if counts[0].sum():
            x, y = counts[0] / counts[0].sum(), counts[1] / counts[1].sum()
            for k, seat in enumerate(SEATS):
                exact[seat] = clean(float(x @ payoffs[k] @ y) * config.rounds, scale)
        table.add_row(
            f"{first} vs {second}",
            str(len(group)),
            means[0].format(),
            means[1].format(),
            texts[0],
            texts[1],
        )
        matchups.append(
            {
                "agents": {SEATS[0]: first, SEATS[1]: second},
                "n": len(group),
                "payoff": {seat: means[k].to_dict() for k, seat in enumerate(SEATS)},
                "exact_value": exact,
                "action_frequencies": {seat: shares[k] for k, seat in enumerate(SEATS)},
            }
        )
    data = {
        "game": stage.title,
        "rounds": config.rounds,
        "actions": {seat: list(labels[k]) for k, seat in enumerate(SEATS)},
        "matchups": matchups,
    }
    return Summary(table=table, data=data)
