"""PettingZoo module for repeated two-player normal-form (matrix) games.

    from envs import matrix_game_v0
    par = matrix_game_v0.parallel_env(game="prisoners_dilemma", rounds=10)
    aec = matrix_game_v0.env(game="payoffs.csv")    # the same game, AEC API
    game = par.to_normal_form()                     # the stage game, theory.games.NormalFormGame

``raw_env`` is the parallel environment class (both players move at once, so parallel
is its native form); ``parallel_env(**kw)`` builds it and ``env(**kw)`` wraps it for the
AEC API with :func:`pettingzoo.utils.conversions.parallel_to_aec`. The built-in games,
their sources and equilibria: :mod:`envs.matrix_game.games`. ``GAME`` is what the
engine needs (``arena play matrix_game``, tournaments): seats, :class:`MatrixGameConfig`,
the summary, the stage game for ``tabular:nash``, and whether the game is symmetric
(``B == A^T``), which decides if a tournament may play it round robin.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from pettingzoo import AECEnv
from pettingzoo.utils.conversions import parallel_to_aec

from envs.game_spec import GameSpec
from envs.matrix_game import (
    BUILTIN_GAMES,
    PLAYER_0,
    PLAYER_1,
    SEATS,
    MatrixGameConfig,
    MatrixGameEnv,
)
from envs.matrix_game.config import FLAG_HELP
from envs.matrix_game.games import is_builtin
from envs.matrix_game.summary import summarize
from theory.games import NormalFormGame

raw_env = MatrixGameEnv


def parallel_env(**kwargs: Any) -> MatrixGameEnv:
    """The parallel environment (see :class:`envs.matrix_game.MatrixGameEnv`)."""
    return MatrixGameEnv(**kwargs)


def env(**kwargs: Any) -> AECEnv:
    """The AEC form: the players act in turn (player_0, then player_1) on the same round."""
    return parallel_to_aec(parallel_env(**kwargs))


@lru_cache(maxsize=16)
def normal_form(config: MatrixGameConfig) -> NormalFormGame:
    """The stage game of ``config`` (read once per config and process)."""
    return MatrixGameEnv(game=config.game, rounds=config.rounds).to_normal_form()


def make_env(config: MatrixGameConfig, judge: Any = None) -> MatrixGameEnv:
    """The parallel environment for ``config`` (a payoff file is not read again)."""
    del judge  # not a judged game
    return MatrixGameEnv(game=normal_form(config), rounds=config.rounds)


def is_symmetric(config: MatrixGameConfig) -> bool:
    """Whether the seats are interchangeable: a square stage game with ``B == A^T``."""
    return normal_form(config).is_symmetric()


def describe(config: MatrixGameConfig) -> dict[str, Any]:
    """Manifest extras: the stage game itself (a file's path alone does not pin it)."""
    stage = normal_form(config)
    return {
        "stage_game": {
            "source": "built-in" if is_builtin(config.game) else "file",
            "title": stage.title,
            "actions": {seat: list(stage.strategies[k]) for k, seat in enumerate(SEATS)},
            "payoffs": stage.payoffs.tolist(),
        }
    }


GAME = GameSpec(
    name="matrix_game_v0",
    seats=SEATS,
    config_class=MatrixGameConfig,
    make_env=make_env,
    summarize=summarize,
    parallel=True,
    normal_form=normal_form,
    describe=describe,
    flag_help=FLAG_HELP,
    description="Repeated two-player matrix game (textbook games or a payoff file).",
    symmetric=is_symmetric,
)

__all__ = [
    "BUILTIN_GAMES",
    "GAME",
    "PLAYER_0",
    "PLAYER_1",
    "MatrixGameConfig",
    "env",
    "normal_form",
    "parallel_env",
    "raw_env",
]
