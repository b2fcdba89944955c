"""Seed prompts for the attacker-defender game: the shipped set and loaders for real formats.

Why a built-in set: every example, test and benchmark must run offline, so the repository
ships seeds (``seeds/harmful.jsonl``, ``seeds/benign.jsonl``, rebuilt by
``seeds/build_seeds.py``). The harmful ones are *non-actionable placeholders*: a request
template around a redacted goal such as ``[REDACTED weapons goal 3]``, so the game's
plumbing (labels, categories, judges, encodings) is exercised without shipping harmful
content. The marker word REDACTED never appears in a benign seed; the rule judge keys on it.
The benign ones mix ordinary requests with XSTest-style prompts that only *look* risky
("How do I kill a Python process?"), which is what over-refusal is measured on.

Researchers bring their own files; each maps to :class:`Seed`:

==================  =========================================  ======================
format              columns / keys used                        label
==================  =========================================  ======================
``arena``           id, prompt, label, [category, source,      the ``label`` column
                    vanilla] (JSONL, or CSV/TSV)
``harmbench``       Behavior, [ContextString, SemanticCategory, harmful
                    FunctionalCategory, BehaviorID]
``jailbreakbench``  Goal, [Index, Category, Source, Behavior]   harmful (benign for a
                                                               file named ``*benign*``)
``wildjailbreak``   data_type, vanilla and/or adversarial       from ``data_type``
                    (TSV, CSV or JSONL)
``advbench``        goal, [target]                             harmful
==================  =========================================  ======================

Column names match case-insensitively. A WildJailbreak ``adversarial_*`` row uses the
adversarial text as the prompt and keeps the vanilla one in :attr:`Seed.vanilla`. A
HarmBench contextual behaviour gets its context prepended as HarmBench does
(``context + "\\n\\n---\\n\\n" + behavior``). ``format="auto"`` decides from the file's
extension (``.csv``, ``.tsv``, ``.jsonl``/``.json``) and its columns.

Every problem raises one :class:`~envs.errors.DatasetError` naming the file, the row as
a text editor shows it (the header is row 1; for a multi-line quoted CSV field, the line
the record starts on) and the column.
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, TextIO

from envs.errors import DatasetError

Label = Literal["harmful", "benign"]
LABELS: tuple[str, ...] = ("harmful", "benign")
FORMATS: tuple[str, ...] = ("arena", "harmbench", "jailbreakbench", "wildjailbreak", "advbench")
SEEDS_DIR = Path(__file__).with_name("seeds")
BUILTIN_FILES: tuple[str, ...] = ("harmful.jsonl", "benign.jsonl")
# The named parts of a pool spec that are shipped data (not files): one per shipped file
# plus both, so own harmful data can be paired with only the shipped benign seeds.
BUILTIN_SOURCES: tuple[str, ...] = ("builtin", "builtin-harmful", "builtin-benign")
PART_OPTIONS: dict[str, tuple[str, ...]] = {"format": FORMATS, "label": LABELS}
UNSPECIFIED = "unspecified"

_WJB_TYPES: dict[str, tuple[Label, str]] = {
    # data_type -> (label, column holding the prompt)
    "vanilla_harmful": ("harmful", "vanilla"),
    "vanilla_benign": ("benign", "vanilla"),
    "adversarial_harmful": ("harmful", "adversarial"),
    "adversarial_benign": ("benign", "adversarial"),
}
_EXTENSIONS = {".csv": "csv", ".tsv": "tsv", ".jsonl": "json", ".json": "json"}
_FIELD_LIMIT = 64 * 1024 * 1024  # WildJailbreak completions exceed csv's 128 KiB default


@dataclass(frozen=True)
class Seed:
    """One seed prompt ``x``.

    ``vanilla`` is the plain request behind an adversarial prompt (WildJailbreak
    ``adversarial_*`` rows); it is empty when ``prompt`` is itself the plain request.
    """

    id: str
    prompt: str
    label: Label
    category: str
    source: str
    vanilla: str = ""

    def __post_init__(self) -> None:
        if self.label not in LABELS:
            raise DatasetError(
                f"Seed {self.id!r} has label {self.label!r}.", "use 'harmful' or 'benign'."
            )
        if not self.prompt.strip():
            raise DatasetError(f"Seed {self.id!r} has an empty prompt.", "give it some text.")

    @property
    def is_harmful(self) -> bool:
        return self.label == "harmful"

    def to_dict(self) -> dict[str, str]:
        data = asdict(self)
        if not self.vanilla:
            del data["vanilla"]
        return data


@dataclass(frozen=True)
class SeedPool:
    """The seeds an environment draws from, split by label (order is kept: sampling by
    index must be reproducible, so the content hash depends on it)."""

    harmful: tuple[Seed, ...]
    benign: tuple[Seed, ...]

    @classmethod
    def from_seeds(cls, seeds: Iterable[Seed]) -> SeedPool:
        """Split ``seeds`` by label; two seeds with one id are an error (records name seeds
        by id, so an id must identify one prompt)."""
        harmful: list[Seed] = []
        benign: list[Seed] = []
        seen: dict[str, Seed] = {}
        for seed in seeds:
            other = seen.get(seed.id)
            if other is not None:
                raise DatasetError(
                    f"Two seeds share the id {seed.id!r} (sources {other.source!r} and "
                    f"{seed.source!r}).",
                    "give every seed a unique id, or do not load the same file twice.",
                )
            seen[seed.id] = seed
            (harmful if seed.is_harmful else benign).append(seed)
        return cls(tuple(harmful), tuple(benign))

    def __len__(self) -> int:
        return len(self.harmful) + len(self.benign)

    def all(self) -> tuple[Seed, ...]:
        return self.harmful + self.benign

    def sha256(self) -> str:
        """Hash of the content, in order: two runs used the same seeds iff this matches."""
        digest = hashlib.sha256()
        for seed in self.all():
            digest.update(json.dumps(seed.to_dict(), sort_keys=True).encode("utf-8"))
            digest.update(b"\n")
        return digest.hexdigest()

    def describe(self) -> dict[str, Any]:
        """What a run manifest records about the pool."""
        return {
            "n_harmful": len(self.harmful),
            "n_benign": len(self.benign),
            "sources": dict(sorted(Counter(s.source for s in self.all()).items())),
            "categories": dict(sorted(Counter(s.category for s in self.all()).items())),
            "sha256": self.sha256(),
        }


# ---------------------------------------------------------------------------- public API
@lru_cache(maxsize=1)
def load_builtin_seeds() -> SeedPool:
    """The shipped seed set (cached: the pool is immutable)."""
    seeds: list[Seed] = []
    for name in BUILTIN_FILES:
        seeds.extend(load_seeds(SEEDS_DIR / name, format="arena"))
    return SeedPool.from_seeds(seeds)


@dataclass(frozen=True)
class PoolPart:
    """One comma-separated part of a pool spec, parsed but not read.

    Parsing apart from reading lets a config reject a malformed spec before any run
    folder is written, and lets callers ask "is this built-in data?" without I/O.
    """

    text: str
    source: str  # a name from BUILTIN_SOURCES, or a file path
    format: str = "auto"
    label: Label | None = None

    @property
    def is_builtin(self) -> bool:
        return self.source in BUILTIN_SOURCES

    def load(self) -> list[Seed]:
        if self.source == "builtin":
            return list(load_builtin_seeds().all())
        if self.source == "builtin-harmful":
            return list(load_builtin_seeds().harmful)
        if self.source == "builtin-benign":
            return list(load_builtin_seeds().benign)
        if not Path(self.source).exists() and not Path(self.source).suffix:
            raise DatasetError(
                f"Seed spec part {self.text!r} is neither a built-in source nor a file.",
                f"use {', '.join(BUILTIN_SOURCES)} or a data file path (see docs/seeds.md).",
            )
        return load_seeds(self.source, self.format, label=self.label)


def parse_pool_spec(spec: str) -> list[PoolPart]:
    """The parts of a pool spec (syntax only; no file is opened but for an existence test).

    A part is ``builtin``, ``builtin-harmful``, ``builtin-benign`` or a file path; a path
    may carry options ``PATH?format=NAME&label=harmful|benign`` and, as before, a
    ``harmful:`` / ``benign:`` label prefix. A path that exists as written is taken
    literally, so a file whose name contains ``?`` still loads.
    """
    parts = [_parse_part(item.strip()) for item in spec.split(",") if item.strip()]
    if not parts:
        raise DatasetError(
            f"Empty seed spec {spec!r}.",
            f"use {' or '.join(BUILTIN_SOURCES)}, or a comma-separated list of files.",
        )
    return parts


def is_builtin_spec(spec: str) -> bool:
    """Whether every part of ``spec`` is shipped data (lenient: never raises).

    Used for warnings (the rule judge only knows the shipped harm marker), so a part
    with options, even a malformed one, counts as not built-in.
    """
    return all(item.strip() in BUILTIN_SOURCES for item in spec.split(",") if item.strip())


def load_pool(spec: str) -> SeedPool:
    """A pool from a spec: built-in sources, file paths, or both, comma-separated.

    ``"data/advbench.csv,builtin-benign"`` pairs own harmful data with the shipped benign
    seeds; ``"data/x.csv?format=advbench&label=benign"`` names a file's format and label
    (the ``harmful:`` / ``benign:`` prefix also sets the label). See docs/seeds.md.
    """
    seeds: list[Seed] = []
    for part in parse_pool_spec(spec):
        seeds.extend(part.load())
    pool = SeedPool.from_seeds(seeds)
    if not len(pool):
        raise DatasetError(f"The seed spec {spec!r} gave no seeds.", "check the files' contents.")
    return pool


def _parse_part(item: str) -> PoolPart:
    if item in BUILTIN_SOURCES:
        return PoolPart(item, item)
    path, prefix_label = item, None
    for prefix in LABELS:
        if path.startswith(prefix + ":"):
            path, prefix_label = path[len(prefix) + 1 :], _as_label(prefix)
            break
    options: dict[str, str] = {}
    if "?" in path and not Path(path).exists():
        path, _, query = path.partition("?")
        options = _part_options(item, query)
    if path in BUILTIN_SOURCES:
        raise DatasetError(
            f"Seed spec part {item!r}: {path} takes no label or format.",
            f"write {path} alone; harmful:/benign: and ?format=/?label= are for data files.",
        )
    if not path:
        raise DatasetError(
            f"Seed spec part {item!r} has no file.",
            "write PATH?format=NAME, e.g. data/advbench.csv?format=advbench.",
        )
    if "label" in options and prefix_label is not None:
        raise DatasetError(
            f"Seed spec part {item!r} sets the label twice.",
            "use either the harmful:/benign: prefix or ?label=, not both.",
        )
    label = _as_label(options["label"]) if "label" in options else prefix_label
    return PoolPart(item, path, format=options.get("format", "auto"), label=label)


def _as_label(text: str) -> Label:
    return "harmful" if text == "harmful" else "benign"


def _part_options(item: str, query: str) -> dict[str, str]:
    """``format=NAME&label=L`` -> a dict; anything else is one error naming the part."""
    allowed = "; ".join(f"{key}= one of {', '.join(vals)}" for key, vals in PART_OPTIONS.items())
    options: dict[str, str] = {}
    for pair in query.split("&"):
        key, eq, value = pair.partition("=")
        key, value = key.strip().lower(), value.strip()
        if not eq or key not in PART_OPTIONS or key in options:
            problem = "repeats" if key in options else "has an unknown option"
            raise DatasetError(
                f"Seed spec part {item!r} {problem} {pair!r}.",
                f"write PATH?format=NAME&label=LABEL with {allowed}.",
            )
        if value.lower() not in PART_OPTIONS[key]:
            raise DatasetError(
                f"Seed spec part {item!r}: unknown {key} {value!r}.",
                f"use {key}= one of {', '.join(PART_OPTIONS[key])} (PATH?{key}=...).",
            )
        options[key] = value.lower()
    return options


def load_seeds(path: str | Path, format: str = "auto", *, label: Label | None = None) -> list[Seed]:
    """Read one file of seeds.

    ``label`` sets the label for formats without a label column (harmbench,
    jailbreakbench, advbench); passing it for a labelled format is an error.
    """
    path = Path(path)
    if format != "auto" and format not in FORMATS:
        raise DatasetError(
            f"Unknown seed format {format!r} for {path}.",
            f"use 'auto' or one of: {', '.join(FORMATS)}.",
        )
    if label is not None and label not in LABELS:
        raise DatasetError(f"Unknown label {label!r} for {path}.", "use 'harmful' or 'benign'.")
    _check_readable(path)
    kind = _container(path)
    table = _open_table(path, kind)
    if format == "auto":
        format = _detect(path, table.first_columns())
    if label is not None and format in ("arena", "wildjailbreak"):
        raise DatasetError(
            f"{path}: a label override was given, but the {format} format has its own labels.",
            "drop the 'harmful:'/'benign:' prefix, ?label= or the label argument for this file.",
        )
    if format == "jailbreakbench" and label is None and "benign" in path.name.lower():
        label = "benign"  # JBB ships harmful-behaviors.csv and benign-behaviors.csv
    convert = _CONVERTERS[format]
    seeds: list[Seed] = []
    ids: dict[str, int] = {}
    for record in table.records(_REQUIRED[format]):
        seed = convert(record, label)
        if seed.id in ids:
            raise record.error(
                _ID_COLUMN.get(format),
                f"duplicate id {seed.id!r} (first on row {ids[seed.id]})",
                "give every row a unique id.",
            )
        ids[seed.id] = record.row
        seeds.append(seed)
    if not seeds:
        raise DatasetError(f"{path} has a header but no data rows.", "add at least one row.")
    return seeds


def detect_format(path: str | Path) -> str:
    """The format ``load_seeds(path, "auto")`` would use (from extension and columns)."""
    path = Path(path)
    _check_readable(path)
    kind = _container(path)
    return _detect(path, _open_table(path, kind).first_columns())


# --------------------------------------------------------------------------- reading
class _Record:
    """One data row: its 1-based row number and lower-cased column -> raw value."""

    __slots__ = ("fields", "path", "row")

    def __init__(self, path: Path, row: int, fields: dict[str, Any]) -> None:
        self.path = path
        self.row = row
        self.fields = fields

    def error(self, column: str | None, problem: str, fix: str) -> DatasetError:
        return _error(self.path, self.row, column, problem, fix)

    def get(self, column: str, *, required: bool = False) -> str:
        """The stripped text in ``column`` ('' when absent or null); required: non-empty."""
        value = self.fields.get(column.lower())
        if value is None:
            text = ""
        elif isinstance(value, str):
            text = value.strip()
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            text = str(value)
        else:
            raise self.error(
                column,
                f"expected text, got {type(value).__name__}",
                "store a string (or a number for an id) in this field.",
            )
        if required and not text:
            problem = "missing" if column.lower() not in self.fields else "empty value"
            raise self.error(column, problem, f"give every row a non-empty '{column}'.")
        return text


def _error(path: Path, row: int | None, column: str | None, problem: str, fix: str) -> DatasetError:
    where = str(path)
    if row is not None:
        where += f" row {row}"
    if column is not None:
        where += f", column '{column}'"
    return DatasetError(f"{where}: {problem}.", fix)


def _container(path: Path) -> str:
    kind = _EXTENSIONS.get(path.suffix.lower())
    if kind is None:
        raise DatasetError(
            f"{path}: unknown file type {path.suffix or '(no extension)'!r}.",
            "use a .csv, .tsv, .jsonl or .json file (the extension picks the parser).",
        )
    return kind


def _check_readable(path: Path) -> None:
    if not path.exists():
        raise DatasetError(f"{path}: no such file.", "check the path (relative to the cwd).")
    if not path.is_file():
        raise DatasetError(f"{path} is not a file.", "pass the path of a data file.")
    if path.stat().st_size == 0:
        raise DatasetError(f"{path} is empty.", "add a header and data rows.")


class _Table:
    """Lazily parsed rows of a CSV/TSV or JSON-lines/JSON-array file."""

    def __init__(self, path: Path, kind: str) -> None:
        self.path = path
        self.kind = kind

    def _open(self) -> TextIO:
        return self.path.open(encoding="utf-8-sig", newline="")

    def first_columns(self) -> set[str]:
        """Lower-cased column names of the header (or of the first JSON object)."""
        for record in self.records(()):
            return set(record.fields)
        raise DatasetError(f"{self.path} has no data rows.", "add at least one row.")

    def records(self, required: tuple[str, ...]) -> Iterator[_Record]:
        try:
            if self.kind == "json":
                yield from self._json_records(required)
            else:
                yield from self._delimited_records(required)
        except UnicodeDecodeError as exc:
            raise DatasetError(
                f"{self.path}: not UTF-8 text ({exc.reason} at byte {exc.start} of a chunk).",
                "save the file as UTF-8.",
            ) from exc

    def _delimited_records(self, required: tuple[str, ...]) -> Iterator[_Record]:
        if csv.field_size_limit() < _FIELD_LIMIT:
            csv.field_size_limit(_FIELD_LIMIT)
        delimiter = "\t" if self.kind == "tsv" else ","
        with self._open() as handle:
            reader = csv.reader(handle, delimiter=delimiter, strict=True)
            header: list[str] | None = None
            while True:
                start = reader.line_num + 1
                try:
                    cells = next(reader)
                except StopIteration:
                    break
                except csv.Error as exc:
                    raise _error(
                        self.path,
                        start,
                        None,
                        f"malformed {self.kind.upper()} ({exc})",
                        'check the quoting on this row (a quote inside a field is written "").',
                    ) from exc
                if not cells or all(not c.strip() for c in cells):
                    continue  # blank line
                if header is None:
                    header = self._header(cells, start, required)
                    continue
                if len(cells) != len(header):
                    raise _error(
                        self.path, start, None,
                        f"{len(cells)} fields, but the header has {len(header)}",
                        f"give every row exactly {len(header)} "
                        f"{'tab' if delimiter == chr(9) else 'comma'}-separated fields "
                        "(quote fields that contain the separator).",
                    )  # fmt: skip
                yield _Record(self.path, start, dict(zip(header, cells, strict=True)))
            if header is None:
                raise DatasetError(f"{self.path} is empty.", "add a header and data rows.")

    def _header(self, cells: list[str], row: int, required: tuple[str, ...]) -> list[str]:
        header = [c.strip().lower() for c in cells]
        named = [h for h in header if h]
        duplicates = sorted({h for h in named if named.count(h) > 1})
        if duplicates:
            raise _error(
                self.path, row, duplicates[0], "the header names this column twice",
                "give every column a distinct name.",
            )  # fmt: skip
        for column in required:
            if column.lower() not in header:
                raise _error(
                    self.path, row, column,
                    f"missing column (found: {', '.join(c.strip() for c in cells)})",
                    f"add a '{column}' column or name the right format "
                    f"({self.path}?format=NAME in the seed spec).",
                )  # fmt: skip
        return header

    def _json_records(self, required: tuple[str, ...]) -> Iterator[_Record]:
        with self._open() as handle:
            text_start = handle.read(1)
            while text_start and text_start.isspace():
                text_start = handle.read(1)
            if not text_start:
                raise DatasetError(f"{self.path} is empty.", "add one JSON object per line.")
            handle.seek(0)
            if text_start == "[":
                yield from self._json_array(handle, required)
                return
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    item = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise _error(
                        self.path, number, None, f"invalid JSON ({exc.msg} at column {exc.colno})",
                        "write one complete JSON object per line (JSON Lines).",
                    ) from exc  # fmt: skip
                yield self._json_record(item, number, required)

    def _json_array(self, handle: TextIO, required: tuple[str, ...]) -> Iterator[_Record]:
        try:
            items = json.load(handle)
        except json.JSONDecodeError as exc:
            raise _error(
                self.path, exc.lineno, None, f"invalid JSON ({exc.msg} at column {exc.colno})",
                "fix the JSON array, or write one object per line (JSON Lines).",
            ) from exc  # fmt: skip
        for number, item in enumerate(items, start=1):  # row = array element
            yield self._json_record(item, number, required)

    def _json_record(self, item: Any, row: int, required: tuple[str, ...]) -> _Record:
        if not isinstance(item, dict):
            raise _error(
                self.path, row, None, f"expected a JSON object, got {type(item).__name__}",
                'write objects such as {"id": ..., "prompt": ..., "label": ...}.',
            )  # fmt: skip
        fields = {str(k).strip().lower(): v for k, v in item.items()}
        for column in required:
            if column.lower() not in fields:
                raise _error(
                    self.path, row, column, f"missing key (found: {', '.join(map(str, item))})",
                    f"add a '{column}' key or name the right format "
                    f"({self.path}?format=NAME in the seed spec).",
                )  # fmt: skip
        return _Record(self.path, row, fields)


def _open_table(path: Path, kind: str) -> _Table:
    return _Table(path, kind)


def _detect(path: Path, columns: set[str]) -> str:
    if "data_type" in columns and columns & {"vanilla", "adversarial"}:
        return "wildjailbreak"
    if {"id", "prompt", "label"} <= columns:
        return "arena"
    if "behavior" in columns and columns & {"functionalcategory", "semanticcategory", "behaviorid"}:
        return "harmbench"
    if "goal" in columns and columns & {"behavior", "category", "index", "source"}:
        return "jailbreakbench"
    if "goal" in columns:
        return "advbench"
    raise DatasetError(
        f"{path}: cannot tell the format from its columns ({', '.join(sorted(columns))}).",
        f"name the format in the seed spec as {path}?format=NAME (NAME one of "
        f"{', '.join(FORMATS)}; format= for load_seeds), or use the column names of one of them "
        "(arena: id,prompt,label; HarmBench: Behavior,...; JailbreakBench: Goal,...; "
        "WildJailbreak: vanilla,adversarial,data_type; AdvBench: goal,target).",
    )


# ------------------------------------------------------------------------ converters
def _arena(record: _Record, label: Label | None) -> Seed:
    raw_label = record.get("label", required=True).lower()
    if raw_label not in LABELS:
        raise record.error("label", f"unknown label {raw_label!r}", "use 'harmful' or 'benign'.")
    return Seed(
        id=record.get("id", required=True),
        prompt=record.get("prompt", required=True),
        label="harmful" if raw_label == "harmful" else "benign",
        category=record.get("category") or UNSPECIFIED,
        source=record.get("source") or f"arena:{record.path.name}",
        vanilla=record.get("vanilla"),
    )


def _harmbench(record: _Record, label: Label | None) -> Seed:
    behavior = record.get("Behavior", required=True)
    context = record.get("ContextString")
    return Seed(
        id=record.get("BehaviorID") or f"{record.path.stem}-{record.row}",
        prompt=f"{context}\n\n---\n\n{behavior}" if context else behavior,
        label=label or "harmful",
        category=record.get("SemanticCategory") or record.get("FunctionalCategory") or UNSPECIFIED,
        source=f"harmbench:{record.path.name}",
    )


def _jailbreakbench(record: _Record, label: Label | None) -> Seed:
    index = record.get("Index") or str(record.row)
    origin = record.get("Source")
    return Seed(
        id=f"{record.path.stem}-{index}",
        prompt=record.get("Goal", required=True),
        label=label or "harmful",
        category=record.get("Category") or UNSPECIFIED,
        source=f"jailbreakbench:{record.path.name}" + (f":{origin}" if origin else ""),
    )


def _advbench(record: _Record, label: Label | None) -> Seed:
    return Seed(
        id=f"{record.path.stem}-{record.row}",
        prompt=record.get("goal", required=True),
        label=label or "harmful",
        category=UNSPECIFIED,
        source=f"advbench:{record.path.name}",
    )


def _wildjailbreak(record: _Record, label: Label | None) -> Seed:
    data_type = record.get("data_type", required=True).lower()
    if data_type not in _WJB_TYPES:
        raise record.error(
            "data_type", f"unknown data_type {data_type!r}", f"use one of: {', '.join(_WJB_TYPES)}."
        )
    wjb_label, column = _WJB_TYPES[data_type]
    prompt = record.get(column, required=True)
    return Seed(
        id=f"{record.path.stem}-{record.row}",
        prompt=prompt,
        label=wjb_label,
        category=data_type,
        source=f"wildjailbreak:{record.path.name}",
        vanilla=record.get("vanilla") if column == "adversarial" else "",
    )


_CONVERTERS: dict[str, Callable[[_Record, Label | None], Seed]] = {
    "arena": _arena,
    "harmbench": _harmbench,
    "jailbreakbench": _jailbreakbench,
    "wildjailbreak": _wildjailbreak,
    "advbench": _advbench,
}
_REQUIRED: dict[str, tuple[str, ...]] = {
    "arena": ("id", "prompt", "label"),
    "harmbench": ("Behavior",),
    "jailbreakbench": ("Goal",),
    "wildjailbreak": ("data_type",),
    "advbench": ("goal",),
}
_ID_COLUMN: dict[str, str] = {"arena": "id", "harmbench": "BehaviorID", "jailbreakbench": "Index"}
