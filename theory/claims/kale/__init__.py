"""KALE (Lv, Liu, Zhang, Xu, Lu; arXiv 2601.07430): its textbook identities and its claims.

* :mod:`theory.claims.kale.textbook` — the two standard results KALE relies on, as
  textbook claims: the KA loss gradient (``kale.ka-loss``) and the admissibility of the
  ALT anchor heuristic (``kale.alt-admissible``);
* :mod:`theory.claims.kale.empirical` — KALE's own results, as empirical claims with a
  record schema: the multi-hop accuracy gain of KA over SFT (``kale.multihop-gain``) and a
  lower known&incorrect rate under KA (``kale.known-incorrect``).

Everything here uses numpy/scipy/sympy (no torch): ``theory`` must import without it.
"""

from __future__ import annotations

from theory.claims.base import Claim
from theory.claims.kale.empirical import (
    METHODS,
    MIN_HOPS,
    MIN_PER_METHOD,
    RECORD_SCHEMA,
    KAKnownIncorrectClaim,
    KaleAnswer,
    KAMultiHopGainClaim,
    pair_answers,
    parse_kale_records,
)
from theory.claims.kale.textbook import (
    AltAdmissibilityClaim,
    GradientFormula,
    Heuristic,
    KALossGradientClaim,
    clamped_alt_heuristic,
    exact_comparison_verdict,
    forward_kl_gradient,
    ka_gradient,
    ka_loss,
    naive_alt_heuristic,
)


def kale_claims() -> list[Claim]:
    """The textbook identities first, then KALE's empirical claims."""
    return [
        KALossGradientClaim(),
        AltAdmissibilityClaim(),
        KAMultiHopGainClaim(),
        KAKnownIncorrectClaim(),
    ]


__all__ = [
    "METHODS",
    "MIN_HOPS",
    "MIN_PER_METHOD",
    "RECORD_SCHEMA",
    "AltAdmissibilityClaim",
    "GradientFormula",
    "Heuristic",
    "KAKnownIncorrectClaim",
    "KALossGradientClaim",
    "KAMultiHopGainClaim",
    "KaleAnswer",
    "clamped_alt_heuristic",
    "exact_comparison_verdict",
    "forward_kl_gradient",
    "ka_gradient",
    "ka_loss",
    "kale_claims",
    "naive_alt_heuristic",
    "pair_answers",
    "parse_kale_records",
]
