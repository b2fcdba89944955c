"""``RapoConfig``: every setting of a RAPO run (safe-reasoning SFT, then GRPO), validated.

Kept free of torch/transformers imports, like :mod:`arena.train.config`, so the CLI and
the tests can reject an impossible configuration (one :class:`~envs.errors.ArenaError`
naming the field and the fix) before any model loads or any file is written. Paper
values (RAPO's released code; ``docs/rapo.md``) are noted per field; the defaults are
sized for the offline tiny model on 2 CPU cores.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from envs.errors import ArenaError

#: How R scores the three failure cases (``docs/rapo.md#the-risk-aware-reward-r``).
RScheme = Literal["issue", "paper"]
R_SCHEMES: tuple[str, ...] = ("issue", "paper")
#: The number of distinct scripted wrapper strategies (``agents.scripted.attackers.WRAPPERS``);
#: a complexity k combines k of them, so k cannot exceed it. Checked against the real
#: table in ``tests/test_train_rapo.py`` so this import-free copy cannot drift.
MAX_COMPLEXITY = 9


@dataclass(frozen=True)
class RapoConfig:
    """A RAPO run: stage 1 (SFT on risk-scaled safety analyses), stage 2 (GRPO on R + G)."""

    out: str = field(default="runs/rapo", metadata={"help": "Run folder (resumable)."})
    model: str = field(default="hf:tiny", metadata={"help": "Model to train (hf:tiny, hf:PATH)."})
    complexities: tuple[int, ...] = field(
        default=(0, 1, 2),
        metadata={"help": "Attack complexities k of the training prompts (wrappers combined)."},
    )
    sentences_per_level: int = field(
        default=1,
        metadata={"help": "Safety-analysis sentences per risk level (paper: ~2-3)."},
    )
    length_tolerance: int = field(
        default=0, metadata={"help": "Sentences the analysis may differ from its target (R = 1)."}
    )
    min_safety_share: float = field(
        default=0.5,
        metadata={"help": "Share of safety sentences below which the analysis is off-topic."},
    )
    r_scheme: RScheme = field(
        default="issue",
        metadata={
            "help": "'issue' (wrong length -1, off-topic/missing 0) or 'paper' (RAPO's judge: "
            "off-topic/missing -1, wrong length 0)."
        },
    )
    sft_steps: int = field(default=40, metadata={"help": "Stage-1 SFT steps (0: skip SFT)."})
    sft_learning_rate: float = field(default=2e-3, metadata={"help": "Stage-1 learning rate."})
    sft_batch_size: int = field(default=8, metadata={"help": "Stage-1 batch size (paper: 2)."})
    steps: int = field(default=16, metadata={"help": "Stage-2 GRPO steps (0: SFT only)."})
    group_size: int = field(
        default=8, metadata={"help": "GRPO group size G (paper: 4; 8 is steadier on CPU runs)."}
    )
    prompts_per_step: int = field(default=2, metadata={"help": "Prompts per GRPO step."})
    learning_rate: float = field(
        default=1e-4, metadata={"help": "GRPO learning rate (paper: TRL default)."}
    )
    beta: float = field(default=0.0, metadata={"help": "KL coefficient (paper: TRL default 0)."})
    epsilon: float = field(default=0.2, metadata={"help": "PPO clip range (TRL default)."})
    temperature: float = field(
        default=1.0, metadata={"help": "Rollout temperature (paper: 1.2, for 1.5-8B models)."}
    )
    top_p: float = field(default=1.0, metadata={"help": "Rollout top-p (paper: 0.9)."})
    max_new_tokens: int = field(
        default=128,
        metadata={"help": "Completion tokens (paper: 2048); longer SFT targets are dropped."},
    )
    seeds: str = field(default="builtin", metadata={"help": "Seed pool (docs/seeds.md)."})
    num_seeds: int = field(default=24, metadata={"help": "Training seeds drawn from the pool."})
    eval_seeds: int = field(
        default=8, metadata={"help": "Held-out seeds evaluated (greedy, every k) after each stage."}
    )
    probe_items: int = field(
        default=16,
        metadata={"help": "Training prompts whose sampled reward is measured after each stage."},
    )
    probe_samples: int = field(
        default=4, metadata={"help": "Sampled rollouts per probe prompt (temperature as GRPO's)."}
    )
    harmful_fraction: float = field(default=0.5, metadata={"help": "Share of harmful seeds."})
    judge: str = field(
        default="rule", metadata={"help": "Judge of G ('rule' offline; guard:SPEC a model)."}
    )
    seed: int = field(default=0, metadata={"help": "Seed of draws, sampling and init."})
    bf16: bool = field(default=False, metadata={"help": "bf16 training (GPU only)."})

    def __post_init__(self) -> None:
        for name, minimum in (
            ("sentences_per_level", 1),
            ("length_tolerance", 0),
            ("sft_steps", 0),
            ("sft_batch_size", 1),
            ("steps", 0),
            ("prompts_per_step", 1),
            ("max_new_tokens", 8),
            ("num_seeds", 2),
            ("eval_seeds", 0),
            ("probe_items", 0),
            ("probe_samples", 1),
            ("seed", 0),
        ):
            _whole(self, name, minimum)
        if (
            isinstance(self.group_size, bool)
            or not isinstance(self.group_size, int)
            or (self.group_size < 2)
        ):
            raise ArenaError(
                f"group_size must be a whole number >= 2, got {self.group_size!r}.",
                "GRPO's advantage is zero for a group of one: use --group-size 4 (paper).",
            )
        if self.steps == 0 and self.sft_steps == 0:
            raise ArenaError(
                "steps and sft_steps are both 0: the run would train nothing.",
                "pass --sft-steps 30 and/or --steps 20.",
            )
        ks = self.complexities
        if isinstance(ks, list):  # from JSON or a caller's list: stored as a tuple
            ks = tuple(ks)
            object.__setattr__(self, "complexities", ks)
        if (
            not isinstance(ks, tuple)
            or not ks
            or any(isinstance(k, bool) or not isinstance(k, int) for k in ks)
        ):
            raise ArenaError(
                f"complexities must be a non-empty list of whole numbers, got {ks!r}.",
                "pass e.g. --complexities 0,1,2.",
            )
        if any(k < 0 or k > MAX_COMPLEXITY for k in ks) or len(set(ks)) != len(ks):
            raise ArenaError(
                f"complexities must be distinct values in 0..{MAX_COMPLEXITY} (the number of "
                f"scripted wrapper strategies to combine), got {','.join(map(str, ks))}.",
                "pass e.g. --complexities 0,1,2.",
            )
        for name, strict in (
            ("sft_learning_rate", self.sft_steps > 0),
            ("learning_rate", self.steps > 0),
            ("beta", False),
            ("epsilon", True),
            ("temperature", True),
        ):
            _non_negative(self, name, strict)
        if not _finite(self.top_p) or not 0 < self.top_p <= 1:
            raise ArenaError(
                f"top_p must lie in (0, 1], got {self.top_p!r}.", "pass --top-p 0.9 (paper)."
            )
        if not _finite(self.min_safety_share) or not 0 < self.min_safety_share <= 1:
            raise ArenaError(
                f"min_safety_share must lie in (0, 1], got {self.min_safety_share!r}.",
                "pass --min-safety-share 0.5.",
            )
        if not _finite(self.harmful_fraction) or not 0 < self.harmful_fraction < 1:
            raise ArenaError(
                f"harmful_fraction must be strictly between 0 and 1, got "
                f"{self.harmful_fraction!r}.",
                "RAPO trains on harmful and benign prompts: use 0.5.",
            )
        if self.r_scheme not in R_SCHEMES:
            raise ArenaError(
                f"r_scheme must be 'issue' or 'paper', got {self.r_scheme!r}.",
                "pass --r-scheme issue (default) or paper.",
            )
        if self.length_tolerance >= self.sentences_per_level and len(ks) > 1:
            raise ArenaError(
                f"length_tolerance ({self.length_tolerance}) must be below sentences_per_level "
                f"({self.sentences_per_level}): otherwise one length matches neighbouring risk "
                "levels and R cannot tell them apart.",
                "lower --length-tolerance or raise --sentences-per-level.",
            )
        if self.num_seeds < self.prompts_per_step:
            raise ArenaError(
                f"num_seeds ({self.num_seeds}) is below prompts_per_step "
                f"({self.prompts_per_step}).",
                "raise --num-seeds or lower --prompts-per-step.",
            )
        spec = self.model
        if not isinstance(spec, str) or not spec.startswith("hf:") or spec == "hf:":
            raise ArenaError(
                f"The model must be an hf: model spec, got {spec!r}.",
                "pass --model hf:tiny or hf:PATH/TO/MODEL (training needs weights).",
            )
        if not isinstance(self.judge, str) or not self.judge.strip():
            raise ArenaError("The judge spec is empty.", "pass --judge rule (offline).")
        if not str(self.out).strip():
            raise ArenaError("The run folder (out) is empty.", "pass --out runs/NAME.")

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["complexities"] = list(self.complexities)
        return data

    @property
    def out_dir(self) -> Path:
        return Path(self.out)


def _finite(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _whole(config: RapoConfig, name: str, minimum: int) -> None:
    value = getattr(config, name)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        flag = "--" + name.replace("_", "-")
        raise ArenaError(
            f"{name} must be a whole number >= {minimum}, got {value!r}.",
            f"pass {flag} {max(minimum, 1)} or more.",
        )


def _non_negative(config: RapoConfig, name: str, strict: bool) -> None:
    value = getattr(config, name)
    if not _finite(value) or value < 0 or (strict and value == 0):
        flag = "--" + name.replace("_", "-")
        raise ArenaError(
            f"{name} must be a finite number {'> 0' if strict else '>= 0'}, got {value!r}.",
            f"pass a valid {flag}.",
        )
