"""DS T1 under GRPO's token-mean weighting: a stated variant (our extension).

T1 (``ds.t1``) weights each trajectory's score by its advantage ``R − c``. GRPO (Shao et
al. 2024, eq. 3) averages the per-token loss over each response's own tokens, so every
trajectory's score is divided by its token count ``N(τ)``: in the toy, ``L`` sampling
tokens per attempt plus one decision token per non-final attempt. Both heads share that
per-trajectory weight, so attribution stays balanced, but for a different objective:

    E[(R − c)/N(τ) · g_x(τ)] = ∂V_N/∂θ_x,   V_N(θ; c) = E[(R − c)/N(τ)],

and with ``K = 2``::

    V_N = [p·a·(1 − c) − (1 − p)·b·c]/(L + 1) + (p(1−a) + (1−p)(1−b))·(p − c)/(2L + 1).

The baseline no longer drops out (``∂V_N/∂c = −E[1/N]`` depends on θ): with ``c > 0``
it adds ``−c·∇E[1/N]``, which lowers both ``a`` and ``b`` — it pushes the decision head
towards RESAMPLE (longer trajectories, whose negative advantages are diluted), whatever
the attempt's correctness. Batch-level token-mean (``Σ_i A_i g_i / Σ_i N_i``, verl's
``token-mean`` aggregation) is ``∇V/E[N]`` in expectation: T1's balance up to a common
scale.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import sympy as sp
from scipy import stats

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
    L_SYM,
    PAPER,
    A,
    B,
    P,
    _recursion_value,
    _sigmoid,
    value_and_grad,
)

C_SYM = sp.Symbol("c", real=True)
_CONT = P * (1 - A) + (1 - P) * (1 - B)
VN_CLAIM: sp.Expr = (P * A * (1 - C_SYM) - (1 - P) * B * C_SYM) / (L_SYM + 1) + _CONT * (
    P - C_SYM
) / (2 * L_SYM + 1)


def token_trajectories(k_max: int) -> list[tuple[sp.Expr, int, sp.Expr]]:
    """Every episode of the toy as ``(probability, reward, token count)`` (sympy, exact).

    Stopping after attempt ``j < K`` leaves ``j·L`` sampling and ``j`` decision tokens;
    the forced stop after attempt ``K`` leaves ``K·L`` and ``K − 1``.
    """
    out: list[tuple[sp.Expr, int, sp.Expr]] = []

    def walk(prob: sp.Expr, attempt: int) -> None:
        for correct in (True, False):
            q = prob * (P if correct else 1 - P)
            if attempt == k_max:
                out.append((q, int(correct), attempt * L_SYM + (k_max - 1)))
                continue
            stop = A if correct else B
            out.append((q * stop, int(correct), attempt * (L_SYM + 1)))
            walk(q * (1 - stop), attempt + 1)

    walk(sp.Integer(1), 1)
    return out


def simulate_token_weighted_gradient(
    rng: np.random.Generator,
    p: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
    length: np.ndarray,
    baseline: np.ndarray,
    episodes: int,
) -> dict[str, np.ndarray]:
    """Monte Carlo GRPO-style per-head gradients of the toy with ``K = 2``, per instance.

    Samples ``episodes`` trajectories per instance, counts their tokens, and returns the
    per-sequence token-mean estimate ``mean((R − c)/N · g_x)`` and the batch token-mean
    estimate ``Σ (R − c) g_x / Σ N`` (with delta-method standard errors), each ``(n, 3)``
    in the logits ``(θ_S, θ_a, θ_b)``, plus ``mean_tokens``.
    """
    n = p.shape[0]
    pc, ac, bc = p[:, None], a[:, None], b[:, None]
    alive = np.ones((n, episodes), dtype=bool)
    reward = np.zeros((n, episodes))
    tokens = np.zeros((n, episodes))
    g = np.zeros((3, n, episodes))
    for attempt in range(2):
        correct = rng.random((n, episodes)) < pc
        g[0] += alive * (correct - pc)
        tokens += alive * length[:, None]
        if attempt == 1:  # forced stop, no decision token
            reward += alive & correct
            break
        stop = rng.random((n, episodes)) < np.where(correct, ac, bc)
        tokens += alive
        g[1] += alive * correct * (stop - ac)
        g[2] += alive * ~correct * (stop - bc)
        reward += alive & stop & correct
        alive &= ~stop
    adv = reward - baseline[:, None]
    per_seq = (adv / tokens)[None] * g
    numer = adv[None] * g
    mean_tokens = tokens.mean(axis=1)
    ratio = numer.mean(axis=2) / mean_tokens[None]
    resid = numer - ratio[..., None] * tokens[None]
    root = math.sqrt(episodes)
    return {
        "sequence": per_seq.mean(axis=2).T,
        "sequence_se": (per_seq.std(axis=2, ddof=1) / root).T,
        "batch": ratio.T,
        "batch_se": (resid.std(axis=2, ddof=1) / root / mean_tokens[None]).T,
        "mean_tokens": mean_tokens,
    }


def _zero(expr: sp.Expr) -> bool:
    """Whether a rational function of the symbols is identically 0 (exact, fast)."""
    return bool(sp.cancel(expr) == 0)


def _poly_zero(expr: sp.Expr) -> bool:
    """Whether a polynomial in the symbols is identically 0."""
    return bool(sp.expand(expr) == 0)


def _positive_substitution() -> dict[sp.Symbol, sp.Expr]:
    """``p, a, b ∈ (0, 1)`` written through positive symbols, so sympy can decide signs."""
    u, v, w = sp.symbols("u v w", positive=True)
    return {P: u / (1 + u), A: v / (1 + v), B: w / (1 + w)}


class DSGrpoTokenMeanClaim(Claim):
    """T1 under GRPO's per-response token-mean weighting — a stated variant of the
    RECONSTRUCTED T1 (our extension; module docstring for the derivation).

    Symbolic check: sympy enumerates every trajectory of the toy (K = 2, 3; symbolic
    ``L`` and baseline ``c``) with its token count and derives ``V_N = E[(R − c)/N]``; it
    checks the claimed closed form (``value_n``) at K = 2, the per-head split
    ``E[(R − c)/N·g_x] = ∂V_N/∂θ_x``, that ``∂²V_N/∂c∂a`` and ``∂²V_N/∂c∂b`` of the claimed
    form are negative (the baseline pushes both decision logits towards RESAMPLE; for
    plain policy gradient ``∂/∂c`` of the split is 0), that ``∇V_N`` is not parallel to
    ``∇V`` (the weighting is not a rescale), and that batch token-mean gives ``∇V/E[N]``.

    Numeric check: Monte Carlo GRPO-style gradients on at least 4 random instances
    (``L`` 1-8, ``c`` 0.2-0.8, 8000 episodes each): the per-sequence estimates must match
    the claimed ``∂V_N/∂θ`` (max |z| ≤ 5, and Σz² not in the upper 1e-4 tail of its χ²
    distribution), must reject ``∇V/E[N]`` on some instance (the length bias is visible),
    and the batch estimates must match ``∇V/E[N]``.

    Empirical records: dicts with ``p``, ``a``, ``b``, ``L``, ``c`` (the baseline), an
    optional ``K`` (only 2), and at least one of ``value`` (an estimate of ``V_N``),
    ``grad_theta_s``, ``grad_theta_a``, ``grad_theta_b`` (per-sequence token-mean
    gradients in the logits), each optionally with ``se_<key>``: as for ``ds.t1``, each
    estimate's ``1 − alpha/m`` interval must meet the closed form ± ``tol``.
    """

    id = "ds.t1.grpo-token-mean"
    source = Source(
        "extension",
        "our variant of DS T1 (reconstructed; docs/papers.md#ds) for GRPO's token-mean "
        "weighting (Shao et al. 2024, eq. 3; length bias as in Liu et al. 2025, Dr. GRPO)",
        (
            "a variant of our reconstruction of T1, not a statement of the DS paper",
            "toy model with K = 2 for the closed form; the baseline c is a fixed number, "
            "not GRPO's group mean (which adds an O(1/G) term)",
        ),
    )
    paper = PAPER
    statement = (
        "Under GRPO's per-response token-mean weighting, each trajectory's score is "
        "weighted by (R − c)/N(τ) for both heads, so each head receives exactly its own "
        "effect on V_N = E[(R − c)/N], not on V: the baseline no longer drops out and "
        "pushes both decision logits towards RESAMPLE, and ∇V_N is not parallel to ∇V; "
        "batch token-mean weighting gives ∇V/E[N] (T1 up to a common scale)."
    )
    assumptions = (
        "T1's toy: on-policy sampling, trajectory-level reward, disjoint heads",
        "N(τ) = L sampling tokens per attempt + one decision token per non-final attempt",
        "a fixed baseline c (GRPO's group mean reward, in the large-group limit)",
        "closed form for K = 2; the per-head split is checked for K = 2 and 3",
        _RECONSTRUCTED_NOTE,
    )
    reconstructed = True

    def __init__(self, value_n: sp.Expr | None = None) -> None:
        """``value_n`` (in ``p, a, b, L, c``; K = 2) overrides the claimed ``V_N``."""
        self.value_n = VN_CLAIM if value_n is None else value_n

    def _grad_fn(self) -> Any:
        exprs = [self.value_n, *(sp.diff(self.value_n, s) for s in (P, A, B))]
        return sp.lambdify((P, A, B, L_SYM, C_SYM), exprs, "numpy")

    def check_symbolic(self) -> CheckResult:
        checks: dict[str, bool] = {}
        derived: dict[int, sp.Expr] = {}
        for k_max in (2, 3):
            trajs = token_trajectories(k_max)
            derived[k_max] = sum(t[0] * (t[1] - C_SYM) / t[2] for t in trajs)
            # V_N = Σ_N Q_N/N with Q_N a polynomial in (p, a, b, c): the split holds iff
            # it holds for every token count N, a polynomial identity (exact and fast)
            groups: dict[sp.Expr, list[tuple[sp.Expr, int, sp.Expr]]] = {}
            for t in trajs:
                groups.setdefault(t[2], []).append(t)
            split = all(
                _poly_zero(
                    sum((t[1] - C_SYM) * sp.diff(t[0], s) for t in group)
                    - sp.diff(sum(t[0] * (t[1] - C_SYM) for t in group), s)
                )
                for group in groups.values()
                for s in (P, A, B)
            )
            plain = all(
                _poly_zero(sp.diff(sum((t[1] - C_SYM) * sp.diff(t[0], s) for t in trajs), C_SYM))
                for s in (P, A, B)
            )
            checks[f"K={k_max}: probabilities sum to 1"] = _poly_zero(sum(t[0] for t in trajs) - 1)
            checks[f"K={k_max}: E[(R-c)/N·g_x] = dV_N/dx for x = p, a, b"] = split
            checks[f"K={k_max}: plain policy gradient: the baseline drops out"] = plain
        checks["claimed V_N = E[(R-c)/N] at K=2 (enumerated)"] = _zero(derived[2] - self.value_n)
        positive = _positive_substitution()
        bias = {
            s: sp.factor(
                sp.cancel(sp.diff(self.value_n, C_SYM, s).subs(positive, simultaneous=True))
            )
            for s in (A, B)
        }
        checks["baseline pushes a and b down: d2V_N/dc da < 0 and d2V_N/dc db < 0"] = all(
            bool(e.is_negative) for e in bias.values()
        )
        # not a rescale: at a rational point (baseline = the group's mean reward V),
        # ∇V_N and ∇V are not parallel
        v2 = _recursion_value(2)
        point = {P: sp.Rational(1, 2), A: sp.Rational(3, 4), B: sp.Rational(1, 4), L_SYM: 4}
        point[C_SYM] = v2.subs(point)
        grad_vn = [sp.diff(self.value_n, s).subs(point) for s in (P, A, B)]
        grad_v = [sp.diff(v2, s).subs(point) for s in (P, A, B)]
        cross = [
            grad_vn[i] * grad_v[j] - grad_vn[j] * grad_v[i] for i, j in ((0, 1), (0, 2), (1, 2))
        ]
        checks["grad V_N is not parallel to grad V (not a rescale)"] = any(
            not _zero(x) for x in cross
        )
        # batch token-mean: E[Σ(R − c)·g_x]/E[ΣN] → E[(R − c)·g_x]/E[N], and the
        # numerator is ∂V/∂x (the baseline drops out), so the update is ∇V/E[N]
        trajs = token_trajectories(2)
        checks["batch token-mean: E[(R-c)g_x] = dV/dx, so E[(R-c)g_x]/E[N] = dV/dx / E[N]"] = all(
            _poly_zero(sum((t[1] - C_SYM) * sp.diff(t[0], s) for t in trajs) - sp.diff(v2, s))
            for s in (P, A, B)
        )
        failed = [k for k, v in checks.items() if not v]
        return verdict(
            not failed,
            "token-mean weighting is the exact balanced gradient of V_N = E[(R−c)/N]; the "
            "baseline adds −c·∇E[1/N] (towards RESAMPLE); batch token-mean is ∇V/E[N]"
            if not failed
            else f"failed: {'; '.join(failed)} (claimed V_N = {self.value_n})",
            {
                "checks": checks,
                "V_N_enumerated_K2": str(sp.factor(derived[2])),
                "baseline_effect_on_a_b": {str(k): str(v) for k, v in bias.items()},
            },
        )

    def check_numeric(self, rng: np.random.Generator, n: int) -> CheckResult:
        require_instances(n, self.id)
        n = max(n, 4)  # a few instances at least, so the length bias has a chance to show
        episodes = 8000
        theta = rng.uniform(-1.5, 1.5, size=(n, 3))
        p, a, b = (_sigmoid(theta[:, i]) for i in range(3))
        length = rng.integers(1, 9, size=n).astype(np.float64)
        baseline = rng.uniform(0.2, 0.8, size=n)
        sim = simulate_token_weighted_gradient(rng, p, a, b, length, baseline, episodes)
        dsig = np.stack([p * (1 - p), a * (1 - a), b * (1 - b)], axis=-1)
        vals = self._grad_fn()(p, a, b, length, baseline)
        claimed = np.stack([np.broadcast_to(v, p.shape) for v in vals[1:]], axis=-1) * dsig
        _, grad_v = value_and_grad(p, a, b, 2)
        rescaled = grad_v * dsig / sim["mean_tokens"][:, None]
        se = np.maximum(sim["sequence_se"], 1e-12)
        z = (sim["sequence"] - claimed) / se
        z_rescaled = (sim["sequence"] - rescaled) / se
        z_batch = (sim["batch"] - rescaled) / np.maximum(sim["batch_se"], 1e-12)
        max_z, mean_z2 = float(np.max(np.abs(z))), float(np.mean(z**2))
        # Σz² ~ χ²(3n) if the closed form is right: a joint test with a size of 1e-4
        chi2_p = float(stats.chi2.sf(float(np.sum(z**2)), z.size))
        bias_seen = int(np.sum(np.max(np.abs(z_rescaled), axis=1) > 5.0))
        max_z_batch = float(np.max(np.abs(z_batch)))
        problems = [
            text
            for text, bad in (
                (
                    f"per-sequence estimates disagree with the claimed dV_N/dθ (max |z| "
                    f"{max_z:.1f}, mean z² {mean_z2:.2f}, χ² p = {chi2_p:.2g}; allowed 5 and "
                    "p ≥ 1e-4)",
                    max_z > 5.0 or chi2_p < 1e-4,
                ),
                (
                    "no instance distinguishes token-mean weighting from a rescaled ∇V",
                    bias_seen == 0,
                ),
                (
                    f"batch token-mean estimates disagree with ∇V/E[N] (max |z| {max_z_batch:.1f})",
                    max_z_batch > 5.0,
                ),
            )
            if bad
        ]
        worst = int(np.argmax(np.max(np.abs(z), axis=1)))
        return verdict(
            not problems,
            f"per-sequence token-mean MC gradients match dV_N/dθ on {n} instances (max |z| "
            f"{max_z:.2f}, mean z² {mean_z2:.2f}); {bias_seen}/{n} reject a rescaled ∇V; "
            f"batch token-mean matches ∇V/E[N] (max |z| {max_z_batch:.2f})"
            if not problems
            else f"failed: {'; '.join(problems)}",
            {
                "instances": n,
                "episodes_per_instance": episodes,
                "max_abs_z": max_z,
                "mean_z_squared": mean_z2,
                "chi2_p_value": chi2_p,
                "instances_rejecting_rescaled_grad_V": bias_seen,
                "batch_max_abs_z": max_z_batch,
                "worst_instance": {
                    "p": p[worst],
                    "a": a[worst],
                    "b": b[worst],
                    "L": length[worst],
                    "c": baseline[worst],
                    "mc_grad_theta": sim["sequence"][worst],
                    "claimed_grad_theta": claimed[worst],
                },
            },
            5.0,
        )

    def check_empirical(
        self, records: Sequence[Mapping[str, Any]], tol: float = 0.05, alpha: float = 0.05
    ) -> CheckResult:
        """As ``ds.t1``: each estimate's ``1 − alpha/m`` interval vs the closed form ± ``tol``."""
        fn = self._grad_fn()

        def analytic(r: Mapping[str, Any], i: int) -> dict[str, float]:
            if "K" in r and record_float(r, "K", self.id, i) != 2:
                raise RecordSchemaError(
                    f"{self.id}: record {i} has K={r['K']!r}; the closed form is for K = 2. "
                    "Fix: measure with at most two attempts."
                )
            p, a, b, length, c = (record_float(r, x, self.id, i) for x in ("p", "a", "b", "L", "c"))
            v, gp, ga, gb = (float(x) for x in fn(p, a, b, length, c))
            return {
                "value": v,
                "grad_theta_s": gp * p * (1 - p),
                "grad_theta_a": ga * a * (1 - a),
                "grad_theta_b": gb * b * (1 - b),
            }

        return mc_estimate_test(
            records,
            claim_id=self.id,
            required=("p", "a", "b", "L", "c"),
            keys=("value", "grad_theta_s", "grad_theta_a", "grad_theta_b"),
            analytic=analytic,
            tol=tol,
            alpha=alpha,
        )


# ``--explain`` prints the derivation (module docstring) and what each check computes
DSGrpoTokenMeanClaim.explanation = f"{__doc__}\n{DSGrpoTokenMeanClaim.__doc__}"
