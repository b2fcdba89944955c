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
``TIE_TOL x payoff scale``. The result is checked before it is returned: the policy is a
best response in every subgame and the leader's action is optimal against it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from theory.errors import InvalidGameError, NumericalError
from theory.games import LeaderFollowerGame

FloatArray = NDArray[np.float64]
TieBreak = Literal["leader-favorable", "leader-adverse", "first", "uniform"]
TIE_BREAKS: tuple[str, ...] = ("leader-favorable", "leader-adverse", "first", "uniform")
TIE_TOL = 1e-12


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


def _scale(game: LeaderFollowerGame) -> float:
    spans = [float(np.ptp(game.leader_payoffs)), float(np.ptp(game.follower_payoffs))]
    return max(1.0, *spans)


def spne(game: LeaderFollowerGame, tie_break: TieBreak | str = "leader-favorable") -> SPNESolution:
    """Backward induction with the explicit follower tie-breaking rule ``tie_break``."""
    if tie_break not in TIE_BREAKS:
        raise InvalidGameError(
            f"unknown tie_break {tie_break!r}. Fix: use one of {', '.join(TIE_BREAKS)}."
        )
    L, F = game.leader_payoffs, game.follower_payoffs
    n_lead, n_follow = L.shape
    tol = TIE_TOL * _scale(game)
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

    # Check: the policy only uses best responses in every subgame, and the leader's
    # action is optimal against the policy.
    follower_values = (F * policy).sum(axis=1)
    if np.any(best_reply_value[:, 0] - follower_values > tol) or (
        leader_values.max() - leader_values[action] > tol
    ):  # pragma: no cover - guards the construction above
        raise NumericalError("backward induction produced a non-equilibrium; this is a bug.")
    return SPNESolution(
        leader_strategy,
        policy,
        float(leader_values[action]),
        float(follower_values[action]),
    )
