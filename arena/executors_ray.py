"""The Ray executor (``distributed`` extra): chunks of work items on Ray actors.

Each actor builds its own :class:`~arena.executors.AgentPool` from the tournament spec
on its first chunk and keeps it, so every model loads once per actor; a chunk is played
as one lock-step batch (``AgentPool.play``: failures recorded, not raised) and comes
back as a list of :class:`~arena.executors.Finished`. The driver pulls chunks from the
(lazy) item iterator, keeps one chunk on every actor, and yields results as chunks
complete, in any order.

**Dead workers.** A chunk whose actor died (the process crashed, was OOM-killed, its node
went away) is queued again and the dead actor replaced by a fresh one, so the chunk is
played again on another or a restarted actor. After ``max_retries`` retries of the same
chunk its items are yielded as failed episodes (``error="worker died: ..."``) and the
tournament goes on. Nothing is yielded before its chunk has come back whole, so an item
is never yielded twice or lost (items still in flight when the driver stops are simply
unplayed: a resumed tournament plays them). Per-episode seeds make every transcript
independent of the actor that played it, so results equal the in-process executor's.

An error raised inside an actor that is not a death is raised again in the driver: an
:class:`~envs.errors.ArenaError` (an agent that does not load there, or whose weights
changed) as one clear line naming the worker, anything else as Ray's error carrying the
actor's traceback (an instance of the original exception's class too).

**Ray itself.** ``ray.init`` runs only when Ray is not initialised yet, and only once
there is something to play: a new local instance by default (``RAY_ADDRESS`` or
``address`` connect to a cluster instead), quiet and without the dashboard. ``close()``
kills the actors this executor started, and shuts Ray down only if it started it.

Agent kinds registered at run time (``agents.registry.register_agent_kind``) exist only
in the process that registered them: name the modules that register them in
``imports`` (each actor imports them before building its pool), and make them
importable there (installed, or through ``runtime_env``, e.g. ``{"env_vars":
{"PYTHONPATH": DIR}}``). Kinds from installed entry points need nothing.
"""

from __future__ import annotations

import contextlib
import importlib
import itertools
import logging
import math
import os
from collections import deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import ray
import ray.exceptions

from arena.executors import AgentPool, Executor, Finished, WorkItem
from arena.results import TournamentSpec
from envs.errors import ArenaError

__all__ = ["WORKER_DIED", "RayExecutor"]

#: The prefix of the error stored for the items of a chunk whose workers kept dying.
WORKER_DIED = "worker died"

_CLOSE_TIMEOUT_S = 10.0

# What ray.get raises when the process that held the work is gone (not a Python error
# raised by the work itself, which comes back as a RayTaskError).
_DEATHS: tuple[type[BaseException], ...] = (
    ray.exceptions.RayActorError,  # ActorDiedError, ActorUnavailableError
    ray.exceptions.WorkerCrashedError,
    ray.exceptions.ObjectLostError,  # OwnerDiedError, ObjectReconstructionFailedError, ...
    ray.exceptions.OutOfMemoryError,
    ray.exceptions.NodeDiedError,
)


class _Worker:
    """The actor: one :class:`AgentPool`, built on the first chunk and kept."""

    def __init__(self, spec: TournamentSpec, imports: Sequence[str]) -> None:
        self.spec = spec
        self.imports = list(imports)
        self.pool: AgentPool | None = None

    def ready(self) -> int:
        return os.getpid()

    def play(self, items: list[WorkItem]) -> list[Finished]:
        if self.pool is None:
            # Here rather than in __init__: an error comes back as itself (a RayTaskError
            # with its cause), not as a dead actor that would be retried.
            for module in self.imports:
                importlib.import_module(module)
            self.pool = AgentPool(self.spec)
        return list(self.pool.play(items))

    def close(self) -> None:
        if self.pool is not None:
            self.pool.close()
            self.pool = None


@dataclass
class _Chunk:
    items: list[WorkItem]
    deaths: list[str] = field(default_factory=list)


def _death_reason(exc: BaseException) -> str:
    """One line: the exception's type and the first line of its message."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    first = lines[0] if lines else ""
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__


def _on_worker(error: ArenaError) -> ArenaError:
    """An actor's ArenaError for the driver: the same line, and where it happened."""
    fix = (error.fix + " " if error.fix else "") + (
        "(On a Ray worker: an agent kind registered at run time must be registered there "
        "too; name its module in the executor's `imports` option.)"
    )
    return ArenaError(f"A Ray worker could not play: {error.message}", fix)


class RayExecutor(Executor):
    """Plays work items in chunks of ``chunk_size`` on ``workers`` Ray actors.

    ``address``: a Ray cluster to connect to (``None``: ``RAY_ADDRESS`` if set, else a
    new local instance). ``max_retries``: how often a chunk whose actor died is played
    again before its items are recorded as failed. ``num_cpus``/``num_gpus``: what each
    actor reserves. ``imports``: modules each actor imports first (plug-ins that
    register agent kinds). ``runtime_env``: the actors' Ray runtime environment.
    """

    def __init__(
        self,
        spec: TournamentSpec,
        workers: int = 2,
        chunk_size: int = 64,
        address: str | None = None,
        max_retries: int = 3,
        *,
        num_cpus: float = 1.0,
        num_gpus: float = 0.0,
        imports: Sequence[str] = (),
        runtime_env: Mapping[str, Any] | None = None,
    ) -> None:
        for name, value, least in (
            ("workers", workers, 1),
            ("chunk_size", chunk_size, 1),
            ("max_retries", max_retries, 0),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or value < least:
                raise ArenaError(
                    f"The Ray executor's {name} must be an integer >= {least}, got {value!r}.",
                    f"pass {name}={max(least, 1)} or more.",
                )
        self.spec = spec
        self.workers = workers
        self.chunk_size = chunk_size
        self.address = address
        self.max_retries = max_retries
        self.num_cpus = num_cpus
        self.num_gpus = num_gpus
        self.imports = tuple(imports)
        self.runtime_env = dict(runtime_env) if runtime_env is not None else None
        self.started_ray = False
        #: Chunks played again after their actor died, and actors started in all.
        self.retries = 0
        self.actors_started = 0
        self._actors: list[Any] = []  # slot -> actor handle (None: not started yet)
        self._actor_class: Any = None
        self._spec_ref: Any = None

    # ------------------------------------------------------------------ Ray and actors
    def start(self) -> None:
        """Start Ray now if it is not initialised (``run`` does it at its first chunk).

        Only a Ray started here is shut down by :meth:`close`.
        """
        if ray.is_initialized():
            return
        address = self.address or os.environ.get("RAY_ADDRESS") or "local"
        options: dict[str, Any] = {
            "include_dashboard": False,
            "logging_level": logging.ERROR,
            "log_to_driver": False,
            "configure_logging": True,
        }
        if address == "local":
            # Room for every actor's reservation even where there are fewer cores than
            # workers (a 2-core machine); on a cluster its own resources decide.
            options["num_cpus"] = max(os.cpu_count() or 1, math.ceil(self.workers * self.num_cpus))
        ray.init(address=address, **options)
        self.started_ray = True

    def _new_actor(self) -> Any:
        if self._actor_class is None:
            self._actor_class = ray.remote(_Worker)
            self._spec_ref = ray.put(self.spec)
        options: dict[str, Any] = {
            "num_cpus": self.num_cpus,
            "num_gpus": self.num_gpus,
            "max_restarts": 0,  # a dead actor is replaced here, its chunk retried here
            "max_task_retries": 0,
        }
        if self.runtime_env is not None:
            options["runtime_env"] = self.runtime_env
        self.actors_started += 1
        return self._actor_class.options(**options).remote(self._spec_ref, self.imports)

    def _kill(self, actor: Any) -> None:
        with contextlib.suppress(Exception):  # already gone, or Ray is shutting down
            ray.kill(actor, no_restart=True)

    # ---------------------------------------------------------------------------- run
    def run(self, items: Iterable[WorkItem]) -> Iterator[Finished]:
        source = iter(items)
        retry: deque[_Chunk] = deque()
        exhausted = False

        def next_chunk() -> _Chunk | None:
            nonlocal exhausted
            if retry:
                return retry.popleft()
            if exhausted:
                return None
            chunk = list(itertools.islice(source, self.chunk_size))
            if not chunk:
                exhausted = True
                return None
            return _Chunk(chunk)

        first = next_chunk()
        if first is None:
            return  # nothing to play: Ray is not even started
        retry.append(first)
        self.start()
        while len(self._actors) < self.workers:
            self._actors.append(None)

        in_flight: dict[Any, tuple[int, _Chunk]] = {}
        idle = deque(range(self.workers))

        def fill() -> None:
            """Give every idle actor a chunk (retries first) while there are any."""
            while idle:
                chunk = next_chunk()
                if chunk is None:
                    return
                slot = idle.popleft()
                if self._actors[slot] is None:
                    self._actors[slot] = self._new_actor()
                in_flight[self._actors[slot].play.remote(chunk.items)] = (slot, chunk)

        try:
            fill()
            while in_flight:
                ready, _ = ray.wait(list(in_flight), num_returns=1)
                done: list[Finished] = []
                for ref in ready:
                    slot, chunk = in_flight.pop(ref)
                    idle.append(slot)
                    try:
                        results: list[Finished] = ray.get(ref)
                    except ray.exceptions.RayTaskError as exc:
                        # The work itself raised (not a death): the driver raises it too,
                        # an ArenaError as its one clear line, anything else with the
                        # actor's traceback (it is also an instance of the cause's class).
                        cause = getattr(exc, "cause", None)
                        if isinstance(cause, ArenaError):
                            raise _on_worker(cause) from None
                        raise
                    except _DEATHS as exc:
                        self._kill(self._actors[slot])
                        self._actors[slot] = None  # a fresh actor takes the slot
                        chunk.deaths.append(_death_reason(exc))
                        if len(chunk.deaths) > self.max_retries:
                            tries = len(chunk.deaths)
                            error = (
                                f"{WORKER_DIED}: {chunk.deaths[-1]} "
                                f"(after {tries} attempt{'s' if tries > 1 else ''})"
                            )
                            done.extend(Finished(item, {}, {}, {}, error) for item in chunk.items)
                        else:
                            self.retries += 1
                            retry.append(chunk)
                        continue
                    done.extend(results)
                # Refill before handing results out: the actors keep playing while the
                # driver writes these to its store.
                fill()
                yield from done
        finally:
            for ref in in_flight:  # unplayed: a resumed tournament plays them
                with contextlib.suppress(Exception):  # Ray already shut down
                    ray.cancel(ref)

    def close(self) -> None:
        """Kill the actors this executor started; shut Ray down if this executor started it."""
        actors, self._actors = [a for a in self._actors if a is not None], []
        if actors and ray.is_initialized():
            # Let each pool close its agents (engines, threads), briefly, then kill.
            closing = [actor.close.remote() for actor in actors]
            with contextlib.suppress(Exception):  # a dead actor, or Ray going away
                ray.wait(closing, num_returns=len(closing), timeout=_CLOSE_TIMEOUT_S)
            for actor in actors:
                self._kill(actor)
        self._actor_class = self._spec_ref = None
        if self.started_ray:
            self.started_ray = False
            ray.shutdown()
