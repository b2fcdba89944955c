"""Learning dynamics and meta-solvers on normal-form games.

Four procedures that a tournament or a training loop can use to move a population of
strategies towards equilibrium, each returning a typed result that carries the
trajectory of exploitability so convergence (or its absence) can be plotted and tested:

* :func:`fictitious_play`: every player best-responds to the empirical average of the
  others' past play (Brown 1951). The averages converge to a Nash equilibrium in
  two-player zero-sum games (Robinson 1951), but not in general.
* :func:`regret_matching`: each player plays in proportion to positive cumulative
  regret (Hart & Mas-Colell 2000), optionally RM+ (Tammelin 2014: regrets clipped at
  zero, linear averaging, alternating updates), which is much faster in practice. The
  average strategies converge to a Nash equilibrium in two-player zero-sum games; in
  general games only the time-average of the *joint* play approaches the coarse
  correlated equilibria, and the product of the average strategies returned here need
  not be one.
* :func:`replicator_dynamics`: the continuous-time replicator ODE integrated with
  :func:`scipy.integrate.solve_ivp`, single- or multi-population. It cycles in
  Rock-Paper-Scissors (a constant of motion is conserved) and converges to the
  dominant strategy in dominance-solvable games.
* :func:`psro`: Policy-Space Response Oracles (Lanctot et al. 2017). The loop only
  ever touches policies through a payoff function and a best-response *oracle*, so a
  trained agent (an RL learner, an LLM fine-tuned against the current mixture) can be
  plugged in later; :func:`exact_best_response_oracle` is the oracle for a game given
  in full.

Every procedure but PSRO starts from the uniform profile unless given ``initial``; that
is the equilibrium (a rest point) of RPS-like games, so :func:`random_profile` draws a
seeded interior start instead.

The exploitability reported everywhere is :func:`theory.equilibria.exploitability`, so
numbers here are on the same scale as the equilibrium solvers' verification.
"""

from __future__ import annotations

from theory.dynamics._common import (
    IterativeResult,
    random_profile,
)
from theory.dynamics.learning import (
    fictitious_play,
    regret_matching,
)
from theory.dynamics.psro import (
    MetaStrategy,
    PSROResult,
    exact_best_response_oracle,
    psro,
)
from theory.dynamics.replicator import (
    ReplicatorResult,
    replicator_dynamics,
)

__all__ = [
    "IterativeResult",
    "MetaStrategy",
    "PSROResult",
    "ReplicatorResult",
    "exact_best_response_oracle",
    "fictitious_play",
    "psro",
    "random_profile",
    "regret_matching",
    "replicator_dynamics",
]
