"""MAGIC Theorem 3.2 (pointwise safety at SPNE) and its contrast with the simultaneous game.

MAGIC (``docs/papers.md#magic-theory``) models attacker (leader) and defender (follower) as a
two-stage game: the attacker writes a prompt ``a``, the defender sees it and answers
``d``. Theorem 3.2: if every prompt admits a safe fallback (a response with
``r_D(a, d) ≥ 0``, e.g. a refusal), then at every subgame-perfect equilibrium every
response the defender plays with positive probability is safe, **for every prompt**,
including prompts the attacker never sends. The proof only uses that the defender best
responds in every subgame, so it holds for any attacker payoff.

The paper contrasts this with Self-RedTeam (Liu et al. 2025), a simultaneous zero-sum
game whose Nash equilibria only guarantee safety *in expectation*
(``E_{d∼π_D(·|a)} r_D(a, d) ≥ 0`` for every ``a``). :class:`MagicSimultaneousContrastClaim`
shows instances where the two differ: a Nash-equilibrium defender of the normal form
that puts probability on unsafe responses, off the attacker's support, while staying
safe in expectation.

* :mod:`~theory.claims.magic.games` — samplers, the premise, SPNE/Nash helpers;
* :mod:`~theory.claims.magic.pointwise` — :class:`MagicPointwiseSafetyClaim`;
* :mod:`~theory.claims.magic.contrast` — :class:`MagicSimultaneousContrastClaim`;
* :mod:`~theory.claims.magic.records` — the record schema (episodes or tables) and the
  empirical verdicts of both claims: a run whose defender answers unsafely shows that
  the theorem's premise (equilibrium play, a safe fallback) does not hold on it, so such
  a verdict is ``n/a`` (not a ``FAIL``, which would read as a refutation) and reads
  ``premise not established: …``.
"""

from __future__ import annotations

from theory.claims.magic.contrast import MagicSimultaneousContrastClaim
from theory.claims.magic.games import (
    LP_DUST,
    PAPER,
    SAFE_TOL,
    GameSampler,
    Premise,
    SPNESolver,
    behavioural_to_mixed,
    has_safe_fallback,
    most_unsafe_nash_defender,
    sample_game_any,
    sample_game_with_fallback,
    sample_game_without_fallback,
)
from theory.claims.magic.pointwise import MagicPointwiseSafetyClaim
from theory.claims.magic.records import (
    MIN_EPISODES,
    expectation_safety_test,
    parse_policy_records,
    pointwise_safety_test,
)

__all__ = [
    "LP_DUST",
    "MIN_EPISODES",
    "PAPER",
    "SAFE_TOL",
    "GameSampler",
    "MagicPointwiseSafetyClaim",
    "MagicSimultaneousContrastClaim",
    "Premise",
    "SPNESolver",
    "behavioural_to_mixed",
    "expectation_safety_test",
    "has_safe_fallback",
    "most_unsafe_nash_defender",
    "parse_policy_records",
    "pointwise_safety_test",
    "sample_game_any",
    "sample_game_with_fallback",
    "sample_game_without_fallback",
]
