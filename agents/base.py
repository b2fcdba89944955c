"""The one interface every player implements.

An agent maps observations to actions and knows nothing about the environment beyond
its observation. ``act_batch`` is the fast path: the arena steps many games in
lock-step and calls each agent once per round, so an LLM agent can batch generation
and a scripted agent pays Python overhead once. ``act`` is a convenience for one.

For the text environments an observation is a ``dict`` whose ``"messages"`` entry is
the chat this agent is allowed to see (``{"role", "content"}`` dicts, the format of
Hugging Face chat templates) plus environment-specific fields; the action is a ``str``.

Randomness (the per-episode contract, :mod:`envs.seeding`): the runner passes
``seeds``, one integer per observation, derived from (run seed, episode seed, seat,
move). An agent that samples must draw *only* from those seeds, never from a stream it
keeps across calls: then a transcript is the same whatever the batch size, the order of
episodes, the split into chunks or a restart. ``seeds`` is ``None`` when an agent is
called outside a match; it then falls back to its own seed. Agents written before this
contract (``act_batch(self, observations)``) still run: the runner sees that they take
no seeds and records them as not per-episode reproducible.
"""

from __future__ import annotations

import inspect
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
    ``seed`` is the fallback seed when an agent is called without per-episode seeds;
    ``options`` carries the parsed ``?key=value`` part of the spec string.

    What the seat looks like, for agents that need it (tabular agents): ``action_space``
    and ``observation_space`` are the seat's gymnasium spaces; ``game`` is a callable
    returning the environment's exact normal form (a ``theory.games.NormalFormGame``)
    where the environment has one, and ``player`` is this seat's index in it. They are
    ``None`` where unknown; agents must not need the environment object itself.
    """

    role: str | None = None
    seed: int | None = None
    options: Mapping[str, str] = field(default_factory=dict)
    action_space: Any = None
    observation_space: Any = None
    game: Any = None
    player: int | None = None


class Agent(ABC):
    """A player. Subclasses implement :meth:`act_batch`; everything else is optional."""

    #: The spec string that built this agent (recorded in every episode and manifest).
    spec: str = ""
    #: ``False`` for agents whose action is a pure function of the observation: the
    #: runner then skips deriving their seeds (a measurable saving on scripted paths).
    stochastic: bool = True

    @abstractmethod
    def act_batch(
        self, observations: Sequence[Observation], seeds: Sequence[int] | None = None
    ) -> list[Action]:
        """One action per observation, in order.

        ``seeds[i]`` is the seed of every random draw made for ``observations[i]`` (see
        the module docstring); deterministic agents ignore it.
        """

    def act(self, observation: Observation, seed: int | None = None) -> Action:
        return self.act_batch([observation], None if seed is None else [seed])[0]

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


def accepts_seeds(agent: Agent) -> bool:
    """Whether ``agent.act_batch`` takes per-observation ``seeds`` (the current contract)."""
    try:
        parameters = inspect.signature(agent.act_batch).parameters
    except (TypeError, ValueError):  # builtins / C callables: assume the old form
        return False
    return "seeds" in parameters or any(
        p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()
    )
