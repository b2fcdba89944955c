"""Training recipes (TRL-based): MAGIC's co-evolution, RAPO, and KALE's KA fine-tuning.

Import the heavy parts lazily: ``arena.train.magic`` pulls in torch, transformers and TRL.
MAGIC's recipe is split by concern: ``config`` (settings, validated without torch, and
the shared ``grpo_settings``), ``magic_data`` (prompts, seeds, SFT pairs),
``magic_models`` (loading, saving, the frozen side's generation, optimizer state),
``magic_log`` (scoring, ``log.csv`` / TensorBoard, the step callback) and ``magic``
(the trainer; it re-exports the public names of the others). ``docs/magic.md`` has the
recipe as built. RAPO: ``rapo_config`` (``RapoConfig``), ``rapo_data``, ``rapo_rewards``
(R and G), ``rapo_metrics`` and ``rapo`` (``docs/rapo.md``); KALE: ``kale*``
(``docs/kale.md``). What the recipes share: ``run_folder`` (manifest, resume checks) and
``seed_split`` (train/held-out seed prompts).
"""

from __future__ import annotations

from arena.train.config import MagicConfig
from arena.train.rapo_config import RapoConfig

__all__ = ["MagicConfig", "RapoConfig"]
