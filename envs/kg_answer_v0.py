"""KALE's two-seat knowledge-graph game: a navigator walks, an answerer answers.

    arena play kg_answer -n tabular:uniform -a scripted:follow-rationale --episodes 50
    arena play kg_answer --answerer-mode without_rationale -n ... -a ...

The same game as :mod:`envs.kg_traversal_v0` with its answerer seat on (see
:mod:`envs.kg.answerer`): the navigator walks the graph and commits an entity; the
answerer then picks one of four options, seeing the question with the navigator's walk as
a rationale (``with_rationale``, the default here) or the question alone
(``without_rationale``); both seats share the reward. It is a module of its own because
an engine ``GameSpec`` has fixed seats: one name per seat set keeps every run folder,
store key and tournament seat list unambiguous.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from envs.errors import ArenaError
from envs.game_spec import GameSpec
from envs.kg.env import (
    ANSWERER,
    FLAG_HELP,
    NAVIGATOR,
    TWO_SEATS,
    AnswererMode,
    KGTraversalConfig,
    KGTraversalEnv,
    episode_metrics,
    summarize,
)
from envs.kg_traversal_v0 import describe


@dataclass(frozen=True)
class KGAnswerConfig(KGTraversalConfig):
    """Settings of ``kg_answer_v0``: those of ``kg_traversal_v0``, answerer seat on."""

    answerer_mode: AnswererMode = field(
        default="with_rationale", metadata={"help": FLAG_HELP["answerer_mode"]}
    )

    def __post_init__(self) -> None:
        if self.answerer_mode == "none":
            raise ArenaError(
                "kg_answer_v0 always has an answerer seat, so answerer_mode='none' is not a "
                "setting of it.",
                "use with_rationale or without_rationale, or play kg_traversal_v0 for the "
                "navigator alone.",
            )
        super().__post_init__()


class KGAnswerEnv(KGTraversalEnv):
    """The two-seat game under its own name (PettingZoo names an env by its metadata)."""

    metadata: ClassVar[dict[str, Any]] = {**KGTraversalEnv.metadata, "name": "kg_answer_v0"}

    def __init__(
        self, config: KGAnswerConfig | None = None, render_mode: str | None = None
    ) -> None:
        super().__init__(config or KGAnswerConfig(), render_mode=render_mode)


def make_env(config: KGAnswerConfig, judge: Any = None) -> Any:
    """One wrapped two-seat environment for ``config``."""
    del judge  # not a judged game
    from pettingzoo.utils import wrappers

    return wrappers.OrderEnforcingWrapper(KGAnswerEnv(config))


def env(**kwargs: Any) -> Any:
    """The wrapped AEC environment (PettingZoo's convention): config fields + ``render_mode``."""
    from pettingzoo.utils import wrappers

    render_mode = kwargs.pop("render_mode", None)
    return wrappers.OrderEnforcingWrapper(
        KGAnswerEnv(KGAnswerConfig(**kwargs), render_mode=render_mode)
    )


raw_env = KGAnswerEnv

GAME = GameSpec(
    name="kg_answer_v0",
    seats=TWO_SEATS,
    config_class=KGAnswerConfig,
    make_env=make_env,
    summarize=summarize,
    describe=describe,
    flag_help=FLAG_HELP,
    description="KALE: a navigator walks the KG, an answerer answers with or without its walk.",
    episode_metrics=episode_metrics,
    metric_names={"correct": "accuracy", "hops": "hops"},
)

__all__ = ["ANSWERER", "GAME", "NAVIGATOR", "KGAnswerConfig", "env", "raw_env"]
