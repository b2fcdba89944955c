"""The one text-generation interface every LLM backend implements.

An LLM agent is a backend + a role prompt + an output parser. Keeping the backend
behind ``generate(chats, sampling) -> completions`` lets a user swap Hugging Face
transformers for vLLM or an OpenAI-compatible server without touching the agent, the
judge or the arena: they all speak chats (lists of ``{"role", "content"}`` dicts, the
format of Hugging Face chat templates) and get back the new text only.

Batching is the contract, not an optimisation: the arena steps many games in
lock-step and calls a backend once per round, so ``generate`` takes every chat of the
round at once and a GPU backend can fill its batch.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from envs.errors import ArenaError

Chat = Sequence[Mapping[str, str]]


@dataclass(frozen=True)
class SamplingParams:
    """How to sample: temperature + nucleus (top-p) only, nothing hidden.

    ``temperature == 0`` means greedy decoding. Backends must not add their own sampling
    defaults (a model's ``top_k=20``, transformers' global ``top_k=50``) so the same
    parameters mean the same distribution on every backend. ``seed`` makes one
    ``generate`` call reproducible; ``None`` draws fresh randomness.
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


class TextGenerator(ABC):
    """A batched chat-completion engine (HF transformers, vLLM, an HTTP endpoint...)."""

    @abstractmethod
    def generate(self, chats: Sequence[Chat], sampling: SamplingParams) -> list[str]:
        """One completion per chat, in order: only the new text, special tokens removed.

        The backend applies the model's chat template with a generation prompt, so a
        chat normally ends with a user (or system) message.
        """

    @abstractmethod
    def describe(self) -> dict[str, Any]:
        """What a run manifest records to replay this backend (model, weights hash...)."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release engines, threads or GPU memory."""
