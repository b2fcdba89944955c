"""An agent that answers with a language model: a backend + a role prompt + a parser.

The environment already gives each player the chat it may see (``obs["messages"]``), so
the agent's job is small: optionally put its own role prompt in the system slot, send
the whole round to the backend in **one** ``generate`` call (the fast path the arena
relies on), and turn each completion into an action with its parser.

Seeds (the per-episode contract of :mod:`envs.seeding`):

* **In a match** the runner passes one seed per observation, derived from (run seed,
  episode seed, seat, move). The agent hands them to the generator as per-chat seeds
  (mixed with its ``seed_salt`` when the spec gave ``seed=``, so two agents that differ
  only by ``seed=`` sample differently), and the generator samples each chat from its
  own seed alone. A completion is then the same whatever else shares the batch, the
  batch size, the order of episodes, the split into chunks or a restart.
* **Outside a match** (``seeds=None``) it falls back to the older scheme: one seed per
  call from its base seed and a call counter, so a sequence of calls is reproducible
  (``reset(seed)`` restarts it) while rounds still differ; the generator derives the
  per-chat seeds from that call seed and each chat's index.

Parser: the text environments take the completion itself as the action (the default),
but an agent for a game with discrete actions, or a navigator that must name a node of
a knowledge graph, needs text mapped to an action. ``parser(text, observation)`` does
that per observation; it sees the observation so it can check the text against what is
legal there. It should return a valid action (e.g. a fallback) rather than raise for
text it cannot read: a model's malformed answer is a move, not a crash.
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from agents.backends.base import SamplingParams, TextGenerator
from agents.base import Action, Agent, Observation
from envs.errors import ArenaError
from envs.seeding import mix64, sub_seed

_SEED_MASK = (1 << 63) - 1

#: Maps one completion (and the observation it answers) to the action played.
OutputParser = Callable[[str, Observation], Action]


def _call_seed(base: int, call: int) -> int:
    """A distinct, reproducible seed for call number ``call`` of an agent seeded ``base``."""
    import hashlib

    digest = hashlib.sha256(f"{base}:{call}".encode()).digest()
    return int.from_bytes(digest[:8], "little") & _SEED_MASK


def _takes_seeds(generator: TextGenerator) -> bool:
    """Whether ``generator.generate`` accepts per-chat ``seeds`` (the current contract)."""
    try:
        parameters = inspect.signature(generator.generate).parameters
    except (TypeError, ValueError):
        return False
    return "seeds" in parameters or any(
        p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()
    )


class LLMAgent(Agent):
    """Plays any text role by sending its observed chat to a :class:`TextGenerator`.

    ``generator`` is usually a shared handle from :func:`agents.generators.acquire_generator`
    (the agent owns the handle: :meth:`close` gives it back). ``sampling`` holds the
    sampling settings and, in ``sampling.seed``, the fallback base seed. ``seed_salt``
    (the spec's ``seed=``) is mixed into every per-episode seed; ``None`` uses the
    runner's seeds as they are. ``parser`` turns text into actions (module docstring);
    ``None`` plays the text itself. A greedy agent reports ``stochastic = False``, so the
    runner does not derive seeds it would ignore.
    """

    def __init__(
        self,
        generator: TextGenerator,
        *,
        sampling: SamplingParams,
        system_prompt: str | None = None,
        parser: OutputParser | None = None,
        seed_salt: int | None = None,
    ) -> None:
        self.generator = generator
        self.sampling = sampling
        self.system_prompt = system_prompt
        self.parser = parser
        self.seed_salt = seed_salt
        self._base_seed = sampling.seed
        self._calls = 0
        self._closed = False
        self._per_chat_seeds = _takes_seeds(generator)
        # Greedy decoding draws nothing: the runner may skip deriving seeds for it.
        self.stochastic = not sampling.greedy

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

    def chat_seeds(self, seeds: Sequence[int]) -> list[int]:
        """The generator's per-chat seeds for the runner's ``seeds`` (salted if asked)."""
        if self.seed_salt is None:
            return [int(seed) for seed in seeds]
        return [sub_seed(int(seed), self.seed_salt) for seed in seeds]

    def act_batch(
        self, observations: Sequence[Observation], seeds: Sequence[int] | None = None
    ) -> list[Action]:
        if not observations:
            return []
        if seeds is not None and len(seeds) != len(observations):
            raise ArenaError(
                f"LLMAgent got {len(seeds)} seeds for {len(observations)} observations.",
                "pass exactly one seed per observation (or seeds=None).",
            )
        chats = [self.chat_for(obs) for obs in observations]
        if seeds is not None:
            texts = self._generate(chats, self.sampling, self.chat_seeds(seeds))
        else:
            sampling = self.sampling
            if self._base_seed is not None:
                sampling = dataclasses.replace(
                    sampling, seed=_call_seed(self._base_seed, self._calls)
                )
            self._calls += 1
            texts = self._generate(chats, sampling, None)
        if len(texts) != len(chats):
            raise ArenaError(
                f"The generator returned {len(texts)} completions for {len(chats)} chats.",
                "a TextGenerator must return exactly one completion per chat, in order.",
            )
        if self.parser is None:
            return list(texts)
        return [self.parser(text, obs) for text, obs in zip(texts, observations, strict=True)]

    def _generate(
        self, chats: list[list[dict[str, str]]], sampling: SamplingParams, seeds: list[int] | None
    ) -> list[str]:
        if self._per_chat_seeds:
            return list(self.generator.generate(chats, sampling, seeds))
        # A generator written before per-chat seeds: one seed for the whole call, a
        # function of every chat's seed. Reproducible, but not batch-invariant.
        if seeds is not None and not sampling.greedy:
            combined = 0
            for seed in seeds:
                combined = mix64(combined ^ seed)
            sampling = dataclasses.replace(sampling, seed=combined & _SEED_MASK)
        return list(self.generator.generate(chats, sampling))

    def reset(self, seed: int | None = None) -> None:
        """Restart the fallback per-call seed sequence (from ``seed`` when given)."""
        if seed is not None:
            self._base_seed = seed
        self._calls = 0

    def describe(self) -> dict[str, Any]:
        parser = None
        if self.parser is not None:
            parser = getattr(self.parser, "__qualname__", None) or type(self.parser).__name__
            module = getattr(self.parser, "__module__", None)
            parser = f"{module}.{parser}" if module else parser
        return {
            **super().describe(),
            "sampling": dataclasses.asdict(self.sampling) | {"seed": self._base_seed},
            "seed_salt": self.seed_salt,
            "per_chat_seeds": self._per_chat_seeds,
            "system_prompt": self.system_prompt,
            "parser": parser,
            "generator": self.generator.describe(),
        }

    def close(self) -> None:
        """Release the generator (a shared handle frees the model with its last user)."""
        if self._closed:
            return
        self._closed = True
        self.generator.close()
