"""Lock-step matches: many episodes of one environment, each agent called once a round.

A *round* advances every live game by one move. All games whose current agent is ``a``
are collected and ``a.act_batch`` is called once with their observations, so an LLM agent
generates for the whole batch at once and a scripted agent pays Python overhead once.
Parallel environments (simultaneous moves) are stepped natively: each seat is asked once
per round for all live games, then every game steps with its joint action.

**Continuous batching.** ``batch_size`` games are in flight; when one finishes, its slot
is refilled at once with the next episode, so a batch stays full and never waits for its
longest game. Results are yielded in the order of ``episode_seeds`` all the same.

**Per-episode randomness** (:mod:`envs.seeding`). Episode ``i`` is reset with
``episode_seeds[i]``, and every draw an agent makes for it uses
``draw_seed(run_seed, episode_seed, seat, move)``, passed as ``act_batch(observations,
seeds)``. So an episode's transcript depends on nothing but its seeds and the inputs:
not the batch size, the order, the split into chunks or a restart.

**Batched judging.** Before a round's moves are applied, the judge requests they will
cause are prefetched in one batch where the environment declares
:class:`~envs.game_spec.JudgesInBatches` and its judge :class:`~envs.game_spec.BatchJudge`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from agents.base import Agent, accepts_seeds
from envs.errors import IllegalActionError
from envs.game_spec import BatchJudge, JudgesInBatches, RecordsEpisodes
from envs.seeding import mix64, seat_code

_MASK64 = (1 << 64) - 1
_MASK63 = (1 << 63) - 1


@dataclass(frozen=True)
class EpisodeResult:
    """One finished episode: its index and seed, total rewards, the env's record, and
    the first action each seat played (so a mixed agent can label its strategy)."""

    index: int
    seed: int
    rewards: dict[str, float]
    record: dict[str, Any]
    first_actions: dict[str, Any] = field(default_factory=dict)


class _Slot:
    """One game in flight: its environment and the bookkeeping of the current episode."""

    __slots__ = (
        "base",
        "env",
        "first",
        "index",
        "live",
        "moves",
        "obs",
        "raw",
        "seed",
        "streams",
        "totals",
    )

    def __init__(self, env: Any, raw: Any = None) -> None:
        self.env = env
        self.raw = env if raw is None else raw
        self.base = -1
        self.index = -1
        self.seed = 0
        self.totals: dict[str, float] = {}
        self.streams: dict[str, int] = {}
        self.moves: dict[str, int] = {}
        self.first: dict[str, Any] = {}
        self.obs: dict[str, Any] = {}
        self.live = False


class _Seeder:
    """Per-(episode, seat) random streams; each move gets the next seed of its stream."""

    _MOVES = tuple(mix64(m) for m in range(64))

    def __init__(self, run_seed: int, seats: Sequence[str]) -> None:
        self.run = mix64(run_seed & _MASK64)
        self.codes = {seat: seat_code(seat) for seat in seats}

    def start(self, slot: _Slot) -> None:
        slot.base = -1
        if slot.streams:
            slot.streams = {}
            slot.moves = {}

    def next(self, slot: _Slot, seat: str) -> int:
        stream = slot.streams.get(seat)
        if stream is None:
            base = slot.base
            if base < 0:
                base = slot.base = mix64(self.run ^ (slot.seed & _MASK64))
            stream = slot.streams[seat] = mix64(base ^ self.codes[seat])
            move = 0
        else:
            move = slot.moves[seat]
        slot.moves[seat] = move + 1
        moves = self._MOVES
        return mix64(stream ^ (moves[move] if move < 64 else mix64(move))) & _MASK63


def _wants_seeds(agent: Agent) -> bool:
    """Deterministic agents (``stochastic = False``) and pre-contract agents get none."""
    return bool(getattr(agent, "stochastic", True)) and accepts_seeds(agent)


def play_episodes(
    make_env: Callable[[], Any],
    agents: Mapping[str, Agent],
    episode_seeds: Sequence[int],
    *,
    run_seed: int = 0,
    batch_size: int = 64,
    parallel: bool = False,
) -> Iterator[EpisodeResult]:
    """Play one episode per seed in lock-step, ``batch_size`` at a time; yield in order.

    ``make_env()`` builds one environment: an AEC environment, or a PettingZoo parallel
    environment when ``parallel`` is true. ``agents`` maps every seat to its agent (one
    agent may sit in several seats).
    """
    seeds = [int(s) for s in episode_seeds]
    if not seeds:
        return
    width = max(1, min(int(batch_size), len(seeds)))
    seat_names = list(agents)
    seeder = _Seeder(run_seed, seat_names)
    seeded = {seat: _wants_seeds(agent) for seat, agent in agents.items()}
    envs = [make_env() for _ in range(width)]
    slots = [_Slot(env, None if parallel else env.unwrapped) for env in envs]
    runner = _ParallelRunner if parallel else _AECRunner
    engine = runner(slots, agents, seeder, seeded)
    pending = iter(enumerate(seeds))
    ready: dict[int, EpisodeResult] = {}
    next_index = 0
    for slot in slots:
        engine.start(slot, next(pending, None))
    while any(slot.live for slot in slots):
        done = engine.round()
        # Finish every done game, then restart them: running each env method over the
        # whole group keeps the interpreter's and CPU's caches warm (~10% on scripted paths).
        for slot in done:
            ready[slot.index] = engine.finish(slot)
        for slot in done:
            engine.start(slot, next(pending, None))
        while next_index in ready:
            yield ready.pop(next_index)
            next_index += 1
    while next_index in ready:  # pragma: no cover - every result is yielded above
        yield ready.pop(next_index)
        next_index += 1


class _Runner(ABC):
    def __init__(
        self,
        slots: list[_Slot],
        agents: Mapping[str, Agent],
        seeder: _Seeder,
        seeded: Mapping[str, bool],
    ) -> None:
        self.slots = slots
        self.agents = agents
        self.seeder = seeder
        self.seeded = seeded
        raw = slots[0].raw
        self.records = isinstance(raw, RecordsEpisodes)

    def start(self, slot: _Slot, item: tuple[int, int] | None) -> None:
        if item is None:
            slot.live = False
            return
        slot.index, slot.seed = item
        slot.first = {}
        self.seeder.start(slot)
        slot.live = True
        self.reset(slot)

    @abstractmethod
    def reset(self, slot: _Slot) -> None:
        """Reset the slot's environment for its (new) episode seed."""

    @abstractmethod
    def round(self) -> list[_Slot]:
        """Advance every live game by one move; return the games that finished."""

    def finish(self, slot: _Slot) -> EpisodeResult:
        raw = slot.raw
        record = raw.episode_record() if self.records else {}
        return EpisodeResult(slot.index, slot.seed, slot.totals, record, slot.first)

    def act(self, seat: str, live: list[_Slot], observations: list[Any]) -> list[Any]:
        agent = self.agents[seat]
        if self.seeded[seat]:
            seeder = self.seeder
            actions = agent.act_batch(observations, [seeder.next(slot, seat) for slot in live])
        else:
            actions = agent.act_batch(observations)
        if len(actions) != len(live):
            raise IllegalActionError(
                f"Agent {agent.spec or type(agent).__name__!r} returned {len(actions)} actions "
                f"for {len(live)} observations.",
                "act_batch must return exactly one action per observation, in order.",
            )
        for slot, action in zip(live, actions, strict=True):
            if seat not in slot.first:
                slot.first[seat] = action
        return actions


class _AECRunner(_Runner):
    """Turn-based games: group live games by whose turn it is."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        raw = self.slots[0].raw
        self.prefetch = isinstance(raw, JudgesInBatches) and isinstance(raw.judge, BatchJudge)

    def reset(self, slot: _Slot) -> None:
        slot.env.reset(seed=slot.seed)
        # After a reset through the wrappers, step the raw environment: this loop keeps
        # the AEC order itself, and the wrappers' attribute forwarding costs ~20% here.
        slot.totals = dict.fromkeys(slot.raw.possible_agents, 0.0)

    def round(self) -> list[_Slot]:
        by_seat: dict[str, list[_Slot]] = {}
        for slot in self.slots:
            if slot.live:
                by_seat.setdefault(slot.raw.agent_selection, []).append(slot)
        for seat, group in by_seat.items():
            self._move(seat, group)
        done = [slot for slot in self.slots if slot.live and not slot.raw.agents]
        for slot in done:
            slot.live = False
        return done

    def _move(self, seat: str, group: list[_Slot]) -> None:
        acting: list[_Slot] = []
        observations = []
        for slot in group:
            game = slot.raw
            if game.terminations[seat] or game.truncations[seat]:
                game.step(None)
                continue
            acting.append(slot)
            observations.append(game.observe(seat))
        if not acting:
            return
        actions = self.act(seat, acting, observations)
        games = [slot.raw for slot in acting]
        if self.prefetch:
            _prefetch_judgements(games, actions)
        for slot, game, action in zip(acting, games, actions, strict=True):
            game.step(action)
            totals = slot.totals
            for name, reward in game.rewards.items():
                totals[name] += float(reward)


class _ParallelRunner(_Runner):
    """Simultaneous-move games: every live seat acts, then each game steps once."""

    def reset(self, slot: _Slot) -> None:
        observations, _ = slot.env.reset(seed=slot.seed)
        slot.obs = observations
        slot.totals = dict.fromkeys(slot.env.possible_agents, 0.0)

    def round(self) -> list[_Slot]:
        live = [slot for slot in self.slots if slot.live]
        joint: dict[int, dict[str, Any]] = {id(slot): {} for slot in live}
        for seat in self.agents:
            acting = [slot for slot in live if seat in slot.env.agents]
            if not acting:
                continue
            actions = self.act(seat, acting, [slot.obs[seat] for slot in acting])
            for slot, action in zip(acting, actions, strict=True):
                joint[id(slot)][seat] = action
        done = []
        for slot in live:
            observations, rewards, _, _, _ = slot.env.step(joint[id(slot)])
            slot.obs = observations
            totals = slot.totals
            for name, reward in rewards.items():
                totals[name] += float(reward)
            if not slot.env.agents:
                slot.live = False
                done.append(slot)
        return done


def _prefetch_judgements(games: list[Any], actions: list[Any]) -> None:
    """Judge every pair this round will need in one batched call."""
    prompts: list[str] = []
    responses: list[str] = []
    for game, action in zip(games, actions, strict=True):
        if not isinstance(action, str):
            continue  # the env's own action check raises the clear error
        for prompt, response in game.judge_requests(action):
            prompts.append(prompt)
            responses.append(response)
    if prompts:
        games[0].judge.prefetch(prompts, responses)
