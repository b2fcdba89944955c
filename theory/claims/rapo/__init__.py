"""RAPO Theorem 3.1 (safe-reasoning budget grows linearly with attack complexity) and variants.

Model (RAPO §3.2 as quoted by reviewers; see ``docs/papers.md#rapo-risk-model`` and
``docs/papers.md#rapo-game-primitives``):

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

from theory.claims.base import Claim
from theory.claims.rapo.model import (
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
)
from theory.claims.rapo.records import (
    GENERAL_FAMILY,
    MASKED_FAMILY,
    PAPER_FAMILY,
    iso_refusal_test,
)
from theory.claims.rapo.threshold import (
    RapoBudgetClaim,
    RapoCorrelatedMaskingClaim,
    RapoGeneralThresholdClaim,
)
from theory.claims.rapo.untargeted import (
    RapoUntargetedClaim,
)


def rapo_claims() -> list[Claim]:
    return [
        RapoBudgetClaim(),
        RapoGeneralThresholdClaim(),
        RapoCorrelatedMaskingClaim(),
        RapoUntargetedClaim(),
    ]


__all__ = [
    "DELTA",
    "EPS",
    "ETA",
    "GAMMA",
    "GENERAL_FAMILY",
    "GENERAL_T_STAR",
    "MASKED_FAMILY",
    "MASKED_T_STAR",
    "PAPER",
    "PAPER_FAMILY",
    "PAPER_T_STAR",
    "RHO",
    "DilutionInstance",
    "DilutionModel",
    "K",
    "RapoBudgetClaim",
    "RapoCorrelatedMaskingClaim",
    "RapoGeneralThresholdClaim",
    "RapoUntargetedClaim",
    "T",
    "iso_refusal_test",
    "rapo_claims",
]
