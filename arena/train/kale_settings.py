"""Settings of KALE's KA objective (no torch here: the CLI validates flags cheaply).

:mod:`arena.train.kale_loss` explains the objective these settings weight.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from envs.errors import ArenaError

LossKind = Literal["sft", "ka", "ka-only"]
Direction = Literal["forward", "reverse"]
TeacherKind = Literal["self", "frozen"]
LOSSES: tuple[str, ...] = ("sft", "ka", "ka-only")
IGNORE = -100
#: KaleConfig fields that `arena kale train` has a flag for (the others are Python-only).
_CLI_FIELDS = frozenset(
    {
        "data",
        "out",
        "model",
        "seeds",
        "kl_direction",
        "teacher",
        "ce_weight",
        "kl_weight",
        "rationale_ce_weight",
        "max_questions",
        "max_hops",
        "pretrain_steps",
        "finetune_steps",
        "replay",
        "save_models",
        "restart",
        "max_new_tokens",
    }
)


def flag_of(name: str) -> str:
    """How a user sets ``name``: its flag (``--max-questions``), or, for a setting with
    no flag, the KaleConfig field, so an error never names something the shell can't set."""
    if name == "losses":
        return "--loss"
    if name in _CLI_FIELDS:
        return "--" + name.replace("_", "-")
    return f"KaleConfig.{name}"


@dataclass(frozen=True)
class KALossSettings:
    """Weights and variants of the objective (module docstring)."""

    loss: LossKind = "ka"
    kl_direction: Direction = "reverse"
    teacher: TeacherKind = "self"
    ce_weight: float = 1.0
    kl_weight: float = 1.0
    rationale_ce_weight: float = 1.0

    def __post_init__(self) -> None:
        if self.loss not in LOSSES:
            raise ArenaError(
                f"--loss {self.loss!r} is unknown.", f"use one of {', '.join(LOSSES)}."
            )
        if self.kl_direction not in ("forward", "reverse"):
            raise ArenaError(
                f"--kl-direction {self.kl_direction!r} is unknown.",
                "pass --kl-direction reverse (paper) or forward.",
            )
        if self.teacher not in ("self", "frozen"):
            raise ArenaError(
                f"--teacher {self.teacher!r} is unknown.", "pass --teacher self or frozen."
            )
        for name in ("ce_weight", "kl_weight", "rationale_ce_weight"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and value >= 0 and value == value):
                flag = flag_of(name)
                raise ArenaError(
                    f"{flag} must be a number >= 0, got {value!r}.", f"pass e.g. {flag} 1.0."
                )

    @property
    def weights(self) -> tuple[float, float, float]:
        """``(w_ce, w_kl, w_rce)`` the arm actually uses."""
        if self.loss == "sft":
            return (self.ce_weight, 0.0, 0.0)
        if self.loss == "ka-only":
            return (0.0, self.kl_weight, self.rationale_ce_weight)
        return (self.ce_weight, self.kl_weight, self.rationale_ce_weight)

    @property
    def needs_teacher(self) -> bool:
        _, w_kl, w_rce = self.weights
        return w_kl > 0 or w_rce > 0
