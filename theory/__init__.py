"""Game theory for the arena: games, equilibria, dynamics, evaluation, claims.

The front door is :class:`theory.Game` (:mod:`theory.facade`): build a game from
payoff arrays or a file and solve it, measure exploitability, compute best responses,
run learning dynamics and evaluate agents from one object::

    import numpy as np
    from theory import Game

    game = Game(np.array([[3, 0], [5, 1]]), np.array([[3, 5], [0, 1]]))  # prisoner's dilemma
    game.solve().equilibria         # the verified equilibria
    game.exploitability([[1, 0], [1, 0]])

The algorithms live in :mod:`theory.equilibria`, :mod:`theory.dynamics` and
:mod:`theory.evaluation`; ``Game`` only delegates to them. ``theory`` imports nothing
else of ours and no torch. The names below are loaded on first use, so importing a
submodule (``theory.errors``) stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from theory.facade import Game, read_game
    from theory.games import LeaderFollowerGame, NormalFormGame

__all__ = ["Game", "LeaderFollowerGame", "NormalFormGame", "read_game"]

_HOMES = {
    "Game": "theory.facade",
    "read_game": "theory.facade",
    "LeaderFollowerGame": "theory.games",
    "NormalFormGame": "theory.games",
}


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        import importlib

        value = getattr(importlib.import_module(_HOMES[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'theory' has no attribute {name!r}")
