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

Records for ``check_empirical`` (both claims), either form:

* episodes — ``{"attacker_action": hashable, "defender_action": hashable,
  "r_defender": float}``, one per sampled episode;
* a table — ``{"r_defender_table": n_A x n_D numbers, "defender_policy": n_A x n_D
  probabilities}`` (a leader/follower payoff table and a learned defender policy).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import sympy as sp
from scipy.optimize import linprog

from theory.claims.base import (
    CheckResult,
    Claim,
    RecordSchemaError,
    Source,
    not_applicable,
    record_float,
    require_instances,
    require_keys,
    skipped,
    verdict,
)
from theory.equilibria import nash_conv, solve_zero_sum, spne
from theory.equilibria.sequential import TIE_BREAKS, SPNESolution
from theory.errors import NumericalError
from theory.games import LeaderFollowerGame

PAPER = "MAGIC (Wen et al. 2026)"
SAFE_TOL = 1e-9
LP_DUST = 1e-6  # probabilities below this in an LP solution are solver tolerance, not mass

GameSampler = Callable[[np.random.Generator], LeaderFollowerGame]
SPNESolver = Callable[[LeaderFollowerGame, str], SPNESolution]
Premise = Callable[[np.ndarray], bool]


def sample_game_with_fallback(
    rng: np.random.Generator, *, zero_sum: bool | None = None, max_actions: int = 4
) -> LeaderFollowerGame:
    """A random attacker/defender game in which one defender column is safe in every row.

    A quarter of the games use small integer payoffs, so that the defender has ties and
    the tie-breaking rules (and mixed SPNE policies) actually differ.
    """
    n_a = int(rng.integers(2, max_actions + 1))
    n_d = int(rng.integers(2, max_actions + 1))
    integer = rng.random() < 0.25
    if integer:
        r_d = rng.integers(-2, 3, size=(n_a, n_d)).astype(float)
    else:
        r_d = rng.uniform(-1.0, 1.0, size=(n_a, n_d))
    fallback = int(rng.integers(n_d))
    r_d[:, fallback] = rng.integers(0, 3, size=n_a) if integer else rng.uniform(0, 1, size=n_a)
    if zero_sum is None:
        zero_sum = bool(rng.random() < 0.5)
    r_a = -r_d if zero_sum else rng.uniform(-1.0, 1.0, size=(n_a, n_d))
    return LeaderFollowerGame(r_a, r_d, players=("attacker", "defender"))


def sample_game_without_fallback(rng: np.random.Generator) -> LeaderFollowerGame:
    """A random game in which some prompt has no safe response (the premise fails)."""
    game = sample_game_with_fallback(rng)
    r_d = np.array(game.follower_payoffs)
    row = int(rng.integers(r_d.shape[0]))
    r_d[row] = -rng.uniform(0.1, 1.0, size=r_d.shape[1])
    return LeaderFollowerGame(game.leader_payoffs, r_d, players=game.players)


def sample_game_any(rng: np.random.Generator) -> LeaderFollowerGame:
    """The default sampler: half the games have a constructed fallback, half are drawn
    with no constraint (so the premise holds or fails by chance), a sixth have none.

    The premise is decided by :func:`has_safe_fallback` on the payoffs, never by how the
    game was drawn, so a premise that is too weak (or vacuous) lets unsafe SPNE through
    and the numeric check fails.
    """
    u = rng.random()
    if u < 0.5:
        return sample_game_with_fallback(rng)
    if u < 5 / 6:
        game = sample_game_with_fallback(rng)
        n_a, n_d = game.follower_payoffs.shape
        r_d = rng.uniform(-1.0, 0.5, size=(n_a, n_d))
        return LeaderFollowerGame(game.leader_payoffs, r_d, players=game.players)
    return sample_game_without_fallback(rng)


def has_safe_fallback(r_defender: np.ndarray) -> bool:
    """The premise: every prompt (row) has at least one response with ``r_D ≥ 0``."""
    return bool(np.all(r_defender.max(axis=1) >= -SAFE_TOL))


def _random_spne_policies(
    game: LeaderFollowerGame, rng: np.random.Generator, count: int
) -> list[np.ndarray]:
    """Other SPNE follower policies: any mix over each row's best responses is one."""
    r_d = game.follower_payoffs
    best = r_d >= r_d.max(axis=1, keepdims=True) - SAFE_TOL
    out = []
    for _ in range(count):
        w = rng.dirichlet(np.ones(r_d.shape[1]), size=r_d.shape[0]) * best
        out.append(w / w.sum(axis=1, keepdims=True))
    return out


def _spne_violations(game: LeaderFollowerGame, leader: np.ndarray, policy: np.ndarray) -> str:
    """Independent check of the SPNE conditions; returns '' or what is violated."""
    r_a, r_d = game.leader_payoffs, game.follower_payoffs
    tol = 1e-9 * max(1.0, float(np.ptp(r_d)), float(np.ptp(r_a)))
    if np.any(policy < -tol) or not np.allclose(policy.sum(axis=1), 1.0, atol=1e-9):
        return "follower policy rows are not probability vectors"
    if np.any((r_d * policy).sum(axis=1) < r_d.max(axis=1) - tol):
        return "follower is not best-responding in some subgame"
    leader_values = (r_a * policy).sum(axis=1)
    if float(leader @ leader_values) < leader_values.max() - tol:
        return "leader is not best-responding to the follower policy"
    return ""


def _parse_policy_records(
    records: Sequence[Mapping[str, Any]], claim_id: str
) -> tuple[str, list[dict[str, Any]]]:
    """Per-prompt statistics from episode or table records: unsafe mass and mean reward."""
    if all("r_defender_table" in r for r in records):
        require_keys(records, ("r_defender_table", "defender_policy"), claim_id)
        rows: list[dict[str, Any]] = []
        for i, r in enumerate(records):
            try:
                table = np.asarray(r["r_defender_table"], dtype=np.float64)
                policy = np.asarray(r["defender_policy"], dtype=np.float64)
            except (TypeError, ValueError) as exc:
                raise RecordSchemaError(
                    f"{claim_id}: record {i} has a non-numeric table or policy."
                ) from exc
            if table.ndim != 2 or policy.shape != table.shape:
                raise RecordSchemaError(
                    f"{claim_id}: record {i}: r_defender_table {table.shape} and "
                    f"defender_policy {policy.shape} must be matrices of the same shape."
                )
            if np.any(policy < -1e-9) or not np.allclose(policy.sum(axis=1), 1.0, atol=1e-6):
                raise RecordSchemaError(
                    f"{claim_id}: record {i}: each defender_policy row must sum to 1."
                )
            for a in range(table.shape[0]):
                rows.append(
                    {
                        "record": i,
                        "prompt": a,
                        "unsafe_mass": float(policy[a][table[a] < -SAFE_TOL].sum()),
                        "mean_reward": float(policy[a] @ table[a]),
                        "regret": float(table[a].max() - policy[a] @ table[a]),
                        "has_fallback": bool(table[a].max() >= -SAFE_TOL),
                    }
                )
        return "table", rows
    require_keys(records, ("attacker_action", "defender_action", "r_defender"), claim_id)
    by_prompt: dict[str, list[float]] = defaultdict(list)
    unsafe_actions: dict[str, set[str]] = defaultdict(set)
    for i, r in enumerate(records):
        reward = record_float(r, "r_defender", claim_id, i)
        by_prompt[str(r["attacker_action"])].append(reward)
        if reward < -SAFE_TOL:
            unsafe_actions[str(r["attacker_action"])].add(str(r["defender_action"]))
    rows = [
        {
            "prompt": prompt,
            "episodes": len(rewards),
            "unsafe_mass": float(np.mean(np.array(rewards) < -SAFE_TOL)),
            "mean_reward": float(np.mean(rewards)),
            "unsafe_responses": sorted(unsafe_actions[prompt])[:10],
            "has_fallback": None,
        }
        for prompt, rewards in sorted(by_prompt.items())
    ]
    return "episodes", rows


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

    Empirical records: see the module docstring. Episodes: passes when, for every
    attacker action, the fraction of sampled responses with ``r_defender < 0`` is at most
    ``tol`` (the premise cannot be checked from episodes and is assumed, e.g. a refusal
    judged Safe). Table: ``NOT_APPLICABLE`` if some row has no safe response; otherwise
    passes when every row's unsafe probability mass is at most ``tol``. A ``FAIL`` means
    the learned profile is not at an SPNE (GRPO does not compute exact best responses).
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
        if not records:
            return skipped(
                "no records: pass episodes (attacker_action, defender_action, r_defender) "
                "or tables (r_defender_table, defender_policy)"
            )
        form, rows = _parse_policy_records(records, self.id)
        if form == "table" and not all(r["has_fallback"] for r in rows):
            missing = [(r["record"], r["prompt"]) for r in rows if not r["has_fallback"]]
            return not_applicable(
                f"{len(missing)} prompts have no safe response, so Theorem 3.2 says nothing",
                {"prompts_without_fallback": missing[:10]},
            )
        worst = max(rows, key=lambda r: r["unsafe_mass"])
        ok = worst["unsafe_mass"] <= tol
        return verdict(
            ok,
            f"worst prompt's unsafe-response rate {worst['unsafe_mass']:.3g} "
            + ("<=" if ok else ">")
            + f" {tol:g} ({form}, {len(rows)} prompts)",
            {
                "form": form,
                "per_prompt": rows[:50],
                "worst": worst,
                "premise": "checked" if form == "table" else "assumed (not visible in episodes)",
            },
            tol,
        )


def behavioural_to_mixed(game: LeaderFollowerGame, policy: np.ndarray) -> np.ndarray:
    """The follower's normal-form mixed strategy whose behaviour is ``policy`` (product)."""
    maps = np.array(game.follower_strategies(), dtype=np.intp)
    rows = np.arange(game.num_leader_actions)
    return np.prod(policy[rows[None, :], maps], axis=1)


def most_unsafe_nash_defender(r_defender: np.ndarray, value: float) -> tuple[np.ndarray, float]:
    """LP: a defender maximin strategy of the zero-sum game with the most unsafe mass.

    In the zero-sum game where the attacker gets ``−r_D`` and the defender observes the
    prompt, the defender's equilibrium strategies are exactly the policies with
    ``E_{π(·|a)} r_D(a, ·) ≥ V`` for every ``a`` (``V`` the game value). Among them,
    maximise ``Σ_a Σ_{d: r_D(a,d) < 0} π(d|a)``.
    """
    n_a, n_d = r_defender.shape
    unsafe = (r_defender < -SAFE_TOL).astype(float).ravel()
    a_ub = np.zeros((n_a, n_a * n_d))
    a_eq = np.zeros((n_a, n_a * n_d))
    for a in range(n_a):
        a_ub[a, a * n_d : (a + 1) * n_d] = -r_defender[a]
        a_eq[a, a * n_d : (a + 1) * n_d] = 1.0
    res = linprog(
        -unsafe,
        A_ub=a_ub,
        b_ub=-np.full(n_a, value) + 1e-12,
        A_eq=a_eq,
        b_eq=np.ones(n_a),
        bounds=(0, 1),
        method="highs",
    )
    if res.status != 0:
        raise NumericalError(
            f"HiGHS could not solve the unsafe-mass LP ({res.message}). Fix: check the payoffs."
        )
    # drop the LP's feasibility-tolerance dust (HiGHS: ~1e-7) so supports are meaningful; the
    # caller re-verifies the cleaned policy with a best-response check
    policy = np.where(res.x.reshape(n_a, n_d) > LP_DUST, res.x.reshape(n_a, n_d), 0.0)
    policy /= policy.sum(axis=1, keepdims=True)
    return policy, float(policy.ravel() @ unsafe)


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

    Empirical records: as for :class:`MagicPointwiseSafetyClaim`. Passes when the weaker,
    in-expectation guarantee holds (every prompt's mean ``r_defender ≥ −tol``); the
    evidence says whether the learned policy is also pointwise safe.
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
        if not records:
            return skipped("no records: pass episodes or tables as for magic.thm3.2")
        form, rows = _parse_policy_records(records, self.id)
        worst = min(rows, key=lambda r: r["mean_reward"])
        pointwise = all(r["unsafe_mass"] <= tol for r in rows)
        ok = worst["mean_reward"] >= -tol
        kind = "pointwise safe" if pointwise else "safe only in expectation" if ok else "unsafe"
        return verdict(
            ok,
            f"worst prompt's mean r_D {worst['mean_reward']:.3g}; the policy is {kind}",
            {"form": form, "classification": kind, "worst": worst},
            tol,
        )
