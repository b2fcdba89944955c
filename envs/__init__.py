"""PettingZoo environments, judges and task data.

Each environment is a module named ``<name>_v<version>`` exposing ``env``, ``raw_env``
and, where the game is simultaneous, ``parallel_env`` — PettingZoo's own convention —
plus ``GAME``, the :class:`~envs.game_spec.GameSpec` the engine plays it through.
:data:`ENVIRONMENTS` maps the names the CLI accepts to those modules; a new environment
is one line here (and inherits the conformance tests in ``tests/test_conformance.py``).
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import TYPE_CHECKING

from envs.errors import ArenaError

if TYPE_CHECKING:
    from envs.game_spec import GameSpec

ENVIRONMENTS: dict[str, str] = {
    "attack_defense_v0": "envs.attack_defense_v0",
    "decide_sample_v0": "envs.decide_sample_v0",
    "matrix_game_v0": "envs.matrix_game_v0",
    "strategy_game_v0": "envs.strategy_game_v0",
    "kg_traversal_v0": "envs.kg_traversal_v0",
    "kg_answer_v0": "envs.kg_answer_v0",
}
ALIASES = {name.rsplit("_v", 1)[0]: name for name in ENVIRONMENTS}


def load_environment(name: str) -> ModuleType:
    """The environment module for ``name`` (``attack_defense`` or ``attack_defense_v0``)."""
    return importlib.import_module(ENVIRONMENTS[canonical_name(name)])


def canonical_name(name: str) -> str:
    """``attack_defense`` → ``attack_defense_v0`` (or an error listing the environments)."""
    full_name = ALIASES.get(name, name)
    if full_name not in ENVIRONMENTS:
        raise ArenaError(
            f"Unknown environment {name!r}.",
            f"use one of: {', '.join(sorted(ENVIRONMENTS))}.",
        )
    return full_name


def load_game(name: str) -> GameSpec:
    """The :class:`~envs.game_spec.GameSpec` of environment ``name``."""
    module = load_environment(name)
    game = getattr(module, "GAME", None)
    if game is None:
        raise ArenaError(
            f"Environment {name!r} declares no GAME spec, so the engine cannot play it.",
            "add GAME = envs.game_spec.GameSpec(...) to its module.",
        )
    return game
