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

The exploitability reported everywhere is :func:`theory.equilibria.exploitability`, so
numbers here are on the same scale as the equilibrium solvers' verification.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.integrate import solve_ivp

from theory.equilibria import best_response, exploitability, solve, solve_zero_sum
from theory.equilibria.best_response import normalize_profile
from theory.errors import InvalidGameError, UnsupportedGameError
from theory.games import SYMMETRY_TOL, ZERO_SUM_TOL, NormalFormGame

FloatArray = NDArray[np.float64]
Profile = tuple[FloatArray, ...]

__all__ = [
    "IterativeResult",
    "MetaStrategy",
    "PSROResult",
    "ReplicatorResult",
    "exact_best_response_oracle",
    "fictitious_play",
    "psro",
    "regret_matching",
    "replicator_dynamics",
]


# ---------------------------------------------------------------------------- helpers


def _uniform_profile(game: NormalFormGame) -> list[FloatArray]:
    return [np.full(n, 1.0 / n) for n in game.num_strategies]


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


# ---------------------------------------------------------------------------- results


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


# ---------------------------------------------------------------------------- fictitious play


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


# ---------------------------------------------------------------------------- regret matching


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


# ---------------------------------------------------------------------------- replicator


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


# ---------------------------------------------------------------------------- PSRO


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
