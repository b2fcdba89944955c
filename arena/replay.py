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
from arena.results import TournamentSpec, load_spec
from arena.store import (
    CellKey,
    Store,
    agent_identity,
    data_changes,
    env_id_of,
    transcript_hash,
)
from envs import load_game
from envs.errors import ArenaError
from envs.game_spec import config_hash, config_to_dict

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
        recorded_data = store.env_data(info["env_id"])
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
    pool = AgentPool(spec, str(run))
    try:
        _check_data(pool, recorded_data, cell_id, episode)
    except BaseException:
        pool.close()
        raise
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


def _check_data(
    pool: AgentPool, recorded: dict[str, Any] | None, cell_id: int, episode: int
) -> None:
    """An episode played on other data cannot reproduce: say that, not "the code changed".

    Compares the data description the tournament recorded (see ``Store.env_data``) with
    what the environment's files give now; a store without one is not checked.
    """
    if recorded is None:
        return
    now = pool.data_description()
    changes = data_changes(recorded, now or {})
    if changes:
        raise ArenaError(
            f"Episode {cell_id}:{episode} cannot reproduce: the data behind its environment "
            f"changed since it was played: {'; '.join(changes)}.",
            "restore the data file(s) as they were (e.g. an edited seed file), then replay again.",
        )


@dataclass(frozen=True)
class ImportResult:
    """What :func:`import_run` filed: how many new episodes, into which cells and keys."""

    run: Path
    episodes: int
    cells: tuple[int, ...]
    env: str
    env_id: str
    env_config: dict[str, Any]
    judge_id: str
    run_seed: int
    agents: dict[str, tuple[str, ...]]  # seat -> agent ids of the run


def import_play_run(store: Store, run: Path) -> int:
    """File a complete ``arena play`` run's episodes into ``store``; return how many were new."""
    return import_run(store, run).episodes


def import_run(store: Store, run: Path) -> ImportResult:
    """File a complete ``arena play`` run's episodes into ``store``; say what was filed.

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
    cells: set[int] = set()
    with (run / "episodes.jsonl").open(encoding="utf-8") as lines:
        for line in lines:
            record = json.loads(line)
            seats = tuple((seat, identities[(seat, record["agents"][seat])]) for seat in game.seats)
            cell_id = store.cell_id(CellKey(env_id, judge_id, int(config["seed"]), seats))
            cells.add(cell_id)
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
    agents: dict[str, tuple[str, ...]] = {}
    for (seat, _), agent_id in identities.items():
        agents[seat] = (*agents.get(seat, ()), agent_id)
    return ImportResult(
        run,
        store.episode_count() - before,
        tuple(sorted(cells)),
        game.name,
        env_id,
        config_to_dict(env_config),
        judge_id,
        int(config["seed"]),
        agents,
    )


def outside_reasons(result: ImportResult, folder: Path) -> list[str]:
    """Why imported cells are not the tournament's in ``folder`` (empty: they count).

    A tournament's report reads only its own cells (its environment config, judge, run
    seed and roster); an imported run that differs in any of these stays in the store
    but out of the report, which is easy to miss, so each difference is named.
    """
    spec = load_spec(folder)
    game = load_game(spec.env)
    if game.name != result.env:
        return [f"it is a {result.env} run; the tournament plays {game.name}"]
    config = game.config(spec.env_config)
    reasons: list[str] = []
    if env_id_of(game.name, config_hash(config)) != result.env_id:
        differing = _differences(config_to_dict(config), result.env_config)
        reasons.append(
            "another environment config (a different seed pool or settings: "
            + ", ".join(differing)
            + ")"
        )
    if spec.judge_id is not None and spec.judge_id != result.judge_id:
        reasons.append("another judge")
    if spec.seed != result.run_seed:
        reasons.append(f"run seed {result.run_seed}, the tournament's is {spec.seed}")
    for seat in game.seats:
        pinned = {spec.identities.get(s) for s in spec.roster(seat)}
        others = [a for a in result.agents.get(seat, ()) if a not in pinned]
        if others:
            reasons.append(f"{len(others)} {seat} agent(s) not in the tournament's roster")
    return reasons


def _differences(ours: dict[str, Any], theirs: dict[str, Any], prefix: str = "") -> list[str]:
    """``key: tournament value vs imported value`` for each differing leaf of two configs."""
    out: list[str] = []
    for key in sorted(set(ours) | set(theirs)):
        a, b = ours.get(key), theirs.get(key)
        if isinstance(a, dict) and isinstance(b, dict):
            out.extend(_differences(a, b, f"{prefix}{key}."))
        elif a != b:
            out.append(f"{prefix}{key} {json.dumps(b)} vs the tournament's {json.dumps(a)}")
    return out or ["hash differs"]
