"""Replicator dynamics integrated with scipy's solve_ivp."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from scipy.integrate import solve_ivp

from theory.dynamics._common import (
    FloatArray,
    Profile,
    _as_profile,
    _initial_profile,
)
from theory.equilibria import exploitability
from theory.equilibria.best_response import normalize_profile
from theory.errors import InvalidGameError, UnsupportedGameError
from theory.games import SYMMETRY_TOL, NormalFormGame


@dataclass(frozen=True)
class ReplicatorResult:
    """Trajectory of the replicator ODE.

    ``trajectory[i]`` has shape ``(len(times), n_i)``: player ``i``'s mixed strategy at
    each time (for a single population every entry is the same population state).
    ``exploitability[j]`` is the exploitability of the profile at ``times[j]``.
    """

    times: FloatArray
    trajectory: tuple[FloatArray, ...]
    exploitability: FloatArray
    population: Literal["single", "multi"]
    success: bool
    message: str

    @property
    def profile(self) -> Profile:
        """The final state, as a profile of the underlying game."""
        return _as_profile([t[-1] for t in self.trajectory])

    @property
    def final_exploitability(self) -> float:
        return float(self.exploitability[-1])


def _symmetric_matrix(game: NormalFormGame) -> FloatArray:
    if game.num_players != 2:
        raise UnsupportedGameError(
            f"single-population replicator dynamics needs a symmetric two-player game; this "
            f"one has {game.num_players} players. Fix: use population='multi'."
        )
    if not game.is_symmetric():
        raise UnsupportedGameError(
            "single-population replicator dynamics needs a symmetric game (B == A.T within "
            f"{SYMMETRY_TOL:g} x the payoff scale). "
            "Fix: use population='multi', or symmetrise the game."
        )
    return np.asarray(game.payoffs[0], dtype=np.float64)


def replicator_dynamics(
    game: NormalFormGame,
    initial: Any = None,
    *,
    t_max: float = 50.0,
    num_points: int = 501,
    population: Literal["single", "multi"] = "multi",
    method: str = "LSODA",
    rtol: float = 1e-9,
    atol: float = 1e-12,
) -> ReplicatorResult:
    """Integrate the replicator dynamics with :func:`scipy.integrate.solve_ivp`.

    Multi-population (one population per player, any number of players):
    ``dx_i(a)/dt = x_i(a) * (u_i(a, x_-i) - u_i(x))``.

    Single population (a symmetric two-player game, ``B == A.T``, one population
    playing against itself): ``dx(a)/dt = x(a) * ((A x)(a) - x^T A x)``. ``initial``
    is then one strategy (or a profile whose first entry is used).

    The default start is the uniform profile, which is a rest point of symmetric games
    such as RPS: pass an interior ``initial`` to see motion. ``method`` is any
    ``solve_ivp`` method; LSODA switches to a stiff solver when the flow approaches the
    boundary, which dominance games do exponentially fast. Tight tolerances keep
    constants of motion (e.g. ``sum(log x)`` in RPS) conserved to about ``1e-6``.
    States are clipped to be non-negative and renormalised before being reported.
    """
    if t_max <= 0 or num_points < 2:
        raise InvalidGameError(
            f"need t_max > 0 and num_points >= 2, got t_max={t_max}, num_points={num_points}."
        )
    times = np.linspace(0.0, float(t_max), int(num_points))
    if population == "single":
        matrix = _symmetric_matrix(game)
        n = matrix.shape[0]
        if initial is None:
            x0 = np.full(n, 1.0 / n)
        else:
            start = np.asarray(initial, dtype=np.float64)
            first = start[0] if start.ndim == 2 else start  # a profile (x, x) or just x
            x0 = game.check_profile([first, first])[0]

        def single_rhs(_t: float, x: FloatArray) -> FloatArray:
            fitness = matrix @ x
            return np.asarray(x * (fitness - x @ fitness), dtype=np.float64)

        sol = solve_ivp(
            single_rhs, (0.0, float(t_max)), x0, t_eval=times, method=method, rtol=rtol, atol=atol
        )
        states = np.vstack(normalize_profile(list(sol.y.T)))
        trajectory: tuple[FloatArray, ...] = (states, states)
    elif population == "multi":
        sizes = game.num_strategies
        cuts = np.cumsum(sizes)[:-1]
        x0 = np.concatenate(_initial_profile(game, initial))

        def multi_rhs(_t: float, z: FloatArray) -> FloatArray:
            parts = np.split(z, cuts)
            out = []
            for i, x in enumerate(parts):
                # integrator states drift off the simplex by ~atol: project them back
                u = game.payoff_vector(normalize_profile(parts), i)
                out.append(x * (u - x @ u))
            return np.concatenate(out)

        sol = solve_ivp(
            multi_rhs, (0.0, float(t_max)), x0, t_eval=times, method=method, rtol=rtol, atol=atol
        )
        trajectory = tuple(
            np.vstack(normalize_profile(list(part.T))) for part in np.split(sol.y, cuts, axis=0)
        )
    else:
        raise InvalidGameError(f"population must be 'single' or 'multi', got {population!r}.")
    reached = np.asarray(sol.t, dtype=np.float64)
    values = np.array(
        [exploitability(game, [t[j] for t in trajectory]) for j in range(reached.shape[0])]
    )
    return ReplicatorResult(
        times=reached,
        trajectory=trajectory,
        exploitability=values,
        population=population,
        success=bool(sol.success),
        message=str(sol.message),
    )
