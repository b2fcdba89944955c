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
(von Stengel & Zamir 2010), which the tests check.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import OptimizeWarning, linprog

from theory.equilibria._polytope import positive_scaled
from theory.equilibria.best_response import VERIFY_TOL, normalize_profile
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


_TIGHT = {"primal_feasibility_tolerance": 1e-10, "dual_feasibility_tolerance": 1e-10}


def _commitment_lp(L: FloatArray, F: FloatArray, j: int) -> tuple[int, float, FloatArray | None]:
    """Best commitment that makes ``j`` a best response: ``(status, value, x)``.

    Tight tolerances first (so strategies 1e-7 worse are not treated as ties); if HiGHS
    reports a numerical failure there, the default tolerances are tried once more.
    """
    m, n = L.shape
    others = np.delete(np.arange(n), j)
    res = None
    for options in (_TIGHT, {}):
        res = linprog(
            -L[:, j],
            A_ub=(F[:, others] - F[:, [j]]).T if len(others) else None,
            b_ub=np.zeros(len(others)) if len(others) else None,
            A_eq=np.ones((1, m)),
            b_eq=[1.0],
            bounds=(0, None),
            method="highs",
            options=options,
        )
        if res.status in (0, 2):
            break
    assert res is not None
    if res.status == 0 and res.x is not None:
        return 0, float(-res.fun), np.asarray(res.x, dtype=np.float64)
    return int(res.status), float("nan"), None


def stackelberg_commitment(game: NormalFormGame, leader: int = 0) -> StackelbergSolution:
    """Strong Stackelberg equilibrium with ``leader`` (0 = row, 1 = column) committing.

    Verified before returning: ``follower_action`` is a best response to
    ``leader_strategy`` (within ``VERIFY_TOL x scale``).
    """
    A, B = require_two_players(game, "Stackelberg commitment")
    if leader not in (0, 1):
        raise InvalidGameError(f"leader must be 0 (row player) or 1 (column player), got {leader}.")
    L, F = (A, B) if leader == 0 else (B.T, A.T)
    n = L.shape[1]
    scale = game.payoff_scale()
    # Payoffs mapped to [1, 2]: the LPs see well-scaled coefficients whatever the units
    # (the shift adds the same constant to every LP's value, since x sums to one).
    L_unit, F_unit = positive_scaled(L), positive_scaled(F)
    best: tuple[float, int, FloatArray] | None = None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", OptimizeWarning)
        for j in range(n):
            status, value, x_j = _commitment_lp(L_unit, F_unit, j)
            if status == 2:  # infeasible: j is never a best response
                continue
            if x_j is None:
                raise NumericalError(
                    f"HiGHS failed on the Stackelberg LP for follower reply {j} (status "
                    f"{status}). Fix: rescale the payoffs or round near-ties."
                )
            if best is None or value > best[0] + 1e-12:
                best = (value, j, x_j)
    if best is None:  # pragma: no cover - some action is always a best response
        raise NumericalError("no follower action is a best response to any commitment.")
    _, reply, x = best
    (x,) = normalize_profile((x,))
    follower_payoffs = x @ F
    if follower_payoffs.max() - follower_payoffs[reply] > VERIFY_TOL * scale:
        raise NumericalError(
            "the Stackelberg reply is not a best response to the commitment (gap "
            f"{follower_payoffs.max() - follower_payoffs[reply]:.3g}); numerical failure."
        )
    return StackelbergSolution(x, reply, float(x @ L[:, reply]), float(follower_payoffs[reply]))
