"""The abstract attacker-defender strategy game (MAGIC's strategies x RAPO's risk model).

:mod:`.model` holds the game (risk model, action lists, payoffs, exact normal form);
:mod:`.env` the PettingZoo parallel environment. Users import the versioned module:
``from envs import strategy_game_v0``.
"""

from envs.strategy_game.env import StrategyGameEnv, build_model
from envs.strategy_game.model import (
    ATTACKER,
    DEFAULT_STRATEGIES,
    DEFENDER,
    AttackAction,
    AttackStrategy,
    DefenseAction,
    Outcome,
    PayoffTable,
    RiskModel,
    StrategyGameModel,
)

__all__ = [
    "ATTACKER",
    "DEFAULT_STRATEGIES",
    "DEFENDER",
    "AttackAction",
    "AttackStrategy",
    "DefenseAction",
    "Outcome",
    "PayoffTable",
    "RiskModel",
    "StrategyGameEnv",
    "StrategyGameModel",
    "build_model",
]
