"""Adaptive sampling of a payoff table: ResponseGraphUCB (Rowland et al. 2019).

Playing every pairing of agents equally often wastes episodes: most comparisons are
settled after a handful of games, a few are close and need many. Rowland, Omidshafiei,
Tuyls, Perolat, Valko, Piliouras & Munos, "Multiagent evaluation under incomplete
information" (NeurIPS 2019, arXiv:1909.09849) sample where the *ranking* is still in
doubt. The ranking they target is alpha-rank's in the limit of large alpha, which is
determined by the **response graph**: its nodes are the pure profiles and each edge
joins two profiles that differ in one player's strategy, pointing to the one that
player prefers. Once every edge's direction is known with confidence, the ranking is
known; so the sampler keeps a confidence interval on each payoff, marks an edge
*resolved* when the intervals of its two ends separate, and spends episodes only on
profiles that still have unresolved edges.

:class:`ResponseGraphUCB` is that sampler as an object a scheduler drives in lock-step:
:meth:`~ResponseGraphUCB.propose` returns the next batch of ``k`` cells to play
(possibly repeating a cell), :meth:`~ResponseGraphUCB.update` records the payoffs, and
:attr:`~ResponseGraphUCB.resolved` says when to stop. Choices, following OpenSpiel's
``response_graph_ucb.py``:

* **Confidence bounds.** Payoffs are assumed ``sigma``-sub-Gaussian: payoffs bounded in
  ``[a, b]`` are with ``sigma = (b - a) / 2`` (Hoeffding), so the default 0.5 fits
  0/1 outcomes. The radius after ``n`` episodes is ``sigma sqrt(2 log(2 / delta_n) / n)``
  with ``delta_n = delta / K * 6 / (pi^2 n^2)``: a union bound over the ``K`` estimates
  and over every ``n`` (``sum 6 / (pi n)^2 = 1``), so *all* intervals hold at *all* times
  with probability at least ``1 - delta`` and stopping whenever the data say so is safe
  (OpenSpiel's ``time_dependent_delta`` with ``per_payoff_confidence=False``). The
  final graph is then correct with probability at least ``1 - delta``.
* **Resolution.** Role-split edges compare two cells' payoffs for the deviating seat;
  an edge is resolved when ``|mean_a - mean_b| + epsilon > radius_a + radius_b``.
  With ``epsilon = 0`` the intervals are disjoint; ``epsilon > 0`` (the paper's
  relaxation) also stops on edges whose payoff gap is certainly below ``epsilon``, whose
  direction is then not guaranteed. Resolved edges stay resolved.
* **Symmetric games** (one population): the single-population response graph has one
  edge per pair ``{i, j}``, pointing to whichever of ``M[i, j]`` and ``M[j, i]`` is
  larger (the infinite-alpha comparison of :func:`theory.evaluation.alpha_rank`). Both
  come from the same episodes, so the edge uses the mean of the per-episode difference
  ``payoff_i - payoff_j``, sub-Gaussian with ``2 sigma``.
* **Which cells.** Among cells that still have an unresolved edge, the ones with the
  fewest episodes first (OpenSpiel's ``count-weighted`` exploration); a batch of ``k``
  water-fills counts, so cells repeat only when fewer than ``k`` are in doubt. Cells
  start with ``min_samples`` forced episodes each.

:func:`compare_sampling` measures the saving on a synthetic table with known means:
both samplers play until the *same* stopping rule certifies the whole response graph,
uniform sampling round-robin over every cell and ResponseGraphUCB where it is needed,
and both results are checked against the true graph.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from theory.errors import InvalidGameError

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
Cell = tuple[str, str]


@dataclass(frozen=True)
class ResponseEdge:
    """One edge of the estimated response graph.

    Role-split: ``worse`` and ``better`` are profiles ``(row agent, column agent)``
    that differ in seat ``player``'s agent, and that seat earns more at ``better``.
    Symmetric: they are agents (as 1-tuples) and ``better`` wins the pairing
    (``M[better, worse] > M[worse, better]``). ``gap`` is the estimated payoff
    difference (>= 0); ``resolved`` says whether the confidence intervals have
    separated (unresolved edges are oriented by the current means).
    """

    worse: tuple[str, ...]
    better: tuple[str, ...]
    player: int
    gap: float
    resolved: bool


class ResponseGraphUCB:
    """ResponseGraphUCB sampler over a table of agents (Rowland et al. 2019).

    ``ResponseGraphUCB(rows, cols)`` samples a role-split table (cells are
    ``(row agent, column agent)``); ``ResponseGraphUCB(agents)`` a symmetric round
    robin (cells are pairs ``(agents[i], agents[j])``, ``i < j``; self-play is not
    needed and is ignored by :meth:`update`). ``delta`` is the probability that the
    final graph is wrong; ``sigma`` the sub-Gaussian scale of one payoff (0.5 for
    payoffs in [0, 1]); ``epsilon`` the relaxation (see the module docstring).
    """

    def __init__(
        self,
        row_agents: Sequence[str],
        col_agents: Sequence[str] | None = None,
        *,
        delta: float = 0.1,
        sigma: float = 0.5,
        epsilon: float = 0.0,
        min_samples: int = 1,
    ) -> None:
        if not 0.0 < delta < 1.0:
            raise InvalidGameError(f"delta must lie in (0, 1), got {delta}.")
        if not sigma > 0 or not math.isfinite(sigma):
            raise InvalidGameError(f"sigma must be a positive number, got {sigma}.")
        if not epsilon >= 0 or not math.isfinite(epsilon):
            raise InvalidGameError(f"epsilon must be >= 0, got {epsilon}.")
        if min_samples < 1:
            raise InvalidGameError(f"min_samples must be at least 1, got {min_samples}.")
        self.symmetric = col_agents is None
        self.row_agents = _labels(row_agents, "agents" if self.symmetric else "row agents")
        self.col_agents = (
            self.row_agents if col_agents is None else _labels(col_agents, "column agents")
        )
        self.delta = float(delta)
        self.sigma = float(sigma)
        self.epsilon = float(epsilon)
        self.min_samples = int(min_samples)
        self._row_index = {a: k for k, a in enumerate(self.row_agents)}
        self._col_index = {a: k for k, a in enumerate(self.col_agents)}
        m, n = len(self.row_agents), len(self.col_agents)
        if self.symmetric:
            if m < 2:
                raise InvalidGameError("a symmetric table needs at least two agents.")
            iu, ju = np.triu_indices(m, k=1)
            self._cells = np.stack([iu, ju], axis=1).astype(np.int64)  # (pairs, 2)
            # edge e is pair e; its statistic is the mean of payoff_i - payoff_j
            self._edge_a = np.arange(len(iu), dtype=np.int64)
            self._edge_b = self._edge_a
            self._edge_player = np.zeros(len(iu), dtype=np.int64)
            self._estimates = len(iu)
            self._edge_sigma = 2.0 * self.sigma
        else:
            rr, cc = np.meshgrid(np.arange(m), np.arange(n), indexing="ij")
            self._cells = np.stack([rr.ravel(), cc.ravel()], axis=1).astype(np.int64)
            ea, eb, ep = [], [], []
            for c in range(n):  # row seat deviates: (r, c) vs (r2, c)
                for r in range(m):
                    for r2 in range(r + 1, m):
                        ea.append(r * n + c)
                        eb.append(r2 * n + c)
                        ep.append(0)
            for r in range(m):  # column seat deviates: (r, c) vs (r, c2)
                for c in range(n):
                    for c2 in range(c + 1, n):
                        ea.append(r * n + c)
                        eb.append(r * n + c2)
                        ep.append(1)
            self._edge_a = np.array(ea, dtype=np.int64)
            self._edge_b = np.array(eb, dtype=np.int64)
            self._edge_player = np.array(ep, dtype=np.int64)
            self._estimates = (m * n if m > 1 else 0) + (m * n if n > 1 else 0)
            self._edge_sigma = self.sigma
            if self._edge_a.size == 0:
                raise InvalidGameError("a 1x1 table has no response graph to resolve.")
        cells = self._cells.shape[0]
        self._count = np.zeros(cells, dtype=np.int64)
        self._sum = np.zeros((cells, 2))  # symmetric: column 0 sums payoff_i - payoff_j
        self._resolved = np.zeros(self._edge_a.size, dtype=bool)
        self._sign = np.zeros(self._edge_a.size)  # +1: b better than a (resolved edges)
        self.episodes = 0

    # -- bookkeeping --------------------------------------------------------------------

    @property
    def cells(self) -> list[Cell]:
        """Every cell the sampler may propose, in its internal order."""
        return [self._cell_name(k) for k in range(self._cells.shape[0])]

    def _cell_name(self, k: int) -> Cell:
        i, j = self._cells[k]
        return (self.row_agents[i], self.col_agents[j])

    def _cell_id(self, agent_0: str, agent_1: str) -> tuple[int, bool] | None:
        """Cell index of a seating and whether its payoffs are reversed; None for self-play."""
        if agent_0 not in self._row_index:
            raise InvalidGameError(f"unknown agent {agent_0!r} in seat 0.")
        if agent_1 not in self._col_index:
            raise InvalidGameError(f"unknown agent {agent_1!r} in seat 1.")
        i, j = self._row_index[agent_0], self._col_index[agent_1]
        if not self.symmetric:
            return i * len(self.col_agents) + j, False
        if i == j:
            return None
        lo, hi = min(i, j), max(i, j)
        n = len(self.row_agents)
        # index of (lo, hi) in np.triu_indices(n, 1) order
        k = lo * n - lo * (lo + 1) // 2 + (hi - lo - 1)
        return k, i > j

    def update(self, agent_0: str, agent_1: str, payoffs: ArrayLike) -> None:
        """Record episodes of ``agent_0`` (seat 0) against ``agent_1`` (seat 1).

        ``payoffs`` is ``(payoff_0, payoff_1)`` or an array ``(episodes, 2)``. In a
        symmetric table either seating of a pair may be given; self-play is ignored.
        """
        data = np.asarray(payoffs, dtype=np.float64)
        if data.ndim == 1:
            data = data[None, :]
        if data.ndim != 2 or data.shape[1] != 2:
            raise InvalidGameError(
                f"payoffs must be (payoff_0, payoff_1) or shape (episodes, 2), got {data.shape}."
            )
        if not np.all(np.isfinite(data)):
            raise InvalidGameError("payoffs contain NaN or infinite values.")
        found = self._cell_id(str(agent_0), str(agent_1))
        if found is None:
            return
        k, flipped = found
        self._add(np.full(data.shape[0], k), data[:, ::-1] if flipped else data)

    def update_many(self, episodes: Iterable[tuple[str, str, float, float]]) -> None:
        """Record ``(agent_0, agent_1, payoff_0, payoff_1)`` episodes."""
        for a, b, pa, pb in episodes:
            self.update(a, b, (pa, pb))

    def _add(self, cells: IntArray, data: FloatArray) -> None:
        size = self._count.size
        self._count += np.bincount(cells, minlength=size)
        if self.symmetric:
            self._sum[:, 0] += np.bincount(cells, data[:, 0] - data[:, 1], minlength=size)
        else:
            self._sum[:, 0] += np.bincount(cells, data[:, 0], minlength=size)
            self._sum[:, 1] += np.bincount(cells, data[:, 1], minlength=size)
        self.episodes += int(cells.size)
        self._refresh()

    def counts(self) -> IntArray:
        """Episodes per cell as a matrix (symmetric: ``[i, j]`` and ``[j, i]`` both hold
        the pair's count)."""
        m, n = len(self.row_agents), len(self.col_agents)
        out = np.zeros((m, n), dtype=np.int64)
        out[self._cells[:, 0], self._cells[:, 1]] = self._count
        if self.symmetric:
            out[self._cells[:, 1], self._cells[:, 0]] = self._count
        return out

    def radius(self, count: ArrayLike, sigma: float | None = None) -> FloatArray:
        """Confidence radius after ``count`` episodes (``inf`` for 0), see the module doc."""
        n = np.asarray(count, dtype=np.float64)
        s = self._edge_sigma if sigma is None else sigma
        with np.errstate(divide="ignore", invalid="ignore"):
            delta_n = self.delta / max(self._estimates, 1) * 6.0 / (math.pi**2 * n**2)
            r = s * np.sqrt(2.0 * np.log(2.0 / delta_n) / n)
        return np.asarray(np.where(n > 0, r, np.inf), dtype=np.float64)

    def _edge_stats(self, edges: IntArray | None = None) -> tuple[FloatArray, FloatArray]:
        """Per edge (all, or ``edges``): estimated gap (b minus a) and summed radius."""
        ea = self._edge_a if edges is None else self._edge_a[edges]
        counts = self._count
        if self.symmetric:
            n = counts[ea]
            mean = self._sum[ea, 0] / np.maximum(n, 1)
            # b better than a <=> M[j, i] > M[i, j] <=> mean(payoff_i - payoff_j) < 0
            return -mean, self.radius(n)
        eb = self._edge_b if edges is None else self._edge_b[edges]
        p = self._edge_player if edges is None else self._edge_player[edges]
        cell_radius = self.radius(counts)  # one per cell, shared by its edges
        safe = np.maximum(counts, 1)
        mean_a = self._sum[ea, p] / safe[ea]
        mean_b = self._sum[eb, p] / safe[eb]
        return mean_b - mean_a, cell_radius[ea] + cell_radius[eb]

    def _refresh(self) -> None:
        open_edges = np.flatnonzero(~self._resolved)
        if open_edges.size == 0:
            return
        gap, rad = self._edge_stats(open_edges)
        newly = np.abs(gap) + self.epsilon > rad
        self._sign[open_edges[newly]] = np.where(gap[newly] >= 0, 1.0, -1.0)
        self._resolved[open_edges[newly]] = True

    @property
    def resolved(self) -> bool:
        """True once every edge of the response graph is resolved: stop sampling."""
        return bool(self._resolved.all())

    @property
    def num_unresolved(self) -> int:
        return int((~self._resolved).sum())

    # -- proposing ----------------------------------------------------------------------

    def _candidates(self) -> IntArray:
        """Cells that still have an unresolved edge."""
        open_edges = ~self._resolved
        if self.symmetric:
            return np.flatnonzero(open_edges).astype(np.int64)
        mask = np.zeros(self._cells.shape[0], dtype=bool)
        mask[self._edge_a[open_edges]] = True
        mask[self._edge_b[open_edges]] = True
        return np.flatnonzero(mask).astype(np.int64)

    def propose_ids(self, k: int) -> IntArray:
        """Like :meth:`propose` but returns internal cell indices (for simulations)."""
        if k < 1:
            raise InvalidGameError(f"k must be at least 1, got {k}.")
        # Forced exploration: cells below min_samples have the lowest counts, so the
        # water-filling serves them first; then the cells that still matter.
        short = np.flatnonzero(self._count < self.min_samples)
        pool = np.union1d(short, self._candidates()).astype(np.int64)
        if pool.size == 0:
            return np.zeros(0, dtype=np.int64)
        return _water_fill(pool, self._count[pool].astype(np.float64), k)

    def propose(self, k: int = 1) -> list[Cell]:
        """The next ``k`` cells to play, as ``(seat-0 agent, seat-1 agent)``.

        Empty when :attr:`resolved`. Cells may repeat when fewer than ``k`` cells still
        matter (a lock-step scheduler keeps its batch full that way).
        """
        return [self._cell_name(int(c)) for c in self.propose_ids(k)]

    # -- results ------------------------------------------------------------------------

    def response_graph(self) -> list[ResponseEdge]:
        """Every edge, oriented by its resolved direction (else by the current means)."""
        gap, _ = self._edge_stats()
        edges = []
        for e in range(self._edge_a.size):
            sign = self._sign[e] if self._resolved[e] else (1.0 if gap[e] >= 0 else -1.0)
            a, b = int(self._edge_a[e]), int(self._edge_b[e])
            lo: tuple[str, ...]
            hi: tuple[str, ...]
            if self.symmetric:
                i, j = self._cells[a]
                lo, hi = (self.row_agents[i],), (self.row_agents[j],)
            else:
                lo, hi = self._cell_name(a), self._cell_name(b)
            worse, better = (lo, hi) if sign > 0 else (hi, lo)
            edges.append(
                ResponseEdge(
                    worse=tuple(worse),
                    better=tuple(better),
                    player=int(self._edge_player[e]),
                    gap=float(abs(gap[e])),
                    resolved=bool(self._resolved[e]),
                )
            )
        return edges

    def edge_directions(self) -> FloatArray:
        """Per edge (internal order): +1 if its second end is better, -1 otherwise."""
        gap, _ = self._edge_stats()
        return np.where(self._resolved, self._sign, np.where(gap >= 0, 1.0, -1.0))


def _labels(values: Sequence[str], what: str) -> tuple[str, ...]:
    out = tuple(str(v) for v in values)
    if not out:
        raise InvalidGameError(f"{what} must not be empty.")
    if len(set(out)) != len(out):
        raise InvalidGameError(f"{what} must be unique, got {out}.")
    return out


def _water_fill(pool: IntArray, counts: FloatArray, k: int) -> IntArray:
    """``k`` draws from ``pool`` that raise the lowest counts first (ties: pool order).

    Closed form: with the counts sorted, topping up the ``j`` lowest cells to the
    ``j``-th lowest count costs ``j c_(j) - sum_{i<=j} c_(i)``, which grows with ``j``; the
    largest affordable ``j`` gives the fill level ``L = floor((k + sum_{i<=j} c_(i)) / j)``.
    Cells below ``L`` are topped up to it and the remaining draws go to the first cells
    at ``L``. The draws are listed level by level, so a prefix of the batch is itself a
    water-filling.
    """
    c = counts.astype(np.float64)
    sorted_c = np.sort(c)
    prefix = np.cumsum(sorted_c)
    cost = np.arange(1, c.size + 1) * sorted_c - prefix
    j = int(np.searchsorted(cost, k, side="right"))  # >= 1: cost[0] == 0
    level = math.floor((k + prefix[j - 1]) / j)
    amounts = np.maximum(0.0, level - c).astype(np.int64)
    spare = k - int(amounts.sum())
    at_level = np.flatnonzero(c + amounts == level)
    amounts[at_level[:spare]] += 1
    ids = np.repeat(np.arange(pool.size), amounts)
    starts = np.cumsum(amounts) - amounts
    copy = np.arange(ids.size) - np.repeat(starts, amounts)
    order = np.lexsort((ids, c[ids] + copy))
    return np.asarray(pool[ids[order]], dtype=np.int64)


# -- measuring the saving ---------------------------------------------------------------


@dataclass(frozen=True)
class SamplingComparison:
    """Episodes that adaptive and uniform sampling needed to certify the response graph.

    ``episodes_*`` are means over ``seeds``; ``ratio = episodes_uniform /
    episodes_adaptive`` (above 1: adaptive saves episodes). ``*_recovered`` is True when
    every seed's final graph equals the true one (edges whose true gap is at most
    ``epsilon`` excepted); ``hit_cap`` when a run stopped at ``max_episodes`` (its count
    is then a lower bound).
    """

    episodes_adaptive: float
    episodes_uniform: float
    ratio: float
    adaptive_recovered: bool
    uniform_recovered: bool
    per_seed_adaptive: tuple[int, ...]
    per_seed_uniform: tuple[int, ...]
    seeds: tuple[int, ...]
    delta: float
    batch_size: int
    hit_cap: bool

    @property
    def recovered(self) -> bool:
        """Both samplers recovered the true response graph on every seed."""
        return self.adaptive_recovered and self.uniform_recovered

    def __str__(self) -> str:
        def ok(flag: bool) -> str:
            return "recovered" if flag else "NOT recovered"

        cap = " (hit max_episodes: counts are lower bounds)" if self.hit_cap else ""
        return (
            f"adaptive {self.episodes_adaptive:,.0f} episodes ({ok(self.adaptive_recovered)}), "
            f"uniform {self.episodes_uniform:,.0f} ({ok(self.uniform_recovered)}): "
            f"uniform / adaptive = {self.ratio:.2f}x; delta {self.delta:g}, "
            f"{len(self.seeds)} seeds, batches of {self.batch_size}{cap}"
        )


def synthetic_table(
    n_rows: int,
    n_cols: int | None = None,
    *,
    symmetric: bool = False,
    seed: int = 0,
    min_gap: float = 0.05,
    low: float = 0.05,
    high: float = 0.95,
) -> FloatArray:
    """A payoff table with known means, no tied edges, and a mix of easy and hard ones.

    Role-split (default): shape ``(2, n_rows, n_cols)``. Seat 0's mean (say, attack
    success) is a shuffled Latin square over ``K = max(n_rows, n_cols)`` levels in
    ``[low, high]``, so every row and every column holds distinct values; the gaps
    between consecutive levels are ``min_gap`` plus a random (Dirichlet) share of the
    remaining range, so a few comparisons are hard and most are easy, as in a
    tournament of agents of unequal strength. Seat 1's mean is ``1 -`` seat 0's
    (constant-sum). Symmetric (``symmetric=True``): shape ``(n, n)``, Bradley-Terry win
    rates ``M[i, j] = sigmoid(theta_i - theta_j)`` for strengths 0.5 apart in random
    order (the closest pairs win 62% of games, the farthest nearly all).
    """
    rng = np.random.default_rng(seed)
    if symmetric:
        if n_cols is not None and n_cols != n_rows:
            raise InvalidGameError("a symmetric table is square: omit n_cols.")
        theta = rng.permutation(n_rows) * 0.5
        return np.asarray(
            1.0 / (1.0 + np.exp(-(theta[:, None] - theta[None, :]))), dtype=np.float64
        )
    n_cols = n_rows if n_cols is None else n_cols
    levels = max(n_rows, n_cols)
    if levels < 2:
        raise InvalidGameError("a table needs at least two agents on some side.")
    spare = (high - low) - (levels - 1) * min_gap
    if not (min_gap > 0 and spare >= 0):
        raise InvalidGameError(
            f"{levels} levels at least {min_gap} apart do not fit in [{low}, {high}]. "
            "Fix: lower min_gap or widen the range."
        )
    steps = min_gap + spare * rng.dirichlet(np.ones(levels - 1))
    values = low + np.concatenate([[0.0], np.cumsum(steps)])
    grid = (np.arange(n_rows)[:, None] + np.arange(n_cols)[None, :]) % levels
    grid = grid[rng.permutation(n_rows)][:, rng.permutation(n_cols)]
    a = values[rng.permutation(levels)][grid]
    return np.stack([a, 1.0 - a]).astype(np.float64)


def _true_directions(sampler: ResponseGraphUCB, means: FloatArray) -> tuple[FloatArray, FloatArray]:
    """True direction (+1: second end better) and |gap| of every edge of ``sampler``."""
    if sampler.symmetric:
        i, j = sampler._cells[:, 0], sampler._cells[:, 1]
        gap = means[j, i] - means[i, j]
    else:
        n = len(sampler.col_agents)
        a, b, p = sampler._edge_a, sampler._edge_b, sampler._edge_player
        gap = means[p, b // n, b % n] - means[p, a // n, a % n]
    return np.where(gap >= 0, 1.0, -1.0), np.abs(gap)


def _simulate(
    means: FloatArray,
    sampler: ResponseGraphUCB,
    cells: IntArray,
    outcome: str,
    noise_sd: float,
    constant_sum: bool,
    rng: np.random.Generator,
) -> FloatArray:
    """Payoffs ``(len(cells), 2)`` for episodes of ``cells`` drawn from the true table."""
    r, c = sampler._cells[cells, 0], sampler._cells[cells, 1]
    if sampler.symmetric:
        mu0, mu1 = means[r, c], means[c, r]
    else:
        mu0, mu1 = means[0, r, c], means[1, r, c]
    if outcome == "gaussian":
        return np.stack(
            [
                mu0 + noise_sd * rng.standard_normal(r.size),
                mu1 + noise_sd * rng.standard_normal(r.size),
            ],
            axis=1,
        )
    p0 = (rng.random(r.size) < mu0).astype(np.float64)
    p1 = 1.0 - p0 if constant_sum else (rng.random(r.size) < mu1).astype(np.float64)
    return np.stack([p0, p1], axis=1)


def _run(
    means: FloatArray,
    sampler: ResponseGraphUCB,
    adaptive: bool,
    batch: int,
    outcome: str,
    noise_sd: float,
    constant_sum: bool,
    max_episodes: int,
    rng: np.random.Generator,
) -> tuple[int, bool]:
    """Play until the graph is resolved (or the cap); returns (episodes, capped)."""
    cells_total = sampler._cells.shape[0]
    cursor = 0
    while not sampler.resolved and sampler.episodes < max_episodes:
        size = min(batch, max_episodes - sampler.episodes)
        if adaptive:
            ids = sampler.propose_ids(size)
        else:
            ids = (cursor + np.arange(size)) % cells_total
            cursor = int((cursor + size) % cells_total)
        sampler._add(ids, _simulate(means, sampler, ids, outcome, noise_sd, constant_sum, rng))
    return sampler.episodes, not sampler.resolved


def compare_sampling(
    means: ArrayLike,
    *,
    outcome: Literal["bernoulli", "gaussian"] = "bernoulli",
    noise_sd: float = 0.5,
    delta: float = 0.1,
    epsilon: float = 0.0,
    batch_size: int | None = None,
    seeds: Sequence[int] = (0, 1, 2),
    max_episodes: int = 5_000_000,
) -> SamplingComparison:
    """Episodes ResponseGraphUCB and uniform sampling need on a table with known means.

    ``means`` is a role-split table ``(2, rows, cols)`` (each seat's mean payoff per
    cell) or a symmetric one ``(n, n)`` (``M[i, j]``: mean payoff of ``i`` against
    ``j``); :func:`synthetic_table` makes one. Episodes are Bernoulli draws with those
    means (``outcome="bernoulli"``; when the two seats' means sum to 1 the seats get
    ``x`` and ``1 - x`` from one draw, like win/loss) or Gaussian with standard
    deviation ``noise_sd``. The sampler's ``sigma`` is 0.5 (Bernoulli) or ``noise_sd``.

    For each seed, both samplers play batches of ``batch_size`` episodes (default: one
    per cell, at least 128, as a lock-step scheduler would; the stopping check runs
    after each batch, so counts overshoot by less than one batch) until the *same*
    confidence rule (``delta``, ``epsilon``) resolves every edge: the uniform one
    round-robin over all cells, the adaptive one as :class:`ResponseGraphUCB` proposes.
    Both final graphs are compared with the true one. Raises when the true table has a
    tied edge and ``epsilon`` is 0 (no finite sample would resolve it).
    """
    table = np.asarray(means, dtype=np.float64)
    if table.ndim == 2 and table.shape[0] == table.shape[1]:
        rows: Sequence[str] = [f"a{i}" for i in range(table.shape[0])]
        cols: Sequence[str] | None = None
        constant_sum = bool(np.allclose(table + table.T, 1.0))
    elif table.ndim == 3 and table.shape[0] == 2:
        rows = [f"r{i}" for i in range(table.shape[1])]
        cols = [f"c{j}" for j in range(table.shape[2])]
        constant_sum = bool(np.allclose(table[0] + table[1], 1.0))
    else:
        raise InvalidGameError(
            f"means must have shape (n, n) (symmetric) or (2, rows, cols), got {table.shape}."
        )
    if outcome not in ("bernoulli", "gaussian"):
        raise InvalidGameError(f"outcome must be 'bernoulli' or 'gaussian', got {outcome!r}.")
    if outcome == "bernoulli" and (np.any(table < 0) or np.any(table > 1)):
        raise InvalidGameError("Bernoulli means must lie in [0, 1].")
    if not seeds:
        raise InvalidGameError("seeds must not be empty.")
    sigma = 0.5 if outcome == "bernoulli" else float(noise_sd)

    def make() -> ResponseGraphUCB:
        return ResponseGraphUCB(rows, cols, delta=delta, sigma=sigma, epsilon=epsilon)

    probe = make()
    truth, true_gap = _true_directions(probe, table)
    if epsilon == 0.0 and np.any(true_gap == 0.0):
        e = int(np.flatnonzero(true_gap == 0.0)[0])
        raise InvalidGameError(
            f"the true table has a tie on response-graph edge {e} (equal payoffs), which no "
            "finite sample resolves. Fix: pass epsilon > 0 or break the tie."
        )
    batch = int(batch_size) if batch_size is not None else max(probe._cells.shape[0], 128)
    if batch < 1:
        raise InvalidGameError(f"batch_size must be at least 1, got {batch}.")
    counted = true_gap > epsilon
    results: dict[bool, list[int]] = {True: [], False: []}
    recovered = {True: True, False: True}
    capped = False
    for seed in seeds:
        for adaptive in (True, False):
            sampler = make()
            rng = np.random.default_rng([int(seed), int(adaptive)])
            episodes, hit = _run(
                table,
                sampler,
                adaptive,
                batch,
                outcome,
                float(noise_sd),
                constant_sum,
                max_episodes,
                rng,
            )
            capped |= hit
            results[adaptive].append(episodes)
            same = sampler.edge_directions()[counted] == truth[counted]
            recovered[adaptive] &= bool(np.all(same))
    mean_a = float(np.mean(results[True]))
    mean_u = float(np.mean(results[False]))
    return SamplingComparison(
        episodes_adaptive=mean_a,
        episodes_uniform=mean_u,
        ratio=mean_u / mean_a if mean_a > 0 else math.inf,
        adaptive_recovered=recovered[True],
        uniform_recovered=recovered[False],
        per_seed_adaptive=tuple(results[True]),
        per_seed_uniform=tuple(results[False]),
        seeds=tuple(int(s) for s in seeds),
        delta=float(delta),
        batch_size=batch,
        hit_cap=capped,
    )


def compare_adaptive_uniform(
    means: ArrayLike | None = None,
    *,
    seeds: Sequence[int] = (0, 1, 2),
    delta: float = 0.1,
    batch_size: int | None = None,
    outcome: Literal["bernoulli", "gaussian"] = "bernoulli",
) -> SamplingComparison:
    """Row (d) of ``benchmarks/bench_tournament.py``: :func:`compare_sampling` on a fixed table.

    ``means`` defaults to ``synthetic_table(4, seed=0)``, a 4 x 4 attacker x defender
    table of Bernoulli success rates (constant-sum; consecutive levels at least 0.05
    apart), a few seconds for three seeds; pass ``synthetic_table(10, symmetric=True)``
    for a round robin. Returns the :class:`SamplingComparison`, whose ``str`` is a
    one-line summary.
    """
    table = synthetic_table(4, seed=0) if means is None else means
    return compare_sampling(table, seeds=seeds, delta=delta, batch_size=batch_size, outcome=outcome)
