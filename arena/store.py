"""The result store: one SQLite row per finished episode, keyed so nothing is played twice.

**Key** (DESIGN: "store key"). An episode is identified by its *cell* — the environment
(name + config hash), the agent in each seat (spec + the hash of its weights or table,
see :func:`agent_identity`), the judge (its description's hash) and the run seed — and its
episode seed. Per-episode randomness makes that key enough to reproduce the episode
(``arena replay``), so a result found in the store is never played again, whichever
tournament (or imported ``arena play`` run) produced it.

**Durability.** The database runs in WAL mode; rows are buffered and written in one
transaction per batch (:meth:`Store.add`, :meth:`Store.flush`), so a ``kill -9`` loses at
most the unflushed batch, which a resumed tournament replays with the same seeds and
hence the same results. The primary key makes a duplicate impossible.

**Memory.** Readers stream (:meth:`Store.iter_episodes`): records are JSON (zlib-
compressed above :data:`COMPRESS_ABOVE` bytes) and only read when asked for, so summarising a
million-episode tournament holds per-cell reward arrays, not transcripts.

**Schema versions.** ``meta.schema_version`` is checked on open. An older store is
migrated in place by the functions in :data:`MIGRATIONS` (one per version step, in one
transaction); a store from a newer Arena, or an older one with no migration path, stops
with one clear error instead of being misread.
"""

from __future__ import annotations

import hashlib
import json
import math
import sqlite3
import time
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from envs.errors import ArenaError

SCHEMA_VERSION = 2
FLUSH_ROWS = 1024
FLUSH_SECONDS = 2.0
#: ``meta`` key prefix of an environment's recorded data description (see Store.env_data)
_ENV_DATA = "env_data:"

Migration = Callable[[sqlite3.Connection], None]

_PLANS = """
CREATE TABLE IF NOT EXISTS plans (
    batch INTEGER NOT NULL, cell_id INTEGER NOT NULL, episode INTEGER NOT NULL,
    PRIMARY KEY (batch, cell_id, episode)) WITHOUT ROWID
"""


def _add_plans(db: sqlite3.Connection) -> None:
    """Schema 2: adaptive sampling writes each batch's plan before playing it."""
    db.execute(_PLANS)


#: ``MIGRATIONS[v]`` upgrades a store from schema ``v`` to ``v + 1``.
MIGRATIONS: dict[int, Migration] = {1: _add_plans}

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS envs (
    env_id TEXT PRIMARY KEY, env TEXT NOT NULL, config TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS agents (
    agent_id TEXT PRIMARY KEY, spec TEXT NOT NULL, weights TEXT, description TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS judges (judge_id TEXT PRIMARY KEY, description TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS cells (
    cell_id INTEGER PRIMARY KEY,
    env_id TEXT NOT NULL REFERENCES envs(env_id),
    judge_id TEXT NOT NULL REFERENCES judges(judge_id),
    run_seed INTEGER NOT NULL,
    seats TEXT NOT NULL,
    UNIQUE (env_id, judge_id, run_seed, seats));
CREATE TABLE IF NOT EXISTS episodes (
    cell_id INTEGER NOT NULL REFERENCES cells(cell_id),
    episode_seed INTEGER NOT NULL,
    episode INTEGER NOT NULL,
    status TEXT NOT NULL,
    error TEXT,
    rewards TEXT NOT NULL,
    metrics TEXT NOT NULL,
    labels TEXT NOT NULL,
    record BLOB,
    transcript_sha256 TEXT NOT NULL,
    source TEXT NOT NULL,
    PRIMARY KEY (cell_id, episode_seed)) WITHOUT ROWID;
"""
_SCHEMA += _PLANS + ";"


#: orjson: sorted keys, no spaces, UTF-8; numpy values and non-string keys allowed. About
#: 1 us a record where the json module takes 15 (benchmarks/bench_tournament.py row a).
_CANONICAL = orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY
#: Records shorter than this are stored as plain JSON: zlib's set-up costs ~40 us a call,
#: more than it saves on a few hundred bytes.
COMPRESS_ABOVE = 1024


def canonical_bytes(data: Any) -> bytes:
    """One byte string per value (what hashes are of): sorted keys, no spaces, UTF-8."""
    return orjson.dumps(data, option=_CANONICAL)


def canonical_json(data: Any) -> str:
    return canonical_bytes(data).decode()


def _pack(raw: bytes) -> bytes:
    return zlib.compress(raw, 1) if len(raw) > COMPRESS_ABOVE else raw


def _unpack(blob: bytes) -> Any:
    """A stored record: plain JSON (starts with '{') or zlib-compressed JSON."""
    return orjson.loads(blob if blob[:1] == b"{" else zlib.decompress(blob))


def sha256_of(data: Any) -> str:
    return hashlib.sha256(canonical_bytes(data)).hexdigest()


def transcript_hash(rewards: Mapping[str, float], record: Mapping[str, Any]) -> str:
    """What ``arena replay`` compares: the episode's rewards and the environment's record.

    The sha256 of ``canonical_json({"record": record, "rewards": rewards})`` (non-finite
    rewards as null), assembled from the two parts so the store encodes a record once.
    """
    return _transcript_digest(_rewards_json(rewards), canonical_bytes(dict(record)))


def _rewards_json(rewards: Mapping[str, float]) -> bytes:
    return canonical_bytes({k: _finite(v) for k, v in rewards.items()})


def _transcript_digest(rewards_json: bytes, record_json: bytes) -> str:
    return hashlib.sha256(
        b'{"record":' + record_json + b',"rewards":' + rewards_json + b"}"
    ).hexdigest()


def _hashes(description: Any) -> list[str]:
    """Every ``*sha256`` value in an agent description (weights, tables, data), in order."""
    found: list[str] = []
    if isinstance(description, Mapping):
        for key in sorted(description):
            value = description[key]
            if str(key).endswith("sha256") and isinstance(value, str):
                found.append(f"{key}={value}")
            else:
                found.extend(_hashes(value))
    elif isinstance(description, list | tuple):
        for value in description:
            found.extend(_hashes(value))
    return found


def data_changes(before: Mapping[str, Any], now: Mapping[str, Any]) -> list[str]:
    """What differs between two data descriptions, one short phrase per fact.

    A ``sha256`` is shortened and named first (the content changed), then the counts
    beside it (``n_benign 5 -> 6``), so the error says which data moved, not a JSON diff.
    """
    before, now = _plain(dict(before)), _plain(dict(now))
    out: list[str] = []
    for key in sorted(set(before) | set(now)):
        old, new = before.get(key), now.get(key)
        if old == new:
            continue
        if isinstance(old, Mapping) and isinstance(new, Mapping):
            facts = [
                f"{name} {_short(old.get(name))} -> {_short(new.get(name))}"
                for name in sorted(set(old) | set(new), key=lambda n: (n != "sha256", n))
                if old.get(name) != new.get(name) and not isinstance(old.get(name), Mapping)
            ]
            out.append(f"{key} " + (", ".join(facts) if facts else "(details differ)"))
        else:
            out.append(f"{key} {_short(old)} -> {_short(new)}")
    return out


def _short(value: Any) -> str:
    """A value as it fits in a one-line error: hashes cut to 12 characters."""
    if value is None:
        return "none"
    if isinstance(value, str) and len(value) >= 32:
        return value[:12] + "…"
    text = json.dumps(value)
    return text if len(text) <= 40 else text[:37] + "..."


def env_id_of(env: str, config_sha256: str) -> str:
    """The store id of an environment and config (what readers look cells up by)."""
    return sha256_of({"env": env, "config": config_sha256})[:20]


@dataclass(frozen=True)
class AgentIdentity:
    """Who sat in a seat: the spec plus the hash of what it loaded (weights, a table)."""

    agent_id: str
    spec: str
    weights: str | None
    description: Mapping[str, Any]


def agent_identity(spec: str, description: Mapping[str, Any]) -> AgentIdentity:
    """The store identity of an agent built from ``spec`` that describes itself so.

    Two agents with the same spec but different weights (a checkpoint overwritten) get
    different identities, so their results never mix.
    """
    hashes = _hashes(description)
    weights = ";".join(hashes) if hashes else None
    agent_id = sha256_of({"spec": spec, "weights": weights})[:20]
    return AgentIdentity(agent_id, spec, weights, dict(description))


@dataclass(frozen=True)
class CellKey:
    """Everything but the episode seed: environment, judge, run seed, agent per seat."""

    env_id: str
    judge_id: str
    run_seed: int
    seats: tuple[tuple[str, str], ...]  # (seat, agent_id), in the game's seat order

    def seats_json(self) -> str:
        return canonical_json([list(pair) for pair in self.seats])


@dataclass(frozen=True)
class StoredEpisode:
    cell_id: int
    episode_seed: int
    episode: int
    status: str
    error: str | None
    rewards: dict[str, float]
    metrics: dict[str, Any]
    labels: dict[str, str]
    transcript_sha256: str
    record: dict[str, Any] | None


class Store:
    """An episode store in one SQLite file (see the module docstring)."""

    def __init__(self, path: str | Path, *, create: bool = True) -> None:
        self.path = Path(path)
        if not create and not self.path.exists():
            raise ArenaError(
                f"No result store at {str(self.path)!r}.",
                "pass the folder a tournament wrote (it holds store.sqlite).",
            )
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.db = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.execute("PRAGMA busy_timeout=30000")
        except sqlite3.DatabaseError as exc:
            raise ArenaError(
                f"{str(self.path)!r} is not a readable SQLite result store ({exc}).",
                "point at a store.sqlite written by `arena tournament`, or a new path.",
            ) from exc
        self._buffer: list[tuple[Any, ...]] = []
        self._last_flush = time.monotonic()
        self._cells: dict[CellKey, int] = {}
        self._open_schema()

    # ------------------------------------------------------------------ schema
    def _open_schema(self) -> None:
        try:
            tables = {
                row[0]
                for row in self.db.execute("SELECT name FROM sqlite_master WHERE type='table'")
            }
        except sqlite3.DatabaseError as exc:
            raise ArenaError(
                f"{str(self.path)!r} is not a readable SQLite result store ({exc}).",
                "point at a store.sqlite written by `arena tournament`, or a new path.",
            ) from exc
        if not tables:
            self._write("BEGIN IMMEDIATE", _SCHEMA, schema=True)
            return
        if "meta" not in tables:
            raise ArenaError(
                f"{str(self.path)!r} is an SQLite file but not an Arena result store.",
                "pass a store written by `arena tournament`, or a new path.",
            )
        row = self.db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        version = int(row[0]) if row else 0
        if version > SCHEMA_VERSION:
            raise ArenaError(
                f"{str(self.path)!r} was written by a newer Arena (store schema {version}; "
                f"this one reads up to {SCHEMA_VERSION}).",
                "upgrade arena-safety, or write to a new store.",
            )
        while version < SCHEMA_VERSION:
            migrate = MIGRATIONS.get(version)
            if migrate is None:
                raise ArenaError(
                    f"{str(self.path)!r} uses store schema {version}, which this Arena "
                    f"(schema {SCHEMA_VERSION}) cannot migrate.",
                    "export it with the Arena that wrote it (`arena store export`), or "
                    "start a new store.",
                )
            self.db.execute("BEGIN IMMEDIATE")
            try:
                migrate(self.db)
                self.db.execute(
                    "UPDATE meta SET value=? WHERE key='schema_version'", (str(version + 1),)
                )
                self.db.execute("COMMIT")
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            version += 1

    def _write(self, begin: str, script: str, *, schema: bool = False) -> None:
        self.db.execute(begin)
        try:
            for statement in script.split(";"):
                if statement.strip():
                    self.db.execute(statement)
            if schema:
                self.db.execute(
                    "INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)",
                    (str(SCHEMA_VERSION),),
                )
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise

    @property
    def schema_version(self) -> int:
        row = self.db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        return int(row[0])

    # ------------------------------------------------------------------ identities
    def put_env(self, env: str, config: Mapping[str, Any], config_sha256: str) -> str:
        env_id = env_id_of(env, config_sha256)
        self.db.execute(
            "INSERT OR IGNORE INTO envs VALUES (?, ?, ?)", (env_id, env, canonical_json(config))
        )
        return env_id

    def env_data(self, env_id: str) -> dict[str, Any] | None:
        """What the environment's data was when ``env_id`` was first played (its game's
        ``describe`` hook: e.g. the seed pool's size and sha256), or None if unrecorded.

        Kept in ``meta`` (no schema change), beside the env row: the env id hashes the
        config (file *names*), so only this catches a data file edited in place.
        """
        row = self.db.execute(
            "SELECT value FROM meta WHERE key=?", (_ENV_DATA + env_id,)
        ).fetchone()
        return None if row is None else dict(json.loads(row[0]))

    def put_env_data(self, env_id: str, description: Mapping[str, Any]) -> None:
        """Record ``env_id``'s data description once (the first one stays the reference)."""
        self.db.execute(
            "INSERT OR IGNORE INTO meta VALUES (?, ?)",
            (_ENV_DATA + env_id, canonical_json(_plain(dict(description)))),
        )

    def put_agent(self, identity: AgentIdentity) -> str:
        self.db.execute(
            "INSERT OR IGNORE INTO agents VALUES (?, ?, ?, ?)",
            (
                identity.agent_id,
                identity.spec,
                identity.weights,
                canonical_json(_plain(identity.description)),
            ),
        )
        return identity.agent_id

    def put_judge(self, description: Mapping[str, Any] | None) -> str:
        data = _plain(dict(description or {"judge": None}))
        judge_id = sha256_of(data)[:20]
        self.db.execute(
            "INSERT OR IGNORE INTO judges VALUES (?, ?)", (judge_id, canonical_json(data))
        )
        return judge_id

    def cell_id(self, key: CellKey) -> int:
        """The cell's row id, created on first use."""
        known = self._cells.get(key)
        if known is not None:
            return known
        seats = key.seats_json()
        query = "SELECT cell_id FROM cells WHERE env_id=? AND judge_id=? AND run_seed=? AND seats=?"
        args = (key.env_id, key.judge_id, key.run_seed, seats)
        row = self.db.execute(query, args).fetchone()
        if row is None:
            self.db.execute(
                "INSERT OR IGNORE INTO cells (env_id, judge_id, run_seed, seats) "
                "VALUES (?, ?, ?, ?)",
                args,
            )
            row = self.db.execute(query, args).fetchone()
        self._cells[key] = int(row[0])
        return int(row[0])

    def find_cell(self, key: CellKey) -> int | None:
        """The cell's row id if it exists (never creates one)."""
        known = self._cells.get(key)
        if known is not None:
            return known
        row = self.db.execute(
            "SELECT cell_id FROM cells WHERE env_id=? AND judge_id=? AND run_seed=? AND seats=?",
            (key.env_id, key.judge_id, key.run_seed, key.seats_json()),
        ).fetchone()
        return None if row is None else int(row[0])

    def cell_info(self, cell_id: int) -> dict[str, Any]:
        row = self.db.execute(
            "SELECT c.env_id, e.env, e.config, c.judge_id, j.description, c.run_seed, c.seats "
            "FROM cells c JOIN envs e USING (env_id) JOIN judges j USING (judge_id) "
            "WHERE c.cell_id=?",
            (cell_id,),
        ).fetchone()
        if row is None:
            raise ArenaError(f"The store has no cell {cell_id}.", "list cells with `arena store`.")
        seats = [tuple(pair) for pair in json.loads(row[6])]
        agents = {}
        for seat, agent_id in seats:
            spec, weights, description = self.db.execute(
                "SELECT spec, weights, description FROM agents WHERE agent_id=?", (agent_id,)
            ).fetchone()
            agents[seat] = {
                "agent_id": agent_id,
                "spec": spec,
                "weights": weights,
                "description": json.loads(description),
            }
        return {
            "cell_id": cell_id,
            "env_id": row[0],
            "env": row[1],
            "env_config": json.loads(row[2]),
            "judge_id": row[3],
            "judge": json.loads(row[4]),
            "run_seed": int(row[5]),
            "seats": agents,
        }

    # ------------------------------------------------------------------ writing
    def add(
        self,
        cell_id: int,
        episode: int,
        episode_seed: int,
        *,
        rewards: Mapping[str, float],
        record: Mapping[str, Any],
        metrics: Mapping[str, Any] | None = None,
        labels: Mapping[str, str] | None = None,
        error: str | None = None,
        source: str = "tournament",
    ) -> None:
        """Buffer one finished (or failed) episode; written with the next flush."""
        status = "failed" if error is not None else "ok"
        rewards_json = _rewards_json(rewards)
        record_json = canonical_bytes(dict(record))
        digest = _transcript_digest(rewards_json, record_json) if error is None else ""
        blob = _pack(record_json) if record else None
        self._buffer.append(
            (
                cell_id,
                int(episode_seed),
                int(episode),
                status,
                error,
                rewards_json.decode(),
                canonical_json(dict(metrics or {})),
                canonical_json(dict(labels or {})),
                blob,
                digest,
                source,
            )
        )
        if len(self._buffer) >= FLUSH_ROWS or time.monotonic() - self._last_flush > FLUSH_SECONDS:
            self.flush()

    def flush(self) -> int:
        """Write the buffered episodes in one transaction; return how many were new."""
        self._last_flush = time.monotonic()
        if not self._buffer:
            return 0
        rows, self._buffer = self._buffer, []
        self.db.execute("BEGIN IMMEDIATE")
        try:
            before = self.db.total_changes
            self.db.executemany(
                "INSERT OR IGNORE INTO episodes VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows
            )
            written = self.db.total_changes - before
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            self._buffer = rows + self._buffer
            raise
        return written

    def delete_failed(self, cell_ids: Sequence[int]) -> int:
        """Forget the failed episodes of these cells so they are played again."""
        self.flush()
        marks = ",".join("?" * len(cell_ids))
        self.db.execute("BEGIN IMMEDIATE")
        cursor = self.db.execute(
            f"DELETE FROM episodes WHERE status='failed' AND cell_id IN ({marks})",
            tuple(cell_ids),
        )
        self.db.execute("COMMIT")
        return int(cursor.rowcount)

    # ------------------------------------------------------------------ reading
    def write_plan(self, batch: int, items: Sequence[tuple[int, int]]) -> None:
        """Commit adaptive batch ``batch`` (its (cell, episode) pairs) before it is played.

        A resumed adaptive tournament finishes the last planned batch before proposing
        the next, so it takes the same path as an uninterrupted one.
        """
        self.db.execute("BEGIN IMMEDIATE")
        try:
            self.db.executemany(
                "INSERT OR IGNORE INTO plans VALUES (?, ?, ?)",
                [(batch, cell, episode) for cell, episode in items],
            )
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise

    def last_plan(self) -> tuple[int, list[tuple[int, int]]] | None:
        row = self.db.execute("SELECT MAX(batch) FROM plans").fetchone()
        if row is None or row[0] is None:
            return None
        batch = int(row[0])
        items = self.db.execute(
            "SELECT cell_id, episode FROM plans WHERE batch=? ORDER BY cell_id, episode", (batch,)
        ).fetchall()
        return batch, [(int(c), int(e)) for c, e in items]

    def done_episodes(self, cell_id: int) -> Iterator[int]:
        """Episode indexes this cell already has (finished or failed)."""
        for (episode,) in self.db.execute(
            "SELECT episode FROM episodes WHERE cell_id=?", (cell_id,)
        ):
            yield int(episode)

    def counts(self, below: int | None = None) -> dict[int, tuple[int, int]]:
        """cell id -> (ok episodes, failed episodes); with ``below``, only episode indexes
        ``0 <= i < below`` count (a tournament's own seeds; an imported run may hold
        others)."""
        out: dict[int, tuple[int, int]] = {}
        limit = (1 << 62) if below is None else int(below)
        for cell_id, ok, failed in self.db.execute(
            "SELECT cell_id, SUM(status='ok'), SUM(status='failed') FROM episodes "
            "WHERE episode >= 0 AND episode < ? GROUP BY cell_id",
            (limit,),
        ):
            out[int(cell_id)] = (int(ok), int(failed))
        return out

    def episode_count(self) -> int:
        self.flush()
        return int(self.db.execute("SELECT COUNT(*) FROM episodes").fetchone()[0])

    def failures(self, cell_id: int, limit: int = 5) -> list[tuple[int, str]]:
        return [
            (int(seed), str(error))
            for seed, error in self.db.execute(
                "SELECT episode_seed, error FROM episodes WHERE cell_id=? AND status='failed' "
                "ORDER BY episode LIMIT ?",
                (cell_id, limit),
            )
        ]

    def iter_episodes(
        self, cell_ids: Sequence[int] | None = None, *, with_records: bool = False
    ) -> Iterator[StoredEpisode]:
        """Stream episodes (ordered by cell and episode index); records only if asked."""
        columns = "cell_id, episode_seed, episode, status, error, rewards, metrics, labels, "
        columns += "transcript_sha256, " + ("record" if with_records else "NULL")
        query = f"SELECT {columns} FROM episodes"
        args: tuple[Any, ...] = ()
        if cell_ids is not None:
            query += f" WHERE cell_id IN ({','.join('?' * len(cell_ids))})"
            args = tuple(cell_ids)
        query += " ORDER BY cell_id, episode"
        for row in self.db.execute(query, args):
            yield StoredEpisode(
                cell_id=int(row[0]),
                episode_seed=int(row[1]),
                episode=int(row[2]),
                status=str(row[3]),
                error=row[4],
                rewards=orjson.loads(row[5]),
                metrics=orjson.loads(row[6]),
                labels=orjson.loads(row[7]),
                transcript_sha256=str(row[8]),
                record=_unpack(row[9]) if row[9] is not None else None,
            )

    def episode(self, cell_id: int, episode: int) -> StoredEpisode:
        row = self.db.execute(
            "SELECT episode_seed FROM episodes WHERE cell_id=? AND episode=?", (cell_id, episode)
        ).fetchone()
        if row is None:
            raise ArenaError(
                f"The store has no episode {episode} in cell {cell_id}.",
                "list a tournament's cells and episodes with `arena store RUN`.",
            )
        query = (
            "SELECT cell_id, episode_seed, episode, status, error, rewards, metrics, labels, "
            "transcript_sha256, record FROM episodes WHERE cell_id=? AND episode_seed=?"
        )
        found = self.db.execute(query, (cell_id, int(row[0]))).fetchone()
        return StoredEpisode(
            int(found[0]),
            int(found[1]),
            int(found[2]),
            str(found[3]),
            found[4],
            json.loads(found[5]),
            json.loads(found[6]),
            json.loads(found[7]),
            str(found[8]),
            _unpack(found[9]) if found[9] is not None else None,
        )

    def cells(self) -> list[dict[str, Any]]:
        return [self.cell_info(int(row[0])) for row in self.db.execute("SELECT cell_id FROM cells")]

    def to_pandas(self, *, with_records: bool = False) -> Any:
        """One row per episode: cell, agents per seat, seeds, status, rewards, metrics."""
        import pandas as pd

        cells = {info["cell_id"]: info for info in self.cells()}
        rows = []
        for ep in self.iter_episodes(with_records=with_records):
            info = cells[ep.cell_id]
            row: dict[str, Any] = {
                "cell": ep.cell_id,
                "env": info["env"],
                "env_id": info["env_id"],
                "judge_id": info["judge_id"],
                "run_seed": info["run_seed"],
            }
            for seat, agent in info["seats"].items():
                row[f"agent_{seat}"] = agent["spec"]
                row[f"agent_id_{seat}"] = agent["agent_id"]
            row.update(
                episode=ep.episode,
                episode_seed=ep.episode_seed,
                status=ep.status,
                error=ep.error,
                transcript_sha256=ep.transcript_sha256,
            )
            row.update({f"reward_{seat}": value for seat, value in ep.rewards.items()})
            row.update({f"metric_{name}": value for name, value in ep.metrics.items()})
            if with_records:
                row["record"] = json.dumps(ep.record) if ep.record is not None else None
            rows.append(row)
        return pd.DataFrame(rows)

    def to_parquet(self, path: str | Path, *, with_records: bool = False) -> Path:
        out = Path(path)
        self.to_pandas(with_records=with_records).to_parquet(out, index=False)
        return out

    def close(self) -> None:
        try:
            self.flush()
        finally:
            self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _finite(value: float) -> float | None:
    number = float(value)
    return number if math.isfinite(number) else None


def _plain(data: Any) -> Any:
    """JSON-ready data (descriptions may carry tuples or numpy scalars)."""
    return json.loads(json.dumps(data, default=str))
