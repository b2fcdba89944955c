"""An agent that answers with a language model: a backend + a role prompt.

The environment already gives each player the chat it may see (``obs["messages"]``), so
the agent's job is small: optionally put its own role prompt in the system slot, send
the whole round to the backend in **one** ``generate`` call (the fast path the arena
relies on), and return the completions as actions.

Seeds: a fixed ``SamplingParams.seed`` would make every round sample the same random
numbers. The agent instead derives one seed per call from its base seed and a call
counter, so a run is reproducible end to end (``reset(seed)`` restarts the sequence)
while rounds still differ.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from agents.backends.base import SamplingParams, TextGenerator
from agents.base import Action, Agent, Observation
from envs.errors import ArenaError

_SEED_MASK = (1 << 63) - 1


def _call_seed(base: int, call: int) -> int:
    """A distinct, reproducible seed for call number ``call`` of an agent seeded ``base``."""
    import hashlib

    digest = hashlib.sha256(f"{base}:{call}".encode()).digest()
    return int.from_bytes(digest[:8], "little") & _SEED_MASK


class LLMAgent(Agent):
    """Plays any text role by sending its observed chat to a :class:`TextGenerator`."""

    def __init__(
        self,
        generator: TextGenerator,
        *,
        sampling: SamplingParams,
        system_prompt: str | None = None,
    ) -> None:
        self.generator = generator
        self.sampling = sampling
        self.system_prompt = system_prompt
        self._base_seed = sampling.seed
        self._calls = 0

    def chat_for(self, observation: Observation) -> list[dict[str, str]]:
        """The chat sent to the model: the observed messages, with our role prompt on top."""
        if isinstance(observation, str):
            messages: list[dict[str, str]] = [{"role": "user", "content": observation}]
        elif isinstance(observation, Mapping) and "messages" in observation:
            messages = [
                {"role": str(m["role"]), "content": str(m["content"])}
                for m in observation["messages"]
            ]
        else:
            raise ArenaError(
                f"LLMAgent got an observation without 'messages': {type(observation).__name__}.",
                "give it a text environment's observation (a dict with a 'messages' chat) "
                "or a plain prompt string.",
            )
        if self.system_prompt is not None:
            system = {"role": "system", "content": self.system_prompt}
            if messages and messages[0]["role"] == "system":
                messages[0] = system
            else:
                messages.insert(0, system)
        return messages

    def act_batch(self, observations: Sequence[Observation]) -> list[Action]:
        if not observations:
            return []
        chats = [self.chat_for(obs) for obs in observations]
        sampling = self.sampling
        if self._base_seed is not None:
            sampling = dataclasses.replace(sampling, seed=_call_seed(self._base_seed, self._calls))
        self._calls += 1
        return list(self.generator.generate(chats, sampling))

    def reset(self, seed: int | None = None) -> None:
        """Restart the per-call seed sequence (from ``seed`` when given)."""
        if seed is not None:
            self._base_seed = seed
        self._calls = 0

    def describe(self) -> dict[str, Any]:
        return {
            **super().describe(),
            "sampling": dataclasses.asdict(self.sampling) | {"seed": self._base_seed},
            "system_prompt": self.system_prompt,
            "generator": self.generator.describe(),
        }

    def close(self) -> None:
        self.generator.close()
