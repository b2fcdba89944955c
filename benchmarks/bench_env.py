"""Speed of attack_defense_v0 against PettingZoo's classic rps_v2, in one process.

Goal (foundation issue): our per-step cost within 3x of rps_v2's, and >= 5,000
single-turn episodes/s on one core with scripted agents and the rule judge.

Three measurements, each best-of-``--repeats``, all with one torch/BLAS thread:

1. rps_v2 (``max_cycles=1``: one move each, like our single-turn game) driven by the
   standard AEC loop ``for agent in env.agent_iter(): env.last(); env.step(a)`` with a
   fixed action: PettingZoo's own per-step cost.
2. attack_defense_v0 driven by the *same* loop with the scripted agents' ``act`` and the
   rule judge inside ``step``: per-step cost and episodes/s on the standard API.
3. attack_defense_v0 through Arena's lock-step runner (``arena.match.play_episodes``,
   batches of 64, ``act_batch``): the path ``arena play`` uses.

Run: ``python benchmarks/bench_env.py`` (add ``--episodes N`` to change the size).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agents.registry import make_agent
from arena.match import play_episodes
from envs import attack_defense_v0

ATTACKER_SPEC = "scripted:role-play"
DEFENDER_SPEC = "scripted:keyword-filter"


def best_of(repeats: int, run: Callable[[], tuple[int, int]]) -> tuple[float, int, int]:
    """Best wall time of ``run`` (which returns (episodes, steps)) over ``repeats``."""
    best = float("inf")
    episodes = steps = 0
    for _ in range(repeats):
        start = time.perf_counter()
        episodes, steps = run()
        best = min(best, time.perf_counter() - start)
    return best, episodes, steps


def aec_loop(make: Callable[[], object], policy: Callable[[str, object], object], episodes: int):
    environment = make()

    def run() -> tuple[int, int]:
        steps = 0
        for episode in range(episodes):
            environment.reset(seed=episode)  # type: ignore[attr-defined]
            for agent in environment.agent_iter():  # type: ignore[attr-defined]
                observation, _, termination, truncation, _ = environment.last()  # type: ignore[attr-defined]
                action = None if termination or truncation else policy(agent, observation)
                environment.step(action)  # type: ignore[attr-defined]
                steps += 1
        return episodes, steps

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=3)
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

    attacker = make_agent(ATTACKER_SPEC, role="attacker", seed=0)
    defender = make_agent(DEFENDER_SPEC, role="defender", seed=0)
    agents = {"attacker": attacker, "defender": defender}

    rps_time, rps_eps, rps_steps = best_of(
        args.repeats,
        aec_loop(lambda: rps_v2.env(max_cycles=1), lambda agent, obs: 0, args.episodes),
    )
    fixed = {
        "attacker": (
            "<think>wrap it in a story</think>\n<answer>Tell a story about a chemist.</answer>"
        ),
        "defender": "I'm sorry, but I can't help with that.",
    }
    env_time, env_eps, env_steps = best_of(
        args.repeats,
        aec_loop(attack_defense_v0.env, lambda agent, obs: fixed[agent], args.episodes),
    )
    ours_time, ours_eps, ours_steps = best_of(
        args.repeats,
        aec_loop(attack_defense_v0.env, lambda agent, obs: agents[agent].act(obs), args.episodes),
    )

    def lock_step() -> tuple[int, int]:
        count = sum(
            1
            for _ in play_episodes(
                attack_defense_v0.env, agents, episodes=args.episodes, base_seed=0, batch_size=64
            )
        )
        return count, 0

    runner_time, runner_eps, _ = best_of(args.repeats, lock_step)

    rps_step_us = rps_time / rps_steps * 1e6
    env_step_us = env_time / env_steps * 1e6
    ours_step_us = ours_time / ours_steps * 1e6
    ratio = env_step_us / rps_step_us
    ratio_with_agents = ours_step_us / rps_step_us
    runner_eps_per_s = runner_eps / runner_time
    loop_eps_per_s = ours_eps / ours_time
    print(f"agents: {ATTACKER_SPEC} vs {DEFENDER_SPEC}, judge: rule; {args.episodes} episodes")
    print(f"{'measurement':58s} {'episodes/s':>11s} {'steps/s':>10s} {'us/step':>8s}")
    print(
        f"{'rps_v2 (max_cycles=1), AEC loop, fixed action':58s} {rps_eps / rps_time:11,.0f} "
        f"{rps_steps / rps_time:10,.0f} {rps_step_us:8.2f}"
    )
    print(
        f"{'attack_defense_v0, AEC loop, fixed actions + rule judge':58s} "
        f"{env_eps / env_time:11,.0f} "
        f"{env_steps / env_time:10,.0f} {env_step_us:8.2f}"
    )
    print(
        f"{'attack_defense_v0, AEC loop, scripted act + rule judge':58s} {loop_eps_per_s:11,.0f} "
        f"{ours_steps / ours_time:10,.0f} {ours_step_us:8.2f}"
    )
    print(
        f"{'attack_defense_v0, lock-step runner (batch 64, act_batch)':58s} "
        f"{runner_eps_per_s:11,.0f}"
    )
    print(
        f"per-step env cost ratio (ours / rps_v2): {ratio:.2f}x  (goal <= 3x): "
        f"{'PASS' if ratio <= 3 else 'FAIL'}"
    )
    print(f"per-step ratio including the scripted agents' act: {ratio_with_agents:.2f}x")
    print(
        f"single-turn episodes/s, lock-step runner: {runner_eps_per_s:,.0f}  (goal >= 5,000): "
        f"{'PASS' if runner_eps_per_s >= 5000 else 'FAIL'}"
    )


if __name__ == "__main__":
    main()
