"""The stage games of ``matrix_game_v0``: textbook two-player games and payoff files.

Built-in games (``A`` is ``player_0``'s payoff matrix, rows its actions; ``B`` is
``player_1``'s, columns its actions). Each is the standard textbook table, so its
equilibria are known and a run can be checked against them:

==========================  =====================  ========================================
name                        payoffs (row, column)  Nash equilibria
==========================  =====================  ========================================
``rock_paper_scissors``     win 1, loss -1,        unique, mixed: (1/3, 1/3, 1/3) each;
                            tie 0 (zero-sum)       value 0
``matching_pennies``        match: (1, -1);        unique, mixed: (1/2, 1/2) each; value 0
                            mismatch: (-1, 1)      (``player_0`` is the matcher)
``prisoners_dilemma``       R=3, S=0, T=5, P=1     unique, pure: (defect, defect), (1, 1)
``stag_hunt``               (stag, stag) (2, 2);   pure (stag, stag) (2, 2) and
                            hare 1 whatever the    (hare, hare) (1, 1); mixed: stag w.p.
                            other does; lone stag  1/2 each, (1, 1)
                            hunter 0
``chicken``                 swerve/swerve (3, 3);  pure (swerve, straight) (2, 4) and
                            swerve/straight        (straight, swerve) (4, 2); mixed: swerve
                            (2, 4); crash (1, 1)   w.p. 1/2 each, (2.5, 2.5)
``battle_of_the_sexes``     (bach, bach) (2, 1);   pure (bach, bach) (2, 1) and
                            (stravinsky,           (stravinsky, stravinsky) (1, 2); mixed:
                            stravinsky) (1, 2);    player_0 bach w.p. 2/3, player_1 w.p.
                            mismatch (0, 0)        1/3, (2/3, 2/3)
==========================  =====================  ========================================

Sources: rock-paper-scissors and matching pennies as in Shoham & Leyton-Brown (2009),
*Multiagent Systems*, section 3.2 (zero-sum, win 1 / loss -1); the prisoner's dilemma
with Axelrod's payoffs T=5 > R=3 > P=1 > S=0 (Axelrod 1984, *The Evolution of
Cooperation*); the stag hunt and battle of the sexes ("Bach or Stravinsky") with the
payoffs of Osborne (2004), *An Introduction to Game Theory*, chapter 2; chicken in the
ordinal 4 > 3 > 2 > 1 form of Rapoport & Guyer (1966), "A taxonomy of 2x2 games"
(temptation 4, mutual swerve 3, sucker 2, crash 1).

Payoff files are read with :func:`theory.facade.read_game`: a Gambit ``.nfg`` file, a
``.csv`` matrix (alone the zero-sum game ``(A, -A)``; labels from its header row and
first column) or a ``.npy`` array (``(m, n)`` zero-sum or ``(2, m, n)`` bimatrix). The
game must have two players. Any problem is one :class:`~envs.errors.ArenaError`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from envs.errors import ArenaError
from theory.errors import TheoryError
from theory.games import NormalFormGame

PLAYER_0 = "player_0"
PLAYER_1 = "player_1"
SEATS = (PLAYER_0, PLAYER_1)
DEFAULT_GAME = "rock_paper_scissors"
#: The file types :func:`theory.facade.read_game` reads (that module, with its solvers,
#: is imported only when a file is read; a test checks the two lists agree).
SUFFIXES = (".nfg", ".csv", ".npy")


@dataclass(frozen=True)
class BuiltinGame:
    """A textbook game: action labels and both players' payoff matrices (see above)."""

    title: str
    actions: tuple[tuple[str, ...], tuple[str, ...]]
    row: tuple[tuple[float, ...], ...]  # A: player_0's payoffs
    column: tuple[tuple[float, ...], ...]  # B: player_1's payoffs
    source: str

    def normal_form(self) -> NormalFormGame:
        return NormalFormGame.from_bimatrix(
            self.row, self.column, players=SEATS, strategies=self.actions, title=self.title
        )


_RPS = ((0.0, -1.0, 1.0), (1.0, 0.0, -1.0), (-1.0, 1.0, 0.0))
_PENNIES = ((1.0, -1.0), (-1.0, 1.0))

BUILTIN_GAMES: dict[str, BuiltinGame] = {
    "rock_paper_scissors": BuiltinGame(
        title="rock-paper-scissors",
        actions=(("rock", "paper", "scissors"),) * 2,
        row=_RPS,
        column=tuple(tuple(-x for x in row) for row in _RPS),
        source="Shoham & Leyton-Brown (2009), Multiagent Systems, section 3.2",
    ),
    "matching_pennies": BuiltinGame(
        title="matching pennies",
        actions=(("heads", "tails"),) * 2,
        row=_PENNIES,
        column=tuple(tuple(-x for x in row) for row in _PENNIES),
        source="Shoham & Leyton-Brown (2009), Multiagent Systems, section 3.2",
    ),
    "prisoners_dilemma": BuiltinGame(
        title="prisoner's dilemma",
        actions=(("cooperate", "defect"),) * 2,
        row=((3.0, 0.0), (5.0, 1.0)),
        column=((3.0, 5.0), (0.0, 1.0)),
        source="Axelrod (1984), The Evolution of Cooperation: T=5, R=3, P=1, S=0",
    ),
    "stag_hunt": BuiltinGame(
        title="stag hunt",
        actions=(("stag", "hare"),) * 2,
        row=((2.0, 0.0), (1.0, 1.0)),
        column=((2.0, 1.0), (0.0, 1.0)),
        source="Osborne (2004), An Introduction to Game Theory, chapter 2",
    ),
    "chicken": BuiltinGame(
        title="chicken",
        actions=(("swerve", "straight"),) * 2,
        row=((3.0, 2.0), (4.0, 1.0)),
        column=((3.0, 4.0), (2.0, 1.0)),
        source="Rapoport & Guyer (1966), A taxonomy of 2x2 games (ordinal payoffs)",
    ),
    "battle_of_the_sexes": BuiltinGame(
        title="battle of the sexes",
        actions=(("bach", "stravinsky"),) * 2,
        row=((2.0, 0.0), (0.0, 1.0)),
        column=((1.0, 0.0), (0.0, 2.0)),
        source="Osborne (2004), An Introduction to Game Theory, chapter 2 (Bach or Stravinsky)",
    ),
}

_FIX = (
    f"pass --game with one of {', '.join(BUILTIN_GAMES)}, "
    f"or the path of a two-player {'/'.join(SUFFIXES)} payoff file."
)


def is_builtin(game: str) -> bool:
    return game in BUILTIN_GAMES


def check_game_name(game: object) -> str:
    """``game`` if it names a built-in game or a payoff file by its suffix, else an error.

    Cheap (no file is read): the config calls it, then :func:`load_stage_game` reads.
    """
    if not isinstance(game, str) or not game.strip():
        raise ArenaError(f"game must be a game name or a file path, got {game!r}.", _FIX)
    if game in BUILTIN_GAMES:
        return game
    if Path(game).suffix.lower() not in SUFFIXES:
        raise ArenaError(f"game {game!r} is neither a built-in game nor a payoff file.", _FIX)
    return game


def load_stage_game(game: str) -> NormalFormGame:
    """The stage game ``game`` names, its players renamed to the seats."""
    check_game_name(game)
    builtin = BUILTIN_GAMES.get(game)
    if builtin is not None:
        return builtin.normal_form()
    from theory.facade import read_game  # slow to import (the solvers): only for files

    path = Path(game)
    if not path.is_file():
        raise ArenaError(f"game file {game!r} does not exist.", _FIX)
    try:
        read = read_game(path)
    except TheoryError as exc:
        text = " ".join(str(exc).split())  # one line, whatever the reader wrote
        message, _, fix = text.partition(" Fix: ")
        raise ArenaError(
            f"game file {game!r} is not a valid payoff file: {message}", fix or _FIX
        ) from None
    if read.num_players != 2:
        raise ArenaError(
            f"game file {game!r} holds a {read.num_players}-player game; "
            "matrix_game_v0 plays two-player games.",
            "write the two players' payoffs (.csv matrix, (2, m, n) .npy or 2-player .nfg).",
        )
    return NormalFormGame(read.payoffs, players=SEATS, strategies=read.strategies, title=read.title)
