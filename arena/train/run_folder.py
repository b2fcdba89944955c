"""What every training recipe's run folder shares: its manifest and a quiet trainer.

A recipe (MAGIC, RAPO) keeps ``OUT/run.json``: the recipe's name, its settings and what
is done. Re-running on the same folder resumes only if the settings are the same (a
folder that was moved or copied still resumes: its place is not a setting), and a
folder that holds something else is refused rather than overwritten. Writes are atomic
(temp file + rename), so a kill never leaves half a manifest.
"""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path
from typing import Any

from envs.errors import ArenaError

MANIFEST = "run.json"


def open_manifest(out: Path, recipe: str, config: dict[str, Any]) -> dict[str, Any] | None:
    """The manifest of the run in ``out`` to resume, or ``None`` for a fresh run.

    Raises :class:`ArenaError` when ``out`` holds another recipe's run, the same recipe
    with other settings (naming them), an unreadable manifest, or unrelated files.
    """
    path = out / MANIFEST
    if not path.exists():
        if out.exists() and (not out.is_dir() or any(out.iterdir())):
            raise ArenaError(
                f"{out} exists, is not an empty folder and holds no {MANIFEST}.",
                "pass a new or empty --out.",
            )
        return None
    try:
        manifest = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise ArenaError(
            f"{path} is not valid JSON, so the run cannot be resumed.",
            "delete the run folder or pass another --out.",
        ) from exc
    saved = {**manifest.get("config", {}), "out": config.get("out")}
    if "out" not in config:
        saved.pop("out")
    if manifest.get("recipe") != recipe or saved != config:
        changed = sorted(k for k in config if saved.get(k) != config[k])
        raise ArenaError(
            f"{out} holds another run (different settings: {', '.join(changed) or 'recipe'}).",
            "re-run with the same settings to resume, or pass a new --out.",
        )
    manifest["config"] = config
    return dict(manifest)


def write_manifest(out: Path, manifest: dict[str, Any]) -> None:
    """Write ``OUT/run.json`` atomically."""
    path = out / MANIFEST
    tmp = path.with_name(MANIFEST + ".tmp")
    tmp.write_text(json.dumps(manifest, indent=2, default=str))
    os.replace(tmp, path)


def drop_printer(trainer: Any) -> None:
    """``disable_tqdm`` makes the Trainer print every log dict; log.csv has them."""
    from transformers.trainer_callback import PrinterCallback

    trainer.remove_callback(PrinterCallback)


def quiet_libraries() -> None:
    """Our progress bar and log.csv replace datasets'/transformers' bars and prints."""
    import datasets
    import transformers

    # Passing gradient_checkpointing=False (the CPU setting) trips a rename warning.
    warnings.filterwarnings(
        "ignore", message=".*checkpointing.* is deprecated", category=FutureWarning
    )
    datasets.disable_progress_bars()
    transformers.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
