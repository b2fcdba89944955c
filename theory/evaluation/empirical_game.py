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

from theory.equilibria import SolveResult, solve
from theory.errors import InvalidGameError
from theory.evaluation.alpha_rank_batch import alpha_rank_batch, alpha_rank_point
from theory.evaluation.meta_solver import EquilibriumSelector
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
        solver = EquilibriumSelector(self.is_symmetric, self.constant_sum)
        p_x, p_y, p_nash_avg = solver.point(np.asarray(self.payoffs))
        p_derived = _derived(
            self.payoffs[None], p_x[None], p_y[None], self.is_symmetric, self.constant_sum
        )
        p_alpha = (
            alpha_rank_point(self.payoffs, self.is_symmetric, alpha, population_size)
            if with_alpha_rank
            else None
        )
        tables = self.resample(n_boot, seed) if n_boot else np.zeros((0, 2, *self.shape))
        xs, ys, ok = solver.replicates(tables, p_x, p_y)
        derived = _derived(tables[ok], xs[ok], ys[ok], self.is_symmetric, self.constant_sum)
        alpha_reps = (
            alpha_rank_batch(tables, self.is_symmetric, alpha, population_size)
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
