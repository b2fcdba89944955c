"""What an environment module declares so that one engine can play every game.

Each environment module (``envs/<name>_v<N>.py``) exposes ``GAME``, a :class:`GameSpec`:
its seats, its **config dataclass** (validated on construction; the CLI builds its flags
from the dataclass fields, the way TRL builds flags from its training configs), how to
build the environment from a config, and how to **summarise** finished episode records
into the metrics and table that fit that game. ``arena play ENV`` and tournaments need
nothing else: no game-specific path in the runner or the CLI.

The runner talks to environment *instances* through the protocols below
(:class:`RecordsEpisodes`, :class:`JudgesInBatches`), declared rather than probed with
``hasattr``/``getattr``, so a new environment sees exactly what it must implement.

Config helpers: :func:`config_from_mapping` builds a (possibly nested) config dataclass
from flat or nested plain data and rejects unknown keys, listing the valid ones;
:func:`config_to_dict` and :func:`config_hash` give the canonical form a run manifest
and a result store key use.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from envs.errors import ArenaError

EpisodeRecord = dict[str, Any]


# ----------------------------------------------------------------------------- protocols
@runtime_checkable
class RecordsEpisodes(Protocol):
    """An environment that describes its finished episode as plain, JSON-ready data."""

    def episode_record(self) -> EpisodeRecord: ...


@runtime_checkable
class BatchJudge(Protocol):
    """A judge that can judge many (prompt, response) pairs ahead of the steps needing them."""

    def prefetch(self, prompts: Sequence[str], responses: Sequence[str]) -> None: ...


@runtime_checkable
class JudgesInBatches(Protocol):
    """An environment whose step calls a judge the runner may batch across games.

    ``judge_requests(action)`` lists the (prompt, response) pairs that stepping
    ``action`` will send to ``judge``; a lock-step runner collects them for a whole round
    and calls ``judge.prefetch`` once (one batched model call instead of one per game).
    """

    judge: Any

    def judge_requests(self, action: Any) -> list[tuple[str, str]]: ...


# ----------------------------------------------------------------------------- summaries
@dataclass
class SummaryTable:
    """A results table as plain strings: the CLI renders it with rich, reports as Markdown.

    ``styles[i]`` is ``"bold"`` (a total row), ``"dim"`` (a sub-row) or ``None``.
    """

    title: str
    columns: tuple[str, ...]
    rows: list[tuple[str, ...]] = field(default_factory=list)
    styles: list[str | None] = field(default_factory=list)
    caption: str = ""
    notes: list[str] = field(default_factory=list)

    def add_row(self, *cells: str, style: str | None = None) -> None:
        if len(cells) != len(self.columns):
            raise ValueError(f"row has {len(cells)} cells for {len(self.columns)} columns")
        self.rows.append(tuple(cells))
        self.styles.append(style)

    def to_markdown(self) -> str:
        def cell(text: str) -> str:
            return text.replace("|", "\\|")

        lines = [
            "| " + " | ".join(self.columns) + " |",
            "|" + "|".join(["---"] + ["---:"] * (len(self.columns) - 1)) + "|",
        ]
        for row, style in zip(self.rows, self.styles, strict=True):
            cells = [cell(c) for c in row]
            if style == "bold":
                cells = [f"**{c}**" if c else c for c in cells]
            lines.append("| " + " | ".join(cells) + " |")
        return "\n".join(lines)


@dataclass
class Summary:
    """A game's summary of a run: a table for people, plain data for ``summary.json``."""

    table: SummaryTable
    data: dict[str, Any]


# ----------------------------------------------------------------------------- the spec
@dataclass(frozen=True)
class GameSpec:
    """Everything the engine needs to know about one environment (see module docstring).

    * ``make_env(config, judge)`` builds one environment instance (an AEC env, or a
      parallel env when ``parallel`` is true); ``judge`` is ``None`` unless ``judged``.
    * ``summarize(records, config)`` turns finished episode records (the runner's
      fields plus the environment's own ``episode_record()``) into a :class:`Summary`.
    * ``normal_form(config)``, where the game has one, returns its exact
      ``theory.games.NormalFormGame`` (tabular agents and summaries use it).
    * ``player_index`` maps a seat to its index in that normal form.
    * ``warnings(config, judge_spec)`` lists one-line cautions to print and record
      (e.g. a rule judge on data it cannot read).
    * ``describe(config)`` adds facts to the run manifest (e.g. the data's hash).
    * ``episode_metrics(record, config)`` gives the few numbers per episode a tournament
      stores beside the rewards (e.g. attack success, over-refusal; ``None`` where an
      episode does not count), so payoff tables stream from the store without reading
      transcripts. ``metric_names`` labels them for reports.
    * ``symmetric``: the seats are interchangeable (swapping the agents swaps the
      payoffs), so tournaments may play it round robin from one roster; a callable
      decides per config (a matrix game is symmetric when ``B = A^T``).
    """

    name: str
    seats: tuple[str, ...]
    config_class: type
    make_env: Callable[[Any, Any], Any]
    summarize: Callable[[Sequence[Mapping[str, Any]], Any], Summary]
    parallel: bool = False
    judged: bool = False
    normal_form: Callable[[Any], Any] | None = None
    warnings: Callable[[Any, str], list[str]] | None = None
    describe: Callable[[Any], dict[str, Any]] | None = None
    flag_help: Mapping[str, str] = field(default_factory=dict)
    description: str = ""
    episode_metrics: Callable[[Mapping[str, Any], Any], dict[str, float | None]] | None = None
    metric_names: Mapping[str, str] = field(default_factory=dict)
    symmetric: bool | Callable[[Any], bool] = False

    def player_index(self, seat: str) -> int:
        return self.seats.index(seat)

    def is_symmetric(self, config: Any) -> bool:
        """Whether round robin is meaningful under ``config`` (see ``symmetric``)."""
        return bool(self.symmetric(config) if callable(self.symmetric) else self.symmetric)

    def config(self, values: Mapping[str, Any] | Any | None = None) -> Any:
        """A validated config from a config instance, a (flat or nested) mapping or None."""
        if isinstance(values, self.config_class):
            return values
        return config_from_mapping(self.config_class, values or {}, what=self.name)


# ----------------------------------------------------------------------------- configs
def _is_dataclass_type(tp: Any) -> bool:
    return isinstance(tp, type) and dataclasses.is_dataclass(tp)


def field_types(cls: type) -> dict[str, Any]:
    """Resolved type hints of a dataclass (string annotations included)."""
    return typing.get_type_hints(cls)


def flat_fields(cls: type, prefix: str = "") -> dict[str, tuple[dataclasses.Field[Any], Any]]:
    """Every leaf field of a nested config dataclass, by its flat name.

    Nested dataclass fields are flattened by their own field names (``reward.r_harm`` is
    ``r_harm``), so flags read like the paper's names; a clash raises (a config author's
    bug, caught by the tests).
    """
    out: dict[str, tuple[dataclasses.Field[Any], Any]] = {}
    hints = field_types(cls)
    for f in dataclasses.fields(cls):
        if not f.init:
            continue
        tp = hints[f.name]
        if _is_dataclass_type(tp):
            for name, leaf in flat_fields(tp).items():
                if name in out:
                    raise TypeError(f"config field {name!r} appears twice in {cls.__name__}")
                out[name] = leaf
        else:
            if f.name in out:
                raise TypeError(f"config field {f.name!r} appears twice in {cls.__name__}")
            out[f.name] = (f, tp)
    return out


def _coerce(value: Any, tp: Any) -> Any:
    """Lists from JSON become tuples where the field is a tuple, and mappings become the
    dataclass a field (or tuple item) holds, so a config read back from its manifest or
    store form (:func:`config_to_dict`) equals the original; nothing else changes."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        for arg in typing.get_args(tp):
            if arg is type(None):
                continue
            return _coerce(value, arg)
    if _is_dataclass_type(tp) and isinstance(value, Mapping):
        hints = field_types(tp)
        return tp(**{k: _coerce(v, hints[k]) if k in hints else v for k, v in value.items()})
    if origin is tuple and isinstance(value, list | tuple):
        args = typing.get_args(tp)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_coerce(item, args[0]) for item in value)
        if args and len(args) == len(value):
            return tuple(_coerce(item, arg) for item, arg in zip(value, args, strict=True))
        return tuple(value)
    return value


def config_from_mapping(cls: type, values: Mapping[str, Any], *, what: str = "") -> Any:
    """Build ``cls`` from flat (``{"r_harm": 1}``) or nested (``{"reward": {...}}``) data.

    Unknown keys are rejected with the valid ones listed. Validation is the dataclasses'
    own ``__post_init__`` (one :class:`ArenaError` naming the setting and the fix).
    """
    leaves = flat_fields(cls)
    flat: dict[str, Any] = {}

    def absorb(klass: type, data: Mapping[str, Any]) -> None:
        hints = field_types(klass)
        for key, value in data.items():
            tp = hints.get(key)
            if tp is not None and _is_dataclass_type(tp) and isinstance(value, Mapping):
                absorb(tp, value)
            else:
                flat[key] = value

    absorb(cls, values)
    unknown = sorted(set(flat) - set(leaves))
    if unknown:
        raise ArenaError(
            f"Unknown setting(s) {', '.join(unknown)} for {what or cls.__name__}.",
            f"use any of: {', '.join(sorted(leaves))}.",
        )
    return _build(cls, flat)


def _build(cls: type, flat: Mapping[str, Any]) -> Any:
    hints = field_types(cls)
    kwargs: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        if not f.init:
            continue
        tp = hints[f.name]
        if _is_dataclass_type(tp):
            kwargs[f.name] = _build(tp, flat)
        elif f.name in flat:
            kwargs[f.name] = _coerce(flat[f.name], tp)
    return cls(**kwargs)


def config_to_dict(config: Any) -> dict[str, Any]:
    """The nested plain-data form of a config (what manifests record)."""
    return _plain(dataclasses.asdict(config))


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if hasattr(value, "value") and type(value).__module__ != "builtins":  # enums
        return _plain(value.value)
    return value


def config_hash(config: Any) -> str:
    """sha256 of the canonical JSON of a config: equal settings, equal hash."""
    text = json.dumps(config_to_dict(config), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def field_help(f: dataclasses.Field[Any]) -> str:
    return str(f.metadata.get("help", ""))
