"""PettingZoo module for MAGIC's attacker-defender game.

    from envs import attack_defense_v0
    env = attack_defense_v0.env(max_turns=3)

``env`` is the wrapped AEC environment, ``raw_env`` the unwrapped class. The game is
sequential (the defender sees the attack), so there is no ``parallel_env``. ``GAME`` is
what the engine (``arena play``, tournaments) needs: seats, the config dataclass
:class:`AttackDefenseConfig`, and the summary.
"""

from __future__ import annotations

from dataclasses import asdict
from functools import lru_cache
from typing import Any

from envs.attack_defense.config import AttackDefenseConfig
from envs.attack_defense.data import SeedPool, is_builtin_spec, load_pool
from envs.attack_defense.env import ATTACKER, DEFENDER, env, raw_env
from envs.attack_defense.summary import episode_metrics, summarize
from envs.game_spec import GameSpec


@lru_cache(maxsize=8)
def _pool(spec: str) -> SeedPool:
    return load_pool(spec)


def make_env(config: AttackDefenseConfig, judge: Any = None) -> Any:
    """One wrapped environment for ``config`` (seed files are read once per process)."""
    return env(
        seeds=_pool(config.seeds),
        judge=judge,
        reward=config.reward,
        max_turns=config.max_turns,
        harmful_fraction=config.harmful_fraction,
        reward_mode=config.reward_mode,
        max_action_chars=config.max_action_chars,
    )


def describe(config: AttackDefenseConfig) -> dict[str, Any]:
    """Manifest extras: the seed pool's size and hash (the data behind every number)."""
    return {
        "seed_pool": _pool(config.seeds).describe(),
        "judge_settings": asdict(config.reward.judge),
    }


def warnings(config: AttackDefenseConfig, judge: str) -> list[str]:
    """The rule judge only knows the shipped harm marker: on other data it reads 0% ASR."""
    if judge == "rule" and not is_builtin_spec(config.seeds):
        return [
            "the rule judge only recognises the harm marker of the built-in seeds "
            "([REDACTED …]); on other data sets it scores attack success as 0%. "
            "Use --judge guard:hf:PATH (a guard model) for real data."
        ]
    return []


GAME = GameSpec(
    name="attack_defense_v0",
    seats=(ATTACKER, DEFENDER),
    config_class=AttackDefenseConfig,
    make_env=make_env,
    summarize=summarize,
    judged=True,
    warnings=warnings,
    describe=describe,
    description="MAGIC's attacker-defender game (text; sequential; judged).",
    episode_metrics=episode_metrics,
    metric_names={"attack_success": "attack success", "over_refusal": "over-refusal"},
)

__all__ = ["ATTACKER", "DEFENDER", "GAME", "AttackDefenseConfig", "env", "raw_env"]
