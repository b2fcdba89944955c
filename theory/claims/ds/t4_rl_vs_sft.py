"""DS T4 (reconstructed): RL moves the decision head more than SFT."""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import sympy as sp
from scipy import integrate

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
from theory.claims.ds.model import (
    _RECONSTRUCTED_NOTE,
    PAPER,
    V2_CLAIM,
    A,
    B,
    P,
    _sigmoid,
    value_and_grad,
)

TH_S, TH_A, TH_B = sp.symbols("theta_S theta_a theta_b", real=True)
L_TOK, Q_STAR = sp.symbols("L q", positive=True)


def _sym_sigmoid(x: sp.Expr) -> sp.Expr:
    return 1 / (1 + sp.exp(-x))


def sft_expected_nll() -> sp.Expr:
    """Expected mean-reduced token NLL of one expert attempt, in the logits (sympy).

    The expert's ``L`` sampling tokens are 1 w.p. ``q``; its attempt is correct w.p. ``q``
    and its one decision token is STOP iff correct. Per attempt: ``L`` sampling tokens
    under ``σ(θ_S)``, one decision token under ``σ(θ_a)`` (after a correct attempt) or
    ``σ(θ_b)`` (after a wrong one); the mean reduction divides by the ``L + 1`` tokens.
    """
    s, a, b = (_sym_sigmoid(x) for x in (TH_S, TH_A, TH_B))
    log_lik = (
        L_TOK * (Q_STAR * sp.log(s) + (1 - Q_STAR) * sp.log(1 - s))
        + Q_STAR * sp.log(a)
        + (1 - Q_STAR) * sp.log(1 - b)
    )
    return -log_lik / (L_TOK + 1)


@functools.cache
def sft_step_exprs() -> list[sp.Expr]:
    """SFT's gradient-flow step ``−∇_θ E[NLL]``, differentiated by sympy."""
    nll = sft_expected_nll()
    return [sp.simplify(-sp.diff(nll, x)) for x in (TH_S, TH_A, TH_B)]


@functools.cache
def _sft_step_fn() -> Callable[..., Any]:
    """``sft_step_exprs`` compiled once, on first use (keeps ``import`` cheap)."""
    return sp.lambdify((TH_S, TH_A, TH_B, L_TOK, Q_STAR), sft_step_exprs(), "numpy")


def decision_attribution(
    before: tuple[float, float, float], after: tuple[float, float, float], k_max: int
) -> tuple[float, float, float]:
    """Counterfactual-swap attribution of an accuracy change to the two heads.

    ``gain_S = V(p1, a0, b0) − V0`` (new sampler, old decider) and
    ``gain_D = V(p0, a1, b1) − V0`` (old sampler, new decider). Returns
    ``(gain_S, gain_D, share_D)`` with ``share_D = gain_D/(|gain_S| + |gain_D|)``.
    """
    (p0, a0, b0), (p1, a1, b1) = before, after
    v = lambda p, a, b: float(value_and_grad(np.array(p), np.array(a), np.array(b), k_max)[0])  # noqa: E731
    v0 = v(p0, a0, b0)
    gain_s, gain_d = v(p1, a0, b0) - v0, v(p0, a1, b1) - v0
    denom = abs(gain_s) + abs(gain_d)
    return gain_s, gain_d, (gain_d / denom if denom > 0 else 0.0)


def train_toy(
    theta0: np.ndarray,
    *,
    method: str,
    length: int,
    beta: float,
    q_star: float,
    k_max: int = 2,
    horizon: float = 20.0,
) -> np.ndarray:
    """Train the toy's logits ``(θ_S, θ_a, θ_b)`` by exact-gradient flow for ``horizon``.

    ``rl``: ascend ``V_K − β·(L·KL_S + KL_a + KL_b)`` (one attempt's token-level KL to
    the initial policy). ``sft``: descend the expected mean-reduced token NLL of expert
    demonstrations (tokens 1 w.p. ``q_star``; STOP iff correct): per attempt ``L``
    sampling tokens and one decision token. Continuous time (scipy's LSODA) rather than
    fixed steps, because the ``β·L`` term is stiff: a fixed step size that is stable for
    SFT oscillates for RL at large ``β·L``, and the comparison would measure that.
    """
    if method not in ("rl", "sft"):
        raise ValueError(f"method must be 'rl' or 'sft', got {method!r}")
    weights = np.array([length, 1.0, 1.0])

    def rhs(_t: float, theta: np.ndarray) -> np.ndarray:
        s = _sigmoid(theta)
        if method == "rl":
            _, g = value_and_grad(np.array(s[0]), np.array(s[1]), np.array(s[2]), k_max)
            reward = np.asarray(g, dtype=float) * s * (1 - s)
            return reward - beta * weights * s * (1 - s) * (theta - theta0)
        return np.asarray(_sft_step_fn()(*theta, length, q_star), dtype=np.float64)

    sol = integrate.solve_ivp(
        rhs, (0.0, horizon), theta0.astype(np.float64), method="LSODA", rtol=1e-8, atol=1e-10
    )
    return np.asarray(sol.y[:, -1], dtype=np.float64)


class DSRLvsSFTClaim(Claim):
    """T4 (RECONSTRUCTED): RL's gains come from the decision head, SFT's from sampling.

    Combining T1 (balanced reward gradient) with T3 (KL ∝ L on sampling), RL moves the
    decision head relatively more; combining T2, SFT moves mostly the sampling head. The
    testable form: under equal steps and learning rate, the counterfactual-swap share of
    the accuracy gain attributed to the decision head (:func:`decision_attribution`) is
    larger after RL than after SFT.

    Empirical records: dicts with ``method`` (``"rl"`` or ``"sft"``), ``p_before``,
    ``p_after``, ``a_before``, ``a_after``, ``b_before``, ``b_after`` (first-attempt
    accuracy, P(STOP|correct), P(STOP|wrong), e.g. measured on the DS environment) and
    optionally ``K`` (default 2). Passes when the mean decision share of RL exceeds that
    of SFT by at least ``tol``.
    """

    id = "ds.t4"
    paper = PAPER
    statement = (
        "With a KL-regularised RL objective the accuracy gain is attributed more to the "
        "decision head π_d than under SFT (whose gradient is dominated by π_sample): "
        "RL's advantage comes mainly from better decisions."
    )
    assumptions = (
        "same initial policy and training budget (gradient-flow time) for RL and SFT",
        "attempt length L ∈ [8, 64] and a length-weighted KL that binds: β·L ∈ [2, 32]",
        "a moderate budget (gradient-flow horizon 5-30) and an expert better than the start",
        "token-level KL in RL; mean-reduced token NLL in SFT",
        _RECONSTRUCTED_NOTE,
    )
    reconstructed = True

    def __init__(self, favoured: str = "rl") -> None:
        """``favoured`` is the method predicted to have the larger decision share."""
        if favoured not in ("rl", "sft"):
            raise ValueError(f"favoured must be 'rl' or 'sft', got {favoured!r}")
        self.favoured = favoured

    def _holds(self, share_rl: float, share_sft: float) -> bool:
        return share_rl > share_sft if self.favoured == "rl" else share_sft > share_rl

    def check_symbolic(self) -> CheckResult:
        """At the start (θ = θ_ref): derive both first steps and which one favours decisions.

        RL's step is the gradient of ``V_2(σ(θ)) − β·(L·KL_S + KL_a + KL_b)``, SFT's the
        negative gradient of the expected NLL (:func:`sft_expected_nll`); both come from
        sympy. The decision/sampling ratio of a step is ``(|Δθ_a| + |Δθ_b|)/|Δθ_S|``; the
        favoured method is the sign of ``lim_{L→∞} (ratio_RL − ratio_SFT)``, evaluated
        exactly on a grid of logits and expert accuracies (with the expert better than the
        start, as assumed), and compared with ``favoured``.
        """
        beta = sp.symbols("beta", positive=True)
        refs = sp.symbols("theta_S0 theta_a0 theta_b0", real=True)
        logits = (TH_S, TH_A, TH_B)
        sigs = [_sym_sigmoid(x) for x in logits]
        value = V2_CLAIM.subs(dict(zip((P, A, B), sigs, strict=True)), simultaneous=True)
        kl = [
            s * sp.log(s / _sym_sigmoid(r)) + (1 - s) * sp.log((1 - s) / (1 - _sym_sigmoid(r)))
            for s, r in zip(sigs, refs, strict=True)
        ]
        objective = value - beta * (L_TOK * kl[0] + kl[1] + kl[2])
        at_ref = dict(zip(refs, logits, strict=True))
        rl = [sp.simplify(sp.diff(objective, x).subs(at_ref)) for x in logits]
        sft = sft_step_exprs()

        def ratio(step: list[sp.Expr]) -> sp.Expr:
            return (sp.Abs(step[1]) + sp.Abs(step[2])) / sp.Abs(step[0])

        rl_ratio, sft_ratio = ratio(rl), ratio(sft)
        sft_ratio_limit = sp.simplify(sp.limit(sft_ratio, L_TOK, sp.oo))
        rl_ratio_limit = sp.simplify(sp.limit(rl_ratio, L_TOK, sp.oo))
        gap = rl_ratio_limit - sft_ratio_limit
        signs = set()
        grid = (sp.Integer(-1), sp.Rational(1, 3), sp.Integer(2))
        for th_s, th_a, th_b in itertools.product(grid, repeat=3):
            for lift in (sp.Rational(1, 2), sp.Integer(2)):  # expert logit above the start
                point = {TH_S: th_s, TH_A: th_a, TH_B: th_b, Q_STAR: _sym_sigmoid(th_s + lift)}
                val = sp.N(gap.subs(point), 30)
                signs.add("rl" if val > 0 else "sft" if val < 0 else "tie")
        favoured = signs.pop() if len(signs) == 1 else "mixed"
        # KL stationary point of the sampling logit: reward gradient = β·L·σ'·Δθ
        dtheta = sp.symbols("Delta", positive=True)
        reward_s = sp.diff(value, TH_S)
        kl_s = sp.diff(L_TOK * kl[0], TH_S).subs(refs[0], TH_S - dtheta)
        kl_s_linear = sp.diff(kl_s, dtheta).subs(dtheta, 0) * dtheta
        stationary = sp.solve(sp.Eq(reward_s, beta * kl_s_linear), dtheta)
        shrinks = bool(stationary) and sp.limit(stationary[0], L_TOK, sp.oo) == 0
        checks = {
            "KL gradient vanishes at θ = θ_ref": all(
                sp.simplify(sp.diff(L_TOK * kl[0] + kl[1] + kl[2], x).subs(at_ref)) == 0
                for x in logits
            ),
            "SFT decision/sampling step ratio -> 0 as L -> oo": sft_ratio_limit == 0,
            "RL first-step ratio is independent of L": sp.simplify(sp.diff(rl_ratio, L_TOK)) == 0,
            "KL-stationary sampling move -> 0 as L -> oo": bool(shrinks),
            f"derived favoured method ({favoured}) = claimed ({self.favoured})": (
                favoured == self.favoured
            ),
        }
        ok = all(checks.values())
        failed = [k for k, v in checks.items() if not v]
        return verdict(
            ok,
            f"derived first steps favour {favoured} for the decision head as L -> oo"
            + ("" if ok else f"; failed: {', '.join(failed)}"),
            {
                "checks": checks,
                "derived_favoured": favoured,
                "rl_first_step": [str(x) for x in rl],
                "sft_step": [str(x) for x in sft],
                "limit_ratio_gap": str(gap),
                "kl_stationary_sampling_move": str(stationary[0]) if stationary else "none",
            },
        )

    def check_numeric(self, rng: np.random.Generator, n: int) -> CheckResult:
        """Train RL and SFT from the same start; compare the decision share of the gain.

        In the claim's domain (``L ∈ [8, 64]``, ``β·L ∈ [2, 32]``, horizon ``[5, 30]``) the
        prediction must hold on every instance. The same experiment with a weak
        length-weighted KL (``β·L < 0.5``, short attempts) is reported as a contrast:
        there RL also gains mostly through sampling, as the mechanism says it should.
        """
        require_instances(n, self.id)
        instances = max(4, n // 10)

        def run(domain: bool) -> list[dict[str, float]]:
            rows = []
            for _ in range(instances):
                theta0 = rng.uniform(-1.0, 1.0, size=3)
                if domain:
                    length = int(rng.integers(8, 65))
                    beta = float(rng.uniform(2.0, 32.0)) / length
                else:
                    length = int(rng.integers(2, 8))
                    beta = float(rng.uniform(0.05, 0.5)) / length
                horizon = float(rng.uniform(5.0, 30.0))
                q_star = float(_sigmoid(theta0[0] + rng.uniform(0.5, 2.0)))
                s0 = tuple(float(x) for x in _sigmoid(theta0))
                row = {"L": length, "beta": beta, "horizon": horizon}
                for method in ("rl", "sft"):
                    th = train_toy(
                        theta0,
                        method=method,
                        length=length,
                        beta=beta,
                        q_star=q_star,
                        horizon=horizon,
                    )
                    s1 = tuple(float(x) for x in _sigmoid(th))
                    row[f"share_{method}"] = decision_attribution(s0, s1, 2)[2]  # type: ignore[arg-type]
                rows.append(row)
            return rows

        rows = run(domain=True)
        holds = [self._holds(r["share_rl"], r["share_sft"]) for r in rows]
        contrast = run(domain=False)
        contrast_rate = float(
            np.mean([self._holds(r["share_rl"], r["share_sft"]) for r in contrast])
        )
        rl_mean = float(np.mean([r["share_rl"] for r in rows]))
        sft_mean = float(np.mean([r["share_sft"] for r in rows]))
        return verdict(
            all(holds),
            f"decision share of the gain: RL {rl_mean:.2f} vs SFT {sft_mean:.2f} (mean); "
            f"prediction held on {sum(holds)}/{len(rows)} instances "
            f"(and on {contrast_rate:.0%} with a weak KL, β·L < 0.5)",
            {
                "instances": len(rows),
                "mean_decision_share_rl": rl_mean,
                "mean_decision_share_sft": sft_mean,
                "counterexamples": [r for r, h in zip(rows, holds, strict=True) if not h][:5],
                "weak_kl_contrast_hold_rate": contrast_rate,
            },
        )

    def check_empirical(self, records: Sequence[Mapping[str, Any]], tol: float) -> CheckResult:
        if not records:
            return skipped("no records: pass before/after p, a, b for method rl and sft")
        keys = ("method", "p_before", "p_after", "a_before", "a_after", "b_before", "b_after")
        require_keys(records, keys, self.id)
        shares: dict[str, list[float]] = {"rl": [], "sft": []}
        for i, r in enumerate(records):
            method = str(r["method"]).lower()
            if method not in shares:
                raise RecordSchemaError(
                    f"{self.id}: record {i} has method={r['method']!r}. Fix: use 'rl' or 'sft'."
                )
            before = tuple(record_float(r, f"{x}_before", self.id, i) for x in "pab")
            after = tuple(record_float(r, f"{x}_after", self.id, i) for x in "pab")
            k_max = int(record_float(r, "K", self.id, i)) if "K" in r else 2
            shares[method].append(decision_attribution(before, after, k_max)[2])  # type: ignore[arg-type]
        if not shares["rl"] or not shares["sft"]:
            return skipped("need records for both methods 'rl' and 'sft'")
        rl, sft = float(np.mean(shares["rl"])), float(np.mean(shares["sft"]))
        margin = rl - sft if self.favoured == "rl" else sft - rl
        return verdict(
            margin >= tol,
            f"decision share of the gain: RL {rl:.3f}, SFT {sft:.3f} (margin {margin:.3f}, "
            f"needed {tol:g})",
            {"share_rl": shares["rl"], "share_sft": shares["sft"], "margin": margin},
            tol,
        )
