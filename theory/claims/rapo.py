"""RAPO Theorem 3.1 (safe-reasoning budget grows linearly with attack complexity) and variants.

Model (RAPO §3.2 as quoted by reviewers; see ``papers/rapo.md`` §1.2 and §6.1):

* orthonormal concepts ``c_0`` (the harmful goal) and ``c_1..c_k`` (distractors); the
  attack prompt is the diluted mixture ``x_0 = (1/(k+1)) Σ_i c_i``;
* a safety direction ``w`` with ``w·c_0 = δ`` and ``w·c_i = 0``;
* ``t`` safe-reasoning traces ``(c_0, 1)`` act as one gradient step of squared loss with
  step size ``η``: ``w_new = w + η Σ_j (y_j − w·x_j) x_j``; distractor traces ``(c_i, 0)``
  contribute nothing because ``w·c_i = 0``;
* the model refuses when ``w_new·x_0 ≥ γ`` (the paper uses ``γ = δ``).

Four claims share this model:

* :class:`RapoBudgetClaim` — Theorem 3.1: ``t ≥ δk/(η(1−δ))`` (``t = Ω(k)``);
* :class:`RapoGeneralThresholdClaim` — the same with a free threshold γ (reconstructed);
* :class:`RapoCorrelatedMaskingClaim` — distractors correlated with the goal
  (``⟨c_i,c_0⟩ = ρ``) or masking it (``w·c_i = −ε``) (reconstructed);
* :class:`RapoUntargetedClaim` — reasoning that does not know which concept is harmful
  needs ``Θ(k²)`` steps (reconstructed).

The numeric checks do not evaluate the claimed formula against itself: they build the
vectors, take the gradient step from the traces, find where refusal starts, and compare
that with the claimed threshold. A wrong threshold therefore fails them.
"""

from __future__ import annotations

import math
from abc import abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import sympy as sp
from scipy import optimize, stats

from theory.claims.base import (
    CheckResult,
    Claim,
    RecordSchemaError,
    record_float,
    require_instances,
    require_keys,
    skipped,
    verdict,
)

PAPER = "RAPO (Wei et al. 2026)"

DELTA, ETA, GAMMA, K, T = sp.symbols("delta eta gamma k t", positive=True)
RHO, EPS = sp.symbols("rho epsilon", nonnegative=True)
_ARGS = (DELTA, ETA, GAMMA, K, RHO, EPS)

PAPER_T_STAR: sp.Expr = DELTA * K / (ETA * (1 - DELTA))
GENERAL_T_STAR: sp.Expr = ((K + 1) * GAMMA - DELTA) / (ETA * (1 - DELTA))
# δ ∈ (0, 1) cannot be declared to sympy directly; δ = 1/(1+u) with u > 0 can.
_U = sp.symbols("u", positive=True)


def _positive_for_unit_delta(expr: sp.Expr) -> bool:
    """Whether ``expr`` is positive for every δ ∈ (0, 1) (other symbols as declared)."""
    return bool(sp.simplify(expr.subs(DELTA, 1 / (1 + _U))).is_positive)


MASKED_T_STAR: sp.Expr = ((K + 1) * GAMMA - DELTA + K * EPS) / (ETA * (1 - DELTA) * (1 + K * RHO))

# Relative precision at which a simulated threshold must equal the claimed one. The
# simulation is a handful of float64 dot products, so anything above ~1e-12 is a real
# disagreement; 1e-7 leaves room for ill-conditioned draws (δ near 1, η small).
_REL_TOL = 1e-7


# --------------------------------------------------------------------------------------
# The dilution model, built from explicit vectors
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DilutionInstance:
    """One draw of the model's parameters (``rho = eps = 0`` is the paper's setting)."""

    delta: float
    eta: float
    gamma: float
    k: int
    rho: float = 0.0
    eps: float = 0.0

    def as_args(self) -> tuple[float, ...]:
        return (self.delta, self.eta, self.gamma, float(self.k), self.rho, self.eps)


class DilutionModel:
    """Concept vectors in a random orthonormal frame, and the in-context gradient step.

    ``c_0 = e_0``; ``c_i = ρ e_0 + √(1−ρ²) e_i``; ``w = δ e_0 + β Σ_i e_i + ν e_{k+1}``
    with ``β`` chosen so that ``w·c_i = −ε``, and ``ν`` a nuisance component orthogonal
    to every concept (it must not matter). Everything is rotated by a random orthogonal
    matrix so no coordinate is special.
    """

    def __init__(self, inst: DilutionInstance, rng: np.random.Generator) -> None:
        self.inst = inst
        k, rho = inst.k, inst.rho
        dim = k + 2
        frame, _ = np.linalg.qr(rng.standard_normal((dim, dim)))
        basis = frame.T  # rows are orthonormal vectors
        concepts = np.empty((k + 1, dim))
        concepts[0] = basis[0]
        for i in range(1, k + 1):
            concepts[i] = rho * basis[0] + math.sqrt(1.0 - rho * rho) * basis[i]
        beta = (-inst.eps - rho * inst.delta) / math.sqrt(1.0 - rho * rho)
        w = inst.delta * basis[0] + float(rng.normal()) * basis[k + 1]
        for i in range(1, k + 1):
            w = w + beta * basis[i]
        self.concepts = concepts
        self.w = w
        self.x0 = concepts.mean(axis=0)

    def score(self, t: int) -> float:
        """``w_new·x_0`` after one GD step on ``t`` safe traces (and inert distractor traces).

        Distractor traces ``(c_i, 0)`` are included when ``ε = 0``, where the model says
        they contribute no gradient; with masking (``ε > 0``) the reasoning consists of
        the ``t`` safe traces only.
        """
        rows = [np.repeat(self.concepts[:1], t, axis=0)]
        labels = [np.ones(t)]
        if self.inst.eps == 0.0 and self.inst.k > 0:
            rows.append(self.concepts[1:])
            labels.append(np.zeros(self.inst.k))
        x = np.concatenate(rows)
        y = np.concatenate(labels)
        grad = x.T @ (y - x @ self.w)
        w_new = self.w + self.inst.eta * grad
        return float(w_new @ self.x0)

    def refuses(self, t: int) -> bool:
        return self.score(t) >= self.inst.gamma - 1e-12

    def score_counts(self, counts: np.ndarray) -> float:
        """``w_new·x_0`` after one GD step on a multiset of traces.

        ``counts[0]`` copies of the safe trace ``(c_0, 1)`` and ``counts[i]`` copies of the
        distractor trace ``(c_i, 0)``: the reasoning of a model that picks which concept
        to address at each step.
        """
        labels = np.zeros(self.inst.k + 1)
        labels[0] = 1.0
        residual = labels - self.concepts @ self.w
        grad = self.concepts.T @ (np.asarray(counts, dtype=np.float64) * residual)
        return float((self.w + self.inst.eta * grad) @ self.x0)

    def refuses_counts(self, counts: np.ndarray) -> bool:
        return self.score_counts(counts) >= self.inst.gamma - 1e-12

    def exact_threshold(self) -> float:
        """The real ``t`` at which the score reaches γ (the score is affine in ``t``)."""
        s0, s1 = self.score(0), self.score(1)
        return (self.inst.gamma - s0) / (s1 - s0)


def _lambdify(expr: sp.Expr) -> Callable[..., float]:
    fn = sp.lambdify(_ARGS, expr, "math")
    return lambda *a: float(fn(*a))


def _explicit_vector_score(k_value: int, masked: bool) -> sp.Expr:
    """The post-step score built from explicit sympy vectors for a concrete ``k``."""
    dim = k_value + 1
    basis = [sp.Matrix([1 if j == i else 0 for j in range(dim)]) for i in range(dim)]
    rho = RHO if masked else sp.Integer(0)
    eps = EPS if masked else sp.Integer(0)
    root = sp.sqrt(1 - rho**2)
    concepts = [basis[0]] + [rho * basis[0] + root * basis[i] for i in range(1, dim)]
    beta = (-eps - rho * DELTA) / root
    w = DELTA * basis[0]
    for i in range(1, dim):
        w = w + beta * basis[i]
    x0 = sum(concepts, sp.zeros(dim, 1)) / dim
    c0 = concepts[0]
    grad = T * (1 - (w.T * c0)[0]) * c0  # t identical traces (c_0, 1)
    if not masked:  # distractor traces (c_i, 0)
        for c in concepts[1:]:
            grad = grad + (0 - (w.T * c)[0]) * c
    w_new = w + ETA * grad
    return sp.simplify((w_new.T * x0)[0])


# --------------------------------------------------------------------------------------
# Empirical: logistic iso-refusal fits
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Family:
    """A claimed iso-refusal curve ``τ_θ(k)`` with the logit scale the model implies."""

    name: str
    n_params: int
    tau: Callable[[np.ndarray, np.ndarray], np.ndarray]
    scale: Callable[[np.ndarray, np.ndarray], np.ndarray]
    init: tuple[float, ...]
    bounds: tuple[tuple[float | None, float | None], ...]


def _inv_k1(k: np.ndarray, _theta: np.ndarray) -> np.ndarray:
    return 1.0 / (k + 1.0)


PAPER_FAMILY = _Family("t*(k) = κ·k", 1, lambda k, th: th[0] * k, _inv_k1, (1.0,), ((None, None),))
GENERAL_FAMILY = _Family(
    "t*(k) = a + b·k",
    2,
    lambda k, th: th[0] + th[1] * k,
    _inv_k1,
    (0.0, 1.0),
    ((None, None), (None, None)),
)
MASKED_FAMILY = _Family(
    "t*(k) = (a + b·k)/(1 + ρ·k)",
    3,
    lambda k, th: (th[0] + th[1] * k) / (1.0 + th[2] * k),
    lambda k, th: (1.0 + th[2] * k) / (k + 1.0),
    (0.0, 1.0, 0.0),
    ((None, None), (None, None), (0.0, None)),
)


def _nll(logit: np.ndarray, y: np.ndarray) -> float:
    """Bernoulli negative log-likelihood with ``y ∈ {0, 1}``."""
    return float(np.sum(np.logaddexp(0.0, logit) - y * logit))


def _parse_refusal_records(
    records: Sequence[Mapping[str, Any]], claim_id: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    require_keys(records, ("k", "t", "refused"), claim_id)
    k = np.array([record_float(r, "k", claim_id, i) for i, r in enumerate(records)])
    t = np.array([record_float(r, "t", claim_id, i) for i, r in enumerate(records)])
    y = np.array([float(bool(r["refused"])) for r in records])
    if np.any(k < 0):
        raise RecordSchemaError(f"{claim_id}: k must be >= 0. Fix: k counts distractors.")
    return k, t, y


def iso_refusal_test(
    records: Sequence[Mapping[str, Any]], family: _Family, tol: float, claim_id: str
) -> CheckResult:
    """Likelihood-ratio test of a claimed iso-refusal curve against a free curve per k.

    Family model: ``logit P(refuse) = B · scale_θ(k) · (t − τ_θ(k))`` (the stochastic
    rule ``σ(β(s(t,k) − γ))`` of ``papers/rapo.md`` §6.1 rearranged; only ``B`` and the
    curve are identifiable, so δ and η are reported through the curve's coefficients,
    e.g. ``κ = δ/(η(1−δ))``). Saturated model: an independent logistic regression in
    ``t`` for each distinct ``k``. ``PASS`` iff the LR test's p-value is at least ``tol``
    (no significant departure from the claimed law).
    """
    if not records:
        return skipped("no records: pass dicts with keys k, t, refused")
    k, t, y = _parse_refusal_records(records, claim_id)
    ks = np.unique(k)
    if ks.size < 3:
        return skipped(f"need at least 3 distinct k values to test a curve, got {ks.size}")
    sat_nll = 0.0
    per_k: dict[str, Any] = {}
    for kv in ks:
        m = k == kv
        tm, ym = t[m], y[m]

        def per_k_loss(v: np.ndarray, tm: np.ndarray = tm, ym: np.ndarray = ym) -> float:
            return _nll(v[0] * tm + v[1], ym) + 1e-6 * float(v @ v)

        res = optimize.minimize(per_k_loss, np.zeros(2), method="BFGS")
        sat_nll += _nll(res.x[0] * tm + res.x[1], ym)
        tau_k = -res.x[1] / res.x[0] if abs(res.x[0]) > 1e-12 else float("nan")
        per_k[f"{kv:g}"] = {"n": int(m.sum()), "refusal_rate": float(ym.mean()), "t50": tau_k}

    def fam_loss(params: np.ndarray) -> float:
        log_b, theta = params[0], params[1:]
        logit = math.exp(log_b) * family.scale(k, theta) * (t - family.tau(k, theta))
        return _nll(logit, y)

    starts = [np.array([0.0, *family.init])]
    starts.append(np.array([2.0, *[v + 0.5 for v in family.init]]))
    best = None
    for x0 in starts:
        res = optimize.minimize(
            fam_loss, x0, method="L-BFGS-B", bounds=((-10.0, 10.0), *family.bounds)
        )
        if best is None or res.fun < best.fun:
            best = res
    assert best is not None
    lr = max(0.0, 2.0 * (best.fun - sat_nll))
    df = 2 * ks.size - (1 + family.n_params)
    p_value = float(stats.chi2.sf(lr, df)) if df > 0 else 1.0
    evidence = {
        "family": family.name,
        "fitted_theta": best.x[1:].tolist(),
        "fitted_sharpness_B": math.exp(best.x[0]),
        "lr_statistic": lr,
        "df": df,
        "p_value": p_value,
        "n_records": len(records),
        "per_k": per_k,
    }
    ok = p_value >= tol
    summary = (
        f"iso-refusal {family.name}: LR p={p_value:.3g} "
        + (">=" if ok else "<")
        + f" {tol:g} over {ks.size} k values"
    )
    return verdict(ok, summary, evidence, tol)


# --------------------------------------------------------------------------------------
# Claims
# --------------------------------------------------------------------------------------


class _ThresholdClaim(Claim):
    """Shared checks for the three threshold claims; subclasses fix the setting."""

    paper = PAPER
    default_t_star: sp.Expr
    family: _Family
    masked: bool = False

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
        )
        return verdict(ok, summary, evidence, _REL_TOL)

    def _extra_numeric(self, rng: np.random.Generator, n: int) -> tuple[bool, dict[str, Any]]:
        return True, {}

    def check_empirical(self, records: Sequence[Mapping[str, Any]], tol: float) -> CheckResult:
        return iso_refusal_test(records, self.family, tol, self.id)


class RapoBudgetClaim(_ThresholdClaim):
    """RAPO Theorem 3.1: refusing a k-distractor attack needs ``t ≥ δk/(η(1−δ))`` traces.

    Empirical records: one dict per trial with ``k`` (number of distractors / attack
    complexity), ``t`` (number of safe-reasoning steps, e.g. prefilled sentences) and
    ``refused`` (bool). The check fits ``logit P(refuse) = B(t − κk)/(k+1)`` by maximum
    likelihood (scipy) and tests the iso-refusal line ``t = κk`` (``κ = δ/(η(1−δ))``)
    against a free iso-refusal point per k with a likelihood-ratio test; it passes when
    the p-value is at least ``tol``.
    """

    id = "rapo.thm3.1"
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
    """Theorem 3.1 with a free refusal threshold γ (reconstructed: ``papers/rapo.md`` §1.3).

    ``t*(k) = ((k+1)γ − δ)/(η(1−δ))``, linear in k with intercept ``(γ−δ)/(η(1−δ))``;
    γ = δ gives the paper's form. Empirical records as for :class:`RapoBudgetClaim`
    (``k``, ``t``, ``refused``); the fitted curve is ``t = a + b·k``.
    """

    id = "rapo.thm3.1.general"
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
    """Correlated (ρ) and masking (ε) distractors (reconstructed: ``papers/rapo.md`` §6.1).

    With ``⟨c_i,c_0⟩ = ρ`` and ``w·c_i = −ε``:
    ``t*(k) = ((k+1)γ − δ + kε)/(η(1−δ)(1+kρ))``. ε > 0 steepens the requirement; ρ > 0
    makes it saturate at ``(γ+ε)/(ηρ(1−δ))`` — a testable departure from linearity.
    Empirical records as for :class:`RapoBudgetClaim`; the fitted curve is
    ``t = (a + b·k)/(1 + ρ·k)`` with ρ ≥ 0.
    """

    id = "rapo.thm3.1.correlated-masking"
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
    """Untargeted safety reasoning needs Θ(k²) steps (reconstructed: ``papers/rapo.md`` §6.1).

    If each reasoning step addresses a uniformly random concept among the ``k+1`` in the
    prompt, it hits ``c_0`` with probability ``1/(k+1)``; steps on distractors move
    nothing; so the expected number of steps until refusal is ``(k+1)·⌈t*(k)⌉`` with
    ``t*(k) = δk/(η(1−δ))``, i.e. ``Θ(k²)`` against ``Θ(k)`` for targeted reasoning.

    Empirical records: one dict per trial with ``k`` and ``steps`` (reasoning steps used
    until the first refusal). The check fits ``log mean(steps)`` against ``log k`` (k ≥ 1)
    and passes when the slope is within ``tol·exponent + 2·stderr`` of the exponent 2.
    """

    id = "rapo.untargeted-k2"
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
            f"E[steps] = {sp.factor(expected_steps)}; lim E/k^{self.exponent:g} = {order_limit}",
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
        return verdict(
            ok,
            f"random-concept reasoning on the vector model: fitted growth exponents "
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

    def check_empirical(self, records: Sequence[Mapping[str, Any]], tol: float) -> CheckResult:
        if not records:
            return skipped("no records: pass dicts with keys k, steps")
        require_keys(records, ("k", "steps"), self.id)
        k = np.array([record_float(r, "k", self.id, i) for i, r in enumerate(records)])
        steps = np.array([record_float(r, "steps", self.id, i) for i, r in enumerate(records)])
        ks = np.unique(k[k >= 1])
        if ks.size < 2:
            return skipped("need at least 2 distinct k >= 1 to fit a growth exponent")
        means = np.array([steps[k == kv].mean() for kv in ks])
        if np.any(means <= 0):
            raise RecordSchemaError(f"{self.id}: steps must be positive. Fix: count steps >= 1.")
        fit = stats.linregress(np.log(ks), np.log(means))
        se = float(fit.stderr) if ks.size > 2 and math.isfinite(fit.stderr) else 0.0
        allowed = tol * self.exponent + 2 * se
        ok = abs(fit.slope - self.exponent) <= allowed
        return verdict(
            ok,
            f"log-log slope {fit.slope:.3f} vs {self.exponent:g} (allowed ±{allowed:.3f})",
            {"k_values": ks, "mean_steps": means, "slope": fit.slope, "slope_stderr": se},
            tol,
        )


def rapo_claims() -> list[Claim]:
    return [
        RapoBudgetClaim(),
        RapoGeneralThresholdClaim(),
        RapoCorrelatedMaskingClaim(),
        RapoUntargetedClaim(),
    ]
