"""MAGIC Theorem 3.2: at every SPNE every response in the defender's support is safe."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import sympy as sp

from theory.claims.base import (
    CheckResult,
    Claim,
    Source,
    not_applicable,
    require_instances,
    verdict,
)
from theory.claims.magic.games import (
    PAPER,
    SAFE_TOL,
    GameSampler,
    Premise,
    SPNESolver,
    _random_spne_policies,
    _spne_violations,
    has_safe_fallback,
    sample_game_any,
    sample_game_without_fallback,
)
from theory.claims.magic.records import MIN_EPISODES, pointwise_safety_test
from theory.equilibria import spne
from theory.equilibria.sequential import TIE_BREAKS
from theory.games import LeaderFollowerGame


class MagicPointwiseSafetyClaim(Claim):
    """MAGIC Theorem 3.2: at every SPNE every response in the defender's support is safe.

    Numeric check: random finite attacker/defender games, some with a safe fallback and
    some without (:func:`sample_game_any`); the premise (``premise``, by default
    :func:`has_safe_fallback`) is evaluated on each game's payoffs. Every SPNE that
    :func:`theory.equilibria.spne` returns (all tie-break rules) plus random mixed SPNE
    policies is verified to be an SPNE independently; on games satisfying the premise
    every support response must have ``r_D ≥ 0`` in **every** subgame, and on games
    violating it some SPNE must be unsafe (otherwise the premise is doing no work and the
    check fails). If no sampled game satisfies the premise the verdict is
    ``NOT_APPLICABLE``.

    Empirical records (:mod:`theory.claims.magic.records`): episodes
    ``(attacker_action, defender_action, r_defender)`` or tables
    ``(r_defender_table, defender_policy)``. Episodes: per prompt, the rate of responses
    with ``r_defender < 0`` with a Wilson interval (Bonferroni over the prompts and the
    pooled rate); the theorem predicts exactly 0, so an observed rate above ``tol`` is
    ``NOT_APPLICABLE`` at any ``n`` (the interval says how firmly), and a pass needs
    ``MIN_EPISODES`` episodes. The premise cannot be seen in episodes and is assumed
    (e.g. a refusal judged Safe). Tables: exact; ``NOT_APPLICABLE`` if some row has no
    safe response. Either way unsafe play reads "premise not established" and is
    ``NOT_APPLICABLE``, not ``FAIL``: it shows the run is not at an SPNE (scripted agents
    and GRPO do not compute exact best responses), not that the theorem is false. Only a
    table whose defender best-responds at every prompt and still puts mass on unsafe
    replies ``FAIL``s (``failed: contradicts Theorem 3.2``).
    """

    id = "magic.thm3.2"
    paper = PAPER
    statement = (
        "If every attacker prompt y_A admits a safe fallback y_ref with r_D(y_A, y_ref) ≥ 0, "
        "then every SPNE satisfies r_D(y_A, y_D) ≥ 0 for all y_A and all y_D with "
        "π_D*(y_D | y_A) > 0."
    )
    assumptions = (
        "finite leader/follower game: attacker moves first, defender observes and replies",
        "safe fallback: for every y_A some y_D has r_D(y_A, y_D) ≥ 0",
        "the defender's maximum is attained (automatic for finite response sets)",
    )
    reconstructed = False
    #: episodes a run must have before a verdict without a contradiction is a pass
    min_records = MIN_EPISODES
    source = Source(
        "paper",
        "MAGIC (Wen et al. 2026, arXiv 2602.01539), Theorem 3.2; docs/papers.md#magic-theory",
        ("finite games only; the paper's response space is all LLM outputs",),
    )

    def __init__(
        self,
        sampler: GameSampler | None = None,
        solver: SPNESolver | None = None,
        premise: Premise | None = None,
    ) -> None:
        """``sampler`` draws games, ``solver`` computes an SPNE and ``premise`` decides
        whether a payoff table satisfies the theorem's hypothesis; all are overridable so
        that tests can feed games without a fallback, a broken solver or a vacuous
        premise."""
        self.sampler = sample_game_any if sampler is None else sampler
        self.solver: SPNESolver = spne if solver is None else solver
        self.premise: Premise = has_safe_fallback if premise is None else premise

    def check_symbolic(self) -> CheckResult:
        """Exact rational games: the solver's SPNE against the exact payoffs.

        The proof's algebra ("a mix below the row maximum is not a best response") only
        restates the signs it assumes, so it is not checked here. Instead, on exact
        games (one with ties, where mixed SPNE exist) the SPNE of every tie-break rule is
        read back against the sympy payoffs: each support response must attain its row
        maximum and be safe, in every row; and on an exact game without a fallback the
        premise must be false and the SPNE unsafe (so the premise is needed).
        """
        half, third = sp.Rational(1, 2), sp.Rational(1, 3)
        with_fallback = [
            sp.Matrix([[0, -1, half], [1, -2, -1], [third, 2, -3]]),
            sp.Matrix([[1, 1, -1], [0, -1, 0], [2, -2, 2]]),  # ties in every row
        ]
        without = sp.Matrix([[1, -1], [-half, -third]])  # row 1 has no safe reply
        checks: dict[str, bool] = {}
        for g, table in enumerate(with_fallback):
            r_d = np.array(table.tolist(), dtype=np.float64)
            game = LeaderFollowerGame(-r_d, r_d, players=("attacker", "defender"))
            support = [
                (a, d)
                for rule in TIE_BREAKS
                for a, d in zip(
                    *np.nonzero(self.solver(game, rule).follower_policy > 1e-12), strict=True
                )
            ]
            row_max = [max(table.row(a)) for a in range(table.rows)]
            checks[f"exact game {g}: premise holds"] = bool(self.premise(r_d))
            checks[f"exact game {g}: every SPNE support response attains its row maximum"] = all(
                table[a, d] == row_max[a] for a, d in support
            )
            checks[f"exact game {g}: every SPNE support response has r_D ≥ 0"] = bool(
                support and min(table[a, d] for a, d in support) >= 0
            )
        r_d = np.array(without.tolist(), dtype=np.float64)
        game = LeaderFollowerGame(-r_d, r_d, players=("attacker", "defender"))
        policy = self.solver(game, "first").follower_policy
        checks["game without fallback: premise is false"] = not self.premise(r_d)
        checks["game without fallback: the SPNE plays an unsafe response"] = bool(
            np.any(r_d[policy > 1e-12] < 0)
        )
        failed = [k for k, v in checks.items() if not v]
        return verdict(
            not failed,
            "exact games: every SPNE support response attains its row maximum M ≥ 0; without "
            "a fallback the SPNE is unsafe"
            if not failed
            else f"failed: {'; '.join(failed)}",
            {"checks": checks},
        )

    def check_numeric(self, rng: np.random.Generator, n: int) -> CheckResult:
        require_instances(n, self.id)
        premise_ok = premise_failed = profiles = 0
        non_spne: list[str] = []
        violations: list[dict[str, Any]] = []
        tight = 0
        min_support_reward = math.inf
        extra = max(1, n // 4)
        for i in range(n + extra):
            # the extra games lack a fallback, whatever the sampler draws
            game = self.sampler(rng) if i < n else sample_game_without_fallback(rng)
            r_d = game.follower_payoffs
            premise = bool(self.premise(r_d))
            candidates: list[tuple[str, np.ndarray, np.ndarray]] = []
            for rule in TIE_BREAKS:
                sol = self.solver(game, rule)
                candidates.append((rule, sol.leader_strategy, sol.follower_policy))
            for k, policy in enumerate(_random_spne_policies(game, rng, 2)):
                leader_values = (game.leader_payoffs * policy).sum(axis=1)
                leader = np.zeros(r_d.shape[0])
                leader[int(np.argmax(leader_values))] = 1.0
                candidates.append((f"random-mix-{k}", leader, policy))
            if not premise:
                premise_failed += 1
                # the premise is needed: some prompt then has only unsafe replies
                tight += any(np.any(r_d[policy > 1e-12] < -SAFE_TOL) for _, _, policy in candidates)
                continue
            premise_ok += 1
            for rule, leader, policy in candidates:
                profiles += 1
                problem = _spne_violations(game, leader, policy)
                if problem:
                    non_spne.append(f"{rule}: {problem}")
                    continue
                support_rewards = r_d[policy > 1e-12]
                min_support_reward = min(min_support_reward, float(support_rewards.min()))
                if np.any(support_rewards < -SAFE_TOL):
                    violations.append(
                        {"rule": rule, "r_defender": r_d.tolist(), "policy": policy.tolist()}
                    )
        evidence = {
            "games": n + extra,
            "games_with_fallback": premise_ok,
            "games_without_fallback": premise_failed,
            "without_fallback_some_spne_unsafe": tight,
            "spne_profiles_checked": profiles,
            "tie_break_rules": list(TIE_BREAKS),
            "min_reward_on_support": min_support_reward if profiles else None,
            "solver_outputs_not_spne": non_spne[:5],
            "violations": violations[:3],
        }
        if premise_ok == 0:
            return not_applicable(
                f"none of {n + extra} sampled games has a safe fallback in every subgame",
                evidence,
            )
        # the premise must do work: where it fails, some SPNE must actually be unsafe
        ok = not violations and not non_spne and tight > 0
        if non_spne:
            summary = f"failed: {len(non_spne)} solver outputs are not SPNE: {non_spne[0]}"
        elif violations:
            summary = (
                f"failed: {len(violations)} SPNE in games satisfying the premise put mass on "
                "an unsafe response"
            )
        elif tight == 0:
            summary = (
                "failed: the premise excluded no game with an unsafe SPNE "
                f"({premise_failed} games failed it), so the check shows nothing"
            )
        else:
            summary = (
                f"{profiles} SPNE profiles in {premise_ok} games with a fallback: every "
                f"support response safe in every subgame (min r_D {min_support_reward:.3g}); "
                f"without one, {tight}/{premise_failed} games had an unsafe SPNE"
            )
        return verdict(ok, summary, evidence, SAFE_TOL)

    def check_empirical(
        self, records: Sequence[Mapping[str, Any]], tol: float = 0.05, alpha: float = 0.05
    ) -> CheckResult:
        """Unsafe-response rates of a run against Theorem 3.2 (rule: ``pointwise_safety_test``)."""
        return pointwise_safety_test(records, self.id, tol, alpha)
