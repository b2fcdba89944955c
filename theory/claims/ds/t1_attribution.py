"""DS T1 (reconstructed): balanced attribution of the policy gradient."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import sympy as sp

from theory.claims.base import (
    CheckResult,
    Claim,
    RecordSchemaError,
    Source,
    record_float,
    require_instances,
    verdict,
)
from theory.claims.ds.estimates import mc_estimate_test
from theory.claims.ds.model import (
    _RECONSTRUCTED_NOTE,
    PAPER,
    V2_CLAIM,
    V2_GRAD_CLAIM,
    VINF_CLAIM,
    VINF_GRAD_CLAIM,
    A,
    B,
    P,
    _lambdify3,
    _recursion_value,
    _sigmoid,
    _trajectories,
    value_and_grad,
)


def simulate_policy_gradient(
    rng: np.random.Generator,
    p: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
    k_max: np.ndarray,
    episodes: int,
) -> dict[str, np.ndarray]:
    """REINFORCE estimates of ``∂V/∂(θ_S, θ_a, θ_b)`` and of ``V``, one row per instance.

    Each component's estimate is ``mean((R − R̄)·g_x)`` where ``g_x`` is the score of the
    tokens that component emitted in the episode — the per-component split of the
    policy gradient whose balance T1 asserts. Returns estimates and standard errors.
    """
    n = p.shape[0]
    pc, ac, bc = p[:, None], a[:, None], b[:, None]
    alive = np.ones((n, episodes), dtype=bool)
    reward = np.zeros((n, episodes))
    g = np.zeros((3, n, episodes))
    for attempt in range(int(k_max.max())):
        if not alive.any():
            break
        correct = rng.random((n, episodes)) < pc
        g[0] += alive * (correct - pc)
        forced = np.asarray(k_max == attempt + 1)[:, None]
        stop = np.where(forced, True, rng.random((n, episodes)) < np.where(correct, ac, bc))
        decided = alive & ~forced
        g[1] += decided * correct * (stop - ac)
        g[2] += decided * ~correct * (stop - bc)
        reward += alive & stop & correct
        alive &= ~stop
    centred = reward - reward.mean(axis=1, keepdims=True)
    prod = centred[None] * g
    return {
        "grad": prod.mean(axis=2).T,
        "grad_se": (prod.std(axis=2, ddof=1) / math.sqrt(episodes)).T,
        "value": reward.mean(axis=1),
        "value_se": reward.std(axis=1, ddof=1) / math.sqrt(episodes),
    }


class DSBalancedAttributionClaim(Claim):
    """T1 (RECONSTRUCTED): the policy gradient attributes reward to each component exactly.

    Closed forms of the toy: ``V_2 = p[1 + (1−p)(a−b)]`` and
    ``V_∞ = pa/(pa + (1−p)b)`` with the gradients listed in ``docs/papers.md#ds-toy-model``.
    "Balanced" means ``E[(R−c)·g_S] = ∂V/∂θ_S`` and ``E[(R−c)·g_D] = ∂V/∂θ_D`` for any
    constant baseline ``c``: each head receives its own marginal effect on reward.

    Empirical records: one dict per Monte Carlo measurement with ``p``, ``a``, ``b``
    (the policy's probabilities), ``K`` (an int ≥ 1, or ``"inf"``) and at least one of
    ``value``, ``grad_theta_s``, ``grad_theta_a``, ``grad_theta_b`` (gradients in the
    sigmoid logits), each optionally with ``se_<key>`` (and ``episodes``). Each estimate
    gets the interval ``x ± z·se`` at level ``1 − alpha/m`` (Bonferroni over the ``m``
    estimates); the check fails when an interval misses the closed form ± ``tol``
    (absolute) and reports insufficient data when every interval is wider than ±0.1.
    """

    id = "ds.t1"
    source = Source(
        "reconstruction",
        "DS (Zhao et al. 2026, arXiv 2601.01580), T1, reconstructed from the abstract; "
        "docs/papers.md#ds",
        ("the paper's text was not readable; statement and toy model are ours",),
    )
    paper = PAPER
    statement = (
        "Policy-gradient (surrogate-reward) training gives Balanced Gradient Attribution: "
        "the sampling and decision heads each receive exactly their own marginal effect "
        "on expected reward; in the toy, V_2 = p[1+(1−p)(a−b)] and V_∞ = pa/(pa+(1−p)b)."
    )
    assumptions = (
        "on-policy sampling, trajectory-level reward, action-independent baseline",
        "each trajectory's score weighted by its advantage alone (no per-trajectory token "
        "normalisation: GRPO's token-mean weighting is the variant ds.t1.grpo-token-mean)",
        "disjoint parameters θ_S (sampling) and θ_D = (θ_a, θ_b) (decision)",
        "attempt correct w.p. p; STOP w.p. a after a correct and b after a wrong attempt",
        _RECONSTRUCTED_NOTE,
    )
    reconstructed = True

    def __init__(self, v2: sp.Expr | None = None, v_inf: sp.Expr | None = None) -> None:
        """``v2`` / ``v_inf`` override the claimed closed forms (to show the checks fail)."""
        self.v2 = V2_CLAIM if v2 is None else v2
        self.v_inf = VINF_CLAIM if v_inf is None else v_inf

    def check_symbolic(self) -> CheckResult:
        v2_derived = _recursion_value(2)
        v_sym = sp.symbols("V")
        fixed_point = sp.solve(
            sp.Eq(v_sym, P * A + (P * (1 - A) + (1 - P) * (1 - B)) * v_sym), v_sym
        )
        vinf_derived = sp.simplify(fixed_point[0])
        checks = {
            "V_2 closed form": sp.simplify(v2_derived - self.v2) == 0,
            "V_inf closed form": sp.simplify(vinf_derived - self.v_inf) == 0,
            "V_2 gradients": all(
                sp.simplify(sp.diff(self.v2, s) - g) == 0
                for s, g in zip((P, A, B), V2_GRAD_CLAIM, strict=True)
            ),
            "V_inf gradients": all(
                sp.simplify(sp.diff(self.v_inf, s) - g) == 0
                for s, g in zip((P, A, B), VINF_GRAD_CLAIM, strict=True)
            ),
        }
        # Exact policy-gradient split over every trajectory, with a symbolic baseline.
        c = sp.symbols("c")
        balance: dict[str, bool] = {}
        for k_max in (2, 3):
            trajs = _trajectories(k_max)
            value = _recursion_value(k_max)
            total = sp.expand(sum(t[0] for t in trajs))
            balance[f"K={k_max} probabilities sum to 1"] = sp.simplify(total - 1) == 0
            for idx, s in enumerate((P, A, B), start=2):
                # E[(R − c) ∂log P/∂s] = Σ (R − c) ∂P/∂s
                pg = sp.expand(sum((t[1] - c) * t[idx] for t in trajs))
                balance[f"K={k_max} E[(R-c)g_{s}] = dV/d{s}"] = (
                    sp.simplify(pg - sp.diff(value, s)) == 0
                )
        checks.update(balance)
        ok = all(checks.values())
        failed = [k for k, v in checks.items() if not v]
        summary = (
            "closed forms, gradients and the exact per-head policy-gradient split hold"
            if ok
            else f"failed: {', '.join(failed)}"
        )
        return verdict(
            ok,
            summary,
            {
                "V_2_derived": str(sp.factor(v2_derived)),
                "V_inf_derived": str(vinf_derived),
                "checks": checks,
            },
        )

    def check_numeric(self, rng: np.random.Generator, n: int) -> CheckResult:
        """Monte Carlo REINFORCE estimates vs the claimed closed-form gradients (|z| ≤ 5)."""
        require_instances(n, self.id)
        episodes = 8000
        theta = rng.uniform(-1.5, 1.5, size=(n, 3))
        p, a, b = (_sigmoid(theta[:, i]) for i in range(3))
        # K = 2 for the first half, "∞" (truncated where the tail is < 1e-9) for the rest
        half = n // 2
        cont = p * (1 - a) + (1 - p) * (1 - b)
        k_inf = np.ceil(np.log(1e-9) / np.log(cont)).astype(int) + 1
        k_max = np.where(np.arange(n) < half, 2, k_inf)
        sim = simulate_policy_gradient(rng, p, a, b, k_max, episodes)
        dsig = np.stack([p * (1 - p), a * (1 - a), b * (1 - b)], axis=-1)
        claimed_grad = np.empty((n, 3))
        claimed_value = np.empty(n)
        is2 = np.arange(n) < half
        claimed_grad[is2] = _lambdify3([sp.diff(self.v2, s) for s in (P, A, B)])(
            p[is2], a[is2], b[is2]
        )
        claimed_grad[~is2] = _lambdify3([sp.diff(self.v_inf, s) for s in (P, A, B)])(
            p[~is2], a[~is2], b[~is2]
        )
        claimed_value[is2] = _lambdify3([self.v2])(p[is2], a[is2], b[is2])[:, 0]
        claimed_value[~is2] = _lambdify3([self.v_inf])(p[~is2], a[~is2], b[~is2])[:, 0]
        claimed_grad = claimed_grad * dsig  # chain rule into the logits
        z_grad = (sim["grad"] - claimed_grad) / np.maximum(sim["grad_se"], 1e-12)
        z_value = (sim["value"] - claimed_value) / np.maximum(sim["value_se"], 1e-12)
        z = np.concatenate([z_grad.ravel(), z_value])
        max_z = float(np.max(np.abs(z)))
        mean_z2 = float(np.mean(z**2))
        worst = int(np.argmax(np.max(np.abs(z_grad), axis=1)))
        ok = max_z <= 5.0 and mean_z2 <= 1.5
        return verdict(
            ok,
            f"REINFORCE per-head estimates match ∂V/∂θ on {n} instances "
            f"(max |z| {max_z:.2f}, mean z² {mean_z2:.2f})"
            if ok
            else f"per-head estimates disagree with the closed forms (max |z| {max_z:.1f})",
            {
                "instances": n,
                "episodes_per_instance": episodes,
                "max_abs_z": max_z,
                "mean_z_squared": mean_z2,
                "worst_instance": {
                    "p": p[worst],
                    "a": a[worst],
                    "b": b[worst],
                    "K": "inf" if not is2[worst] else 2,
                    "mc_grad_theta": sim["grad"][worst],
                    "claimed_grad_theta": claimed_grad[worst],
                },
            },
            5.0,
        )

    def check_empirical(
        self, records: Sequence[Mapping[str, Any]], tol: float = 0.05, alpha: float = 0.05
    ) -> CheckResult:
        """Each MC estimate's ``1 − alpha/m`` interval must meet its closed form ± ``tol``.

        Uses both ``tol`` (absolute, in the estimate's units) and ``alpha`` (family-wise
        over the ``m`` estimates); see :func:`theory.claims.ds.estimates.mc_estimate_test`.
        """

        def analytic(r: Mapping[str, Any], i: int) -> dict[str, float]:
            p, a, b = (record_float(r, x, self.id, i) for x in ("p", "a", "b"))
            if str(r["K"]).lower() in ("inf", "infinity", "∞"):
                vals = _lambdify3([self.v_inf, *(sp.diff(self.v_inf, s) for s in (P, A, B))])(
                    np.array(p), np.array(a), np.array(b)
                )
                value, grad = float(vals[0]), np.asarray(vals[1:], dtype=float)
            else:
                k_max = int(record_float(r, "K", self.id, i))
                if k_max < 1:
                    raise RecordSchemaError(f"{self.id}: record {i} has K={k_max}; K must be >= 1.")
                v, g = value_and_grad(np.array(p), np.array(a), np.array(b), k_max)
                value, grad = float(v), np.asarray(g, dtype=float)
            return {
                "value": value,
                "grad_theta_s": grad[0] * p * (1 - p),
                "grad_theta_a": grad[1] * a * (1 - a),
                "grad_theta_b": grad[2] * b * (1 - b),
            }

        return mc_estimate_test(
            records,
            claim_id=self.id,
            required=("p", "a", "b", "K"),
            keys=("value", "grad_theta_s", "grad_theta_a", "grad_theta_b"),
            analytic=analytic,
            tol=tol,
            alpha=alpha,
        )
