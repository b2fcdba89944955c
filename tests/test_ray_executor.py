"""The Ray executor on a local Ray instance: same results as in-process, dead workers.

One local Ray instance serves the module: ``ray_local`` starts it through an executor
(as ``arena tournament --executor ray`` would) and the last test checks that this
executor's ``close()`` shuts it down (the fixture's teardown makes sure). Ray takes
about 12 s to start on 2 cores, so it starts once.
"""

from __future__ import annotations

import os
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ray = pytest.importorskip("ray")

from arena.executors import AgentPool, InProcessExecutor, WorkItem  # noqa: E402
from arena.executors_ray import WORKER_DIED, RayExecutor  # noqa: E402
from arena.store import Store  # noqa: E402
from arena.tournament import TournamentSpec, cell_samples, create, run_tournament  # noqa: E402
from envs.errors import ArenaError  # noqa: E402

pytestmark = pytest.mark.slow

ATTACKERS = ["scripted:role-play", "scripted:base64"]
DEFENDERS = ["scripted:keyword-filter", "scripted:decode-then-filter"]
PLUGIN = "arena_test_crashy_agent"

# An agent kind whose first act in a process kills that process (os._exit), as long as
# fewer than `times` marker files exist (it creates one, atomically, before exiting):
# with times=1 exactly one worker dies and the chunk's retry succeeds.
PLUGIN_SOURCE = '''
"""Test plug-in (written by tests/test_ray_executor.py): a worker-killing agent kind."""

import os

from agents.base import Agent
from agents.registry import make_agent, register_agent_kind

MARKERS = {markers!r}
_used = False


class CrashOnce(Agent):
    def __init__(self, inner, marker, times):
        self.inner = inner
        self.marker = os.path.join(MARKERS, marker)
        self.times = times
        self.stochastic = inner.stochastic

    def act_batch(self, observations, seeds=None):
        global _used
        if not _used:
            _used = True
            for n in range(1, self.times + 1):
                try:
                    os.close(os.open(f"{{self.marker}}.{{n}}", os.O_CREAT | os.O_EXCL))
                except FileExistsError:
                    continue
                os._exit(1)
        return self.inner.act_batch(observations, seeds)

    def label_action(self, action):
        return self.inner.label_action(action)

    def describe(self):
        return {{"spec": self.spec, "inner": self.inner.describe()}}


def _make(argument, context):
    inner = make_agent(
        f"scripted:{{argument}}",
        role=context.role,
        seed=context.seed,
        action_space=context.action_space,
        observation_space=context.observation_space,
    )
    options = context.options
    return CrashOnce(inner, options["marker"], int(options.get("times", "1")))


register_agent_kind("crashonce", _make, "exits its worker process on first use")
'''


def _start_ray() -> RayExecutor:
    """Start the local Ray instance the way the executor does (it owns it)."""
    owner = RayExecutor(TournamentSpec("attack_defense"))
    assert list(owner.run([])) == [] and not ray.is_initialized()  # nothing to play
    owner.start()
    assert owner.started_ray and ray.is_initialized()
    return owner


@pytest.fixture(scope="module")
def ray_local(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """One local Ray instance for the module (started by an executor, which stops it in
    the last test), and the crashing agent's plug-in module."""
    plugin_dir = tmp_path_factory.mktemp("plugin")
    markers = tmp_path_factory.mktemp("markers")
    (plugin_dir / f"{PLUGIN}.py").write_text(
        textwrap.dedent(PLUGIN_SOURCE.format(markers=str(markers)))
    )
    sys.path.insert(0, str(plugin_dir))
    __import__(PLUGIN)  # the driver builds agents too (to pin their identities)
    # The actors find the plug-in on PYTHONPATH, inherited from this process by the Ray
    # instance started here (the executor's runtime_env option works too, but a runtime
    # environment of its own costs seconds per actor on 2 cores).
    old_path = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(plugin_dir), old_path]))
    assert not ray.is_initialized(), "another test left Ray running"
    state: dict[str, Any] = {
        "markers": markers,
        # what the actors need to build `crashonce:` agents: import the plug-in first
        "options": {"imports": [PLUGIN]},
    }
    try:
        state["owner"] = _start_ray()
        yield state
    finally:
        state["owner"].close()
        if ray.is_initialized():
            ray.shutdown()
        if old_path is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = old_path
        sys.path.remove(str(plugin_dir))
        sys.modules.pop(PLUGIN, None)


@pytest.fixture
def ray_up(ray_local: dict[str, Any]) -> dict[str, Any]:
    """The module's Ray instance, started again if a test ran after the one closing it."""
    if not ray.is_initialized():
        ray_local["owner"] = _start_ray()
    return ray_local


def _hashes(folder: Path) -> dict[tuple[str, ...], str]:
    """(agents per seat, episode seed) -> transcript hash (as in tests/test_tournament.py)."""
    out = {}
    with Store(folder / "store.sqlite", create=False) as store:
        cells = {info["cell_id"]: info for info in store.cells()}
        for ep in store.iter_episodes():
            seats = cells[ep.cell_id]["seats"]
            key = (*(seats[s]["spec"] for s in sorted(seats)), str(ep.episode_seed))
            assert key not in out, "an episode is stored twice"
            out[key] = ep.transcript_sha256 if ep.status == "ok" else f"failed:{ep.error}"
    return out


def _tournament(folder: Path, **kw: Any) -> Path:
    kw.setdefault("env", "attack_defense")
    kw.setdefault("seats", {"attacker": list(ATTACKERS), "defender": list(DEFENDERS)})
    kw.setdefault("episodes", 10)
    kw.setdefault("batch_size", 4)
    create(folder, TournamentSpec(**kw))
    return folder


def test_ray_tournament_equals_the_in_process_one(tmp_path: Path, ray_up: dict[str, Any]) -> None:
    on_ray = _tournament(tmp_path / "ray")
    result = run_tournament(
        on_ray, executor_name="ray", executor_options={"workers": 2, "chunk_size": 5}
    )
    assert (result.played, result.failed) == (40, 0)
    assert ray.is_initialized(), "the executor shut down a Ray it did not start"
    local = _tournament(tmp_path / "local")
    run_tournament(local)
    hashes = _hashes(on_ray)
    assert len(hashes) == 40 and not any(h.startswith("failed") for h in hashes.values())
    assert hashes == _hashes(local)
    assert run_tournament(on_ray, executor_name="ray").played == 0  # resumes: nothing left


def test_a_dead_worker_has_its_chunk_retried_and_nothing_is_lost_or_doubled(
    tmp_path: Path, ray_up: dict[str, Any]
) -> None:
    crashy = "crashonce:keyword-filter?marker=retry&times=1"
    seats = {"attacker": list(ATTACKERS), "defender": [crashy]}
    on_ray = _tournament(tmp_path / "ray", seats=seats)
    result = run_tournament(
        on_ray,
        executor_name="ray",
        executor_options={"workers": 2, "chunk_size": 5, **ray_up["options"]},
    )
    # a worker did die (the marker is written just before os._exit) ...
    assert (ray_up["markers"] / "retry.1").exists()
    # ... and every episode is stored once, none failed
    assert (result.played, result.failed) == (20, 0)
    _, _, cells = cell_samples(on_ray)
    assert sorted(c.n for c in cells) == [10, 10]
    assert all(sorted(c.episodes.tolist()) == list(range(10)) for c in cells)
    # in this process the marker exists already, so the agent plays normally
    local = _tournament(tmp_path / "local", seats=seats)
    run_tournament(local)
    assert _hashes(on_ray) == _hashes(local)


def test_a_chunk_whose_workers_keep_dying_is_recorded_as_failed(
    tmp_path: Path, ray_up: dict[str, Any]
) -> None:
    crashy = "crashonce:keyword-filter?marker=always&times=99"
    folder = _tournament(
        tmp_path / "ray",
        seats={"attacker": ["scripted:role-play"], "defender": ["scripted:keyword-filter", crashy]},
        episodes=4,
    )
    # one worker, one chunk per cell: the crashy cell's chunk kills every worker it meets
    result = run_tournament(
        folder,
        executor_name="ray",
        executor_options={"workers": 1, "chunk_size": 4, "max_retries": 1, **ray_up["options"]},
    )
    assert (result.played, result.failed) == (8, 4)
    assert sorted(p.name for p in ray_up["markers"].glob("always.*")) == [
        "always.1",
        "always.2",
    ]  # played, then retried once
    _, _, cells = cell_samples(folder)
    by_defender = {c.matchup["defender"]: c for c in cells}
    assert by_defender["scripted:keyword-filter"].n == 4
    dead = by_defender[crashy]
    assert dead.n == 0 and dead.failed == 4
    assert all(error.startswith(f"{WORKER_DIED}: ") for _, error in dead.failures)
    assert dead.failures[0][1].endswith("(after 2 attempts)")


def _items(n: int) -> list[WorkItem]:
    matchup = {"attacker": "scripted:role-play", "defender": "scripted:keyword-filter"}
    return [WorkItem(0, episode, 100 + episode, matchup) for episode in range(n)]


def _played(finished: Any) -> dict[int, tuple[Any, ...]]:
    out: dict[int, tuple[Any, ...]] = {}
    for done in finished:
        assert done.item.episode not in out, "an item was yielded twice"
        assert done.error is None
        out[done.item.episode] = (done.rewards, done.record, done.labels)
    return out


def test_an_error_inside_a_worker_is_raised_in_the_driver(ray_up: dict[str, Any]) -> None:
    spec = TournamentSpec("attack_defense")
    matchup = {"attacker": "scripted:role-play", "defender": "crashonce:keyword-filter?marker=x"}
    executor = RayExecutor(spec, workers=1)  # no imports: the kind is unknown there
    try:
        with pytest.raises(ArenaError, match=r"A Ray worker could not play: .*Unknown agent kind"):
            list(executor.run([WorkItem(0, 0, 0, matchup)]))
    finally:
        executor.close()
    assert ray.is_initialized()


def _alive(pid: int) -> bool:
    """Whether process ``pid`` still runs (a zombie counts as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True


def test_close_kills_its_actors_and_shuts_ray_down_only_if_it_started_it(
    ray_up: dict[str, Any],
) -> None:
    spec = TournamentSpec("attack_defense", batch_size=3)
    expected = _played(InProcessExecutor(AgentPool(spec)).run(_items(7)))
    # Ray is running (the module's): this executor's close() kills its actors only
    executor = RayExecutor(spec, workers=2, chunk_size=3)
    assert _played(executor.run(_items(7))) == expected
    actors = [a for a in executor._actors if a is not None]
    assert len(actors) == 2 and not executor.started_ray
    pids = ray.get([actor.ready.remote() for actor in actors], timeout=60)
    assert all(_alive(pid) for pid in pids)
    executor.close()
    assert ray.is_initialized()
    deadline = time.monotonic() + 60  # ray.kill is asynchronous
    while any(_alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_alive(pid) for pid in pids), "close() left its actors running"
    # the executor that started this instance shuts it down
    ray_up["owner"].close()
    assert not ray.is_initialized()
