"""``kg_traversal_v0``: a navigator walks a knowledge graph to answer a multi-hop question.

Reconstructs ``kale_ds.md`` C.1 (``KGPathEnv-v0``); the sizes and rewards are settings
of :class:`KGTraversalConfig`. Each episode draws a question of the configured split
from the episode seed; the navigator starts at the question's linked entity.

Seats: ``navigator`` alone (``answerer_mode="none"``, the default), or ``navigator`` then
``answerer`` (``"with_rationale"`` / ``"without_rationale"``, see
:mod:`envs.kg.answerer`): the navigator's ``ANSWER`` (or a move past the hop limit) ends
its walk without a reward of its own, the answerer picks one of the question's options,
and every reward (hop costs, ±1 for the final answer) is paid to both seats.

* **Action** ``Discrete(max_degree + 1)``: slot ``i`` follows the ``i``-th outgoing edge
  of the current entity in sorted ``(relation, tail)`` order; the last slot is
  ``ANSWER`` (commit the current entity). ``action_mask`` marks the legal slots.
* **Observation** (``Dict``): ``question`` (the chain's relation ids + 1, 0-padded, as
  C.1's "relation-sequence ids"), ``start`` and ``current_entity`` (entity indices),
  ``hop``, ``path`` (the ``(relation, entity)`` pairs walked, ``-1``-padded) and
  ``action_mask`` (``int8``).
* **Reward**: +1 answering the gold entity, −1 a wrong answer, ``−hop_cost`` per hop.
  **Termination** on ``ANSWER``; **truncation** at the hop limit: after ``max_hops``
  hops only ``ANSWER`` is unmasked, and any other action truncates the episode (so a
  ``max_hops``-hop question can still be answered). With an answerer, both seats
  terminate when it answers; the record says whether the navigator was truncated.
* **Masked actions**: ``illegal_action="stay"`` (default) counts a masked slot as a
  wasted hop (cost paid, position kept, counted in the record) so that agents that do
  not read masks (``tabular:uniform``) can still play; ``"error"`` raises.

The episode's ``info`` carries ``path_triples`` and a template ``rationale`` of the
gold path (for imitation and for the KA training data).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, ClassVar, Literal

import numpy as np
from gymnasium.spaces import Box, Dict, Discrete, MultiDiscrete
from pettingzoo import AECEnv
from pettingzoo.utils import wrappers

from envs.errors import ArenaError, IllegalActionError
from envs.kg.answerer import (
    ANSWERER,
    ANSWERER_MODES,
    NAVIGATOR,
    AnswererMode,
    answerer_observation,
    answerer_spaces,
    walk_rationale,
)
from envs.kg.builtin import builtin_kg
from envs.kg.graph import KnowledgeGraph
from envs.kg.loaders import load_triples
from envs.kg.paths import template_rationale
from envs.kg.questions import Question, QuestionSettings, compose_questions
from envs.kg.summary import episode_metrics, summarize

__all__ = [
    "ANSWERER",
    "FLAG_HELP",
    "MAX_CHAIN",
    "NAVIGATOR",
    "SEATS",
    "TWO_SEATS",
    "KGTraversalConfig",
    "KGTraversalEnv",
    "env",
    "episode_metrics",
    "gold_actions",
    "load_kg",
    "questions_for",
    "random_legal_action",
    "seats_for",
    "summarize",
]

SEATS = (NAVIGATOR,)
TWO_SEATS = (NAVIGATOR, ANSWERER)
MAX_CHAIN = 4

FLAG_HELP = {
    "kg": "Knowledge graph: 'builtin' or a triple file (.tsv/.csv/.jsonl: head,relation,tail).",
    "split": "Questions to draw from: train, test (unseen relation compositions) or all.",
    "max_hops": "Hop limit H_max: the episode is truncated after this many hops.",
    "hop_cost": "Reward cost per hop (C.1 suggests 0.05).",
    "questions": "How many multi-hop questions (2-4 hops) to compose from the KG.",
    "question_seed": "Seed of question composition and the train/test split.",
    "max_degree": "Edge slots in the action space (0 = the KG's largest out-degree).",
    "illegal_action": "A masked action: 'stay' (wasted hop) or 'error' (raise).",
    "answerer_mode": "Answerer seat: none, with_rationale (sees the navigator's walk as a "
    "rationale) or without_rationale (question only); rewards are shared.",
}


def _help(name: str) -> dict[str, str]:
    return {"help": FLAG_HELP[name]}


@dataclass(frozen=True)
class KGTraversalConfig:
    """Settings of ``kg_traversal_v0`` (C.1's values as defaults; all reconstructions)."""

    kg: str = field(default="builtin", metadata=_help("kg"))
    split: Literal["train", "test", "all"] = field(default="train", metadata=_help("split"))
    max_hops: int = field(default=4, metadata=_help("max_hops"))
    hop_cost: float = field(default=0.05, metadata=_help("hop_cost"))
    questions: int = field(default=400, metadata=_help("questions"))
    question_seed: int = field(default=0, metadata=_help("question_seed"))
    max_degree: int = field(default=0, metadata=_help("max_degree"))
    illegal_action: Literal["stay", "error"] = field(
        default="stay", metadata=_help("illegal_action")
    )
    answerer_mode: AnswererMode = field(default="none", metadata=_help("answerer_mode"))

    def __post_init__(self) -> None:
        if self.split not in ("train", "test", "all"):
            raise ArenaError(f"split {self.split!r} is unknown.", "use train, test or all.")
        if self.illegal_action not in ("stay", "error"):
            raise ArenaError(
                f"illegal_action {self.illegal_action!r} is unknown.", "use stay or error."
            )
        if self.answerer_mode not in ANSWERER_MODES:
            raise ArenaError(
                f"answerer_mode {self.answerer_mode!r} is unknown.",
                "use none, with_rationale or without_rationale.",
            )
        for name, low in (("max_hops", 1), ("questions", 1), ("max_degree", 0)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ArenaError(f"{name} must be an integer >= {low}, got {value!r}.", "fix it.")
        if not isinstance(self.hop_cost, int | float) or self.hop_cost < 0:
            raise ArenaError(f"hop_cost must be >= 0, got {self.hop_cost!r}.", "pass 0.05.")
        if not questions_for(self):
            raise ArenaError(
                f"The {self.split!r} split of {self.kg!r} has no questions.",
                "use --split all, more --questions, or a larger KG.",
            )


@lru_cache(maxsize=8)
def load_kg(spec: str) -> KnowledgeGraph:
    """``builtin`` or a triple file, read once per process."""
    return builtin_kg() if spec == "builtin" else load_triples(spec)


@lru_cache(maxsize=16)
def _questions(spec: str, count: int, seed: int) -> tuple[Question, ...]:
    return tuple(compose_questions(load_kg(spec), QuestionSettings(count=count, seed=seed)))


def seats_for(config: KGTraversalConfig) -> tuple[str, ...]:
    """The seats that play under ``config`` (the answerer only when its mode is on)."""
    return SEATS if config.answerer_mode == "none" else TWO_SEATS


def questions_for(config: KGTraversalConfig) -> tuple[Question, ...]:
    """The config's question pool (its split)."""
    pool = _questions(config.kg, config.questions, config.question_seed)
    return pool if config.split == "all" else tuple(q for q in pool if q.split == config.split)


class KGTraversalEnv(AECEnv):
    """The unwrapped AEC environment (see the module docstring)."""

    metadata: ClassVar[dict[str, Any]] = {
        "name": "kg_traversal_v0",
        "render_modes": ["human", "ansi"],
        "is_parallelizable": False,
    }

    def __init__(
        self, config: KGTraversalConfig | None = None, render_mode: str | None = None
    ) -> None:
        super().__init__()
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ArenaError(f"Unknown render_mode {render_mode!r}.", "use 'human' or 'ansi'.")
        self.config = config or KGTraversalConfig()
        self.render_mode = render_mode
        self.kg = load_kg(self.config.kg)
        self.graph = self.kg.index()
        self.pool = questions_for(self.config)
        self.answer_slot = self.config.max_degree or self.kg.max_out_degree()
        n, r, h = len(self.graph), len(self.graph.relations), self.config.max_hops
        self.possible_agents = list(seats_for(self.config))
        self.num_choices = max(1, max(len(q.choices) for q in self.pool))
        answer_action, answer_observation = answerer_spaces(
            self.graph, h, self.num_choices, MAX_CHAIN
        )
        self._action_space = Discrete(self.answer_slot + 1)
        self._observation_space = Dict(
            {
                "question": MultiDiscrete([r + 1] * MAX_CHAIN),
                "start": Discrete(n),
                "current_entity": Discrete(n),
                "hop": Discrete(h + 1),
                "path": Box(-1, max(n, r), shape=(h, 2), dtype=np.int64),
                "action_mask": Box(0, 1, shape=(self.answer_slot + 1,), dtype=np.int8),
            }
        )
        self._spaces = {
            NAVIGATOR: (self._action_space, self._observation_space),
            ANSWERER: (answer_action, answer_observation),
        }
        self._rng = np.random.default_rng()
        self.question: Question | None = None

    def observation_space(self, agent: str) -> Dict:
        return self._spaces[agent][1]

    def action_space(self, agent: str) -> Discrete:
        return self._spaces[agent][0]

    # ------------------------------------------------------------------ episode
    def reset(self, seed: int | None = None, options: Mapping[str, Any] | None = None) -> None:
        if seed is not None:
            self._rng = np.random.default_rng(seed)
        options = options or {}
        chosen = options.get("question")
        if chosen is None:
            self.question = self.pool[int(self._rng.integers(len(self.pool)))]
        else:
            matches = [q for q in self.pool if q.id == chosen]
            if not matches:
                raise ArenaError(f"No question {chosen!r} in this split.", "pass a listed id.")
            self.question = matches[0]
        self.current = self.question.start
        self.hop = 0
        self.illegal = 0
        self.walk: list[tuple[str, str, str]] = []
        self.answered: str | None = None  # the navigator's commit
        self.navigator_done = False
        self.navigator_truncated = False
        self.chosen: str | None = None  # the answerer's option
        self.agents = list(self.possible_agents)
        self.agent_selection = NAVIGATOR
        self.rewards = dict.fromkeys(self.agents, 0.0)
        self._cumulative_rewards = dict.fromkeys(self.agents, 0.0)
        self.terminations = dict.fromkeys(self.agents, False)
        self.truncations = dict.fromkeys(self.agents, False)
        self.infos = {agent: self._info(agent) for agent in self.agents}
        self._total = 0.0

    def _edges(self) -> list[tuple[str, str]]:
        return self.kg.out_edges(self.current)[: self.answer_slot]

    def action_mask(self) -> np.ndarray:
        mask = np.zeros(self.answer_slot + 1, dtype=np.int8)
        if self.hop < self.config.max_hops:
            mask[: len(self._edges())] = 1
        mask[self.answer_slot] = 1
        return mask

    def _info(self, agent: str = NAVIGATOR) -> dict[str, Any]:
        q = self.question
        assert q is not None
        if agent == ANSWERER:  # no gold path for the seat that must find the answer
            return {"question": q.text}
        return {
            "question": q.text,
            "path_triples": [list(t) for t in q.path],
            "rationale": template_rationale(self.kg, q.path, q.answer),
        }

    def _chain_ids(self) -> np.ndarray:
        q = self.question
        assert q is not None
        rel = {r: i for i, r in enumerate(self.graph.relations)}
        chain = [rel[r] + 1 for r in q.chain[:MAX_CHAIN]]
        return np.array(chain + [0] * (MAX_CHAIN - len(chain)), dtype=np.int64)

    def observe(self, agent: str) -> dict[str, Any]:
        q = self.question
        assert q is not None, "call reset() before observe()"
        if agent == ANSWERER:
            return answerer_observation(
                self.kg,
                self.graph,
                q,
                self._chain_ids(),
                self.walk,
                self.answered,
                self.navigator_done and self.config.answerer_mode == "with_rationale",
                self.config.max_hops,
                self.num_choices,
            )
        g, rel = self.graph.node, {r: i for i, r in enumerate(self.graph.relations)}
        path = np.full((self.config.max_hops, 2), -1, dtype=np.int64)
        for i, (_, r, t) in enumerate(self.walk[: self.config.max_hops]):
            path[i] = (rel[r], g[t])
        return {
            "question": self._chain_ids(),
            "start": np.int64(g[q.start]),
            "current_entity": np.int64(g[self.current]),
            "hop": np.int64(min(self.hop, self.config.max_hops)),
            "path": path,
            "action_mask": self.action_mask(),
        }

    def step(self, action: Any) -> None:
        agent = self.agent_selection
        if self.terminations[agent] or self.truncations[agent]:
            self._was_dead_step(action)
            return
        q = self.question
        assert q is not None
        slot = self._slot(agent, action, int(self.action_space(agent).n))
        self._cumulative_rewards[agent] = 0.0
        reward = self._answer(slot) if agent == ANSWERER else self._navigate(slot)
        self._total += reward
        self.rewards = dict.fromkeys(self.agents, reward)  # shared when there are two seats
        self.infos = {name: self._info(name) for name in self.agents}
        self._accumulate_rewards()
        if self.render_mode == "human":
            self.render()

    @staticmethod
    def _slot(agent: str, action: Any, n: int) -> int:
        try:
            slot = int(action)
        except (TypeError, ValueError) as exc:
            raise IllegalActionError(
                f"{agent} action {action!r} is not an integer.", "pass a slot index."
            ) from exc
        if slot != action or not 0 <= slot < n:
            raise IllegalActionError(
                f"{agent} action {action!r} is outside Discrete({n}).", "pass a slot index."
            )
        return slot

    def _hand_over(self) -> None:
        """The navigator is done: the answerer (when there is one) moves next."""
        self.navigator_done = True
        self.agent_selection = ANSWERER

    def _answer(self, slot: int) -> float:
        q = self.question
        assert q is not None
        if slot < len(q.choices):
            self.chosen = q.choices[slot]
        elif self.config.illegal_action == "error":
            raise IllegalActionError(
                f"answerer option {slot} is masked ({len(q.choices)} options here).",
                "pick an option whose action_mask is 1.",
            )
        else:
            self.illegal += 1  # no option chosen: a wrong answer
        self.terminations = dict.fromkeys(self.agents, True)
        return 1.0 if self.chosen == q.answer else -1.0

    def _navigate(self, slot: int) -> float:
        q = self.question
        assert q is not None
        agent = NAVIGATOR
        two_seats = self.config.answerer_mode != "none"
        reward = 0.0
        edges = self._edges()
        if slot == self.answer_slot:
            self.answered = self.current
            if two_seats:
                self._hand_over()
            else:
                reward = 1.0 if self.current == q.answer else -1.0
                self.terminations[agent] = True
        elif self.hop >= self.config.max_hops:
            self.navigator_truncated = True  # a move past the hop limit ends the walk
            if two_seats:
                self._hand_over()
            else:
                self.truncations[agent] = True
        else:
            if slot < len(edges):
                relation, tail = edges[slot]
                self.walk.append((self.current, relation, tail))
                self.current = tail
            elif self.config.illegal_action == "error":
                raise IllegalActionError(
                    f"navigator slot {slot} is masked ({len(edges)} edges here).",
                    "pick a slot whose action_mask is 1.",
                )
            else:
                self.illegal += 1
            self.hop += 1
            reward = -float(self.config.hop_cost)
        return reward

    def episode_record(self) -> dict[str, Any]:
        """The episode as plain JSON data for the store and the summary."""
        q = self.question
        assert q is not None
        two_seats = self.config.answerer_mode != "none"
        final = self.chosen if two_seats else self.answered
        return {
            "question_id": q.id,
            "question": q.text,
            "split": q.split,
            "chain": list(q.chain),
            "start": q.start,
            "answer": q.answer,
            "gold_path": [list(t) for t in q.path],
            "walk": [list(t) for t in self.walk],
            "answered": final,
            "correct": final is not None and final == q.answer,
            "hops": self.hop,
            "illegal_actions": self.illegal,
            "truncated": self.navigator_truncated,
            "return": self._total,
            "answerer_mode": self.config.answerer_mode,
            "choices": list(q.choices),
            "navigator_answered": self.answered,
            "navigator_correct": self.answered == q.answer,
            "rationale": (
                walk_rationale(self.kg, self.walk, self.answered)
                if self.config.answerer_mode == "with_rationale" and self.navigator_done
                else None
            ),
        }

    def render(self) -> str | None:
        if self.render_mode is None:
            return None
        q = self.question
        text = (
            f"{self.metadata['name']}: no episode"
            if q is None
            else f"{q.text} | at {self.kg.label(self.current)} after {self.hop} hop(s)"
        )
        if q is not None and self.chosen is not None:
            text += f" | answerer chose {self.kg.label(self.chosen)}"
        if self.render_mode == "human":
            print(text)
            return None
        return text

    def close(self) -> None:
        return None


def env(**kwargs: Any) -> AECEnv:
    """The environment in PettingZoo's ``OrderEnforcingWrapper``; keyword arguments are
    :class:`KGTraversalConfig` fields plus ``render_mode``."""
    render_mode = kwargs.pop("render_mode", None)
    config = KGTraversalConfig(**kwargs)
    return wrappers.OrderEnforcingWrapper(KGTraversalEnv(config, render_mode=render_mode))


def random_legal_action(observation: Mapping[str, Any], seed: int) -> int:
    """A uniformly random unmasked slot (a tiny scripted navigator for tests)."""
    legal = np.flatnonzero(np.asarray(observation["action_mask"]))
    return int(np.random.default_rng(seed).choice(legal))


def gold_actions(environment: KGTraversalEnv) -> list[int]:
    """The slots that walk the current question's gold path and then answer."""
    q = environment.question
    assert q is not None
    actions = []
    for head, relation, tail in q.path:
        edges = environment.kg.out_edges(head)[: environment.answer_slot]
        actions.append(edges.index((relation, tail)))
    return [*actions, environment.answer_slot]
