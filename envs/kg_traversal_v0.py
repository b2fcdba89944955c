"""PettingZoo module for KALE's knowledge-graph traversal game.

    from envs import kg_traversal_v0
    aec = kg_traversal_v0.env(split="test", max_hops=4)
    two = kg_traversal_v0.env(answerer_mode="with_rationale")   # navigator + answerer

``env`` is the wrapped AEC environment, ``raw_env`` the unwrapped class (sequential, so
no ``parallel_env``). ``GAME`` is what the engine needs (``arena play kg_traversal``,
tournaments). The game, its settings and what is reconstructed from ``kale_ds.md`` C.1:
:mod:`envs.kg.env`; the answerer seat: :mod:`envs.kg.answerer`.

A ``GameSpec`` has fixed seats and the engine asks an agent for each, so ``GAME``
declares the navigator only; the two-seat game (``answerer_mode`` other than ``none``)
is the environment :mod:`envs.kg_answer_v0` (``arena play kg_answer``), and
:func:`make_env` refuses the setting here with that fix instead of failing mid-run.
:func:`seats_for` says which seats play under a config.
"""

from __future__ import annotations

from typing import Any

from envs.errors import ArenaError
from envs.game_spec import GameSpec
from envs.kg.env import (
    ANSWERER,
    FLAG_HELP,
    NAVIGATOR,
    SEATS,
    KGTraversalConfig,
    KGTraversalEnv,
    env,
    episode_metrics,
    load_kg,
    questions_for,
    seats_for,
    summarize,
)

raw_env = KGTraversalEnv


def make_env(config: KGTraversalConfig, judge: Any = None) -> Any:
    """One wrapped environment for ``config`` (the KG is read once per process)."""
    del judge  # not a judged game
    from pettingzoo.utils import wrappers

    if seats_for(config) != SEATS:
        raise ArenaError(
            f"answerer_mode={config.answerer_mode!r} adds an answerer seat, and the engine "
            "plays only the seats GAME declares (navigator).",
            "play the two-seat game as its own environment: `arena play kg_answer "
            "--answerer-mode ...` (see docs/kg.md).",
        )

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

__all__ = ["ANSWERER", "GAME", "NAVIGATOR", "KGTraversalConfig", "env", "raw_env", "seats_for"]
