"""Scripted players of the knowledge-graph games (``kg_traversal_v0``, ``kg_answer_v0``).

* navigator seat — ``scripted:random-walk``: a uniformly random legal move (an edge or
  ANSWER), drawn from the runner's per-episode seed; the floor a trained navigator must
  beat.
* answerer seat — ``scripted:follow-rationale``: the option the navigator committed
  when the rationale shows it, else a seeded uniform pick (so ``without_rationale``
  measures what the question alone is worth to an answerer that cannot read it).

Both read only the observation's ``action_mask`` (and ``choices``/``committed``), so any
KG loaded by the environment works.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from agents.base import Agent, AgentContext, Observation
from agents.registry import AgentSpecError
from envs.kg.answerer import follow_rationale
from envs.kg.env import random_legal_action

NAVIGATOR_ROLE = "navigator"
ANSWERER_ROLE = "answerer"
KG_ROLES = (NAVIGATOR_ROLE, ANSWERER_ROLE)


class SeededPolicyAgent(Agent):
    """An agent whose move is ``policy(observation, seed)``: every draw from the seed."""

    def __init__(self, name: str, policy: Callable[[Any, int], int], seed: int | None) -> None:
        self.name = name
        self.policy = policy
        self.fallback_seed = 0 if seed is None else int(seed)

    def act_batch(
        self, observations: Sequence[Observation], seeds: Sequence[int] | None = None
    ) -> list[Any]:
        used = seeds if seeds is not None else [self.fallback_seed] * len(observations)
        return [self.policy(obs, int(s)) for obs, s in zip(observations, used, strict=True)]

    def describe(self) -> dict[str, Any]:
        return {"kind": "scripted", "name": self.name}


#: name -> (seat, policy, what it does): the navigator's uniformly random legal move; the
#: answerer's committed entity when shown, else a seeded uniform option
KG_AGENTS: dict[str, tuple[str, Callable[[Any, int], int], str]] = {
    "random-walk": (NAVIGATOR_ROLE, random_legal_action, "Navigator: a uniformly random "
                    "legal move."),
    "follow-rationale": (ANSWERER_ROLE, follow_rationale, "Answerer: the committed entity "
                         "when shown, else a seeded uniform option."),
}  # fmt: skip


def make_kg_agent(argument: str, context: AgentContext) -> Agent:
    """The scripted KG agent ``argument`` for the seat ``context.role``."""
    if context.options:
        raise AgentSpecError(
            f"Scripted KG agents take no options, got {', '.join(sorted(context.options))}.",
            f"write scripted:{argument} alone.",
        )
    for_seat = [name for name, (role, _, _) in KG_AGENTS.items() if role == context.role]
    if argument not in KG_AGENTS or KG_AGENTS[argument][0] != context.role:
        raise AgentSpecError(
            f"{argument!r} is not a scripted {context.role}.",
            f"use scripted:{' or scripted:'.join(for_seat)} in the {context.role} seat.",
        )
    return SeededPolicyAgent(argument, KG_AGENTS[argument][1], context.seed)
