"""Lock-step matches: many episodes, each agent called once a round with all its games.

A *round* advances every live game by one move. All games whose current agent is ``a``
are collected and ``a.act_batch`` is called once with their observations, so an LLM agent
generates for the whole batch at once and a scripted agent pays Python overhead once.
Games in flight may belong to different matchups (a tournament plays many cells at once):
an agent sitting in several of them is still called once per round, with every game it
is in. Parallel environments (simultaneous moves) are stepped natively: each seat's
agents are asked once per round for all live games, then every game steps with its
joint action.

**Continuous batching.** ``batch_size`` games are in flight; when one finishes, its slot
is refilled at once with the next episode, so a batch stays full and never waits for its
longest game. :func:`play_jobs` yields episodes as they finish; :func:`play_episodes`
(one matchup) yields them in the order of its seeds.

**Per-episode randomness** (:mod:`envs.seeding`). An episode is reset with its episode
seed, and every draw an agent makes for it uses ``draw_seed(run_seed, episode_seed, seat,
move)``, passed as ``act_batch(observations, seeds)``. So an episode's transcript depends
on nothing but its seeds and the inputs: not the batch size, the order, the other games
in flight, the split into chunks or a restart.

**Failures** (``on_error="record"``, what tournaments use). An agent that raises, returns
the wrong number of actions or exceeds ``agent_timeout``, an illegal action, a judge that
returns garbage: the games concerned finish as *failed* episodes carrying the reason, and
the others go on. An agent that timed out is disabled for the rest of the call (its
thread may still be running), so its later games fail at once with that reason. With
``on_error="raise"`` (``arena play``) the first error stops the match.

**Batched judging.** Before a round's moves are applied, the judge requests they will
cause are prefetched in one batch where the environment declares
:class:`~envs.game_spec.JudgesInBatches` and its judge :class:`~envs.game_spec.BatchJudge`.
"""

from __future__ import annotations

import contextlib
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from agents.base import Agent, accepts_seeds
from envs.errors import IllegalActionError
from envs.game_spec import BatchJudge, JudgesInBatches, RecordsEpisodes
from envs.seeding import mix64, seat_code

_MASK64 = (1 << 64) - 1
_MASK63 = (1 << 63) - 1

OnError = Literal["raise", "record"]


@dataclass(frozen=True)
class Job:
    """One episode to play: a caller's key, its episode seed and the agent in each seat."""

    key: Hashable
    seed: int
    agents: Mapping[str, Agent]


@dataclass(frozen=True)
class EpisodeResult:
    """One finished episode: its index (or job key) and seed, total rewards, the env's
    record, and the first action each seat played (so a mixed agent can label its
    strategy). ``error`` is set, and the rest is partial, when the episode failed."""

    index: Any
    seed: int
    rewards: dict[str, float]
    record: dict[str, Any]
    first_actions: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    transient: bool = False  # not played at all (an agent was disabled): do not record it


class AgentTimeout(Exception):
    """An agent's ``act_batch`` did not return within the match's ``agent_timeout``."""


class _Slot:
    """One game in flight: its environment and the bookkeeping of the current episode."""

    __slots__ = (
        "agents",
        "base",
        "env",
        "error",
        "first",
        "index",
        "live",
        "moves",
        "obs",
        "raw",
        "seed",
        "streams",
        "totals",
        "transient",
    )

    def __init__(self, env: Any, raw: Any = None) -> None:
        self.env = env
        self.raw = env if raw is None else raw
        self.agents: Mapping[str, Agent] = {}
        self.base = -1
        self.index: Any = -1
        self.seed = 0
        self.totals: dict[str, float] = {}
        self.streams: dict[str, int] = {}
        self.moves: dict[str, int] = {}
        self.first: dict[str, Any] = {}
        self.obs: dict[str, Any] = {}
        self.live = False
        self.error: str | None = None
        self.transient = False


class _Seeder:
    """Per-(episode, seat) random streams; each move gets the next seed of its stream."""

    _MOVES = tuple(mix64(m) for m in range(64))

    def __init__(self, run_seed: int) -> None:
        self.run = mix64(run_seed & _MASK64)
        self.codes: dict[str, int] = {}

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
            code = self.codes.get(seat)
            if code is None:
                code = self.codes[seat] = seat_code(seat)
            stream = slot.streams[seat] = mix64(base ^ code)
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
    agent may sit in several seats). The first error stops the match.
    """
    jobs = (Job(i, int(seed), agents) for i, seed in enumerate(episode_seeds))
    ready: dict[int, EpisodeResult] = {}
    next_index = 0
    for result in play_jobs(
        make_env, jobs, run_seed=run_seed, batch_size=batch_size, parallel=parallel
    ):
        ready[result.index] = result
        while next_index in ready:
            yield ready.pop(next_index)
            next_index += 1


def play_jobs(
    make_env: Callable[[], Any],
    jobs: Iterable[Job],
    *,
    run_seed: int = 0,
    batch_size: int = 64,
    parallel: bool = False,
    on_error: OnError = "raise",
    agent_timeout: float | None = None,
) -> Iterator[EpisodeResult]:
    """Play every job in lock-step, ``batch_size`` games at a time; yield as they finish.

    Jobs may differ in their agents (several matchups at once); every job must fill the
    same seats. ``jobs`` is consumed lazily, so a million-episode schedule never sits in
    memory. The result's ``index`` is the job's ``key``.
    """
    pending = iter(jobs)
    first = next(pending, None)
    if first is None:
        return
    width = max(1, int(batch_size))
    seeder = _Seeder(run_seed)
    runner = _ParallelRunner if parallel else _AECRunner
    engine = runner(make_env, parallel, seeder, on_error, agent_timeout)
    engine.add_slot(first)
    for _ in range(width - 1):
        job = next(pending, None)
        if job is None:
            break
        engine.add_slot(job)
    while engine.any_live():
        done = engine.round()
        # Finish every done game, then restart them: running each env method over the
        # whole group keeps the interpreter's and CPU's caches warm (~10% on scripted paths).
        results = [engine.finish(slot) for slot in done]
        for slot in done:
            engine.start(slot, next(pending, None))
        yield from results


class _Runner(ABC):
    def __init__(
        self,
        make_env: Callable[[], Any],
        parallel: bool,
        seeder: _Seeder,
        on_error: OnError,
        agent_timeout: float | None,
    ) -> None:
        self.make_env = make_env
        self.parallel = parallel
        self.slots: list[_Slot] = []
        self.seeder = seeder
        self.seeded: dict[int, bool] = {}
        self.record_errors = on_error == "record"
        self.timeout = agent_timeout
        self.dead: dict[int, str] = {}  # id(agent) -> why it no longer plays
        self.records = False
        self.failures = False  # whether any live game failed since the last round

    def _new_slot(self) -> _Slot:
        env = self.make_env()
        return _Slot(env, None if self.parallel else env.unwrapped)

    def add_slot(self, job: Job) -> None:
        slot = self._new_slot()
        if not self.slots:
            self.records = isinstance(slot.raw, RecordsEpisodes)
            self.setup(slot)
        self.slots.append(slot)
        self.start(slot, job)

    def setup(self, slot: _Slot) -> None:  # noqa: B027 - optional hook
        """Inspect the first environment once (protocols it declares)."""

    def any_live(self) -> bool:
        return any(slot.live for slot in self.slots)

    def start(self, slot: _Slot, job: Job | None) -> None:
        if job is None:
            slot.live = False
            return
        slot.index, slot.seed, slot.agents = job.key, int(job.seed), job.agents
        slot.first = {}
        slot.error = None
        slot.transient = False
        self.seeder.start(slot)
        slot.live = True
        for agent in job.agents.values():
            if id(agent) in self.dead:
                self.fail([slot], self.dead[id(agent)])
                slot.transient = True
                return
        if not self.record_errors:
            self.reset(slot)
            return
        try:
            self.reset(slot)
        except Exception as exc:
            self.fail([slot], f"reset failed: {_describe(exc)}")

    def fail(self, slots: Sequence[_Slot], reason: str) -> None:
        """Mark games failed (they finish this round); their environments are rebuilt."""
        for slot in slots:
            if slot.error is None:
                slot.error = reason
        self.failures = True

    @abstractmethod
    def reset(self, slot: _Slot) -> None:
        """Reset the slot's environment for its (new) episode seed."""

    @abstractmethod
    def round(self) -> list[_Slot]:
        """Advance every live game by one move; return the games that finished."""

    def collect_failed(self) -> list[_Slot]:
        if not self.failures:
            return []
        self.failures = False
        failed = [slot for slot in self.slots if slot.live and slot.error is not None]
        for slot in failed:
            slot.live = False
        return failed

    def finish(self, slot: _Slot) -> EpisodeResult:
        if slot.error is not None:
            result = EpisodeResult(
                slot.index, slot.seed, {}, {}, slot.first, slot.error, slot.transient
            )
            # A game that failed mid-step may be in any state: give the slot a fresh env.
            fresh = self._new_slot()
            slot.env, slot.raw = fresh.env, fresh.raw
            return result
        record = slot.raw.episode_record() if self.records else {}
        return EpisodeResult(slot.index, slot.seed, slot.totals, record, slot.first)

    def act(self, seat: str, agent: Agent, live: list[_Slot], observations: list[Any]) -> Any:
        """One batched call of ``agent`` for the games ``live``; None if they failed."""
        key = id(agent)
        seeded = self.seeded.get(key)
        if seeded is None:
            seeded = self.seeded[key] = _wants_seeds(agent)
        if seeded:
            seeder = self.seeder
            args: tuple[Any, ...] = (observations, [seeder.next(slot, seat) for slot in live])
        else:
            args = (observations,)
        if not self.record_errors:
            actions = agent.act_batch(*args)
        else:
            try:
                if self.timeout is None:
                    actions = agent.act_batch(*args)
                else:
                    actions = _call_with_timeout(agent.act_batch, args, self.timeout)
            except AgentTimeout:
                reason = (
                    f"agent {_name(agent)!r} ({seat}) timed out after {self.timeout:g} s; "
                    "it is disabled for the rest of this match"
                )
                self.dead[key] = reason
                self.fail(live, reason)
                return None
            except Exception as exc:
                self.fail(live, f"agent {_name(agent)!r} ({seat}) raised {_describe(exc)}")
                return None
        if len(actions) != len(live):
            error = IllegalActionError(
                f"Agent {_name(agent)!r} returned {len(actions)} actions "
                f"for {len(live)} observations.",
                "act_batch must return exactly one action per observation, in order.",
            )
            if not self.record_errors:
                raise error
            self.fail(live, str(error))
            return None
        for slot, action in zip(live, actions, strict=True):
            if seat not in slot.first:
                slot.first[seat] = action
        return actions


def _name(agent: Agent) -> str:
    return getattr(agent, "spec", "") or type(agent).__name__


def _describe(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _call_with_timeout(function: Callable[..., Any], args: tuple[Any, ...], timeout: float) -> Any:
    """Run ``function(*args)`` in a daemon thread; raise :class:`AgentTimeout` if it hangs.

    Python cannot kill a thread, so a hung agent keeps its thread; the caller disables
    the agent. A daemon thread does not keep the process alive at exit.
    """
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = function(*args)
        except BaseException as exc:
            box["error"] = exc

    worker = threading.Thread(target=target, daemon=True, name="arena-agent-call")
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        raise AgentTimeout(f"no answer within {timeout:g} s")
    if "error" in box:
        raise box["error"]
    return box["value"]


class _AECRunner(_Runner):
    """Turn-based games: group live games by whose turn it is and who sits there."""

    prefetch = False

    def setup(self, slot: _Slot) -> None:
        raw = slot.raw
        self.prefetch = isinstance(raw, JudgesInBatches) and isinstance(raw.judge, BatchJudge)

    def reset(self, slot: _Slot) -> None:
        slot.env.reset(seed=slot.seed)
        # After a reset through the wrappers, step the raw environment: this loop keeps
        # the AEC order itself, and the wrappers' attribute forwarding costs ~20% here.
        slot.totals = dict.fromkeys(slot.raw.possible_agents, 0.0)

    def round(self) -> list[_Slot]:
        groups: dict[tuple[str, int], list[_Slot]] = {}
        live = [slot for slot in self.slots if slot.live]
        for slot in live:
            if slot.error is None:
                seat = slot.raw.agent_selection
                key = (seat, id(slot.agents[seat]))
                group = groups.get(key)
                if group is None:
                    groups[key] = [slot]
                else:
                    group.append(slot)
        for (seat, _), group in groups.items():
            self._move(seat, group)
        done = self.collect_failed()
        for slot in live:
            if slot.live and not slot.raw.agents:
                slot.live = False
                done.append(slot)
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
        actions = self.act(seat, acting[0].agents[seat], acting, observations)
        if actions is None:
            return
        games = [slot.raw for slot in acting]
        if self.prefetch:
            if self.record_errors:
                # A failed prefetch is not fatal: each step re-judges and fails alone.
                with contextlib.suppress(Exception):
                    _prefetch_judgements(games, actions)
            else:
                _prefetch_judgements(games, actions)
        record_errors = self.record_errors
        for slot, game, action in zip(acting, games, actions, strict=True):
            if record_errors:
                try:
                    game.step(action)
                except Exception as exc:
                    self.fail([slot], f"{seat}'s move failed: {_describe(exc)}")
                    continue
            else:
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
        live = [slot for slot in self.slots if slot.live and slot.error is None]
        joint: dict[int, dict[str, Any]] = {id(slot): {} for slot in live}
        seats = live[0].agents if live else {}
        for seat in seats:
            groups: dict[int, list[_Slot]] = {}
            for slot in live:
                if seat in slot.env.agents:
                    groups.setdefault(id(slot.agents[seat]), []).append(slot)
            for acting in groups.values():
                obs = [slot.obs[seat] for slot in acting]
                actions = self.act(seat, acting[0].agents[seat], acting, obs)
                if actions is None:
                    continue
                for slot, action in zip(acting, actions, strict=True):
                    joint[id(slot)][seat] = action
        done = self.collect_failed()
        record_errors = self.record_errors
        for slot in live:
            if not slot.live:
                continue
            if record_errors:
                try:
                    observations, rewards, _, _, _ = slot.env.step(joint[id(slot)])
                except Exception as exc:
                    self.fail([slot], f"step failed: {_describe(exc)}")
                    slot.live = False
                    done.append(slot)
                    continue
            else:
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
