"""The one interface every player implements.

An agent maps observations to actions and knows nothing about the environment beyond
its observation. ``act_batch`` is the fast path: the arena steps many games in
lock-step and calls each agent once per round, so an LLM agent can batch generation
and a scripted agent pays Python overhead once. ``act`` is a convenience for one.

For the text environments an observation is a ``dict`` whose ``"messages"`` entry is
the chat this agent is allowed to see (``{"role", "content"}`` dicts, the format of
Hugging Face chat templates) plus environment-specific fields; the action is a ``str``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

Observation = Any
Action = Any


@dataclass(frozen=True)
class AgentContext:
    """What the arena tells an agent factory: the seat it plays and a seed.

    ``role`` is the PettingZoo agent name (``"attacker"``, ``"defender"``, ...);
    ``seed`` makes sampling agents reproducible; ``options`` carries the parsed
    ``?key=value`` part of the spec string.
    """

    role: str | None = None
    seed: int | None = None
    options: Mapping[str, str] = field(default_factory=dict)


class Agent(ABC):
    """A player. Subclasses implement :meth:`act_batch`; everything else is optional."""

    #: The spec string that built this agent (recorded in every episode and manifest).
    spec: str = ""

    @abstractmethod
    def act_batch(self, observations: Sequence[Observation]) -> list[Action]:
        """One action per observation, in order."""

    def act(self, observation: Observation) -> Action:
        return self.act_batch([observation])[0]

    def label_action(self, action: Action) -> str | None:
        """The strategy an action used, when the agent can tell (``None`` otherwise).

        Lets a summary group the episodes of a mixed agent (e.g. a random scripted
        attacker) by what was actually played.
        """
        return None

    def reset(self, seed: int | None = None) -> None:  # noqa: B027 - optional hook
        """Called before a batch of episodes; stateless agents ignore it."""

    def describe(self) -> dict[str, Any]:
        """What a run manifest records about this agent (override to add model hashes)."""
        return {"spec": self.spec, "class": type(self).__name__}

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release engines, threads or GPU memory."""
