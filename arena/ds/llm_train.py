"""Training signals on the LM policy, split by component, with per-component gradient norms.

Each signal's loss is a sum of per-token terms, so it splits exactly into the terms at
sampling positions (``S``) and at decision positions (``D``) of :mod:`arena.ds.llm`:

* ``rl``: REINFORCE, ``−Σ_τ A(τ) Σ_{t∈τ} log π(y_t)/B`` with a leave-one-out baseline
  (each trajectory's whole score weighted by its advantage: T1's balanced weighting);
* ``kl``: the per-token KL penalty to a frozen reference, ``β·Σ_t KL_t/B``; ``exact`` is
  the KL of the restricted next-token distributions, ``k3`` the sampled-token
  estimator ``ρ − log ρ − 1`` (``ρ = π_ref/π``, as TRL's GRPO);
* ``sft``: the token-mean NLL of demonstrations (TRL's SFT loss).

Why a hand-written loop and not TRL's trainers: the measurement needs the gradient of
each component's part of the loss, which TRL's trainers do not expose. The accounting
(:func:`step`) takes one backward pass per component (``torch.autograd.grad``) and sums
them into the update, so the update is exactly the plain step's; its cost is one
extra backward pass (``benchmarks/bench_ds.py`` measures the ratio).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from arena.ds.llm import Episodes, Vocab, head_logp, shifted_logits


def _kl_terms(
    dist: torch.Tensor, ref_dist: torch.Tensor, taken: torch.Tensor, estimator: str
) -> torch.Tensor:
    if estimator == "exact":
        return (dist.exp() * (dist - ref_dist)).sum(dim=-1)
    log_ratio = ref_dist.gather(1, taken[:, None])[:, 0] - dist.gather(1, taken[:, None])[:, 0]
    return log_ratio.exp() - log_ratio - 1


def losses(
    model: Any,
    ref: Any | None,
    ep: Episodes,
    vocab: Vocab,
    method: str,
    *,
    beta: float = 0.0,
    kl_estimator: str = "exact",
) -> dict[str, torch.Tensor]:
    """The loss terms of ``method`` per component: keys ``signal_S``, ``signal_D`` and,
    for RL with a reference, ``kl_S``, ``kl_D`` (already multiplied by nothing: raw)."""
    logp_s, dist_s, logp_d, dist_d = head_logp(shifted_logits(model, ep), ep, vocab)
    n = ep.ids.shape[0]
    if method == "sft":
        tokens = float(ep.sample_mask.sum() + ep.decision_mask.sum())
        return {"signal_S": -logp_s.sum() / tokens, "signal_D": -logp_d.sum() / tokens}
    r = torch.as_tensor(ep.reward, dtype=torch.float32)
    adv = r - (r.sum() - r) / max(n - 1, 1)
    rows = torch.arange(n)[:, None].expand_as(ep.ids)
    adv_s, adv_d = adv[rows[ep.sample_mask]], adv[rows[ep.decision_mask]]
    out = {"signal_S": -(adv_s * logp_s).sum() / n, "signal_D": -(adv_d * logp_d).sum() / n}
    if ref is not None:
        with torch.no_grad():
            _, ref_s, _, ref_d = head_logp(shifted_logits(ref, ep), ep, vocab)
        idx_s = _taken(ep, ep.sample_mask, vocab.digits)
        idx_d = _taken(ep, ep.decision_mask, vocab.decisions)
        out["kl_S"] = _kl_terms(dist_s, ref_s, idx_s, kl_estimator).sum() / n
        out["kl_D"] = _kl_terms(dist_d, ref_d, idx_d, kl_estimator).sum() / n
    return out


def _taken(ep: Episodes, mask: torch.Tensor, allowed: torch.Tensor) -> torch.Tensor:
    return (ep.ids[mask][:, None] == allowed[None, :]).float().argmax(dim=1)


def component_loss(
    terms: dict[str, torch.Tensor], beta: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(loss_S, loss_D)``: the signal plus ``β`` times the KL, per component."""
    loss_s, loss_d = terms["signal_S"], terms["signal_D"]
    if "kl_S" in terms and beta:
        loss_s = loss_s + beta * terms["kl_S"]
        loss_d = loss_d + beta * terms["kl_D"]
    return loss_s, loss_d


def grad_norms(model: Any, parts: list[torch.Tensor]) -> list[float]:
    """The gradient norm (over all parameters) of each loss in ``parts``; no update."""
    params = [p for p in model.parameters() if p.requires_grad]
    norms = []
    for k, part in enumerate(parts):
        grads = torch.autograd.grad(
            part, params, retain_graph=k < len(parts) - 1, allow_unused=True
        )
        norms.append(_norm(grads))
    return norms


def _norm(grads: tuple[torch.Tensor | None, ...]) -> float:
    total = torch.zeros(())
    for g in grads:
        if g is not None:
            total = total + (g.float() ** 2).sum()
    return float(torch.sqrt(total))


def step(
    model: Any,
    optimizer: torch.optim.Optimizer,
    loss_s: torch.Tensor,
    loss_d: torch.Tensor,
    *,
    accounting: bool = True,
) -> dict[str, float]:
    """One optimiser step on ``loss_S + loss_D``; with ``accounting`` also the norms of the
    gradient reaching the parameters from each component (``grad_norm_sample/decision``).

    The update is the same either way: the two component gradients are summed into
    ``.grad`` before the step.
    """
    optimizer.zero_grad(set_to_none=True)
    if not accounting:
        (loss_s + loss_d).backward()
        optimizer.step()
        return {}
    params = [p for p in model.parameters() if p.requires_grad]
    g_s = torch.autograd.grad(loss_s, params, retain_graph=True, allow_unused=True)
    g_d = torch.autograd.grad(loss_d, params, allow_unused=True)
    for p, a, b in zip(params, g_s, g_d, strict=True):
        if a is None and b is None:
            continue
        p.grad = a if b is None else b if a is None else a + b
    optimizer.step()
    return {"grad_norm_sample": _norm(g_s), "grad_norm_decision": _norm(g_d)}


def measured_rates(ep: Episodes) -> dict[str, float]:
    """Accuracy, p1, a = P(STOP|correct) and 1 − b = P(REVISE|wrong) of played episodes."""
    n_a, n_b = float(ep.dec_correct.sum()), float(ep.dec_wrong.sum())
    return {
        "accuracy": float(np.mean(ep.reward)),
        "p1": float(np.mean(ep.first_correct)),
        "a": float(ep.stop_correct.sum() / n_a) if n_a else float("nan"),
        "one_minus_b": float(ep.revise_wrong.sum() / n_b) if n_b else float("nan"),
        "n": float(ep.reward.size),
        "n_a": n_a,
        "n_b": n_b,
    }
