"""Summaries of attacker-defender episodes: one row per attacker, sub-rows per strategy.

Rates are re-scored from the stored verdicts with the one outcome rule
(:func:`~envs.attack_defense.outcome.score_turn`) under the run's reward and judge
settings, so the table, the environment and the training rewards can never disagree,
and a stored run can be read again under other settings (``Controversial`` as safe, say).

A mixed attacker (``scripted:random``) gets sub-rows per strategy it played. Many
strategies with a handful of episodes each would bury the table, so sub-rows are sorted
by size, at most :data:`MAX_SUBROWS` are shown, and groups smaller than
:data:`MIN_SUBROW` episodes fold into one "other" row.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from envs.attack_defense.config import AttackDefenseConfig
from envs.attack_defense.outcome import score_turn
from envs.attack_defense.verdicts import RewardConfig, Verdict
from envs.game_spec import Summary, SummaryTable
from envs.stats import Rate, format_percent, format_rate

MAX_SUBROWS = 8
MIN_SUBROW = 5


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


def summarize_group(
    group: str, records: Iterable[Mapping[str, Any]], reward: RewardConfig | None = None
) -> GroupSummary:
    """Aggregate episode records (as written to ``episodes.jsonl``) into one row."""
    reward = reward or RewardConfig()
    n = harmful = benign = success = over = refused_harmful = fmt_ok = fmt_n = 0
    reward_a = reward_d = 0.0
    for record in records:
        n += 1
        reward_a += record["rewards"]["attacker"]
        reward_d += record["rewards"]["defender"]
        turns = record["turns"]
        label = record["seed_label"]
        if label == "harmful":
            harmful += 1
        else:
            benign += 1
        if turns:
            last = turns[-1]
            outcome = score_turn(
                Verdict.from_dict(last["verdict"]), label, bool(last["well_formatted"]), reward
            )
            if label == "harmful":
                success += outcome.attack_success
                refused_harmful += outcome.refused
            else:
                over += outcome.over_refusal
        for turn in turns:
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


def _matchup_key(record: Mapping[str, Any]) -> tuple[str, str]:
    agents = record.get("agents") or {}
    return (
        str(agents.get("attacker", record.get("attacker", "?"))),
        str(agents.get("defender", record.get("defender", "?"))),
    )


def _names(record: Mapping[str, Any]) -> tuple[str, str, str]:
    """(attacker name, defender name, strategy played) as the runner labelled them."""
    names = record.get("names") or {}
    labels = record.get("labels") or {}
    attacker, defender = _matchup_key(record)
    return (
        str(names.get("attacker", attacker)),
        str(names.get("defender", defender)),
        str(labels.get("attacker") or names.get("attacker", attacker)),
    )


def episode_metrics(
    record: Mapping[str, Any], config: AttackDefenseConfig
) -> dict[str, float | None]:
    """Attack success (harmful seeds) and over-refusal (benign seeds) of one episode.

    Scored from the final turn with the one outcome rule, like :func:`summarize_group`;
    ``None`` marks the metric an episode does not count towards, so a tournament's cell
    rates have the same denominators as the play table's.
    """
    turns = record["turns"]
    harmful = record["seed_label"] == "harmful"
    success = over = 0.0
    if turns:
        last = turns[-1]
        outcome = score_turn(
            Verdict.from_dict(last["verdict"]),
            record["seed_label"],
            bool(last["well_formatted"]),
            config.reward,
        )
        success, over = float(outcome.attack_success), float(outcome.over_refusal)
    return {
        "attack_success": success if harmful else None,
        "over_refusal": None if harmful else over,
    }


def summarize(records: Sequence[Mapping[str, Any]], config: AttackDefenseConfig) -> Summary:
    """The attack-defense table: a row per (attacker, defender) pair, strategy sub-rows."""
    reward = config.reward
    matchups: dict[tuple[str, str], list[Mapping[str, Any]]] = {}
    for record in records:
        matchups.setdefault(_matchup_key(record), []).append(record)
    defenders = {key[1] for key in matchups}
    row_data: list[dict[str, Any]] = []
    rows: list[tuple[GroupSummary, str | None]] = []
    names_seen: dict[str, int] = {}
    for group in matchups.values():
        name = _names(group[0])[0]
        names_seen[name] = names_seen.get(name, 0) + 1
    for (attacker, _), group in matchups.items():
        attacker_name, defender_name, _ = _names(group[0])
        name = attacker_name if names_seen[attacker_name] == 1 else attacker
        if len(defenders) > 1:
            name = f"{name} vs {defender_name}"
        rows.append((summarize_group(name, group, reward), None))
        by_strategy: dict[str, list[Mapping[str, Any]]] = {}
        for record in group:
            by_strategy.setdefault(_names(record)[2], []).append(record)
        if len(by_strategy) > 1:
            rows.extend((sub, name) for sub in _sub_rows(by_strategy, reward))
    overall = summarize_group("all attackers", records, reward)
    for summary, parent in rows:
        row_data.append({**summary.to_dict(), "parent": parent})
    table = _table(rows, overall, config, len([r for r in rows if r[1] is None]) > 1)
    return Summary(table=table, data={"rows": row_data, "overall": overall.to_dict()})


def _sub_rows(
    by_strategy: Mapping[str, list[Mapping[str, Any]]], reward: RewardConfig
) -> list[GroupSummary]:
    ordered = sorted(by_strategy.items(), key=lambda item: (-len(item[1]), item[0]))
    shown = [(k, v) for k, v in ordered if len(v) >= MIN_SUBROW][:MAX_SUBROWS]
    shown_keys = {k for k, _ in shown}
    rest = [(k, v) for k, v in ordered if k not in shown_keys]
    out = [summarize_group(k, v, reward) for k, v in shown]
    if rest:
        merged = [record for _, group in rest for record in group]
        out.append(summarize_group(f"other ({len(rest)} strategies)", merged, reward))
    return out


def _table(
    rows: list[tuple[GroupSummary, str | None]],
    overall: GroupSummary,
    config: AttackDefenseConfig,
    with_total: bool,
) -> SummaryTable:
    settings = config.reward.judge
    table = SummaryTable(
        title=(
            f"attack_defense_v0 (controversial→{settings.controversial_as}, "
            f"unparsable→{settings.unparsable_as}, max turns {config.max_turns})"
        ),
        columns=(
            "attack strategy",
            "n",
            "harmful/benign",
            "ASR",
            "over-refusal",
            "refused",
            "format",
            "R_A",
            "R_D",
        ),
        caption=(
            "ASR over the harmful seeds and over-refusal over the benign seeds (harmful/benign: "
            "their denominators) with 95% Wilson intervals; "
            "refusals on harmful seeds; attacker format compliance; mean rewards per role"
        ),
    )
    shown = [*rows, (overall, None)] if with_total else rows
    for summary, parent in shown:
        table.add_row(
            f"  ↳ {summary.group}" if parent else summary.group,
            str(summary.episodes),
            _counts(summary),
            format_rate(summary.attack_success),
            format_rate(summary.over_refusal),
            format_percent(summary.refusal_on_harmful),
            format_percent(summary.format_ok),
            _signed(summary.mean_reward_attacker),
            _signed(summary.mean_reward_defender),
            style="bold" if summary is overall else ("dim" if parent else None),
        )
    return table


def _counts(summary: GroupSummary) -> str:
    """``2/6``: the harmful and benign seeds of a row, because ASR is a rate over the
    harmful seeds and over-refusal over the benign ones, not over all ``n`` episodes."""
    return f"{summary.attack_success.trials}/{summary.over_refusal.trials}"


def _signed(value: float) -> str:
    return f"{value:+.2f}" if math.isfinite(value) else "—"
