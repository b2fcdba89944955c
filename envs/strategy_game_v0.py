"""PettingZoo module for the abstract attacker-defender strategy game.

    from envs import strategy_game_v0
    par = strategy_game_v0.parallel_env(benign_prob=0.3, refusal="logistic")
    aec = strategy_game_v0.env()                  # the same game, AEC API
    game = par.to_normal_form()                   # exact theory.games.NormalFormGame

``raw_env`` is the parallel environment class (the game is simultaneous, so parallel is
its native form); ``parallel_env(**kw)`` builds it and ``env(**kw)`` wraps it for the
AEC API with :func:`pettingzoo.utils.conversions.parallel_to_aec`. Settings and every
modelling choice: :mod:`envs.strategy_game.model`.
"""

from __future__ import annotations

from typing import Any

from pettingzoo import AECEnv
from pettingzoo.utils.conversions import parallel_to_aec

from envs.strategy_game import (
    ATTACKER,
    DEFAULT_STRATEGIES,
    DEFENDER,
    AttackStrategy,
    RiskModel,
    StrategyGameEnv,
    StrategyGameModel,
)

raw_env = StrategyGameEnv


def parallel_env(**kwargs: Any) -> StrategyGameEnv:
    """The parallel environment (see :class:`envs.strategy_game.StrategyGameEnv`)."""
    return StrategyGameEnv(**kwargs)


def env(**kwargs: Any) -> AECEnv:
    """The AEC form: agents act in turn (attacker, then defender) on the same round."""
    return parallel_to_aec(parallel_env(**kwargs))


__all__ = [
    "ATTACKER",
    "DEFAULT_STRATEGIES",
    "DEFENDER",
    "AttackStrategy",
    "RiskModel",
    "StrategyGameModel",
    "env",
    "parallel_env",
    "raw_env",
]
