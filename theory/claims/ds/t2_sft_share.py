"""DS T2 (reconstructed): SFT's decision share is about 1/(1+L)."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import sympy as sp
from scipy import stats

from theory.claims.base import (
    CheckResult,
    Claim,
    Source,
    require_instances,
    verdict,
)
from theory.claims.ds.estimates import length_slope_test
from theory.claims.ds.model import (
    _RECONSTRUCTED_NOTE,
    L_SYM,
    PAPER,
    R_SYM,
    SFT_SHARE_CLAIM,
    _sigmoid,
)


def _expert_trace_stats(
    rng: np.random.Generator, q_star: float, k_max: int, traces: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-attempt arrays of an expert's demonstrations.

    The expert's tokens are 1 w.p. ``q_star``; it STOPs iff the attempt is correct (its
    last token is 1), with STOP forced after ``k_max`` attempts (no decision token).
    Returns per attempt: last-token correctness, whether a decision token follows, and
    whether that decision is STOP.
    """
    correct_all, has_dec, stop_all = [], [], []
    alive = np.ones(traces, dtype=bool)
    for attempt in range(k_max):
        n_alive = int(alive.sum())
        if n_alive == 0:
            break
        correct = rng.random(n_alive) < q_star
        forced = attempt == k_max - 1
        correct_all.append(correct)
        has_dec.append(np.full(n_alive, not forced))
        stop_all.append(correct | forced)
        nxt = np.zeros(traces, dtype=bool)
        nxt[np.flatnonzero(alive)[~(correct | forced)]] = True
        alive = nxt
    return np.concatenate(correct_all), np.concatenate(has_dec), np.concatenate(stop_all)


def sft_loss(
    theta: np.ndarray,
    on_track_tokens: np.ndarray,
    tokens_per_attempt: int,
    correct: np.ndarray,
    has_decision: np.ndarray,
    stop: np.ndarray,
    reduction: str = "mean",
) -> float:
    """Token-level negative log-likelihood of demonstrations under the student.

    ``theta = (θ_S, θ_a, θ_b)``. Each attempt contributes ``tokens_per_attempt`` sampling
    tokens, of which ``on_track_tokens`` are 1 (the last one is the answer), and one
    decision token if ``has_decision``. ``reduction="mean"`` divides by the number of
    tokens — the length-weighting T2 is about.
    """
    log_s1, log_s0 = -np.logaddexp(0, -theta[0]), -np.logaddexp(0, theta[0])
    off = tokens_per_attempt - on_track_tokens
    ll = float(np.sum(on_track_tokens) * log_s1 + np.sum(off) * log_s0)
    for head, mask in ((1, has_decision & correct), (2, has_decision & ~correct)):
        s = stop[mask]
        ll += float(np.sum(s) * -np.logaddexp(0, -theta[head]))
        ll += float(np.sum(~s) * -np.logaddexp(0, theta[head]))
    n_tokens = correct.size * tokens_per_attempt + int(has_decision.sum())
    return -ll / n_tokens if reduction == "mean" else -ll


def _finite_diff(fn: Callable[[np.ndarray], float], x: np.ndarray, h: float = 1e-5) -> np.ndarray:
    out = np.empty_like(x)
    for i in range(x.size):
        e = np.zeros_like(x)
        e[i] = h
        out[i] = (fn(x + e) - fn(x - e)) / (2 * h)
    return out


class DSSftShareClaim(Claim):
    """T2 (RECONSTRUCTED): SFT gives the decision head a share ≈ 1/(1+L) of the gradient.

    With mean- (or sum-) reduced token-level SFT, an attempt carries ``L`` sampling tokens
    and one decision token, so ``‖G_D‖/(‖G_S‖+‖G_D‖) = 1/(1 + L·r)`` where ``r`` is the
    ratio of per-token residual magnitudes (sampling : decision, per attempt); with
    matched residuals (``r = 1``) that is ``1/(1+L)`` → 0 as attempts get longer. The
    reduction only rescales both heads, so it cannot fix the imbalance. The share is the
    *gradient's*: with plain gradient steps (or gradient flow) it is also the update's,
    but an adaptive optimiser rescales each parameter (Adam: claim ``ds.t2.adam``).

    Empirical records: dicts with ``L`` (tokens per attempt), ``grad_norm_sample`` and
    ``grad_norm_decision`` (SFT gradient norms of the two heads). The check fits
    ``log(‖G_S‖/‖G_D‖) = log r + s·log L`` with a t interval at level ``1 − alpha``; it
    fails when the interval misses ``1 ± tol`` and passes when it meets it and excludes
    the exponents 0 and 2 (:func:`theory.claims.ds.estimates.length_slope_test`).
    """

    id = "ds.t2"
    source = Source(
        "reconstruction",
        "DS (Zhao et al. 2026, arXiv 2601.01580), T2, reconstructed from the abstract; "
        "docs/papers.md#ds",
        ("the paper's text was not readable; statement and toy model are ours",),
    )
    paper = PAPER
    statement = (
        "Under token-level SFT the decision head's share of the gradient is "
        "1/(1 + L·r) (≈ 1/(1+L) for matched per-token residuals), vanishing as the "
        "attempt length L grows, whatever the loss reduction (Unbalanced attribution)."
    )
    assumptions = (
        "L sampling tokens and one decision token per attempt; disjoint heads",
        "mean or sum reduction over tokens",
        "r = per-token residual ratio (sampling : decision), independent of L",
        "plain gradient steps or gradient flow, so the update's share is the gradient's; "
        "under Adam the update share does not vanish with L (ds.t2.adam), and SFT's "
        "decision share of the gain rises from about 0.07 to about 0.4",
        _RECONSTRUCTED_NOTE,
    )
    reconstructed = True

    def __init__(self, share_law: sp.Expr | None = None) -> None:
        """``share_law`` in symbols ``L``, ``r`` overrides ``1/(1+L·r)``."""
        self.share_law = SFT_SHARE_CLAIM if share_law is None else share_law

    def check_symbolic(self) -> CheckResult:
        th_s, th_d = sp.symbols("theta_S theta_D", real=True)
        n_att, m1, s_cnt = sp.symbols("n m_1 s", positive=True)
        sig = lambda x: 1 / (1 + sp.exp(-x))  # noqa: E731
        n_tok = n_att * (L_SYM + 1)
        ll = (
            m1 * sp.log(sig(th_s))
            + (L_SYM * n_att - m1) * sp.log(1 - sig(th_s))
            + s_cnt * sp.log(sig(th_d))
            + (n_att - s_cnt) * sp.log(1 - sig(th_d))
        )
        g_s = sp.simplify(sp.diff(-ll / n_tok, th_s))
        g_d = sp.simplify(sp.diff(-ll / n_tok, th_d))
        u_s = m1 / (L_SYM * n_att) - sig(th_s)  # per-token residuals
        u_d = s_cnt / n_att - sig(th_d)
        ratio_ok = sp.simplify(g_s / g_d - L_SYM * u_s / u_d) == 0
        # The share |G_D|/(|G_S|+|G_D|) computed from the gradients above, for every sign
        # of the residuals: write the counts through residual magnitudes U_S = r·U_D, U_D.
        u_mag = sp.symbols("U_D", positive=True)
        law_ok = True
        derived_shares = []
        for sign_s in (1, -1):
            for sign_d in (1, -1):
                counts = {
                    m1: L_SYM * n_att * (sig(th_s) + sign_s * R_SYM * u_mag),
                    s_cnt: n_att * (sig(th_d) + sign_d * u_mag),
                }
                gs, gd = (sp.simplify(g.subs(counts)) for g in (g_s, g_d))
                share = sp.simplify(sp.Abs(gd) / (sp.Abs(gs) + sp.Abs(gd)))
                derived_shares.append(str(share))
                law_ok = law_ok and sp.simplify(share - self.share_law) == 0
        sum_ok = sp.simplify(sp.diff(-ll, th_s) / sp.diff(-ll, th_d) - g_s / g_d) == 0
        matched = sp.simplify(self.share_law.subs(R_SYM, 1))
        vanishes = sp.limit(self.share_law, L_SYM, sp.oo) == 0
        checks = {
            "G_S/G_D = L·u_S/u_D": ratio_ok,
            "claimed law = |G_D|/(|G_S|+|G_D|) of the derived gradients": law_ok,
            "sum reduction gives the same ratio": sum_ok,
            "share -> 0 as L -> oo": bool(vanishes),
        }
        ok = all(checks.values())
        failed = [k for k, v in checks.items() if not v]
        return verdict(
            ok,
            f"G_S/G_D = L·u_S/u_D, share at r=1 is {matched}"
            if ok
            else f"failed: {'; '.join(failed)} (claimed law {self.share_law})",
            {
                "G_S": str(g_s),
                "G_D": str(g_d),
                "derived_share": derived_shares[0],
                "share_at_r_1": str(matched),
                "checks": checks,
            },
        )

    def check_numeric(self, rng: np.random.Generator, n: int) -> CheckResult:
        """Finite-difference SFT gradients on sampled demonstrations vs the claimed share."""
        require_instances(n, self.id)
        law = sp.lambdify((L_SYM, R_SYM), self.share_law, "numpy")
        lengths = np.array([1, 2, 4, 8, 16, 32, 64])
        traces = 10_000
        instances = max(2, n // 20)
        worst_odds_err, worst_identity, slopes = 0.0, 0.0, []
        reduction_gap = 0.0
        for _ in range(instances):
            while True:
                theta = rng.uniform(-1.5, 1.5, size=3)
                q_star = float(rng.uniform(0.2, 0.9))
                k_max = int(rng.integers(2, 4))
                sig = _sigmoid(theta)
                e_att = sum((1 - q_star) ** j for j in range(k_max))
                e_dc = 1 - (1 - q_star) ** (k_max - 1)
                e_dw = e_att - (1 - q_star) ** (k_max - 1) - e_dc
                dec_res = math.hypot(e_dc * (1 - sig[1]), e_dw * sig[2])
                samp_res = e_att * abs(q_star - sig[0])
                if abs(q_star - sig[0]) > 0.15 and dec_res > 0.1:
                    break
            r_pop = samp_res / dec_res
            odds = []
            for length in lengths:
                correct, has_dec, stop = _expert_trace_stats(rng, q_star, k_max, traces)
                on_track = rng.binomial(length - 1, q_star, size=correct.size) + correct

                def loss(
                    th: np.ndarray,
                    red: str = "mean",
                    length: int = int(length),
                    on_track: np.ndarray = on_track,
                    correct: np.ndarray = correct,
                    has_dec: np.ndarray = has_dec,
                    stop: np.ndarray = stop,
                ) -> float:
                    return sft_loss(th, on_track, length, correct, has_dec, stop, red)

                grad = _finite_diff(loss, theta)
                g_s, g_d = abs(grad[0]), float(np.hypot(grad[1], grad[2]))
                share = g_d / (g_s + g_d)
                grad_sum = _finite_diff(lambda th: loss(th, "sum"), theta, 1e-6)
                share_sum = float(np.hypot(grad_sum[1], grad_sum[2])) / (
                    abs(grad_sum[0]) + float(np.hypot(grad_sum[1], grad_sum[2]))
                )
                reduction_gap = max(reduction_gap, abs(share - share_sum))
                # exact token counting on this very dataset
                n_att = correct.size
                u_s = abs(on_track.sum() / (length * n_att) - sig[0])
                dc, dw = has_dec & correct, has_dec & ~correct
                u_d = (
                    math.hypot(
                        float(np.sum(stop[dc]) - dc.sum() * sig[1]),
                        float(np.sum(stop[dw]) - dw.sum() * sig[2]),
                    )
                    / n_att
                )
                # the claimed law at this dataset's own residual ratio must be exact
                worst_identity = max(worst_identity, abs(share - float(law(length, u_s / u_d))))
                predicted = float(law(float(length), r_pop))
                err = abs(math.log((1 - share) / share) - math.log((1 - predicted) / predicted))
                worst_odds_err = max(worst_odds_err, err)
                odds.append((1 - share) / share)
            slopes.append(float(stats.linregress(np.log(lengths), np.log(odds)).slope))
        ok = worst_odds_err <= math.log(1.3) and worst_identity < 1e-6 and reduction_gap < 1e-6
        problems = [
            text
            for text, bad in (
                (
                    f"measured share off the claimed law by odds ×{math.exp(worst_odds_err):.3g} "
                    "(allowed ×1.3)",
                    worst_odds_err > math.log(1.3),
                ),
                (
                    f"law at the dataset's own residual ratio off by {worst_identity:.2g}",
                    worst_identity >= 1e-6,
                ),
                (
                    f"mean vs sum reduction shares differ by {reduction_gap:.2g}",
                    reduction_gap >= 1e-6,
                ),
            )
            if bad
        ]
        return verdict(
            ok,
            f"measured SFT decision share within a factor 1.3 (odds) of the claimed law at "
            f"L = 1..64 on {instances} instances; log-odds slope in log L "
            f"{min(slopes):.2f}..{max(slopes):.2f}"
            if ok
            else f"failed: {'; '.join(problems)}",
            {
                "instances": instances,
                "traces_per_dataset": traces,
                "lengths": lengths,
                "worst_log_odds_error": worst_odds_err,
                "worst_token_counting_identity_error": worst_identity,
                "mean_vs_sum_reduction_share_gap": reduction_gap,
                "log_odds_slopes": slopes,
            },
            math.log(1.3),
        )

    def check_empirical(
        self, records: Sequence[Mapping[str, Any]], tol: float = 0.05, alpha: float = 0.05
    ) -> CheckResult:
        """Slope of ``log(‖G_S‖/‖G_D‖)`` in ``log L`` vs 1 ± ``tol``, at level ``1 − alpha``."""
        return length_slope_test(
            records, ("grad_norm_sample", "grad_norm_decision"), self.id, tol, alpha, 1.0
        )
