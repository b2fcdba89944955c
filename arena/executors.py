"""Executors: who plays a tournament's missing episodes, and where.

A tournament turns its missing episodes into :class:`WorkItem` s (cell, episode index,
episode seed, the agent spec in each seat) and hands them to an executor, which yields a
:class:`Finished` per item, in any order; the driver writes them to the store.

* :class:`InProcessExecutor` (the default) plays everything in this process through one
  :class:`AgentPool`: every agent loads once, and :func:`arena.match.play_jobs` runs all
  cells' games in one lock-step batch.
* :class:`arena.executors_ray.RayExecutor` (the ``distributed`` extra) spreads chunks of
  items over Ray actors, each holding its own :class:`AgentPool` (models load once per
  actor); a chunk whose actor died is played again elsewhere.

An :class:`AgentPool` is built from the tournament spec alone (environment, settings,
judge, agent specs, pinned identities), so a remote worker builds exactly the agents the
driver pinned, and refuses an agent whose weights changed.
"""

from __future__ import annotations

import shlex
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from agents.base import Agent
from agents.registry import make_agent
from arena.judging import make_judge
from arena.match import Job, play_jobs
from arena.results import TournamentSpec
from arena.store import agent_identity
from envs import load_game
from envs.errors import ArenaError


@dataclass(frozen=True)
class WorkItem:
    """One episode to play: its cell, index and seed, and the agent spec in each seat."""

    cell_id: int
    episode: int
    seed: int
    matchup: Mapping[str, str]


@dataclass(frozen=True)
class Finished:
    """A played episode (``error`` set if it failed): what the store keeps of it."""

    item: WorkItem
    rewards: dict[str, float]
    record: dict[str, Any]
    labels: dict[str, str]
    error: str | None = None
    transient: bool = False  # never played (its agent was disabled): not to be stored


class AgentPool:
    """The game, its config, the judge and the agents of one tournament, built lazily.

    ``agent(seat, spec)`` builds an agent once (a spec in two seats with the same spaces
    shares one instance, unless its description binds it to a role) and checks it
    against the identity pinned in the spec, so a checkpoint overwritten since it joined
    cannot mix its results with the old ones.
    """

    def __init__(self, spec: TournamentSpec, folder: str | None = None) -> None:
        self.spec = spec
        self.folder = folder  # named in fix hints (``DIR`` where unknown, e.g. a worker)
        self.game = load_game(spec.env)
        self.env_config = self.game.config(spec.env_config)
        probe = self.game.make_env(self.env_config, None)
        self.spaces = {seat: probe.action_space(seat) for seat in self.game.seats}
        self.obs_spaces = {seat: probe.observation_space(seat) for seat in self.game.seats}
        probe.close()
        self.judge: Any = None
        self.agents: dict[tuple[str, str], Agent] = {}
        self.identities: dict[str, Any] = {}
        self._built: dict[tuple[Any, ...], Agent] = {}

    def load_judge(self) -> Any:
        if self.judge is None and self.game.judged:
            self.judge = make_judge(self.spec.judge)
        return self.judge

    def judge_description(self) -> dict[str, Any] | None:
        judge = self.load_judge()
        return None if judge is None else {"spec": self.spec.judge, **judge.describe()}

    def data_description(self) -> dict[str, Any] | None:
        """The game's description of the data behind its config (``GameSpec.describe``:
        e.g. the seed pool's size and sha256), or None for a game without data."""
        if self.game.describe is None:
            return None
        return dict(self.game.describe(self.env_config))

    def agent(self, seat: str, spec_string: str, *, joining: bool = False) -> Agent:
        """Build (once) the agent ``spec_string`` for ``seat``; check its pinned identity.

        ``joining``: the agent is being added to this seat now, so a load failure is its
        own error (the spec may be pinned from another seat, but it never played here).
        """
        found = self.agents.get((seat, spec_string))
        if found is not None:
            return found
        normal_form = None
        player = None
        if self.game.normal_form is not None:
            solve_form, config = self.game.normal_form, self.env_config

            def normal_form() -> Any:
                return solve_form(config)

            player = self.game.player_index(seat)
        key: tuple[Any, ...] = (spec_string, repr(self.spaces[seat]), player)
        agent = self._built.get(key)
        if agent is not None and agent.describe().get("role") not in (None, seat):
            # Built for another seat's role (a scripted defender asked to attack): that
            # instance would play the wrong side, so this seat builds (and checks) its own.
            key = (*key, seat)
            agent = self._built.get(key)
        if agent is None:
            try:
                agent = make_agent(
                    spec_string,
                    role=seat,
                    seed=self.spec.seed,
                    action_space=self.spaces[seat],
                    observation_space=self.obs_spaces[seat],
                    game=normal_form,
                    player=player,
                )
            except ArenaError as exc:
                if spec_string in self.spec.identities and not joining:
                    roster = seat if self.spec.mode == "cross" else "players"
                    raise ArenaError(
                        f"Agent {spec_string!r} ({seat}) of this tournament can no longer be "
                        f"loaded: {exc.message}",
                        "restore it (its finished episodes are kept), or drop it with "
                        f"`arena tournament {shlex.quote(self.folder or 'DIR')} --drop "
                        f"{shlex.quote(roster + '=' + spec_string)}`.",
                    ) from exc
                raise
            agent.reset(self.spec.seed)
            self._built[key] = agent
        identity = agent_identity(spec_string, agent.describe())
        pinned = self.spec.identities.get(spec_string)
        if pinned is not None and pinned != identity.agent_id:
            raise ArenaError(
                f"Agent {spec_string!r} changed since it joined this tournament (identity "
                f"{pinned} → {identity.agent_id}: other weights or table).",
                "restore the original checkpoint, or add the new one under another path.",
            )
        self.identities[spec_string] = identity
        self.agents[(seat, spec_string)] = agent
        return agent

    def make_env(self) -> Any:
        return self.game.make_env(self.env_config, self.judge)

    def play(self, items: Iterable[WorkItem]) -> Iterator[Finished]:
        """Play ``items`` in one lock-step batch (failures recorded, not raised)."""
        spec = self.spec
        names: dict[tuple[str, str], str] = {}

        def jobs() -> Iterator[Job]:
            for item in items:
                agents = {seat: self.agent(seat, s) for seat, s in item.matchup.items()}
                yield Job(item, item.seed, agents)

        self.load_judge()
        for result in play_jobs(
            self.make_env,
            jobs(),
            run_seed=spec.seed,
            batch_size=spec.batch_size,
            parallel=self.game.parallel,
            on_error="record",
            agent_timeout=spec.agent_timeout,
        ):
            item: WorkItem = result.index
            if result.error is not None:
                yield Finished(item, {}, {}, {}, result.error, result.transient)
                continue
            labels = {}
            for seat, spec_string in item.matchup.items():
                agent = self.agents[(seat, spec_string)]
                first = result.first_actions.get(seat)
                label = agent.label_action(first) if first is not None else None
                if not label:
                    key = (seat, spec_string)
                    if key not in names:
                        names[key] = str(getattr(agent, "strategy_label", None) or agent.spec)
                    label = names[key]
                labels[seat] = label
            yield Finished(item, result.rewards, result.record, labels)

    def close(self) -> None:
        for agent in {id(a): a for a in self._built.values()}.values():
            agent.close()
        close_judge = getattr(self.judge, "close", None)
        if close_judge is not None:
            close_judge()


class Executor(ABC):
    """Plays work items somewhere; yields one :class:`Finished` per item, in any order."""

    @abstractmethod
    def run(self, items: Iterable[WorkItem]) -> Iterator[Finished]: ...

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release workers."""


class InProcessExecutor(Executor):
    """Everything in this process, through the driver's own :class:`AgentPool`."""

    def __init__(self, pool: AgentPool) -> None:
        self.pool = pool

    def run(self, items: Iterable[WorkItem]) -> Iterator[Finished]:
        return self.pool.play(items)


def make_executor(name: str, pool: AgentPool, **options: Any) -> Executor:
    """``"inprocess"`` (default) or ``"ray"`` (needs the ``distributed`` extra)."""
    if name in ("inprocess", "local", ""):
        return InProcessExecutor(pool)
    if name == "ray":
        try:
            from arena.executors_ray import RayExecutor
        except ImportError as exc:
            raise ArenaError(
                f"The Ray executor needs Ray ({exc}).",
                "pip install 'arena-safety[distributed]', or use --executor inprocess.",
            ) from exc
        return RayExecutor(pool.spec, **options)
    raise ArenaError(f"Unknown executor {name!r}.", "use --executor inprocess or ray.")
