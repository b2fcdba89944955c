"""Multi-hop questions composed from relation chains, and the split by composition.

A question follows a chain of 2-4 relations from a start entity; it is kept only when
the chain leads to exactly one entity (so the answer is well defined) and visits no
entity twice. Chains come from seeded random walks, so the same code works on the
built-in KG and on any loaded one. Text is the relations' phrase templates nested
("What is the country of the birthplace of the author of B?"), a reconstruction of
``kale_ds.md`` C.1's template.

The split holds out whole *relation compositions* (C.1: "test uses unseen relation
compositions"): every question of a held-out chain is a test question, and a chain is
only held out if each of its relations still occurs in some training chain, so a test
question needs known facts composed in a new way.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field

from envs.kg.graph import KnowledgeGraph


@dataclass(frozen=True)
class Question:
    """A multi-hop question with its gold path, answer and 3 distractors (4-way MC)."""

    id: str
    text: str
    start: str
    chain: tuple[str, ...]
    answer: str
    path: tuple[tuple[str, str, str], ...]
    choices: tuple[str, ...] = ()
    split: str = "train"

    @property
    def hops(self) -> int:
        return len(self.chain)

    def to_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "text": self.text,
            "start": self.start,
            "chain": list(self.chain),
            "answer": self.answer,
            "path": [list(t) for t in self.path],
            "choices": list(self.choices),
            "split": self.split,
        }


def follow_chain(kg: KnowledgeGraph, start: str, chain: Sequence[str]) -> set[str]:
    """Every entity reached from ``start`` by the relation chain."""
    frontier = {start}
    for relation in chain:
        frontier = {t for e in frontier for t in kg.follow(e, relation)}
    return frontier


def question_text(kg: KnowledgeGraph, start: str, chain: Sequence[str]) -> str:
    """Nest the relations' phrases: ``the capital of (the country of (X))``."""
    text = kg.label(start)
    for relation in chain:
        phrase = kg.relations[relation].phrase or f"the {kg.relation_label(relation)} of {{x}}"
        text = phrase.format(x=text)
    return f"What is {text}?"


def _inverse(kg: KnowledgeGraph, relation: str) -> str | None:
    return kg.relations[relation].inverse if relation in kg.relations else None


@dataclass
class QuestionSettings:
    """How many questions, of which lengths, from which walks."""

    count: int = 400
    min_hops: int = 2
    max_hops: int = 4
    per_chain: int = 25
    seed: int = 0
    attempts: int = 20_000
    test_fraction: float = 0.25
    distractors: int = 3
    extra: dict[str, object] = field(default_factory=dict)


def compose_questions(kg: KnowledgeGraph, settings: QuestionSettings) -> list[Question]:
    """Questions from seeded random walks (deterministic for a KG and settings)."""
    rng = random.Random(settings.seed)
    starts = sorted(e for e in kg.entities if kg.degree(e) > 0)
    seen: set[tuple[str, tuple[str, ...]]] = set()
    per_chain: dict[tuple[str, ...], int] = {}
    questions: list[Question] = []
    for _ in range(settings.attempts):
        if len(questions) >= settings.count or not starts:
            break
        start = rng.choice(starts)
        hops = rng.randint(settings.min_hops, settings.max_hops)
        node, visited = start, [start]
        chain: list[str] = []
        path: list[tuple[str, str, str]] = []
        for _hop in range(hops):
            edges = [
                (r, t)
                for r, t in kg.out_edges(node)
                if t not in visited and not (chain and r == _inverse(kg, chain[-1]))
            ]
            if not edges:
                break
            r, t = rng.choice(edges)
            chain.append(r)
            path.append((node, r, t))
            visited.append(t)
            node = t
        key = (start, tuple(chain))
        if len(chain) < settings.min_hops or key in seen:
            continue
        if per_chain.get(tuple(chain), 0) >= settings.per_chain:
            continue
        if follow_chain(kg, start, chain) != {node}:
            continue  # ambiguous: the chain does not pin one answer
        seen.add(key)
        per_chain[tuple(chain)] = per_chain.get(tuple(chain), 0) + 1
        choices = _choices(kg, node, settings.distractors, rng, exclude=set(visited[:-1]))
        questions.append(
            Question(
                id=f"q{len(questions):05d}",
                text=question_text(kg, start, chain),
                start=start,
                chain=tuple(chain),
                answer=node,
                path=tuple(path),
                choices=choices,
            )
        )
    return split_by_composition(questions, settings.test_fraction, settings.seed)


def _choices(
    kg: KnowledgeGraph, answer: str, n: int, rng: random.Random, exclude: set[str]
) -> tuple[str, ...]:
    """The answer and ``n`` distractors of the same type (else any entity), shuffled."""
    kind = kg.entities[answer].type
    pool = sorted(
        e
        for e, ent in kg.entities.items()
        if e != answer and e not in exclude and (not kind or ent.type == kind)
    )
    picked = [*rng.sample(pool, min(n, len(pool))), answer]
    rng.shuffle(picked)
    return tuple(picked)


def split_by_composition(
    questions: Sequence[Question], test_fraction: float, seed: int
) -> list[Question]:
    """Mark whole chains as test until ``test_fraction`` of questions is reached, only
    holding out a chain whose relations all stay covered by the training chains."""
    chains = sorted({q.chain for q in questions})
    random.Random(seed + 1).shuffle(chains)
    counts: dict[tuple[str, ...], int] = {}
    for q in questions:
        counts[q.chain] = counts.get(q.chain, 0) + 1
    train = set(chains)
    test: set[tuple[str, ...]] = set()
    target = test_fraction * len(questions)
    held = 0
    for chain in chains:
        if held >= target:
            break
        rest = train - {chain}
        covered = {r for c in rest for r in c}
        if rest and all(r in covered for c in (*test, chain) for r in c):
            train = rest
            test.add(chain)
            held += counts[chain]
    return [
        Question(
            q.id,
            q.text,
            q.start,
            q.chain,
            q.answer,
            q.path,
            q.choices,
            "test" if q.chain in test else "train",
        )
        for q in questions
    ]
