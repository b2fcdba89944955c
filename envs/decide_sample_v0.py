"""PettingZoo module for the decide/sample arithmetic game of the DS hypothesis.

    from envs import decide_sample_v0
    aec = decide_sample_v0.env(k_max=3, rho=0.8)          # one agent, seat "policy"
    two = decide_sample_v0.env(two_agents=True)           # "sampler" and "decider"

The game is a reconstruction (``shared/papers/kale_ds.md`` C.2; the DS paper beyond its
abstract was not readable): see :mod:`envs.decide_sample.env`. ``GAME`` is what the
engine needs (``arena play decide_sample``): the single seat ``policy``, the config, the
summary. The two-agent form is Python-only because a ``GameSpec`` has fixed seats.
"""

from __future__ import annotations

from typing import Any

from pettingzoo import AECEnv

from envs.decide_sample import SEATS, DecideSampleConfig, raw_env
from envs.decide_sample import env as _env
from envs.decide_sample.config import FLAG_HELP
from envs.decide_sample.summary import episode_metrics, summarize
from envs.game_spec import GameSpec


def env(**kwargs: Any) -> AECEnv:
    """The wrapped AEC environment (settings as :class:`DecideSampleConfig` fields)."""
    return _env(**kwargs)


def make_env(config: DecideSampleConfig, judge: Any = None) -> AECEnv:
    """One wrapped single-seat environment for ``config``."""
    del judge  # the verifier is part of the game, not a judge
    return _env(config=config)


GAME = GameSpec(
    name="decide_sample_v0",
    seats=SEATS,
    config_class=DecideSampleConfig,
    make_env=make_env,
    summarize=summarize,
    flag_help=FLAG_HELP,
    description="Arithmetic: sample an answer, then STOP or REVISE (DS hypothesis, reconstructed).",
    episode_metrics=episode_metrics,
    metric_names={"accuracy": "accuracy", "first_attempt": "first-attempt accuracy"},
)

__all__ = ["GAME", "SEATS", "DecideSampleConfig", "env", "make_env", "raw_env"]
