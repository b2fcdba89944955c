"""The one text-generation interface every LLM backend implements.

An LLM agent is a backend + a role prompt + an output parser. Keeping the backend
behind ``generate(chats, sampling) -> completions`` lets a user swap Hugging Face
transformers for vLLM or an OpenAI-compatible server without touching the agent, the
judge or the arena: they all speak chats (lists of ``{"role", "content"}`` dicts, the
format of Hugging Face chat templates) and get back the new text only.

Batching is the contract, not an optimisation: the arena steps many games in
lock-step and calls a backend once per round, so ``generate`` takes every chat of the
round at once and a GPU backend can fill its batch.

Randomness is per chat, not per call (the per-episode contract of :mod:`envs.seeding`):
``generate`` takes one seed per chat, and a sampled completion must be a function of
(chat, sampling parameters, its seed) only, never of which other chats share the call,
how many there are, their order or the backend's internal batch size. That is what lets
the arena batch any episodes together and still replay or resume each one exactly.
Loader settings (device, dtype, batch size) belong to the generator, sampling settings
to the caller; generators are shared between agents and judges through
:mod:`agents.generators`.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from envs.errors import ArenaError
from envs.seeding import sub_seed

Chat = Sequence[Mapping[str, str]]


@dataclass(frozen=True)
class SamplingParams:
    """How to sample: temperature + nucleus (top-p) only, nothing hidden.

    ``temperature == 0`` means greedy decoding. Backends must not add their own sampling
    defaults (a model's ``top_k=20``, transformers' global ``top_k=50``) so the same
    parameters mean the same distribution on every backend.

    ``seed`` is for callers that pass no per-chat seeds to ``generate``: chat *i* of the
    call then samples from ``sub_seed(seed, i)`` (:func:`chat_seeds`), so the same call
    gives the same texts whatever the backend's batch size, but a chat's text depends on
    its index in the call. ``None`` draws fresh randomness. Per-chat seeds, when given,
    take precedence and make each text independent of the rest of the call.
    """

    max_new_tokens: int = 64
    temperature: float = 1.0
    top_p: float = 1.0
    seed: int | None = None

    def __post_init__(self) -> None:
        if isinstance(self.max_new_tokens, bool) or not isinstance(self.max_new_tokens, int):
            raise ArenaError(
                f"max_new_tokens must be an integer, got {self.max_new_tokens!r}.",
                "pass a whole number such as max_new_tokens=64.",
            )
        if self.max_new_tokens < 1:
            raise ArenaError(
                f"max_new_tokens must be at least 1, got {self.max_new_tokens}.",
                "pass a positive number such as max_new_tokens=64.",
            )
        if not (math.isfinite(self.temperature) and self.temperature >= 0):
            raise ArenaError(
                f"temperature must be >= 0, got {self.temperature}.",
                "use 0 for greedy decoding or a positive value such as 0.7.",
            )
        if not 0 < self.top_p <= 1:  # also rejects NaN
            raise ArenaError(
                f"top_p must be in (0, 1], got {self.top_p}.",
                "use 1.0 to disable nucleus sampling, or a value such as 0.9.",
            )

    @property
    def greedy(self) -> bool:
        return self.temperature == 0


def chat_seeds(
    count: int, sampling: SamplingParams, seeds: Sequence[int] | None = None
) -> list[int]:
    """The seed of each of ``count`` chats: ``seeds`` checked, else derived (see below).

    * ``seeds`` given: one non-negative integer per chat, returned as is;
    * else ``sampling.seed`` given: ``sub_seed(sampling.seed, i)`` for chat *i* (the same
      call is reproducible; see :class:`SamplingParams`);
    * else fresh seeds from torch's global RNG, so ``torch.manual_seed`` still governs
      an unseeded call as it did when backends sampled from that stream directly.
    """
    if seeds is not None:
        values = list(seeds)
        if len(values) != count:
            raise ArenaError(
                f"generate got {len(values)} seeds for {count} chats.",
                "pass exactly one seed per chat (or seeds=None).",
            )
        for value in values:
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ArenaError(
                    f"A per-chat seed must be a non-negative integer, got {value!r}.",
                    "derive seeds with envs.seeding (draw_seed, sub_seed).",
                )
        return values
    if sampling.seed is not None:
        return [sub_seed(sampling.seed, i) for i in range(count)]
    import torch

    return [int(v) for v in torch.randint(0, (1 << 63) - 1, (count,)).tolist()]


class TextGenerator(ABC):
    """A batched chat-completion engine (HF transformers, vLLM, an HTTP endpoint...)."""

    @abstractmethod
    def generate(
        self,
        chats: Sequence[Chat],
        sampling: SamplingParams,
        seeds: Sequence[int] | None = None,
    ) -> list[str]:
        """One completion per chat, in order: only the new text, special tokens removed.

        The backend applies the model's chat template with a generation prompt, so a
        chat normally ends with a user (or system) message.

        ``seeds[i]`` (non-negative, one per chat) is the only randomness chat *i* may
        use: its sampled text must not depend on the other chats of the call (module
        docstring). Without ``seeds`` a backend derives them with :func:`chat_seeds`.
        Greedy decoding ignores them.
        """

    @abstractmethod
    def describe(self) -> dict[str, Any]:
        """What a run manifest records to replay this backend (model, weights hash...)."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release engines, threads or GPU memory."""


@dataclass(frozen=True)
class TokenUsage:
    """Token counts of one completion, as the server reported them (``None``: not sent)."""

    prompt_tokens: int | None = None
    completion_tokens: int | None = None

    def __add__(self, other: TokenUsage) -> TokenUsage:
        def add(a: int | None, b: int | None) -> int | None:
            return None if a is None and b is None else (a or 0) + (b or 0)

        return TokenUsage(
            add(self.prompt_tokens, other.prompt_tokens),
            add(self.completion_tokens, other.completion_tokens),
        )
