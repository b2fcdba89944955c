"""Training recipes (TRL-based): MAGIC's attacker-defender co-evolution.

Import the heavy parts lazily: ``arena.train.magic`` pulls in torch, transformers and TRL.
"""

from __future__ import annotations

from arena.train.config import MagicConfig

__all__ = ["MagicConfig"]
