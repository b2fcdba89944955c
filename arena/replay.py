"""Replaying a stored episode, and importing ``arena play`` runs into a store.

``arena replay RUN EPISODE`` rebuilds one episode from its store key alone — the
environment config, the judge, each seat's agent (whose identity must still match), the
run seed and the episode seed — plays it again and compares the transcript hash with the
stored one. Per-episode randomness makes the two equal; a mismatch means the code, a
dependency or a model changed what the same inputs produce.

:func:`import_play_run` files a finished ``arena play`` run folder into a store, so its
episodes count in tournaments over the same cells (same environment config, judge, run
seed and agents) and are never played again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from arena.executors import AgentPool, WorkItem
from arena.results import TournamentSpec
from arena.store import CellKey, Store, agent_identity, transcript_hash
from envs import load_game
from envs.errors import ArenaError

RUNNER_FIELDS = ("matchup", "episode", "episode_seed", "agents", "names", "labels", "rewards")


@dataclass(frozen=True)
class ReplayResult:
    cell_id: int
    episode: int
    episode_seed: int
    stored_sha256: str
    replayed_sha256: str
    rewards: dict[str, float]
    record: dict[str, Any]

    @property
    def identical(self) -> bool:
        return self.stored_sha256 == self.replayed_sha256


def store_path(run: Path) -> Path:
    run = Path(run)
    path = run / "store.sqlite" if run.is_dir() else run
    if not path.exists():
        raise ArenaError(
            f"{str(run)!r} has no result store (store.sqlite).",
            "pass a tournament folder written by `arena tournament`.",
        )
    return path


def parse_episode_ref(text: str) -> tuple[int, int]:
    """``"3:17"`` is cell 3, episode 17 (``arena store RUN`` lists the cells)."""
    try:
        cell, episode = (int(part) for part in text.split(":"))
    except ValueError:
        raise ArenaError(
            f"Episode {text!r} is not CELL:EPISODE.",
            "write e.g. 3:17 (cell 3, episode 17); `arena store RUN` lists the cells.",
        ) from None
    return cell, episode


def replay(run: Path, cell_id: int, episode: int) -> ReplayResult:
    """Play stored episode ``episode`` of cell ``cell_id`` again from its key."""
    with Store(store_path(run), create=False) as store:
        stored = store.episode(cell_id, episode)
        info = store.cell_info(cell_id)
    if stored.status != "ok":
        raise ArenaError(
            f"Episode {cell_id}:{episode} failed when it was played ({stored.error}); there "
            "is no transcript to reproduce.",
            "replay a finished episode.",
        )
    judge_spec = info["judge"].get("spec")
    if load_game(info["env"]).judged and not judge_spec:
        raise ArenaError(
            f"Cell {cell_id}'s judge has no spec in the store, so it cannot be rebuilt.",
            "replay episodes written by `arena tournament`.",
        )
    # The same agent-building path as the tournament that played it (AgentPool), with the
    # identities the store recorded: an agent whose weights changed is refused.
    spec = TournamentSpec(
        env=info["env"],
        seats={seat: [agent["spec"]] for seat, agent in info["seats"].items()},
        env_config=info["env_config"],
        seed=info["run_seed"],
        batch_size=1,
        judge=str(judge_spec or "rule"),
        identities={agent["spec"]: agent["agent_id"] for agent in info["seats"].values()},
    )
    pool = AgentPool(spec)
    matchup = {seat: agent["spec"] for seat, agent in info["seats"].items()}
    item = WorkItem(cell_id, episode, stored.episode_seed, matchup)
    try:
        (result,) = list(pool.play([item]))
    finally:
        pool.close()
    if result.error is not None:
        raise ArenaError(
            f"Episode {cell_id}:{episode} failed when replayed: {result.error}",
            "the agents or the environment changed since it was played.",
        )
    return ReplayResult(
        cell_id,
        episode,
        stored.episode_seed,
        stored.transcript_sha256,
        transcript_hash(result.rewards, result.record),
        result.rewards,
        result.record,
    )


def import_play_run(store: Store, run: Path) -> int:
    """File a complete ``arena play`` run's episodes into ``store``; return how many were new.

    Agent identities come from the run manifest's agent descriptions (spec + weights
    hashes), the judge's from its description and spec, so the episodes land in the
    same cells a tournament with those agents would use.
    """
    run = Path(run)
    manifest_path = run / "manifest.json"
    if not manifest_path.exists():
        raise ArenaError(
            f"{str(run)!r} is not an `arena play` run folder (no manifest.json).",
            "pass a folder under runs/ written by `arena play`.",
        )
    manifest = json.loads(manifest_path.read_text())
    if manifest.get("kind") != "play" or manifest.get("status") != "complete":
        raise ArenaError(
            f"{str(run)!r} is not a complete `arena play` run (status {manifest.get('status')!r}).",
            "finish it first with `arena play --resume RUN`.",
        )
    config = manifest["config"]
    game = load_game(manifest["env"])
    env_config = game.config(config["env_config"])
    env_id = store.put_env(game.name, config["env_config"], manifest["env_config_sha256"])
    judge = manifest.get("judge")
    judge_id = store.put_judge({"spec": config.get("judge"), **judge} if judge else None)
    identities: dict[tuple[str, str], str] = {}
    for seat in game.seats:
        for spec, description in zip(config["seats"][seat], manifest["agents"][seat], strict=True):
            identity = agent_identity(spec, description)
            identities[(seat, spec)] = store.put_agent(identity)
    metrics = game.episode_metrics
    before = store.episode_count()
    with (run / "episodes.jsonl").open(encoding="utf-8") as lines:
        for line in lines:
            record = json.loads(line)
            seats = tuple((seat, identities[(seat, record["agents"][seat])]) for seat in game.seats)
            cell_id = store.cell_id(CellKey(env_id, judge_id, int(config["seed"]), seats))
            env_record = {k: v for k, v in record.items() if k not in RUNNER_FIELDS}
            # A tournament's episode i plays seed run_seed + i: index imports the same way.
            store.add(
                cell_id,
                int(record["episode_seed"]) - int(config["seed"]),
                int(record["episode_seed"]),
                rewards=record["rewards"],
                record=env_record,
                metrics=metrics(env_record, env_config) if metrics else None,
                labels=record.get("labels"),
                source=f"play:{run.name}",
            )
    return store.episode_count() - before
