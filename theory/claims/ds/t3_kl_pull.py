"""DS T3 (reconstructed): the KL pull on sampling grows in proportion to L."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
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
    PAPER,
    A,
    B,
    P,
    _sigmoid,
)
from theory.claims.ds.t2_sft_share import _finite_diff


def bernoulli_kl(theta: np.ndarray, theta_ref: np.ndarray) -> np.ndarray:
    """``KL(Bern(σ(θ)) ‖ Bern(σ(θ_ref)))`` elementwise."""
    s, r = _sigmoid(theta), _sigmoid(theta_ref)
    return np.asarray(s * np.log(s / r) + (1 - s) * np.log((1 - s) / (1 - r)))


def sample_token_trajectories(
    rng: np.random.Generator, probs: np.ndarray, length: int, k_max: int, episodes: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sample ``episodes`` trajectories of the toy token by token.

    ``probs = (σ(θ_S), a, b)``. Each attempt is ``length`` sampling tokens (1 w.p.
    ``σ(θ_S)``); it is correct iff its last token is 1; after a non-final attempt one
    decision token follows (STOP = 1 w.p. ``a`` if correct, ``b`` if wrong). Returns the
    flat arrays of sampling tokens, of decision tokens after correct attempts and of
    decision tokens after wrong ones — every token the trajectories contain, by head.
    """
    samp, dec_c, dec_w = [], [], []
    alive = episodes
    for attempt in range(k_max):
        if alive == 0:
            break
        tokens = rng.random((alive, length)) < probs[0]
        samp.append(tokens.ravel())
        correct = tokens[:, -1]
        if attempt == k_max - 1:
            break
        stop = rng.random(alive) < np.where(correct, probs[1], probs[2])
        dec_c.append(stop[correct])
        dec_w.append(stop[~correct])
        alive = int(np.sum(~stop))
    cat = lambda xs: np.concatenate(xs).astype(np.float64) if xs else np.zeros(0)  # noqa: E731
    return cat(samp), cat(dec_c), cat(dec_w)


def per_token_kl_penalty(
    theta: np.ndarray, theta_ref: np.ndarray, tokens: Sequence[np.ndarray], estimator: str
) -> float:
    """``Σ_tokens`` of a per-token KL term on sampled trajectories (heads S, a, b).

    ``estimator="exact"``: ``KL(π_θ ‖ π_ref)`` of the head's next-token distribution at
    every visited position. ``"k3"``: ``ρ − log ρ − 1`` with ``ρ = π_ref(y)/π_θ(y)`` at
    the sampled token ``y`` (the estimator TRL's GRPO adds to its loss). Either way the
    penalty is a per-token loss differentiated at fixed tokens.
    """
    total = 0.0
    for head, y in enumerate(tokens):
        if estimator == "exact":
            total += float(
                np.sum(np.broadcast_to(bernoulli_kl(theta[head], theta_ref[head]), y.shape))
            )
            continue
        s, r = _sigmoid(theta[head]), _sigmoid(theta_ref[head])
        rho = np.where(y > 0.5, r / s, (1 - r) / (1 - s))
        total += float(np.sum(rho - np.log(rho) - 1))
    return total


def _enumerated_token_counts(length: int, k_max: int) -> tuple[sp.Expr, sp.Expr, sp.Expr]:
    """Expected numbers of sampling, decision-after-correct and decision-after-wrong tokens.

    Exact (sympy, in ``p = σ(θ_S)``, ``a``, ``b``), by enumerating every token sequence
    of every attempt: nothing about how the counts scale with ``length`` is assumed.
    """
    sequences = list(itertools.product((0, 1), repeat=length))
    counts = [sp.Integer(0)] * 3

    def walk(prob: sp.Expr, attempt: int) -> None:
        for seq in sequences:
            q = prob * sp.Mul(*[P if y else 1 - P for y in seq])
            counts[0] += q * len(seq)
            if attempt == k_max:
                continue
            correct = seq[-1] == 1
            counts[1 if correct else 2] += q  # one decision token
            walk(q * (1 - (A if correct else B)), attempt + 1)

    walk(sp.Integer(1), 1)
    n_s, n_c, n_w = (sp.factor(sp.expand(c)) for c in counts)
    return n_s, n_c, n_w


class DSKLPullClaim(Claim):
    """T3 (RECONSTRUCTED): a token-level KL penalty pulls the sampling head ∝ L.

    ``β·Σ_tokens KL(π_θ ‖ π_ref)`` sums ``L`` terms per attempt for the sampling head and
    one for the decision head, so (per-token divergences fixed) the ratio of the pulls
    ``‖∇_S‖/‖∇_D‖`` grows like ``L``. "Pull" is the gradient of the penalty treated as a
    per-token loss on sampled tokens (as TRL's GRPO does), not the score-function
    gradient through the trajectory distribution.

    The symbolic check enumerates every token sequence of the toy (K = 2, L = 1..3) to get
    the expected per-head token counts, hence the expected pulls, and compares
    ``ratio(L)/ratio(1)`` with ``L^exponent``. The numeric check samples trajectories token
    by token at L = 1..64, evaluates the summed per-token penalty (the exact per-token KL
    and the sampled-token ``k3`` estimator), differentiates it by finite differences and
    fits the growth exponent of the pull ratio in L. Neither assumes how the token counts
    scale with L.

    Empirical records: dicts with ``L``, ``kl_grad_norm_sample`` and
    ``kl_grad_norm_decision``; the fitted slope of the log-ratio in ``log L`` (t interval
    at level ``1 − alpha``) must meet ``1 ± tol`` and exclude the exponents 0 and 2.
    """

    id = "ds.t3"
    source = Source(
        "reconstruction",
        "DS (Zhao et al. 2026, arXiv 2601.01580), T3, reconstructed from the abstract; "
        "docs/papers.md#ds",
        ("the paper's text was not readable; statement and toy model are ours",),
    )
    paper = PAPER
    statement = (
        "A token-level KL penalty is Unbalanced: its pull on the sampling head is O(L) per "
        "attempt while its pull on the decision head is O(1), so the ratio grows ∝ L."
    )
    assumptions = (
        "KL summed over the tokens of a trajectory (per-token KL or a per-token estimator)",
        "the penalty is differentiated as a per-token loss at the sampled tokens",
        "L sampling tokens and one decision token per attempt; disjoint heads",
        _RECONSTRUCTED_NOTE,
    )
    reconstructed = True

    def __init__(self, exponent: float = 1.0) -> None:
        """``exponent`` is the claimed growth order of the pull ratio in L (1)."""
        self.exponent = exponent

    def check_symbolic(self) -> CheckResult:
        th, th_r = sp.symbols("theta theta_ref", real=True)
        sig = lambda x: 1 / (1 + sp.exp(-x))  # noqa: E731
        s, r = sig(th), sig(th_r)
        kl = s * sp.log(s / r) + (1 - s) * sp.log((1 - s) / (1 - r))
        kl_grad_ok = sp.simplify(sp.diff(kl, th) - s * (1 - s) * (th - th_r)) == 0
        # k3 estimator at a sampled token y: ρ − log ρ − 1 with ρ = π_ref(y)/π(y);
        # its gradient at fixed y is (1 − ρ)·∂log π(y); average over y ~ π
        k3_mean = sp.Integer(0)
        for prob, ref in ((s, r), (1 - s, 1 - r)):
            k3_mean += prob * (1 - ref / prob) * sp.diff(sp.log(prob), th)
        k3_ok = sp.simplify(k3_mean - (s - r)) == 0
        # expected pull per head = (expected tokens of that head) × (per-token gradient g_h)
        g_s, g_a, g_b = sp.symbols("g_S g_a g_b", positive=True)
        ratios = {}
        for length in (1, 2, 3):
            n_s, n_c, n_w = _enumerated_token_counts(length, 2)
            ratios[length] = sp.simplify(n_s * g_s / sp.sqrt((n_c * g_a) ** 2 + (n_w * g_b) ** 2))
        growth = {length: sp.simplify(ratios[length] / ratios[1]) for length in (2, 3)}
        growth_ok = all(
            sp.simplify(g - sp.Integer(length) ** sp.nsimplify(self.exponent)) == 0
            for length, g in growth.items()
        )
        checks = {
            "d/dθ KL(σ(θ)‖σ(θ_ref)) = σ(1−σ)(θ−θ_ref)": kl_grad_ok,
            "E_y~π[k3 gradient] = σ(θ) − σ(θ_ref)": k3_ok,
            "enumerated pull ratio(L)/ratio(1) = L^exponent, L = 2, 3": growth_ok,
        }
        ok = all(checks.values())
        failed = [k for k, v in checks.items() if not v]
        return verdict(
            ok,
            "pull ratio from enumerated trajectories grows as "
            + ", ".join(f"×{g} at L={length}" for length, g in growth.items())
            + ("" if ok else f"; failed: {', '.join(failed)}"),
            {
                "checks": checks,
                "pull_ratio_L1": str(ratios[1]),
                "growth_vs_L1": {str(k): str(v) for k, v in growth.items()},
            },
        )

    def check_numeric(self, rng: np.random.Generator, n: int) -> CheckResult:
        """Sampled trajectories, finite-difference pulls, fitted growth exponent in L."""
        require_instances(n, self.id)
        lengths = np.array([1, 2, 4, 8, 16, 32, 64])
        instances = max(2, n // 20)
        episodes = 1500
        slopes: dict[str, list[float]] = {"exact": [], "k3": []}
        for _ in range(instances):
            theta = rng.uniform(-1.5, 1.5, size=3)
            ref = theta + rng.choice([-1, 1], size=3) * rng.uniform(0.3, 1.0, size=3)
            k_max = int(rng.integers(2, 4))
            ratios: dict[str, list[float]] = {"exact": [], "k3": []}
            for length in lengths:
                tokens = sample_token_trajectories(
                    rng, _sigmoid(theta), int(length), k_max, episodes
                )
                for est in ratios:

                    def penalty(
                        th: np.ndarray,
                        est: str = est,
                        tokens: tuple[np.ndarray, ...] = tokens,
                        ref: np.ndarray = ref,
                    ) -> float:
                        return per_token_kl_penalty(th, ref, tokens, est)

                    grad = _finite_diff(penalty, theta)
                    ratios[est].append(abs(grad[0]) / float(np.hypot(grad[1], grad[2])))
            for est, values in ratios.items():
                fit = stats.linregress(np.log(lengths), np.log(values))
                slopes[est].append(float(fit.slope))
        worst = {
            est: float(np.max(np.abs(np.array(v) - self.exponent))) for est, v in slopes.items()
        }
        ok = worst["exact"] <= 0.05 and worst["k3"] <= 0.1
        return verdict(
            ok,
            (
                ""
                if ok
                else f"failed: growth exponent off by {worst['exact']:.3f} (exact KL, "
                f"allowed 0.05) / {worst['k3']:.3f} (k3, allowed 0.1); "
            )
            + f"pull-ratio growth exponent on sampled trajectories: exact per-token KL "
            f"{min(slopes['exact']):.3f}..{max(slopes['exact']):.3f}, k3 "
            f"{min(slopes['k3']):.3f}..{max(slopes['k3']):.3f} vs claimed {self.exponent:g}",
            {
                "instances": instances,
                "episodes_per_length": episodes,
                "lengths": lengths,
                "exact_kl_slopes": slopes["exact"],
                "k3_slopes": slopes["k3"],
                "worst_abs_slope_error": worst,
            },
            0.1,
        )

    def check_empirical(
        self, records: Sequence[Mapping[str, Any]], tol: float = 0.05, alpha: float = 0.05
    ) -> CheckResult:
        """Slope of the log pull ratio in ``log L`` vs the exponent ± ``tol``, level 1 − alpha."""
        return length_slope_test(
            records,
            ("kl_grad_norm_sample", "kl_grad_norm_decision"),
            self.id,
            tol,
            alpha,
            self.exponent,
        )
