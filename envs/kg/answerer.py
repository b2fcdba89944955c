"""The answerer seat of ``kg_traversal_v0``: what it sees, how text maps to its action.

KALE's claim (``kale_ds.md`` A.3 and C.1) is that a rationale built from knowledge-graph
paths helps a model answer. The two-seat game tests it directly: the *navigator* walks
the graph and commits (or runs out of hops); then the *answerer* picks one of the
question's multiple-choice options, seeing the question **with** the navigator's walk
rendered as a template rationale (``answerer_mode="with_rationale"``) or **without** it
(``"without_rationale"``, the control). Both seats get the same reward (the hop costs
and the ±1 of the final answer), so the navigator is paid only for a walk that helps.

Observation of the answerer (``Dict``; structured fields for tabular and scripted
agents, ``prompt``/``messages`` for language models, as in ``attack_defense_v0``):

* ``question`` and ``start``: as the navigator's;
* ``choices``: the options' entity indices (``-1``-padded), in the action order;
* ``rationale``: the navigator's walk as ``(relation, entity)`` pairs, ``-1``-padded,
  and ``committed``: the entity it committed (``-1`` if none); both all ``-1`` without
  the rationale or before the navigator is done;
* ``prompt`` (and ``messages``, the same text as one user turn): question, lettered
  choices and, with the rationale, its sentences;
* ``action_mask``: the real options (a question may have fewer than the slots).

The action is ``Discrete(choices)``: the index of an option. :func:`parse_choice` maps
a model's text to it, :func:`follow_rationale` is the scripted answerer.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
from gymnasium.spaces import Box, Dict, Discrete, MultiDiscrete
from gymnasium.spaces import Sequence as SequenceSpace

from envs.kg.graph import IndexedGraph, KnowledgeGraph
from envs.kg.paths import triple_sentence
from envs.kg.questions import Question
from envs.spaces import FreeText

NAVIGATOR = "navigator"
ANSWERER = "answerer"
AnswererMode = Literal["none", "with_rationale", "without_rationale"]
ANSWERER_MODES: tuple[str, ...] = ("none", "with_rationale", "without_rationale")
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
PROMPT_CHARS = 20_000


def walk_rationale(
    kg: KnowledgeGraph, walk: Sequence[tuple[str, str, str]], committed: str | None
) -> str:
    """The navigator's walk as C.1's template: one sentence per hop, then its answer.

    "B was written by X; X was born in Y; so the answer is Y." A walk that never
    committed says so instead of naming an answer.
    """
    facts = [triple_sentence(kg, *t) for t in walk]
    if committed is None:
        tail = "no answer was committed"
    else:
        tail = f"so the answer is {kg.label(committed)}"
    return "; ".join([*facts, tail]) + "."


def prompt_text(kg: KnowledgeGraph, question: Question, rationale: str | None) -> str:
    """What a language-model answerer reads."""
    lines = [f"Question: {question.text}", "Choices:"]
    lines += [f"{LETTERS[i]}. {kg.label(c)}" for i, c in enumerate(question.choices)]
    if rationale is not None:
        lines.append(f"Rationale (a walk on the knowledge graph): {rationale}")
    letters = ", ".join(LETTERS[: len(question.choices)])
    lines.append(f"Answer with one letter ({letters}).")
    return "\n".join(lines)


def answerer_spaces(
    graph: IndexedGraph, max_hops: int, num_choices: int, max_chain: int
) -> tuple[Discrete, Dict]:
    """The answerer's action and observation spaces."""
    n, r = len(graph), len(graph.relations)
    message = Dict({"role": FreeText(16), "content": FreeText(PROMPT_CHARS)})
    observation = Dict(
        {
            "question": MultiDiscrete([r + 1] * max_chain),
            "start": Discrete(n),
            "choices": Box(-1, n - 1, shape=(num_choices,), dtype=np.int64),
            "rationale": Box(-1, max(n, r), shape=(max_hops, 2), dtype=np.int64),
            "committed": Box(-1, n - 1, shape=(1,), dtype=np.int64),
            "prompt": FreeText(PROMPT_CHARS),
            "messages": SequenceSpace(message),
            "action_mask": Box(0, 1, shape=(num_choices,), dtype=np.int8),
        }
    )
    return Discrete(num_choices), observation


def answerer_observation(
    kg: KnowledgeGraph,
    graph: IndexedGraph,
    question: Question,
    chain_ids: np.ndarray,
    walk: Sequence[tuple[str, str, str]],
    committed: str | None,
    show_rationale: bool,
    max_hops: int,
    num_choices: int,
) -> dict[str, Any]:
    """The answerer's observation (see the module docstring); ``show_rationale`` is
    false without the rationale and while the navigator is still walking."""
    node, rel = graph.node, {name: i for i, name in enumerate(graph.relations)}
    choices = np.full(num_choices, -1, dtype=np.int64)
    choices[: len(question.choices)] = [node[c] for c in question.choices]
    mask = np.zeros(num_choices, dtype=np.int8)
    mask[: len(question.choices)] = 1
    path = np.full((max_hops, 2), -1, dtype=np.int64)
    done = np.array([-1], dtype=np.int64)
    rationale = None
    if show_rationale:
        for i, (_, r, t) in enumerate(walk[:max_hops]):
            path[i] = (rel[r], node[t])
        if committed is not None:
            done[0] = node[committed]
        rationale = walk_rationale(kg, walk, committed)
    text = prompt_text(kg, question, rationale)[:PROMPT_CHARS]
    return {
        "question": chain_ids,
        "start": np.int64(node[question.start]),
        "choices": choices,
        "rationale": path,
        "committed": done,
        "prompt": text,
        "messages": ({"role": "user", "content": text},),
        "action_mask": mask,
    }


def parse_choice(text: str, observation: Mapping[str, Any]) -> int:
    """A model's reply to an option index: a standalone letter (``B``, ``(B)``,
    ``Answer: B``), else the first option whose label appears in the text, else 0 (a
    malformed reply is a move, not a crash; see ``agents/llm.py``)."""
    mask = np.asarray(observation["action_mask"])
    count = int(mask.sum())
    for match in re.finditer(r"\b([A-Z])\b", text):
        index = LETTERS.index(match.group(1))
        if index < count:
            return index
    prompt = str(observation.get("prompt", ""))
    labels = re.findall(r"^([A-Z])\. (.+)$", prompt, flags=re.MULTILINE)
    lowered = text.lower()
    for letter, label in labels:
        if label.lower() in lowered and LETTERS.index(letter) < count:
            return LETTERS.index(letter)
    return 0


def follow_rationale(observation: Mapping[str, Any], seed: int = 0) -> int:
    """The scripted answerer: the option the navigator committed if it is one, else a
    seeded uniform draw over the legal options (the without-rationale baseline)."""
    choices = np.asarray(observation["choices"])
    committed = int(np.asarray(observation["committed"])[0])
    if committed >= 0:
        hits = np.flatnonzero(choices == committed)
        if hits.size:
            return int(hits[0])
    legal = np.flatnonzero(np.asarray(observation["action_mask"]))
    return int(np.random.default_rng(seed).choice(legal))
