"""RAPO Theorem 3.1 and its general-threshold and correlated/masking variants."""

from __future__ import annotations

import math
from abc import abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from typing import Any

import numpy as np
import sympy as sp
from scipy import stats

from theory.claims.base import (
    DEFAULT_ALPHA,
    DEFAULT_TOL,
    CheckResult,
    Claim,
    Source,
    require_instances,
    verdict,
)
from theory.claims.rapo.model import (
    _REL_TOL,
    DELTA,
    EPS,
    ETA,
    GAMMA,
    GENERAL_T_STAR,
    MASKED_T_STAR,
    PAPER,
    PAPER_T_STAR,
    RHO,
    DilutionInstance,
    DilutionModel,
    K,
    T,
    _explicit_vector_score,
    _lambdify,
    _positive_for_unit_delta,
)
from theory.claims.rapo.records import (
    GENERAL_FAMILY,
    MASKED_FAMILY,
    PAPER_FAMILY,
    _Family,
    iso_refusal_test,
)


class _ThresholdClaim(Claim):
    """Shared checks for the three threshold claims; subclasses fix the setting."""

    paper = PAPER
    default_t_star: sp.Expr
    family: _Family
    masked: bool = False
    min_records = 200

    def __init__(self, t_star: sp.Expr | None = None) -> None:
        """``t_star`` overrides the claimed threshold (used to show the checks can fail)."""
        self.t_star = self.default_t_star if t_star is None else t_star

    # subclasses restrict the claimed expression to their setting
    def _setting(self, expr: sp.Expr) -> sp.Expr:
        return expr

    @abstractmethod
    def _draw(self, rng: np.random.Generator) -> DilutionInstance:
        """One random instance of this variant's setting."""

    def check_symbolic(self) -> CheckResult:
        claimed = sp.simplify(self._setting(self.t_star))
        # 1. the score formula, derived from explicit vectors for k = 1..4
        score_general = (
            DELTA - K * self._eps() + ETA * T * (1 - DELTA) * (1 + K * self._rho())
        ) / (K + 1)
        mismatched_k = [
            kv
            for kv in range(1, 5)
            if sp.simplify(_explicit_vector_score(kv, self.masked) - score_general.subs(K, kv)) != 0
        ]
        # 2. solve score = γ for t with k symbolic and compare with the claim
        gamma = self._gamma()
        solved = sp.solve(sp.Eq(score_general, gamma), T)
        derived = sp.simplify(solved[0]) if len(solved) == 1 else None
        equal = derived is not None and sp.simplify(derived - claimed) == 0
        evidence: dict[str, Any] = {
            "score_after_step": str(score_general),
            "derived_threshold": str(derived),
            "claimed_threshold": str(claimed),
            "vector_derivation_mismatch_k": mismatched_k,
        }
        evidence.update(self._extra_symbolic(claimed))
        ok = (
            equal
            and not mismatched_k
            and all(v for key, v in evidence.items() if key.startswith("holds_"))
        )
        summary = f"solving the post-step score for t gives {derived}; claim {claimed}"
        if not ok:
            what = [
                *(["derived threshold ≠ claimed"] if not equal else []),
                *([f"vector derivation differs at k={mismatched_k}"] if mismatched_k else []),
                *(
                    k[len("holds_") :]
                    for k, v in evidence.items()
                    if k.startswith("holds_") and not v
                ),
            ]
            summary = f"failed: {'; '.join(what)}; {summary}"
        return verdict(ok, summary, evidence, None)

    def _gamma(self) -> sp.Expr:
        return GAMMA

    def _rho(self) -> sp.Expr:
        return sp.Integer(0)

    def _eps(self) -> sp.Expr:
        return sp.Integer(0)

    def _extra_symbolic(self, claimed: sp.Expr) -> dict[str, Any]:
        return {}

    def check_numeric(self, rng: np.random.Generator, n: int) -> CheckResult:
        require_instances(n, self.id)
        claimed = _lambdify(self.t_star)
        failures: list[dict[str, Any]] = []
        n_failed = 0
        worst_rel = 0.0
        for _ in range(n):
            inst = self._draw(rng)
            model = DilutionModel(inst, rng)
            t_claim = claimed(*inst.as_args())
            t_sim = model.exact_threshold()
            rel = abs(t_sim - t_claim) / max(1.0, abs(t_sim))
            worst_rel = max(worst_rel, rel)
            t_int = max(0, math.ceil(t_claim - 1e-9)) if math.isfinite(t_claim) else 0
            refuses_at = model.refuses(t_int) if math.isfinite(t_claim) else False
            refuses_below = t_int > 0 and model.refuses(t_int - 1)
            if rel > _REL_TOL or not refuses_at or refuses_below:
                n_failed += 1
                if len(failures) < 5:
                    failures.append(
                        {
                            "instance": asdict(inst),
                            "claimed": t_claim,
                            "simulated": t_sim,
                            "refuses_at_ceil_claim": refuses_at,
                            "refuses_one_below": refuses_below,
                        }
                    )
        evidence: dict[str, Any] = {
            "instances": n,
            "failures": n_failed,
            "worst_relative_error": worst_rel,
            "examples": failures,
        }
        extra_ok, extra = self._extra_numeric(rng, min(n, 20))
        evidence.update(extra)
        ok = n_failed == 0 and extra_ok
        summary = (
            f"{n - n_failed}/{n} random instances refuse exactly from ⌈t*⌉ "
            f"(worst rel. error {worst_rel:.1e})"
            if n_failed == 0
            else f"{n_failed}/{n} random instances do not refuse exactly from the claimed "
            f"⌈t*⌉ (worst rel. error {worst_rel:.1e})"
        )
        if n_failed == 0 and not extra_ok:
            summary += f"; but the claim's shape check failed ({', '.join(extra)})"
        return verdict(ok, summary, evidence, _REL_TOL)

    def _extra_numeric(self, rng: np.random.Generator, n: int) -> tuple[bool, dict[str, Any]]:
        return True, {}

    def check_empirical(
        self,
        records: Sequence[Mapping[str, Any]],
        tol: float = DEFAULT_TOL,
        alpha: float = DEFAULT_ALPHA,
    ) -> CheckResult:
        """Statistical test at significance level ``alpha`` (``tol`` is not used)."""
        return iso_refusal_test(records, self.family, alpha, self.id, self.min_records)


class RapoBudgetClaim(_ThresholdClaim):
    """RAPO Theorem 3.1: refusing a k-distractor attack needs ``t ≥ δk/(η(1−δ))`` traces.

    Empirical records: one dict per trial with ``k`` (number of distractors / attack
    complexity), ``t`` (number of safe-reasoning steps, e.g. prefilled sentences) and
    ``refused`` (bool). The check fits ``logit P(refuse) = B(t − κk)/(k+1)`` by maximum
    likelihood (scipy) and tests the iso-refusal line ``t = κk`` (``κ = δ/(η(1−δ))``)
    against a free iso-refusal point per k with a likelihood-ratio test; it passes when
    the goodness-of-fit p-value is at least ``alpha``, the law has signal (beats a constant
    refusal rate at level ``alpha``) and the fitted threshold's slope in k has an
    interval above 0; with fewer than ``min_records`` records it reports insufficient data.
    """

    id = "rapo.thm3.1"
    source = Source(
        "paper-second-hand",
        "RAPO (Wei et al. 2026), Theorem 3.1, as quoted by reviewers of the ICML submission; "
        "docs/papers.md#rapo-risk-model",
        ("the arXiv body was not readable; statement and constants are from quotes",),
    )
    statement = (
        "With orthogonal concepts, base alignment w·c_0 = δ ∈ (0,1), and t safe-reasoning "
        "traces acting as one GD step of size η, the model refuses the diluted attack "
        "x_0 = (1/(k+1))Σc_i iff t ≥ δk/(η(1−δ)); hence t = Ω(k)."
    )
    assumptions = (
        "concepts c_0..c_k orthonormal",
        "w·c_0 = δ ∈ (0,1), w·c_i = 0 for i ≥ 1",
        "safe traces (c_0, 1) act as one squared-loss GD step with step size η > 0",
        "refusal iff w_new·x_0 ≥ δ (the unattacked score)",
    )
    reconstructed = False
    default_t_star = PAPER_T_STAR
    family = PAPER_FAMILY

    def _setting(self, expr: sp.Expr) -> sp.Expr:
        return expr.subs({GAMMA: DELTA, RHO: 0, EPS: 0})

    def _gamma(self) -> sp.Expr:
        return DELTA

    def _extra_symbolic(self, claimed: sp.Expr) -> dict[str, Any]:
        slope = sp.simplify(sp.limit(claimed / K, K, sp.oo))
        return {
            "slope_in_k": str(slope),
            "holds_linear_growth": _positive_for_unit_delta(slope),
            "holds_zero_at_k0": sp.simplify(claimed.subs(K, 0)) == 0,
        }

    def _draw(self, rng: np.random.Generator) -> DilutionInstance:
        delta = float(rng.uniform(0.05, 0.9))
        return DilutionInstance(
            delta, float(rng.uniform(0.1, 1.0)), delta, int(rng.integers(0, 21))
        )

    def _extra_numeric(self, rng: np.random.Generator, n: int) -> tuple[bool, dict[str, Any]]:
        """Fit a line to the simulated thresholds over k = 0..15: slope κ, intercept 0."""
        worst_slope_err, worst_intercept, worst_r = 0.0, 0.0, 1.0
        ks = np.arange(16)
        for _ in range(n):
            delta = float(rng.uniform(0.05, 0.9))
            eta = float(rng.uniform(0.1, 1.0))
            sims = [
                DilutionModel(DilutionInstance(delta, eta, delta, int(kv)), rng).exact_threshold()
                for kv in ks
            ]
            fit = stats.linregress(ks, sims)
            kappa = delta / (eta * (1 - delta))
            worst_slope_err = max(worst_slope_err, abs(fit.slope - kappa) / kappa)
            worst_intercept = max(worst_intercept, abs(fit.intercept) / (kappa * ks[-1]))
            worst_r = min(worst_r, float(fit.rvalue))
        ok = worst_slope_err < 1e-6 and worst_intercept < 1e-6 and worst_r > 1 - 1e-9
        return ok, {
            "linearity_instances": n,
            "linear_fit_worst_rel_slope_error": worst_slope_err,
            "linear_fit_worst_rel_intercept": worst_intercept,
            "linear_fit_min_r": worst_r,
        }


class RapoGeneralThresholdClaim(_ThresholdClaim):
    """Theorem 3.1 with a free refusal threshold γ (reconstructed).

    Source: ``docs/papers.md#rapo-general-threshold``.

    ``t*(k) = ((k+1)γ − δ)/(η(1−δ))``, linear in k with intercept ``(γ−δ)/(η(1−δ))``;
    γ = δ gives the paper's form. Empirical records as for :class:`RapoBudgetClaim`
    (``k``, ``t``, ``refused``); the fitted curve is ``t = a + b·k``.
    """

    id = "rapo.thm3.1.general"
    source = Source(
        "extension",
        "our generalisation of RAPO Theorem 3.1 to a free threshold γ; "
        "docs/papers.md#rapo-general-threshold",
        ("not stated by the paper",),
    )
    statement = (
        "With a refusal threshold γ in place of δ, the required number of safe-reasoning "
        "traces is t*(k) = ((k+1)γ − δ)/(η(1−δ)), still linear in k."
    )
    assumptions = (*RapoBudgetClaim.assumptions[:3], "refusal iff w_new·x_0 ≥ γ")
    reconstructed = True
    default_t_star = GENERAL_T_STAR
    family = GENERAL_FAMILY

    def _setting(self, expr: sp.Expr) -> sp.Expr:
        return expr.subs({RHO: 0, EPS: 0})

    def _extra_symbolic(self, claimed: sp.Expr) -> dict[str, Any]:
        reduces = sp.simplify(claimed.subs(GAMMA, DELTA) - PAPER_T_STAR) == 0
        return {"holds_reduces_to_paper_at_gamma_eq_delta": reduces}

    def _draw(self, rng: np.random.Generator) -> DilutionInstance:
        delta = float(rng.uniform(0.05, 0.9))
        return DilutionInstance(
            delta,
            float(rng.uniform(0.1, 1.0)),
            float(rng.uniform(0.5 * delta, 1.0)),
            int(rng.integers(0, 21)),
        )


class RapoCorrelatedMaskingClaim(_ThresholdClaim):
    """Correlated (ρ) and masking (ε) distractors (reconstructed).

    Source: ``docs/papers.md#rapo-generalised-dilution``.

    With ``⟨c_i,c_0⟩ = ρ`` and ``w·c_i = −ε``:
    ``t*(k) = ((k+1)γ − δ + kε)/(η(1−δ)(1+kρ))``. ε > 0 steepens the requirement; ρ > 0
    makes it saturate at ``(γ+ε)/(ηρ(1−δ))`` — a testable departure from linearity.
    Empirical records as for :class:`RapoBudgetClaim`; the fitted curve is
    ``t = (a + b·k)/(1 + ρ·k)`` with ρ ≥ 0.
    """

    id = "rapo.thm3.1.correlated-masking"
    source = Source(
        "extension",
        "our generalisation of RAPO Theorem 3.1 to correlated and masking distractors; "
        "docs/papers.md#rapo-generalised-dilution",
        ("not stated by the paper",),
    )
    statement = (
        "If distractors correlate with the goal (⟨c_i,c_0⟩ = ρ) or mask it (w·c_i = −ε), "
        "t*(k) = ((k+1)γ − δ + kε)/(η(1−δ)(1+kρ)); it saturates at (γ+ε)/(ηρ(1−δ)) "
        "when ρ > 0."
    )
    assumptions = (
        "unit concepts with ⟨c_i, c_0⟩ = ρ ∈ [0, 1)",
        "w·c_0 = δ ∈ (0,1), w·c_i = −ε ≤ 0",
        "the t reasoning traces are all safe traces (c_0, 1), one GD step of size η",
        "refusal iff w_new·x_0 ≥ γ",
    )
    reconstructed = True
    default_t_star = MASKED_T_STAR
    family = MASKED_FAMILY
    masked = True

    def _rho(self) -> sp.Expr:
        return RHO

    def _eps(self) -> sp.Expr:
        return EPS

    def _extra_symbolic(self, claimed: sp.Expr) -> dict[str, Any]:
        limit = sp.simplify(sp.limit(claimed, K, sp.oo))
        expected = (GAMMA + EPS) / (ETA * RHO * (1 - DELTA))
        reduces = sp.simplify(claimed.subs({RHO: 0, EPS: 0}) - GENERAL_T_STAR) == 0
        return {
            "limit_k_to_infinity": str(limit),
            "holds_saturation_limit": sp.simplify(limit - expected) == 0,
            "holds_reduces_to_general_at_rho_eps_0": reduces,
        }

    def _draw(self, rng: np.random.Generator) -> DilutionInstance:
        delta = float(rng.uniform(0.05, 0.9))
        return DilutionInstance(
            delta,
            float(rng.uniform(0.1, 1.0)),
            float(rng.uniform(0.5 * delta, 1.0)),
            int(rng.integers(0, 21)),
            float(rng.uniform(0.0, 0.6)),
            float(rng.uniform(0.0, 0.3)),
        )

    def _extra_numeric(self, rng: np.random.Generator, n: int) -> tuple[bool, dict[str, Any]]:
        """With ρ > 0 the simulated thresholds bend: a line through k = 0..15 misfits."""
        min_curvature = math.inf
        ks = np.arange(16)
        for _ in range(n):
            delta = float(rng.uniform(0.05, 0.9))
            inst = dict(delta=delta, eta=float(rng.uniform(0.1, 1.0)), gamma=delta)
            rho = float(rng.uniform(0.2, 0.6))
            sims = np.array(
                [
                    DilutionModel(
                        DilutionInstance(**inst, k=int(kv), rho=rho, eps=0.0), rng
                    ).exact_threshold()
                    for kv in ks
                ]
            )
            second = np.diff(sims, 2)  # concave saturation: negative second differences
            min_curvature = min(min_curvature, float(-second.max() / max(sims.max(), 1e-12)))
        return min_curvature > 0, {
            "saturation_instances": n,
            "min_relative_concavity_rho_gt_0": min_curvature,
        }
