"""The batched judge interface every judge implements."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import Any

from envs.attack_defense.verdicts import Verdict
from envs.errors import ArenaError

Chat = list[dict[str, str]]
Generator = Callable[[list[Chat]], Sequence[str]]


class Judge(ABC):
    """Labels (prompt, response) pairs; subclasses set ``name``."""

    name: str = "judge"

    @abstractmethod
    def judge(self, prompts: Sequence[str], responses: Sequence[str]) -> list[Verdict]:
        """One verdict per pair, in order."""

    @abstractmethod
    def describe(self) -> dict[str, Any]:
        """``{"name", "style", "settings"}`` for run manifests."""

    def judge_one(self, prompt: str, response: str) -> Verdict:
        return self.judge([prompt], [response])[0]


def _check_batch(prompts: Sequence[str], responses: Sequence[str]) -> None:
    if isinstance(prompts, str) or isinstance(responses, str):
        raise ArenaError(
            "judge() got a single string instead of a list of strings.",
            "pass lists: judge([prompt], [response]) or use judge_one(prompt, response).",
        )
    if len(prompts) != len(responses):
        raise ArenaError(
            f"judge() got {len(prompts)} prompts and {len(responses)} responses.",
            "pass exactly one response per prompt.",
        )
