"""Run folders: episodes as JSONL plus a manifest, written so nothing is half-written.

A run is built in a hidden staging folder beside its destination (``.NAME.partial``)
and moved into place with one ``os.replace`` when it completes, so a reader never sees
a half-written run under the final name. If the process is killed, the staging folder
keeps every episode written so far (each JSONL line is flushed), and its manifest says
``"status": "running"``; the next run with the same name reports it instead of
silently overwriting it.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import shutil
import sys
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path
from typing import IO, Any

from envs.errors import ArenaError

_PACKAGES = (
    "arena-safety",
    "pettingzoo",
    "gymnasium",
    "numpy",
    "scipy",
    "torch",
    "transformers",
    "trl",
    "vllm",
)


def package_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in _PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


class RunInterrupted(BaseException):
    """Ctrl-C or SIGTERM during a command: the run is marked aborted, one line is printed.

    A ``BaseException`` (like ``KeyboardInterrupt``) so that no ``except Exception``
    swallows it. ``run_folder`` and ``episodes`` say what was kept, for the message.
    """

    def __init__(self, what: str, exit_code: int) -> None:
        super().__init__(what)
        self.what = what
        self.exit_code = exit_code
        self.run_folder: Path | None = None
        self.episodes = 0
        #: set by commands that resume differently from `arena play --resume`
        self.message: str | None = None


class RunWriter:
    """Writes ``episodes.jsonl`` and ``manifest.json`` for one run, atomically."""

    def __init__(self, destination: Path, manifest: Mapping[str, Any], *, overwrite: bool = False):
        self.destination = destination
        if destination.exists() and not overwrite:
            raise ArenaError(
                f"Run folder {str(destination)!r} already exists.",
                "pass a new --run-name, or --overwrite to replace it.",
            )
        self.staging = destination.parent / f".{destination.name}.partial"
        if self.staging.exists():
            if not overwrite:
                raise ArenaError(
                    f"An unfinished run {str(self.staging)!r} is in the way "
                    f"({_status_of(self.staging)}).",
                    "move or delete it to keep its episodes, or pass --overwrite to discard it.",
                )
            shutil.rmtree(self.staging)
        try:
            self.staging.mkdir(parents=True)
        except OSError as exc:
            raise ArenaError(
                f"Cannot create the run folder under {str(destination.parent)!r}: {exc.strerror}.",
                "pass a --runs-dir that is a writable directory.",
            ) from exc
        self.manifest: dict[str, Any] = {
            **manifest,
            "status": "running",
            "started_at": _now(),
            "command": sys.argv,
            "versions": package_versions(),
        }
        self._write_manifest()
        # Kept open across write_episode calls and closed by finish()/abort().
        self._episodes: IO[str] = open(  # noqa: SIM115
            self.staging / "episodes.jsonl", "w", encoding="utf-8"
        )
        self.count = 0

    @classmethod
    def reopen(cls, staging: Path, manifest: Mapping[str, Any]) -> RunWriter:
        """Continue writing an unfinished run in its staging folder (see ``find_unfinished``).

        A line cut off by a kill is dropped first, so the file holds whole records only.
        """
        self = cls.__new__(cls)
        name = staging.name
        self.staging = staging
        self.destination = staging.parent / name.removeprefix(".").removesuffix(".partial")
        if self.destination.exists():
            raise ArenaError(
                f"Run folder {str(self.destination)!r} already exists beside the unfinished "
                f"{str(staging)!r}.",
                "move one of them away, then resume.",
            )
        episodes = staging / "episodes.jsonl"
        data = episodes.read_bytes() if episodes.exists() else b""
        keep = data[: data.rfind(b"\n") + 1]
        if len(keep) != len(data):
            episodes.write_bytes(keep)
        self.count = keep.count(b"\n")
        self.manifest = {**manifest, "status": "running", "resumed_at": _now()}
        self.manifest.pop("reason", None)
        self._write_manifest()
        self._episodes = open(episodes, "a", encoding="utf-8")  # noqa: SIM115
        return self

    def write_episode(self, record: Mapping[str, Any]) -> None:
        self._episodes.write(json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n")
        self._episodes.flush()
        self.count += 1

    def write_json(self, name: str, data: Any) -> None:
        with open(self.staging / name, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=2, ensure_ascii=False, allow_nan=False)

    def finish(self, summary: Mapping[str, Any]) -> Path:
        self._episodes.close()
        self.manifest.update(
            status="complete", finished_at=_now(), episodes=self.count, summary=dict(summary)
        )
        self._write_manifest()
        if self.destination.exists():
            shutil.rmtree(self.destination)
        os.replace(self.staging, self.destination)
        return self.destination

    def abort(self, reason: str) -> None:
        """Keep what was written, marked aborted, in the staging folder (or drop it if empty)."""
        if not self._episodes.closed:
            self._episodes.close()
        if self.count == 0 and "resumed_at" not in self.manifest:
            shutil.rmtree(self.staging, ignore_errors=True)
            return
        self.manifest.update(status="aborted", reason=reason, episodes=self.count)
        self._write_manifest()

    def _write_manifest(self) -> None:
        tmp = self.staging / "manifest.json.tmp"
        try:
            with open(tmp, "w", encoding="utf-8") as handle:
                json.dump(
                    self.manifest,
                    handle,
                    indent=2,
                    ensure_ascii=False,
                    default=str,
                    allow_nan=False,
                )
        except BaseException:
            tmp.unlink(missing_ok=True)  # never leave a half-written manifest behind
            raise
        os.replace(tmp, self.staging / "manifest.json")


def _status_of(staging: Path) -> str:
    try:
        manifest = json.loads((staging / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return "no readable manifest"
    return f"status {manifest.get('status')!r}, {manifest.get('episodes', 0)} episodes"


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def find_unfinished(run: Path) -> tuple[Path, dict[str, Any], list[dict[str, Any]]]:
    """The staging folder of an unfinished run, its manifest and the records it holds.

    ``run`` may be the run's final path (``runs/NAME``) or its staging folder
    (``runs/.NAME.partial``).
    """
    run = Path(run)
    staging = run
    if not run.name.endswith(".partial"):
        staging = run.parent / f".{run.name}.partial"
    if not staging.is_dir():
        if run.is_dir() and (run / "manifest.json").is_file():
            raise ArenaError(
                f"Run {str(run)!r} is complete; there is nothing to resume.",
                "start a new run with another --run-name.",
            )
        raise ArenaError(
            f"No unfinished run at {str(run)!r} (looked for {str(staging)!r}).",
            "pass the run folder `arena play` reported as aborted, e.g. --resume runs/NAME.",
        )
    try:
        manifest = json.loads((staging / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ArenaError(
            f"The unfinished run {str(staging)!r} has no readable manifest.",
            "it cannot be resumed; delete it and start again.",
        ) from exc
    if manifest.get("status") == "complete":
        raise ArenaError(f"The run in {str(staging)!r} says it is complete.", "nothing to resume.")
    records: list[dict[str, Any]] = []
    episodes = staging / "episodes.jsonl"
    if episodes.exists():
        with episodes.open(encoding="utf-8") as handle:
            for line in handle:
                if not line.endswith("\n"):
                    break  # a line cut off by a kill: replayed
                records.append(json.loads(line))
    return staging, manifest, records
