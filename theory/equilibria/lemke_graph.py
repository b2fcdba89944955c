"""Every equilibrium Lemke-Howson paths connect to the artificial one (Gambit's ``lcp``).

:func:`~theory.equilibria.lemke.lemke_howson_all` follows the ``m + n`` paths that
start at the artificial equilibrium ``(0, 0)``. Every equilibrium is itself the start
of ``m + n`` paths (drop one of its labels; von Stengel 2002, Sec. 3.6), which end at
other equilibria, or at ``(0, 0)``: the Lemke-Howson graph. :func:`lemke_howson_graph`
follows the paths from every equilibrium found, collecting new ones until no path
leads anywhere new (the connected component of ``(0, 0)`` in the union of the graphs
for all labels). This is what Gambit's ``lcp_solve`` does by default (``AllLemke`` in
``nfglcp.cc``). It finds every equilibrium of most small random games, but not all in
general: an equilibrium can lie in a component of the graph that ``(0, 0)`` does not
reach (use vertex enumeration for a complete answer on small games).

Speed comes from batching: every path in flight pivots in lockstep on a stack of
tableaux, one set of numpy calls per step for all of them, instead of one Python-level
pivot per path and step. Paths alternate between the tableaux of ``P`` and ``Q``, so
each path keeps its two tableaux as "current" (where it pivots next) and "other"
(padded to the same number of rows with inert zero rows), and after every step the
two stacks swap: paths in either phase share one set of numpy calls. A path that ends
at a new equilibrium spawns that equilibrium's paths into the running batch at once
(at most ``MAX_ACTIVE`` paths are in flight; the rest wait in a queue). Ties in the
minimum-ratio test are rare outside degenerate games; the paths that meet one are
resolved one at a time by the lexicographic rule of
:func:`~theory.equilibria.lemke.lexicographic_ratio_row`.

Robustness: each equilibrium's tableaux are rebuilt from its basis and the (scaled)
payoffs before paths leave it, so rounding does not accumulate along chains of paths,
and every end point passes the best-response check before it is returned or followed.
An end point that fails it (a nearly degenerate game) is dropped and counted in the
result's ``unfinished``, as are paths that run past ``max_pivots`` or ``time_limit``.
"""

from __future__ import annotations

import time

import numpy as np
from numpy.typing import NDArray

from theory.equilibria._polytope import positive_scaled
from theory.equilibria.best_response import Equilibrium, verify_equilibrium
from theory.equilibria.general_sum import require_two_players, sort_equilibria
from theory.equilibria.lemke import (
    LEX_TOL,
    PIVOT_LIMIT,
    PIVOT_TOL,
    TIME_LIMIT,
    LemkeHowsonSearch,
    lexicographic_ratio_row,
)
from theory.errors import IterationLimitError, NumericalError, SolverTimeLimitError
from theory.games import NormalFormGame

__all__ = ["NUMERICAL", "lemke_howson_graph"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]

# Reason for a path whose end point failed the best-response check (or whose pivot
# column had no positive entry): rounding broke it.
NUMERICAL = "numerical failure"
# Steps between two looks at the clock.
CLOCK_EVERY = 8
# Paths pivoted together at most (bounds memory: 4096 paths of a 20x20 game hold
# ~55 MB of tableaux).
MAX_ACTIVE = 4096
# A basic variable may be this negative in a rebuilt tableau before the basis counts as
# infeasible (the [1, 2] scaling makes the values of order 1 / (m + n)).
FEASIBILITY_TOL = 1e-9


_FIELDS = (
    "current",
    "other",
    "basis_current",
    "basis_other",
    "in_p",
    "labels",
    "entering",
    "steps",
    "from_origin",
)


class _Batch:
    """Paths in flight. ``current[t]`` is the tableau ``[T | rhs]`` path ``t`` pivots in
    next (``P``'s when ``in_p[t]``, else ``Q``'s) and ``other[t]`` the other one, both
    with ``k = max(m, n)`` rows (padding rows are zero with right-hand side 1 and basis
    entry -1, so no ratio test picks them); their bases number variables by label, as
    in :mod:`lemke`. Also: the label each path dropped, the variable that enters next,
    pivots done, and whether the path started at the artificial equilibrium."""

    def __init__(
        self,
        current: FloatArray,
        other: FloatArray,
        basis_current: IntArray,
        basis_other: IntArray,
        in_p: NDArray[np.bool_],
        labels: IntArray,
        entering: IntArray,
        steps: IntArray,
        from_origin: NDArray[np.bool_],
    ) -> None:
        self.current, self.other = current, other
        self.basis_current, self.basis_other = basis_current, basis_other
        self.in_p, self.labels, self.entering = in_p, labels, entering
        self.steps, self.from_origin = steps, from_origin

    def __len__(self) -> int:
        return len(self.labels)

    def take(self, keep: NDArray[np.bool_] | slice) -> _Batch:
        return _Batch(*(getattr(self, name)[keep] for name in _FIELDS))

    @staticmethod
    def join(batches: list[_Batch]) -> _Batch:
        batches = [b for b in batches if len(b)] or batches[:1]
        if len(batches) == 1:
            return batches[0]
        return _Batch(*(np.concatenate([getattr(b, name) for b in batches]) for name in _FIELDS))

    def swap(self) -> None:
        """After a pivot, every path continues in its other tableau."""
        self.current, self.other = self.other, self.current
        self.basis_current, self.basis_other = self.basis_other, self.basis_current
        self.in_p = ~self.in_p

    def sides(self, rows: IntArray) -> tuple[IntArray, IntArray]:
        """The bases of ``P`` and of ``Q`` of the paths ``rows``."""
        p = self.in_p[rows][:, None]
        current, other = self.basis_current[rows], self.basis_other[rows]
        return np.where(p, current, other), np.where(p, other, current)

    def tableaux(self, rows: IntArray) -> tuple[FloatArray, FloatArray]:
        """The tableaux of ``P`` and of ``Q`` of the paths ``rows``."""
        p = self.in_p[rows][:, None, None]
        current, other = self.current[rows], self.other[rows]
        return np.where(p, current, other), np.where(p, other, current)


def _pivot_step(
    batch: _Batch, slack_p: IntArray, slack_q: IntArray
) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
    """One pivot of every path in its current tableau; returns the masks of the paths
    that picked their dropped label up again (finished) and of those that failed (no
    positive pivot entry)."""
    T, basis = batch.current, batch.basis_current
    at = np.arange(len(batch))
    entering = batch.entering
    column = T[at, :, entering]
    ratios = T[:, :, -1] / column
    ratios[column <= PIVOT_TOL] = np.inf
    row = ratios.argmin(axis=1)
    best = ratios[at, row]
    failed = ~np.isfinite(best)
    near = ratios <= (best + LEX_TOL * np.maximum(1.0, np.abs(best)))[:, None]
    for t in np.flatnonzero((np.count_nonzero(near, axis=1) > 1) & ~failed):
        slack = slack_p if batch.in_p[t] else slack_q
        row[t] = lexicographic_ratio_row(T[t], int(entering[t]), slack)
    pivot_row = T[at, row, :]
    pivot_row /= pivot_row[at, entering][:, None]
    T -= column[:, :, None] * pivot_row[:, None, :]
    T[at, row, :] = pivot_row
    leaving = basis[at, row]
    basis[at, row] = entering
    batch.steps += 1
    batch.entering = leaving  # it enters the other polytope's tableau next
    return (leaving == batch.labels) & ~failed, failed


def _rebuild(initial: FloatArray, bases: IntArray) -> FloatArray | None:
    """Tableaux ``B^-1 [T0 | rhs0]`` of the given bases, computed afresh from the initial
    tableau (rows in basis order); None if some basis is singular."""
    systems = np.transpose(initial[:, bases], (1, 0, 2))
    try:
        return np.asarray(
            np.linalg.solve(systems, np.broadcast_to(initial, (len(bases), *initial.shape))),
            dtype=np.float64,
        )
    except np.linalg.LinAlgError:
        return None


def _pad(tableaux: FloatArray, bases: IntArray, rows: int) -> tuple[FloatArray, IntArray]:
    """Add inert rows (zero, right-hand side 1, basis entry -1) up to ``rows`` rows."""
    count, have, width = tableaux.shape
    if have == rows:
        return tableaux, bases
    pad = np.zeros((count, rows - have, width))
    pad[:, :, -1] = 1.0
    return (
        np.concatenate([tableaux, pad], axis=1),
        np.concatenate([bases, np.full((count, rows - have), -1, dtype=np.intp)], axis=1),
    )


def _departures(
    tab_p: FloatArray, tab_q: FloatArray, basis_p: IntArray, basis_q: IntArray, arrived: IntArray
) -> _Batch:
    """The paths leaving the given vertex pairs (unpadded tableaux), one per label but
    the arrival label."""
    n, m = basis_p.shape[1], basis_q.shape[1]
    size, rows = m + n, max(m, n)
    tab_p, basis_p = _pad(tab_p, basis_p, rows)
    tab_q, basis_q = _pad(tab_q, basis_q, rows)
    origin, labels = np.divmod(np.arange(len(arrived) * size), size)
    keep = labels != arrived[origin]
    origin, labels = origin[keep], labels[keep]
    # Label l is present (its variable nonbasic) in exactly one polytope: enter it there.
    in_p = ~np.any(basis_p[origin] == labels[:, None], axis=1)
    p = in_p[:, None, None]
    return _Batch(
        np.where(p, tab_p[origin], tab_q[origin]),
        np.where(p, tab_q[origin], tab_p[origin]),
        np.where(p[:, :, 0], basis_p[origin], basis_q[origin]),
        np.where(p[:, :, 0], basis_q[origin], basis_p[origin]),
        in_p,
        labels,
        labels.copy(),
        np.zeros(len(labels), dtype=np.intp),
        np.asarray(arrived[origin] < 0),
    )


def lemke_howson_graph(
    game: NormalFormGame,
    *,
    max_pivots: int | None = None,
    time_limit: float | None = None,
) -> LemkeHowsonSearch:
    """Every equilibrium reachable from ``(0, 0)`` on the Lemke-Howson graph.

    Starts with the paths from ``(0, 0)`` for all ``m + n`` labels (the equilibria of
    :func:`~theory.equilibria.lemke.lemke_howson_all`), then follows, from every new
    equilibrium, the paths for all its labels but the one it was reached by, until
    no path leads to a new one. The result lists the equilibria (each verified by the
    best-response check); ``skipped`` holds the labels whose paths from ``(0, 0)`` were
    abandoned and ``unfinished`` counts, by reason, the abandoned paths from found
    equilibria, so ``complete`` says whether the whole component was explored.
    ``max_pivots`` (per path, default ``50 * (m + n)``) and ``time_limit`` (seconds,
    whole search) bound the work. Raises :class:`IterationLimitError` or
    :class:`SolverTimeLimitError` when no equilibrium was found at all.
    """
    A0, B0 = require_two_players(game, "Lemke-Howson")
    m, n = game.num_strategies
    size = m + n
    limit = max_pivots if max_pivots is not None else 50 * size
    deadline = None if time_limit is None else time.perf_counter() + time_limit
    A, B = positive_scaled(A0), positive_scaled(B0)
    init_p = np.hstack([B.T, np.eye(n), np.ones((n, 1))])
    init_q = np.hstack([np.eye(m), A, np.ones((m, 1))])
    search = _Search(game, init_p, init_q)
    start_p, start_q = np.arange(m, size)[None], np.arange(m)[None]
    search.seen.update(_keys(start_p, start_q, size))
    queue = [_departures(init_p[None], init_q[None], start_p, start_q, np.array([-1]))]
    active = queue[0].take(slice(0, 0))
    slack_p, slack_q = np.arange(m, size), np.arange(m)
    step = 0
    with np.errstate(divide="ignore", invalid="ignore"):
        while True:
            if queue and len(active) < MAX_ACTIVE:
                pool = _Batch.join([active, *queue])
                active = pool.take(slice(0, MAX_ACTIVE))
                queue = [pool.take(slice(MAX_ACTIVE, None))] if len(pool) > MAX_ACTIVE else []
            if not len(active):
                break
            if deadline is not None and step % CLOCK_EVERY == 0 and time.perf_counter() > deadline:
                for batch in (active, *queue):
                    search.abandon(batch, TIME_LIMIT)
                break
            step += 1
            done, failed = _pivot_step(active, slack_p, slack_q)
            over = ~done & ~failed & (active.steps >= limit)
            stop = done | failed | over
            if stop.any():
                if failed.any():
                    search.abandon(active.take(failed), NUMERICAL)
                if over.any():
                    search.abandon(active.take(over), PIVOT_LIMIT)
                if done.any():
                    spawned = search.arrive(active, np.flatnonzero(done))
                    if spawned is not None:
                        queue.append(spawned)
                active = active.take(~stop)
            active.swap()
    result = LemkeHowsonSearch(
        sort_equilibria(search.found), search.skipped, limit, time_limit, search.unfinished
    )
    if not search.found:
        reasons = set(search.skipped.values()) | set(search.unfinished)
        error = SolverTimeLimitError if TIME_LIMIT in reasons else IterationLimitError
        raise error(
            f"Lemke-Howson finished from no label of this {m}x{n} game: "
            f"{result.skipped_summary()}. Fix: raise max_pivots or time_limit."
        )
    return result


def _keys(basis_p: IntArray, basis_q: IntArray, size: int) -> list[bytes]:
    """A hashable key per vertex pair: its two sets of basic variables, as bit strings
    (padding entries -1 land in a spare last column)."""
    member = np.zeros((len(basis_p), 2 * size + 1), dtype=bool)
    at = np.arange(len(basis_p))[:, None]
    member[at, np.where(basis_p < 0, 2 * size, basis_p)] = True
    member[at, np.where(basis_q < 0, 2 * size, basis_q + size)] = True
    return [row.tobytes() for row in np.packbits(member[:, : 2 * size], axis=1)]


class _Search:
    """Bookkeeping of :func:`lemke_howson_graph`: bases seen, equilibria found, paths
    abandoned."""

    def __init__(self, game: NormalFormGame, init_p: FloatArray, init_q: FloatArray) -> None:
        self.game, self.init_p, self.init_q = game, init_p, init_q
        self.m, self.n = game.num_strategies
        self.seen: set[bytes] = set()
        self.found: list[Equilibrium] = []
        self.skipped: dict[int, str] = {}
        self.unfinished: dict[str, int] = {}

    def abandon(self, batch: _Batch, why: str) -> None:
        for label, from_origin in zip(
            batch.labels.tolist(), batch.from_origin.tolist(), strict=True
        ):
            if from_origin:
                self.skipped[int(label)] = why
            else:
                self.unfinished[why] = self.unfinished.get(why, 0) + 1

    def arrive(self, batch: _Batch, rows: IntArray) -> _Batch | None:
        """Verify the end points of the paths ``rows`` not seen before, record them, and
        return the paths that leave them (None if there are none)."""
        m, n = self.m, self.n
        size = m + n
        basis_p, basis_q = batch.sides(rows)
        # Drop the padding: P has n real rows, Q has m.
        basis_p, basis_q = basis_p[:, :n], basis_q[:, :m]
        new = []
        for t, key in enumerate(_keys(basis_p, basis_q, size)):
            if key not in self.seen:
                self.seen.add(key)
                new.append(t)
        if not new:
            return None
        basis_p, basis_q = basis_p[new], basis_q[new]
        tab_p, tab_q = batch.tableaux(rows[new])
        tab_p, tab_q = tab_p[:, :n], tab_q[:, :m]
        pivoted = (tab_p, tab_q)
        rebuilt_p, rebuilt_q = _rebuild(self.init_p, basis_p), _rebuild(self.init_q, basis_q)
        rebuilt = None if rebuilt_p is None or rebuilt_q is None else (rebuilt_p, rebuilt_q)
        keep = np.zeros(len(new), dtype=bool)
        for candidate_p, candidate_q in (pivoted,) if rebuilt is None else (rebuilt, pivoted):
            if keep.all():
                break
            x = np.zeros((len(new), size))
            np.put_along_axis(x, basis_p, candidate_p[:, :, -1], axis=1)
            y = np.zeros((len(new), size))
            np.put_along_axis(y, basis_q, candidate_q[:, :, -1], axis=1)
            feasible = (candidate_p[:, :, -1].min(axis=1) >= -FEASIBILITY_TOL) & (
                candidate_q[:, :, -1].min(axis=1) >= -FEASIBILITY_TOL
            )
            for t in np.flatnonzero(~keep & feasible).tolist():
                xt, yt = x[t, :m], y[t, m:]
                if xt.sum() <= 0 or yt.sum() <= 0:
                    continue
                try:
                    eq = verify_equilibrium(self.game, (xt, yt), method="Lemke-Howson")
                except NumericalError:
                    continue
                self.found.append(eq)
                keep[t] = True
        failed = int(np.count_nonzero(~keep))
        if failed:
            self.unfinished[NUMERICAL] = self.unfinished.get(NUMERICAL, 0) + failed
        if not keep.any():
            return None
        out_p, out_q = rebuilt if rebuilt is not None else pivoted
        arrived = batch.labels[rows[new]][keep]
        return _departures(out_p[keep], out_q[keep], basis_p[keep], basis_q[keep], arrived)
