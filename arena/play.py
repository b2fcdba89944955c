"""``arena play attack_defense``: attackers against one defender, episodes to a run folder.

Everything that can be wrong with the inputs (agent specs, environment name, seed
data, judge, model paths) is checked *before* the run folder is created, so a bad
command leaves nothing behind. Each attacker plays the same ``episodes`` seeds
(episode ``i`` uses seed ``base_seed + i``), so rows of the summary are paired.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from agents.base import Agent
from agents.registry import make_agent
from arena.judging import make_judge
from arena.match import EpisodeResult, play_episodes
from arena.metrics import GroupSummary, summarize
from arena.runs import RunWriter
from envs import attack_defense_v0, load_environment
from envs.attack_defense.data import load_pool
from envs.attack_defense.verdicts import JudgeSettings, RewardConfig
from envs.errors import ArenaError


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
class PlayResult:
    run_dir: Path | None
    rows: list[GroupSummary]
    overall: GroupSummary


def strategy_label(agent: Agent) -> str:
    """How the summary names an attacker: its strategy label if scripted, else its spec."""
    label = getattr(agent, "strategy_label", None)
    return str(label) if label else agent.spec


def episode_strategy(agent: Agent, record: dict[str, Any]) -> str:
    """The summary group of one episode: the agent's label, refined by what it played."""
    base = strategy_label(agent)
    turns = record.get("turns") or []
    played = agent.label_action(turns[0]["attacker_output"]) if turns else None
    return f"{base}: {played}" if played and played != base else base


def play(
    config: PlayConfig,
    *,
    runs_dir: Path | None = Path("runs"),
    run_name: str | None = None,
    overwrite: bool = False,
    progress: Callable[[int], None] | None = None,
) -> PlayResult:
    """Play the configured match; write ``runs_dir/run_name`` unless ``runs_dir`` is None."""
    module = load_environment(config.env)
    if module is not attack_defense_v0:
        raise ArenaError(
            f"`arena play` runs attack_defense_v0; {config.env!r} has no text agents yet.",
            "use `arena play attack_defense`; the strategy game is solved with `arena theory`.",
        )
    if config.episodes < 1:
        raise ArenaError(
            f"--episodes must be at least 1, got {config.episodes}.", "pass --episodes 200."
        )
    if not config.attackers:
        raise ArenaError(
            "No attacker given.", "pass --attacker SPEC (repeat it to compare several)."
        )
    pool = load_pool(config.seeds)
    judge = make_judge(config.judge)
    attackers = [make_agent(spec, role="attacker", seed=config.seed) for spec in config.attackers]
    defender = make_agent(config.defender, role="defender", seed=config.seed)

    def make_env() -> Any:
        return attack_defense_v0.env(
            seeds=pool,
            judge=judge,
            reward=config.reward,
            max_turns=config.max_turns,
            harmful_fraction=config.harmful_fraction,
            reward_mode=config.reward_mode,
        )

    make_env()  # surfaces configuration errors before anything is written
    manifest = {
        "kind": "play",
        "env": "attack_defense_v0",
        "config": _config_dict(config),
        "agents": {
            "attackers": [a.describe() for a in attackers],
            "defender": defender.describe(),
        },
        "judge": judge.describe(),
        "judge_settings": dataclasses.asdict(config.reward.judge),
        "seed_pool": pool.describe(),
    }
    writer = (
        RunWriter(runs_dir / (run_name or _default_run_name()), manifest, overwrite=overwrite)
        if runs_dir is not None
        else None
    )
    all_records: list[dict[str, Any]] = []
    try:
        for attacker in attackers:
            records = _play_one(config, make_env, attacker, defender, writer, progress)
            all_records.extend(records)
    except BaseException as exc:
        if writer is not None:
            writer.abort(f"{type(exc).__name__}: {exc}")
        raise
    finally:
        for agent in [*attackers, defender]:
            agent.close()
    groups: dict[str, list[dict[str, Any]]] = {}
    for record in all_records:
        groups.setdefault(record["strategy"], []).append(record)
    rows = [summarize(name, records) for name, records in groups.items()]
    overall = summarize("all attackers", all_records)
    run_dir = None
    if writer is not None:
        summary = {"rows": [row.to_dict() for row in rows], "overall": overall.to_dict()}
        writer.write_json("summary.json", summary)
        run_dir = writer.finish(summary)
    return PlayResult(run_dir=run_dir, rows=rows, overall=overall)


def _play_one(
    config: PlayConfig,
    make_env: Callable[[], Any],
    attacker: Agent,
    defender: Agent,
    writer: RunWriter | None,
    progress: Callable[[int], None] | None,
) -> list[dict[str, Any]]:
    attacker.reset(config.seed)
    defender.reset(config.seed)
    records: list[dict[str, Any]] = []

    def on_episode(result: EpisodeResult) -> None:
        record = {
            "episode": result.index,
            "env_seed": result.seed,
            "attacker": attacker.spec,
            "defender": defender.spec,
            "rewards": result.rewards,
            **result.record,
        }
        record["strategy"] = episode_strategy(attacker, record)
        records.append(record)
        if writer is not None:
            writer.write_episode(record)
        if progress is not None:
            progress(1)

    for _ in play_episodes(
        make_env,
        {"attacker": attacker, "defender": defender},
        episodes=config.episodes,
        base_seed=config.seed,
        batch_size=config.batch_size,
        on_episode=on_episode,
    ):
        pass
    return records


def _config_dict(config: PlayConfig) -> dict[str, Any]:
    data = dataclasses.asdict(config)
    return data


def _default_run_name() -> str:
    import datetime as _dt

    return "play-" + _dt.datetime.now().strftime("%Y%m%d-%H%M%S")


def parse_judge_settings(controversial_as: str, unparsable_as: str) -> JudgeSettings:
    for name, value in (
        ("--controversial-as", controversial_as),
        ("--unparsable-as", unparsable_as),
    ):
        if value not in ("unsafe", "safe"):
            raise ArenaError(
                f"{name} must be 'unsafe' or 'safe', got {value!r}.", f"pass {name} unsafe."
            )
    return JudgeSettings(controversial_as=controversial_as, unparsable_as=unparsable_as)  # type: ignore[arg-type]


def unique(specs: Sequence[str]) -> list[str]:
    seen: dict[str, None] = {}
    for spec in specs:
        seen.setdefault(spec, None)
    return list(seen)
