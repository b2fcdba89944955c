"""The read side of tournament folders: the spec file and per-cell results from the store.

This module and :mod:`arena.store` are the contract between the code that writes a
tournament (:mod:`arena.tournament`) and the code that reads it (``analysis``): they
import nothing of the runner, the agents or the CLI, so a report can be rebuilt from a
folder on any machine (``docs/architecture.md``, layer rules in ``tests/test_layers.py``).
"""

from __future__ import annotations

import itertools
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from arena.store import CellKey, Store, env_id_of
from envs import load_game
from envs.errors import ArenaError
from envs.game_spec import GameSpec

SPEC_FILE = "tournament.json"
STORE_FILE = "store.sqlite"
Mode = Literal["cross", "round-robin"]


@dataclass
class TournamentSpec:
    """What ``tournament.json`` holds; everything a resumed tournament needs."""

    env: str
    seats: dict[str, list[str]] = field(default_factory=dict)
    mode: Mode = "cross"
    episodes: int = 100
    seed: int = 0
    batch_size: int = 64
    judge: str = "rule"
    env_config: dict[str, Any] = field(default_factory=dict)
    agent_timeout: float | None = None
    self_play: bool = True
    adaptive: bool = False  # ResponseGraphUCB: play episodes where they change the ranking
    adaptive_delta: float = 0.1
    min_episodes: int = 10  # per cell, before adaptive sampling starts
    adaptive_sigma: float | None = None  # set once from the min-episodes phase
    identities: dict[str, str] = field(default_factory=dict)  # spec -> agent id
    judge_id: str | None = None

    def roster(self, seat: str) -> list[str]:
        if self.mode == "round-robin":
            return list(self.seats.get("players", []))
        return list(self.seats.get(seat, []))

    def all_specs(self) -> list[str]:
        return list(dict.fromkeys(itertools.chain.from_iterable(self.seats.values())))

    def cells(self, game: GameSpec) -> list[dict[str, str]]:
        """Every matchup (seat → spec) the tournament covers, in a stable order."""
        if self.mode == "round-robin":
            players = self.roster(game.seats[0])
            pairs = itertools.product(players, repeat=len(game.seats))
            return [
                dict(zip(game.seats, pair, strict=True))
                for pair in pairs
                if self.self_play or len(set(pair)) == len(pair)
            ]
        return [
            dict(zip(game.seats, combo, strict=True))
            for combo in itertools.product(*(self.seats[s] for s in game.seats))
        ]


def spec_path(folder: Path) -> Path:
    return Path(folder) / SPEC_FILE


def load_spec(folder: Path) -> TournamentSpec:
    path = spec_path(folder)
    if not path.exists():
        raise ArenaError(
            f"{str(folder)!r} is not a tournament folder (no {SPEC_FILE}).",
            "start one with `arena tournament ENV --attackers ... --defenders ... --out DIR`.",
        )
    data = json.loads(path.read_text())
    known = TournamentSpec.__dataclass_fields__
    return TournamentSpec(**{k: v for k, v in data.items() if k in known})


def save_spec(folder: Path, spec: TournamentSpec) -> None:
    """Atomically replace ``tournament.json`` (a kill never leaves half a spec)."""
    path = spec_path(folder)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(asdict(spec), indent=2) + "\n")
    os.replace(tmp, path)


# ----------------------------------------------------------------------------- reading
@dataclass
class CellSamples:
    """One cell's finished episodes as compact arrays (streamed from the store).

    ``rewards[:, k]`` is seat ``k``'s total reward per episode (seats in the game's
    order), ``episodes`` the episode indexes (equal indexes across cells are the same
    seeds: paired), ``metrics[name]`` the game's per-episode metrics (NaN where an
    episode does not count).
    """

    cell_id: int
    matchup: dict[str, str]
    episodes: Any
    rewards: Any
    metrics: dict[str, Any]
    failed: int
    failures: list[tuple[int, str]]

    @property
    def n(self) -> int:
        return len(self.episodes)


def cell_samples(folder: Path) -> tuple[TournamentSpec, GameSpec, list[CellSamples]]:
    """Every cell of the tournament in ``folder`` with its episodes, read from the store.

    Only the tournament's current roster counts (a dropped agent's cells stay in the
    store but not here); memory is a few arrays of floats per cell, not transcripts.
    """
    from array import array

    import numpy as np

    folder = Path(folder)
    spec = load_spec(folder)
    game = load_game(spec.env)
    out: list[CellSamples] = []
    if not (folder / STORE_FILE).exists():
        return spec, game, out
    with Store(folder / STORE_FILE, create=False) as store:
        context_ids = _cell_ids(spec, game, store)
        for matchup, cell_id in context_ids:
            if cell_id is None:
                continue
            episodes = array("q")
            rewards = array("d")
            names = list(game.metric_names)
            metric_values: dict[str, array[float]] = {name: array("d") for name in names}
            failed = 0
            for ep in store.iter_episodes([cell_id]):
                if not 0 <= ep.episode < spec.episodes:
                    continue  # not one of this tournament's seeds (e.g. an imported run's)
                if ep.status != "ok":
                    failed += 1
                    continue
                episodes.append(ep.episode)
                for seat in game.seats:
                    value = ep.rewards.get(seat)
                    rewards.append(float("nan") if value is None else float(value))
                for name in names:
                    metric = ep.metrics.get(name)
                    metric_values[name].append(float("nan") if metric is None else float(metric))
            out.append(
                CellSamples(
                    cell_id=cell_id,
                    matchup=matchup,
                    episodes=np.frombuffer(episodes, dtype=np.int64).copy(),
                    rewards=np.frombuffer(rewards, dtype=float).reshape(-1, len(game.seats)).copy(),
                    metrics={
                        k: np.frombuffer(v, dtype=float).copy() for k, v in metric_values.items()
                    },
                    failed=failed,
                    failures=store.failures(cell_id) if failed else [],
                )
            )
    return spec, game, out


def _cell_ids(
    spec: TournamentSpec, game: GameSpec, store: Store
) -> list[tuple[dict[str, str], int | None]]:
    """(matchup, cell id or None if never played) for the spec's cells, without loading."""
    from envs.game_spec import config_hash as _hash

    env_config = game.config(spec.env_config)
    env_id = env_id_of(game.name, _hash(env_config))  # a reader computes it, never writes
    judge_id = spec.judge_id
    out: list[tuple[dict[str, str], int | None]] = []
    for matchup in spec.cells(game):
        ids = [(seat, spec.identities.get(matchup[seat])) for seat in game.seats]
        if judge_id is None or any(agent_id is None for _, agent_id in ids):
            out.append((matchup, None))
            continue
        key = CellKey(env_id, judge_id, spec.seed, tuple((s, str(a)) for s, a in ids))
        out.append((matchup, store.find_cell(key)))
    return out


def cell_table(folder: Path) -> list[dict[str, str]]:
    """One printable row per cell: agents, episodes, failures, mean reward per seat ± CI."""
    from envs.stats import Mean

    _, game, cells = cell_samples(folder)
    rows = []
    for cell in cells:
        row = {seat: cell.matchup[seat] for seat in game.seats}
        row["n"] = str(cell.n)
        row["failed"] = str(cell.failed)
        for k, seat in enumerate(game.seats):
            values = cell.rewards[:, k] if cell.n else []
            row[f"{seat} reward"] = Mean.of(list(values)).format() if cell.n else "-"
        rows.append(row)
    return rows
