"""PettingZoo module for the abstract attacker-defender strategy game.

    from envs import strategy_game_v0
    par = strategy_game_v0.parallel_env(benign_prob=0.3, refusal="logistic")
    aec = strategy_game_v0.env()                  # the same game, AEC API
    game = par.to_normal_form()                   # exact theory.games.NormalFormGame

``raw_env`` is the parallel environment class (the game is simultaneous, so parallel is
its native form); ``parallel_env(**kw)`` builds it and ``env(**kw)`` wraps it for the
AEC API with :func:`pettingzoo.utils.conversions.parallel_to_aec`. Settings and every
modelling choice: :mod:`envs.strategy_game.model`. ``GAME`` is what the engine needs
(``arena play strategy_game``): seats, :class:`StrategyGameConfig`, the summary.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from pettingzoo import AECEnv
from pettingzoo.utils.conversions import parallel_to_aec

from envs.game_spec import GameSpec
from envs.strategy_game import (
    ATTACKER,
    DEFAULT_STRATEGIES,
    DEFENDER,
    AttackStrategy,
    RiskModel,
    StrategyGameEnv,
    StrategyGameModel,
)
from envs.strategy_game.config import FLAG_HELP, StrategyGameConfig
from envs.strategy_game.summary import summarize

raw_env = StrategyGameEnv


def parallel_env(**kwargs: Any) -> StrategyGameEnv:
    """The parallel environment (see :class:`envs.strategy_game.StrategyGameEnv`)."""
    return StrategyGameEnv(**kwargs)


def env(**kwargs: Any) -> AECEnv:
    """The AEC form: agents act in turn (attacker, then defender) on the same round."""
    return parallel_to_aec(parallel_env(**kwargs))


def make_env(config: StrategyGameConfig, judge: Any = None) -> StrategyGameEnv:
    """The parallel environment for ``config`` (the engine steps parallel games natively)."""
    del judge  # not a judged game
    return StrategyGameEnv(rounds=config.rounds, model=config.model)


@lru_cache(maxsize=16)
def normal_form(config: StrategyGameConfig) -> Any:
    """The exact one-round normal form (built once per config and process)."""
    return make_env(config).to_normal_form()


GAME = GameSpec(
    name="strategy_game_v0",
    seats=(ATTACKER, DEFENDER),
    config_class=StrategyGameConfig,
    make_env=make_env,
    summarize=summarize,
    parallel=True,
    normal_form=normal_form,
    flag_help=FLAG_HELP,
    description="Abstract attacker-defender game (MAGIC strategies x RAPO risk model).",
)

__all__ = [
    "ATTACKER",
    "DEFAULT_STRATEGIES",
    "DEFENDER",
    "GAME",
    "AttackStrategy",
    "RiskModel",
    "StrategyGameConfig",
    "StrategyGameModel",
    "env",
    "parallel_env",
    "raw_env",
]
