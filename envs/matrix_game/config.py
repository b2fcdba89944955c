"""The settings of one matrix-game match, as one validated, frozen (hashable) dataclass.

Frozen so that ``matrix_game_v0.normal_form`` can cache the stage game per config with
:func:`functools.lru_cache`. A payoff file is read once on construction to check it (a
wrong file stops with one line before anything runs).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from envs.errors import ArenaError
from envs.matrix_game.games import BUILTIN_GAMES, DEFAULT_GAME, SUFFIXES, load_stage_game

FLAG_HELP = {
    "game": (
        f"Stage game: one of {', '.join(BUILTIN_GAMES)}, or a two-player payoff file "
        f"({'/'.join(SUFFIXES)})."
    ),
    "rounds": "Rounds per episode (the stage game repeated; both players move at once).",
}


@dataclass(frozen=True)
class MatrixGameConfig:
    """Settings of ``matrix_game_v0``: the stage game and how often it is repeated."""

    game: str = field(default=DEFAULT_GAME, metadata={"help": FLAG_HELP["game"]})
    rounds: int = field(default=1, metadata={"help": FLAG_HELP["rounds"]})

    def __post_init__(self) -> None:
        check_rounds(self.rounds)
        load_stage_game(self.game)  # names the setting and the fix if it is wrong


def check_rounds(rounds: object) -> int:
    """``rounds`` if it is a positive integer, else one :class:`ArenaError`."""
    if isinstance(rounds, bool) or not isinstance(rounds, int) or rounds < 1:
        raise ArenaError(f"rounds must be a positive integer, got {rounds!r}.", "pass --rounds 1.")
    return rounds
