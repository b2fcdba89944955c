"""Policy-Space Response Oracles with any best-response oracle."""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from theory.dynamics._common import (
    FloatArray,
    Profile,
    _as_profile,
    _uniform_profile,
)
from theory.dynamics.learning import (
    regret_matching,
)
from theory.equilibria import best_response, exploitability, solve, solve_zero_sum
from theory.errors import InvalidGameError, UnsupportedGameError
from theory.games import ZERO_SUM_TOL, NormalFormGame


@dataclass(frozen=True)
class MetaStrategy:
    """The current restricted game's solution, as the oracle sees it.

    ``populations[j]`` lists player ``j``'s policies so far (any objects: strategy
    indices for a game given in full, trained agents otherwise) and ``weights[j]`` the
    meta-solver's probability for each. An oracle for player ``i`` should best-respond
    to the mixture of the *other* players, :meth:`opponents`.
    """

    populations: tuple[tuple[Any, ...], ...]
    weights: tuple[FloatArray, ...]
    restricted_payoffs: FloatArray

    def opponents(self, player: int) -> list[tuple[tuple[Any, ...], FloatArray]]:
        """``(policies, weights)`` of every player except ``player``, in player order."""
        return [
            (self.populations[j], self.weights[j])
            for j in range(len(self.populations))
            if j != player
        ]


Oracle = Callable[[MetaStrategy, int], Any]
PayoffFn = Callable[[tuple[Any, ...]], ArrayLike]
MetaSolver = (
    Literal["nash", "uniform", "regret-matching"] | Callable[[NormalFormGame], Sequence[ArrayLike]]
)


@dataclass(frozen=True)
class PSROResult:
    """Outcome of :func:`psro`.

    ``exploitability[j]`` is the exact exploitability in the full game of the meta
    strategy after iteration ``j`` (NaN when only a payoff function was given), and
    ``oracle_nash_conv[j]`` the oracle's estimate of it: the sum over players of what
    their new policy gains against the others' meta strategy (PSRO's usual convergence
    signal, exact when the oracle is an exact best response). Entry ``j`` describes the
    meta strategy solved on the populations of iteration ``j`` (entry 0: the initial
    policies).
    """

    populations: tuple[tuple[Any, ...], ...]
    meta_strategy: Profile
    restricted_game: NormalFormGame
    exploitability: FloatArray
    oracle_nash_conv: FloatArray
    population_sizes: NDArray[np.int64]
    converged: bool
    profile: Profile | None

    @property
    def final_exploitability(self) -> float:
        return float(self.exploitability[-1])


def exact_best_response_oracle(game: NormalFormGame) -> Oracle:
    """The oracle of a game given in full: policies are strategy indices.

    It maps the opponents' meta strategies onto full-game mixed strategies and returns
    the index of a pure best response (:func:`theory.equilibria.best_response`).
    """

    def oracle(meta: MetaStrategy, player: int) -> int:
        profile = _full_profile(game, meta.populations, meta.weights)
        return int(np.argmax(best_response(game, profile, player)))

    return oracle


def _full_profile(
    game: NormalFormGame,
    populations: Sequence[Sequence[Any]],
    weights: Sequence[FloatArray],
) -> list[FloatArray]:
    out = []
    for n, pop, w in zip(game.num_strategies, populations, weights, strict=True):
        full = np.zeros(n)
        np.add.at(full, np.asarray(pop, dtype=np.intp), w)
        out.append(full / full.sum())
    return out


def _solve_meta(restricted: NormalFormGame, meta_solver: MetaSolver) -> list[FloatArray]:
    if callable(meta_solver):
        return [
            np.asarray(s, dtype=np.float64)
            for s in restricted.check_profile(meta_solver(restricted))
        ]
    if meta_solver == "uniform":
        return _uniform_profile(restricted)
    if meta_solver == "regret-matching":
        res = regret_matching(restricted, 2000, plus=True, record_every=2000)
        return list(res.profile)
    if meta_solver == "nash":
        if restricted.num_players == 2 and restricted.is_zero_sum(ZERO_SUM_TOL):
            sol = solve_zero_sum(restricted.payoffs[0])
            return [np.asarray(sol.row), np.asarray(sol.col)]
        if restricted.num_players == 2:
            return list(solve(restricted).equilibria[0].strategies)
        raise UnsupportedGameError(
            f"meta_solver='nash' supports two-player games; this one has "
            f"{restricted.num_players}. Fix: use meta_solver='regret-matching' (the RM+ "
            "average strategies, an approximate Nash only in two-player zero-sum games) or "
            "pass your own callable."
        )
    raise InvalidGameError(
        f"unknown meta_solver {meta_solver!r}. Fix: use 'nash', 'uniform', "
        "'regret-matching' or a callable(NormalFormGame) -> profile."
    )


def _oracle_gain(
    expanded: FloatArray, meta: Sequence[FloatArray], new_index: Sequence[int]
) -> float:
    """Sum over players of the new policy's gain against the others' meta strategy.

    ``expanded`` is the restricted payoff tensor after the oracle's policies were added;
    ``meta`` the meta strategy solved before, padded with zeros for the new policies.
    """
    game = NormalFormGame(expanded)
    padded = [
        np.concatenate([w, np.zeros(n - len(w))])
        for w, n in zip(meta, game.num_strategies, strict=True)
    ]
    value = game.expected_payoffs(padded)
    gain = 0.0
    for i, a in enumerate(new_index):
        gain += max(0.0, float(game.payoff_vector(padded, i)[a] - value[i]))
    return gain


def psro(
    game_or_payoff_fn: NormalFormGame | PayoffFn,
    oracle: Oracle | None = None,
    *,
    initial_policies: Sequence[Sequence[Any]] | None = None,
    num_players: int | None = None,
    iterations: int = 50,
    meta_solver: MetaSolver = "nash",
    tol: float = 1e-9,
    policy_key: Callable[[Any], Hashable] | None = None,
) -> PSROResult:
    """Policy-Space Response Oracles (Lanctot et al. 2017), double oracle as a special case.

    Loop: solve the restricted game on the current populations with ``meta_solver``;
    ask ``oracle(meta, i)`` for a new policy for every player ``i`` (a best response to
    the others' meta strategy); evaluate the new payoff entries; repeat.

    ``game_or_payoff_fn`` is either

    * a :class:`NormalFormGame`: policies are strategy indices, the payoffs are read
      from the game, the default oracle is :func:`exact_best_response_oracle` (PSRO is
      then the double-oracle algorithm), and the exact full-game exploitability of each
      meta strategy is recorded; or
    * a callable ``payoff_fn(policy_profile) -> payoffs`` (one payoff per player), for
      policies that exist only as objects (trained agents); then ``oracle``,
      ``initial_policies`` and ``num_players`` (or ``initial_policies`` alone) are
      required and only the oracle's NashConv estimate is recorded.

    ``iterations`` bounds the number of oracle rounds (each asks every player's oracle
    once); the restricted game is solved once more after the last round.

    A returned policy already in the population (compared by ``policy_key``, default
    the policy itself for indices, identity otherwise) is not added twice. The loop
    stops early when the oracle's NashConv estimate is at most ``tol``
    (``converged=True``), or when no player's oracle adds a new policy: the populations
    can then no longer change. That counts as convergence only for ``meta_solver="nash"``
    (the meta strategy is a Nash equilibrium of the restricted game and no oracle
    policy beats it); any other meta solver must also have a NashConv estimate at most
    ``tol``, since e.g. a uniform mixture can stay exploitable by policies already in
    the population. With an exact oracle, ``converged=True`` means the meta strategy is
    a Nash equilibrium of the full game.

    ``meta_solver``: ``"nash"`` (LP for two-player zero-sum, else the first equilibrium
    of :func:`theory.equilibria.solve`; two players only), ``"uniform"`` (fictitious
    self-play), ``"regret-matching"`` (RM+ average, any number of players), or a
    callable ``(restricted NormalFormGame) -> profile``.
    """
    full_game: NormalFormGame | None
    if isinstance(game_or_payoff_fn, NormalFormGame):
        full_game = game_or_payoff_fn
        n_players = full_game.num_players
        payoff_tensor = full_game.payoffs
        shape = full_game.num_strategies

        def table_payoffs(profile: tuple[Any, ...]) -> ArrayLike:
            column = payoff_tensor.reshape(n_players, -1)
            flat = np.ravel_multi_index(tuple(int(a) for a in profile), shape)
            return column[:, flat]

        payoff_fn: PayoffFn = table_payoffs

        if oracle is None:
            oracle = exact_best_response_oracle(full_game)
        if initial_policies is None:
            initial_policies = [[0] for _ in range(n_players)]
        for i, pop in enumerate(initial_policies):
            for a in pop:
                if not 0 <= int(a) < full_game.num_strategies[i]:
                    raise InvalidGameError(
                        f"initial policy {a} of player {i + 1} is not a strategy index of "
                        f"the game (0..{full_game.num_strategies[i] - 1})."
                    )
        key: Callable[[Any], Hashable] = policy_key or (lambda p: int(p))
    else:
        full_game = None
        payoff_fn = game_or_payoff_fn
        if oracle is None or initial_policies is None:
            raise InvalidGameError(
                "psro() with a payoff function needs an oracle and initial_policies. "
                "Fix: pass oracle=callable(meta, player) -> policy and "
                "initial_policies=[[policy of player 1], [policy of player 2], ...]."
            )
        n_players = len(initial_policies) if num_players is None else num_players
        key = policy_key or (lambda p: id(p))
    if len(initial_policies) != n_players or any(len(p) == 0 for p in initial_policies):
        raise InvalidGameError(
            f"initial_policies needs a non-empty list of policies for each of the "
            f"{n_players} players."
        )
    if iterations < 0:
        raise InvalidGameError(f"iterations must be non-negative, got {iterations}.")

    populations: list[list[Any]] = [list(p) for p in initial_policies]
    keys: list[list[Hashable]] = [[key(p) for p in pop] for pop in populations]
    cache: dict[tuple[int, ...], FloatArray] = {}

    def restricted_tensor() -> FloatArray:
        sizes = tuple(len(p) for p in populations)
        tensor = np.empty((n_players, *sizes))
        for idx in np.ndindex(*sizes):
            if idx not in cache:
                value = np.asarray(
                    payoff_fn(tuple(populations[j][idx[j]] for j in range(n_players))),
                    dtype=np.float64,
                ).reshape(-1)
                if value.shape != (n_players,):
                    raise InvalidGameError(
                        f"payoff_fn returned {value.size} payoffs for a {n_players}-player "
                        "profile. Fix: return one payoff per player."
                    )
                cache[idx] = value
            tensor[(slice(None), *idx)] = cache[idx]
        return tensor

    exploit: list[float] = []
    nash_conv: list[float] = []
    sizes_log: list[int] = []
    converged = False
    stop_after_solve = False
    while True:
        tensor = restricted_tensor()
        restricted = NormalFormGame(tensor)
        meta = _solve_meta(restricted, meta_solver)
        sizes_log.append(sum(len(p) for p in populations))
        exploit.append(
            math.nan
            if full_game is None
            else float(exploitability(full_game, _full_profile(full_game, populations, meta)))
        )
        if stop_after_solve or len(nash_conv) == iterations:
            nash_conv.append(math.nan)  # the oracle is not asked about the final meta strategy
            break
        view = MetaStrategy(
            populations=tuple(tuple(p) for p in populations),
            weights=tuple(np.asarray(w) for w in meta),
            restricted_payoffs=tensor,
        )
        new_index: list[int] = []
        added = False
        for i in range(n_players):
            policy = oracle(view, i)
            k = key(policy)
            if k in keys[i]:
                new_index.append(keys[i].index(k))
            else:
                populations[i].append(policy)
                keys[i].append(k)
                new_index.append(len(populations[i]) - 1)
                added = True
        nash_conv.append(_oracle_gain(restricted_tensor(), meta, new_index))
        if not added:
            # Nothing new, so the populations (and the meta strategy) can no longer change.
            # Only a Nash meta strategy is then an equilibrium of the game the oracle sees;
            # a uniform or regret-matching one may still be beaten by a policy it holds.
            converged = meta_solver == "nash" or nash_conv[-1] <= tol
            break
        if nash_conv[-1] <= tol:
            converged = True
            stop_after_solve = True  # re-solve once so the result matches the populations
    return PSROResult(
        populations=tuple(tuple(p) for p in populations),
        meta_strategy=_as_profile(meta),
        restricted_game=restricted,
        exploitability=np.asarray(exploit),
        oracle_nash_conv=np.asarray(nash_conv),
        population_sizes=np.asarray(sizes_log, dtype=np.int64),
        converged=converged,
        profile=None
        if full_game is None
        else _as_profile(_full_profile(full_game, populations, meta)),
    )
