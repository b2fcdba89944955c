"""Elo and Bradley-Terry ratings from pairwise results, with bootstrap intervals.

Both models say the same thing about one game: agent ``i`` beats agent ``j`` with
probability ``1 / (1 + 10 ** (-(R_i - R_j) / 400))``, a logistic function of the rating
difference (Zermelo 1929; Bradley & Terry 1952; Elo 1978). They differ in how the
ratings are estimated from a list of results:

* :func:`elo` is the online update of Elo (1978), "The Rating of Chessplayers, Past and
  Present": after each game ``R_i += K (s_i - E_i)``. It was designed for players whose
  strength drifts, so recent games weigh more and *the result depends on the order of
  the games*: the same multiset of results played in another order gives other
  ratings (Chiang et al. 2024, "Chatbot Arena", arXiv:2403.04132, show the effect on
  LLM leaderboards). A frozen checkpoint does not drift, so the order is an
  accident of scheduling. ``permutations=N`` therefore averages the final ratings over
  ``N`` random orders of the games (seeded), which removes that accident; the
  sequential update is kept (``permutations=0``) for runs whose order means something,
  such as a training curve.
* :func:`bradley_terry` is the maximum-likelihood fit of the same model (Bradley &
  Terry 1952; Hunter 2004, "MM algorithms for generalized Bradley-Terry models", Ann.
  Statist. 32). It uses every game with equal weight and is order-free, so it is the
  estimate to report for frozen agents; :func:`elo` is there for continuity with
  leaderboards people already read.

Ties count as half a win for each side (score 0.5), the convention of chess and of
Chatbot Arena; a model with its own tie parameter (Davidson 1970) would need more data
per pair than a tournament usually has.

Intervals come from the bootstrap (Efron & Tibshirani 1993) with *episodes resampled
within each pair*: every pair keeps its number of games, so the design of the
tournament (who played whom, how often) is held fixed and only the luck of the games
varies. Intervals are percentile intervals of the replicates; ranks get intervals the
same way, since "is A really better than B" is usually the question.

Ratings are reported on the Elo scale (400 points = a factor of 10 in the odds),
centred so that their mean is ``base`` (1500 by default), so Elo and Bradley-Terry
numbers can be printed side by side.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.sparse import csr_array
from scipy.sparse.csgraph import connected_components
from scipy.special import expit

from theory.errors import InvalidGameError, NumericalError

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

ELO_SCALE = 400.0 / math.log(10.0)
"""Elo points per natural-log unit of the odds: ``R = base + ELO_SCALE * theta``."""

DEFAULT_RIDGE = 0.01
"""Default ridge of :func:`bradley_terry` (a N(0, 1/0.01) = N(0, 10^2) prior on theta)."""

Record = tuple[str, str, float]
"""One game: ``(agent_i, agent_j, score_i)`` with ``score_i`` 1 (i won), 0.5 (tie), 0 (lost)."""


@dataclass(frozen=True)
class PairwiseOutcomes:
    """Games between pairs of agents, as parallel arrays (one entry per game).

    ``first[e]`` and ``second[e]`` index ``labels``; ``score[e]`` in ``[0, 1]`` is the
    score of ``first[e]`` (``second[e]`` scores ``1 - score[e]``). ``ordered`` says
    whether the order of the games means something: True for records in the order
    they were played (:meth:`from_records`), False for data built from a count
    matrix (:meth:`from_counts`), on which sequential Elo is refused.
    """

    labels: tuple[str, ...]
    first: IntArray
    second: IntArray
    score: FloatArray
    ordered: bool = True

    def __post_init__(self) -> None:
        n = len(self.labels)
        if len(set(self.labels)) != n:
            raise InvalidGameError("agent labels must be unique.")
        first = np.asarray(self.first, dtype=np.int64)
        second = np.asarray(self.second, dtype=np.int64)
        score = np.asarray(self.score, dtype=np.float64)
        if not first.shape == second.shape == score.shape or first.ndim != 1:
            raise InvalidGameError("first, second and score must be 1-D arrays of one length.")
        if first.size and (
            min(int(first.min()), int(second.min())) < 0
            or max(int(first.max()), int(second.max())) >= n
        ):
            raise InvalidGameError(f"agent indices must lie in 0..{n - 1}.")
        if np.any(first == second):
            e = int(np.flatnonzero(first == second)[0])
            raise InvalidGameError(
                f"game {e} pits {self.labels[first[e]]!r} against itself; self-play says "
                "nothing about relative strength. Fix: drop self-play games."
            )
        if not np.all(np.isfinite(score)) or np.any(score < 0) or np.any(score > 1):
            e = int(np.flatnonzero(~((score >= 0) & (score <= 1)))[0])
            raise InvalidGameError(
                f"game {e} has score {score[e]!r}; scores must lie in [0, 1] "
                "(1 win, 0.5 tie, 0 loss for the first agent)."
            )
        for name, value in (("first", first), ("second", second), ("score", score)):
            value.setflags(write=False)
            object.__setattr__(self, name, value)

    @classmethod
    def from_records(
        cls, records: Iterable[Record], labels: Sequence[str] | None = None
    ) -> PairwiseOutcomes:
        """Games from ``(agent_i, agent_j, score_i)`` records, in the order given.

        ``labels`` fixes the agents and their order (agents without games are allowed
        and get the mean rating); by default agents are numbered in order of first
        appearance.
        """
        index: dict[str, int] = {}
        if labels is not None:
            index = {str(a): k for k, a in enumerate(labels)}
            if len(index) != len(labels):
                raise InvalidGameError("agent labels must be unique.")
        first: list[int] = []
        second: list[int] = []
        score: list[float] = []
        for e, record in enumerate(records):
            try:
                a, b, s = record
            except (TypeError, ValueError) as exc:
                raise InvalidGameError(
                    f"record {e} is {record!r}; expected (agent_i, agent_j, score_i)."
                ) from exc
            ids = []
            for agent in (str(a), str(b)):
                if agent not in index:
                    if labels is not None:
                        raise InvalidGameError(
                            f"record {e} names agent {agent!r}, which is not in labels."
                        )
                    index[agent] = len(index)
                ids.append(index[agent])
            first.append(ids[0])
            second.append(ids[1])
            try:
                score.append(float(s))
            except (TypeError, ValueError) as exc:
                raise InvalidGameError(f"record {e}: score {s!r} is not a number.") from exc
        return cls(
            labels=tuple(index),
            first=np.array(first, dtype=np.int64),
            second=np.array(second, dtype=np.int64),
            score=np.array(score, dtype=np.float64),
            ordered=True,
        )

    @classmethod
    def from_counts(
        cls,
        wins: ArrayLike,
        ties: ArrayLike | None = None,
        labels: Sequence[str] | None = None,
    ) -> PairwiseOutcomes:
        """Games from a count matrix: ``wins[i, j]`` games ``i`` won against ``j``.

        ``ties[i, j]`` (symmetric; ``ties[i, j]`` and ``ties[j, i]`` are the same games,
        so only the upper triangle is read) counts drawn games. The diagonal must be
        zero. The result is unordered: use :func:`bradley_terry`, or :func:`elo` with
        ``permutations > 0``.
        """
        w = np.asarray(wins, dtype=np.float64)
        if w.ndim != 2 or w.shape[0] != w.shape[1]:
            raise InvalidGameError(f"wins must be a square matrix, got shape {w.shape}.")
        n = w.shape[0]
        t = np.zeros_like(w) if ties is None else np.asarray(ties, dtype=np.float64)
        if t.shape != w.shape:
            raise InvalidGameError(f"ties has shape {t.shape}, wins {w.shape}.")
        for name, m in (("wins", w), ("ties", t)):
            if not np.all(np.isfinite(m)) or np.any(m < 0) or np.any(m != np.round(m)):
                raise InvalidGameError(f"{name} must hold non-negative whole numbers.")
            if np.any(np.diag(m) != 0):
                raise InvalidGameError(f"{name} has games on the diagonal (self-play).")
        names = tuple(str(x) for x in labels) if labels is not None else _numbered(n)
        if len(names) != n:
            raise InvalidGameError(f"{len(names)} labels for {n} agents.")
        first: list[IntArray] = []
        second: list[IntArray] = []
        score: list[FloatArray] = []
        for i in range(n):
            for j in range(i + 1, n):
                parts = ((int(w[i, j]), 1.0), (int(w[j, i]), 0.0), (int(t[i, j]), 0.5))
                for count, s in parts:
                    first.append(np.full(count, i, dtype=np.int64))
                    second.append(np.full(count, j, dtype=np.int64))
                    score.append(np.full(count, s))
        empty_i = np.zeros(0, dtype=np.int64)
        return cls(
            labels=names,
            first=np.concatenate(first) if first else empty_i,
            second=np.concatenate(second) if second else empty_i,
            score=np.concatenate(score) if score else np.zeros(0),
            ordered=False,
        )

    def __len__(self) -> int:
        return int(self.score.size)

    @property
    def num_agents(self) -> int:
        return len(self.labels)

    def score_matrix(self) -> tuple[FloatArray, FloatArray]:
        """``(S, N)``: ``S[i, j]`` total score of ``i`` against ``j``, ``N[i, j]`` games."""
        n = self.num_agents
        s = np.zeros((n, n))
        g = np.zeros((n, n))
        np.add.at(s, (self.first, self.second), self.score)
        np.add.at(s, (self.second, self.first), 1.0 - self.score)
        np.add.at(g, (self.first, self.second), 1.0)
        return s, g + g.T

    def games_per_agent(self) -> IntArray:
        counts = np.bincount(self.first, minlength=self.num_agents) + np.bincount(
            self.second, minlength=self.num_agents
        )
        return np.asarray(counts, dtype=np.int64)


def _numbered(n: int) -> tuple[str, ...]:
    return tuple(str(k) for k in range(n))


def as_outcomes(
    data: PairwiseOutcomes | Iterable[Record], labels: Sequence[str] | None = None
) -> PairwiseOutcomes:
    """``data`` as :class:`PairwiseOutcomes` (records are converted in order)."""
    if isinstance(data, PairwiseOutcomes):
        if labels is not None and tuple(labels) != data.labels:
            raise InvalidGameError("labels= conflicts with the labels of the PairwiseOutcomes.")
        return data
    return PairwiseOutcomes.from_records(data, labels)


@dataclass(frozen=True)
class RatingResult:
    """Ratings of agents with bootstrap intervals.

    ``ratings[i]`` is agent ``labels[i]``'s rating on the Elo scale (mean ``base``);
    ``lower``/``upper`` its percentile bootstrap interval at ``confidence`` (NaN when
    ``n_boot == 0``). ``rank[i]`` is 1 for the best agent (competition ranking: equal
    ratings share a rank); ``rank_best``/``rank_worst`` bound the rank over the central
    ``confidence`` share of the bootstrap replicates. ``games[i]`` counts agent ``i``'s
    games. ``note`` flags conditions that limit what the numbers mean (e.g. a
    comparison graph in several pieces); it is empty when there are none.
    """

    method: str
    labels: tuple[str, ...]
    ratings: FloatArray
    lower: FloatArray
    upper: FloatArray
    rank: IntArray
    rank_best: IntArray
    rank_worst: IntArray
    games: IntArray
    confidence: float
    n_boot: int
    base: float
    note: str = ""

    def ranking(self) -> list[str]:
        """Labels from best to worst (stable for equal ratings)."""
        return [self.labels[i] for i in np.argsort(-self.ratings, kind="stable")]

    def win_probability(self, a: str, b: str) -> float:
        """Probability that ``a`` beats ``b`` in one game under the fitted model."""
        i, j = self.labels.index(a), self.labels.index(b)
        return float(1.0 / (1.0 + 10.0 ** (-(self.ratings[i] - self.ratings[j]) / 400.0)))

    def as_rows(self) -> list[dict[str, float | int | str]]:
        """One dict per agent, best first (for tables and JSON)."""
        rows: list[dict[str, float | int | str]] = []
        for i in np.argsort(-self.ratings, kind="stable"):
            rows.append(
                {
                    "agent": self.labels[i],
                    "rating": float(self.ratings[i]),
                    "lower": float(self.lower[i]),
                    "upper": float(self.upper[i]),
                    "rank": int(self.rank[i]),
                    "rank_best": int(self.rank_best[i]),
                    "rank_worst": int(self.rank_worst[i]),
                    "games": int(self.games[i]),
                }
            )
        return rows


def competition_rank(values: ArrayLike) -> IntArray:
    """Rank 1 for the largest value; equal values share the better rank ("1224").

    Works along the last axis, so a ``(replicates, agents)`` array is ranked row by row.
    """
    v = np.asarray(values, dtype=np.float64)
    higher = (v[..., None, :] > v[..., :, None]).sum(axis=-1)
    return np.asarray(1 + higher, dtype=np.int64)


def _check_bootstrap(n_boot: int, confidence: float) -> None:
    if n_boot < 0:
        raise InvalidGameError(f"n_boot must be >= 0, got {n_boot}.")
    if not 0.0 < confidence < 1.0:
        raise InvalidGameError(f"confidence must lie in (0, 1), got {confidence}.")


def _pair_groups(data: PairwiseOutcomes) -> list[IntArray]:
    """Indices of the games of each unordered pair (pairs in order of first game)."""
    lo = np.minimum(data.first, data.second)
    hi = np.maximum(data.first, data.second)
    key = lo * max(data.num_agents, 1) + hi
    _, inverse = np.unique(key, return_inverse=True)
    order = np.argsort(inverse, kind="stable")
    bounds = np.flatnonzero(np.diff(inverse[order])) + 1
    return [np.asarray(g, dtype=np.int64) for g in np.split(order, bounds)] if key.size else []


def _resample_within_pairs(
    data: PairwiseOutcomes, n_boot: int, rng: np.random.Generator
) -> IntArray:
    """``(n_boot, games)`` game indices: slot ``e`` gets a random game of ``e``'s pair.

    Each pair keeps its number of games and, for sequential Elo, the positions of its
    games in the schedule; only which of its games fill them is redrawn.
    """
    out = np.empty((n_boot, len(data)), dtype=np.int64)
    for group in _pair_groups(data):
        out[:, group] = group[rng.integers(0, group.size, size=(n_boot, group.size))]
    return out


def _intervals(
    point: FloatArray, replicates: FloatArray, confidence: float
) -> tuple[FloatArray, FloatArray, IntArray, IntArray]:
    """Percentile intervals of the ratings and of the ranks (NaN / point when no replicates)."""
    n = point.size
    if replicates.shape[0] == 0:
        nan = np.full(n, np.nan)
        rank = competition_rank(point)
        return nan, nan.copy(), rank, rank.copy()
    tail = (1.0 - confidence) / 2.0
    lower = np.quantile(replicates, tail, axis=0)
    upper = np.quantile(replicates, 1.0 - tail, axis=0)
    ranks = competition_rank(replicates)
    best = np.floor(np.quantile(ranks, tail, axis=0)).astype(np.int64)
    worst = np.ceil(np.quantile(ranks, 1.0 - tail, axis=0)).astype(np.int64)
    return lower, upper, best, worst


# -- Elo -----------------------------------------------------------------------------------


def _elo_runs(
    first: IntArray,
    second: IntArray,
    score: FloatArray,
    n_agents: int,
    k: float,
    initial: float,
) -> FloatArray:
    """Final Elo ratings of ``B`` independent runs; inputs have shape ``(games, B)``.

    The runs advance in lock-step (one vectorised update per game index), so a bootstrap
    of a thousand schedules costs about as many numpy calls as one schedule.
    """
    games, runs = score.shape
    if runs == 1:  # plain floats beat numpy by ~10x for a single schedule
        r = [initial] * n_agents
        for a, b, s in zip(
            first[:, 0].tolist(), second[:, 0].tolist(), score[:, 0].tolist(), strict=True
        ):
            d = k * (s - 1.0 / (1.0 + 10.0 ** ((r[b] - r[a]) / 400.0)))
            r[a] += d
            r[b] -= d
        return np.array([r], dtype=np.float64)
    ratings = np.full(runs * n_agents, initial, dtype=np.float64)
    offset = (np.arange(runs, dtype=np.int64) * n_agents)[None, :]
    flat_a = first + offset  # (games, runs): each step reads one contiguous row
    flat_b = second + offset
    s_t = score
    for t in range(games):
        a, b = flat_a[t], flat_b[t]
        ra, rb = ratings[a], ratings[b]
        d = k * (s_t[t] - 1.0 / (1.0 + 10.0 ** ((rb - ra) / 400.0)))
        ratings[a] = ra + d  # a != b within a run and runs use disjoint slots: no aliasing
        ratings[b] = rb - d
    return ratings.reshape(runs, n_agents)


# Elements of the (runs x games) index arrays processed at once: bounds memory, and
# keeps each step's vectors long enough that numpy's per-call overhead is amortised.
_ELO_CHUNK_ELEMENTS = 2_000_000


def _elo_of_schedules(
    data: PairwiseOutcomes,
    games: IntArray,
    permutations: int,
    k: float,
    initial: float,
    rng: np.random.Generator,
) -> FloatArray:
    """Elo for each row of ``games`` (game indices), averaged over random orders if asked.

    With ``permutations = P`` every schedule is repeated ``P`` times, each copy in its
    own random order, and the copies' final ratings are averaged.
    """
    n_sched, n_games = games.shape
    copies = max(permutations, 1)
    rows_per_chunk = max(1, _ELO_CHUNK_ELEMENTS // max(n_games, 1))
    out = np.empty((n_sched * copies, data.num_agents))
    for start in range(0, n_sched * copies, rows_per_chunk):
        rows = np.arange(start, min(start + rows_per_chunk, n_sched * copies))
        g = games[rows // copies]
        if permutations:
            g = rng.permuted(g, axis=1)
        g = np.ascontiguousarray(g.T)
        out[rows] = _elo_runs(
            data.first[g], data.second[g], data.score[g], data.num_agents, k, initial
        )
    return np.asarray(out.reshape(n_sched, copies, -1).mean(axis=1), dtype=np.float64)


def elo(
    data: PairwiseOutcomes | Iterable[Record],
    *,
    k: float = 16.0,
    initial: float = 1500.0,
    permutations: int = 0,
    n_boot: int = 200,
    confidence: float = 0.95,
    seed: int | None = 0,
    labels: Sequence[str] | None = None,
) -> RatingResult:
    """Elo ratings (Elo 1978) with bootstrap intervals.

    Every agent starts at ``initial``; after a game with score ``s`` for ``i`` against
    ``j``, ``R_i += K (s - E)`` and ``R_j -= K (s - E)`` with
    ``E = 1 / (1 + 10 ** ((R_j - R_i) / 400))``. The updates are zero-sum, so the mean
    rating stays ``initial``.

    ``permutations=0`` plays the games in the order given (sequential Elo, which
    depends on that order; refused for unordered data). ``permutations=N`` returns the
    mean of the final ratings over ``N`` random orders instead, which depends only on
    the multiset of results (up to Monte-Carlo error of order ``sd / sqrt(N)``).

    The bootstrap (``n_boot`` replicates, ``seed``) resamples games within each pair.
    With ``permutations=0`` a replicate keeps the schedule (each slot is refilled with a
    random game of the same pair), so the interval reflects only the luck of the games;
    with ``permutations=N`` each replicate is averaged over ``N`` fresh random orders.
    ``K`` trades speed of adaptation for noise: however many games are played, the
    sequential ratings keep fluctuating around the truth with a standard deviation of
    roughly ``sqrt(87 K)`` points (about 37 for ``K = 16``; from linearising the update
    around the truth at even odds), which the interval includes.
    """
    if not k > 0 or not math.isfinite(k):
        raise InvalidGameError(f"k must be a positive number, got {k}.")
    if permutations < 0:
        raise InvalidGameError(f"permutations must be >= 0, got {permutations}.")
    _check_bootstrap(n_boot, confidence)
    outcomes = as_outcomes(data, labels)
    if permutations == 0 and not outcomes.ordered:
        raise InvalidGameError(
            "sequential Elo needs games in the order they were played, but these come from "
            "a count matrix. Fix: pass permutations=N (order-free Elo) or use bradley_terry."
        )
    rng = np.random.default_rng(seed)
    identity = np.arange(len(outcomes), dtype=np.int64)[None, :]
    point = _elo_of_schedules(outcomes, identity, permutations, k, initial, rng)[0]
    if n_boot and len(outcomes):
        games = _resample_within_pairs(outcomes, n_boot, rng)
        replicates = _elo_of_schedules(outcomes, games, permutations, k, initial, rng)
    else:
        replicates = np.zeros((0, outcomes.num_agents))
    lower, upper, best, worst = _intervals(point, replicates, confidence)
    return RatingResult(
        method="elo" if permutations == 0 else f"elo (mean over {permutations} orders)",
        labels=outcomes.labels,
        ratings=point,
        lower=lower,
        upper=upper,
        rank=competition_rank(point),
        rank_best=best,
        rank_worst=worst,
        games=outcomes.games_per_agent(),
        confidence=confidence,
        n_boot=n_boot if len(outcomes) else 0,
        base=initial,
        note=_graph_note(outcomes),
    )


# -- Bradley-Terry -------------------------------------------------------------------------


def _log_sigmoid(x: FloatArray) -> FloatArray:
    return np.asarray(-np.logaddexp(0.0, -x), dtype=np.float64)


def _bt_objective(theta: FloatArray, scores: FloatArray, ridge: float) -> FloatArray:
    """Penalised log-likelihood per row; ``theta (B, n)``, ``scores (B, n, n)``."""
    diff = theta[:, :, None] - theta[:, None, :]
    return np.asarray(
        (scores * _log_sigmoid(diff)).sum(axis=(1, 2)) - 0.5 * ridge * (theta**2).sum(axis=1),
        dtype=np.float64,
    )


def _bt_fit(
    scores: FloatArray,
    games: FloatArray,
    ridge: float,
    tol: float = 1e-10,
    max_iter: int = 100,
) -> FloatArray:
    """MAP log-strengths for a batch of score matrices by damped Newton's method.

    ``scores`` has shape ``(B, n, n)``; ``games`` ``(n, n)`` is shared (the bootstrap
    keeps each pair's number of games). The objective is strictly concave for
    ``ridge > 0``, so Newton's method with backtracking converges from 0 to the unique
    maximiser, quadratically near it (a few iterations; Hunter's MM algorithm is
    monotone too but converges linearly, slowly when an agent is nearly unbeaten).
    """
    runs, n, _ = scores.shape
    theta = np.zeros((runs, n))
    wins = scores.sum(axis=2)
    center = np.full((n, n), 1.0 / n)
    diag = np.arange(n)
    active = np.ones(runs, dtype=bool)
    scale = 1.0 + float(games.sum(axis=1).max(initial=0.0))
    for _ in range(max_iter):
        idx = np.flatnonzero(active)
        if idx.size == 0:
            break
        th = theta[idx]
        p = expit(th[:, :, None] - th[:, None, :])
        grad = wins[idx] - (games * p).sum(axis=2) - ridge * th
        done = np.max(np.abs(grad), axis=1) <= tol * scale
        active[idx[done]] = False
        if np.all(done):
            break
        idx, th, grad = idx[~done], th[~done], grad[~done]
        w = games * p[~done] * (1.0 - p[~done])
        # -Hessian = L(w) + ridge I with L the graph Laplacian of the weights w. The
        # iterates keep sum(theta) = 0 (the gradient sums to -ridge * sum(theta)), so
        # adding 11^T / n changes no step and makes the system regular for ridge = 0.
        neg_hessian = center - w
        neg_hessian[:, diag, diag] += w.sum(axis=2) + ridge
        step = np.linalg.solve(neg_hessian, grad[:, :, None])[:, :, 0]
        f0 = _bt_objective(th, scores[idx], ridge)
        slope = (grad * step).sum(axis=1)
        t = np.ones(idx.size)
        pending = np.ones(idx.size, dtype=bool)
        for _ in range(60):
            trial = th[pending] + t[pending, None] * step[pending]
            ok = _bt_objective(trial, scores[idx[pending]], ridge) >= f0[pending] + 1e-4 * t[
                pending
            ] * slope[pending] - 1e-12 * np.abs(f0[pending])
            sel = np.flatnonzero(pending)
            pending[sel[ok]] = False
            if not pending.any():
                break
            t[sel[~ok]] *= 0.5
        theta[idx] = th + t[:, None] * step
    else:
        raise NumericalError(
            f"Bradley-Terry Newton iterations did not converge in {max_iter} steps. "
            "Fix: raise ridge (a stronger prior)."
        )
    return theta


def bradley_terry(
    data: PairwiseOutcomes | Iterable[Record],
    *,
    ridge: float = DEFAULT_RIDGE,
    n_boot: int = 200,
    confidence: float = 0.95,
    seed: int | None = 0,
    base: float = 1500.0,
    labels: Sequence[str] | None = None,
) -> RatingResult:
    """Bradley-Terry ratings by penalised maximum likelihood, with bootstrap intervals.

    Model: ``P(i beats j) = sigmoid(theta_i - theta_j)``; ties count as half a win. The
    fit maximises ``sum_{i != j} S_ij log sigmoid(theta_i - theta_j) - ridge/2 |theta|^2``
    (``S_ij``: total score of ``i`` against ``j``), i.e. the posterior mode under a
    ``N(0, 1/ridge)`` prior on each log-strength.

    Why the ridge: the plain MLE exists only when the "beat or tied" graph is strongly
    connected (Ford 1957; Hunter 2004, Assumption 1). An agent that won every game,
    which a strong checkpoint against scripted baselines often does, has an infinite
    MLE. The default ``ridge = 0.01`` (prior sd 10 in log-odds, about 1700 Elo points)
    keeps it finite while moving well-determined ratings by far less than their
    standard error: its pull on ``theta_i`` is ``ridge * theta_i`` against a likelihood
    curvature of about ``games_i / 4``. The penalty also fixes the scale's origin (the
    MAP estimates sum to zero), so no agent has to be pinned. ``ridge=0`` gives the
    plain MLE and fails (NumericalError) when it does not exist.

    Ratings are ``base + ELO_SCALE * theta`` (Elo points). The bootstrap (``n_boot``
    replicates, seeded) resamples games within each pair; the fit is batched over
    replicates (Newton's method on all of them at once).
    """
    if not ridge >= 0 or not math.isfinite(ridge):
        raise InvalidGameError(f"ridge must be a non-negative number, got {ridge}.")
    _check_bootstrap(n_boot, confidence)
    outcomes = as_outcomes(data, labels)
    n = outcomes.num_agents
    scores, games = outcomes.score_matrix()
    if ridge == 0.0:
        if n_boot:
            raise InvalidGameError(
                "ridge=0 with n_boot > 0: a resampled tournament can drop the only game an "
                "agent lost and make its MLE infinite. Fix: keep a small ridge, or n_boot=0."
            )
        _require_mle(outcomes, scores)
    theta = _bt_fit(scores[None], games, ridge)[0]
    point = base + ELO_SCALE * theta
    replicates = np.zeros((0, n))
    if n_boot and len(outcomes):
        rng = np.random.default_rng(seed)
        boot = np.zeros((n_boot, n, n))
        for group in _pair_groups(outcomes):
            i, j = int(outcomes.first[group[0]]), int(outcomes.second[group[0]])
            # score of agent i (the pair's first agent) in each resampled game
            s = np.where(
                outcomes.first[group] == i, outcomes.score[group], 1.0 - outcomes.score[group]
            )
            total = s[rng.integers(0, group.size, size=(n_boot, group.size))].sum(axis=1)
            boot[:, i, j] = total
            boot[:, j, i] = group.size - total
        replicates = base + ELO_SCALE * _bt_fit(boot, games, ridge)
    lower, upper, best, worst = _intervals(point, replicates, confidence)
    return RatingResult(
        method="bradley-terry",
        labels=outcomes.labels,
        ratings=point,
        lower=lower,
        upper=upper,
        rank=competition_rank(point),
        rank_best=best,
        rank_worst=worst,
        games=outcomes.games_per_agent(),
        confidence=confidence,
        n_boot=n_boot if len(outcomes) else 0,
        base=base,
        note=_graph_note(outcomes),
    )


def _require_mle(outcomes: PairwiseOutcomes, scores: FloatArray) -> None:
    """Raise unless the plain MLE exists: the 'scored against' graph is strongly connected."""
    n = outcomes.num_agents
    count, _ = connected_components(csr_array(scores > 0), directed=True, connection="strong")
    if n > 1 and count > 1:
        raise NumericalError(
            "the Bradley-Terry MLE does not exist: some group of agents never lost a point "
            "to the rest (the 'scored against' graph is not strongly connected), so their "
            "ratings are infinite. Fix: use the default ridge."
        )


def _graph_note(outcomes: PairwiseOutcomes) -> str:
    """A warning when the comparison graph is in pieces or an agent played no games."""
    n = outcomes.num_agents
    if n == 0:
        return ""
    notes = []
    _, games = outcomes.score_matrix()
    count, _ = connected_components(csr_array(games > 0), directed=False)
    if count > 1:
        notes.append(
            f"the agents form {count} groups that never played each other; ratings are "
            "comparable only within a group"
        )
    idle = [outcomes.labels[i] for i in np.flatnonzero(outcomes.games_per_agent() == 0)]
    if idle:
        notes.append(f"no games for {', '.join(idle)} (rated at the mean)")
    return "; ".join(notes)
