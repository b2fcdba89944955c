"""KALE's Knowledge-Induced (KI) data: one JSONL row per multi-hop question, and its reader.

``arena kale synth`` writes, per question of a knowledge graph (the built-in one or a
triple file read by :mod:`envs.kg.loaders`), a row of :data:`ROW_KEYS`:

* ``id``, ``question`` (text), ``answer`` (the answer entity's label), ``answer_id``,
  ``aliases`` (every accepted spelling of the answer), ``hops``;
* ``split``: ``train`` (fine-tuned on), ``test-id`` (held out, but its relation
  composition occurs in training) or ``test-ood`` (an *unseen relation composition*,
  :func:`envs.kg.questions.split_by_composition`). ``test-id`` is our addition, a
  setting (``id_holdout``), so in- and out-of-distribution accuracy can both be read;
* ``path``: the gold path's ``[head, relation, tail]`` triples;
* ``rationale``: the template rationale over the path (:func:`envs.kg.template_rationale`,
  the offline stand-in for the paper's GPT-4o step), kept only if :func:`rationale_ok`
  accepts it (mentions the answer and no entity off the path); otherwise the row is
  dropped and counted;
* ``probes``: one single-hop question per gold-path triple (``question``, ``answer``,
  ``aliases``, ``triple``). A triple is asked in the direction whose answer is unique
  (``born_in`` rather than ``birthplace_of``), so exact match can grade it.

Reconstruction notes: the paper's data is multiple-choice QA over Wikidata with
LLM-written rationales; ours is open-answer QA over a synthetic KG with template
rationales, graded by exact match of the normalised answer (any alias counts).

:func:`load_rows` validates a data file and raises one :class:`~envs.errors.DatasetError`
naming the file and the line for a malformed row, before any training starts.
"""

from __future__ import annotations

import json
import os
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from envs.errors import ArenaError, DatasetError
from envs.kg.graph import KnowledgeGraph, normalize_alias
from envs.kg.paths import AliasIndex, rationale_ok, template_rationale
from envs.kg.questions import Question, QuestionSettings, compose_questions, question_text

SPLITS = ("train", "test-id", "test-ood")
ROW_KEYS = ("id", "question", "answer", "aliases", "hops", "split", "path", "rationale", "probes")
PROBE_KEYS = ("question", "answer", "aliases", "triple")


@dataclass(frozen=True)
class Probe:
    """A single-hop question about one gold-path fact; any alias of the answer counts."""

    question: str
    answer: str
    aliases: tuple[str, ...]
    triple: tuple[str, str, str]


@dataclass(frozen=True)
class KaleRow:
    """One validated data row (see the module docstring for the fields)."""

    id: str
    question: str
    answer: str
    aliases: tuple[str, ...]
    hops: int
    split: str
    path: tuple[tuple[str, str, str], ...]
    rationale: str
    probes: tuple[Probe, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "question": self.question,
            "answer": self.answer,
            "aliases": list(self.aliases),
            "hops": self.hops,
            "split": self.split,
            "path": [list(t) for t in self.path],
            "rationale": self.rationale,
            "probes": [
                {
                    "question": p.question,
                    "answer": p.answer,
                    "aliases": list(p.aliases),
                    "triple": list(p.triple),
                }
                for p in self.probes
            ],
        }


def answer_matches(generated: str, aliases: Iterable[str]) -> bool:
    """Exact match after :func:`~envs.kg.graph.normalize_alias` against any alias."""
    text = normalize_alias(generated)
    return bool(text) and any(text == normalize_alias(a) for a in aliases)


# ----------------------------------------------------------------------------- synthesis
def _aliases(kg: KnowledgeGraph, entity: str) -> tuple[str, ...]:
    ent = kg.entities.get(entity)
    return tuple(dict.fromkeys([kg.label(entity), *(ent.aliases if ent else ())]))


def probe_for(kg: KnowledgeGraph, triple: Sequence[str]) -> Probe:
    """The single-hop question for one fact, asked where its answer is unique.

    Forward (``head --relation--> ?``) when ``head`` has one ``relation`` tail; else the
    inverse (``tail --inverse--> ?``) when that is unique; else forward, accepting every
    tail (a fact that is many-to-many either way cannot be pinned by one question).
    """
    head, relation, tail = triple
    forward = kg.follow(head, relation)
    inverse = kg.relations[relation].inverse if relation in kg.relations else None
    if len(forward) != 1 and inverse and kg.follow(tail, inverse) == [head]:
        return Probe(
            question_text(kg, tail, [inverse]),
            kg.label(head),
            _aliases(kg, head),
            (head, relation, tail),
        )
    accepted = tuple(a for e in (forward or [tail]) for a in _aliases(kg, e))
    return Probe(
        question_text(kg, head, [relation]), kg.label(tail), accepted, (head, relation, tail)
    )


def synthesize(
    kg: KnowledgeGraph,
    questions: Sequence[Question],
    *,
    id_holdout: float = 0.2,
    seed: int = 0,
) -> tuple[list[KaleRow], int]:
    """Data rows for ``questions`` and the number dropped by :func:`rationale_ok`.

    ``id_holdout`` of the training-composition questions (seeded draw) become
    ``test-id``; questions of held-out compositions are ``test-ood``.
    """
    if not 0.0 <= id_holdout < 1.0:
        raise ArenaError(f"id_holdout must be in [0, 1), got {id_holdout}.", "pass e.g. 0.2.")
    index = AliasIndex(kg)
    rng = random.Random(seed)
    rows: list[KaleRow] = []
    dropped = 0
    for q in questions:
        rationale = template_rationale(kg, q.path, q.answer)
        allowed = {e for t in q.path for e in (t[0], t[2])} | set(index.link(q.text))
        if not rationale_ok(kg, rationale, q.answer, allowed, index=index):
            dropped += 1
            continue
        if q.split == "test":
            split = "test-ood"
        else:
            split = "test-id" if rng.random() < id_holdout else "train"
        rows.append(
            KaleRow(
                id=q.id,
                question=q.text,
                answer=kg.label(q.answer),
                aliases=_aliases(kg, q.answer),
                hops=q.hops,
                split=split,
                path=tuple(tuple(t) for t in q.path),  # type: ignore[misc]
                rationale=rationale,
                probes=tuple(probe_for(kg, t) for t in q.path),
            )
        )
    return rows, dropped


def load_kg(source: str) -> KnowledgeGraph:
    """``builtin`` or a triple file (TSV/CSV/JSONL, :func:`envs.kg.loaders.load_triples`)."""
    if source == "builtin":
        from envs.kg.builtin import builtin_kg

        return builtin_kg()
    from envs.kg.loaders import load_triples

    return load_triples(source)


def kg_questions(kg: KnowledgeGraph, source: str, count: int, seed: int) -> list[Question]:
    """The KG's multi-hop questions (the built-in set is cached)."""
    if source == "builtin" and count == 400 and seed == 0:
        from envs.kg.builtin import builtin_questions

        return list(builtin_questions())
    return compose_questions(kg, QuestionSettings(count=count, seed=seed))


def write_rows(rows: Sequence[KaleRow], out: Path) -> None:
    """JSONL via a temporary file and one rename: never a half-written data file."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    with tmp.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row.to_dict(), ensure_ascii=False) + "\n")
    os.replace(tmp, out)


# ----------------------------------------------------------------------------- reading
def _bad(path: Path, line: int, problem: str) -> DatasetError:
    return DatasetError(
        f"{path}: line {line}: {problem}.",
        "fix that line, or re-create the file with `arena kale synth`.",
    )


def _text(path: Path, line: int, record: dict[str, Any], key: str) -> str:
    value = record.get(key)
    if not isinstance(value, str) or not value.strip():
        raise _bad(path, line, f"{key!r} must be a non-empty string, got {value!r}")
    return value


def _texts(path: Path, line: int, value: Any, key: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise _bad(path, line, f"{key!r} must be a non-empty list of strings")
    return tuple(value)


def _triple(path: Path, line: int, value: Any, key: str) -> tuple[str, str, str]:
    if not (isinstance(value, list) and len(value) == 3 and all(isinstance(v, str) for v in value)):
        raise _bad(path, line, f"{key!r} must be [head, relation, tail] strings, got {value!r}")
    return (value[0], value[1], value[2])


def parse_row(path: Path, line: int, record: Any) -> KaleRow:
    """Validate one decoded JSON line (raises :class:`DatasetError` naming the line)."""
    if not isinstance(record, dict):
        raise _bad(path, line, "a JSON object is needed")
    missing = [k for k in ROW_KEYS if k not in record]
    if missing:
        raise _bad(path, line, f"missing {', '.join(repr(k) for k in missing)}")
    hops = record["hops"]
    if isinstance(hops, bool) or not isinstance(hops, int) or hops < 1:
        raise _bad(path, line, f"'hops' must be an int >= 1, got {hops!r}")
    split = record["split"]
    if split not in SPLITS:
        raise _bad(path, line, f"'split' must be one of {', '.join(SPLITS)}, got {split!r}")
    raw_path = record["path"]
    if not isinstance(raw_path, list) or len(raw_path) != hops:
        raise _bad(path, line, f"'path' must be a list of {hops} triples (one per hop)")
    raw_probes = record["probes"]
    if not isinstance(raw_probes, list) or not raw_probes:
        raise _bad(path, line, "'probes' must be a non-empty list")
    probes = []
    for k, probe in enumerate(raw_probes):
        if not isinstance(probe, dict) or any(key not in probe for key in PROBE_KEYS):
            raise _bad(path, line, f"probe {k} needs {', '.join(PROBE_KEYS)}")
        probes.append(
            Probe(
                _text(path, line, probe, "question"),
                _text(path, line, probe, "answer"),
                _texts(path, line, probe["aliases"], f"probes[{k}].aliases"),
                _triple(path, line, probe["triple"], f"probes[{k}].triple"),
            )
        )
    return KaleRow(
        id=str(_text(path, line, {"id": str(record["id"])}, "id")),
        question=_text(path, line, record, "question"),
        answer=_text(path, line, record, "answer"),
        aliases=_texts(path, line, record["aliases"], "aliases"),
        hops=hops,
        split=split,
        path=tuple(_triple(path, line, t, "path") for t in raw_path),
        rationale=_text(path, line, record, "rationale"),
        probes=tuple(probes),
    )


def load_rows(path: str | Path) -> list[KaleRow]:
    """Every row of a data file, validated; one clear error for the first bad line."""
    file = Path(path)
    if not file.is_file():
        raise DatasetError(
            f"{file}: no such data file.", f"create it with `arena kale synth --out {file}`."
        )
    rows: list[KaleRow] = []
    seen: set[str] = set()
    with file.open(encoding="utf-8") as handle:
        for number, text in enumerate(handle, start=1):
            if not text.strip():
                continue
            try:
                record = json.loads(text)
            except json.JSONDecodeError as exc:
                raise _bad(file, number, f"not valid JSON ({exc.msg})") from exc
            row = parse_row(file, number, record)
            if row.id in seen:
                raise _bad(file, number, f"duplicate id {row.id!r}")
            seen.add(row.id)
            rows.append(row)
    if not rows:
        raise DatasetError(f"{file}: no rows.", "re-create it with `arena kale synth`.")
    return rows


# ----------------------------------------------------------------------------- slicing
def slice_rows(
    rows: Sequence[KaleRow], max_questions: int, max_hops: int, seed: int
) -> list[KaleRow]:
    """A sub-KG slice that a tiny model can learn in minutes (``docs/kale.md``).

    Keeps questions of at most ``max_hops`` hops, then grows the set greedily from a
    seeded order, each time taking the question that needs the fewest facts not yet
    in the slice, until ``max_questions``; every split keeps its share. Shared facts
    keep the single-hop pre-training small and make composition learnable at all.
    """
    pool = [r for r in rows if r.hops <= max_hops]
    if max_questions <= 0 or len(pool) <= max_questions:
        return pool
    rng = random.Random(seed)
    order = pool[:]
    rng.shuffle(order)
    quota = {
        s: max(1, round(max_questions * sum(r.split == s for r in pool) / len(pool)))
        for s in SPLITS
        if any(r.split == s for r in pool)
    }
    facts: set[tuple[str, str, str]] = set()
    chosen: list[KaleRow] = []
    remaining = order
    while remaining and len(chosen) < max_questions:
        open_rows = [
            r for r in remaining if sum(c.split == r.split for c in chosen) < quota[r.split]
        ]
        if not open_rows:
            break
        best = min(open_rows, key=lambda r: len(set(r.path) - facts))
        chosen.append(best)
        facts |= set(best.path)
        remaining = [r for r in remaining if r is not best]
    return sorted(chosen, key=lambda r: r.id)
