"""``arena play attack_defense``: attackers against one defender, episodes to a run folder.

Two phases so that a bad command leaves nothing behind: :func:`prepare` checks every
input (settings first, then data, judge and agents — cheapest first) and builds
everything, and :func:`run` plays and writes. Each attacker plays the same
``episodes`` seeds (episode ``i`` uses seed ``base_seed + i``), so rows are paired.

Summary rows are per attacker; an attacker that mixes strategies (``scripted:random``)
also gets one sub-row per strategy it actually played (``Agent.label_action``).
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import re
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from agents.base import Agent
from agents.registry import make_agent
from arena.judging import make_judge
from arena.match import play_episodes
from arena.metrics import GroupSummary, summarize
from arena.runs import RunWriter
from envs import attack_defense_v0, load_environment
from envs.attack_defense.data import SeedPool, load_pool
from envs.attack_defense.judges import Judge
from envs.attack_defense.verdicts import RewardConfig
from envs.errors import ArenaError

_RUN_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


@dataclass
class PlayConfig:
    """Settings of one ``play`` run; all recorded in the manifest."""

    attackers: list[str]
    defender: str
    episodes: int = 200
    seed: int = 0
    max_turns: int = 1
    batch_size: int = 64
    judge: str = "rule"
    seeds: str = "builtin"
    harmful_fraction: float = 0.5
    reward_mode: Literal["final", "per_turn"] = "final"
    reward: RewardConfig = field(default_factory=RewardConfig)
    env: str = "attack_defense_v0"


@dataclass
class SummaryRow:
    """One table row; ``parent`` names the attacker row a strategy sub-row belongs to."""

    summary: GroupSummary
    parent: str | None = None


@dataclass
class PlayResult:
    run_dir: Path | None
    rows: list[SummaryRow]
    overall: GroupSummary


@dataclass
class PreparedPlay:
    """Everything built and checked; :func:`run` only plays and writes."""

    config: PlayConfig
    pool: SeedPool
    judge: Judge
    attackers: list[Agent]
    defender: Agent

    def make_env(self) -> Any:
        return attack_defense_v0.env(
            seeds=self.pool,
            judge=self.judge,
            reward=self.config.reward,
            max_turns=self.config.max_turns,
            harmful_fraction=self.config.harmful_fraction,
            reward_mode=self.config.reward_mode,
        )

    def close(self) -> None:
        for agent in [*self.attackers, self.defender]:
            agent.close()


def role_seed(seed: int, role: str) -> int:
    """A per-role seed, so sampling attackers and defenders never share a random stream."""
    return zlib.crc32(f"{role}:{seed}".encode())


def strategy_label(agent: Agent) -> str:
    """How the summary names an attacker: its strategy label if scripted, else its spec."""
    label = getattr(agent, "strategy_label", None)
    return str(label) if label else agent.spec


def _check_settings(config: PlayConfig) -> None:
    module = load_environment(config.env)
    if module is not attack_defense_v0:
        raise ArenaError(
            f"`arena play` runs attack_defense_v0; {config.env!r} has no text agents yet.",
            "use `arena play attack_defense`; the strategy game is solved with `arena theory`.",
        )
    for name, value, example in (
        ("--episodes", config.episodes, "200"),
        ("--batch-size", config.batch_size, "64"),
    ):
        if value < 1:
            raise ArenaError(f"{name} must be at least 1, got {value}.", f"pass {name} {example}.")
    if config.seed < 0:
        raise ArenaError(f"--seed must be >= 0, got {config.seed}.", "pass --seed 0.")
    if not config.attackers:
        raise ArenaError(
            "No attacker given.", "pass --attacker SPEC (repeat it to compare several)."
        )


def prepare(config: PlayConfig) -> PreparedPlay:
    """Check every input and build data, judge and agents; raise one clear error if not."""
    _check_settings(config)
    pool = load_pool(config.seeds)
    # The environment owns its settings' checks; running them on a rule-judged instance
    # now, before the (possibly slow) judge and agents load, keeps bad input cheap.
    attack_defense_v0.raw_env(
        seeds=pool,
        max_turns=config.max_turns,
        harmful_fraction=config.harmful_fraction,
        reward_mode=config.reward_mode,
    )
    judge = make_judge(config.judge)
    agents: list[Agent] = []
    try:
        for spec in config.attackers:
            agents.append(
                make_agent(spec, role="attacker", seed=role_seed(config.seed, "attacker"))
            )
        defender = make_agent(
            config.defender, role="defender", seed=role_seed(config.seed, "defender")
        )
    except BaseException:
        for agent in agents:
            agent.close()
        raise
    return PreparedPlay(config, pool, judge, agents, defender)


def run(
    prepared: PreparedPlay,
    *,
    runs_dir: Path | None = Path("runs"),
    run_name: str | None = None,
    overwrite: bool = False,
    progress: Callable[[int], None] | None = None,
) -> PlayResult:
    """Play the prepared match; write ``runs_dir/run_name`` unless ``runs_dir`` is None."""
    writer = None
    if runs_dir is not None:
        name = run_name or "play-" + _dt.datetime.now().strftime("%Y%m%d-%H%M%S-%f")
        if not _RUN_NAME.match(name):
            raise ArenaError(
                f"Run name {name!r} is not a plain folder name.",
                "use letters, digits, '.', '_' and '-' (no '/' or '..').",
            )
        writer = RunWriter(runs_dir / name, _manifest(prepared), overwrite=overwrite)
    records: list[dict[str, Any]] = []
    try:
        for attacker in prepared.attackers:
            records.extend(_play_one(prepared, attacker, writer, progress))
    except BaseException as exc:
        if writer is not None:
            writer.abort(f"{type(exc).__name__}: {exc}")
        raise
    finally:
        prepared.close()
    rows = _summary_rows(prepared.attackers, records)
    overall = summarize("all attackers", records)
    run_dir = None
    if writer is not None:
        summary = {
            "rows": [{**row.summary.to_dict(), "parent": row.parent} for row in rows],
            "overall": overall.to_dict(),
        }
        writer.write_json("summary.json", summary)
        run_dir = writer.finish(summary)
    return PlayResult(run_dir=run_dir, rows=rows, overall=overall)


def play(config: PlayConfig, **kwargs: Any) -> PlayResult:
    """:func:`prepare` then :func:`run` (library convenience)."""
    return run(prepare(config), **kwargs)


def _manifest(prepared: PreparedPlay) -> dict[str, Any]:
    return {
        "kind": "play",
        "env": "attack_defense_v0",
        "config": dataclasses.asdict(prepared.config),
        "agents": {
            "attackers": [agent.describe() for agent in prepared.attackers],
            "defender": prepared.defender.describe(),
        },
        "judge": prepared.judge.describe(),
        "judge_settings": dataclasses.asdict(prepared.config.reward.judge),
        "seed_pool": prepared.pool.describe(),
    }


def _play_one(
    prepared: PreparedPlay,
    attacker: Agent,
    writer: RunWriter | None,
    progress: Callable[[int], None] | None,
) -> list[dict[str, Any]]:
    config, defender = prepared.config, prepared.defender
    attacker.reset(role_seed(config.seed, "attacker"))
    defender.reset(role_seed(config.seed, "defender"))
    records: list[dict[str, Any]] = []
    for result in play_episodes(
        prepared.make_env,
        {"attacker": attacker, "defender": defender},
        episodes=config.episodes,
        base_seed=config.seed,
        batch_size=config.batch_size,
    ):
        turns = result.record.get("turns") or []
        played = attacker.label_action(turns[0]["attacker_output"]) if turns else None
        record = {
            "episode": result.index,
            "env_seed": result.seed,
            "attacker": attacker.spec,
            "strategy": played or strategy_label(attacker),
            "defender": defender.spec,
            "rewards": result.rewards,
            **result.record,
        }
        records.append(record)
        if writer is not None:
            writer.write_episode(record)
        if progress is not None:
            progress(1)
    return records


def _summary_rows(attackers: list[Agent], records: list[dict[str, Any]]) -> list[SummaryRow]:
    """One row per attacker (named by its label, or its spec where labels clash), plus
    one sub-row per strategy for attackers whose episodes used several."""
    labels = [strategy_label(agent) for agent in attackers]
    rows: list[SummaryRow] = []
    for agent, label in zip(attackers, labels, strict=True):
        name = label if labels.count(label) == 1 else agent.spec
        mine = [record for record in records if record["attacker"] == agent.spec]
        rows.append(SummaryRow(summarize(name, mine)))
        by_strategy: dict[str, list[dict[str, Any]]] = {}
        for record in mine:
            by_strategy.setdefault(record["strategy"], []).append(record)
        if len(by_strategy) > 1:
            for strategy, group in sorted(by_strategy.items()):
                rows.append(SummaryRow(summarize(strategy, group), parent=name))
    return rows


def unique(specs: list[str]) -> list[str]:
    return list(dict.fromkeys(specs))
