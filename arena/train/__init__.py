"""Training recipes (TRL-based): MAGIC's attacker-defender co-evolution, and others.

Import the heavy parts lazily: ``arena.train.magic`` pulls in torch, transformers and TRL.
MAGIC's recipe is split by concern: ``config`` (settings, validated without torch, and
the shared ``grpo_settings``), ``magic_data`` (prompts, seeds, SFT pairs),
``magic_models`` (loading, saving, the frozen side's generation, optimizer state),
``magic_log`` (scoring, ``log.csv`` / TensorBoard, the step callback) and ``magic``
(the trainer; it re-exports the public names of the others). ``docs/magic.md`` has the
recipe as built.
"""

from __future__ import annotations

from arena.train.config import MagicConfig

__all__ = ["MagicConfig"]
