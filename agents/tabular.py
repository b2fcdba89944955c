"""The ``tabular`` agent kind: mixed strategies over a ``Discrete`` action space.

Spec strings:

* ``tabular:uniform`` — every action of the seat's ``Discrete(n)`` with probability 1/n.
* ``tabular:nash`` — this seat's strategy in one equilibrium of the environment's exact
  normal form (``context.game()``, i.e. the env's ``to_normal_form()``), the same in
  every round and whatever it observes. Options:

  ==================  ========================================================  =======
  option              meaning                                                   default
  ==================  ========================================================  =======
  ``method``          ``auto``, ``lp``, ``vertex``, ``support``,                 auto
                      ``lemke-howson``, ``first-order`` or ``pure``
  ``equilibrium``     which equilibrium of the method's list (0-based)          0
  ``label``           Lemke-Howson's initial dropped label (0 .. m+n-1)         0
  ==================  ========================================================  =======

  ``auto`` picks as :func:`theory.equilibria.solve` does: a two-player zero-sum game
  gets the LP's maximin strategy (every equilibrium of a zero-sum game has the same
  value and maximin strategies are interchangeable, so each seat can solve on its
  own); a two-player general-sum game with ``C(m+n, m) <= AUTO_ENUMERATION`` (about
  10x10) gets the *first* equilibrium of vertex enumeration, whose list theory sorts
  pure equilibria first, then by support size, then lexicographically (larger
  probability on lower indices first); larger two-player games get the equilibrium
  Lemke-Howson reaches from label ``0`` (one path, no time limit, so the answer never
  depends on machine speed, unlike ``solve``'s every-label search); games with more
  than two players get the first pure equilibrium. ``vertex``, ``support``, ``pure``,
  ``lp`` and ``first-order`` give the ``equilibrium``-th entry of the list
  ``arena theory solve --method M`` prints. Both seats of a match solve the same game
  with the same deterministic rule, so a ``tabular:nash`` pair plays one equilibrium.
* ``tabular:FILE`` — a strategy table read from ``FILE`` (``.json`` or ``.npz``; write
  ``tabular:./uniform`` for a file literally named ``uniform``). Formats below.

Observation keys (:func:`observation_key`)
------------------------------------------
A table maps observation keys to strategies. The key of a ``str`` is the string itself;
of an integer (or bool) its decimal digits; of a number, numpy array, list or tuple its
values, flattened in C order and joined by ``,`` with no spaces, each integral value
written as an integer (``1.0`` -> ``1``, ``-0.0`` -> ``0``) and any other value as the
shortest decimal that reads back to it at its own precision (``float32(0.1)`` ->
``0.1``). The ``strategy_game_v0`` observation before the first round is therefore
``"0,0,...,0,1"``. The entry ``"*"`` is the default for every observation without an
entry of its own; a table whose only entry is ``"*"`` never looks at observations.

File formats
------------
JSON (``.json``), an object with exactly one of ``strategy`` / ``strategies``::

    {"strategy": [0.2, 0.8]}                                  # the same everywhere
    {"strategy": {"refuse": 0.2, "comply": 0.8}}              # by action label
    {"strategies": {"*": [0.5, 0.5], "0,1,1,0,0": [1, 0]},    # per observation key
     "actions": ["refuse", "comply"]}                         # optional labels

and optionally ``actions`` (the labels of the file's action order) and ``description``
(free text). A strategy is a list of probabilities in action-index order or an object
``{label: probability}`` (unnamed actions get 0); labels come from ``actions`` or, when
the file has none, from the environment's normal form. When both exist they must name
the same actions; a file listing them in another order is reordered to the env's.

NPZ (``.npz``, read with ``allow_pickle=False``): ``strategy`` (1-D, the same
everywhere) or ``keys`` (1-D unicode array of K observation keys) with ``probs``
(2-D, K x n, row ``k`` for ``keys[k]``); optionally ``actions`` (1-D unicode labels).
:func:`save_strategies` (:mod:`agents.strategy_files`) writes both formats.

Every probability must be finite and >= 0, each strategy must sum to 1 within 1e-6
(then it is renormalised) and have exactly ``n`` entries for the seat's ``Discrete(n)``.

Randomness follows :mod:`agents.base`: the draw for ``observations[i]`` is
``envs.seeding.uniform(seeds[i])`` mapped through the strategy's cumulative
probabilities (``bisect``), so an action depends only on its own seed and observation.
Called without seeds, the agent draws from ``sub_seed(context.seed or 0, k)`` for its
``k``-th decision (``reset(seed)`` restarts the count from a new seed).
"""

from __future__ import annotations

import hashlib
import json
import math
from bisect import bisect_right
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from itertools import accumulate
from typing import Any

import numpy as np
from gymnasium.spaces import Discrete

from agents.base import Action, Agent, AgentContext, Observation
from agents.registry import register_agent_kind
from agents.strategy_files import (
    DEFAULT_KEY,
    StrategyFile,
    load_strategy_file,
)
from agents.strategy_files import save_strategies as save_strategies  # public here too
from envs.errors import ArenaError
from envs.seeding import sub_seed, uniform
from theory.equilibria import (
    METHODS,
    Equilibrium,
    lemke_howson,
    pure_equilibria,
    solve,
    support_enumeration,
    vertex_enumeration,
)
from theory.equilibria.solve import _auto_method  # the one rule solve(method="auto") uses
from theory.errors import TheoryError
from theory.games import NormalFormGame

#: Sum-to-one tolerance of a strategy (then renormalised).
SUM_TOL = 1e-6
#: ``describe()`` lists the whole table up to this many entries (else a count and hash).
DESCRIBE_MAX_ENTRIES = 64
NASH_OPTIONS = ("method", "equilibrium", "label")
_NASH_NO_GAME_FIX = "use tabular:FILE or tabular:uniform"
_KEY_CACHE_LIMIT = 4096


# --------------------------------------------------------------------- observation keys
def _number(value: Any) -> str:
    f = float(value)
    if f.is_integer():
        return str(int(f))
    if not math.isfinite(f):
        return str(f)
    return str(np.format_float_positional(value, trim="-"))


def observation_key(observation: Observation) -> str:
    """The table key of an observation (see the module docstring for the rule)."""
    if isinstance(observation, str):
        return observation
    if isinstance(observation, (bool, int, np.integer, np.bool_)):
        return str(int(observation))
    if isinstance(observation, (float, np.floating)):
        return _number(observation)
    if isinstance(observation, (np.ndarray, list, tuple)):
        array = np.asarray(observation)
        if array.dtype.kind in "biuf":
            return ",".join(_number(v) for v in array.reshape(-1))
    raise ArenaError(
        f"A tabular agent cannot key an observation of type {type(observation).__name__}.",
        "tabular tables key strings, integers, numbers and numeric arrays; give this "
        'seat a table with only a "*" entry, or use another agent kind.',
    )


# --------------------------------------------------------------------- strategies
@dataclass(frozen=True)
class MixedStrategy:
    """Probabilities in action-index order and their cumulative sums (last exactly 1)."""

    probs: tuple[float, ...]
    cum: tuple[float, ...]

    @classmethod
    def from_probs(cls, probs: Sequence[float]) -> MixedStrategy:
        total = math.fsum(probs)
        normalised = tuple(p / total for p in probs)
        cum = list(accumulate(normalised))
        last = max(i for i, p in enumerate(normalised) if p > 0)
        for i in range(last, len(cum)):
            cum[i] = 1.0  # a draw u < 1 always lands on a positive-probability action
        return cls(normalised, tuple(cum))

    def index(self, u: float) -> int:
        """The action index a uniform draw ``u`` in [0, 1) selects."""
        return bisect_right(self.cum, u)


def check_probabilities(values: Any, n: int | None, where: str, fix: str) -> list[float]:
    """``values`` as a list of floats, or one :class:`ArenaError` naming ``where``.

    Checks: a flat sequence of numbers, ``n`` of them (when ``n`` is known), finite,
    >= 0, summing to 1 within :data:`SUM_TOL`.
    """
    if isinstance(values, (str, bytes, Mapping)) or not isinstance(values, (Sequence, np.ndarray)):
        raise ArenaError(f"{where} is not a list of probabilities.", fix)
    try:
        probs = [float(v) for v in values if not isinstance(v, bool)]
    except (TypeError, ValueError):
        probs = []
    if len(probs) != len(values) or (isinstance(values, np.ndarray) and values.ndim != 1):
        raise ArenaError(f"{where} is not a flat list of numbers.", fix)
    if n is not None and len(probs) != n:
        raise ArenaError(
            f"{where} has {len(probs)} probabilities but the seat's action space is Discrete({n}).",
            f"give exactly {n} probabilities, one per action in index order "
            "(or use the strategy file made for this environment).",
        )
    if not probs:
        raise ArenaError(f"{where} is empty.", fix)
    if not all(math.isfinite(p) for p in probs):
        raise ArenaError(f"{where} has a NaN or infinite probability: {probs}.", fix)
    negative = [p for p in probs if p < 0]
    if negative:
        raise ArenaError(f"{where} has a negative probability {negative[0]}.", fix)
    total = math.fsum(probs)
    if abs(total - 1.0) > SUM_TOL:
        raise ArenaError(
            f"{where} sums to {total:.9g}, not 1 (tolerance {SUM_TOL:g}).",
            "make the probabilities sum to 1.",
        )
    return probs


# --------------------------------------------------------------------- the agent
class TabularAgent(Agent):
    """Plays a mixed strategy per observation key (see the module docstring)."""

    def __init__(
        self,
        strategies: Mapping[str, Sequence[float]],
        *,
        start: int = 0,
        labels: Sequence[str] | None = None,
        seed: int | None = None,
        source: str = "table",
        info: Mapping[str, Any] | None = None,
        where: str = "tabular agent",
        label_source: Callable[[], Sequence[str] | None] | None = None,
    ) -> None:
        if not strategies:
            raise ArenaError(f"{where} has no strategies.", 'add a "*" entry.')
        n = len(next(iter(strategies.values())))
        fix = "give one probability per action, finite, >= 0, summing to 1."
        self._table: dict[str, MixedStrategy] = {
            str(key): MixedStrategy.from_probs(
                check_probabilities(probs, n, f"{where}, key {key!r}", fix)
            )
            for key, probs in strategies.items()
        }
        self.n = n
        self._start = int(start)
        self._labels: tuple[str, ...] | None = None if labels is None else tuple(labels)
        self._label_source = label_source
        self._default = self._table.get(DEFAULT_KEY)
        self._single = self._default if len(self._table) == 1 else None
        self._where = where
        self._source = source
        self._info = dict(info or {})
        self._seed = 0 if seed is None else int(seed)
        self._calls = 0
        self._key_cache: dict[tuple[str, tuple[int, ...], bytes], MixedStrategy] = {}

    # -- lookup -------------------------------------------------------------------------
    def _lookup(self, observation: Observation) -> MixedStrategy:
        if self._single is not None:
            return self._single
        if isinstance(observation, np.ndarray):
            cache_key = (observation.dtype.str, observation.shape, observation.tobytes())
            found = self._key_cache.get(cache_key)
            if found is None:
                found = self._lookup_key(observation_key(observation))
                if len(self._key_cache) >= _KEY_CACHE_LIMIT:
                    self._key_cache.clear()
                self._key_cache[cache_key] = found
            return found
        return self._lookup_key(observation_key(observation))

    def _lookup_key(self, key: str) -> MixedStrategy:
        found = self._table.get(key, self._default)
        if found is None:
            raise ArenaError(
                f"Observation key {key!r} has no entry in {self._where}, which has no "
                f'"{DEFAULT_KEY}" default.',
                f'add an entry for that key or a "{DEFAULT_KEY}" entry (keys are written '
                "by agents.tabular.observation_key).",
            )
        return found

    def strategy_for(self, observation: Observation) -> tuple[float, ...]:
        """The probabilities this agent plays on ``observation`` (action-index order)."""
        return self._lookup(observation).probs

    @property
    def strategies(self) -> dict[str, tuple[float, ...]]:
        """The whole table: observation key -> probabilities."""
        return {key: s.probs for key, s in self._table.items()}

    # -- acting -------------------------------------------------------------------------
    def _own_seeds(self, count: int) -> list[int]:
        first = self._calls
        self._calls += count
        return [sub_seed(self._seed, k) for k in range(first, first + count)]

    def act_batch(
        self, observations: Sequence[Observation], seeds: Sequence[int] | None = None
    ) -> list[Action]:
        if seeds is None:
            seeds = self._own_seeds(len(observations))
        elif len(seeds) != len(observations):
            raise ArenaError(
                f"{len(seeds)} seeds for {len(observations)} observations.",
                "pass one seed per observation (or none).",
            )
        start = self._start
        single = self._single
        if single is not None:
            cum = single.cum
            return [start + bisect_right(cum, uniform(seed)) for seed in seeds]
        lookup = self._lookup
        return [
            start + bisect_right(lookup(obs).cum, uniform(seed))
            for obs, seed in zip(observations, seeds, strict=True)
        ]

    def reset(self, seed: int | None = None) -> None:
        """A new fallback seed restarts the fallback draws; ``None`` keeps them going."""
        if seed is not None:
            self._seed = int(seed)
            self._calls = 0

    # -- reporting ----------------------------------------------------------------------
    def labels(self) -> tuple[str, ...] | None:
        """Action labels in index order, where known (file ``actions`` or the game's)."""
        if self._labels is None and self._label_source is not None:
            source, self._label_source = self._label_source, None
            found = source()
            if found is not None and len(found) == self.n:
                self._labels = tuple(found)
        return self._labels

    def label_action(self, action: Action) -> str | None:
        try:
            index = int(action) - self._start
        except (TypeError, ValueError):
            return None
        if not 0 <= index < self.n:
            return None
        labels = self.labels()
        return labels[index] if labels is not None else str(int(action))

    def describe(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "spec": self.spec,
            "class": type(self).__name__,
            "source": self._source,
            "actions": self.n,
        }
        if self._start:
            out["start"] = self._start
        labels = self.labels()
        if labels is not None:
            out["action_labels"] = list(labels)
        out.update(self._info)
        if len(self._table) <= DESCRIBE_MAX_ENTRIES:
            out["strategies"] = {key: list(s.probs) for key, s in self._table.items()}
        else:
            digest = hashlib.sha256(
                json.dumps(self.strategies, sort_keys=True).encode("utf-8")
            ).hexdigest()
            out["strategies"] = {"entries": len(self._table), "sha256": digest}
        return out


# --------------------------------------------------------------------- the seat
def _seat_space(context: AgentContext, what: str) -> tuple[int, int] | None:
    """``(n, start)`` of the seat's ``Discrete`` space, ``None`` when not given."""
    space = context.action_space
    if space is None:
        return None
    if not isinstance(space, Discrete):
        seat = f"the {context.role!r} seat" if context.role else "this seat"
        raise ArenaError(
            f"{what} plays Discrete action spaces; {seat} has {space}.",
            "use an agent kind made for that action space (e.g. scripted: or hf:).",
        )
    return int(space.n), int(space.start)


def _seat_game(context: AgentContext) -> tuple[NormalFormGame, int] | None:
    """The environment's normal form and this seat's player index, if both are known."""
    if context.game is None:
        return None
    game = context.game() if callable(context.game) else context.game
    if game is None:
        return None
    if not isinstance(game, NormalFormGame):
        raise ArenaError(
            f"The environment's normal form is a {type(game).__name__}, not a "
            "theory.games.NormalFormGame.",
            "make to_normal_form() return a theory.games.NormalFormGame.",
        )
    player = context.player
    if player is None and context.role in game.players:
        player = game.players.index(context.role)
    if player is None:
        return None
    if not 0 <= player < game.num_players:
        raise ArenaError(
            f"Seat player index {player} is out of range for the {game.num_players}-player game.",
            "pass player= as this seat's index in the environment's normal form.",
        )
    return game, player


def _label_source(context: AgentContext) -> Callable[[], Sequence[str] | None]:
    def labels() -> Sequence[str] | None:
        try:
            seat = _seat_game(context)
        except ArenaError:
            return None
        return None if seat is None else seat[0].strategies[seat[1]]

    return labels


def _check_options(options: Mapping[str, str], allowed: Sequence[str], what: str) -> None:
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        use = f"use any of: {', '.join(allowed)}." if allowed else "drop them."
        raise ArenaError(f"Unknown option(s) {', '.join(unknown)} for {what}.", use)


def _int_option(options: Mapping[str, str], name: str, what: str) -> int:
    raw = options.get(name, "0")
    try:
        value = int(raw)
    except ValueError:
        value = -1
    if value < 0:
        raise ArenaError(
            f"Option {name}={raw!r} of {what} is not a whole number >= 0.",
            f"write e.g. ?{name}=0.",
        )
    return value


# --------------------------------------------------------------------- uniform
def make_uniform(context: AgentContext) -> TabularAgent:
    """``tabular:uniform``: 1/n on each action of the seat's ``Discrete(n)``."""
    _check_options(context.options, (), "tabular:uniform")
    space = _seat_space(context, "tabular:uniform")
    if space is None:
        raise ArenaError(
            "tabular:uniform needs the seat's action space, and none was given.",
            "play it through the arena runner, or pass "
            "make_agent(..., action_space=env.action_space(role)).",
        )
    n, start = space
    return TabularAgent(
        {DEFAULT_KEY: [1.0 / n] * n},
        start=start,
        seed=context.seed,
        source="uniform",
        where="tabular:uniform",
        label_source=_label_source(context),
    )


# --------------------------------------------------------------------- nash
_NASH_CACHE: dict[tuple[Any, ...], tuple[Equilibrium, str]] = {}


def nash_equilibrium(
    game: NormalFormGame, method: str = "auto", *, equilibrium: int = 0, label: int = 0
) -> tuple[Equilibrium, str]:
    """The equilibrium ``tabular:nash`` plays and the method that found it.

    The rule is the module docstring's; results are cached per (payoffs, options), so
    the seats of a match and the agents of a tournament solve a game once.
    """
    if method not in METHODS:
        raise ArenaError(
            f"Unknown method {method!r} for tabular:nash.",
            f"use ?method= one of {', '.join(METHODS)}.",
        )
    chosen = _auto_method(game) if method == "auto" else method
    if label and chosen != "lemke-howson":
        raise ArenaError(
            f"Option label={label} of tabular:nash applies only to method lemke-howson, "
            f"but the method is {chosen!r}.",
            "drop ?label= or add ?method=lemke-howson.",
        )
    if equilibrium and chosen in ("lp", "first-order", "lemke-howson"):
        raise ArenaError(
            f"Option equilibrium={equilibrium} of tabular:nash needs a method that lists "
            f"equilibria; {chosen!r} finds one.",
            "use ?method=vertex, support or pure, or drop ?equilibrium=.",
        )
    cache_key = (game.payoffs.shape, game.payoffs.tobytes(), chosen, equilibrium, label)
    if cache_key in _NASH_CACHE:
        return _NASH_CACHE[cache_key]
    title = game.title or "the game"
    try:
        if chosen in ("lp", "first-order"):
            found = solve(game, chosen).equilibria
        elif chosen == "vertex":
            found = vertex_enumeration(game)
        elif chosen == "support":
            found = support_enumeration(game, warn=False)
        elif chosen == "pure":
            found = pure_equilibria(game)
        else:
            found = [lemke_howson(game, label)]
    except TheoryError as exc:
        raise ArenaError(
            f"tabular:nash could not solve {title} with method {chosen!r}: {exc}",
            "choose another ?method= (" + ", ".join(m for m in METHODS if m != "auto") + ").",
        ) from None
    if len(found) <= equilibrium:
        raise ArenaError(
            f"Method {chosen!r} found {len(found)} equilibri{'um' if len(found) == 1 else 'a'} "
            f"of {title}, so there is no equilibrium={equilibrium}.",
            "pick ?equilibrium= below that count, or another ?method= (e.g. lemke-howson).",
        )
    result = (found[equilibrium], chosen)
    _NASH_CACHE[cache_key] = result
    return result


def make_nash(context: AgentContext) -> TabularAgent:
    """``tabular:nash``: this seat's strategy in the equilibrium of the module docstring."""
    _check_options(context.options, NASH_OPTIONS, "tabular:nash")
    method = context.options.get("method", "auto")
    index = _int_option(context.options, "equilibrium", "tabular:nash")
    label = _int_option(context.options, "label", "tabular:nash")
    space = _seat_space(context, "tabular:nash")
    game_source = context.game
    if game_source is not None and callable(game_source):
        game_source = game_source()
    if game_source is None:
        raise ArenaError(
            "tabular:nash needs an environment with to_normal_form(), and this one has none.",
            _NASH_NO_GAME_FIX + ".",
        )
    seat = _seat_game(replace(context, game=game_source))
    if seat is None:
        raise ArenaError(
            "tabular:nash needs to know which player of the normal form this seat is "
            f"(role {context.role!r}).",
            "pass player= (the seat's index in the game) or a role named like a player.",
        )
    game, player = seat
    eq, chosen = nash_equilibrium(game, method, equilibrium=index, label=label)
    probs = [float(p) for p in eq.strategies[player]]
    n_game = len(probs)
    start = 0
    if space is not None:
        n_space, start = space
        if n_space != n_game:
            raise ArenaError(
                f"The normal form gives player {player} {n_game} strategies but the seat's "
                f"action space is Discrete({n_space}).",
                "fix the environment's to_normal_form() or action_space() so they agree.",
            )
    info = {
        "method": method,
        "method_used": chosen,
        "equilibrium": index,
        "player": player,
        "game": game.title,
        "exploitability": eq.exploitability,
    }
    if chosen == "lemke-howson":
        info["label"] = label
    return TabularAgent(
        {DEFAULT_KEY: probs},
        start=start,
        labels=game.strategies[player],
        seed=context.seed,
        source="nash",
        info=info,
        where=f"tabular:nash ({chosen})",
    )


# --------------------------------------------------------------------- files
def _resolve(
    file: StrategyFile, n: int | None, seat_labels: Sequence[str] | None
) -> tuple[dict[str, list[float]], tuple[str, ...] | None]:
    """Entries as probability vectors in the seat's action order, and the labels."""
    path = str(file.path)
    file_order = file.actions or (tuple(seat_labels) if seat_labels is not None else None)
    permutation: list[int] | None = None
    if file.actions is not None and seat_labels is not None:
        seat = tuple(seat_labels)
        if set(file.actions) != set(seat) or len(seat) != len(file.actions):
            raise ArenaError(
                f"Strategy file {path!r} names actions {list(file.actions)} but the seat's "
                f"actions are {list(seat)}.",
                'use the seat\'s action labels in "actions" (or drop it and list '
                "probabilities in action-index order).",
            )
        if file.actions != seat:
            permutation = [file.actions.index(label) for label in seat]
    if n is None and file_order is not None:
        n = len(file_order)
    if file.actions is not None and n is not None and len(file.actions) != n:
        raise ArenaError(
            f"Strategy file {path!r} lists {len(file.actions)} actions but the seat's action "
            f"space is Discrete({n}).",
            f"list exactly {n} actions, or use the strategy file made for this environment.",
        )
    fix = "give one probability per action, finite, >= 0, summing to 1."
    out: dict[str, list[float]] = {}
    for key, raw in file.entries.items():
        where = f"Strategy file {path!r}, key {key!r},"
        values: Any = raw
        if isinstance(raw, Mapping):
            if file_order is None:
                raise ArenaError(
                    f"{where} gives probabilities by action label, but neither the file nor "
                    "the environment names the actions.",
                    'add "actions": [labels in index order] to the file, or give a list.',
                )
            unknown = [label for label in raw if label not in file_order]
            if unknown:
                raise ArenaError(
                    f"{where} names unknown action(s) {unknown}.",
                    f"use labels from {list(file_order)}.",
                )
            values = [raw.get(label, 0.0) for label in file_order]
        probs = check_probabilities(values, n, where.rstrip(","), fix)
        if n is None:
            n = len(probs)
        out[key] = probs if permutation is None else [probs[i] for i in permutation]
    labels = tuple(seat_labels) if seat_labels is not None else file.actions
    return out, labels


def make_file(path: str, context: AgentContext) -> TabularAgent:
    """``tabular:FILE``: the strategy table in a JSON or ``.npz`` file."""
    _check_options(context.options, (), "tabular:FILE")
    file = load_strategy_file(path)
    space = _seat_space(context, f"tabular:{path}")
    n, start = space if space is not None else (None, 0)
    seat_labels: Sequence[str] | None = None
    needs_labels = file.actions is not None or any(
        isinstance(v, Mapping) for v in file.entries.values()
    )
    if needs_labels:
        seat = _seat_game(context)
        if seat is not None:
            seat_labels = seat[0].strategies[seat[1]]
            if n is not None and len(seat_labels) != n:
                seat_labels = None  # the game does not describe this seat's space
    strategies, labels = _resolve(file, n, seat_labels)
    info: dict[str, Any] = {"file": str(file.path), "format": file.format, "sha256": file.sha256}
    if file.description is not None:
        info["description"] = file.description
    return TabularAgent(
        strategies,
        start=start,
        labels=labels,
        seed=context.seed,
        source="file",
        info=info,
        where=f"strategy file {str(file.path)!r}",
        label_source=None if labels is not None else _label_source(context),
    )


# --------------------------------------------------------------------- registration
def make_tabular_agent(argument: str, context: AgentContext) -> TabularAgent:
    """Factory for ``tabular:ARG``: ``uniform``, ``nash`` or a file path."""
    if argument == "uniform":
        return make_uniform(context)
    if argument == "nash":
        return make_nash(context)
    if not argument:
        raise ArenaError(
            "The tabular agent needs an argument: tabular: was given nothing after the colon.",
            "write tabular:uniform, tabular:nash or tabular:PATH.json / tabular:PATH.npz.",
        )
    return make_file(argument, context)


register_agent_kind(
    "tabular",
    make_tabular_agent,
    "mixed strategies over Discrete actions: tabular:uniform, tabular:nash (an equilibrium "
    "of the env's normal form; ?method=auto|lp|vertex|support|lemke-howson|first-order|pure"
    "&equilibrium=K&label=L) or tabular:FILE (.json/.npz strategy per observation key)",
)
