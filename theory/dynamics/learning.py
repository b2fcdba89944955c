"""Fictitious play and regret matching (RM and RM+) over normal-form games."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike

from theory.dynamics._common import (
    FloatArray,
    IterativeResult,
    _as_profile,
    _initial_profile,
    _record_steps,
)
from theory.equilibria import best_response, exploitability
from theory.errors import InvalidGameError
from theory.games import NormalFormGame


def fictitious_play(
    game: NormalFormGame,
    iterations: int = 1000,
    *,
    initial: Sequence[ArrayLike] | None = None,
    alternating: bool = False,
    record_every: int = 1,
) -> IterativeResult:
    """Discrete-time fictitious play.

    Each player's belief is the empirical average of the others' play, started from
    ``initial`` (default uniform) with weight one; each iteration every player plays a
    pure best response to those beliefs (ties: lowest index) and the averages are
    updated. With ``alternating=True`` players update one after the other, each
    responding to the averages already updated this iteration (usually faster).

    Convergence: to a Nash equilibrium in two-player zero-sum games (Robinson 1951),
    potential games, and 2 x n games; it can cycle in general-sum games (Shapley's
    example), which the returned exploitability trajectory will show.
    """
    steps = _record_steps(iterations, record_every)
    average = _initial_profile(game, initial)
    last = [s.copy() for s in average]
    recorded: list[int] = []
    values: list[float] = []
    for t in range(1, iterations + 1):
        weight = 1.0 / (t + 1)  # the initial belief counts as one observation
        if alternating:
            for i in range(game.num_players):
                last[i] = best_response(game, average, i)
                average[i] = average[i] + weight * (last[i] - average[i])
        else:
            last = [best_response(game, average, i) for i in range(len(average))]
            average = [a + weight * (b - a) for a, b in zip(average, last, strict=True)]
        if t in steps:
            recorded.append(t)
            values.append(float(exploitability(game, average)))
    return IterativeResult(
        profile=_as_profile(average),
        last_iterate=_as_profile(last),
        iterations=np.asarray(recorded, dtype=np.int64),
        exploitability=np.asarray(values),
        method="fictitious-play" + (" (alternating)" if alternating else ""),
    )


def _regret_strategy(regret: FloatArray) -> FloatArray:
    positive = np.maximum(regret, 0.0)
    total = positive.sum()
    if total <= 0.0:
        return np.full(regret.shape[0], 1.0 / regret.shape[0])
    return positive / total


def regret_matching(
    game: NormalFormGame,
    iterations: int = 1000,
    *,
    plus: bool = False,
    alternating: bool | None = None,
    averaging: Literal["uniform", "linear"] | None = None,
    initial: Sequence[ArrayLike] | None = None,
    record_every: int = 1,
) -> IterativeResult:
    """Full-information regret matching (Hart & Mas-Colell 2000), or RM+.

    Every iteration each player plays ``sigma_i`` proportional to its positive
    cumulative regret (uniform when none is positive), observes the payoff of every
    pure strategy against the others' current strategies, and adds
    ``u_i(a) - u_i(sigma)`` to the regret of ``a``.

    ``plus=True`` gives RM+ (Tammelin 2014): cumulative regrets are clipped at zero
    after each update. Its defaults follow the CFR+ recipe, alternating updates and
    linear averaging (iteration ``t`` weighted by ``t``), which converge much faster on
    zero-sum games; each can be overridden. Plain RM defaults to simultaneous updates and
    uniform averaging, the setting of the no-regret guarantee.

    In two-player zero-sum games the *average* strategies converge to a Nash
    equilibrium (exploitability ``O(1/sqrt(T))``); ``profile`` is that average. In
    other games no-regret learning only drives the time-average of the joint play
    towards the coarse correlated equilibria, and the product of the average strategies
    (what ``profile`` holds) is in general neither a coarse correlated nor a Nash
    equilibrium: read ``exploitability`` before using it. ``initial`` is the profile played in
    the first iteration (default: uniform, what zero regrets give, which is already the
    equilibrium of symmetric games such as RPS).
    """
    steps = _record_steps(iterations, record_every)
    if alternating is None:
        alternating = plus
    if averaging is None:
        averaging = "linear" if plus else "uniform"
    if averaging not in ("uniform", "linear"):
        raise InvalidGameError(f"averaging must be 'uniform' or 'linear', got {averaging!r}.")
    n_players = game.num_players
    regrets = [np.zeros(n) for n in game.num_strategies]
    sums = [np.zeros(n) for n in game.num_strategies]
    total_weight = 0.0
    recorded: list[int] = []
    values: list[float] = []

    def update(i: int) -> None:
        u = game.payoff_vector(current, i)
        regrets[i] = regrets[i] + (u - float(current[i] @ u))
        if plus:
            regrets[i] = np.maximum(regrets[i], 0.0)

    first = _initial_profile(game, initial)
    for t in range(1, iterations + 1):
        current = first if t == 1 else [_regret_strategy(r) for r in regrets]
        weight = float(t) if averaging == "linear" else 1.0
        for i in range(n_players):
            sums[i] += weight * current[i]
        total_weight += weight
        if alternating:
            for i in range(n_players):
                update(i)
                # the next player responds to this player's updated strategy
                current[i] = _regret_strategy(regrets[i])
        else:
            for i in range(n_players):
                update(i)
        if t in steps:
            recorded.append(t)
            values.append(float(exploitability(game, [s / total_weight for s in sums])))
    name = "regret-matching+" if plus else "regret-matching"
    return IterativeResult(
        profile=_as_profile([s / total_weight for s in sums]),
        last_iterate=_as_profile([_regret_strategy(r) for r in regrets]),
        iterations=np.asarray(recorded, dtype=np.int64),
        exploitability=np.asarray(values),
        method=f"{name} ({'alternating' if alternating else 'simultaneous'}, {averaging})",
    )
