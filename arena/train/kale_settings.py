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
            raise ArenaError(f"loss {self.loss!r} is unknown.", f"use {', '.join(LOSSES)}.")
        if self.kl_direction not in ("forward", "reverse"):
            raise ArenaError(
                f"kl_direction {self.kl_direction!r} is unknown.", "use reverse or forward."
            )
        if self.teacher not in ("self", "frozen"):
            raise ArenaError(f"teacher {self.teacher!r} is unknown.", "use self or frozen.")
        for name in ("ce_weight", "kl_weight", "rationale_ce_weight"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and value >= 0 and value == value):
                raise ArenaError(f"{name} must be a number >= 0, got {value!r}.", "fix it.")

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
