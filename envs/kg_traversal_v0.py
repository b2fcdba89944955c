"""PettingZoo module for KALE's knowledge-graph traversal game.

    from envs import kg_traversal_v0
    aec = kg_traversal_v0.env(split="test", max_hops=4)

``env`` is the wrapped AEC environment, ``raw_env`` the unwrapped class (one seat,
``navigator``; sequential, so no ``parallel_env``). ``GAME`` is what the engine needs
(``arena play kg_traversal``, tournaments). The game, its settings and what is
reconstructed from ``kale_ds.md`` C.1: :mod:`envs.kg.env`.
"""

from __future__ import annotations

from typing import Any

from envs.game_spec import GameSpec
from envs.kg.env import (
    FLAG_HELP,
    NAVIGATOR,
    SEATS,
    KGTraversalConfig,
    KGTraversalEnv,
    env,
    episode_metrics,
    load_kg,
    questions_for,
    summarize,
)

raw_env = KGTraversalEnv


def make_env(config: KGTraversalConfig, judge: Any = None) -> Any:
    """One wrapped environment for ``config`` (the KG is read once per process)."""
    del judge  # not a judged game
    from pettingzoo.utils import wrappers

    return wrappers.OrderEnforcingWrapper(KGTraversalEnv(config))


def describe(config: KGTraversalConfig) -> dict[str, Any]:
    """Manifest extras: the KG's size and the question pool."""
    kg = load_kg(config.kg)
    return {
        "kg": {"name": kg.name, "entities": len(kg.entities), "edges": kg.num_edges},
        "questions": len(questions_for(config)),
    }


GAME = GameSpec(
    name="kg_traversal_v0",
    seats=SEATS,
    config_class=KGTraversalConfig,
    make_env=make_env,
    summarize=summarize,
    describe=describe,
    flag_help=FLAG_HELP,
    description="KALE: walk a knowledge graph to answer a multi-hop question (navigator).",
    episode_metrics=episode_metrics,
    metric_names={"correct": "accuracy", "hops": "hops"},
)

__all__ = ["GAME", "NAVIGATOR", "KGTraversalConfig", "env", "raw_env"]
