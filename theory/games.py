"""Finite games over numpy arrays.

Two game types cover what the rest of ``theory`` solves:

* :class:`NormalFormGame`: N players move simultaneously; one payoff tensor holds every
  player's payoff for every pure profile. Two-player games (bimatrix, zero-sum) are the
  special case ``N == 2``.
* :class:`LeaderFollowerGame`: a finite two-stage game where the leader picks an action,
  the follower observes it and replies. It is solved by backward induction
  (:func:`theory.equilibria.spne`) and converts to the normal form in which the
  follower's strategies are maps from leader actions to replies.

Both are frozen dataclasses whose arrays are made read-only copies, so a game can be
shared between solvers without one of them mutating it under another.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from theory.errors import InvalidGameError

FloatArray = NDArray[np.float64]

# Guard against converting a leader/follower game whose normal form would not fit in
# memory: the follower has n_follower ** n_leader pure strategies.
MAX_NORMAL_FORM_ENTRIES = 10_000_000

# Relative tolerances (x the payoff magnitude) of the structural tests below. Payoffs
# read from text files or built by arithmetic differ from the intended values by a few
# ulps, so an exact test would call a zero-sum game general-sum; 1e-9 matches the
# verification tolerance of the solvers (theory.equilibria.best_response.VERIFY_TOL), so
# a game these tests accept is one whose solutions the solvers would also accept.
ZERO_SUM_TOL = 1e-9
SYMMETRY_TOL = 1e-9


def _frozen_float_array(values: ArrayLike, what: str) -> FloatArray:
    try:
        array = np.array(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidGameError(
            f"{what} must be numeric, got {type(values).__name__}: {exc}. "
            "Fix: pass a numpy array (or nested lists) of numbers."
        ) from exc
    if not np.all(np.isfinite(array)):
        raise InvalidGameError(
            f"{what} contains NaN or infinite entries. Fix: replace them with finite payoffs."
        )
    array.setflags(write=False)
    return array


def _require_finite_range(matrices: FloatArray, what: str) -> None:
    """Refuse payoffs whose range (max - min) overflows float64.

    Every tolerance in ``theory`` is relative to the payoff range; an infinite range
    would make ``tol x range`` infinite and accept any profile as an equilibrium, and
    the affine rescalings the solvers use would produce NaN.
    """
    for k, matrix in enumerate(matrices):
        if matrix.size and not np.isfinite(float(matrix.max()) - float(matrix.min())):
            raise InvalidGameError(
                f"{what} of player {k + 1} range from {float(matrix.min()):.3g} to "
                f"{float(matrix.max()):.3g}, a spread that overflows float64. Fix: rescale the "
                "payoffs (equilibria do not change under positive affine maps)."
            )


def _default_names(prefix: str, count: int) -> tuple[str, ...]:
    return tuple(f"{prefix}{k + 1}" for k in range(count))


@dataclass(frozen=True, eq=False, init=False)
class NormalFormGame:
    """An N-player normal-form game.

    ``payoffs`` has shape ``(N, n_1, ..., n_N)`` and ``payoffs[i][a_1, ..., a_N]`` is
    player ``i``'s payoff when player ``k`` plays pure strategy ``a_k``. Player and
    strategy names default to ``"player 1", ...`` and ``"1", "2", ...`` (the names
    Gambit uses when a file gives only counts).
    """

    payoffs: FloatArray
    players: tuple[str, ...]
    strategies: tuple[tuple[str, ...], ...]
    title: str

    def __init__(
        self,
        payoffs: ArrayLike,
        players: Sequence[str] = (),
        strategies: Sequence[Sequence[str]] = (),
        title: str = "",
    ) -> None:
        array = _frozen_float_array(payoffs, "payoffs")
        if array.ndim < 2 or array.shape[0] != array.ndim - 1:
            raise InvalidGameError(
                f"payoffs has shape {array.shape}; an N-player game needs shape "
                "(N, n_1, ..., n_N) with one axis per player after the player axis. "
                "Fix: stack the players' payoff tensors, e.g. np.stack([A, B]) for a bimatrix."
            )
        if any(n < 1 for n in array.shape[1:]):
            raise InvalidGameError(
                f"payoffs has shape {array.shape}: every player needs at least one strategy."
            )
        _require_finite_range(array, "the payoffs")
        n_players = array.shape[0]
        names = tuple(str(p) for p in players) or _default_names("player ", n_players)
        if len(names) != n_players:
            raise InvalidGameError(
                f"{len(names)} player names given for a {n_players}-player game. "
                "Fix: give one name per player."
            )
        labels = tuple(tuple(str(x) for x in s) for s in strategies) or tuple(
            _default_names("", n) for n in array.shape[1:]
        )
        if tuple(len(s) for s in labels) != array.shape[1:]:
            raise InvalidGameError(
                f"strategy names have lengths {tuple(len(s) for s in labels)} but the "
                f"payoffs have {array.shape[1:]} strategies per player. "
                "Fix: give one name per strategy of each player."
            )
        object.__setattr__(self, "payoffs", array)
        object.__setattr__(self, "players", names)
        object.__setattr__(self, "strategies", labels)
        object.__setattr__(self, "title", str(title))

    # -- constructors -------------------------------------------------------------------

    @classmethod
    def from_bimatrix(
        cls,
        A: ArrayLike,
        B: ArrayLike,
        *,
        players: Sequence[str] | None = None,
        strategies: Sequence[Sequence[str]] | None = None,
        title: str = "",
    ) -> NormalFormGame:
        """Two-player game: ``A`` is the row player's payoff matrix, ``B`` the column's."""
        a = np.asarray(A, dtype=np.float64)
        b = np.asarray(B, dtype=np.float64)
        if a.ndim != 2 or a.shape != b.shape:
            raise InvalidGameError(
                f"a bimatrix game needs two matrices of the same 2-D shape, got {a.shape} "
                f"and {b.shape}. Fix: pass A and B as m x n arrays."
            )
        return cls(np.stack([a, b]), players or (), strategies or (), title)

    @classmethod
    def zero_sum(cls, A: ArrayLike, **kw: Any) -> NormalFormGame:
        """Two-player zero-sum game in which the row player gets ``A`` and the column ``-A``."""
        a = np.asarray(A, dtype=np.float64)
        return cls.from_bimatrix(a, -a, **kw)

    # -- shape --------------------------------------------------------------------------

    @property
    def num_players(self) -> int:
        return int(self.payoffs.shape[0])

    @property
    def num_strategies(self) -> tuple[int, ...]:
        return tuple(int(n) for n in self.payoffs.shape[1:])

    def bimatrix(self) -> tuple[FloatArray, FloatArray]:
        """``(A, B)`` of a two-player game (read-only views)."""
        if self.num_players != 2:
            raise InvalidGameError(
                f"bimatrix() needs a two-player game; this one has {self.num_players} players."
            )
        return self.payoffs[0], self.payoffs[1]

    def is_zero_sum(self, tol: float = ZERO_SUM_TOL) -> bool:
        """Whether the payoffs sum to zero in every pure profile (within ``tol`` x scale)."""
        scale = max(1.0, float(np.max(np.abs(self.payoffs))))
        return bool(np.all(np.abs(self.payoffs.sum(axis=0)) <= tol * scale))

    def is_symmetric(self, tol: float = SYMMETRY_TOL) -> bool:
        """Whether renaming the players leaves the game unchanged (within ``tol`` x scale).

        Every player has the same strategies, and swapping players ``i`` and ``k`` (their
        strategy choices and their payoffs) gives the same payoff tensor; for two players
        this is ``B == A.T``. Adjacent swaps generate every permutation of the players,
        so checking those ``N - 1`` swaps suffices. ``scale`` is :meth:`payoff_scale`.
        """
        if len(set(self.num_strategies)) != 1:
            return False
        limit = tol * self.payoff_scale()
        for i in range(self.num_players - 1):
            order = list(range(self.num_players))
            order[i], order[i + 1] = i + 1, i
            swapped = np.swapaxes(self.payoffs, i + 1, i + 2)[order]
            if not np.all(np.abs(swapped - self.payoffs) <= limit):
                return False
        return True

    def payoff_scale(self) -> float:
        """Largest payoff range over players, at least 1: the unit in which tolerances are set."""
        flat = self.payoffs.reshape(self.num_players, -1)
        return max(1.0, float(np.max(flat.max(axis=1) - flat.min(axis=1))))

    # -- evaluation -----------------------------------------------------------------------

    def check_profile(self, profile: Sequence[ArrayLike], tol: float = 1e-9) -> list[FloatArray]:
        """Return ``profile`` as float arrays after checking it is a mixed profile."""
        if len(profile) != self.num_players:
            raise InvalidGameError(
                f"a profile needs one strategy per player ({self.num_players}), got {len(profile)}."
            )
        out = []
        for i, (sigma, n) in enumerate(zip(profile, self.num_strategies, strict=True)):
            s = np.asarray(sigma, dtype=np.float64).reshape(-1)
            if s.shape != (n,):
                raise InvalidGameError(
                    f"player {i + 1}'s strategy has {s.size} entries but the player has "
                    f"{n} strategies."
                )
            if np.any(s < -tol) or abs(float(s.sum()) - 1.0) > tol or not np.all(np.isfinite(s)):
                raise InvalidGameError(
                    f"player {i + 1}'s strategy {s.tolist()} is not a probability vector. "
                    "Fix: use non-negative entries that sum to 1."
                )
            # Rounding negatives (down to -tol) are accepted but not used: a negative
            # weight could make an expected payoff leave the range of the payoffs.
            out.append(np.clip(s, 0.0, None))
        return out

    def expected_payoffs(self, profile: Sequence[ArrayLike]) -> FloatArray:
        """Every player's expected payoff under the mixed ``profile``; shape ``(N,)``."""
        sigmas = self.check_profile(profile)
        u: FloatArray = self.payoffs
        for s in reversed(sigmas):
            u = u @ s
        return np.asarray(u, dtype=np.float64)

    def payoff_vector(self, profile: Sequence[ArrayLike], player: int) -> FloatArray:
        """``player``'s payoff for each of their pure strategies against the others' mix.

        This is the vector a best response maximises; the other entries of ``profile``
        are used, ``profile[player]`` is ignored (but must have the right length).
        """
        sigmas = self.check_profile(profile)
        u = np.moveaxis(self.payoffs[player], player, -1)
        for k, s in enumerate(sigmas):
            if k != player:
                u = np.tensordot(s, u, axes=(0, 0))
        return np.asarray(u, dtype=np.float64)

    # -- conveniences -------------------------------------------------------------------

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, NormalFormGame):
            return NotImplemented
        return (
            self.players == other.players
            and self.strategies == other.strategies
            and self.title == other.title
            and self.payoffs.shape == other.payoffs.shape
            and bool(np.array_equal(self.payoffs, other.payoffs))
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        dims = "x".join(str(n) for n in self.num_strategies)
        title = f" {self.title!r}" if self.title else ""
        return f"NormalFormGame({self.num_players} players, {dims}{title})"


@dataclass(frozen=True, eq=False, init=False)
class LeaderFollowerGame:
    """A finite two-stage game with perfect information.

    The leader picks action ``a``; the follower observes ``a`` and picks ``d``; payoffs
    are ``leader_payoffs[a, d]`` and ``follower_payoffs[a, d]``. This is the game a
    subgame-perfect equilibrium is defined for; its normal form gives the follower one
    strategy per map ``a -> d``.
    """

    leader_payoffs: FloatArray
    follower_payoffs: FloatArray
    leader_actions: tuple[str, ...]
    follower_actions: tuple[str, ...]
    players: tuple[str, str]
    title: str

    def __init__(
        self,
        leader_payoffs: ArrayLike,
        follower_payoffs: ArrayLike,
        leader_actions: Sequence[str] = (),
        follower_actions: Sequence[str] = (),
        players: tuple[str, str] = ("leader", "follower"),
        title: str = "",
    ) -> None:
        lead = _frozen_float_array(leader_payoffs, "leader_payoffs")
        follow = _frozen_float_array(follower_payoffs, "follower_payoffs")
        if lead.ndim != 2 or lead.shape != follow.shape or lead.size == 0:
            raise InvalidGameError(
                f"leader_payoffs {lead.shape} and follower_payoffs {follow.shape} must be "
                "non-empty matrices of the same shape (n_leader_actions, n_follower_actions)."
            )
        _require_finite_range(np.stack([lead, follow]), "the payoffs")
        n_lead, n_follow = lead.shape
        lead_names = tuple(str(a) for a in leader_actions) or _default_names("", n_lead)
        follow_names = tuple(str(a) for a in follower_actions) or _default_names("", n_follow)
        if len(lead_names) != n_lead or len(follow_names) != n_follow:
            raise InvalidGameError(
                f"action names ({len(lead_names)}, {len(follow_names)}) do not match the "
                f"payoff shape {lead.shape}. Fix: give one name per action."
            )
        if len(players) != 2:
            raise InvalidGameError("a leader/follower game has exactly two players.")
        object.__setattr__(self, "leader_payoffs", lead)
        object.__setattr__(self, "follower_payoffs", follow)
        object.__setattr__(self, "leader_actions", lead_names)
        object.__setattr__(self, "follower_actions", follow_names)
        object.__setattr__(self, "players", (str(players[0]), str(players[1])))
        object.__setattr__(self, "title", str(title))

    @property
    def num_leader_actions(self) -> int:
        return int(self.leader_payoffs.shape[0])

    @property
    def num_follower_actions(self) -> int:
        return int(self.leader_payoffs.shape[1])

    def payoff_scale(self) -> float:
        """Largest payoff range of the two players, at least 1 (as for a normal form)."""
        spans = (float(np.ptp(self.leader_payoffs)), float(np.ptp(self.follower_payoffs)))
        return max(1.0, *spans)

    def follower_strategies(self) -> list[tuple[int, ...]]:
        """Every pure follower strategy as a tuple ``(d_for_a0, d_for_a1, ...)``.

        Ordered like :func:`itertools.product`, which is also the column order of
        :meth:`to_normal_form`.
        """
        return list(
            itertools.product(range(self.num_follower_actions), repeat=self.num_leader_actions)
        )

    def to_normal_form(self) -> NormalFormGame:
        """The strategic form: the follower's strategies are all maps leader action -> reply."""
        n_lead, n_follow = self.num_leader_actions, self.num_follower_actions
        n_maps = n_follow**n_lead
        if 2 * n_lead * n_maps > MAX_NORMAL_FORM_ENTRIES:
            raise InvalidGameError(
                f"the normal form has {n_follow}^{n_lead} = {n_maps} follower strategies, too "
                "many to build. Fix: solve the sequential game directly with spne()."
            )
        maps = np.array(self.follower_strategies(), dtype=np.intp).reshape(n_maps, n_lead)
        rows = np.arange(n_lead)[:, None]
        replies = maps.T  # replies[a, k] = follower's reply to a under strategy k
        lead = self.leader_payoffs[rows, replies]
        follow = self.follower_payoffs[rows, replies]
        names = tuple(
            ", ".join(
                f"{self.leader_actions[a]}->{self.follower_actions[d]}" for a, d in enumerate(m)
            )
            for m in maps.tolist()
        )
        return NormalFormGame.from_bimatrix(
            lead,
            follow,
            players=self.players,
            strategies=(self.leader_actions, names),
            title=self.title,
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, LeaderFollowerGame):
            return NotImplemented
        return (
            self.leader_actions == other.leader_actions
            and self.follower_actions == other.follower_actions
            and self.players == other.players
            and self.title == other.title
            and bool(np.array_equal(self.leader_payoffs, other.leader_payoffs))
            and bool(np.array_equal(self.follower_payoffs, other.follower_payoffs))
        )

    __hash__ = None  # type: ignore[assignment]
