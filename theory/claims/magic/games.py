"""MAGIC's games: samplers, the safe-fallback premise, SPNE and Nash-defender helpers.

Shared by :mod:`theory.claims.magic.pointwise` (Theorem 3.2) and
:mod:`theory.claims.magic.contrast` (the simultaneous-game contrast).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.optimize import linprog

from theory.equilibria.sequential import SPNESolution
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
