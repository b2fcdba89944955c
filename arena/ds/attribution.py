"""Gradient attribution of the tabular policy: per component, against L, and vs theory.

What each measurement feeds (the DS claims are *reconstructed*; see
``theory.claims.ds``), in that claim's own record schema:

* ``ds.t1``: REINFORCE estimates of ``∂V/∂θ_S``, ``∂V/∂θ_a``, ``∂V/∂θ_b`` and ``V`` at
  the base and trained policies, with standard errors, next to the exact gradients of
  ``V_K(p, a, b)``. ``θ_a``/``θ_b`` are the logits of the hint-marginalised
  ``a = P(STOP|correct)`` and ``b = P(STOP|wrong)``: the reward depends on the hint only
  through the decision, so the marginal process is exactly the toy's and its score
  ``Σ (stop − a)`` over decisions after correct attempts is an unbiased estimator;
* ``ds.t1.grpo-token-mean``: the same with GRPO's per-response token-mean weighting
  ``(R − c)/N(τ)``, at ``K = 2`` and a fixed baseline ``c = 0.5`` (the claim's setting);
* ``ds.t2``: SFT gradient norms per component at the base policy, for each ``L``;
* ``ds.t2.adam``: the displacement per component after :data:`ADAM_STEPS` steps of a
  real ``torch.optim.Adam`` on that SFT loss (fresh demonstrations each step), per ``L``
  (:func:`optimizer_displacement`; with ``torch.optim.SGD`` the same measurement follows
  T2's ``∝ L`` instead, which the tests use as the wrong variant);
* ``ds.t3``: the per-token KL penalty's gradient norms per component at the RL-trained
  policy (reference: its base policy), for each ``L``.

``by_length`` also keeps the RL reward gradient's norms at each ``L`` (balanced: its
expectation does not grow with ``L``; only its noise does).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from arena.ds import tabular as tb
from arena.ds.config import TabularSettings
from theory.claims.ds import value_and_grad

GRPO_BASELINE = 0.5
#: optimiser steps behind each ``ds.t2.adam`` record, and demonstrations per step
ADAM_STEPS = 10
ADAM_BATCH = 2000


def optimizer_displacement(
    rng: np.random.Generator,
    base: np.ndarray,
    t: TabularSettings,
    length: int,
    optimizer: str = "adam",
    steps: int = ADAM_STEPS,
    batch: int = ADAM_BATCH,
) -> tuple[float, float]:
    """``(‖Δθ_S‖, ‖Δθ_D‖)`` after ``steps`` SFT steps of a real torch optimiser from ``base``.

    Each step plays fresh demonstrations at the current θ (the scores are the student's)
    and hands the token-mean log-likelihood gradient to ``torch.optim.Adam`` (or
    ``SGD``), so what is measured is the optimiser's own update rule on noisy
    gradients, not a formula for it.
    """
    import torch

    theta = torch.tensor(base, dtype=torch.float64, requires_grad=True)
    opt: torch.optim.Optimizer = (
        torch.optim.Adam([theta], lr=t.lr) if optimizer == "adam"
        else torch.optim.SGD([theta], lr=t.lr)
    )  # fmt: skip
    for _ in range(steps):
        now = theta.detach().numpy()[None, :]
        demos = tb.play(
            rng, now[:, 0], now[:, 1:], rho=np.array([t.rho]), length=length, k_max=t.k_max,
            batch=batch, expert=np.array([t.demo_accuracy]),
        )  # fmt: skip
        g_s, g_d = tb.sft_grad(demos)
        # ascent on the log-likelihood = descent on the NLL
        theta.grad = torch.tensor(-np.concatenate([g_s, g_d[0]]), dtype=torch.float64)
        opt.step()
    moved = theta.detach().numpy() - base
    return float(abs(moved[0])), float(np.linalg.norm(moved[1:]))


def _mean_se(x: np.ndarray) -> tuple[float, float]:
    return float(x.mean()), float(x.std(ddof=1) / math.sqrt(x.size))


def t1_record(
    rng: np.random.Generator, theta: np.ndarray, rho: float, t: TabularSettings, episodes: int
) -> dict[str, Any]:
    """One ``ds.t1`` record: MC per-component policy-gradient estimates at ``theta``."""
    th = theta[None, :]
    batch = tb.play(
        rng,
        th[:, 0],
        th[:, 1:],
        rho=np.array([rho]),
        length=t.length,
        k_max=t.k_max,
        batch=episodes,
    )
    r = batch.reward[0]
    adv = r - (r.sum() - r) / (r.size - 1)
    p, a, b = (float(x) for x in tb.components(th, np.array([rho]))[0])
    record: dict[str, Any] = {"p": p, "a": a, "b": b, "K": t.k_max, "L": t.length}
    for key, score in (
        ("grad_theta_s", batch.score_s),
        ("grad_theta_a", batch.score_a),
        ("grad_theta_b", batch.score_b),
    ):
        record[key], record[f"se_{key}"] = _mean_se(adv * score[0])
    record["value"], record["se_value"] = _mean_se(r)
    _, grad = value_and_grad(np.array(p), np.array(a), np.array(b), t.k_max)
    record["exact"] = {
        "grad_theta_s": float(grad[0]) * p * (1 - p),
        "grad_theta_a": float(grad[1]) * a * (1 - a),
        "grad_theta_b": float(grad[2]) * b * (1 - b),
    }
    record["episodes"] = episodes
    return record


def grpo_record(
    rng: np.random.Generator, theta: np.ndarray, rho: float, t: TabularSettings, episodes: int
) -> dict[str, Any]:
    """One ``ds.t1.grpo-token-mean`` record: per-sequence token-mean estimates, ``K = 2``."""
    th = theta[None, :]
    batch = tb.play(
        rng, th[:, 0], th[:, 1:], rho=np.array([rho]), length=t.length, k_max=2, batch=episodes
    )
    weight = (batch.reward[0] - GRPO_BASELINE) / batch.tokens[0]
    p, a, b = (float(x) for x in tb.components(th, np.array([rho]))[0])
    record: dict[str, Any] = {"p": p, "a": a, "b": b, "K": 2, "L": t.length, "c": GRPO_BASELINE}
    for key, score in (
        ("grad_theta_s", batch.score_s),
        ("grad_theta_a", batch.score_a),
        ("grad_theta_b", batch.score_b),
    ):
        record[key], record[f"se_{key}"] = _mean_se(weight * score[0])
    record["value"], record["se_value"] = _mean_se(weight)
    record["episodes"] = episodes
    return record


def by_length(
    rng: np.random.Generator,
    base: np.ndarray,
    trained: np.ndarray,
    t: TabularSettings,
    episodes: int,
) -> list[dict[str, Any]]:
    """Per-component gradient norms of each signal at every ``L`` of ``t.lengths``.

    SFT and Adam at the base policy ``base`` (the demonstrations' expert has token
    accuracy ``demo_accuracy``); REINFORCE and the KL penalty at ``trained`` (an
    RL-trained policy), with ``base`` as the KL reference — at ``θ = θ_ref`` the KL
    gradient is zero, so it can only be seen away from the reference.
    """
    rows = []
    rho = np.array([t.rho])
    for length in t.lengths:
        demos = tb.play(
            rng,
            base[None, 0],
            base[None, 1:],
            rho=rho,
            length=length,
            k_max=t.k_max,
            batch=episodes,
            expert=np.array([t.demo_accuracy]),
        )
        s_s, s_d = tb.sft_grad(demos)
        adam_sample, adam_decision = optimizer_displacement(rng, base, t, length)
        batch = tb.play(
            rng,
            trained[None, 0],
            trained[None, 1:],
            rho=rho,
            length=length,
            k_max=t.k_max,
            batch=episodes,
        )
        r_s, r_d = tb.reinforce_grad(batch)
        k_s, k_d = tb.kl_grad(
            batch,
            trained[None, 0],
            trained[None, 1:],
            base[None, 0],
            base[None, 1:],
            t.kl_estimator,
        )
        rows.append(
            {
                "L": length,
                "sft_sample": float(abs(s_s[0])),
                "sft_decision": float(np.linalg.norm(s_d[0])),
                "adam_sample": adam_sample,
                "adam_decision": adam_decision,
                "rl_sample": float(abs(r_s[0])),
                "rl_decision": float(np.linalg.norm(r_d[0])),
                "kl_sample": float(abs(k_s[0])),
                "kl_decision": float(np.linalg.norm(k_d[0])),
            }
        )
    return rows


def claim_records(
    rng: np.random.Generator,
    t: TabularSettings,
    main: list[dict[str, Any]],
    lengths: list[dict[str, Any]],
) -> tuple[dict[str, list[dict[str, Any]]], list[str]]:
    """Every DS claim's records from a tabular run, and notes on what was left out.

    ``main`` holds the main group's instance entries (method, seed, θ0, θ, before/after).
    """
    notes: list[str] = []
    records: dict[str, list[dict[str, Any]]] = {}
    episodes = max(t.eval_episodes, 4000)
    seen: set[int] = set()
    t1: list[dict[str, Any]] = []
    grpo: list[dict[str, Any]] = []
    for entry in main:
        points = [("trained", np.array(entry["theta"]), entry["method"])]
        if entry["seed"] not in seen:
            seen.add(entry["seed"])
            points.append(("base", np.array(entry["theta0"]), "base"))
        for where, theta, label in points:
            rec = t1_record(rng, theta, t.rho, t, episodes)
            t1.append({**rec, "policy": label, "seed": entry["seed"], "at": where})
            grpo.append(
                {
                    **grpo_record(rng, theta, t.rho, t, episodes),
                    "policy": label,
                    "seed": entry["seed"],
                }
            )
    records["ds.t1"] = t1
    records["ds.t1.grpo-token-mean"] = grpo
    records["ds.t2"] = [
        {"L": r["L"], "grad_norm_sample": r["sft_sample"], "grad_norm_decision": r["sft_decision"]}
        for r in lengths
    ]
    records["ds.t2.adam"] = [
        {
            "L": r["L"],
            "update_norm_sample": r["adam_sample"],
            "update_norm_decision": r["adam_decision"],
        }
        for r in lengths
    ]
    if all(r["kl_sample"] > 0 and r["kl_decision"] > 0 for r in lengths):
        records["ds.t3"] = [
            {
                "L": r["L"],
                "kl_grad_norm_sample": r["kl_sample"],
                "kl_grad_norm_decision": r["kl_decision"],
            }
            for r in lengths
        ]
    else:
        notes.append("ds.t3: the RL policy did not move away from its reference; no KL pull")
    t4 = [e for e in main if e["method"] in ("rl", "sft")]
    in_domain = 8 <= t.length <= 64 and 2 <= t.beta * t.length <= 32 and t.optimizer == "sgd"
    methods = {e["method"] for e in t4}
    if not in_domain:
        notes.append(
            f"ds.t4: not fed: L={t.length}, β·L={t.beta * t.length:g}, optimizer {t.optimizer} "
            "is outside the claim's stated domain (L in [8, 64], β·L in [2, 32], plain "
            "gradient steps)"
        )
    elif methods != {"rl", "sft"}:
        notes.append("ds.t4: needs both rl and sft in --train")
    else:
        records["ds.t4"] = [
            {
                "method": e["method"],
                "seed": e["seed"],
                "K": t.k_max,
                **{
                    f"{x}_{when}": _pab(e[when]["id"])[j]
                    for when in ("before", "after")
                    for j, x in enumerate("pab")
                },
            }
            for e in t4
        ]
    return records, notes


def _pab(split: dict[str, float]) -> tuple[float, float, float]:
    """Measured ``(p1, a, b)`` of one split's evaluation."""
    return split["p1"], split["a"], 1.0 - split["one_minus_b"]
