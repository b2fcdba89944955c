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
        if self.count == 0:
            shutil.rmtree(self.staging, ignore_errors=True)
            return
        self.manifest.update(status="aborted", reason=reason, episodes=self.count)
        self._write_manifest()

    def _write_manifest(self) -> None:
        tmp = self.staging / "manifest.json.tmp"
        with open(tmp, "w", encoding="utf-8") as handle:
            json.dump(
                self.manifest, handle, indent=2, ensure_ascii=False, default=str, allow_nan=False
            )
        os.replace(tmp, self.staging / "manifest.json")


def _status_of(staging: Path) -> str:
    try:
        manifest = json.loads((staging / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return "no readable manifest"
    return f"status {manifest.get('status')!r}, {manifest.get('episodes', 0)} episodes"


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
