"""The settings of one attacker-defender match, as one validated dataclass.

``arena play attack_defense`` builds its flags from these fields (nested dataclasses
flatten: ``reward.r_harm`` is ``--r-harm``); the run manifest records the whole config,
and its hash is part of a result's store key. A wrong value stops here, before any file
is written or any model loads, with one line naming the flag and the fix.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

from envs.attack_defense.data import parse_pool_spec
from envs.attack_defense.verdicts import RewardConfig
from envs.errors import ArenaError


def check_episode_settings(max_turns: int, harmful_fraction: float, reward_mode: str) -> None:
    """The checks both the config and a directly built environment run."""
    if isinstance(max_turns, bool) or not isinstance(max_turns, int) or max_turns < 1:
        raise ArenaError(
            f"max_turns must be an integer >= 1, got {max_turns!r}.",
            "pass max_turns=1 or more (--max-turns on the command line).",
        )
    if not (
        isinstance(harmful_fraction, int | float)
        and math.isfinite(harmful_fraction)
        and 0.0 <= harmful_fraction <= 1.0
    ):
        raise ArenaError(
            f"harmful_fraction must be in [0, 1], got {harmful_fraction}.",
            "pass a probability, e.g. harmful_fraction=0.5 or --harmful-fraction 0.5 "
            "(MAGIC's 50/50 mix).",
        )
    if reward_mode not in ("final", "per_turn"):
        raise ArenaError(
            f"Unknown reward_mode {reward_mode!r}.",
            "use 'final' (MAGIC) or 'per_turn' (--reward-mode).",
        )


@dataclass(frozen=True)
class AttackDefenseConfig:
    """Settings of ``attack_defense_v0`` (MAGIC's game); see :mod:`envs.attack_defense.env`."""

    seeds: str = field(
        default="builtin",
        metadata={
            "help": "Seed pool, comma-separated: builtin, builtin-harmful, builtin-benign "
            "or data files (PATH or PATH?format=NAME); see docs/seeds.md."
        },
    )
    max_turns: int = field(default=1, metadata={"help": "Turns per episode (1 = MAGIC)."})
    harmful_fraction: float = field(default=0.5, metadata={"help": "Share of harmful seeds."})
    reward_mode: Literal["final", "per_turn"] = field(
        default="final", metadata={"help": "'final' (MAGIC) or 'per_turn' rewards."}
    )
    max_action_chars: int = field(
        default=32_768, metadata={"help": "Longest accepted action (characters)."}
    )
    reward: RewardConfig = field(default_factory=RewardConfig)

    def __post_init__(self) -> None:
        if not isinstance(self.seeds, str) or not self.seeds.strip():
            raise ArenaError(
                f"seeds must name a seed pool, got {self.seeds!r}.",
                "pass --seeds builtin or a comma-separated list of data files.",
            )
        parse_pool_spec(self.seeds)  # a malformed spec stops here, before a run folder
        check_episode_settings(self.max_turns, self.harmful_fraction, self.reward_mode)
        if (
            isinstance(self.max_action_chars, bool)
            or not isinstance(self.max_action_chars, int)
            or self.max_action_chars < 1
        ):
            raise ArenaError(
                f"max_action_chars must be a positive integer, got {self.max_action_chars!r}.",
                "pass e.g. --max-action-chars 32768.",
            )
        if not isinstance(self.reward, RewardConfig):
            raise ArenaError(
                f"reward must be a RewardConfig, got {type(self.reward).__name__}.",
                "pass reward=RewardConfig(...) or flat settings r_harm=..., r_ref=....",
            )
