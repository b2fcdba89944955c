"""Tournaments: many agents and checkpoints in one game, results in a resumable store.

A tournament folder holds ``tournament.json`` (the spec: game, settings, rosters, episodes
per cell, seed) and ``store.sqlite`` (:mod:`arena.store`, one row per finished episode).

**Cells.** Cross-play (``mode="cross"``) pairs every agent of one seat with every agent of
the others (MAGIC's attacker × defender cross-play); round robin (``mode="round-robin"``,
symmetric games) plays every ordered pair of one roster. Every cell plays the same
episode seeds ``seed + i`` with run seed ``seed``, so cells are paired comparisons and
any episode can be replayed from its key.

**Incremental.** Adding an agent (:func:`add_agents`, ``arena tournament DIR
--add-defender SPEC``) creates only the cells it is in; a cell's episodes already in the
store are never played again. That is also how a killed tournament resumes: run it
again. Only the agents of missing cells are loaded.

**Identities are pinned.** When an agent joins, its identity (spec + weights hash,
:func:`arena.store.agent_identity`) is written into the spec. An agent loaded later must
still have that identity, so a checkpoint overwritten between rounds cannot mix its
results with the old weights' (one clear error says so).

**Scheduling.** Missing episodes stream cell by cell into :func:`arena.match.play_jobs`:
games of different cells share the lock-step batch, each agent is called once a round
with all its games, and a finished game's slot is refilled at once. Failures (an agent
that raises or times out, an illegal move, a judge's garbage) are stored as failed
episodes with their reason, and the tournament goes on.
"""

from __future__ import annotations

import fcntl
import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from agents.base import Agent
from arena.executors import AgentPool, Executor, Finished, WorkItem, make_executor
from arena.results import (
    SPEC_FILE,
    STORE_FILE,
    CellSamples,
    Mode,
    TournamentSpec,
    cell_samples,
    cell_table,
    load_spec,
    save_spec,
    spec_path,
)
from arena.runs import RunInterrupted
from arena.store import AgentIdentity, CellKey, Store, data_changes
from envs import canonical_name, load_game
from envs.errors import ArenaError
from envs.game_spec import GameSpec, config_hash, config_to_dict

__all__ = [
    "SPEC_FILE",
    "STORE_FILE",
    "CellSamples",
    "Mode",
    "TournamentResult",
    "TournamentSpec",
    "absolute_data_paths",
    "add_agents",
    "cell_samples",
    "cell_table",
    "change_roster",
    "check_spec",
    "create",
    "discard_unplayed",
    "extend_episodes",
    "first_missing",
    "load_spec",
    "run_tournament",
    "save_spec",
    "spec_path",
    "split_specs",
]

LOCK_FILE = ".lock"
_SPLIT = re.compile(r",(?=\s*[A-Za-z][\w-]*:)")


def split_specs(text: str) -> list[str]:
    """``"scripted:a,hf:tiny?t=0.7"`` → two specs (a comma only splits before ``kind:``)."""
    return [part.strip() for part in _SPLIT.split(text) if part.strip()]


@dataclass
class TournamentResult:
    folder: Path
    played: int
    failed: int
    cells: int
    skipped_cells: int
    resolved: bool | None = None  # adaptive: whether the response graph was resolved


def check_spec(spec: TournamentSpec, game: GameSpec) -> None:
    """Settings first, before anything loads: one clear line per mistake."""
    for name, value in (("--episodes", spec.episodes), ("--batch-size", spec.batch_size)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ArenaError(f"{name} must be at least 1, got {value!r}.", f"pass {name} 100.")
    if isinstance(spec.seed, bool) or not isinstance(spec.seed, int) or spec.seed < 0:
        raise ArenaError(f"--seed must be an integer >= 0, got {spec.seed!r}.", "pass --seed 0.")
    if (
        isinstance(spec.min_episodes, bool)
        or not isinstance(spec.min_episodes, int)
        or spec.min_episodes < 1
    ):
        raise ArenaError(
            f"--min-episodes must be at least 1, got {spec.min_episodes!r}.",
            "pass --min-episodes 10.",
        )
    if not 0.0 < spec.adaptive_delta < 1.0:
        raise ArenaError(
            f"--adaptive-delta must lie in (0, 1), got {spec.adaptive_delta!r}.",
            "pass e.g. --adaptive-delta 0.1.",
        )
    if spec.agent_timeout is not None and not spec.agent_timeout > 0:
        raise ArenaError(
            f"--agent-timeout must be positive, got {spec.agent_timeout!r}.",
            "pass e.g. --agent-timeout 300, or leave it out.",
        )
    _check_adaptive(spec, game)
    if spec.mode == "round-robin":
        if not game.is_symmetric(game.config(spec.env_config)):
            raise ArenaError(
                f"{game.name} is not symmetric, so it cannot be played round robin.",
                f"give each seat its roster ({', '.join('--' + s + 's' for s in game.seats)}).",
            )
        extra = set(spec.seats) - {"players"}
        if extra or len(spec.roster(game.seats[0])) < 2:
            raise ArenaError(
                "A round robin needs one roster of at least two --players.",
                "pass --players SPEC,SPEC[,...].",
            )
        return
    unknown = sorted(set(spec.seats) - set(game.seats))
    if unknown:
        raise ArenaError(
            f"{game.name} has no seat(s) {', '.join(unknown)}.",
            f"its seats are: {', '.join(game.seats)}.",
        )
    for seat in game.seats:
        if not spec.seats.get(seat):
            raise ArenaError(
                f"No agent for the {seat} seat of {game.name}.",
                f"pass --{seat}s SPEC[,SPEC...]; `arena agents` lists kinds.",
            )


def _check_adaptive(spec: TournamentSpec, game: GameSpec) -> None:
    """Adaptive sampling ranks agents: with one agent per seat (a 1x1 table) there is
    nothing to rank, so say so before a folder is written rather than after the first
    episodes."""
    if not spec.adaptive or spec.mode == "round-robin":
        return  # a round robin needs two players, checked below
    if all(len(spec.roster(seat)) <= 1 for seat in game.seats):
        first = game.seats[0]
        raise ArenaError(
            f"--adaptive needs two agents in at least one seat of {game.name}; with one per "
            "seat (a 1x1 table) there is no ranking for it to resolve.",
            f"add an agent (e.g. --seat {first}=SPEC,SPEC), or drop --adaptive and play "
            "--episodes per cell.",
        )


class _Lock:
    """One writer per tournament folder (``fcntl.flock``; released if the process dies)."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / LOCK_FILE
        self.handle = self.path.open("a+")
        try:
            fcntl.flock(self.handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self.handle.close()
            raise ArenaError(
                f"Another `arena tournament` is writing {str(folder)!r}.",
                "wait for it to finish, or run this one into another folder.",
            ) from None

    def release(self) -> None:
        fcntl.flock(self.handle, fcntl.LOCK_UN)
        self.handle.close()


class _Context:
    """The driver's side: the store's env and judge ids, identities, the agent pool."""

    def __init__(self, spec: TournamentSpec, store: Store, folder: Path) -> None:
        self.spec = spec
        self.store = store
        self.folder = folder
        self.pool = AgentPool(spec, str(folder))
        self.game = self.pool.game
        self.env_config = self.pool.env_config
        self.env_id = store.put_env(
            self.game.name, config_to_dict(self.env_config), config_hash(self.env_config)
        )
        self.check_data()

    def check_data(self) -> None:
        """Stop if the data behind the environment changed since the tournament started.

        The env id hashes the config, which names seed files but not their content: a
        file edited in place would mix two seed pools into the same cells. The game's
        ``describe`` (e.g. the pool's sha256) is recorded on the first run (for folders
        older than this check, on their next run) and compared on every later one.
        """
        now = self.pool.data_description()
        if now is None:
            return
        before = self.store.env_data(self.env_id)
        if before is None:
            self.store.put_env_data(self.env_id, now)
            return
        changes = data_changes(before, now)
        if changes:
            raise ArenaError(
                f"The data behind this tournament's {self.game.name} environment changed "
                f"since its episodes were played: {'; '.join(changes)}"
                f"{_data_files(self.spec.env_config)}.",
                "restore the data file(s) as they were, or start a new tournament (another "
                "--out) for the new data.",
            )

    def load_judge(self) -> None:
        description = self.pool.judge_description()
        if description is None:
            return
        judge_id = self.store.put_judge(description)
        if self.spec.judge_id is not None and judge_id != self.spec.judge_id:
            raise ArenaError(
                f"The judge {self.spec.judge!r} is not the one this tournament was played "
                f"with (its identity changed: {self.spec.judge_id} → {judge_id}).",
                "restore that judge, or start a new tournament folder.",
            )
        self.spec.judge_id = judge_id

    def judge_id(self) -> str:
        if self.spec.judge_id is None:
            if self.game.judged:
                self.load_judge()
            else:
                self.spec.judge_id = self.store.put_judge(None)
        assert self.spec.judge_id is not None
        return self.spec.judge_id

    def agent(self, seat: str, spec_string: str, *, joining: bool = False) -> Agent:
        """Build (once) and pin the agent's identity, and record it in the store."""
        agent = self.pool.agent(seat, spec_string, joining=joining)
        identity: AgentIdentity = self.pool.identities[spec_string]
        self.store.put_agent(identity)
        self.spec.identities[spec_string] = identity.agent_id
        return agent

    def cell_key(self, matchup: Mapping[str, str]) -> CellKey | None:
        """The store key of a matchup, or None while one of its agents is not yet pinned."""
        ids = []
        for seat in self.game.seats:
            agent_id = self.spec.identities.get(matchup[seat])
            if agent_id is None:
                return None
            ids.append((seat, agent_id))
        return CellKey(self.env_id, self.judge_id(), self.spec.seed, tuple(ids))

    def close(self) -> None:
        self.pool.close()


def create(folder: Path, spec: TournamentSpec, *, overwrite: bool = False) -> TournamentSpec:
    """Write a new tournament folder's spec (after checking it); nothing is played yet."""
    folder = Path(folder)
    spec.env = canonical_name(spec.env)
    game = load_game(spec.env)
    if spec.mode == "cross" and "players" in spec.seats:
        spec.mode = "round-robin"
    spec.env_config = absolute_data_paths(spec.env_config)
    check_spec(spec, game)
    game.config(spec.env_config)  # the env config's own checks, before any file is written
    if spec_path(folder).exists() and not overwrite:
        existing = load_spec(folder)
        if _same_definition(existing, spec):
            return existing  # the same command again: continue the tournament
        raise ArenaError(
            f"{str(folder)!r} already holds a different tournament.",
            f"continue it with `arena tournament {folder}`, add agents with --add-SEAT, "
            "or choose another --out.",
        )
    folder.mkdir(parents=True, exist_ok=True)
    save_spec(folder, spec)
    return spec


def _same_definition(a: TournamentSpec, b: TournamentSpec) -> bool:
    """Whether two specs define the same tournament (pinned identities aside).

    Seed paths compare as absolute paths, so a folder written before paths were made
    absolute (relative ones) still matches the same command run from the same place.
    """
    keep = ("identities", "judge_id")

    def definition(spec: TournamentSpec) -> dict[str, Any]:
        data = {k: v for k, v in asdict(spec).items() if k not in keep}
        data["env_config"] = absolute_data_paths(data["env_config"])
        return data

    return definition(a) == definition(b)


#: Env config keys that name data files (comma-separated parts; see absolute_data_paths).
DATA_KEYS = ("seeds",)
_PREFIX = re.compile(r"^([A-Za-z][\w-]+):(?!//)")


def absolute_data_paths(env_config: Mapping[str, Any], cwd: Path | None = None) -> dict[str, Any]:
    """``env_config`` with the relative file parts of its data keys made absolute.

    A tournament resumes from any directory, but ``seeds: "data/x.csv"`` would be read
    relative to wherever it resumes. A part (comma-separated) keeps its ``label:`` prefix
    and ``?options`` suffix; parts starting with ``builtin`` name shipped data and stay.
    Nested sections are handled alike, so the config's shape does not matter.
    """
    base = Path.cwd() if cwd is None else Path(cwd)
    out: dict[str, Any] = {}
    for key, value in env_config.items():
        if isinstance(value, Mapping):
            out[key] = absolute_data_paths(value, base)
        elif key in DATA_KEYS and isinstance(value, str):
            out[key] = ",".join(_absolute_part(part, base) for part in value.split(","))
        else:
            out[key] = value
    return out


def _absolute_part(part: str, base: Path) -> str:
    """One part of a data spec with its file path made absolute (see above)."""
    text = part.strip()
    if not text or text.startswith("builtin") or Path(text).is_absolute():
        return part
    if (base / text).exists():  # a file whose name holds ':' or '?' is taken literally
        return os.path.normpath(base / text)
    prefix = ""
    match = _PREFIX.match(text)
    if match is not None:
        prefix, text = match.group(0), text[match.end() :]
    path, mark, query = text.partition("?")
    if not path or path.startswith("builtin") or Path(path).is_absolute():
        return part
    return prefix + os.path.normpath(base / path) + mark + query


def _data_files(env_config: Mapping[str, Any]) -> str:
    """`` (seeds: a.csv,b.csv)`` for an error about changed data, or nothing."""
    named = [f"{k}: {v}" for k, v in env_config.items() if k in DATA_KEYS and v]
    return f" ({'; '.join(named)})" if named else ""


def discard_unplayed(folder: Path, first_new: Path | None) -> bool:
    """Remove what a failed ``create`` + first run left, if no episode was stored.

    A typo in an agent spec is found when the agents load, after ``create`` wrote the
    folder; left there, it would make the corrected command fail ("already holds a
    different tournament"). Only the tournament's own files go, and only the folders
    this command made (``first_new``: the highest one that did not exist before; None
    when the folder existed): never a folder that was there before. Returns whether
    anything was removed.
    """
    folder = Path(folder)
    store = folder / STORE_FILE
    if store.exists():
        with Store(store, create=False) as opened:
            if opened.episode_count():
                return False
    names = (SPEC_FILE, SPEC_FILE + ".tmp", STORE_FILE, LOCK_FILE)
    for name in (*names, STORE_FILE + "-wal", STORE_FILE + "-shm", STORE_FILE + "-journal"):
        (folder / name).unlink(missing_ok=True)
    if first_new is not None:
        here = folder.absolute()
        top = Path(first_new).absolute()
        while True:
            try:
                here.rmdir()  # only empty folders: anything else is not ours
            except OSError:
                break
            if here == top or top not in here.parents:
                break
            here = here.parent
    return True


def first_missing(folder: Path) -> Path | None:
    """The highest folder on the way to ``folder`` that does not exist yet (None if it does)."""
    folder = Path(folder).absolute()
    if folder.exists():
        return None
    top = folder
    while not top.parent.exists():
        top = top.parent
    return top


def change_roster(
    spec: TournamentSpec,
    game: GameSpec,
    additions: Mapping[str, list[str]],
    drops: Mapping[str, list[str]] | None = None,
) -> TournamentSpec:
    """Add (or drop) agents of a seat (``"players"`` in a round robin), in memory."""
    allowed = {"players"} if spec.mode == "round-robin" else set(game.seats)
    for seat in {**(drops or {}), **additions}:
        if seat not in allowed:
            flag = "--add-player" if spec.mode == "round-robin" else "--add-SEAT"
            raise ArenaError(
                f"This {spec.mode} tournament of {game.name} has no roster {seat!r}.",
                f"use {flag} with one of: {', '.join(sorted(allowed))}.",
            )
    for seat, specs in (drops or {}).items():
        roster = spec.seats.get(seat, [])
        missing = [s for s in specs if s not in roster]
        if missing:
            raise ArenaError(
                f"{', '.join(missing)} is not in the {seat} roster.",
                f"its agents are: {', '.join(roster)}.",
            )
        spec.seats[seat] = [s for s in roster if s not in specs]
    for seat, specs in additions.items():
        roster = spec.seats.setdefault(seat, [])
        roster.extend(s for s in specs if s not in roster)
    check_spec(spec, game)
    return spec


def extend_episodes(folder: Path, episodes: int) -> TournamentSpec:
    """Raise the episodes per cell of an existing tournament (the extra seeds play next).

    Fewer than before is refused: the store keeps every episode, and a report over a
    subset of seeds would silently differ from the tournament's own.
    """
    spec = load_spec(folder)
    if episodes == spec.episodes:
        return spec
    if isinstance(episodes, bool) or not isinstance(episodes, int) or episodes < spec.episodes:
        raise ArenaError(
            f"This tournament plays {spec.episodes} episodes per cell; --episodes {episodes} "
            "would not extend it.",
            f"pass more than {spec.episodes}, or start a new --out for a smaller one.",
        )
    spec.episodes = episodes
    check_spec(spec, load_game(spec.env))
    save_spec(folder, spec)
    return spec


def add_agents(
    folder: Path, additions: Mapping[str, list[str]], drops: Mapping[str, list[str]] | None = None
) -> TournamentSpec:
    """Add (or drop) agents and save the spec; the next :func:`run_tournament` plays
    their cells. (``run_tournament(additions=...)`` saves only once they load.)"""
    spec = load_spec(folder)
    change_roster(spec, load_game(spec.env), additions, drops)
    save_spec(folder, spec)
    return spec


def run_tournament(
    folder: Path,
    *,
    progress: Callable[[int, int], None] | None = None,
    retry_failed: bool = False,
    max_episodes: int | None = None,
    additions: Mapping[str, list[str]] | None = None,
    drops: Mapping[str, list[str]] | None = None,
    executor_name: str = "inprocess",
    executor_options: Mapping[str, Any] | None = None,
) -> TournamentResult:
    """Play every missing episode of the tournament in ``folder`` into its store.

    ``progress(done, total)`` is called as episodes finish. ``max_episodes`` stops after
    that many (a partial run; running again continues). ``retry_failed`` plays failed
    episodes again instead of keeping them as failures. ``additions``/``drops`` change
    the rosters first; the spec is saved only once every new agent has loaded, so a bad
    spec or a missing checkpoint leaves the tournament as it was.
    """
    folder = Path(folder)
    spec = load_spec(folder)
    game = load_game(spec.env)
    if additions or drops:
        change_roster(spec, game, additions or {}, drops)
    check_spec(spec, game)
    lock = _Lock(folder)
    store = Store(folder / STORE_FILE)
    context: _Context | None = None
    try:
        context = _Context(spec, store, folder)
        matchups = spec.cells(game)
        # New agents (no pinned identity, or added now: a spec pinned in another seat is
        # still new in this one) load first: their identity names their cells, and the
        # spec is saved only once they all loaded.
        joining = {s for specs in (additions or {}).values() for s in specs}
        for matchup in matchups:
            for seat, spec_string in matchup.items():
                if spec_string not in spec.identities or spec_string in joining:
                    context.agent(seat, spec_string, joining=True)
        save_spec(folder, spec)
        todo: list[tuple[int, dict[str, str], int]] = []
        # adaptive: every cell gets min_episodes first, then ResponseGraphUCB decides
        target = min(spec.min_episodes, spec.episodes) if spec.adaptive else spec.episodes
        cells: list[tuple[int, dict[str, str]]] = []
        counts = store.counts(below=target)
        failed_cells = []
        for matchup in matchups:
            key = context.cell_key(matchup)
            assert key is not None
            cell_id = store.cell_id(key)
            cells.append((cell_id, matchup))
            ok, failed = counts.get(cell_id, (0, 0))
            if failed and retry_failed:
                failed_cells.append(cell_id)
                failed = 0
            missing = target - ok - failed
            if missing > 0:
                todo.append((cell_id, matchup, missing))
        if failed_cells:
            store.delete_failed(failed_cells)
        total = sum(missing for _, _, missing in todo)
        if max_episodes is not None:
            total = min(total, max_episodes)
        if progress is not None:
            progress(0, total)
        if todo or spec.adaptive:
            context.load_judge()
            for _, matchup in cells if spec.adaptive else [(c, m) for c, m, _ in todo]:
                for seat, spec_string in matchup.items():
                    context.agent(seat, spec_string)
            save_spec(folder, spec)
        executor = make_executor(executor_name, context.pool, **(executor_options or {}))
        resolved = None
        try:
            played, failures = _play(
                context, executor, _items(context, todo, target, total), progress, total
            )
            if spec.adaptive and (max_episodes is None or played < max_episodes):
                budget = None if max_episodes is None else max_episodes - played
                more, more_failed, resolved = _adaptive(
                    context, executor, cells, budget, progress, played
                )
                played, failures = played + more, failures + more_failed
        finally:
            executor.close()
        return TournamentResult(
            folder, played, failures, len(matchups), len(matchups) - len(todo), resolved
        )
    except RunInterrupted as exc:
        store.flush()
        exc.run_folder = folder
        raise
    finally:
        try:
            store.close()
        finally:
            if context is not None:
                context.close()
            lock.release()


def _done(context: _Context, cell_id: int) -> bytearray:
    """Which episode indexes (< the spec's episodes) the cell has, as one byte each."""
    episodes = context.spec.episodes
    done = bytearray(episodes)
    for episode in context.store.done_episodes(cell_id):
        if 0 <= episode < episodes:
            done[episode] = 1
    return done


def _items(
    context: _Context, todo: list[tuple[int, dict[str, str], int]], target: int, limit: int
) -> Iterator[WorkItem]:
    """Missing episodes below ``target``, cell by cell, lazily (done sets are bytearrays)."""
    spec = context.spec
    count = 0
    for cell_id, matchup, _ in todo:
        done = _done(context, cell_id)
        for episode in range(target):
            if done[episode]:
                continue
            if count >= limit:
                return
            count += 1
            yield WorkItem(cell_id, episode, spec.seed + episode, matchup)


def _play(
    context: _Context,
    executor: Executor,
    items: Iterable[WorkItem],
    progress: Callable[[int, int], None] | None,
    total: int,
    played_before: int = 0,
    on_result: Callable[[Finished], None] | None = None,
) -> tuple[int, int]:
    store = context.store
    metrics = context.game.episode_metrics
    played = failures = 0
    for done in executor.run(items):
        item = done.item
        if done.transient:
            continue  # not played (its agent was disabled): left missing, a resume plays it
        if done.error is not None:
            failures += 1
            store.add(
                item.cell_id, item.episode, item.seed, rewards={}, record={}, error=done.error
            )
        else:
            store.add(
                item.cell_id,
                item.episode,
                item.seed,
                rewards=done.rewards,
                record=done.record,
                metrics=metrics(done.record, context.env_config) if metrics else None,
                labels=done.labels,
            )
            if on_result is not None:
                on_result(done)
        played += 1
        if progress is not None:
            progress(played_before + played, total)
    store.flush()
    return played, failures


def _adaptive(
    context: _Context,
    executor: Executor,
    cells: list[tuple[int, dict[str, str]]],
    budget: int | None,
    progress: Callable[[int, int], None] | None,
    played_before: int,
) -> tuple[int, int, bool]:
    """ResponseGraphUCB (Rowland et al. 2019) over the cells, up to ``episodes`` per cell.

    The sampler is rebuilt from the store's finished episodes (its confidence bounds
    depend only on counts and sums), so a resumed adaptive tournament proposes what an
    uninterrupted one would. ``sigma``, the sub-Gaussian scale of one payoff, is half the
    range of the rewards seen so far (Hoeffding's bound for bounded payoffs). Returns
    (played, failed, resolved); ``resolved`` is False when the per-cell cap or the
    budget stopped it first.
    """
    import numpy as np

    from arena.results import cell_samples
    from theory.evaluation.adaptive import ResponseGraphUCB

    spec, game = context.spec, context.game
    first, second = game.seats[0], game.seats[1]
    context.store.flush()
    _, _, samples = cell_samples(context.folder)
    rewards = [c.rewards for c in samples if c.n]
    values = np.concatenate(rewards) if rewards else np.zeros((1, 2))
    if spec.adaptive_sigma is None:
        # fixed once, from the min-episodes phase, and saved: a resumed run must use the
        # same confidence bounds as an uninterrupted one
        spec.adaptive_sigma = max(float(np.nanmax(values) - np.nanmin(values)) / 2.0, 1e-3)
        save_spec(context.folder, spec)
    sigma = spec.adaptive_sigma
    if spec.mode == "round-robin":
        ucb = ResponseGraphUCB(spec.roster(first), delta=spec.adaptive_delta, sigma=sigma)
    else:
        ucb = ResponseGraphUCB(
            spec.seats[first], spec.seats[second], delta=spec.adaptive_delta, sigma=sigma
        )
    for cell in samples:
        if cell.n:
            ucb.update(cell.matchup[first], cell.matchup[second], cell.rewards[:, :2])
    done = {cell_id: _done(context, cell_id) for cell_id, _ in cells}
    matchups = dict(cells)
    by_pair = {(m[first], m[second]): (cell_id, m) for cell_id, m in cells}
    total_cap = spec.episodes * len(cells)
    played = failures = 0

    def update(result: Finished) -> None:
        m = result.item.matchup
        ucb.update(m[first], m[second], [result.rewards[first], result.rewards[second]])

    def run(items: list[WorkItem]) -> bool:
        """Play items within the budget; False when the budget ran out."""
        nonlocal played, failures
        if budget is not None:
            items = items[: max(budget - played, 0)]
        if items:
            more, failed = _play(
                context, executor, items, progress, total_cap, played_before + played, update
            )
            played, failures = played + more, failures + failed
        return budget is None or played < budget

    last = context.store.last_plan()
    batch = 0
    if last is not None:  # finish the batch an interrupted run had planned
        batch, planned = last
        missing = [(c, e) for c, e in planned if c in done and not done[c][e]]
        for c, e in missing:
            done[c][e] = 1
        if not run([WorkItem(c, e, spec.seed + e, matchups[c]) for c, e in missing]):
            return played, failures, False
    while not ucb.resolved:
        items: list[WorkItem] = []
        for a, b in ucb.propose(spec.batch_size):
            options = [by_pair[p] for p in ((a, b), (b, a)) if p in by_pair]
            if spec.mode != "round-robin":
                options = options[:1]
            # the seating with fewer episodes (round robin alternates seats)
            cell_id, matchup = min(options, key=lambda o: sum(done[o[0]]))
            free = done[cell_id].find(0)
            if free < 0:
                continue  # this cell is at its cap
            done[cell_id][free] = 1
            items.append(WorkItem(cell_id, free, spec.seed + free, matchup))
        if not items:
            break
        batch += 1
        context.store.write_plan(batch, [(item.cell_id, item.episode) for item in items])
        if not run(items):
            return played, failures, bool(ucb.resolved)
    return played, failures, bool(ucb.resolved)
