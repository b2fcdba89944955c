"""The simultaneous-game guarantee (Self-RedTeam) holds only in expectation."""

from __future__ import annotations

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
    LP_DUST,
    PAPER,
    SAFE_TOL,
    GameSampler,
    behavioural_to_mixed,
    has_safe_fallback,
    most_unsafe_nash_defender,
    sample_game_with_fallback,
)
from theory.claims.magic.records import MIN_EPISODES, expectation_safety_test
from theory.equilibria import nash_conv, solve_zero_sum


class MagicSimultaneousContrastClaim(Claim):
    """The simultaneous-game guarantee (Self-RedTeam) holds only in expectation.

    In the zero-sum game ``min_{π_A} max_{π_D} E r_D`` solved as one normal form (the
    defender's strategies are maps prompt → response), every Nash equilibrium satisfies
    ``E_{π_D(·|a)} r_D(a, ·) ≥ V ≥ 0`` for every prompt ``a`` — and no more: the numeric
    check solves the normal form with :func:`theory.equilibria.solve_zero_sum`, then finds
    (by LP) the equilibrium defender with the most probability on unsafe responses,
    verifies with :func:`theory.equilibria.nash_conv` that it is a Nash equilibrium, and
    reports the games where it samples unsafe responses (always off the attacker's
    support) although Theorem 3.2's SPNE never does.

    Empirical records: as for :class:`MagicPointwiseSafetyClaim`. The weaker,
    in-expectation guarantee: every prompt's mean ``r_defender ≥ −tol``. Episodes: a
    Student-t interval per prompt seen at least ``MIN_PROMPT_EPISODES`` times and one for
    the pooled mean (Bonferroni); a mean significantly below ``−tol`` is ``n/a``
    ("premise not established": the play is not a Nash equilibrium), a pass needs
    ``MIN_EPISODES`` episodes and every observed mean at least ``−tol``. Tables: exact;
    a mean below ``−tol`` fails only where the defender best-responds at every prompt
    (premise established), else it is ``n/a``. The evidence says whether the policy is
    also pointwise safe.
    """

    id = "magic.thm3.2.contrast"
    paper = PAPER
    statement = (
        "A Nash equilibrium of the simultaneous zero-sum game guarantees only "
        "E_{y_D∼π_D*(·|y_A)} r_D(y_A, y_D) ≥ 0 for every y_A: there are games with a safe "
        "fallback where an equilibrium defender samples unsafe responses (off the "
        "attacker's support), which no SPNE does."
    )
    assumptions = (
        "zero-sum: r_A = −r_D; the defender observes the prompt",
        "safe fallback in every subgame",
        "Nash equilibrium of the normal form (not required to be subgame perfect)",
    )
    reconstructed = False
    #: episodes a run must have before a verdict without a contradiction is a pass
    min_records = MIN_EPISODES
    source = Source(
        "paper",
        "MAGIC (Wen et al. 2026), contrast with Self-RedTeam after Theorem 3.2; "
        "docs/papers.md#magic-theory",
        ("the paper states the contrast in words; the witness family is ours",),
    )

    def __init__(
        self, sampler: GameSampler | None = None, witness_mass: sp.Expr | None = None
    ) -> None:
        """``sampler`` draws the numeric check's games; ``witness_mass`` (in the symbols
        ``g``, ``c`` of :meth:`check_symbolic`) is the claimed largest probability with
        which a Nash defender complies with the off-path attack, ``g/(g+c)``."""
        self.sampler = sampler or (
            lambda rng: sample_game_with_fallback(rng, zero_sum=True, max_actions=3)
        )
        g, c = sp.symbols("g c", positive=True)
        self.witness_mass = g / (g + c) if witness_mass is None else witness_mass

    def check_symbolic(self) -> CheckResult:
        """Exact family, solved in the normal form: the witness is a Nash equilibrium.

        Prompts a0, a1; responses refuse, comply; ``r_D = [[0, −c], [g, −c]]`` (g, c > 0),
        ``r_A = −r_D``. The defender's pure strategies are the four maps prompt → response;
        the witness profile is "attacker plays a0; defender refuses a0 and complies with a1
        with probability w" where ``w = witness_mass``. Sympy computes every pure
        deviation's payoff in the normal form and checks that none gains (for all
        g, c > 0), that ``w > 0`` (unsafe mass off the attacker's support) while the
        in-expectation guarantee holds, that ``w`` is the largest such mass (at ``w + ε``
        the attacker gains), and that the unique SPNE never complies.
        """
        g, c = sp.symbols("g c", positive=True)
        w = sp.sympify(self.witness_mass)
        r_d = sp.Matrix([[0, -c], [g, -c]])
        maps: list[tuple[int, int]] = [(0, 0), (0, 1), (1, 0), (1, 1)]  # (reply to a0, a1)
        # the witness as a mix over the four maps: a0 -> refuse, a1 -> comply w.p. w
        mix = {m: (1 - w if m == (0, 0) else w if m == (0, 1) else sp.Integer(0)) for m in maps}
        attacker = (sp.Integer(1), sp.Integer(0))

        def defender_payoff(att: tuple[sp.Expr, ...], m: tuple[int, int]) -> sp.Expr:
            return sum(att[a] * r_d[a, m[a]] for a in range(2))

        def attacker_payoff(a: int, weights: dict[tuple[int, int], sp.Expr]) -> sp.Expr:
            return -sum(p * r_d[a, m[a]] for m, p in weights.items())

        eq_def = sp.simplify(sum(mix[m] * defender_payoff(attacker, m) for m in maps))
        eq_att = sp.simplify(attacker_payoff(0, mix))

        def nonneg(expr: sp.Expr) -> bool:
            return bool(sp.simplify(expr).is_nonnegative) or sp.simplify(expr) == 0

        eps = sp.symbols("epsilon", positive=True)
        bumped = {m: p.subs({}) for m, p in mix.items()}
        bumped[(0, 0)], bumped[(0, 1)] = 1 - w - eps, w + eps
        spne_a1 = max(range(2), key=lambda d: float(r_d[1, d].subs({g: 1, c: 1})))
        checks = {
            "witness is a mixed strategy (0 ≤ w ≤ 1)": nonneg(w) and nonneg(1 - w),
            "no defender deviation gains": all(
                nonneg(eq_def - defender_payoff(attacker, m)) for m in maps
            ),
            "no attacker deviation gains": all(
                nonneg(eq_att - attacker_payoff(a, mix)) for a in range(2)
            ),
            "unsafe mass on the off-path prompt a1 is positive": bool(w.is_positive),
            "safe in expectation on a1: E r_D(a1) ≥ 0": nonneg((1 - w) * r_d[1, 0] + w * r_d[1, 1]),
            "w is the largest such mass: at w + ε the attacker deviates to a1": bool(
                sp.simplify(attacker_payoff(1, bumped) - attacker_payoff(0, bumped)).is_positive
            ),
            "the SPNE refuses a1 (g > 0 > −c)": spne_a1 == 0 and bool((g + c).is_positive),
        }
        failed = [k for k, v in checks.items() if not v]
        return verdict(
            not failed,
            f"a Nash defender may comply with the off-path attack w.p. {w}, safe only in "
            "expectation"
            if not failed
            else f"failed: {'; '.join(failed)} (witness mass {w})",
            {"checks": checks, "unsafe_mass": str(w)},
        )

    def check_numeric(self, rng: np.random.Generator, n: int) -> CheckResult:
        require_instances(n, self.id)
        games = max(1, n // 2)
        premise_failed = expectation_broken = not_nash = differ = lp_unsafe = 0
        value_mismatch = 0.0
        off_support_only = True
        example: dict[str, Any] | None = None
        for _ in range(games):
            game = self.sampler(rng)
            r_d = game.follower_payoffs
            if not has_safe_fallback(r_d):
                premise_failed += 1
                continue
            normal = game.to_normal_form()
            sol = solve_zero_sum(normal)  # row player = attacker, payoff −r_D
            v_def = -sol.value
            value_mismatch = max(value_mismatch, abs(v_def - float(r_d.max(axis=1).min())))
            # the LP's own equilibrium: behavioural policy of the defender
            maps = np.array(game.follower_strategies(), dtype=np.intp)
            lp_policy = np.zeros_like(r_d)
            for a in range(r_d.shape[0]):
                np.add.at(lp_policy[a], maps[:, a], sol.col)
            expectation = (lp_policy * r_d).sum(axis=1)
            if np.any(expectation < -LP_DUST):
                expectation_broken += 1
            lp_unsafe += bool(np.any(lp_policy[r_d < -SAFE_TOL] > LP_DUST))
            # the most unsafe equilibrium defender
            policy, unsafe = most_unsafe_nash_defender(r_d, v_def)
            if unsafe <= LP_DUST:
                continue
            mixed = behavioural_to_mixed(game, policy)
            gap = nash_conv(normal, [sol.row, mixed])
            if gap > 1e-7 * max(1.0, normal.payoff_scale()):
                not_nash += 1
                continue
            if np.any((policy * r_d).sum(axis=1) < -LP_DUST):
                expectation_broken += 1
            differ += 1
            unsafe_rows = np.flatnonzero(np.any((policy > 0) & (r_d < -SAFE_TOL), axis=1))
            off_support_only &= bool(np.all(sol.row[unsafe_rows] <= LP_DUST))
            if example is None:
                example = {
                    "r_defender": r_d.tolist(),
                    "attacker_strategy": sol.row.tolist(),
                    "defender_policy": policy.tolist(),
                    "unsafe_mass": unsafe,
                    "expected_r_defender": (policy * r_d).sum(axis=1).tolist(),
                    "nash_conv": gap,
                }
        evidence = {
            "games": games,
            "games_without_fallback": premise_failed,
            "games_where_some_nash_defender_is_unsafe": differ,
            "lp_solution_itself_unsafe": lp_unsafe,
            "expectation_guarantee_violations": expectation_broken,
            "witnesses_failing_nash_check": not_nash,
            "unsafe_mass_only_off_attacker_support": off_support_only,
            "value_mismatch_spne_vs_normal_form": value_mismatch,
            "example": example,
        }
        if premise_failed == games:
            return not_applicable("no sampled game has a safe fallback", evidence)
        ok = (
            differ > 0
            and expectation_broken == 0
            and not_nash == 0
            and off_support_only
            and value_mismatch < 1e-7
        )
        return verdict(
            ok,
            f"{differ}/{games - premise_failed} games have a Nash defender that samples unsafe "
            "responses off the attacker's support while safe in expectation; the SPNE never "
            "does"
            if ok
            else "contrast not shown: "
            + ", ".join(
                k
                for k, bad in (
                    ("no differing game", differ == 0),
                    ("expectation guarantee broken", expectation_broken > 0),
                    ("witness not a Nash equilibrium", not_nash > 0),
                    ("unsafe mass on the attacker's support", not off_support_only),
                    ("values disagree", value_mismatch >= 1e-7),
                )
                if bad
            ),
            evidence,
            1e-9,
        )

    def check_empirical(
        self, records: Sequence[Mapping[str, Any]], tol: float = 0.05, alpha: float = 0.05
    ) -> CheckResult:
        """Mean defender rewards of a run vs ``≥ −tol`` (rule: ``expectation_safety_test``)."""
        return expectation_safety_test(records, self.id, tol, alpha)
