"""What kind of run folder a path is, for the run folders ``arena report`` does not render.

Why: ``arena report`` renders play, tournament and DS runs. Pointed at a MAGIC or RAPO
training run, a RAPO sweep or a KALE run it used to say "is not a finished play run",
which sends the user looking for a broken play run. Each of those folders names its
own kind (``run.json``'s ``recipe``, ``manifest.json``'s ``kind``, ``kale.json``), so
the refusal can name the kind and where that kind's results are.

Reads only the small JSON files; imports neither ``arena`` nor ``theory``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from envs.errors import ArenaError

__all__ = ["OtherRunKind", "detect_other_run_kind", "refuse_other_run_kind"]


@dataclass(frozen=True)
class OtherRunKind:
    """A run kind with results of its own: its name, where they are, how to read them."""

    name: str
    results: str
    fix: str


def _json(path: Path) -> dict[str, Any] | None:
    """The file's JSON object, or ``None`` when it is missing or unreadable."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _training_kind(run_dir: Path, recipe: object) -> OtherRunKind | None:
    """A ``run.json`` folder of ``arena train magic`` or ``arena train rapo``."""
    if recipe == "magic":
        return OtherRunKind(
            "MAGIC training run (`arena train magic`)",
            f"its per-step rewards and ASR are in {run_dir / 'log.csv'} and its checkpoints "
            "in attacker/phase-N and defender/phase-N",
            f"read log.csv, or measure a checkpoint with `arena play attack_defense "
            f"-d hf:{run_dir}/defender/phase-N` and `arena report` that play run.",
        )
    if recipe == "rapo":
        return OtherRunKind(
            "RAPO training run (`arena train rapo`)",
            f"its per-step losses and rewards are in {run_dir / 'log.csv'} and its checkpoints "
            "in stage-1/ and stage-2/",
            f"read log.csv, or measure the model with `arena sweep rapo --model "
            f"hf:{run_dir}/stage-2 --out SWEEP` and `arena theory check --run SWEEP`.",
        )
    return None


def detect_other_run_kind(run_dir: Path) -> OtherRunKind | None:
    """The kind of a MAGIC/RAPO training run, RAPO sweep or KALE run folder, else ``None``."""
    run_dir = Path(run_dir)
    run = _json(run_dir / "run.json")
    if run is not None:
        kind = _training_kind(run_dir, run.get("recipe"))
        if kind is not None:
            return kind
    manifest = _json(run_dir / "manifest.json")
    if manifest is not None and manifest.get("kind") == "rapo_sweep":
        return OtherRunKind(
            "RAPO sweep (`arena sweep rapo`)",
            f"its refusal rates per (k, t) are in {run_dir / 'manifest.json'} ('rates') and "
            "its trials in records.jsonl",
            f"`arena theory check --run {run_dir}` gives the RAPO claims' verdicts on it.",
        )
    kale = _json(run_dir / "kale.json")
    if kale is not None and kale.get("kind", "kale") == "kale":
        return OtherRunKind(
            "KALE run (`arena kale train`)",
            "its results table (SFT vs KA accuracy) and report.md are written by `arena kale eval`",
            f"run `arena kale eval {run_dir}`, then `arena theory check --run {run_dir}`.",
        )
    return None


def refuse_other_run_kind(run_dir: Path) -> None:
    """Raise the one-line error naming the kind of ``run_dir`` if it has one of its own."""
    kind = detect_other_run_kind(run_dir)
    if kind is not None:
        raise ArenaError(
            f"{str(run_dir)!r} is a {kind.name}, which `arena report` does not render; "
            f"{kind.results}.",
            kind.fix,
        )
