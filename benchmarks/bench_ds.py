"""Benchmarks: the tabular DS setting's agent-steps/s, and per-component accounting's cost.

Why: the DS gradient checks need 10^5-10^6 episodes per estimate, so the tabular
setting must step about a million agent-steps per second (issue 11's goal) with numpy
batching. One agent-step is one move of one episode (a SAMPLE or a DECIDE), including
the policy's action draw and the verifier's hint draw; finished episodes restart in
place. Prints the figures and PASS/FAIL; not a timed test.

Second part (``--lm``): the overhead of per-component gradient accounting on the tiny
LM (``arena.ds.llm_train.step``: one backward pass per component, summed into the same
update) against a plain step (one backward of the whole loss), for an SFT step and for
an RL step whose time includes the rollout; goal ≤ 1.3×. Medians of ``--repeats``
alternating timings, one torch thread.

    .venv/bin/python benchmarks/bench_ds.py [--n 100000] [--seconds 2] [--lm] [--repeats 15]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from envs.decide_sample.vector import TabularPolicy, VectorDecideSample

GOAL = 1_000_000  # agent-steps per second
OVERHEAD_GOAL = 1.3  # accounting step time / plain step time


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


def lm_overhead(repeats: int) -> dict[str, tuple[float, float]]:
    """Median seconds per (plain, accounting) step, for an SFT and an RL step."""
    import statistics

    import torch

    from arena.ds import llm
    from arena.ds import llm_train as lt

    torch.set_num_threads(1)
    model, vocab, _ = llm.load_model("hf:tiny")
    ref = llm.load_model("hf:tiny")[0]
    rng = np.random.default_rng(0)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)

    def sft_step(accounting: bool) -> None:
        ep = llm.play(
            (model, model),
            vocab,
            rng,
            llm.problems(rng, 16, 1, "+"),
            length=3,
            k_max=2,
            rho=0.8,
            expert=0.9,
        )
        loss_s, loss_d = lt.component_loss(lt.losses(model, None, ep, vocab, "sft"), 0.0)
        lt.step(model, optimizer, loss_s, loss_d, accounting=accounting)

    def rl_step(accounting: bool) -> None:
        ep = llm.play(
            (model, model), vocab, rng, llm.problems(rng, 16, 1, "+"), length=3, k_max=2, rho=0.8
        )
        ep.reward[: ep.reward.size // 2] = 1.0  # a signal even before the policy earns one
        terms = lt.losses(model, ref, ep, vocab, "rl", beta=0.1)
        loss_s, loss_d = lt.component_loss(terms, 0.1)
        lt.step(model, optimizer, loss_s, loss_d, accounting=accounting)

    out = {}
    for name, fn in (("SFT step", sft_step), ("RL step incl. rollout", rl_step)):
        fn(True)  # warm up
        times: dict[bool, list[float]] = {False: [], True: []}
        for _ in range(repeats):
            for accounting in (False, True):
                start = time.perf_counter()
                fn(accounting)
                times[accounting].append(time.perf_counter() - start)
        out[name] = (statistics.median(times[False]), statistics.median(times[True]))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="episodes stepped at once")
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--lm", action="store_true", help="also the tiny-LM accounting overhead")
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    ok = True
    for n in sorted({1_000, 10_000, args.n}):
        rate, eps = measure(n, args.seconds / 2 if n != args.n else args.seconds)
        line = f"N={n:>8,}: {rate / 1e6:7.2f}M agent-steps/s, {eps / 1e6:6.2f}M episodes/s"
        if n == args.n:
            ok = rate >= GOAL
            line += f"  (goal >= {GOAL / 1e6:.0f}M: {'PASS' if ok else 'FAIL'})"
        print(line)
    if args.lm:
        for name, (plain, accounted) in lm_overhead(args.repeats).items():
            ratio = accounted / plain
            good = ratio <= OVERHEAD_GOAL
            ok = ok and good
            print(
                f"tiny LM {name}: plain {plain * 1e3:.0f} ms, with per-component accounting "
                f"{accounted * 1e3:.0f} ms = {ratio:.2f}x (goal <= {OVERHEAD_GOAL}x: "
                f"{'PASS' if good else 'FAIL'})"
            )
            every2 = (plain + accounted) / (2 * plain)
            print(f"  with --account-every 2 (norms on every 2nd step): {every2:.2f}x")
    print("PASS" if ok else "FAIL")


if __name__ == "__main__":
    main()
