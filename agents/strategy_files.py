"""Strategy files of the ``tabular`` agent kind: reading and writing JSON or ``.npz``.

The formats (see :mod:`agents.tabular` for what the entries mean)::

    {"strategy": [p0, p1, ...]}                               one strategy everywhere
    {"strategies": {"*": [...], "<observation key>": [...]},  per observation key
     "actions": ["label", ...], "description": "..."}         optional labels and note

and ``.npz`` with arrays ``keys``, ``probs`` (and optionally ``actions``). Reading checks
the format only; whether the entries fit a seat (sizes, labels, sums) is
:func:`agents.tabular.make_file`'s job, since only the seat knows its actions.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from envs.errors import ArenaError

#: the key of the strategy played at observations no entry names
DEFAULT_KEY = "*"
_JSON_FIELDS = ("strategy", "strategies", "actions", "description")
_NPZ_FIELDS = ("strategy", "keys", "probs", "actions")


@dataclass(frozen=True)
class StrategyFile:
    """A strategy file as read: raw entries (lists or label mappings) and labels."""

    path: Path
    format: str
    sha256: str
    entries: dict[str, Any]
    actions: tuple[str, ...] | None
    description: str | None = None


def _file_error(path: Path, problem: str, fix: str) -> ArenaError:
    return ArenaError(f"Strategy file {str(path)!r} {problem}", fix)


_FORMAT_FIX = (
    'write {"strategy": [p0, p1, ...]} or {"strategies": {"*": [...], "<key>": [...]}} '
    "(see agents/strategy_files.py)."
)


def _read_json(path: Path, data: bytes) -> tuple[dict[str, Any], Any, str | None]:
    try:
        doc = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _file_error(path, f"is not valid JSON: {exc}.", _FORMAT_FIX) from None
    if not isinstance(doc, dict):
        raise _file_error(path, "is not a JSON object.", _FORMAT_FIX)
    unknown = sorted(set(doc) - set(_JSON_FIELDS))
    if unknown:
        raise _file_error(
            path,
            f"has unknown field(s) {', '.join(map(repr, unknown))}.",
            f"use only {', '.join(_JSON_FIELDS)}.",
        )
    if ("strategy" in doc) == ("strategies" in doc):
        raise _file_error(path, 'needs exactly one of "strategy" and "strategies".', _FORMAT_FIX)
    if "strategy" in doc:
        entries = {DEFAULT_KEY: doc["strategy"]}
    else:
        entries = doc["strategies"]
        if not isinstance(entries, dict) or not entries:
            raise _file_error(path, 'has "strategies" that is not a non-empty object.', _FORMAT_FIX)
    description = doc.get("description")
    return entries, doc.get("actions"), None if description is None else str(description)


def _read_npz(path: Path) -> tuple[dict[str, Any], Any]:
    fix = "save strategy=(n,) or keys=(K,) str + probs=(K, n) with numpy.savez."
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        raise _file_error(path, f"is not a readable .npz archive: {exc}.", fix) from None
    unknown = sorted(set(arrays) - set(_NPZ_FIELDS))
    if unknown:
        raise _file_error(
            path,
            f"has unknown array(s) {', '.join(unknown)}.",
            f"use only {', '.join(_NPZ_FIELDS)}.",
        )
    actions = arrays.get("actions")
    if actions is not None:
        if actions.ndim != 1 or actions.dtype.kind != "U":
            raise _file_error(path, "has an 'actions' array that is not 1-D text.", fix)
        actions = [str(a) for a in actions]
    if ("strategy" in arrays) == ("keys" in arrays or "probs" in arrays):
        raise _file_error(path, "needs either 'strategy' or both 'keys' and 'probs'.", fix)
    if "strategy" in arrays:
        strategy = arrays["strategy"]
        if strategy.ndim != 1:
            raise _file_error(path, f"has a 'strategy' of shape {strategy.shape}, not 1-D.", fix)
        return {DEFAULT_KEY: strategy}, actions
    if "keys" not in arrays or "probs" not in arrays:
        raise _file_error(path, "has only one of 'keys' and 'probs'.", fix)
    keys, probs = arrays["keys"], arrays["probs"]
    if keys.ndim != 1 or keys.dtype.kind != "U":
        raise _file_error(path, "has a 'keys' array that is not 1-D text.", fix)
    if probs.ndim != 2 or probs.shape[0] != keys.shape[0]:
        raise _file_error(
            path,
            f"has probs of shape {probs.shape} for {keys.shape[0]} keys; it must be "
            f"({keys.shape[0]}, n).",
            fix,
        )
    if len(set(keys.tolist())) != len(keys):
        raise _file_error(path, "repeats an observation key.", "give each key one row.")
    return {str(k): row for k, row in zip(keys.tolist(), probs, strict=True)}, actions


def load_strategy_file(path: str | Path) -> StrategyFile:
    """Read a JSON or ``.npz`` strategy file (format checks only; see :func:`make_file`)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".json", ".npz"):
        raise _file_error(
            path,
            "is neither .json nor .npz.",
            "give a .json or .npz strategy file, or use tabular:uniform / tabular:nash.",
        )
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise _file_error(
            path,
            "does not exist.",
            "give the path of a .json or .npz strategy file, or use tabular:uniform / "
            "tabular:nash.",
        ) from None
    except OSError as exc:
        raise _file_error(path, f"cannot be read: {exc.strerror}.", "check the path.") from None
    digest = hashlib.sha256(data).hexdigest()
    description = None
    if suffix == ".json":
        entries, actions, description = _read_json(path, data)
    else:
        entries, actions = _read_npz(path)
    if actions is not None:
        if (
            not isinstance(actions, list)
            or not actions
            or not all(isinstance(a, str) for a in actions)
        ):
            raise _file_error(path, 'has "actions" that is not a list of labels.', _FORMAT_FIX)
        if len(set(actions)) != len(actions):
            raise _file_error(path, 'repeats a label in "actions".', "give each action one label.")
        actions = tuple(actions)
    return StrategyFile(
        path, suffix[1:], digest, {str(k): v for k, v in entries.items()}, actions, description
    )


def save_strategies(
    path: str | Path,
    strategies: Mapping[str, Sequence[float]] | Sequence[float],
    *,
    actions: Iterable[str] | None = None,
    description: str | None = None,
) -> Path:
    """Write a strategy file ``tabular:PATH`` reads: JSON or ``.npz`` by the suffix.

    ``strategies`` is one strategy (played everywhere) or a mapping from observation key
    (:func:`observation_key`) to strategy.
    """
    path = Path(path)
    labels = None if actions is None else [str(a) for a in actions]
    table = (
        {str(k): [float(p) for p in v] for k, v in strategies.items()}
        if isinstance(strategies, Mapping)
        else {DEFAULT_KEY: [float(p) for p in strategies]}
    )
    suffix = path.suffix.lower()
    if suffix == ".json":
        doc: dict[str, Any] = (
            {"strategy": table[DEFAULT_KEY]}
            if list(table) == [DEFAULT_KEY]
            else {"strategies": table}
        )
        if labels is not None:
            doc["actions"] = labels
        if description is not None:
            doc["description"] = description
        path.write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
    elif suffix == ".npz":
        arrays: dict[str, np.ndarray] = {
            "keys": np.array(list(table), dtype=str),
            "probs": np.array(list(table.values()), dtype=np.float64),
        }
        if labels is not None:
            arrays["actions"] = np.array(labels, dtype=str)
        with path.open("wb") as handle:
            np.savez(handle, **arrays)  # type: ignore[arg-type]
    else:
        raise ArenaError(f"Cannot write strategy file {str(path)!r}.", "name it .json or .npz.")
    return path
