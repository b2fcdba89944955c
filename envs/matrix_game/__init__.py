"""Repeated two-player normal-form games (textbook games or payoff files).

:mod:`.games` holds the built-in games (with their sources and equilibria) and reads
payoff files; :mod:`.config` the settings; :mod:`.env` the PettingZoo parallel
environment; :mod:`.summary` the table. Users import the versioned module:
``from envs import matrix_game_v0``.
"""

from envs.matrix_game.config import MatrixGameConfig
from envs.matrix_game.env import MatrixGameEnv
from envs.matrix_game.games import (
    BUILTIN_GAMES,
    DEFAULT_GAME,
    PLAYER_0,
    PLAYER_1,
    SEATS,
    BuiltinGame,
    load_stage_game,
)

__all__ = [
    "BUILTIN_GAMES",
    "DEFAULT_GAME",
    "PLAYER_0",
    "PLAYER_1",
    "SEATS",
    "BuiltinGame",
    "MatrixGameConfig",
    "MatrixGameEnv",
    "load_stage_game",
]
