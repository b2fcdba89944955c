"""PettingZoo module for MAGIC's attacker-defender game.

    from envs import attack_defense_v0
    env = attack_defense_v0.env(max_turns=3)

``env`` is the wrapped AEC environment, ``raw_env`` the unwrapped class. The game is
sequential (the defender sees the attack), so there is no ``parallel_env``.
"""

from envs.attack_defense.env import ATTACKER, DEFENDER, env, raw_env

__all__ = ["ATTACKER", "DEFENDER", "env", "raw_env"]
