"""RAPO's Θ(k²) law for untargeted (uniformly random) reasoning."""

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
    check_alpha,
    insufficient,
    record_float,
    require_instances,
    require_keys,
    skipped,
    verdict,
)
from theory.claims.rapo.model import (
    PAPER,
    PAPER_T_STAR,
    DilutionInstance,
    DilutionModel,
    K,
    _lambdify,
    _positive_for_unit_delta,
)
from theory.claims.rapo.threshold import (
    RapoBudgetClaim,
)
from theory.claims.stats import banded_verdict


def _random_concept_walk(
    rng: np.random.Generator, needed: float, step: np.ndarray, runs: int, tracked: int = 3
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Steps until the score has risen by ``needed``, each step a uniform concept.

    ``step[i]`` is the score change of one more trace on concept ``i``. Returns the step
    counts of all ``runs`` and, for the first ``tracked`` runs, the trace counts at the
    stop and the concept drawn last (so the stop can be re-checked on the model).
    """
    k1 = step.size
    score, steps = np.zeros(runs), np.zeros(runs, dtype=np.int64)
    done = np.zeros(runs, dtype=bool)
    counts = np.zeros((tracked, k1), dtype=np.int64)
    last = np.zeros(tracked, dtype=np.int64)
    chunk = 2048
    while not done.all():
        idx = np.flatnonzero(~done)
        draws = rng.integers(0, k1, size=(idx.size, chunk))
        path = score[idx, None] + np.cumsum(step[draws], axis=1)
        hit = path >= needed - 1e-12
        stopped = hit.any(axis=1)
        first = np.where(stopped, hit.argmax(axis=1), chunk - 1)
        for row, run in enumerate(idx):
            if run < tracked:
                counts[run] += np.bincount(draws[row, : first[row] + 1], minlength=k1)
                last[run] = draws[row, first[row]]
        steps[idx] += first + 1
        score[idx] = path[np.arange(idx.size), first]
        done[idx] = stopped
    return steps, counts, last


class RapoUntargetedClaim(Claim):
    """Untargeted safety reasoning needs Θ(k²) steps (reconstructed).

    Source: ``docs/papers.md#rapo-untargeted-reasoning``.

    If each reasoning step addresses a uniformly random concept among the ``k+1`` in the
    prompt, it hits ``c_0`` with probability ``1/(k+1)``; steps on distractors move
    nothing; so the expected number of steps until refusal is ``(k+1)·⌈t*(k)⌉`` with
    ``t*(k) = δk/(η(1−δ))``, i.e. ``Θ(k²)`` against ``Θ(k)`` for targeted reasoning.

    Empirical records: one dict per trial with ``k`` and ``steps`` (reasoning steps used
    until the first refusal). The check fits ``log mean(steps)`` against ``log k`` (k ≥ 1)
    by weighted least squares (weights from each mean's delta-method variance, scaled up
    when the points scatter more than that) and takes the slope's interval at level
    ``1 − alpha``. It fails when the interval misses ``exponent·(1 ± tol)``, passes when
    it meets it and excludes the rival exponents 1 (targeted, Θ(k)) and 3; below
    ``min_records`` trials or three distinct k it reports insufficient data.
    """

    id = "rapo.untargeted-k2"
    source = Source(
        "extension",
        "our corollary of RAPO Theorem 3.1 for untargeted reasoning; "
        "docs/papers.md#rapo-untargeted-reasoning",
        ("not stated by the paper; the untargeted-step model is ours",),
    )
    paper = PAPER
    statement = (
        "If safety reasoning picks the concept to address uniformly at random, the expected "
        "number of reasoning steps before refusal is (k+1)·⌈δk/(η(1−δ))⌉ = Θ(k²)."
    )
    assumptions = (
        *RapoBudgetClaim.assumptions,
        "each reasoning step addresses one of the k+1 concepts uniformly at random",
    )
    reconstructed = True
    #: fewest trials (k >= 1) before the growth law is tested
    min_records = 100

    def __init__(self, exponent: float = 2.0) -> None:
        """``exponent`` is the claimed growth order (2); another value shows the check fail."""
        self.exponent = exponent

    def check_symbolic(self) -> CheckResult:
        n_sym = sp.symbols("n", integer=True, positive=True)
        q = 1 / (K + 1)
        geometric_mean = sp.simplify(
            sp.summation(n_sym * q * (1 - q) ** (n_sym - 1), (n_sym, 1, sp.oo))
        )
        expected_steps = geometric_mean * PAPER_T_STAR  # linearity over the t* hits
        order_limit = sp.simplify(sp.limit(expected_steps / K**self.exponent, K, sp.oo))
        # sympy's "positive" means finite and > 0, so this also rules out growth ≠ k^exponent
        finite_positive = _positive_for_unit_delta(order_limit)
        ok = sp.simplify(geometric_mean - (K + 1)) == 0 and finite_positive
        return verdict(
            ok,
            ("" if ok else f"failed: E[steps]/k^{self.exponent:g} has no finite positive limit; ")
            + f"E[steps] = {sp.factor(expected_steps)}; lim E/k^{self.exponent:g} = {order_limit}",
            {
                "steps_per_hit": str(geometric_mean),
                "expected_steps": str(expected_steps),
                "limit_over_k_power": str(order_limit),
            },
        )

    def check_numeric(self, rng: np.random.Generator, n: int) -> CheckResult:
        """Simulate random reasoning on the vector model and fit the growth exponent.

        Each step adds the trace of a uniformly random concept — ``(c_0, 1)`` or a
        distractor ``(c_i, 0)`` — and the run stops at the first step where the model,
        after one GD step on all traces so far, refuses. Nothing assumes that distractor
        traces are inert or how many hits refusal needs: the per-trace score increments
        come from the vectors, the walk is checked against :meth:`DilutionModel.refuses_counts`
        at its stopping step, and the mean is compared with ``(k+1)·⌈t*(k)⌉``.
        """
        require_instances(n, self.id)
        ks = np.array([8, 16, 32, 64])
        runs = 200
        t_star = _lambdify(PAPER_T_STAR)
        slopes, z_scores, model_disagreements, linearity = [], [], 0, 0.0
        for _ in range(max(2, n // 40)):
            delta = float(rng.uniform(0.2, 0.8))
            kappa_target = float(rng.uniform(0.5, 4.0))
            eta = delta / (kappa_target * (1 - delta))
            means = []
            for kv in ks:
                k = int(kv)
                model = DilutionModel(DilutionInstance(delta, eta, delta, k), rng)
                base = model.score_counts(np.zeros(k + 1))
                step = np.array([model.score_counts(np.eye(k + 1)[i]) - base for i in range(k + 1)])
                # the step is a sum over traces, so the score is affine in the counts
                probe = rng.integers(0, 50, size=k + 1)
                linearity = max(linearity, abs(model.score_counts(probe) - base - probe @ step))
                steps, counts, last = _random_concept_walk(rng, model.inst.gamma - base, step, runs)
                for c, i in zip(counts, last, strict=True):  # confirm stops on the vectors
                    previous = c.copy()
                    previous[i] -= 1
                    model_disagreements += int(
                        not model.refuses_counts(c) or model.refuses_counts(previous)
                    )
                mean, se = steps.mean(), steps.std(ddof=1) / math.sqrt(runs)
                claimed = (k + 1) * math.ceil(t_star(delta, eta, delta, float(k), 0.0, 0.0) - 1e-9)
                z_scores.append((mean - claimed) / max(se, 1e-12))
                means.append(mean)
            slopes.append(stats.linregress(np.log(ks), np.log(means)).slope)
        worst = float(np.max(np.abs(np.array(slopes) - self.exponent)))
        max_z = float(np.max(np.abs(z_scores)))
        ok = worst <= 0.15 and max_z <= 5.0 and model_disagreements == 0 and linearity < 1e-8
        problems = [
            text
            for text, bad in (
                (
                    f"fitted exponent off the claimed {self.exponent:g} by {worst:.2f} (allowed "
                    "0.15)",
                    worst > 0.15,
                ),
                (f"mean steps vs (k+1)⌈t*⌉ |z| = {max_z:.1f} (allowed 5)", max_z > 5.0),
                (
                    f"{model_disagreements} walk stops not refusals on the model",
                    model_disagreements > 0,
                ),
                ("score not affine in the trace counts", linearity >= 1e-8),
            )
            if bad
        ]
        return verdict(
            ok,
            ("" if ok else f"failed: {'; '.join(problems)}; ")
            + f"random-concept reasoning on the vector model: fitted growth exponents "
            f"{min(slopes):.2f}..{max(slopes):.2f} vs claimed {self.exponent:g} (tolerance "
            f"0.15); mean steps vs (k+1)⌈t*⌉ max |z| {max_z:.1f}",
            {
                "instances": len(slopes),
                "runs_per_k": runs,
                "k_values": ks,
                "fitted_exponents": slopes,
                "max_abs_z_mean_vs_(k+1)⌈t*⌉": max_z,
                "stops_not_refused_by_model": model_disagreements,
                "score_affinity_error": linearity,
            },
            0.15,
        )

    def check_empirical(
        self, records: Sequence[Mapping[str, Any]], tol: float = 0.05, alpha: float = 0.05
    ) -> CheckResult:
        if not records:
            return skipped("no records: pass dicts with keys k, steps")
        check_alpha(alpha)
        require_keys(records, ("k", "steps"), self.id)
        k = np.array([record_float(r, "k", self.id, i) for i, r in enumerate(records)])
        steps = np.array([record_float(r, "steps", self.id, i) for i, r in enumerate(records)])
        if np.any(steps <= 0):
            raise RecordSchemaError(f"{self.id}: steps must be positive. Fix: count steps >= 1.")
        used = k >= 1
        ks = np.unique(k[used])
        if int(used.sum()) < self.min_records or ks.size < 3:
            return insufficient(
                int(used.sum()) if ks.size >= 3 else int(ks.size),
                self.min_records if ks.size >= 3 else 3,
                "trials with k >= 1"
                if ks.size >= 3
                else "distinct k >= 1 (a slope with an interval needs three)",
                {"k_values": ks},
            )
        counts = np.array([np.sum(k == kv) for kv in ks])
        means = np.array([steps[k == kv].mean() for kv in ks])
        variances = np.array(
            [steps[k == kv].var(ddof=1) if c > 1 else 0.0 for kv, c in zip(ks, counts, strict=True)]
        )
        x, y = np.log(ks), np.log(means)
        # delta method: Var(log mean) ≈ Var(steps)/(count·mean²); floored for exact data
        weights = 1.0 / np.maximum(variances / (counts * means**2), 1e-12)
        x_bar = float(np.sum(weights * x) / np.sum(weights))
        sxx = float(np.sum(weights * (x - x_bar) ** 2))
        slope = float(np.sum(weights * (x - x_bar) * y) / sxx)
        intercept = float(np.sum(weights * y) / np.sum(weights) - slope * x_bar)
        df = ks.size - 2
        chi2 = float(np.sum(weights * (y - intercept - slope * x) ** 2))
        scatter = chi2 / df
        se = math.sqrt(max(1.0, scatter) / sxx)
        q = (
            float(stats.norm.ppf(1 - alpha / 2))
            if scatter <= 1.0
            else float(stats.t.ppf(1 - alpha / 2, df))
        )
        return banded_verdict(
            estimate=slope,
            interval=(slope - q * se, slope + q * se),
            prediction=self.exponent,
            tol=tol * self.exponent,
            rivals=(self.exponent - 1.0, self.exponent + 1.0),
            n=int(used.sum()),
            what="growth exponent of mean steps in k (log-log slope)",
            evidence={
                "k_values": ks,
                "mean_steps": means,
                "trials_per_k": counts,
                "slope_se": se,
                "scatter_chi2_per_df": scatter,
                "min_n": self.min_records,
            },
            alpha=alpha,
        )
