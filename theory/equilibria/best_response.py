"""Best responses, NashConv and exploitability for any profile of any normal-form game.

Conventions (the same as OpenSpiel's ``exploitability.py``):

* ``nash_conv(game, profile) = sum_i [max_a u_i(a, profile_-i) - u_i(profile)]``, the total
  amount the players could gain by deviating unilaterally. It is zero exactly at a
  Nash equilibrium.
* ``exploitability(game, profile) = nash_conv(game, profile) / num_players``, the average
  gain. In a two-player zero-sum game this is half the duality gap
  ``max_i (A y)_i - min_j (x^T A)_j``.

These are the checks every solver in :mod:`theory.equilibria` runs before returning a
profile (see :func:`verify_equilibrium`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from theory.errors import InvalidGameError, NumericalError
from theory.games import NormalFormGame

FloatArray = NDArray[np.float64]

# An equilibrium is accepted when its NashConv is at most VERIFY_TOL x the game's
# payoff scale (largest payoff range, at least 1). Exact methods reach ~1e-14 on
# well-conditioned games; 1e-9 leaves room for ill-conditioned supports without
# accepting anything that is not an equilibrium to printing precision.
VERIFY_TOL = 1e-9


@dataclass(frozen=True, eq=False)
class Equilibrium:
    """A verified (approximate) Nash equilibrium.

    ``strategies`` holds one probability vector per player, in the game's strategy
    order; ``exploitability`` is :func:`exploitability` of that profile (NashConv / N).
    """

    strategies: tuple[FloatArray, ...]
    exploitability: float

    def __repr__(self) -> str:
        body = ", ".join(
            np.array2string(s, precision=4, suppress_small=True) for s in self.strategies
        )
        return f"Equilibrium(({body}), exploitability={self.exploitability:.3g})"


def _player_index(game: NormalFormGame, player: int) -> int:
    if not 0 <= player < game.num_players:
        raise InvalidGameError(
            f"player index {player} is out of range for a {game.num_players}-player game "
            "(players are numbered from 0)."
        )
    return player


def best_response_values(
    game: NormalFormGame, profile: Sequence[ArrayLike], player: int
) -> FloatArray:
    """``player``'s payoff for each pure strategy against the others' mixed strategies."""
    return game.payoff_vector(profile, _player_index(game, player))


def best_response(game: NormalFormGame, profile: Sequence[ArrayLike], player: int) -> FloatArray:
    """A pure best response of ``player`` to ``profile`` as a one-hot vector.

    Ties are broken towards the lowest strategy index, so the answer is deterministic.
    """
    values = best_response_values(game, profile, player)
    out = np.zeros(values.shape[0])
    out[int(np.argmax(values))] = 1.0
    return out


def deviation_gains(game: NormalFormGame, profile: Sequence[ArrayLike]) -> FloatArray:
    """Each player's gain from a best response: ``max_a u_i(a, s_-i) - u_i(s)``, shape (N,)."""
    sigmas = game.check_profile(profile)
    gains = np.empty(game.num_players)
    if game.num_players == 2:
        # The payoff vectors A y and x^T B directly (what payoff_vector computes for two
        # players, without re-checking the profile): solvers verify every equilibrium
        # they return, so this is on their hot path.
        x, y = sigmas
        for i, values in enumerate((game.payoffs[0] @ y, x @ game.payoffs[1])):
            gains[i] = float(values.max() - values @ sigmas[i])
        return np.maximum(gains, 0.0)
    for i in range(game.num_players):
        values = game.payoff_vector(sigmas, i)
        gains[i] = float(values.max() - values @ sigmas[i])
    # A best response can never do worse than the profile itself; tiny negatives are
    # rounding error.
    return np.maximum(gains, 0.0)


def nash_conv(game: NormalFormGame, profile: Sequence[ArrayLike]) -> float:
    """Sum over players of the gain from deviating to a best response."""
    return float(deviation_gains(game, profile).sum())


def exploitability(game: NormalFormGame, profile: Sequence[ArrayLike]) -> float:
    """``nash_conv / num_players`` (OpenSpiel's convention; half the gap in 2-player games)."""
    return nash_conv(game, profile) / game.num_players


def normalize_profile(profile: Sequence[ArrayLike]) -> tuple[FloatArray, ...]:
    """Clip rounding negatives to zero and renormalise each strategy to sum to one."""
    out = []
    for sigma in profile:
        s = np.clip(np.asarray(sigma, dtype=np.float64).reshape(-1), 0.0, None)
        total = float(s.sum())
        if not total > 0 or not np.isfinite(total):
            raise NumericalError(
                "a solver produced a strategy with no positive weight; this is a bug or an "
                "extremely ill-conditioned game. Fix: rescale the payoffs or try another method."
            )
        s = s / total
        s[s < 1e-15] = 0.0
        out.append(s / s.sum())
    return tuple(out)


def verify_equilibrium(
    game: NormalFormGame,
    profile: Sequence[ArrayLike],
    *,
    tol: float = VERIFY_TOL,
    method: str = "",
) -> Equilibrium:
    """Best-response check: return the profile as an :class:`Equilibrium` or raise.

    Raises :class:`NumericalError` when some player can gain more than
    ``tol x game.payoff_scale()`` by deviating, so an unverified profile never leaves
    this package.
    """
    strategies = normalize_profile(profile)
    gain = nash_conv(game, strategies)
    limit = tol * game.payoff_scale()
    # Test for acceptance, not rejection: "gain > limit" is False for a NaN gain, and an
    # infinite limit (a payoff range that overflowed) would accept any profile.
    if not (np.isfinite(gain) and np.isfinite(limit) and gain <= limit):
        label = f"{method} " if method else ""
        raise NumericalError(
            f"the {label}solver returned a profile with NashConv {gain:.3g}, above the "
            f"verification tolerance {limit:.3g}; it is not returned. "
            "Fix: try another method (e.g. 'vertex') or rescale the payoffs."
        )
    return Equilibrium(strategies, gain / game.num_players)


def is_equilibrium(
    game: NormalFormGame, profile: Sequence[ArrayLike], tol: float = VERIFY_TOL
) -> bool:
    """Whether ``profile`` passes the best-response check at tolerance ``tol`` x scale."""
    gain, limit = nash_conv(game, profile), tol * game.payoff_scale()
    return bool(np.isfinite(gain) and np.isfinite(limit) and gain <= limit)
