"""Empirical games: payoff tables estimated from episodes, analysed with intervals.

A tournament measures each pairing of agents a finite number of times. Empirical
game-theoretic analysis (Wellman 2006, "Methods for empirical game-theoretic
analysis", AAAI) treats the table of mean payoffs as a normal-form game over the agents
and asks game-theoretic questions of it: which mixture of agents is an equilibrium,
how much each agent gives up against it, how Nash averaging and alpha-rank order them.
Because every cell is an estimate, so is every answer; :meth:`EmpiricalGame.analyze`
bootstraps over episodes (Efron & Tibshirani 1993) to put intervals on each of them and
to say how often each agent is in the equilibrium's support (Tuyls et al. 2020, "Bounds
and dynamics for empirical game theoretic analysis", AAMAS J. 34, bound how far the
equilibria of an estimated game can move; the bootstrap measures it on the data).

Two layouts:

* **role-split** (:meth:`EmpiricalGame.role_split`): row agents x column agents, e.g.
  attackers x defenders; each episode gives a payoff to each of the two seats. The
  meta-game is the bimatrix game ``(A, B)`` of the cell means.
* **symmetric** (:meth:`EmpiricalGame.symmetric`): one population in a round robin;
  an episode of ``i`` (seat 0) against ``j`` (seat 1) gives ``i`` a payoff for cell
  ``(i, j)`` and ``j`` one for cell ``(j, i)``. The meta-game is ``(M, M^T)``. Seats are
  pooled, so the scheduler should alternate them when the environment is not
  seat-symmetric.

Equilibrium selection. An empirical game can have many equilibria, and an interval
needs the *same* rule applied to every replicate; the rule must also be fast enough to
run a few hundred times:

* constant-sum games (every episode's payoffs sum to the same ``c``): the
  **maximum-entropy** equilibrium. It is unique, it is the equilibrium Nash averaging
  uses (Balduzzi et al. 2018), and it splits weight evenly between duplicated agents.
  The point estimate comes from :func:`theory.evaluation.nash_averaging` (symmetric) or
  :func:`~theory.evaluation.nash_averaging_agent_vs_task` (role-split). Replicates first
  try the supports already seen (one linear solve; a strictly complementary
  equilibrium on a square nonsingular support is the game's only equilibrium, hence
  the maximum-entropy one), then the exact LP, then
  :func:`~theory.evaluation.max_entropy_maximin` when the equilibrium is not unique.
* general-sum role-split games: the equilibrium **Lemke-Howson reaches from label 0**
  (:func:`theory.equilibria.lemke_howson`), a deterministic "first found" equilibrium.
  ``Game(A, B).solve()`` would enumerate every extreme equilibrium, but takes seconds
  on a 10x10 game, too slow to repeat per replicate; :meth:`EmpiricalGame.solve` gives
  that full list for the point estimate.
* general-sum symmetric games: a **symmetric** equilibrium, so that "agent i is in the
  support" has one meaning. It is the column strategy Lemke-Howson (label 0) finds in
  the imitation game ``(M, I)``, whose equilibria ``(x, y)`` have ``y`` a symmetric
  equilibrium strategy of ``(M, M^T)`` (McLennan & Tourky 2010, "Imitation games and
  computation", GEB 70): the column player copies the row player, so
  ``supp(y) <= argmax(x) <= supp(x) <= argmax(M y)`` as sets.

Per agent the analysis reports its weight in the equilibrium, the probability over
replicates that the weight exceeds ``support_tol``, its payoff against the
equilibrium (pure strategy against the opponents' equilibrium mixture), and its
**regret** ``value - payoff_vs_equilibrium`` (what the issue calls exploitability in
the equilibrium: 0 for agents in the support, positive for agents the equilibrium
beats). For constant-sum games it adds the Nash-averaging rating, the payoff against
the maximum-entropy equilibrium in the zero-sum normalisation ``payoff - c/2``
(Balduzzi et al. 2018); for all games the alpha-rank mass (Omidshafiei et al. 2019; one
population per seat for role-split games, a single population for symmetric ones).
Alpha-rank's point estimate is :func:`theory.evaluation.alpha_rank`; replicates run
the same chain batched over replicates (the Grassmann-Taksar-Heyman elimination in log
space), which the tests check against it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import linprog
from scipy.sparse import coo_array

from theory.equilibria import SolveResult, lemke_howson, solve, solve_zero_sum
from theory.errors import InvalidGameError, NumericalError
from theory.evaluation.alpha_rank import _log_fixation_constant, alpha_rank
from theory.evaluation.nash_averaging import (
    max_entropy_maximin,
    nash_averaging,
    nash_averaging_agent_vs_task,
)
from theory.games import NormalFormGame

if TYPE_CHECKING:
    from theory.facade import Game

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]

CONSTANT_SUM_TOL = 1e-9
"""Relative tolerance (x payoff magnitude) for "every episode's payoffs sum to c"."""

SUPPORT_TOL = 1e-6
"""Default weight above which an agent counts as in the equilibrium's support."""


@dataclass(frozen=True)
class Interval:
    """A point estimate with a percentile bootstrap interval (arrays of one shape)."""

    point: FloatArray
    lower: FloatArray
    upper: FloatArray


@dataclass(frozen=True)
class PopulationAnalysis:
    """What the analysis says about the agents of one seat (or the one population).

    Arrays are indexed like ``labels``. ``equilibrium``: the agent's weight in the
    selected equilibrium; ``support_probability``: share of bootstrap replicates in
    which that weight exceeds ``support_tol``; ``payoff_vs_equilibrium``: the agent's
    expected payoff against the opponents' equilibrium mixture; ``regret``:
    ``value - payoff_vs_equilibrium`` (>= 0 up to rounding; 0 on the support);
    ``nash_averaging``: Nash-averaging rating (constant-sum games, else None);
    ``alpha_rank``: alpha-rank mass (None if not computed).
    """

    player: str
    labels: tuple[str, ...]
    equilibrium: Interval
    support_probability: FloatArray
    payoff_vs_equilibrium: Interval
    regret: Interval
    nash_averaging: Interval | None
    alpha_rank: Interval | None

    def as_rows(self) -> list[dict[str, float | str]]:
        """One dict per agent (for tables and JSON)."""
        rows: list[dict[str, float | str]] = []
        for i, label in enumerate(self.labels):
            row: dict[str, float | str] = {"agent": label}
            for name in ("equilibrium", "payoff_vs_equilibrium", "regret"):
                est: Interval = getattr(self, name)
                row[name] = float(est.point[i])
                row[f"{name}_lower"] = float(est.lower[i])
                row[f"{name}_upper"] = float(est.upper[i])
            row["support_probability"] = float(self.support_probability[i])
            for name in ("nash_averaging", "alpha_rank"):
                opt: Interval | None = getattr(self, name)
                if opt is not None:
                    row[name] = float(opt.point[i])
                    row[f"{name}_lower"] = float(opt.lower[i])
                    row[f"{name}_upper"] = float(opt.upper[i])
            rows.append(row)
        return rows


@dataclass(frozen=True)
class EmpiricalGameAnalysis:
    """Result of :meth:`EmpiricalGame.analyze`.

    ``populations`` has one entry per seat (role-split: rows then columns) or one for
    the symmetric population. ``value`` is each seat's equilibrium payoff (one entry for
    a symmetric game); ``payoffs`` the cell means, shape ``(2, rows, cols)``, with
    bootstrap intervals. ``failed_replicates`` counts replicates whose equilibrium
    computation failed; they are left out of every interval.
    """

    symmetric: bool
    constant_sum: float | None
    equilibrium_method: str
    populations: tuple[PopulationAnalysis, ...]
    value: Interval
    payoffs: Interval
    n_boot: int
    failed_replicates: int
    confidence: float
    support_tol: float
    alpha: float
    population_size: int


# -- the game -------------------------------------------------------------------------------


def _episodes(values: ArrayLike, where: str) -> FloatArray:
    try:
        data = np.array(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidGameError(f"{where}: payoffs must be numbers ({exc}).") from exc
    if data.ndim == 1 and data.size == 2:
        data = data[None, :]
    if data.ndim != 2 or data.shape[1] != 2:
        raise InvalidGameError(
            f"{where}: payoffs must have shape (episodes, 2) - one payoff per seat per "
            f"episode - got {data.shape}."
        )
    if not np.all(np.isfinite(data)):
        raise InvalidGameError(f"{where}: payoffs contain NaN or infinite values.")
    return data


def _unique_labels(values: Iterable[str], what: str) -> tuple[str, ...]:
    out = tuple(str(v) for v in values)
    if len(set(out)) != len(out):
        raise InvalidGameError(f"{what} must be unique, got {out}.")
    if not out:
        raise InvalidGameError(f"{what} must not be empty.")
    return out


class EmpiricalGame:
    """A two-seat game whose payoffs are means of observed episodes.

    Build it with :meth:`role_split`, :meth:`symmetric` or :meth:`from_episodes`.
    ``payoffs`` (shape ``(2, rows, cols)``, one matrix per seat), ``stderr`` (same
    shape; NaN for a cell with one episode) and ``count`` (episodes behind each cell)
    describe the table; :meth:`to_normal_form` / :meth:`to_game` hand it to ``theory``;
    :meth:`analyze` computes equilibria, regrets, Nash averaging and alpha-rank with
    bootstrap intervals.
    """

    def __init__(
        self,
        pools: Sequence[FloatArray],
        targets: Sequence[tuple[tuple[int, int, int], tuple[int, int, int]]],
        *,
        row_labels: tuple[str, ...],
        col_labels: tuple[str, ...],
        symmetric: bool,
        players: tuple[str, str],
        fixed: Mapping[tuple[int, int], float] | None = None,
        constant_sum: float | None = None,
    ) -> None:
        """Low-level constructor; prefer :meth:`role_split` or :meth:`symmetric`.

        ``pools[p]`` holds episodes ``(k, 2)``; column 0's mean is the payoff of cell
        ``targets[p][0]`` (seat 0's matrix for role-split, ``M`` for symmetric) and
        column 1's of ``targets[p][1]`` (seat 1's matrix / ``M`` again). ``fixed`` gives
        cells (of ``M``) that have a known value instead of episodes.
        """
        self._pools = [np.asarray(p, dtype=np.float64) for p in pools]
        self._targets = list(targets)
        self.is_symmetric = symmetric
        self.row_labels = row_labels
        self.col_labels = col_labels
        self.players = players
        self._fixed = dict(fixed or {})
        self.constant_sum = constant_sum
        m, n = len(row_labels), len(col_labels)
        self._index = self._target_index()
        means = np.stack([p.mean(axis=0) for p in self._pools]) if self._pools else np.zeros((0, 2))
        self.payoffs = self._assemble(means[None])[0]
        se = np.stack(
            [
                p.std(axis=0, ddof=1) / math.sqrt(p.shape[0])
                if p.shape[0] > 1
                else np.full(2, np.nan)
                for p in self._pools
            ]
        )
        stderr = self._assemble(se[None])[0]
        for (i, j), _ in self._fixed.items():
            stderr[:, i, j] = 0.0
        self.stderr = stderr
        count = np.zeros((m, n), dtype=np.int64)
        for pool, (t0, t1) in zip(self._pools, self._targets, strict=True):
            count[t0[1], t0[2]] = pool.shape[0]
            count[t1[1], t1[2]] = pool.shape[0]
        self.count = count
        for array in (self.payoffs, self.stderr, self.count):
            array.setflags(write=False)

    # -- constructors ---------------------------------------------------------------------

    @classmethod
    def role_split(
        cls,
        samples: Mapping[tuple[str, str], ArrayLike],
        *,
        row_agents: Sequence[str] | None = None,
        col_agents: Sequence[str] | None = None,
        players: tuple[str, str] = ("row", "column"),
    ) -> EmpiricalGame:
        """Row agents x column agents; ``samples[(row, col)]`` has shape ``(episodes, 2)``.

        Column 0 is the row seat's payoff, column 1 the column seat's, one row per
        episode. Agents default to their order of first appearance in ``samples``.
        Every cell needs at least one episode; a missing one raises an error naming it.
        """
        rows = _unique_labels(
            row_agents if row_agents is not None else dict.fromkeys(str(r) for r, _ in samples),
            "row agents",
        )
        cols = _unique_labels(
            col_agents if col_agents is not None else dict.fromkeys(str(c) for _, c in samples),
            "column agents",
        )
        data: dict[tuple[str, str], FloatArray] = {}
        for key, values in samples.items():
            r, c = str(key[0]), str(key[1])
            if r not in rows:
                raise InvalidGameError(
                    f"samples name the cell ({r!r}, {c!r}), but {r!r} is not among the row "
                    f"agents {rows}."
                )
            if c not in cols:
                raise InvalidGameError(
                    f"samples name the cell ({r!r}, {c!r}), but {c!r} is not among the "
                    f"column agents {cols}."
                )
            data[(r, c)] = _episodes(values, f"cell (row {r!r}, column {c!r})")
        pools = []
        targets: list[tuple[tuple[int, int, int], tuple[int, int, int]]] = []
        for i, r in enumerate(rows):
            for j, c in enumerate(cols):
                pool = data.get((r, c))
                if pool is None or pool.shape[0] == 0:
                    raise InvalidGameError(
                        f"cell (row agent {r!r}, column agent {c!r}) has no episodes "
                        "(count 0). Fix: play that pairing, or leave one of the agents out."
                    )
                pools.append(pool)
                targets.append(((0, i, j), (1, i, j)))
        return cls(
            pools,
            targets,
            row_labels=rows,
            col_labels=cols,
            symmetric=False,
            players=(str(players[0]), str(players[1])),
            constant_sum=_constant_sum(pools, {}),
        )

    @classmethod
    def symmetric(
        cls,
        samples: Mapping[tuple[str, str], ArrayLike],
        *,
        agents: Sequence[str] | None = None,
        self_play: float | None = None,
        players: tuple[str, str] = ("player 1", "player 2"),
    ) -> EmpiricalGame:
        """One population; ``samples[(i, j)]`` has shape ``(episodes, 2)``.

        Column 0 is the payoff of ``i`` (seat 0), column 1 that of ``j`` (seat 1). Both
        ``(i, j)`` and ``(j, i)`` may be given (seat orders); they are pooled. Every
        pair needs at least one episode. Self-play cells ``(i, i)`` average both seats;
        when self-play was not played, ``self_play`` gives its value (0.5 for win
        rates, 0 for zero-sum payoffs), otherwise a missing one raises an error.
        """
        names = _unique_labels(
            agents
            if agents is not None
            else dict.fromkeys(str(a) for key in samples for a in (key[0], key[1])),
            "agents",
        )
        index = {a: k for k, a in enumerate(names)}
        merged: dict[tuple[int, int], list[FloatArray]] = {}
        for key, values in samples.items():
            a, b = str(key[0]), str(key[1])
            for agent in (a, b):
                if agent not in index:
                    raise InvalidGameError(
                        f"samples name agent {agent!r}, which is not in agents {names}."
                    )
            data = _episodes(values, f"pair ({a!r}, {b!r})")
            i, j = index[a], index[b]
            if i == j:
                pooled = data.mean(axis=1, keepdims=True)
                data = np.hstack([pooled, pooled])
            elif i > j:
                i, j, data = j, i, data[:, ::-1]
            merged.setdefault((i, j), []).append(data)
        pools = []
        targets: list[tuple[tuple[int, int, int], tuple[int, int, int]]] = []
        fixed: dict[tuple[int, int], float] = {}
        n = len(names)
        for i in range(n):
            for j in range(i, n):
                parts = merged.get((i, j))
                if not parts or sum(p.shape[0] for p in parts) == 0:
                    if i == j and self_play is not None:
                        fixed[(i, i)] = float(self_play)
                        continue
                    what = (
                        f"self-play cell ({names[i]!r} vs {names[i]!r})"
                        if i == j
                        else f"pair ({names[i]!r}, {names[j]!r})"
                    )
                    fix = (
                        " or pass self_play=<value> (e.g. 0.5 for win rates, 0 for zero-sum)"
                        if i == j
                        else ", or leave one of the agents out"
                    )
                    raise InvalidGameError(f"{what} has no episodes (count 0). Fix: play it{fix}.")
                pools.append(np.vstack(parts))
                targets.append(((0, i, j), (0, j, i)))
        if self_play is not None and not math.isfinite(self_play):
            raise InvalidGameError(f"self_play must be a finite number, got {self_play}.")
        return cls(
            pools,
            targets,
            row_labels=names,
            col_labels=names,
            symmetric=True,
            players=(str(players[0]), str(players[1])),
            fixed=fixed,
            constant_sum=_constant_sum(pools, fixed),
        )

    @classmethod
    def from_episodes(
        cls,
        episodes: Iterable[tuple[str, str, float, float]],
        *,
        symmetric: bool,
        row_agents: Sequence[str] | None = None,
        col_agents: Sequence[str] | None = None,
        self_play: float | None = None,
        players: tuple[str, str] | None = None,
    ) -> EmpiricalGame:
        """From ``(seat-0 agent, seat-1 agent, seat-0 payoff, seat-1 payoff)`` records.

        For a symmetric game ``row_agents`` (if given) lists the population and
        ``col_agents`` must be None.
        """
        grouped: dict[tuple[str, str], list[tuple[float, float]]] = {}
        for e, record in enumerate(episodes):
            try:
                a, b, pa, pb = record
            except (TypeError, ValueError) as exc:
                raise InvalidGameError(
                    f"episode {e} is {record!r}; expected (agent_0, agent_1, payoff_0, payoff_1)."
                ) from exc
            grouped.setdefault((str(a), str(b)), []).append((float(pa), float(pb)))
        samples = {key: np.array(v, dtype=np.float64) for key, v in grouped.items()}
        if symmetric:
            if col_agents is not None:
                raise InvalidGameError("a symmetric game has one population: pass row_agents only.")
            return cls.symmetric(
                samples,
                agents=row_agents,
                self_play=self_play,
                players=players or ("player 1", "player 2"),
            )
        return cls.role_split(
            samples,
            row_agents=row_agents,
            col_agents=col_agents,
            players=players or ("row", "column"),
        )

    # -- the table ------------------------------------------------------------------------

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.row_labels), len(self.col_labels)

    def _target_index(self) -> tuple[NDArray[np.intp], ...]:
        t0 = np.array([t[0] for t in self._targets], dtype=np.intp).reshape(-1, 3)
        t1 = np.array([t[1] for t in self._targets], dtype=np.intp).reshape(-1, 3)
        return (t0[:, 0], t0[:, 1], t0[:, 2], t1[:, 0], t1[:, 1], t1[:, 2])

    def _assemble(self, pool_means: FloatArray) -> FloatArray:
        """Payoff tensors ``(R, 2, m, n)`` from per-pool means ``(R, pools, 2)``."""
        runs = pool_means.shape[0]
        m, n = self.shape
        out = np.zeros((runs, 2, m, n))
        s0, r0, c0, s1, r1, c1 = self._index
        out[:, s0, r0, c0] = pool_means[:, :, 0]
        out[:, s1, r1, c1] = pool_means[:, :, 1]
        for (i, j), value in self._fixed.items():
            out[:, 0, i, j] = value
        if self.is_symmetric:
            out[:, 1] = np.swapaxes(out[:, 0], 1, 2)
        return out

    def to_normal_form(self, title: str = "") -> NormalFormGame:
        """The mean-payoff table as a :class:`~theory.games.NormalFormGame` ``(A, B)``."""
        return NormalFormGame.from_bimatrix(
            self.payoffs[0],
            self.payoffs[1],
            players=self.players,
            strategies=(self.row_labels, self.col_labels),
            title=title,
        )

    def to_game(self, title: str = "") -> Game:
        """The mean-payoff table as a :class:`theory.Game` (the facade)."""
        from theory.facade import Game

        return Game(self.to_normal_form(title))

    def solve(self, method: str = "auto") -> SolveResult:
        """Every equilibrium ``theory.equilibria.solve`` finds in the mean-payoff table.

        For reports that list all equilibria; :meth:`analyze` uses one selected
        equilibrium (see the module docstring) because it repeats it per replicate.
        """
        return solve(self.to_normal_form(), method)

    # -- analysis -------------------------------------------------------------------------

    def resample(self, n_boot: int, seed: int | np.random.Generator | None = 0) -> FloatArray:
        """``n_boot`` bootstrap payoff tables, shape ``(n_boot, 2, rows, cols)``.

        Episodes are resampled with replacement within each cell (each pair for a
        symmetric game, so ``M[i, j]`` and ``M[j, i]`` move together, as they share
        episodes). Each pool is reduced to its distinct episodes and their frequencies,
        and a replicate draws multinomial counts over them, which is the same
        distribution as drawing episode indices but costs ``O(distinct)`` per replicate:
        a cell of 0/1 outcomes costs the same with 10 or 10,000 episodes.
        """
        rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
        means = np.empty((n_boot, len(self._pools), 2))
        for p, pool in enumerate(self._pools):
            distinct, freq = np.unique(pool, axis=0, return_counts=True)
            k = pool.shape[0]
            counts = rng.multinomial(k, freq / k, size=n_boot)
            means[:, p, :] = counts @ distinct / k
        return self._assemble(means)

    def analyze(
        self,
        *,
        n_boot: int = 200,
        confidence: float = 0.95,
        seed: int | None = 0,
        alpha: float = 10.0,
        population_size: int = 50,
        support_tol: float = SUPPORT_TOL,
        with_alpha_rank: bool = True,
    ) -> EmpiricalGameAnalysis:
        """Equilibrium, regrets, Nash averaging and alpha-rank, with bootstrap intervals.

        ``n_boot`` replicates (seeded by ``seed``) resample episodes within each cell;
        intervals are percentile intervals at ``confidence``. ``alpha`` and
        ``population_size`` are alpha-rank's (payoffs of order 1 want ``alpha`` of
        order 10; ``math.inf`` gives infinite-alpha alpha-rank). ``n_boot=0`` returns the
        point estimates with NaN intervals.
        """
        if n_boot < 0:
            raise InvalidGameError(f"n_boot must be >= 0, got {n_boot}.")
        if not 0.0 < confidence < 1.0:
            raise InvalidGameError(f"confidence must lie in (0, 1), got {confidence}.")
        if not support_tol >= 0:
            raise InvalidGameError(f"support_tol must be >= 0, got {support_tol}.")
        solver = _Solver(self.is_symmetric, self.constant_sum)
        p_x, p_y, p_nash_avg = solver.point(np.asarray(self.payoffs))
        p_derived = _derived(
            self.payoffs[None], p_x[None], p_y[None], self.is_symmetric, self.constant_sum
        )
        p_alpha = (
            _alpha_rank_point(self.payoffs, self.is_symmetric, alpha, population_size)
            if with_alpha_rank
            else None
        )
        tables = self.resample(n_boot, seed) if n_boot else np.zeros((0, 2, *self.shape))
        xs, ys, ok = solver.replicates(tables, p_x, p_y)
        derived = _derived(tables[ok], xs[ok], ys[ok], self.is_symmetric, self.constant_sum)
        alpha_reps = (
            _alpha_rank_batch(tables, self.is_symmetric, alpha, population_size)
            if with_alpha_rank and n_boot
            else None
        )

        def interval(pt: FloatArray, reps: FloatArray) -> Interval:
            return _percentile_interval(pt, reps, confidence)

        pops: list[PopulationAnalysis] = []
        for side in range(1 if self.is_symmetric else 2):
            labels = self.row_labels if side == 0 else self.col_labels
            eq_point = p_x if side == 0 else p_y
            eq_reps = (xs if side == 0 else ys)[ok]
            support = (
                (eq_reps > support_tol).mean(axis=0)
                if eq_reps.shape[0]
                else np.full(eq_point.shape, np.nan)
            )
            nash_avg = None
            if p_nash_avg is not None and derived.nash_averaging is not None:
                # point: theory's nash_averaging; replicates: payoff vs the (same,
                # maximum-entropy) equilibrium minus c/2, which is what it computes
                nash_avg = interval(p_nash_avg[side], derived.nash_averaging[side])
            alpha_int = None
            if p_alpha is not None:
                reps = alpha_reps[side] if alpha_reps is not None else np.zeros((0, len(labels)))
                alpha_int = interval(p_alpha[side], reps)
            pops.append(
                PopulationAnalysis(
                    player=self.players[side],
                    labels=labels,
                    equilibrium=interval(eq_point, eq_reps),
                    support_probability=support,
                    payoff_vs_equilibrium=interval(p_derived.payoff[side][0], derived.payoff[side]),
                    regret=interval(p_derived.regret[side][0], derived.regret[side]),
                    nash_averaging=nash_avg,
                    alpha_rank=alpha_int,
                )
            )
        return EmpiricalGameAnalysis(
            symmetric=self.is_symmetric,
            constant_sum=self.constant_sum,
            equilibrium_method=solver.description,
            populations=tuple(pops),
            value=interval(p_derived.value[0], derived.value),
            payoffs=interval(np.asarray(self.payoffs), tables),
            n_boot=n_boot,
            failed_replicates=int(n_boot - ok.sum()),
            confidence=confidence,
            support_tol=support_tol,
            alpha=alpha,
            population_size=population_size,
        )


def _constant_sum(
    pools: Sequence[FloatArray], fixed: Mapping[tuple[int, int], float]
) -> float | None:
    """The constant ``c`` if every episode's two payoffs sum to it, else None."""
    if not pools:
        return None
    sums = np.concatenate([p.sum(axis=1) for p in pools])
    scale = max(1.0, float(max(np.abs(p).max() for p in pools)))
    c = float(np.median(sums))
    if np.max(np.abs(sums - c)) > CONSTANT_SUM_TOL * scale:
        return None
    if any(abs(2.0 * v - c) > CONSTANT_SUM_TOL * scale for v in fixed.values()):
        return None
    return c


def _percentile_interval(point: FloatArray, reps: FloatArray, confidence: float) -> Interval:
    point = np.asarray(point, dtype=np.float64)
    if reps.shape[0] == 0:
        nan = np.full(point.shape, np.nan)
        return Interval(point, nan, nan.copy())
    tail = (1.0 - confidence) / 2.0
    lower = np.quantile(reps, tail, axis=0)
    upper = np.quantile(reps, 1.0 - tail, axis=0)
    return Interval(point, np.asarray(lower, dtype=np.float64), np.asarray(upper, dtype=np.float64))


@dataclass(frozen=True)
class _Derived:
    """Per-replicate quantities; lists are indexed by side (seat or population)."""

    payoff: list[FloatArray]
    regret: list[FloatArray]
    value: FloatArray
    nash_averaging: list[FloatArray] | None


def _derived(
    tables: FloatArray,
    xs: FloatArray,
    ys: FloatArray,
    symmetric: bool,
    constant_sum: float | None,
) -> _Derived:
    """Payoffs against the equilibrium, regrets, values and Nash averaging per replicate.

    ``tables (R, 2, m, n)``, ``xs (R, m)``, ``ys (R, n)``.
    """
    a, b = tables[:, 0], tables[:, 1]
    row_pay = np.einsum("rij,rj->ri", a, ys)
    col_pay = np.einsum("rij,ri->rj", b, xs)
    v_row = np.einsum("ri,ri->r", xs, row_pay)
    v_col = np.einsum("rj,rj->r", ys, col_pay)
    if symmetric:
        payoff = [row_pay]
        regret = [v_row[:, None] - row_pay]
        value = v_row[:, None]
    else:
        payoff = [row_pay, col_pay]
        regret = [v_row[:, None] - row_pay, v_col[:, None] - col_pay]
        value = np.stack([v_row, v_col], axis=1)
    nash_avg = None
    if constant_sum is not None:
        nash_avg = [p - constant_sum / 2.0 for p in payoff]
    return _Derived(payoff, regret, value, nash_avg)


# -- equilibrium selection --------------------------------------------------------------


class _Solver:
    """Applies the module's equilibrium-selection rule to one table or to replicates."""

    def __init__(self, symmetric: bool, constant_sum: float | None) -> None:
        self.symmetric = symmetric
        self.constant_sum = constant_sum
        if constant_sum is not None:
            self.description = (
                "maximum-entropy equilibrium (constant-sum game"
                + (", symmetric: Nash averaging's" if symmetric else "")
                + ")"
            )
        elif symmetric:
            self.description = (
                "symmetric equilibrium: Lemke-Howson from label 0 on the imitation game (M, I)"
            )
        else:
            self.description = "Lemke-Howson from label 0 (first equilibrium found)"

    def _zero_sum_part(self, tables: FloatArray) -> FloatArray:
        """``(A - B) / 2``: the zero-sum game strategically equal to a constant-sum one.

        ``tables`` is ``(..., 2, m, n)``; symmetric games are also antisymmetrised, so
        rounding cannot break the symmetry the maximum-entropy equilibrium relies on.
        """
        a0 = (tables[..., 0, :, :] - tables[..., 1, :, :]) / 2.0
        if self.symmetric:
            a0 = (a0 - np.swapaxes(a0, -1, -2)) / 2.0
        return np.asarray(a0, dtype=np.float64)

    def point(self, table: FloatArray) -> tuple[FloatArray, FloatArray, list[FloatArray] | None]:
        """Equilibrium ``(x, y)`` of the point estimate (and its Nash averaging), via theory."""
        if self.constant_sum is not None:
            a0 = self._zero_sum_part(table)
            if self.symmetric:
                res = nash_averaging(a0)
                x = np.array(res.nash)
                return x, x.copy(), [np.array(res.ratings)]
            at = nash_averaging_agent_vs_task(a0)
            return (
                np.array(at.agent_nash),
                np.array(at.task_nash),
                [np.array(at.agent_skill), np.array(at.task_difficulty)],
            )
        x, y = self._general_sum(table)
        return x, y, None

    def replicates(
        self, tables: FloatArray, x0: FloatArray, y0: FloatArray
    ) -> tuple[FloatArray, FloatArray, BoolArray]:
        """Equilibria of every replicate; ``ok[r]`` False where the solver failed."""
        runs = tables.shape[0]
        xs = np.full((runs, x0.size), np.nan)
        ys = np.full((runs, y0.size), np.nan)
        ok = np.zeros(runs, dtype=bool)
        if self.constant_sum is not None:
            games = self._zero_sum_part(tables)
            guess = _batched_zero_sum_lp(games) if runs else None
        for r in range(runs):
            try:
                if self.constant_sum is None:
                    x, y = self._general_sum(tables[r])
                else:
                    found = None
                    if guess is not None:
                        s = np.flatnonzero(guess[0][r] > 1e-9)
                        t = np.flatnonzero(guess[1][r] > 1e-9)
                        found = _unique_on_support(games[r], s, t)
                    x, y = found if found is not None else self._max_entropy(games[r])
                    if self.symmetric:
                        y = x.copy()
            except (NumericalError, np.linalg.LinAlgError):
                continue
            xs[r], ys[r], ok[r] = x, y, True
        return xs, ys, ok

    def _general_sum(self, table: FloatArray) -> tuple[FloatArray, FloatArray]:
        if self.symmetric:
            m = table[0]
            imitation = NormalFormGame.from_bimatrix(m, np.eye(m.shape[0]))
            eq = lemke_howson(imitation, 0)
            y = np.asarray(eq.strategies[1], dtype=np.float64)
            return y, y.copy()
        eq = lemke_howson(NormalFormGame.from_bimatrix(table[0], table[1]), 0)
        return (
            np.asarray(eq.strategies[0], dtype=np.float64),
            np.asarray(eq.strategies[1], dtype=np.float64),
        )

    def _max_entropy(self, a: FloatArray) -> tuple[FloatArray, FloatArray]:
        """The maximum-entropy equilibrium of the zero-sum game ``a`` (row maximises).

        The exact LP first; if its equilibrium is the only one it is the answer,
        otherwise theory's :func:`max_entropy_maximin` picks the maximum-entropy point
        of the optimal face for each player.
        """
        sol = solve_zero_sum(a)
        found = _unique_on_support(
            a, np.flatnonzero(sol.row > 1e-12), np.flatnonzero(sol.col > 1e-12)
        )
        if found is not None:
            return found
        x, _ = max_entropy_maximin(a, value=sol.value)
        if self.symmetric:
            return x, x.copy()
        y, _ = max_entropy_maximin(-a.T, value=-sol.value)
        return x, y


def _batched_zero_sum_lp(games: FloatArray) -> tuple[FloatArray, FloatArray] | None:
    """Optimal strategies of many zero-sum games ``(R, m, n)`` from one block LP.

    Replicate ``r``'s block maximises ``v_r`` subject to ``A_r^T x_r >= v_r``,
    ``sum(x_r) = 1``, ``x_r >= 0``; the blocks share no variable, so maximising the sum
    of the ``v_r`` solves each, and the column strategies are the duals of the
    ``A_r^T x_r >= v_r`` rows. One HiGHS call for 200 replicates of a 10x10 game takes
    about 0.1 s, against about 1.5 s for 200 separate calls (scipy's per-call overhead
    dominates small LPs). The result is only a guess of the supports: each replicate is
    then verified exactly by :func:`_unique_on_support`. Returns None if HiGHS fails.
    """
    runs, m, n = games.shape
    width = m + 1
    block = np.arange(runs)[:, None, None]
    i = np.arange(m)[None, :, None]
    j = np.arange(n)[None, None, :]
    shape = (runs, m, n)
    ineq_rows = np.concatenate(
        [
            np.broadcast_to(block * n + j, shape).ravel(),
            (np.arange(runs)[:, None] * n + np.arange(n)).ravel(),
        ]
    )
    ineq_cols = np.concatenate(
        [
            np.broadcast_to(block * width + i, shape).ravel(),
            np.repeat(np.arange(runs) * width + m, n),
        ]
    )
    ineq_vals = np.concatenate([-games.ravel(), np.ones(runs * n)])
    a_ub = coo_array((ineq_vals, (ineq_rows, ineq_cols)), shape=(runs * n, runs * width)).tocsr()
    eq_cols = (np.arange(runs)[:, None] * width + np.arange(m)).ravel()
    a_eq = coo_array(
        (np.ones(runs * m), (np.repeat(np.arange(runs), m), eq_cols)), shape=(runs, runs * width)
    ).tocsr()
    cost = np.zeros(runs * width)
    cost[m::width] = -1.0
    bounds = np.zeros((runs * width, 2))
    bounds[:, 1] = np.inf
    bounds[m::width, 0] = -np.inf
    res = linprog(
        cost,
        A_ub=a_ub,
        b_ub=np.zeros(runs * n),
        A_eq=a_eq,
        b_eq=np.ones(runs),
        bounds=bounds,
        method="highs",
    )
    if res.status != 0 or res.x is None:
        return None
    x = res.x.reshape(runs, width)[:, :m]
    y = -np.asarray(res.ineqlin.marginals).reshape(runs, n)
    return np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)


def _unique_on_support(
    a: FloatArray, s: NDArray[np.intp], t: NDArray[np.intp]
) -> tuple[FloatArray, FloatArray] | None:
    """The zero-sum equilibrium with row support ``s`` and column support ``t``, if it is
    the game's only one; else None.

    Solves the indifference systems ``A_st y = v 1``, ``A_st^T x = v 1`` (square,
    ``|s| = |t|``) and accepts the result when it is an equilibrium with *strict*
    complementarity: weights on the supports positive and every strategy off them
    strictly worse. Then every optimal strategy of either player lives on the same
    support and solves the same nonsingular system, so the equilibrium is unique (and
    is therefore also the maximum-entropy one). Margins are relative to the payoff
    scale; a near-degenerate replicate fails the test and takes the slow path instead.
    """
    k = s.size
    if k == 0 or k != t.size:
        return None
    m, n = a.shape
    scale = max(1.0, float(np.max(np.abs(a))))
    sub = a[np.ix_(s, t)]
    lhs = np.zeros((2, k + 1, k + 1))
    lhs[0, :k, :k] = sub
    lhs[1, :k, :k] = sub.T
    lhs[:, :k, k] = -1.0
    lhs[:, k, :k] = 1.0
    rhs = np.zeros((2, k + 1, 1))
    rhs[:, k, 0] = 1.0
    try:
        sol = np.linalg.solve(lhs, rhs)[:, :, 0]
    except np.linalg.LinAlgError:
        return None
    if not np.all(np.isfinite(sol)):
        return None
    y_t, v = sol[0, :k], float(sol[0, k])
    x_s, v2 = sol[1, :k], float(sol[1, k])
    if abs(v - v2) > 1e-9 * scale or np.any(y_t <= 1e-9) or np.any(x_s <= 1e-9):
        return None
    x = np.zeros(m)
    y = np.zeros(n)
    x[s], y[t] = x_s, y_t
    rows = a @ y
    cols = x @ a
    margin = 1e-7 * scale
    off_s = np.ones(m, dtype=bool)
    off_s[s] = False
    off_t = np.ones(n, dtype=bool)
    off_t[t] = False
    if np.any(rows[off_s] >= v - margin) or np.any(cols[off_t] <= v + margin):
        return None
    if np.max(np.abs(rows[s] - v)) > 1e-9 * scale or np.max(np.abs(cols[t] - v)) > 1e-9 * scale:
        return None
    return x, y


# -- alpha-rank -------------------------------------------------------------------------


def _alpha_rank_point(
    table: FloatArray, symmetric: bool, alpha: float, population_size: int
) -> list[FloatArray]:
    """Alpha-rank marginals of the point estimate by :func:`theory.evaluation.alpha_rank`."""
    if symmetric:
        res = alpha_rank(table[0], alpha=alpha, population_size=population_size)
        return [np.array(res.marginals[0])]
    game = NormalFormGame.from_bimatrix(table[0], table[1])
    res = alpha_rank(game, alpha=alpha, population_size=population_size)
    return [np.array(res.marginals[0]), np.array(res.marginals[1])]


def _logsumexp(x: FloatArray, axis: int) -> FloatArray:
    """``log(sum(exp(x)))`` along ``axis``; ``-inf`` where every entry is ``-inf``."""
    top = np.max(x, axis=axis, keepdims=True)
    safe = np.where(np.isfinite(top), top, 0.0)
    with np.errstate(divide="ignore"):
        out = np.log(np.sum(np.exp(x - safe), axis=axis, keepdims=True)) + safe
    return np.asarray(np.squeeze(out, axis=axis), dtype=np.float64)


# Below this log-rate a chain is solved in log space; above it in linear space, where
# GTH's products cannot underflow into anything that matters (see _stationary_batch).
_LINEAR_GTH_MIN_LOG_RATE = -600.0


def _stationary_batch(log_rates: FloatArray) -> FloatArray:
    """Stationary laws of a batch of chains ``(R, S, S)`` by GTH state reduction.

    The Grassmann-Taksar-Heyman reduction :func:`theory.evaluation.alpha_rank` uses,
    run on all replicates at once. GTH only adds and multiplies non-negative numbers,
    and every intermediate rate it forms is a transition probability of a censored
    chain (at most 1), so the only numerical hazard is underflow. Chains whose smallest
    positive rate is at least ``exp(-600)`` are reduced in linear space (one fused
    multiply-add per entry, ~20x faster than ``logaddexp``): a product that underflows
    there is below ``1e-308`` against exit rates above ``1e-260``, so its effect on the
    result is below ``1e-47``. Other chains (very large ``alpha``) are reduced in log
    space exactly as theory does. The back-substitution runs in log space for both, so
    stationary masses far below ``1e-308`` keep their relative accuracy. A replicate
    whose chain is reducible comes back as NaN.
    """
    lr = np.array(log_rates, dtype=np.float64)
    runs, n, _ = lr.shape
    idx = np.arange(n)
    lr[:, idx, idx] = -np.inf
    finite = np.where(np.isfinite(lr), lr, np.inf)
    linear = finite.reshape(runs, -1).min(axis=1) >= _LINEAR_GTH_MIN_LOG_RATE
    columns = np.full((runs, n, n), -np.inf)  # log of the divided columns p[:j, j]
    bad = np.zeros(runs, dtype=bool)
    if linear.any():
        q = np.exp(lr[linear])
        stuck = np.zeros(q.shape[0], dtype=bool)
        for k in range(n - 1, 0, -1):
            total = q[:, k, :k].sum(axis=1)
            empty = total <= 0.0
            stuck |= empty
            total[empty] = 1.0
            q[:, :k, k] /= total[:, None]
            q[:, :k, :k] += q[:, :k, k, None] * q[:, k, None, :k]
        bad[np.flatnonzero(linear)[stuck]] = True
        with np.errstate(divide="ignore"):
            columns[linear] = np.log(q)
    if (~linear).any():
        p = lr[~linear]
        stuck = np.zeros(p.shape[0], dtype=bool)
        for k in range(n - 1, 0, -1):
            total = _logsumexp(p[:, k, :k], axis=1)
            empty = ~np.isfinite(total)
            stuck |= empty
            total[empty] = 0.0
            p[:, :k, k] -= total[:, None]
            p[:, :k, :k] = np.logaddexp(p[:, :k, :k], p[:, :k, k, None] + p[:, k, None, :k])
        bad[np.flatnonzero(~linear)[stuck]] = True
        columns[~linear] = p
    log_pi = np.full((runs, n), -np.inf)
    log_pi[:, 0] = 0.0
    for j in range(1, n):
        log_pi[:, j] = _logsumexp(log_pi[:, :j] + columns[:, :j, j], axis=1)
    pi = np.exp(log_pi - _logsumexp(log_pi, axis=1)[:, None])
    pi[bad] = np.nan
    return np.asarray(pi, dtype=np.float64)


def _alpha_rank_batch(
    tables: FloatArray, symmetric: bool, alpha: float, population_size: int, chunk: int = 16
) -> list[FloatArray]:
    """Alpha-rank marginals of every replicate, per side: ``[(R, m)]`` or ``[(R, m), (R, n)]``.

    The chain is :func:`theory.evaluation.alpha_rank`'s (finite population, Fermi
    selection, mutation rate ``eta``; ``local_selection=False``), built and solved in
    batches of replicates.
    """
    runs, _, m_rows, n_cols = tables.shape
    eps = 0.01  # alpha_rank's default inf_alpha_eps, used only when alpha is inf
    pop = int(population_size)
    out_rows = np.empty((runs, m_rows))
    out_cols = np.empty((runs, n_cols))
    for start in range(0, runs, chunk):
        block = tables[start : start + chunk]
        if symmetric:
            log_rho = _single_population_log_fixation(block[:, 0], alpha, pop, eps)
            eta = 1.0 / (m_rows - 1) if m_rows > 1 else 1.0
            pi = (
                _stationary_batch(log_rho + math.log(eta))
                if m_rows > 1
                else np.ones((len(block), 1))
            )
            out_rows[start : start + len(block)] = pi
            continue
        log_rho = _two_population_log_fixation(block, alpha, pop, eps)
        dims = (m_rows - 1) + (n_cols - 1)
        eta = 1.0 / dims if dims > 0 else 1.0
        states = m_rows * n_cols
        pi = _stationary_batch(log_rho + math.log(eta)) if states > 1 else np.ones((len(block), 1))
        grid = pi.reshape(len(block), m_rows, n_cols)
        out_rows[start : start + len(block)] = grid.sum(axis=2)
        out_cols[start : start + len(block)] = grid.sum(axis=1)
    return [out_rows] if symmetric else [out_rows, out_cols]


def _two_population_log_fixation(
    block: FloatArray, alpha: float, pop: int, eps: float
) -> FloatArray:
    """Log fixation probabilities ``(R, S, S)`` over profiles ``s = a * n + b``."""
    runs, _, m, n = block.shape
    log_rho = np.full((runs, m * n, m * n), -np.inf)
    ids = np.arange(m * n).reshape(m, n)
    # row population: a -> a2 in context b, gain A[a2, b] - A[a, b]
    src0 = np.broadcast_to(ids[:, None, :], (m, m, n))
    dst0 = np.broadcast_to(ids[None, :, :], (m, m, n))
    off0 = np.broadcast_to(~np.eye(m, dtype=bool)[:, :, None], (m, m, n))
    # column population: b -> b2 in context a, gain B[a, b2] - B[a, b]
    src1 = np.broadcast_to(ids[:, :, None], (m, n, n))
    dst1 = np.broadcast_to(ids[:, None, :], (m, n, n))
    off1 = np.broadcast_to(~np.eye(n, dtype=bool)[None, :, :], (m, n, n))
    for r in range(runs):
        a, b = block[r, 0], block[r, 1]
        scale = max(1.0, float(a.max() - a.min()), float(b.max() - b.min()))
        gain0 = a[None, :, :] - a[:, None, :]  # [a, a2, b]
        gain1 = b[:, None, :] - b[:, :, None]  # [a, b, b2]
        log_rho[r, src0[off0], dst0[off0]] = _log_fixation_constant(
            gain0[off0], alpha, pop, eps, scale
        )
        log_rho[r, src1[off1], dst1[off1]] = _log_fixation_constant(
            gain1[off1], alpha, pop, eps, scale
        )
    return log_rho


def _single_population_log_fixation(
    matrices: FloatArray, alpha: float, pop: int, eps: float
) -> FloatArray:
    """Log fixation probabilities ``(R, n, n)`` of mutant ``r`` in resident ``s`` ([s, r])."""
    runs, n, _ = matrices.shape
    if math.isinf(alpha):
        out = np.full((runs, n, n), -np.inf)
        off = ~np.eye(n, dtype=bool)
        for r in range(runs):
            mat = matrices[r]
            scale = max(1.0, float(np.max(np.abs(mat))))
            gain = mat.T - mat  # [s, r] = M[r, s] - M[s, r]
            out[r][off] = _log_fixation_constant(gain[off], alpha, pop, eps, scale)
        return out
    k = np.arange(1, pop, dtype=np.float64)  # number of mutants
    diag = np.einsum("rii->ri", matrices)  # M[x, x]
    m_rs = np.swapaxes(matrices, 1, 2)  # [s, r] -> M[r, s]
    # f_r(k) = ((k-1) M[r,r] + (m-k) M[r,s]) / (m-1); f_s(k) = (k M[s,r] + (m-k-1) M[s,s]) / (m-1)
    f_r = ((k - 1) * diag[:, None, :, None] + (pop - k) * m_rs[:, :, :, None]) / (pop - 1)
    f_s = (k * matrices[:, :, :, None] + (pop - k - 1) * diag[:, :, None, None]) / (pop - 1)
    partial = np.concatenate([np.zeros((runs, n, n, 1)), np.cumsum(f_r - f_s, axis=3)], axis=3)
    log_rho = -_logsumexp(-alpha * partial, axis=3)
    idx = np.arange(n)
    log_rho[:, idx, idx] = -np.inf
    return log_rho
