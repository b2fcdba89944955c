"""The ``arena ds run`` folder, written atomically.

Layout (``docs/ds.md``): ``manifest.json`` (kind ``"ds_run"``, the config, package
versions), ``metrics.csv`` (per-step gradient norms per component and the policy's
``p, a, b``), ``results.json`` (everything the report shows), ``claim_records/ID.jsonl``
(one file per DS claim the run can feed, in the claim's own record schema, so
``arena theory check --run DIR`` gives verdicts). The report (``report.md`` and
figures) is added afterwards by ``analysis.ds_report``.

Why staged: a run killed half-way must not look like a finished one, so the folder is
built as ``.NAME.partial`` beside the destination and moved into place by one
``os.replace``.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
import os
import shutil
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from arena.runs import package_versions
from envs.errors import ArenaError

KIND = "ds_run"
CLAIM_RECORDS_DIR = "claim_records"


def plain(value: Any) -> Any:
    """JSON-ready data: numpy scalars and arrays to Python, NaN and inf to ``None``."""
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return plain(value.tolist())
    if isinstance(value, np.generic):
        return plain(value.item())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def prepare(destination: Path, overwrite: bool) -> Path:
    """The staging folder for ``destination`` (checked before any training starts)."""
    if destination.exists() and not overwrite:
        raise ArenaError(
            f"Run folder {str(destination)!r} already exists.",
            "pass a new --out, or --overwrite to replace it.",
        )
    staging = destination.parent / f".{destination.name}.partial"
    if staging.exists():
        shutil.rmtree(staging)
    try:
        staging.mkdir(parents=True)
    except OSError as exc:
        raise ArenaError(
            f"Cannot create {str(staging)!r}: {exc.strerror}.",
            "pass an --out under a writable directory.",
        ) from exc
    return staging


def write_run(
    staging: Path,
    destination: Path,
    *,
    config: Mapping[str, Any],
    results: Mapping[str, Any],
    metrics: Sequence[Mapping[str, Any]],
    claim_records: Mapping[str, Sequence[Mapping[str, Any]]],
    started_at: str,
) -> Path:
    """Write every file into ``staging`` and move it to ``destination``."""
    manifest = {
        "kind": KIND,
        "status": "complete",
        "config": plain(config),
        "versions": package_versions(),
        "command": sys.argv,
        "started_at": started_at,
        "finished_at": _now(),
        "claims_fed": sorted(claim_records),
    }
    (staging / "results.json").write_text(json.dumps(plain(results), indent=1), encoding="utf-8")
    if metrics:
        columns = list(dict.fromkeys(k for row in metrics for k in row))
        with (staging / "metrics.csv").open("w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=columns)
            writer.writeheader()
            for row in metrics:
                writer.writerow({k: _cell(row.get(k)) for k in columns})
    folder = staging / CLAIM_RECORDS_DIR
    folder.mkdir(exist_ok=True)
    for claim_id, records in claim_records.items():
        lines = [json.dumps(plain(r)) for r in records]
        (folder / f"{claim_id}.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (staging / "manifest.json").write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    if destination.exists():
        shutil.rmtree(destination)
    os.replace(staging, destination)
    return destination


def _cell(value: Any) -> Any:
    if isinstance(value, (float, np.floating)):
        return "" if not math.isfinite(float(value)) else f"{float(value):.6g}"
    return value


def now() -> str:
    return _now()
