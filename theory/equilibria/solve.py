"""One entry point that picks a method, runs it and reports degeneracy.

``method="auto"`` chooses:

* two-player zero-sum: the exact LP (one equilibrium; in zero-sum games every
  equilibrium has the same value and the maximin strategies are interchangeable);
* two-player general-sum small enough to enumerate (``C(m+n, m)`` support pairs up to
  ``AUTO_ENUMERATION``, about 10x10): vertex enumeration, which is complete for extreme equilibria
  of any game (support enumeration would be as fast on nondegenerate games, but vertex
  enumeration is also right on degenerate ones);
* larger two-player games: Lemke-Howson from every label, within ``LEMKE_TIME_LIMIT``
  seconds; labels whose paths exceed the pivot cap or the time limit are skipped and
  the note lists them (a random 100x100 game has such labels);
* more than two players: pure-strategy equilibria (and the note says mixed equilibria
  were not searched).

Degeneracy is checked only where it changes what the list means (support and vertex
enumeration, Lemke-Howson). The LP, first-order and pure methods do not depend on it,
and the exhaustive check costs far more than they do (a 10x10 zero-sum game: ~0.6 s
against ~2 ms for the LP), so there ``degenerate`` is ``None`` ("not checked").
"""

from __future__ import annotations

from dataclasses import dataclass
from math import comb

from theory.equilibria._polytope import AUTO_ENUMERATION
from theory.equilibria.best_response import Equilibrium, verify_equilibrium
from theory.equilibria.degeneracy import DegeneracyReport, degeneracy_report
from theory.equilibria.first_order import solve_zero_sum_first_order
from theory.equilibria.general_sum import pure_equilibria, support_enumeration, vertex_enumeration
from theory.equilibria.lemke import LemkeHowsonSearch, lemke_howson_search
from theory.equilibria.zero_sum import solve_zero_sum
from theory.errors import InvalidGameError, UnsupportedGameError
from theory.games import NormalFormGame

# Exploitability target of method="first-order", relative to the payoff range.
FIRST_ORDER_TOL = 1e-3
# Seconds Lemke-Howson from every label may take under solve() (all labels together).
LEMKE_TIME_LIMIT = 10.0
# Methods whose answer depends on degeneracy, so solve() checks it for them.
DEGENERACY_METHODS = frozenset({"support", "vertex", "lemke-howson"})

METHODS: tuple[str, ...] = (
    "auto",
    "lp",
    "support",
    "vertex",
    "lemke-howson",
    "first-order",
    "pure",
)


@dataclass(frozen=True)
class SolveResult:
    """Equilibria found, whether the game is degenerate, and which method ran.

    ``degenerate`` is True when a degeneracy witness was found (see
    :mod:`theory.equilibria.degeneracy`), False when none was, and None when it was not
    checked (methods lp, first-order, pure); ``degeneracy_exhaustive`` says whether a
    False is a proof. ``note`` says what the list is (all equilibria, extreme equilibria,
    ..., and for Lemke-Howson which labels were skipped).
    """

    equilibria: list[Equilibrium]
    degenerate: bool | None
    method: str
    degeneracy_exhaustive: bool = True
    note: str = ""
    degeneracy_witness: str | None = None


def _auto_method(game: NormalFormGame) -> str:
    if game.num_players != 2:
        return "pure"
    if game.is_zero_sum():
        return "lp"
    m, n = game.num_strategies
    if m + n <= 63 and comb(m + n, m) <= AUTO_ENUMERATION:
        return "vertex"
    return "lemke-howson"


def _zero_sum_game(game: NormalFormGame, method: str) -> None:
    if game.num_players != 2 or not game.is_zero_sum():
        raise UnsupportedGameError(
            f"method {method!r} needs a two-player zero-sum game; {game!r} is not. "
            "Fix: use 'vertex', 'support' or 'lemke-howson' (two players) or 'pure'."
        )


def _note(method: str, report: DegeneracyReport | None, search: LemkeHowsonSearch | None) -> str:
    if method == "lp":
        return "one exact equilibrium (all equilibria of a zero-sum game share its value)"
    if method == "first-order":
        return (
            "one approximate equilibrium (regret matching+, exploitability <= "
            f"{FIRST_ORDER_TOL:g} x payoff range)"
        )
    if method == "pure":
        return "all pure-strategy equilibria; mixed equilibria were not searched"
    if method == "vertex":
        if report is not None and report.degenerate:
            return (
                "all extreme equilibria; the game is degenerate, so equilibria can form "
                "continua: convex combinations of extreme equilibria that share a clique "
                "are equilibria too"
            )
        if report is not None and not report.exhaustive:
            return "all extreme equilibria (no degeneracy found, but the check is not a proof)"
        return "all equilibria (nondegenerate game)"
    if method == "support":
        if report is not None and report.degenerate:
            return "degenerate game: support enumeration can miss equilibria; use 'vertex'"
        if report is not None and not report.exhaustive:
            return (
                "all equilibria if the game is nondegenerate (no degeneracy found, but the "
                "check is not a proof; 'vertex' returns every extreme equilibrium)"
            )
        return "all equilibria (nondegenerate game)"
    note = "the distinct equilibria Lemke-Howson reaches from every starting label"
    if search is not None and search.skipped:
        note += f"; skipped labels {search.skipped_summary()}"
    return note


def solve(
    game: NormalFormGame, method: str = "auto", *, time_limit: float | None = None
) -> SolveResult:
    """Equilibria of ``game`` by ``method`` (one of :data:`METHODS`), plus degeneracy.

    ``time_limit`` bounds Lemke-Howson from every label (default ``LEMKE_TIME_LIMIT``
    seconds); the other methods ignore it.
    """
    if method not in METHODS:
        raise InvalidGameError(f"unknown method {method!r}. Fix: use one of {', '.join(METHODS)}.")
    chosen = _auto_method(game) if method == "auto" else method
    report = degeneracy_report(game) if chosen in DEGENERACY_METHODS else None
    search: LemkeHowsonSearch | None = None
    equilibria: list[Equilibrium]
    if chosen == "lp":
        _zero_sum_game(game, chosen)
        sol = solve_zero_sum(game.payoffs[0])
        equilibria = [verify_equilibrium(game, (sol.row, sol.col), method=chosen)]
    elif chosen == "first-order":
        _zero_sum_game(game, chosen)
        scale = game.payoff_scale()
        sol = solve_zero_sum_first_order(game.payoffs[0], tol=FIRST_ORDER_TOL * scale)
        # NashConv = 2 x exploitability in a two-player game.
        equilibria = [
            verify_equilibrium(game, (sol.row, sol.col), tol=2 * FIRST_ORDER_TOL, method=chosen)
        ]
    elif chosen == "support":
        equilibria = support_enumeration(game, warn=False)
    elif chosen == "vertex":
        equilibria = vertex_enumeration(game)
    elif chosen == "lemke-howson":
        limit = LEMKE_TIME_LIMIT if time_limit is None else time_limit
        search = lemke_howson_search(game, time_limit=limit)
        equilibria = search.equilibria
    else:
        equilibria = pure_equilibria(game)
    return SolveResult(
        equilibria=equilibria,
        degenerate=None if report is None else report.degenerate,
        method=chosen,
        degeneracy_exhaustive=report is not None and report.exhaustive,
        note=_note(chosen, report, search),
        degeneracy_witness=None if report is None else report.witness,
    )
