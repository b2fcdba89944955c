"""Benchmark: agent-steps/s of the numpy-batched tabular decide/sample setting.

Why: the DS gradient checks need 10^5-10^6 episodes per estimate, so the tabular
setting must step about a million agent-steps per second (issue 11's goal) with numpy
batching. One agent-step is one move of one episode (a SAMPLE or a DECIDE), including
the policy's action draw and the verifier's hint draw; finished episodes restart in
place. Prints the figures and PASS/FAIL; not a timed test.

    .venv/bin/python benchmarks/bench_ds.py [--n 100000] [--seconds 2]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from envs.decide_sample.vector import TabularPolicy, VectorDecideSample

GOAL = 1_000_000  # agent-steps per second


def measure(n: int, seconds: float, k_max: int = 3, rho: float = 0.8) -> tuple[float, float]:
    """(agent-steps/s, episodes/s) for ``n`` slots stepped for about ``seconds``."""
    env = VectorDecideSample(n, k_max=k_max, rho=rho, seed=0)
    policy = TabularPolicy(0.3, (-0.5, 1.0))
    rng = np.random.default_rng(1)
    steps = episodes = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        u = rng.random((2, n))
        actions = policy.act(env.phase, env.hint, u[0])
        _, done = env.step(actions, u[1])
        steps += n
        episodes += int(done.sum())
    elapsed = time.perf_counter() - start
    return steps / elapsed, episodes / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="episodes stepped at once")
    parser.add_argument("--seconds", type=float, default=2.0)
    args = parser.parse_args()
    ok = True
    for n in sorted({1_000, 10_000, args.n}):
        rate, eps = measure(n, args.seconds / 2 if n != args.n else args.seconds)
        line = f"N={n:>8,}: {rate / 1e6:7.2f}M agent-steps/s, {eps / 1e6:6.2f}M episodes/s"
        if n == args.n:
            ok = rate >= GOAL
            line += f"  (goal >= {GOAL / 1e6:.0f}M: {'PASS' if ok else 'FAIL'})"
        print(line)
    print("PASS" if ok else "FAIL")


if __name__ == "__main__":
    main()
