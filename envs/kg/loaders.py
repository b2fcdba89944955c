"""Read knowledge graphs from triple files (TSV, CSV, JSONL) with optional label files.

Triples: columns/keys ``head``, ``relation``, ``tail`` (TSV/CSV need that header row;
extra columns ``head_label``, ``relation_label``, ``tail_label`` are read if present).
Ids may be Wikidata-style (``Q42``, ``P19``); labels then come from the label columns
or from a labels file (TSV/CSV/JSONL with ``id``, ``label`` and optional ``aliases``,
``|``-separated in TSV/CSV, a list in JSONL). Every relation gets an inverse edge
(``inverse_prefix + relation``, e.g. ``~P19``) unless ``add_inverse=False``: the ALT
heuristic's admissibility and the navigator's backtracking both assume symmetric reach.

A malformed row stops with one :class:`~envs.errors.DatasetError` naming the file,
the row (1-based, the header is row 1) and the column, before anything is built. A
header (or, in JSONL, a first record) without the required columns stops earlier with
"header must be head,relation,tail; found ...": otherwise a file with another schema
(e.g. ``subject,predicate,object``) would be blamed on its first data row.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from envs.errors import DatasetError
from envs.kg.graph import KnowledgeGraph

TRIPLE_COLUMNS = ("head", "relation", "tail")
LABEL_COLUMNS = ("id", "label")
SUFFIXES = (".tsv", ".csv", ".jsonl")


def _error(path: Path, row: int, column: str, problem: str) -> DatasetError:
    return DatasetError(
        f"{path}: row {row}, column {column!r}: {problem}.",
        "fix that row (each row needs a non-empty head, relation and tail).",
    )


def _header_error(path: Path, required: tuple[str, ...], found: list[str]) -> DatasetError:
    what = "header" if path.suffix.lower() != ".jsonl" else "the first record's keys"
    return DatasetError(
        f"{path}: {what} must be {','.join(required)}; found {','.join(found) or 'nothing'}.",
        f"rename the columns to {', '.join(required)} (extra columns are allowed).",
    )


def _rows(path: Path, required: tuple[str, ...]) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(row number, record)`` for each data row of a TSV/CSV/JSONL file.

    A TSV/CSV header lacking one of the ``required`` columns, or a first JSONL record
    with none of them, is a header error (module docstring); a later record lacking a
    key stays a row error, since JSONL records need not share their keys.
    """
    if not path.is_file():
        raise DatasetError(f"{path}: no such file.", "pass an existing triple file.")
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise DatasetError(f"{path}: unknown format {suffix!r}.", f"use {', '.join(SUFFIXES)}.")
    # utf-8-sig: a byte-order mark (Excel's CSV export) must not become part of "head".
    with path.open(encoding="utf-8-sig", newline="") as handle:
        if suffix == ".jsonl":
            first_checked = False
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise _error(path, number, "*", f"not valid JSON ({exc.msg})") from exc
                if not isinstance(record, dict):
                    raise _error(path, number, "*", "a JSON object is needed")
                if not first_checked and not any(key in record for key in required):
                    raise _header_error(path, required, [str(key) for key in record])
                first_checked = True
                yield number, record
            return
        reader = csv.reader(handle, delimiter="\t" if suffix == ".tsv" else ",")
        header = next(reader, None)
        if header is None:
            raise DatasetError(f"{path}: the file is empty.", "add a header row and triples.")
        header = [h.strip() for h in header]
        if any(column not in header for column in required):
            raise _header_error(path, required, header)
        for number, cells in enumerate(reader, start=2):
            if not any(c.strip() for c in cells):
                continue
            if len(cells) != len(header):
                column = header[len(cells)] if len(cells) < len(header) else "(extra)"
                raise _error(path, number, column, f"{len(cells)} cells for {len(header)} columns")
            yield number, dict(zip(header, cells, strict=True))


def _text(path: Path, row: int, record: dict[str, Any], column: str, required: bool) -> str:
    value = record.get(column)
    if value is None:
        if required:
            raise _error(path, row, column, "missing")
        return ""
    if not isinstance(value, str):
        raise _error(path, row, column, f"expected text, got {type(value).__name__}")
    value = value.strip()
    if required and not value:
        raise _error(path, row, column, "empty")
    return value


def load_labels(path: str | Path) -> dict[str, tuple[str, tuple[str, ...]]]:
    """``id -> (label, aliases)`` from a labels file."""
    file = Path(path)
    out: dict[str, tuple[str, tuple[str, ...]]] = {}
    for row, record in _rows(file, LABEL_COLUMNS):
        eid = _text(file, row, record, "id", True)
        label = _text(file, row, record, "label", True)
        raw = record.get("aliases") or ()
        if isinstance(raw, str):
            aliases = tuple(a.strip() for a in raw.split("|") if a.strip())
        elif isinstance(raw, list) and all(isinstance(a, str) for a in raw):
            aliases = tuple(raw)
        else:
            raise _error(file, row, "aliases", "expected a list of strings or a|b|c text")
        out[eid] = (label, aliases)
    return out


def load_triples(
    path: str | Path,
    *,
    labels: str | Path | None = None,
    add_inverse: bool = True,
    inverse_prefix: str = "~",
    name: str = "",
) -> KnowledgeGraph:
    """A :class:`KnowledgeGraph` from a triple file (see the module docstring)."""
    file = Path(path)
    triples: list[tuple[str, str, str]] = []
    entity_labels: dict[str, str] = {}
    relation_labels: dict[str, str] = {}
    for row, record in _rows(file, TRIPLE_COLUMNS):
        head, relation, tail = (_text(file, row, record, c, True) for c in TRIPLE_COLUMNS)
        for column, key, table in (
            ("head_label", head, entity_labels),
            ("tail_label", tail, entity_labels),
            ("relation_label", relation, relation_labels),
        ):
            label = _text(file, row, record, column, False)
            if label:
                table[key] = label
        triples.append((head, relation, tail))
    kg = KnowledgeGraph(name=name or file.stem)
    label_file = load_labels(labels) if labels is not None else {}
    for rel in sorted({r for _, r, _ in triples}):
        label = relation_labels.get(rel) or (label_file.get(rel) or (rel, ()))[0]
        inverse = f"{inverse_prefix}{rel}" if add_inverse else None
        kg.add_relation(rel, label, inverse, f"inverse of {label}")
    for head, _, tail in triples:
        for eid in (head, tail):
            if eid not in kg.entities:
                label, aliases = label_file.get(eid, (entity_labels.get(eid, eid), ()))
                kg.add_entity(eid, label, aliases)
    for triple in triples:
        kg.add_triple(*triple)
    return kg
