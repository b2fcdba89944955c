"""The tabular DS experiment: RL (± KL) vs SFT for equal steps, swaps, sweeps.

Every (group, method, seed, ρ, β) is one *instance*, a row of :mod:`arena.ds.tabular`'s
arrays, so the main comparison and the ρ and β sweeps train side by side in one numpy
loop. All methods of a seed start from the same logits ``θ0`` (the "base model"), take
the same number of steps at the same step size, and are measured before and after on
in- and out-of-distribution episodes (Monte Carlo, ``eval_episodes`` each), next to the
exact values of the toy's recursion ``V_K(p, a, b)``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from arena.ds import tabular as tb
from arena.ds.config import TabularSettings
from theory.claims.ds import decision_attribution

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Instance:
    group: str  # "main", "rho" or "beta"
    method: str
    seed: int
    rho: float
    beta: float


def initial_logits(seed: int) -> np.ndarray:
    """The base model of ``seed``: logits ``(θ_S, θ_0, θ_1)`` uniform in ``[−1, 1]``."""
    return np.random.default_rng([seed, 7]).uniform(-1.0, 1.0, size=3)


def instances(t: TabularSettings, methods: tuple[str, ...]) -> list[Instance]:
    out = [
        Instance("main", m, s, t.rho, 0.0 if m == "rl-nokl" else t.beta)
        for s in range(t.seeds)
        for m in methods
    ]
    pair = [m for m in ("rl", "sft") if m in methods]
    for rho in t.rho_sweep:
        out += [
            Instance("rho", m, s, rho, t.beta if m == "rl" else 0.0)
            for s in range(t.sweep_seeds)
            for m in pair
        ]
    if "rl" in methods:
        for beta in t.beta_sweep:
            out += [Instance("beta", "rl", s, t.rho, beta) for s in range(t.sweep_seeds)]
    return out


def _norms(g_s: np.ndarray, g_d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return np.abs(g_s), np.linalg.norm(g_d, axis=-1)


def train(
    t: TabularSettings,
    insts: list[Instance],
    rng: np.random.Generator,
    progress: Progress | None = None,
) -> tuple[np.ndarray, np.ndarray, list[dict[str, Any]]]:
    """Train every instance; returns ``(θ0, θ_final, metric rows)`` (θ arrays ``(I, 3)``)."""
    theta0 = np.stack([initial_logits(i.seed) for i in insts])
    theta = theta0.copy()
    rho = np.array([i.rho for i in insts])
    beta = np.array([i.beta for i in insts])
    rl = np.array([i.method != "sft" for i in insts])
    sft = ~rl
    expert = np.full(len(insts), t.demo_accuracy)
    m, v = np.zeros_like(theta), np.zeros_like(theta)
    rows: list[dict[str, Any]] = []
    for step in range(1, t.steps + 1):
        grad = np.zeros_like(theta)
        norms = np.full((len(insts), 4), np.nan)  # signal S, D; KL S, D
        reward = np.full(len(insts), np.nan)
        if rl.any():
            th = theta[rl]
            batch = tb.play(
                rng, th[:, 0], th[:, 1:], rho=rho[rl], length=t.length, k_max=t.k_max, batch=t.batch
            )
            g_s, g_d = tb.reinforce_grad(batch)
            k_s, k_d = tb.kl_grad(
                batch, th[:, 0], th[:, 1:], theta0[rl, 0], theta0[rl, 1:], t.kl_estimator
            )
            b = beta[rl]
            grad[rl, 0] = g_s - b * k_s
            grad[rl, 1:] = g_d - b[:, None] * k_d
            norms[rl] = np.stack([*_norms(g_s, g_d), *_norms(k_s, k_d)], axis=1)
            reward[rl] = batch.reward.mean(axis=1)
        if sft.any():
            th = theta[sft]
            demos = tb.play(
                rng,
                th[:, 0],
                th[:, 1:],
                rho=rho[sft],
                length=t.length,
                k_max=t.k_max,
                batch=t.batch,
                expert=expert[sft],
            )
            g_s, g_d = tb.sft_grad(demos)
            grad[sft, 0], grad[sft, 1:] = g_s, g_d
            norms[sft, :2] = np.stack(_norms(g_s, g_d), axis=1)
        if t.optimizer == "adam":
            m = 0.9 * m + 0.1 * grad
            v = 0.999 * v + 0.001 * grad**2
            theta = theta + t.lr * (m / (1 - 0.9**step)) / (np.sqrt(v / (1 - 0.999**step)) + 1e-8)
        else:
            theta = theta + t.lr * grad
        if step % t.log_every == 0 or step == 1:
            pab = tb.components(theta, rho)
            value = tb.exact_value(theta, rho, t.k_max)
            for k, inst in enumerate(insts):
                rows.append(
                    {
                        "step": step,
                        "group": inst.group,
                        "method": inst.method,
                        "seed": inst.seed,
                        "rho": inst.rho,
                        "beta": inst.beta,
                        "grad_norm_sample": norms[k, 0],
                        "grad_norm_decision": norms[k, 1],
                        "kl_grad_norm_sample": norms[k, 2],
                        "kl_grad_norm_decision": norms[k, 3],
                        "p": pab[k, 0],
                        "a": pab[k, 1],
                        "b": pab[k, 2],
                        "accuracy_exact": value[k],
                        "batch_reward": reward[k],
                    }
                )
        if progress is not None:
            progress(step, t.steps)
    return theta0, theta, rows


def evaluate(
    t: TabularSettings, theta: np.ndarray, rho: np.ndarray, rng: np.random.Generator
) -> dict[str, dict[str, np.ndarray]]:
    """Measured and exact DS components per instance, in and out of distribution."""
    out: dict[str, dict[str, np.ndarray]] = {}
    for split, shift in (("id", 0.0), ("ood", t.ood_shift)):
        got = tb.measure(
            rng,
            theta,
            rho=rho,
            length=t.length,
            k_max=t.k_max,
            episodes=t.eval_episodes,
            shift=shift,
        )
        pab = tb.components(theta, rho, shift)
        out[split] = {
            "accuracy": got.accuracy,
            "p1": got.p1,
            "a": got.a,
            "one_minus_b": got.one_minus_b,
            "exact_accuracy": tb.exact_value(theta, rho, t.k_max, shift),
            "exact_p": pab[:, 0],
            "exact_a": pab[:, 1],
            "exact_one_minus_b": 1 - pab[:, 2],
        }
    return out


def _row(ev: dict[str, dict[str, np.ndarray]], k: int) -> dict[str, dict[str, float]]:
    return {split: {key: float(arr[k]) for key, arr in d.items()} for split, d in ev.items()}


def swaps(
    t: TabularSettings,
    insts: list[Instance],
    theta0: np.ndarray,
    theta: np.ndarray,
    rng: np.random.Generator,
) -> list[dict[str, Any]]:
    """Counterfactual swaps: the sampler of one model with the decider of another.

    Per seed of the main group, every ordered pair of {base, trained methods}: measured
    accuracy in and out of distribution. ``sampler = X, decider = base`` isolates what
    X's sampling head gained, ``sampler = base, decider = X`` what its decision head did.
    """
    main = {(i.seed, i.method): k for k, i in enumerate(insts) if i.group == "main"}
    combos: list[tuple[int, str, str, np.ndarray]] = []
    for seed in sorted({s for s, _ in main}):
        models = {"base": theta0[main[next(k for k in main if k[0] == seed)]]}
        models.update({m: theta[k] for (s, m), k in main.items() if s == seed})
        for s_name, s_theta in models.items():
            for d_name, d_theta in models.items():
                if s_name != d_name:
                    combos.append(
                        (seed, s_name, d_name, np.concatenate([s_theta[:1], d_theta[1:]]))
                    )
    if not combos:
        return []
    ev = evaluate(t, np.stack([c[3] for c in combos]), np.full(len(combos), t.rho), rng)
    return [
        {"seed": seed, "sampler": s, "decider": d, **_row(ev, k)}
        for k, (seed, s, d, _) in enumerate(combos)
    ]


def run_tabular(
    t: TabularSettings, methods: tuple[str, ...], seed: int, progress: Progress | None = None
) -> dict[str, Any]:
    """The whole experiment; returns plain data (results, metric rows, instance table)."""
    rng = np.random.default_rng(seed)
    insts = instances(t, methods)
    theta0, theta, rows = train(t, insts, rng, progress)
    rho = np.array([i.rho for i in insts])
    before, after = evaluate(t, theta0, rho, rng), evaluate(t, theta, rho, rng)
    table = []
    for k, inst in enumerate(insts):
        b, a = _row(before, k), _row(after, k)
        entry = {
            **inst.__dict__,
            "theta0": theta0[k].tolist(),
            "theta": theta[k].tolist(),
            "before": b,
            "after": a,
        }
        pab = [
            tuple(float(x) for x in (d["id"]["p1"], d["id"]["a"], 1 - d["id"]["one_minus_b"]))
            for d in (b, a)
        ]
        gain_s, gain_d, share = decision_attribution(pab[0], pab[1], t.k_max)  # type: ignore[arg-type]
        entry["attribution"] = {
            "gain_sample": gain_s,
            "gain_decision": gain_d,
            "share_decision": share,
        }
        table.append(entry)
    return {
        "instances": table,
        "swaps": swaps(t, insts, theta0, theta, rng),
        "metrics": rows,
        "theta0": theta0,
        "theta": theta,
        "insts": insts,
        "rng": rng,
    }
