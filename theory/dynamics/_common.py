"""Profiles, initial strategies and the result type shared by the iterative dynamics."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from theory.equilibria.best_response import normalize_profile
from theory.errors import InvalidGameError
from theory.games import NormalFormGame

FloatArray = NDArray[np.float64]
Profile = tuple[FloatArray, ...]


def _uniform_profile(game: NormalFormGame) -> list[FloatArray]:
    return [np.full(n, 1.0 / n) for n in game.num_strategies]


def random_profile(game: NormalFormGame, seed: int | None = 0) -> list[FloatArray]:
    """A start drawn uniformly from each player's simplex (Dirichlet(1)), seeded.

    The default start of the dynamics, the uniform profile, is the equilibrium of
    symmetric games such as RPS and Shapley's game, so from it regret matching and the
    replicator dynamics never move; a random interior start shows what they do.
    """
    rng = np.random.default_rng(seed)
    return [rng.dirichlet(np.ones(n)) for n in game.num_strategies]


def _initial_profile(game: NormalFormGame, initial: Sequence[ArrayLike] | None) -> list[FloatArray]:
    if initial is None:
        return _uniform_profile(game)
    return [s.copy() for s in game.check_profile(initial)]


def _record_steps(iterations: int, record_every: int) -> set[int]:
    if iterations < 1:
        raise InvalidGameError(f"iterations must be at least 1, got {iterations}.")
    if record_every < 1:
        raise InvalidGameError(f"record_every must be at least 1, got {record_every}.")
    steps = set(range(record_every, iterations + 1, record_every))
    steps.add(iterations)
    return steps


def _as_profile(strategies: Sequence[FloatArray]) -> Profile:
    """A read-only profile for a result: projected onto the simplex, then frozen."""
    out = normalize_profile(strategies)
    for s in out:
        s.setflags(write=False)
    return out


@dataclass(frozen=True)
class IterativeResult:
    """Outcome of a discrete-time learning procedure.

    ``profile`` is the *average* strategy profile, which is what converges in theory
    (the last iterate of fictitious play and regret matching can cycle forever);
    ``last_iterate`` is the profile played in the final iteration. ``exploitability``
    holds the average profile's exploitability at each recorded iteration
    ``iterations[j]``.
    """

    profile: Profile
    last_iterate: Profile
    iterations: NDArray[np.int64]
    exploitability: FloatArray
    method: str

    @property
    def final_exploitability(self) -> float:
        return float(self.exploitability[-1])
