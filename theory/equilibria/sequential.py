"""Subgame-perfect equilibrium of a finite leader/follower game by backward induction.

The follower moves last, so in every subgame (every leader action ``a``) the follower
must play a best response to ``a``; the leader then picks the action whose induced
reply pays most. When the follower has several best responses the equilibrium depends
on which one it picks, so the rule is explicit (``tie_break``):

* ``"leader-favorable"``: among the follower's best responses, the one best for the
  leader (ties again: lowest index). This gives the *strong* Stackelberg outcome of the
  pure-commitment game.
* ``"leader-adverse"``: the one worst for the leader (the *weak*/pessimistic outcome).
* ``"first"``: the lowest-index best response.
* ``"uniform"``: the follower mixes uniformly over all its best responses (this is where
  the follower policy is mixed).

The leader's ties are broken towards the lowest index; ties are judged within
``TIE_TOL x payoff scale``. The result is checked before it is returned, independently
of the construction: the payoffs are recomputed from the policy, the policy must be a
best response in every subgame and the leader's action optimal against it within
``VERIFY_TOL x payoff scale`` (not ``TIE_TOL``), and when the normal form is small
(at most ``VERIFY_NORMAL_FORM_MAX`` follower strategies) the profile must also pass
:func:`~theory.equilibria.best_response.verify_equilibrium` there.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from theory.equilibria.best_response import VERIFY_TOL, verify_equilibrium
from theory.errors import InvalidGameError, NumericalError
from theory.games import LeaderFollowerGame

FloatArray = NDArray[np.float64]
TieBreak = Literal["leader-favorable", "leader-adverse", "first", "uniform"]
TIE_BREAKS: tuple[str, ...] = ("leader-favorable", "leader-adverse", "first", "uniform")
TIE_TOL = 1e-12
# Largest number of follower strategies (maps leader action -> reply) for which the
# result is also checked on the normal form.
VERIFY_NORMAL_FORM_MAX = 4096


@dataclass(frozen=True, eq=False)
class SPNESolution:
    """Leader's (pure, one-hot) strategy, follower's reply per leader action, payoffs.

    ``follower_policy[a]`` is the follower's (possibly mixed) reply to leader action
    ``a``; it is a best response in every subgame, including those off the path.
    """

    leader_strategy: FloatArray
    follower_policy: FloatArray
    leader_value: float
    follower_value: float

    @property
    def leader_action(self) -> int:
        return int(np.argmax(self.leader_strategy))


def spne(game: LeaderFollowerGame, tie_break: TieBreak | str = "leader-favorable") -> SPNESolution:
    """Backward induction with the explicit follower tie-breaking rule ``tie_break``."""
    if tie_break not in TIE_BREAKS:
        raise InvalidGameError(
            f"unknown tie_break {tie_break!r}. Fix: use one of {', '.join(TIE_BREAKS)}."
        )
    L, F = game.leader_payoffs, game.follower_payoffs
    n_lead, n_follow = L.shape
    tol = TIE_TOL * game.payoff_scale()
    best_reply_value = F.max(axis=1, keepdims=True)
    is_best = best_reply_value - tol <= F
    policy = np.zeros((n_lead, n_follow))
    rows = np.arange(n_lead)
    if tie_break == "uniform":
        policy[is_best] = 1.0
        policy /= policy.sum(axis=1, keepdims=True)
    else:
        if tie_break == "leader-favorable":
            score = np.where(is_best, L, -np.inf)
            target = score.max(axis=1, keepdims=True)
            choice = np.argmax(is_best & (score >= target - tol), axis=1)
        elif tie_break == "leader-adverse":
            score = np.where(is_best, L, np.inf)
            target = score.min(axis=1, keepdims=True)
            choice = np.argmax(is_best & (score <= target + tol), axis=1)
        else:  # first
            choice = np.argmax(is_best, axis=1)
        policy[rows, choice] = 1.0
    leader_values = (L * policy).sum(axis=1)
    action = int(np.argmax(leader_values >= leader_values.max() - tol))
    leader_strategy = np.zeros(n_lead)
    leader_strategy[action] = 1.0

    solution = SPNESolution(
        leader_strategy,
        policy,
        float(leader_values[action]),
        float((F * policy).sum(axis=1)[action]),
    )
    _verify_spne(game, solution)
    return solution


def _verify_spne(game: LeaderFollowerGame, solution: SPNESolution) -> None:
    """Raise :class:`NumericalError` unless ``solution`` is a subgame-perfect equilibrium.

    Recomputes everything from the payoffs and the returned strategies with the
    verification tolerance, so a slip in the construction (or in ``TIE_TOL``) is caught.
    """
    L, F = game.leader_payoffs, game.follower_payoffs
    policy = solution.follower_policy
    tol = VERIFY_TOL * game.payoff_scale()
    rows_ok = np.allclose(policy.sum(axis=1), 1.0) and bool(np.all(policy >= 0.0))
    follower_gain = F.max(axis=1) - np.einsum("ad,ad->a", F, policy)
    leader_values = np.einsum("ad,ad->a", L, policy)
    leader_gain = float(leader_values.max() - solution.leader_strategy @ leader_values)
    if not rows_ok or float(follower_gain.max()) > tol or leader_gain > tol:
        raise NumericalError(
            "backward induction produced a profile that is not subgame perfect (follower "
            f"gain {float(follower_gain.max()):.3g}, leader gain {leader_gain:.3g}); this is "
            "a bug."
        )
    n_lead, n_follow = L.shape
    if n_follow**n_lead > VERIFY_NORMAL_FORM_MAX:
        return
    # The follower's behaviour strategy as a mixed strategy over maps a -> d.
    maps = np.array(game.follower_strategies(), dtype=np.intp).reshape(-1, n_lead)
    mixed = np.prod(policy[np.arange(n_lead), maps], axis=1)
    verify_equilibrium(game.to_normal_form(), (solution.leader_strategy, mixed), method="SPNE")
