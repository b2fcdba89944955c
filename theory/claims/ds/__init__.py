"""The Two-Stage Decision-Sampling (DS) hypothesis, theorems T1-T4 — RECONSTRUCTED.

Two stated variants (our extensions, ``source.kind == "extension"``) have their own
claims and verdicts: ``ds.t1.grpo-token-mean`` (T1 under GRPO's per-response token-mean
weighting) and ``ds.t2.adam`` (T2 under the Adam optimiser).

The DS paper (Zhao, Zha, Zhang, Xu; arXiv 2601.01580) could not be read beyond its
abstract (see ``docs/papers.md#ds``). Every statement in this module is a
reconstruction consistent with the abstract and second-hand summaries, **not** a
quotation; each claim has ``reconstructed = True`` and says so in its docstring.

The toy model all four claims use (``docs/papers.md#ds-toy-model``):

* an episode is up to ``K`` attempts; an attempt is ``L`` sampling tokens drawn from the
  sampling head (Bernoulli, logit ``θ_S``); the attempt's answer is correct iff its last
  token is 1, so an attempt is correct with probability ``p = σ(θ_S)``;
* after a non-final attempt the decision head emits one token, STOP or RESAMPLE, with
  ``P(STOP | correct) = a = σ(θ_a)`` and ``P(STOP | wrong) = b = σ(θ_b)``; STOP is forced
  after attempt ``K``;
* reward ``R = 1`` iff the accepted answer is correct. Then ``V_K = p`` and
  ``V_k = p·a + (p(1−a) + (1−p)(1−b))·V_{k+1}``.
"""

from __future__ import annotations

from theory.claims.base import Claim
from theory.claims.ds.model import (
    L_SYM,
    PAPER,
    R_SYM,
    SFT_SHARE_CLAIM,
    V2_CLAIM,
    V2_GRAD_CLAIM,
    VINF_CLAIM,
    VINF_GRAD_CLAIM,
    A,
    B,
    P,
    value_and_grad,
)
from theory.claims.ds.t1_attribution import (
    DSBalancedAttributionClaim,
    simulate_policy_gradient,
)
from theory.claims.ds.t1_grpo_token_mean import (
    C_SYM,
    VN_CLAIM,
    DSGrpoTokenMeanClaim,
    simulate_token_weighted_gradient,
    token_trajectories,
)
from theory.claims.ds.t2_adam import (
    ADAM_SHARE_CLAIM,
    DSAdamShareClaim,
    adam,
    gradient_descent,
    sft_gradient,
    update_share,
)
from theory.claims.ds.t2_sft_share import (
    DSSftShareClaim,
    _finite_diff,
    sft_loss,
)
from theory.claims.ds.t3_kl_pull import (
    DSKLPullClaim,
    bernoulli_kl,
    per_token_kl_penalty,
    sample_token_trajectories,
)
from theory.claims.ds.t4_rl_vs_sft import (
    L_TOK,
    Q_STAR,
    TH_A,
    TH_B,
    TH_S,
    DSRLvsSFTClaim,
    decision_attribution,
    sft_expected_nll,
    sft_step_exprs,
    train_toy,
)


def ds_claims() -> list[Claim]:
    """T1-T4, each stated variant right after the theorem it varies."""
    return [
        DSBalancedAttributionClaim(),
        DSGrpoTokenMeanClaim(),
        DSSftShareClaim(),
        DSAdamShareClaim(),
        DSKLPullClaim(),
        DSRLvsSFTClaim(),
    ]


__all__ = [
    "ADAM_SHARE_CLAIM",
    "C_SYM",
    "L_SYM",
    "L_TOK",
    "PAPER",
    "Q_STAR",
    "R_SYM",
    "SFT_SHARE_CLAIM",
    "TH_A",
    "TH_B",
    "TH_S",
    "V2_CLAIM",
    "V2_GRAD_CLAIM",
    "VINF_CLAIM",
    "VINF_GRAD_CLAIM",
    "VN_CLAIM",
    "A",
    "B",
    "DSAdamShareClaim",
    "DSBalancedAttributionClaim",
    "DSGrpoTokenMeanClaim",
    "DSKLPullClaim",
    "DSRLvsSFTClaim",
    "DSSftShareClaim",
    "P",
    "_finite_diff",
    "adam",
    "bernoulli_kl",
    "decision_attribution",
    "ds_claims",
    "gradient_descent",
    "per_token_kl_penalty",
    "sample_token_trajectories",
    "sft_expected_nll",
    "sft_gradient",
    "sft_loss",
    "sft_step_exprs",
    "simulate_policy_gradient",
    "simulate_token_weighted_gradient",
    "token_trajectories",
    "train_toy",
    "update_share",
    "value_and_grad",
]
