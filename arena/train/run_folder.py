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
import shutil
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
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


@contextmanager
def undo_if_untrained(out: Path, manifest: str, trained: Callable[[], bool]) -> Iterator[None]:
    """Remove what this command wrote into ``out`` if it stops before training anything.

    A fresh run writes its manifest early; if it then fails its own checks (a bad seed
    file, a model that is no model, targets longer than the token cap) or is interrupted
    before a checkpoint exists, that manifest would make the corrected command look like
    "other settings" and be refused. So on any exception, a run that started with no
    ``manifest`` in ``out`` and has ``trained()`` false gets back the folder as it found
    it: only entries that were not there before are removed (the KALE data file may live
    in ``out``), and a folder this command created is removed whole. A folder that held a
    manifest before is never touched.
    """
    fresh = not (out / manifest).exists()
    existed = out.exists()
    before = {p.name for p in out.iterdir()} if out.is_dir() else set()
    try:
        yield
    except BaseException:
        if fresh and not trained():
            _remove_new_entries(out, existed, before)
        raise


def _remove_new_entries(out: Path, existed: bool, before: set[str]) -> None:
    if not existed:
        shutil.rmtree(out, ignore_errors=True)
        return
    if not out.is_dir():  # it was a file: open_manifest refused it, nothing to undo
        return
    for entry in out.iterdir():
        if entry.name in before:
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)


@contextmanager
def kept_on_interrupt(out: Path, manifest: str) -> Iterator[None]:
    """On Ctrl-C/SIGTERM, tell the user their progress is kept when ``out`` holds a run.

    The CLI's generic interrupt line says "nothing was written", which is false for a
    training folder with checkpoints. When ``out`` still holds ``manifest`` after the
    run unwound (:func:`undo_if_untrained` removes it when nothing was trained), the
    interrupt carries a message saying the folder resumes; otherwise it stays generic.
    """
    from arena.runs import RunInterrupted

    try:
        yield
    except RunInterrupted as exc:
        if exc.message is None and (out / manifest).is_file():
            exc.message = (
                f"progress so far is kept in {out}. Fix: re-run the same command to resume."
            )
        raise


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
