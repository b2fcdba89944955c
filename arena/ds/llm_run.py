"""The DS experiment on a causal LM (``--policy hf:PATH_OR_TINY``).

Per seed: one short SFT warm-up from a noisy teacher gives the *base* policy (the tiny
model is random-init, so without it no episode would ever be rewarded); each method
(``rl``: REINFORCE + β·KL to the base; ``rl-nokl``; ``sft`` on a better teacher's
demonstrations) then takes the same number of AdamW steps from that base. Measured
before and after, in distribution (``id_digits``-digit additions) and out of it
(``ood_digits``), with counterfactual swaps (sampling tokens from one model, decision
tokens from another) and the per-component gradient norms against ``L``.

Claim records: ``ds.t2`` (SFT gradient norms per component vs L) and ``ds.t3`` (KL
pull per component vs L), measured over *all* parameters of the shared network; ``ds.t4``
is not fed because its stated domain is plain gradient steps (this loop uses AdamW),
and ``ds.t1`` needs the toy's closed form, which an LM has not.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from arena.ds import llm
from arena.ds import llm_train as lt
from arena.ds.config import LLMSettings, RunConfig
from arena.ds.summary import method_summary, swap_summary
from theory.claims.ds import decision_attribution

Progress = Callable[[str, int, int], None]


def _problems(
    rng: np.random.Generator, t: LLMSettings, n: int, split: str
) -> list[tuple[str, int]]:
    return llm.problems(rng, n, t.id_digits if split == "id" else t.ood_digits, t.operators)


def evaluate(
    sampler: Any, decider: Any, vocab: llm.Vocab, t: LLMSettings, rng: np.random.Generator
) -> dict[str, dict[str, float]]:
    out = {}
    for split in ("id", "ood"):
        ep = llm.play(
            (sampler, decider),
            vocab,
            rng,
            _problems(rng, t, t.eval_episodes, split),
            length=t.length,
            k_max=t.k_max,
            rho=t.rho,
        )
        out[split] = lt.measured_rates(ep)
    return out


def _train(
    model: Any,
    ref: Any | None,
    method: str,
    vocab: llm.Vocab,
    t: LLMSettings,
    rng: np.random.Generator,
    steps: int,
    *,
    expert: float | None,
    warmup: bool = False,
    on_step: Callable[[int, dict[str, float]], None] | None = None,
) -> None:
    lr = t.warmup_lr if warmup else t.lr
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.0)
    model.train()
    beta = t.beta if method == "rl" else 0.0
    for i in range(1, steps + 1):
        probs = _problems(rng, t, t.batch, "id")
        ep = llm.play(
            (model, model),
            vocab,
            rng,
            probs,
            length=t.length,
            k_max=t.k_max,
            rho=t.rho,
            expert=expert,
            decide_at_random=warmup,
        )
        kind = "sft" if expert is not None else "rl"
        terms = lt.losses(
            model, ref if beta else None, ep, vocab, kind, beta=beta, kl_estimator=t.kl_estimator
        )
        loss_s, loss_d = lt.component_loss(terms, beta)
        accounting = not warmup and (i - 1) % t.account_every == 0
        row = lt.step(model, optimizer, loss_s, loss_d, accounting=accounting)
        row["batch_reward"] = float(np.mean(ep.reward)) if kind == "rl" else float("nan")
        row["loss"] = float((loss_s + loss_d).detach())
        if on_step is not None:
            on_step(i, row)
    model.eval()


def _share(before: dict[str, float], after: dict[str, float], k_max: int) -> float | None:
    pab = [(d["p1"], d["a"], 1 - d["one_minus_b"]) for d in (before, after)]
    if any(math.isnan(x) for trip in pab for x in trip):
        return None
    return float(decision_attribution(pab[0], pab[1], k_max)[2])


def _thawed(model: Any) -> Any:
    """A trainable copy (the base is frozen once warmed up)."""
    copied = copy.deepcopy(model)
    for p in copied.parameters():
        p.requires_grad_(True)
    return copied


def by_length(
    base: Any, trained: Any | None, vocab: llm.Vocab, t: LLMSettings, rng: np.random.Generator
) -> list[dict[str, Any]]:
    """Per-component gradient norms of SFT (at the base) and of the KL and RL terms (at
    ``trained`` with the base as reference) for each attempt length in ``t.lengths``."""
    rows = []
    for length in t.lengths:
        tl = LLMSettings(**{**t.__dict__, "length": length})
        demos = llm.play(
            (base, base),
            vocab,
            rng,
            _problems(rng, tl, t.batch, "id"),
            length=length,
            k_max=t.k_max,
            rho=t.rho,
            expert=t.demo_accuracy,
        )
        student = _thawed(base)
        sft = lt.losses(student, None, demos, vocab, "sft")
        row: dict[str, Any] = {"L": length}
        row["sft_sample"], row["sft_decision"] = lt.grad_norms(
            student, [sft["signal_S"], sft["signal_D"]]
        )
        if trained is not None:
            ep = llm.play(
                (trained, trained),
                vocab,
                rng,
                _problems(rng, tl, t.batch, "id"),
                length=length,
                k_max=t.k_max,
                rho=t.rho,
            )
            terms = lt.losses(
                trained, base, ep, vocab, "rl", beta=t.beta, kl_estimator=t.kl_estimator
            )
            parts = [terms["kl_S"], terms["kl_D"], terms["signal_S"], terms["signal_D"]]
            norms = lt.grad_norms(trained, parts)
            row.update(
                kl_sample=norms[0],
                kl_decision=norms[1],
                rl_sample=norms[2],
                rl_decision=norms[3],
                decisions=int(ep.decision_mask.sum()),
            )
        rows.append(row)
    return rows


def run_llm(
    config: RunConfig, progress: Progress | None = None
) -> tuple[dict[str, Any], list[dict[str, Any]], dict[str, list[dict[str, Any]]]]:
    t = config.llm
    base_model, vocab, path = llm.load_model(config.policy)
    from agents.backends.hf import _limit_threads_for_small_models

    # One intra-op thread for a tiny model on the CPU, as the hf backend and MAGIC do:
    # on busy shared cores two threads made this run several times slower.
    _limit_threads_for_small_models(torch, base_model, "cpu")
    rng = np.random.default_rng(config.seed)
    metrics: list[dict[str, Any]] = []
    entries: list[dict[str, Any]] = []
    swaps: list[dict[str, Any]] = []
    total = t.seeds * (t.warmup_steps + t.steps * len(config.train))
    done = 0

    def tick(what: str = "training") -> None:
        nonlocal done
        done += 1
        if progress:
            progress(what, done, total)

    lengths: list[dict[str, Any]] = []
    for seed in range(t.seeds):
        torch.manual_seed(config.seed * 1000 + seed)
        base = copy.deepcopy(base_model)
        _train(
            base,
            None,
            "sft",
            vocab,
            t,
            rng,
            t.warmup_steps,
            expert=t.warmup_accuracy,
            warmup=True,
            on_step=lambda i, r: tick(),
        )
        for p in base.parameters():
            p.requires_grad_(False)
        before = evaluate(base, base, vocab, t, rng)
        models: dict[str, Any] = {"base": base}
        for method in config.train:
            model = copy.deepcopy(base)
            for p in model.parameters():
                p.requires_grad_(True)

            def log(i: int, row: dict[str, float], method: str = method, seed: int = seed) -> None:
                metrics.append({"step": i, "method": method, "seed": seed, **row})
                tick()

            _train(
                model,
                base,
                method,
                vocab,
                t,
                rng,
                t.steps,
                expert=t.demo_accuracy if method == "sft" else None,
                on_step=log,
            )
            after = evaluate(model, model, vocab, t, rng)
            entries.append(
                {
                    "method": method,
                    "seed": seed,
                    "before": before,
                    "after": after,
                    "attribution": {"share_decision": _share(before["id"], after["id"], t.k_max)},
                }
            )
            models[method] = model
        for s_name, s_model in models.items():
            for d_name, d_model in models.items():
                if s_name != d_name:
                    swaps.append(
                        {
                            "seed": seed,
                            "sampler": s_name,
                            "decider": d_name,
                            **evaluate(s_model, d_model, vocab, t, rng),
                        }
                    )
        if seed == 0:
            if progress:
                progress("attribution vs L", 0, 1)
            trained = models.get("rl") or models.get("rl-nokl")
            lengths = by_length(base, trained, vocab, t, rng)
            if progress:
                progress("attribution vs L", 1, 1)
    records: dict[str, list[dict[str, Any]]] = {
        "ds.t2": [
            {
                "L": r["L"],
                "grad_norm_sample": r["sft_sample"],
                "grad_norm_decision": r["sft_decision"],
            }
            for r in lengths
        ],
    }
    notes = [
        "ds.t4 not fed: its stated domain is plain gradient steps; this loop uses AdamW",
        "ds.t1 not fed: an LM has no closed-form V_K to compare with",
        "norms are over all parameters of one shared network (no disjoint heads)",
    ]
    if lengths and "kl_sample" in lengths[0] and t.beta > 0:
        records["ds.t3"] = [
            {
                "L": r["L"],
                "kl_grad_norm_sample": r["kl_sample"],
                "kl_grad_norm_decision": r["kl_decision"],
            }
            for r in lengths
            if r["kl_sample"] > 0 and r["kl_decision"] > 0
        ]
    results = {
        "model_path": path,
        "summary": method_summary(entries),
        "swaps": swap_summary(swaps),
        "swap_runs": swaps,
        "sweeps": {"rho": [], "beta": []},
        "attribution": {"by_length": lengths, "length_from": "rl seed 0 (KL vs the base)"},
        "runs": entries,
        "notes": notes,
        "settings_note": (
            f"LM {config.policy}: {t.warmup_steps} warm-up SFT steps (teacher accuracy "
            f"{t.warmup_accuracy:g}, random decisions), then {t.steps} AdamW steps per method; "
            f"ID {t.id_digits}-digit, OOD {t.ood_digits}-digit operands; rates measured on "
            f"{t.eval_episodes} episodes"
        ),
    }
    return results, metrics, records
