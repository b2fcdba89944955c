"""Speed of Arena's environments and runner against PettingZoo's classic rps_v2, in one process.

Goals (foundation issue, then the engine refactor):

* attack_defense_v0's per-step cost within 3x of rps_v2's (0.79x before the refactor),
  and >= 5,000 single-turn episodes/s through the lock-step runner with scripted
  agents and the rule judge (13.9k before the refactor); the refactored runner keeps
  the pre-refactor runner's speed on the same agents;
* strategy_game_v0 through ``arena play``'s path at least as many episodes/s as
  rps_v2's one-cycle episodes;
* per-episode seeding costs <= 5% on the scripted path.

Every measurement is the best of ``--repeats`` runs, interleaved (each round runs every
measurement once, so a slow spell of a shared machine hits them all alike), timed in
process CPU time (``time.process_time``: all of it is single-threaded, and CPU time
leaves out the waits of a machine shared with other jobs), with one torch/BLAS thread.
Many short runs (default 30 x 2,000 episodes) find the machine's quiet moments more
often than a few long ones.

1. rps_v2 (``max_cycles=1``: one move each, like our single-turn game) driven by the
   standard AEC loop ``for agent in env.agent_iter(): env.last(); env.step(a)`` with a
   fixed action: PettingZoo's own per-step cost and one-cycle episodes/s.
2. attack_defense_v0 driven by the *same* loop with fixed actions, then with the
   scripted agents' ``act``; the rule judge inside ``step``.
3. attack_defense_v0 through Arena's lock-step runner (``arena.match.play_episodes``,
   batches of 64, ``act_batch``), deterministic agents (``scripted:role-play`` vs
   ``scripted:keyword-filter``: ``stochastic = False``, so no seeds are derived), and
   the same through the pre-refactor runner (``git show 1859e98:arena/match.py``,
   loaded as a module; skipped where git or that commit is unavailable). Both runners
   take their 64 environments from a pool built once (one attack_defense_v0
   environment costs ~1.3 ms to build, 80 ms a run, which is not per-episode speed).
4. Per-episode seeding on the scripted path, in its two parts. The runner's part: the
   deterministic run again with the attacker marked ``stochastic`` (an instance of
   ``scripted:role-play`` with ``stochastic = True``), so the runner derives and passes
   a seed per decision that the agent ignores: the same episodes, plus the derivation.
   The agent's part: what ``scripted:random`` does with a seed that it would not do
   with its own stream, build a ``random.Random(seed)``, timed alone. For reference,
   ``scripted:random`` vs ``scripted:keyword-filter`` as ``arena play`` runs it
   (seeded), the same with the runner's derivation switched off
   (``arena.match._wants_seeds`` patched to ``False``: the agent draws from its one
   agent-seeded stream; its draws differ, so the episodes and their cost do too), and
   through the pre-refactor runner.
5. strategy_game_v0 through ``arena play``'s path: ``GAME.make_env``, agents built as
   :func:`arena.play.prepare` builds them (``tabular:uniform`` attacker,
   ``tabular:nash`` defender), ``play_episodes(..., parallel=True, batch_size=64)``.

Run: ``python benchmarks/bench_env.py`` (``--episodes N``, ``--repeats R``).
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import itertools
import os
import random
import subprocess
import sys
import time
import timeit
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import arena.match as match  # noqa: E402
from agents.base import Agent  # noqa: E402
from agents.registry import make_agent  # noqa: E402
from arena.match import play_episodes  # noqa: E402
from envs import attack_defense_v0  # noqa: E402
from envs.seeding import draw_seed  # noqa: E402
from envs.strategy_game_v0 import GAME as STRATEGY_GAME  # noqa: E402

ATTACKER_SPEC = "scripted:role-play"
DEFENDER_SPEC = "scripted:keyword-filter"
RANDOM_SPEC = "scripted:random"
SG_SPECS = {"attacker": "tabular:uniform", "defender": "tabular:nash"}
#: The last commit before the engine refactor (its runner: ``episodes=``, ``base_seed=``).
PRE_REFACTOR = "1859e98"
#: Figures recorded before the refactor (the issue's "today's figures").
RECORDED_STEP_RATIO = 0.79
RECORDED_RUNNER_EPS = 13_900
BATCH = 64
SEEDING_BUDGET = 0.05

Run = Callable[[], tuple[int, int]]  # returns (episodes, steps); steps 0 if not counted


class Timings:
    """Every run's CPU times over ``repeats`` rounds, each round running every run once."""

    def __init__(self, repeats: int, runs: Mapping[str, Run]) -> None:
        self.times: dict[str, list[float]] = {name: [] for name in runs}
        self.counts: dict[str, tuple[int, int]] = {}
        for _ in range(repeats):
            for name, run in runs.items():
                gc.collect()  # each run starts from the same heap state
                start = time.process_time()
                self.counts[name] = run()
                self.times[name].append(time.process_time() - start)

    def best(self, name: str) -> tuple[float, int, int]:
        """(best time, episodes, steps) of one run."""
        return (min(self.times[name]), *self.counts[name])


def aec_loop(make: Callable[[], Any], policy: Callable[[str, Any], Any], episodes: int) -> Run:
    environment = make()

    def run() -> tuple[int, int]:
        steps = 0
        for episode in range(episodes):
            environment.reset(seed=episode)
            for agent in environment.agent_iter():
                observation, _, termination, truncation, _ = environment.last()
                action = None if termination or truncation else policy(agent, observation)
                environment.step(action)
                steps += 1
        return episodes, steps

    return run


def pooled(make: Callable[[], Any], size: int = BATCH) -> Callable[[], Any]:
    """A factory handing out the same ``size`` environments round-robin (a run asks for at
    most ``size``, and resets each before use), so runs time episodes, not construction."""
    pool = [make() for _ in range(size)]
    calls = itertools.count()
    return lambda: pool[next(calls) % size]


def reset_agents(agents: Mapping[str, Agent]) -> None:
    """``agent.reset(0)`` once per agent before a run, as ``arena play`` does per matchup:
    an agent drawing from its own stream then replays the same draws every run."""
    for agent in {id(a): a for a in agents.values()}.values():
        agent.reset(0)


def runner(
    make: Callable[[], Any], agents: Mapping[str, Agent], episodes: int, *, parallel: bool = False
) -> Run:
    """The refactored runner, as ``arena play`` calls it (seeds ``0..episodes-1``)."""

    def run() -> tuple[int, int]:
        reset_agents(agents)
        results = play_episodes(
            make, agents, range(episodes), run_seed=0, batch_size=BATCH, parallel=parallel
        )
        return sum(1 for _ in results), 0

    return run


def unseeded(run: Run) -> Run:
    """``run`` with the runner's per-episode seed derivation switched off."""

    def patched() -> tuple[int, int]:
        original = match._wants_seeds
        match._wants_seeds = lambda agent: False
        try:
            return run()
        finally:
            match._wants_seeds = original

    return patched


def load_pre_refactor_runner() -> ModuleType | None:
    """``arena/match.py`` as of :data:`PRE_REFACTOR`, or None where git cannot show it."""
    try:
        source = subprocess.run(
            ["git", "show", f"{PRE_REFACTOR}:arena/match.py"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    spec = importlib.util.spec_from_loader("_pre_refactor_match", loader=None)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while building
    exec(compile(source, f"{PRE_REFACTOR}:arena/match.py", "exec"), module.__dict__)
    return module


def old_runner(
    module: ModuleType, make: Callable[[], Any], agents: Mapping[str, Agent], episodes: int
) -> Run:
    """The pre-refactor runner (``episodes=``, ``base_seed=``: seeds ``0..episodes-1``)."""

    def run() -> tuple[int, int]:
        reset_agents(agents)
        results: Iterator[Any] = module.play_episodes(
            make, agents, episodes=episodes, base_seed=0, batch_size=BATCH
        )
        return sum(1 for _ in results), 0

    return run


def strategy_game_agents() -> tuple[Callable[[], Any], dict[str, Agent]]:
    """The env factory and agents, built the way :func:`arena.play.prepare` builds them."""
    game = STRATEGY_GAME
    config = game.config({})
    probe = game.make_env(config, None)
    normal_form = game.normal_form
    assert normal_form is not None  # tabular:nash solves the game's exact normal form
    agents = {
        seat: make_agent(
            spec,
            role=seat,
            seed=0,
            action_space=probe.action_space(seat),
            observation_space=probe.observation_space(seat),
            game=lambda: normal_form(config),
            player=game.player_index(seat),
        )
        for seat, spec in SG_SPECS.items()
    }
    probe.close()
    return (lambda: game.make_env(config, None)), agents


def seeding_parts(number: int = 100_000) -> tuple[float, float]:
    """Microseconds of the runner's per-seat seed (``draw_seed``) and the random attacker's
    ``random.Random(seed)``: the two costs a seeded stochastic agent adds per episode."""
    seed = draw_seed(0, 12345, "attacker")
    derive = min(timeit.repeat(lambda: draw_seed(0, 12345, "attacker"), number=number, repeat=3))
    build = min(timeit.repeat(lambda: random.Random(seed), number=number, repeat=3))
    return derive / number * 1e6, build / number * 1e6


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--episodes", type=int, default=2_000)
    parser.add_argument("--repeats", type=int, default=30)
    args = parser.parse_args()
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:
        pass
    try:
        from pettingzoo.classic import rps_v2
    except ImportError:
        sys.exit("rps_v2 needs pygame: pip install 'pettingzoo[classic]'")

    n = args.episodes
    attacker = make_agent(ATTACKER_SPEC, role="attacker", seed=0)
    defender = make_agent(DEFENDER_SPEC, role="defender", seed=0)
    random_attacker = make_agent(RANDOM_SPEC, role="attacker", seed=0)
    marked = make_agent(ATTACKER_SPEC, role="attacker", seed=0)
    marked.stochastic = True  # the runner now derives its seeds (which it ignores)
    scripted = {"attacker": attacker, "defender": defender}
    stochastic = {"attacker": random_attacker, "defender": defender}
    seeds_ignored = {"attacker": marked, "defender": defender}
    sg_make, sg_agents = strategy_game_agents()
    old = load_pre_refactor_runner()
    fixed = {
        "attacker": (
            "<think>wrap it in a story</think>\n<answer>Tell a story about a chemist.</answer>"
        ),
        "defender": "I'm sorry, but I can't help with that.",
    }

    envs = pooled(attack_defense_v0.env)
    # Runs that a goal compares sit next to each other in a round.
    runs: dict[str, Run] = {
        "rps": aec_loop(lambda: rps_v2.env(max_cycles=1), lambda agent, obs: 0, n),
        "strategy": runner(sg_make, sg_agents, n, parallel=True),
        "env": aec_loop(attack_defense_v0.env, lambda agent, obs: fixed[agent], n),
        "loop": aec_loop(attack_defense_v0.env, lambda agent, obs: scripted[agent].act(obs), n),
        "runner": runner(envs, scripted, n),
        "runner seeds": runner(envs, seeds_ignored, n),
    }
    if old is not None:
        runs["old runner"] = old_runner(old, envs, scripted, n)
    runs["seeded"] = runner(envs, stochastic, n)
    runs["unseeded"] = unseeded(runner(envs, stochastic, n))
    if old is not None:
        runs["old seeded"] = old_runner(old, envs, stochastic, n)
    timings = Timings(args.repeats, runs)

    def eps(name: str) -> float:
        elapsed, episodes, _ = timings.best(name)
        return episodes / elapsed

    def step_us(name: str) -> float:
        elapsed, _, steps = timings.best(name)
        return elapsed / steps * 1e6

    def row(label: str, name: str) -> None:
        elapsed, episodes, steps = timings.best(name)
        per_step = f"{steps / elapsed:10,.0f} {step_us(name):8.2f}" if steps else ""
        print(f"{label:62s} {episodes / elapsed:11,.0f} {per_step}".rstrip())

    print(
        f"{n} episodes per run, best of {args.repeats} interleaved rounds (process CPU "
        f"time); batch {BATCH}\n"
        f"attack_defense_v0 (rule judge): deterministic = {ATTACKER_SPEC} vs {DEFENDER_SPEC}, "
        f"random attacker = {RANDOM_SPEC} vs {DEFENDER_SPEC}\n"
        f"strategy_game_v0 (default config): {SG_SPECS['attacker']} vs {SG_SPECS['defender']}"
    )
    print(f"{'measurement':62s} {'episodes/s':>11s} {'steps/s':>10s} {'us/step':>8s}")
    row("rps_v2 (max_cycles=1), AEC loop, fixed action", "rps")
    row("attack_defense_v0, AEC loop, fixed actions + rule judge", "env")
    row("attack_defense_v0, AEC loop, scripted act + rule judge", "loop")
    row("attack_defense_v0, lock-step runner, deterministic scripted", "runner")
    row("  same, seeds derived for the attacker (which ignores them)", "runner seeds")
    if old is not None:
        row(f"  same, pre-refactor runner ({PRE_REFACTOR})", "old runner")
    row("attack_defense_v0, lock-step runner, random attacker, seeded", "seeded")
    row("  same, runner's seed derivation off (agent's own stream)", "unseeded")
    if old is not None:
        row(f"  same, pre-refactor runner ({PRE_REFACTOR})", "old seeded")
    row("strategy_game_v0, arena play path (parallel, tabular agents)", "strategy")
    print()

    ratio = step_us("env") / step_us("rps")
    print(
        f"per-step env cost ratio (attack_defense / rps_v2): {ratio:.2f}x  (goal <= 3x): "
        f"{verdict(ratio <= 3)}; recorded before the refactor: {RECORDED_STEP_RATIO:.2f}x"
    )
    with_agents = step_us("loop") / step_us("rps")
    print(f"per-step ratio including the scripted agents' act: {with_agents:.2f}x")
    runner_eps = eps("runner")
    print(
        f"single-turn episodes/s, lock-step runner: {runner_eps:,.0f}  (goal >= 5,000): "
        f"{verdict(runner_eps >= 5000)}; recorded before the refactor: {RECORDED_RUNNER_EPS:,}"
    )
    if old is not None:
        kept = runner_eps / eps("old runner")
        print(
            f"deterministic scripted path, runner / pre-refactor runner episodes/s: {kept:.3f}x "
            f"(goal >= {1 - SEEDING_BUDGET:.2f}x): {verdict(kept >= 1 - SEEDING_BUDGET)}"
        )
    derive_us, build_us = seeding_parts()
    episode_us = 1e6 / eps("seeded")
    runner_part = eps("runner") / eps("runner seeds") - 1
    agent_part = build_us / episode_us
    overhead = runner_part + agent_part
    print(
        f"per-episode seeding on the scripted path: {overhead:+.1%} time "
        f"(goal <= {SEEDING_BUDGET:.0%}): {verdict(overhead <= SEEDING_BUDGET)}"
    )
    print(
        f"  runner: {runner_part:+.1%} (same episodes, seeds derived; draw_seed alone "
        f"{derive_us:.2f} us per seeded seat and episode)"
    )
    print(
        f"  agent: {agent_part:+.1%} ({RANDOM_SPEC}'s random.Random(seed), {build_us:.2f} us "
        f"of its {episode_us:.0f} us episode)"
    )
    drawn = eps("unseeded") / eps("seeded") - 1
    print(f"  {RANDOM_SPEC} seeded vs derivation off (different draws): {drawn:+.1%} time")
    if old is not None:
        vs_old = eps("old seeded") / eps("seeded") - 1
        print(f"  the seeded run vs the pre-refactor runner: {vs_old:+.1%} time")
    sg_ratio = eps("strategy") / eps("rps")
    print(
        f"strategy_game_v0 (arena play path) / rps_v2 one-cycle episodes/s: {sg_ratio:.2f}x "
        f"(goal >= 1.0x): {verdict(sg_ratio >= 1.0)}"
    )


if __name__ == "__main__":
    main()
