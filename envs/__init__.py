"""PettingZoo environments, judges and task data.

Each environment is a module named ``<name>_v<version>`` exposing ``env``, ``raw_env``
and, where the game is simultaneous, ``parallel_env`` — PettingZoo's own convention.
:data:`ENVIRONMENTS` maps the names the CLI accepts to those modules.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from envs.errors import ArenaError

ENVIRONMENTS: dict[str, str] = {
    "attack_defense_v0": "envs.attack_defense_v0",
    "strategy_game_v0": "envs.strategy_game_v0",
}
ALIASES = {name.rsplit("_v", 1)[0]: name for name in ENVIRONMENTS}


def load_environment(name: str) -> ModuleType:
    """The environment module for ``name`` (``attack_defense`` or ``attack_defense_v0``)."""
    full_name = ALIASES.get(name, name)
    if full_name not in ENVIRONMENTS:
        raise ArenaError(
            f"Unknown environment {name!r}.",
            f"use one of: {', '.join(sorted(ENVIRONMENTS))}.",
        )
    return importlib.import_module(ENVIRONMENTS[full_name])
