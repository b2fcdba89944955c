"""One object for the common questions about a finite game: :class:`Game`.

``theory`` is organised by algorithm (``theory.equilibria``, ``theory.dynamics``,
``theory.evaluation``); :class:`Game` is the front door that holds one
:class:`~theory.games.NormalFormGame` and delegates to those modules, the way nashpy's
``Game`` does::

    import numpy as np
    from theory import Game

    rps = Game(np.array([[0, -1, 1], [1, 0, -1], [-1, 1, 0]]))   # zero-sum: B = -A
    rps.solve().equilibria[0].strategies        # (1/3, 1/3, 1/3) for both players
    rps.exploitability([[1, 0, 0], [1, 0, 0]])  # > 0: not an equilibrium

Every method is a thin call of the function named in its docstring, so results,
tolerances and errors are exactly those of that function. :func:`read_game` reads a
game from a Gambit ``.nfg`` file, a ``.csv`` payoff matrix or a ``.npy`` array (the
formats are described there); it is what :meth:`Game.from_file` and
``arena theory solve`` use.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from theory.dynamics import (
    IterativeResult,
    PSROResult,
    ReplicatorResult,
    fictitious_play,
    psro,
    random_profile,
    regret_matching,
    replicator_dynamics,
)
from theory.equilibria import (
    SolveResult,
    SPNESolution,
    StackelbergSolution,
    best_response,
    deviation_gains,
    exploitability,
    is_equilibrium,
    nash_conv,
    solve,
    spne,
    stackelberg_commitment,
)
from theory.errors import InvalidGameError
from theory.evaluation import AlphaRankResult, NashAveragingResult, alpha_rank, nash_averaging
from theory.games import LeaderFollowerGame, NormalFormGame
from theory.nfg import read_nfg

FloatArray = NDArray[np.float64]

DYNAMICS = ("fictitious-play", "regret-matching", "replicator", "psro")
"""Names accepted by :meth:`Game.dynamics` (and ``arena theory dynamics --kind``)."""

SUFFIXES = (".nfg", ".csv", ".npy")
"""File types :func:`read_game` reads."""


class Game:
    """A finite normal-form game with the solvers of ``theory`` as methods.

    ``Game(A)`` is the two-player zero-sum game in which the row player gets ``A`` and
    the column player ``-A``; ``Game(A, B)`` the bimatrix game; ``Game(T)`` with ``T``
    of shape ``(N, n_1, ..., n_N)`` the N-player game with payoff tensor ``T`` (as
    :class:`~theory.games.NormalFormGame`); ``Game(nfg)`` wraps an existing
    :class:`~theory.games.NormalFormGame`. ``players`` and ``strategies`` name the
    players and each player's strategies (defaults: ``"player 1"``, ``"1"``, ...).

    Profiles are sequences of one probability vector per player, in strategy order.
    """

    def __init__(
        self,
        A: ArrayLike | NormalFormGame,
        B: ArrayLike | None = None,
        *,
        players: Sequence[str] = (),
        strategies: Sequence[Sequence[str]] = (),
        title: str = "",
    ) -> None:
        if isinstance(A, NormalFormGame):
            if B is not None or players or strategies or title:
                raise InvalidGameError(
                    "Game(NormalFormGame) takes no B, players, strategies or title; "
                    "they come from the NormalFormGame."
                )
            self.normal_form = A
            return
        a = np.asarray(A)
        if B is None and a.ndim != 2:
            self.normal_form = NormalFormGame(a, players, strategies, title)
            return
        if a.ndim != 2:
            raise InvalidGameError(
                f"A has shape {a.shape}; with B given both must be m x n matrices. "
                "Fix: pass Game(A, B) with 2-D A and B, or Game(T) with T of shape (N, n_1, ...)."
            )
        b = -np.asarray(a, dtype=np.float64) if B is None else B
        self.normal_form = NormalFormGame.from_bimatrix(
            a, b, players=players or None, strategies=strategies or None, title=title
        )

    # -- constructors -------------------------------------------------------------------

    @classmethod
    def from_file(cls, path: str | Path, path_b: str | Path | None = None) -> Game:
        """Read a game with :func:`read_game` (``.nfg``, ``.csv`` or ``.npy``)."""
        return cls(read_game(path, path_b))

    # -- the game -----------------------------------------------------------------------

    @property
    def payoffs(self) -> FloatArray:
        """The payoff tensor, shape ``(N, n_1, ..., n_N)`` (read-only)."""
        return self.normal_form.payoffs

    @property
    def players(self) -> tuple[str, ...]:
        return self.normal_form.players

    @property
    def strategies(self) -> tuple[tuple[str, ...], ...]:
        return self.normal_form.strategies

    @property
    def num_players(self) -> int:
        return self.normal_form.num_players

    @property
    def num_strategies(self) -> tuple[int, ...]:
        return self.normal_form.num_strategies

    def is_zero_sum(self) -> bool:
        return self.normal_form.is_zero_sum()

    def is_symmetric(self) -> bool:
        return self.normal_form.is_symmetric()

    def __repr__(self) -> str:
        dims = "x".join(str(n) for n in self.num_strategies)
        title = f" {self.normal_form.title!r}" if self.normal_form.title else ""
        return f"Game({self.num_players} players, {dims}{title})"

    # -- profiles -----------------------------------------------------------------------

    def expected_payoffs(self, profile: Sequence[ArrayLike]) -> FloatArray:
        """Each player's expected payoff under ``profile``, shape ``(N,)``."""
        return self.normal_form.expected_payoffs(profile)

    def exploitability(self, profile: Sequence[ArrayLike]) -> float:
        """:func:`theory.equilibria.exploitability`: NashConv / N; 0 exactly at a Nash."""
        return exploitability(self.normal_form, profile)

    def nash_conv(self, profile: Sequence[ArrayLike]) -> float:
        """:func:`theory.equilibria.nash_conv`: the players' summed gains from deviating."""
        return nash_conv(self.normal_form, profile)

    def deviation_gains(self, profile: Sequence[ArrayLike]) -> FloatArray:
        """:func:`theory.equilibria.deviation_gains`: each player's gain, shape ``(N,)``."""
        return deviation_gains(self.normal_form, profile)

    def best_response(self, profile: Sequence[ArrayLike], player: int) -> FloatArray:
        """:func:`theory.equilibria.best_response`: one-hot pure best response (0-based)."""
        return best_response(self.normal_form, profile, player)

    def is_equilibrium(self, profile: Sequence[ArrayLike], **kw: Any) -> bool:
        """:func:`theory.equilibria.is_equilibrium` (relative tolerance keywords pass on)."""
        return bool(is_equilibrium(self.normal_form, profile, **kw))

    # -- equilibria ---------------------------------------------------------------------

    def solve(self, method: str = "auto", *, time_limit: float | None = None) -> SolveResult:
        """:func:`theory.equilibria.solve`: verified equilibria plus a degeneracy verdict.

        ``method`` is one of ``theory.equilibria.METHODS`` (``auto``, ``lp``,
        ``support``, ``vertex``, ``lemke-howson``, ``first-order``, ``pure``).
        """
        return solve(self.normal_form, method, time_limit=time_limit)

    def stackelberg(self, leader: int = 0) -> StackelbergSolution:
        """:func:`theory.equilibria.stackelberg_commitment`: strong Stackelberg, two players.

        ``leader`` 0 is the row player, 1 the column player; the leader commits to a
        mixed strategy and the follower best-responds (ties in the leader's favour).
        """
        return stackelberg_commitment(self.normal_form, leader)

    def leader_follower(self, leader: int = 0) -> LeaderFollowerGame:
        """The sequential game in which ``leader`` moves first and the other player replies."""
        A, B = self.normal_form.bimatrix()
        names = self.strategies
        if leader == 0:
            lead, follow, actions = A, B, (names[0], names[1])
            roles = (self.players[0], self.players[1])
        elif leader == 1:
            lead, follow, actions = B.T, A.T, (names[1], names[0])
            roles = (self.players[1], self.players[0])
        else:
            raise InvalidGameError(
                f"leader must be 0 (row player) or 1 (column player), got {leader}."
            )
        return LeaderFollowerGame(
            lead, follow, actions[0], actions[1], players=roles, title=self.normal_form.title
        )

    def spne(self, leader: int = 0, tie_break: str = "leader-favorable") -> SPNESolution:
        """:func:`theory.equilibria.spne` of :meth:`leader_follower` (pure commitment).

        The leader picks a pure action, the follower observes it and replies; ties
        among the follower's replies are broken by ``tie_break``.
        """
        return spne(self.leader_follower(leader), tie_break)

    # -- dynamics -----------------------------------------------------------------------

    def random_profile(self, seed: int | None = 0) -> list[FloatArray]:
        """:func:`theory.dynamics.random_profile`: a seeded Dirichlet(1) start per player.

        Pass it as ``initial=`` to the dynamics: their default uniform start is the
        equilibrium (a rest point) of symmetric games such as RPS.
        """
        return random_profile(self.normal_form, seed)

    def fictitious_play(self, iterations: int = 1000, **kw: Any) -> IterativeResult:
        """:func:`theory.dynamics.fictitious_play` (keywords pass on)."""
        return fictitious_play(self.normal_form, iterations, **kw)

    def regret_matching(self, iterations: int = 1000, **kw: Any) -> IterativeResult:
        """:func:`theory.dynamics.regret_matching` (``plus=True`` for RM+)."""
        return regret_matching(self.normal_form, iterations, **kw)

    def replicator(self, initial: Any = None, **kw: Any) -> ReplicatorResult:
        """:func:`theory.dynamics.replicator_dynamics` (``t_max``, ``population``, ...)."""
        return replicator_dynamics(self.normal_form, initial, **kw)

    def psro(self, iterations: int = 50, **kw: Any) -> PSROResult:
        """:func:`theory.dynamics.psro` with the exact best-response oracle (double oracle)."""
        return psro(self.normal_form, iterations=iterations, **kw)

    def dynamics(
        self,
        kind: Literal["fictitious-play", "regret-matching", "replicator", "psro"],
        **kw: Any,
    ) -> IterativeResult | ReplicatorResult | PSROResult:
        """Run the learning procedure named ``kind`` (one of :data:`DYNAMICS`).

        Every result has ``.profile`` (the final, or average, profile) and an
        ``exploitability`` trajectory; keywords go to the method of that name.
        """
        runners: dict[str, Callable[..., IterativeResult | ReplicatorResult | PSROResult]] = {
            "fictitious-play": self.fictitious_play,
            "regret-matching": self.regret_matching,
            "replicator": self.replicator,
            "psro": self.psro,
        }
        if kind not in runners:
            raise InvalidGameError(
                f"unknown dynamics {kind!r}. Fix: use one of {', '.join(DYNAMICS)}."
            )
        return runners[kind](**kw)

    # -- evaluation ---------------------------------------------------------------------

    def nash_averaging(self, **kw: Any) -> NashAveragingResult:
        """:func:`theory.evaluation.nash_averaging`; needs a symmetric zero-sum game.

        That is ``Game(M)`` with ``M`` antisymmetric (``M[i, j]``: how much agent ``i``
        beats agent ``j``); ratings are labelled by the row player's strategy names.
        """
        return nash_averaging(self.normal_form, **kw)

    def alpha_rank(self, **kw: Any) -> AlphaRankResult:
        """:func:`theory.evaluation.alpha_rank` (one population per player by default).

        ``single_population=True`` uses one population for a symmetric two-player game.
        """
        return alpha_rank(self.normal_form, **kw)


# -- reading payoff files -----------------------------------------------------------------


def _number(cell: str) -> float | None:
    try:
        return float(cell)
    except ValueError:
        return None


#: cell separators a payoff CSV may use: commas, or (files with none) ';' or a tab
SEPARATORS = (",", ";", "\t")


def _separator(text: str) -> str:
    """The cell separator of a payoff CSV: ``,`` unless the data lines hold none.

    Spreadsheets in many locales export ``;`` (and some tools tabs); read with commas,
    every line of such a file is one non-numeric cell, which used to pass for a header
    and labels and ended in a puzzling "a row has no payoffs". A file whose data lines
    have no comma and all hold a ``;`` (or all a tab) is read with that separator.
    """
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    if not lines or any("," in ln for ln in lines):
        return ","
    for sep in SEPARATORS[1:]:
        if all(sep in ln for ln in lines):
            return sep
    return ","


def _separator_hint(cell: str) -> str:
    """Why ``cell`` may not be a number when it holds another separator (else ``""``)."""
    for sep, name in ((";", "';'"), ("\t", "a tab"), (" ", "a space")):
        if sep in cell.strip():
            return (
                f" Fix: separate every cell with ',' (this one holds {name}; one separator "
                "for the whole file, '.' for decimals)."
            )
    return ""


def _numbers_run_together(cell: str) -> bool:
    """Whether ``cell`` is numbers joined by ``;``, tabs or spaces (a separator problem)."""
    parts = [p for p in re.split(r"[;\t ]+", cell) if p]
    return len(parts) > 1 and all(_number(p) is not None for p in parts)


def _is_header(cells: list[str]) -> bool:
    """Whether line 1 names the columns instead of holding payoffs.

    Only a line with no number at all (or one that starts with an empty corner cell,
    which no payoff row does) is a header. Treating any line with a non-numeric cell as
    one silently dropped a first row of payoffs with a typo (``1,x``); that row is now
    read as payoffs, so the typo is reported with its line and column.
    """
    if any(_numbers_run_together(c) for c in cells):
        return False
    return cells[0] == "" or all(_number(c) is None for c in cells)


def _csv_rows(name: str, text: str) -> list[tuple[int, list[str]]]:
    """The non-blank, non-comment lines of a payoff CSV as ``(line number, cells)``."""
    rows: list[tuple[int, list[str]]] = []
    reader = csv.reader(io.StringIO(text), delimiter=_separator(text))
    try:
        for cells in reader:
            stripped = [c.strip() for c in cells]
            if not any(stripped) or stripped[0].startswith("#"):
                continue
            rows.append((reader.line_num, stripped))
    except csv.Error as exc:
        raise InvalidGameError(f"{name}: line {reader.line_num}: {exc}.") from exc
    if not rows:
        raise InvalidGameError(
            f"{name}: no payoffs found. Fix: write one row of numbers per row strategy."
        )
    return rows


def _payoff(name: str, line: int, col: int, cell: str, where: str) -> float:
    """The payoff in ``cell``, or an error naming the file, line, column and value.

    ``where`` is ``"label"`` for the first column of unlabelled rows, ``"first"`` for
    the first line of payoffs when there is no header, else ``""``: each gets the fix
    that matches its likely mistake.
    """
    value = _number(cell)
    if value is None:
        fix = _separator_hint(cell)
        if where == "label":
            fix = " Fix: label either every row or none."
        elif not fix and where == "first":
            fix = " Fix: write a number there (a header line of column names holds no numbers)."
        raise InvalidGameError(
            f"{name}: line {line}, column {col}: {cell[:40]!r} is not a number." + fix
        )
    if not np.isfinite(value):
        raise InvalidGameError(
            f"{name}: line {line}, column {col}: {cell[:40]!r} is not a finite payoff."
        )
    return value


def _where(labelled: bool, col: int, first_row: bool) -> str:
    """The kind of cell for :func:`_payoff`'s fix text."""
    if not labelled and col == 1:
        return "label"
    return "first" if first_row else ""


def read_payoff_csv(path: str | Path) -> tuple[FloatArray, tuple[str, ...], tuple[str, ...]]:
    """One payoff matrix from a CSV file: ``(matrix, row_labels, column_labels)``.

    Rows are the row player's strategies, columns the column player's. Cells are
    separated by ``,`` (or, in a file with no comma, by ``;`` or a tab throughout). Blank
    lines and lines starting with ``#`` are skipped. An optional header line (no numbers
    in it, or an empty first corner cell) names the columns; an optional first column of
    non-numeric cells names the rows (then the header starts with one corner cell, which
    is ignored). Labels that are not given are ``"1", "2", ...``. Raises
    :class:`InvalidGameError` naming the file, line and column of the first malformed
    entry.
    """
    name = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise InvalidGameError(
            f"cannot read {name}: {exc.strerror or exc}. Fix: check the path."
        ) from exc
    except UnicodeDecodeError as exc:
        raise InvalidGameError(f"{name} is not a UTF-8 text file ({exc.reason}).") from exc
    rows = _csv_rows(name, text)
    header: list[str] | None = None
    if _is_header(rows[0][1]):
        header = rows[0][1]
        rows = rows[1:]
        if not rows:
            raise InvalidGameError(f"{name}: only a header row, no payoffs.")
    labelled = _number(rows[0][1][0]) is None
    row_labels: list[str] = []
    values: list[list[float]] = []
    width = len(rows[0][1]) - int(labelled)
    if width < 1:
        line, cells = rows[0]
        if hint := _separator_hint(cells[0]):
            raise InvalidGameError(
                f"{name}: line {line}: {cells[0][:40]!r} is one cell, not a row of payoffs." + hint
            )
        raise InvalidGameError(
            f"{name}: line {line}: a row has no payoffs. Fix: write one number per column "
            "strategy after the row's label."
        )
    for line, cells in rows:
        if labelled:
            row_labels.append(cells[0])
            cells = cells[1:]
        if len(cells) != width:
            raise InvalidGameError(
                f"{name}: line {line}: {len(cells)} payoffs, but the first row has {width}. "
                "Fix: give every row the same number of entries."
            )
        start = 1 + int(labelled)
        first = header is None and line == rows[0][0]
        values.append(
            [
                _payoff(name, line, col, cell, _where(labelled, col, first))
                for col, cell in enumerate(cells, start=start)
            ]
        )
    column_labels: tuple[str, ...] = tuple(str(k + 1) for k in range(width))
    if header is not None:
        names = header[1:] if len(header) == width + 1 else header
        if len(names) != width:
            raise InvalidGameError(
                f"{name}: the header names {len(header)} columns but the rows have {width} "
                "payoffs. Fix: one name per column (plus a corner cell if rows are labelled)."
            )
        column_labels = tuple(names)
    labels = tuple(row_labels) if labelled else tuple(str(k + 1) for k in range(len(values)))
    return np.array(values, dtype=np.float64), labels, column_labels


def _read_npy(path: Path) -> FloatArray:
    try:
        array = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError) as exc:
        raise InvalidGameError(f"{path}: not a readable .npy array ({exc}).") from exc
    if not isinstance(array, np.ndarray) or array.dtype.kind not in "biuf":
        raise InvalidGameError(
            f"{path}: a payoff array must hold numbers, got dtype {getattr(array, 'dtype', '?')}."
        )
    return np.asarray(array, dtype=np.float64)


def read_game(path: str | Path, path_b: str | Path | None = None) -> NormalFormGame:
    """Read a game from ``path`` by its suffix.

    * ``.nfg``: a Gambit strategic game (:func:`theory.nfg.read_nfg`).
    * ``.csv``: the row player's payoff matrix (:func:`read_payoff_csv`). Alone it is
      the zero-sum game ``(A, -A)``; with ``path_b``, a second CSV of the same shape,
      it is the bimatrix game ``(A, B)``. Labels come from ``path``'s header and first
      column (or, where ``path`` has none, from ``path_b``'s).
    * ``.npy``: an array of shape ``(m, n)`` (zero-sum, as one CSV), ``(2, m, n)``
      (bimatrix) or ``(N, n_1, ..., n_N)`` (N players); with ``path_b`` both are
      ``(m, n)`` matrices.

    Errors are :class:`InvalidGameError` (or :class:`theory.errors.NFGFormatError`)
    with a one-line message naming the file.
    """
    first = Path(path)
    suffix = first.suffix.lower()
    if suffix not in SUFFIXES:
        raise InvalidGameError(
            f"{first}: unknown game file type {suffix or '(none)'!r}. "
            f"Fix: use one of {', '.join(SUFFIXES)}."
        )
    if suffix == ".nfg":
        if path_b is not None:
            raise InvalidGameError(
                f"{first}: a .nfg file holds every player's payoffs; pass it alone."
            )
        return read_nfg(first)
    if path_b is not None and Path(path_b).suffix.lower() != suffix:
        raise InvalidGameError(
            f"{path_b}: the second payoff file must be a {suffix} like {first.name}."
        )
    if suffix == ".csv":
        a, rows, cols = read_payoff_csv(first)
        has_rows = any(r != str(k + 1) for k, r in enumerate(rows))
        has_cols = any(c != str(k + 1) for k, c in enumerate(cols))
        if path_b is None:
            return _named(first, a, -a, (rows, cols))
        b, rows_b, cols_b = read_payoff_csv(path_b)
        _same_shape(first, a, Path(path_b), b)
        return _named(first, a, b, (rows if has_rows else rows_b, cols if has_cols else cols_b))
    array = _read_npy(first)
    if path_b is not None:
        b = _read_npy(Path(path_b))
        if array.ndim != 2:
            raise InvalidGameError(
                f"{first}: with a second file both must be (m, n) matrices, got {array.shape}."
            )
        _same_shape(first, array, Path(path_b), b)
        return _named(first, array, b, ())
    if array.ndim == 2:
        return _named(first, array, -array, ())
    try:
        return NormalFormGame(array)
    except InvalidGameError as exc:
        raise InvalidGameError(
            f"{first}: {exc} (.npy games are (m, n) zero-sum, (2, m, n) bimatrix "
            "or (N, n_1, ..., n_N).)"
        ) from exc


def _same_shape(path_a: Path, a: FloatArray, path_b: Path, b: FloatArray) -> None:
    if a.shape != b.shape:
        raise InvalidGameError(
            f"{path_b}: payoffs of shape {b.shape} do not match {path_a.name}'s {a.shape}. "
            "Fix: both players' matrices need one row per row strategy and one column "
            "per column strategy."
        )


def _named(
    path: Path, a: FloatArray, b: FloatArray, strategies: Sequence[Sequence[str]]
) -> NormalFormGame:
    try:
        return NormalFormGame.from_bimatrix(a, b, strategies=strategies or None, title=path.stem)
    except InvalidGameError as exc:
        raise InvalidGameError(f"{path}: {exc}") from exc
