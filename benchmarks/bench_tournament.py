"""Tournament speed and memory (issue 8's goals), each row a ratio against its baseline.

(a) Scripted agents end to end, store writes included: episodes/s of ``run_tournament``
    against ``arena play``'s path without a store (``play(..., runs_dir=None)``) on the
    same matchups and episodes. Goal: >= 5,000 episodes/s and >= 80% of play's rate.
    Both are measured on attack_defense (scripted attackers vs scripted defenders, rule
    judge) and on strategy_game (tabular agents); best of ``--repeats``, CPU time.
(b) ``hf:tiny`` agents: lock-step batched (32 games in flight) against one episode at a
    time (``batch_size=1``), same 32 episodes. Goal: >= 5x faster.
(c) Multi-turn games with early stops (attack_defense, ``max_turns=8``, half the seeds
    harmful, ``scripted:comply-all`` defender: a harmful seed ends at its first unsafe
    response, a benign one runs all 8 turns): continuous
    batching (a finished game's slot is refilled at once) against fixed batches that
    wait for their longest game. Reports the ratio of batched agent calls (what an LLM
    agent pays for) and of time, with scripted agents.
(d) Adaptive (ResponseGraphUCB-style) vs uniform sampling on a fixed synthetic payoff
    table: episodes until the ranking is resolved (see theory.evaluation.adaptive).
(e) Memory: peak RSS of a child process that plays a tournament and then summarises it
    from the store (``cell_samples``), at 100k and at 1M scripted episodes. Goal: the
    1M peak <= 1.2x the 100k peak. ``--skip-memory`` leaves it out (it takes minutes).

Run: ``python benchmarks/bench_tournament.py`` (``--repeats``, ``--episodes``).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from arena import match  # noqa: E402
from arena.play import PlayConfig, play  # noqa: E402
from arena.tournament import TournamentSpec, create, run_tournament  # noqa: E402

SCRIPTED = {
    "attack_defense": {
        "attacker": ["scripted:role-play", "scripted:base64"],
        "defender": ["scripted:keyword-filter", "scripted:decode-then-filter"],
    },
    "strategy_game": {
        "attacker": ["tabular:uniform", "tabular:nash"],
        "defender": ["tabular:nash", "tabular:uniform"],
    },
}


def _cpu(fn: Callable[[], Any]) -> float:
    start = time.process_time()
    fn()
    return time.process_time() - start


def _tournament(folder: Path, **kw: Any) -> Path:
    shutil.rmtree(folder, ignore_errors=True)
    create(folder, TournamentSpec(**kw))
    return folder


def row_a(tmp: Path, episodes: int, repeats: int) -> None:
    print("(a) scripted agents end to end, store writes included (best of", repeats, "CPU)")
    for env, seats in SCRIPTED.items():
        cells = len(seats["attacker"]) * len(seats["defender"])
        best_play = best_store = float("inf")
        config = PlayConfig(env=env, seats=seats, episodes=episodes)
        for _ in range(repeats):
            best_play = min(best_play, _cpu(partial(play, config, runs_dir=None)))
            folder = _tournament(tmp / "a", env=env, seats=seats, episodes=episodes)
            best_store = min(best_store, _cpu(partial(run_tournament, folder)))
        play_rate = cells * episodes / best_play
        store_rate = cells * episodes / best_store
        ratio = store_rate / play_rate
        verdict = "PASS" if store_rate >= 5000 and ratio >= 0.8 else "FAIL"
        print(
            f"  {env:<15} play (no store) {play_rate:9,.0f} eps/s   tournament + store "
            f"{store_rate:9,.0f} eps/s   ratio {ratio:.2f}  (goal >= 5,000/s and >= 0.80): "
            + verdict
        )


def row_b(tmp: Path) -> None:
    print("(b) hf:tiny agents, 32 games: lock-step batch of 32 vs one episode at a time")
    from arena.executors import AgentPool, WorkItem
    from arena.results import TournamentSpec as Spec

    spec = Spec(
        env="attack_defense",
        seats={
            "attacker": ["hf:tiny"],
            "defender": ["hf:tiny"],
        },
        episodes=32,
    )
    pool = AgentPool(spec)  # the models load once, outside the timings
    matchup = {"attacker": spec.seats["attacker"][0], "defender": spec.seats["defender"][0]}
    for seat, agent_spec in matchup.items():
        pool.agent(seat, agent_spec)
    items = [WorkItem(0, i, i, matchup) for i in range(32)]
    times = {}
    texts = {}
    for batch in (32, 1, 32):
        spec.batch_size = batch
        start = time.perf_counter()
        done = list(pool.play(items))
        times[batch] = min(times.get(batch, float("inf")), time.perf_counter() - start)
        texts[batch] = sorted((d.item.episode, json.dumps(d.record, sort_keys=True)) for d in done)
    pool.close()
    ratio = times[1] / times[32]
    same = texts[1] == texts[32]
    print(
        f"  batched {times[32]:.2f} s, one at a time {times[1]:.2f} s (model load excluded): "
        f"{ratio:.1f}x (goal >= 5x): {'PASS' if ratio >= 5 else 'FAIL'}; "
        f"transcripts identical: {same}"
    )


def row_c(tmp: Path, episodes: int) -> None:
    print("(c) multi-turn games with early stops: slot refilling vs fixed batches")
    from agents.registry import make_agent
    from arena.judging import make_judge
    from envs import load_game

    game = load_game("attack_defense")
    config = game.config({"max_turns": 8, "harmful_fraction": 0.5})
    probe = game.make_env(config, None)
    spaces = {s: probe.action_space(s) for s in game.seats}
    judge = make_judge("rule")
    calls = {"n": 0}

    def counted(spec: str, seat: str) -> Any:
        agent = make_agent(spec, role=seat, action_space=spaces[seat])
        inner = agent.act_batch

        def act_batch(observations: Any, seeds: Any = None) -> Any:
            calls["n"] += 1
            return inner(observations, seeds) if seeds is not None else inner(observations)

        agent.act_batch = act_batch  # type: ignore[method-assign]
        return agent

    agents = {
        "attacker": counted("scripted:random", "attacker"),
        "defender": counted("scripted:comply-all", "defender"),
    }
    jobs = [match.Job(i, i, agents) for i in range(episodes)]

    def make_env() -> Any:
        return game.make_env(config, judge)

    width = 32

    def refill() -> list[Any]:
        return list(match.play_jobs(make_env, jobs, batch_size=width))

    def fixed() -> list[Any]:
        out: list[Any] = []
        for start in range(0, len(jobs), width):
            out.extend(match.play_jobs(make_env, jobs[start : start + width], batch_size=width))
        return out

    results = {}
    for name, fn in (("refill", refill), ("fixed", fixed)):
        calls["n"] = 0
        seconds = _cpu(fn)
        results[name] = (calls["n"], seconds)
    (c_refill, t_refill), (c_fixed, t_fixed) = results["refill"], results["fixed"]
    print(
        f"  batched agent calls: refill {c_refill:,}, fixed batches {c_fixed:,} "
        f"({c_fixed / c_refill:.2f}x fewer with refilling); time {t_fixed / t_refill:.2f}x "
        f"({t_refill:.2f} s vs {t_fixed:.2f} s CPU, {episodes} episodes, {width} in flight)"
    )


def row_d() -> None:
    print("(d) adaptive vs uniform sampling on a fixed synthetic payoff table")
    try:
        from theory.evaluation.adaptive import compare_adaptive_uniform
    except ImportError as exc:  # pragma: no cover - reported, not hidden
        print(f"  unavailable: {exc}")
        return
    result = compare_adaptive_uniform()
    print(f"  {result}")


MEMORY_CHILD = textwrap.dedent(
    """
    import resource, sys
    from pathlib import Path
    from arena.tournament import TournamentSpec, cell_samples, create, run_tournament
    folder, per_cell = Path(sys.argv[1]), int(sys.argv[2])
    create(folder, TournamentSpec(env="strategy_game", seats={
        "attacker": ["tabular:uniform", "tabular:nash"],
        "defender": ["tabular:nash", "tabular:uniform"]}, episodes=per_cell, batch_size=256))
    run_tournament(folder)
    _, _, cells = cell_samples(folder)
    assert sum(c.n for c in cells) == 4 * per_cell
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    """
)


def row_e(tmp: Path) -> None:
    print("(e) peak RSS: play a tournament and summarise it from the store (child process)")
    script = tmp / "memory_child.py"
    script.write_text(MEMORY_CHILD)
    peaks = {}
    for total in (100_000, 1_000_000):
        folder = tmp / f"e{total}"
        shutil.rmtree(folder, ignore_errors=True)
        start = time.perf_counter()
        out = subprocess.run(
            [sys.executable, str(script), str(folder), str(total // 4)],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        peaks[total] = int(out.stdout.split()[-1]) / 1024
        size = (folder / "store.sqlite").stat().st_size / 2**20
        print(
            f"  {total:>9,} episodes: peak RSS {peaks[total]:.0f} MB, store {size:.0f} MB, "
            f"{time.perf_counter() - start:.0f} s"
        )
        shutil.rmtree(folder, ignore_errors=True)
    ratio = peaks[1_000_000] / peaks[100_000]
    print(
        f"  1M / 100k peak RSS: {ratio:.2f}x (goal <= 1.2x): {'PASS' if ratio <= 1.2 else 'FAIL'}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--episodes", type=int, default=2_500, help="per cell, rows a and c")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--skip-llm", action="store_true", help="leave out row (b)")
    parser.add_argument("--skip-memory", action="store_true", help="leave out row (e)")
    parser.add_argument("--only", default="abcde", help="rows to run, e.g. 'ad'")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        if "a" in args.only:
            row_a(tmp, args.episodes, args.repeats)
        if "b" in args.only and not args.skip_llm:
            row_b(tmp)
        if "c" in args.only:
            row_c(tmp, args.episodes)
        if "d" in args.only:
            row_d()
        if "e" in args.only and not args.skip_memory:
            row_e(tmp)


if __name__ == "__main__":
    main()
