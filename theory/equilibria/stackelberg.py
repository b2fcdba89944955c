"""Optimal (strong Stackelberg) commitment in a two-player normal-form game.

The leader commits to a mixed strategy ``x``; the follower observes it and plays a pure
best response, breaking ties in the leader's favour (the *strong* Stackelberg
equilibrium, the standard solution concept: von Stengel & Zamir 2010). Conitzer &
Sandholm (2006) compute it with one LP per follower action ``j``:

    maximise  x^T L[:, j]
    subject to  x^T F[:, j] >= x^T F[:, j']  for every j',   x in the simplex,

i.e. the best commitment that makes ``j`` a best response; the answer is the best
feasible LP over ``j``. Because the follower is indifferent at the LP optimum whenever a
constraint binds, tie-breaking in the leader's favour is exactly what makes that optimum
attained. The leader's value is at least any Nash equilibrium payoff of the leader
(von Stengel & Zamir 2010, Theorem 1), which the tests check.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import OptimizeWarning, linprog

from theory.equilibria.best_response import VERIFY_TOL
from theory.equilibria.general_sum import require_two_players
from theory.errors import InvalidGameError, NumericalError
from theory.games import NormalFormGame

FloatArray = NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class StackelbergSolution:
    """The leader's optimal commitment, the follower's reply and both players' payoffs."""

    leader_strategy: FloatArray
    follower_action: int
    leader_value: float
    follower_value: float


def stackelberg_commitment(game: NormalFormGame, leader: int = 0) -> StackelbergSolution:
    """Strong Stackelberg equilibrium with ``leader`` (0 = row, 1 = column) committing.

    Verified before returning: ``follower_action`` is a best response to
    ``leader_strategy`` (within ``VERIFY_TOL x scale``).
    """
    A, B = require_two_players(game, "Stackelberg commitment")
    if leader not in (0, 1):
        raise InvalidGameError(f"leader must be 0 (row player) or 1 (column player), got {leader}.")
    L, F = (A, B) if leader == 0 else (B.T, A.T)
    m, n = L.shape
    scale = game.payoff_scale()
    best: tuple[float, int, FloatArray] | None = None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", OptimizeWarning)
        for j in range(n):
            # x^T (F[:, j'] - F[:, j]) <= 0 for every j' != j.
            others = np.delete(np.arange(n), j)
            res = linprog(
                -L[:, j],
                A_ub=(F[:, others] - F[:, [j]]).T if len(others) else None,
                b_ub=np.zeros(len(others)) if len(others) else None,
                A_eq=np.ones((1, m)),
                b_eq=[1.0],
                bounds=(0, None),
                method="highs",
            )
            if res.status == 2:  # infeasible: j is never a best response
                continue
            if res.status != 0 or res.x is None:
                raise NumericalError(f"HiGHS failed on the Stackelberg LP for reply {j}: {res.message}")
            value = float(-res.fun)
            if best is None or value > best[0] + 1e-12 * scale:
                best = (value, j, np.asarray(res.x, dtype=np.float64))
    if best is None:  # pragma: no cover - some action is always a best response
        raise NumericalError("no follower action is a best response to any commitment.")
    _, reply, x = best
    x = np.clip(x, 0.0, None)
    x /= x.sum()
    follower_payoffs = x @ F
    if follower_payoffs.max() - follower_payoffs[reply] > VERIFY_TOL * scale:
        raise NumericalError(
            "the Stackelberg reply is not a best response to the commitment (gap "
            f"{follower_payoffs.max() - follower_payoffs[reply]:.3g}); numerical failure."
        )
    return StackelbergSolution(x, reply, float(x @ L[:, reply]), float(follower_payoffs[reply]))
