"""KALE's Knowledge-Aware (KA) loss and the TRL trainer that optimises it.

The objective (``docs/kale.md#the-loss``; a reconstruction of ``kale_ds.md`` A.3, whose
exact weighting the sources do not show)::

    L(θ) = w_ce · CE(y | x)                                  (plain SFT term)
         + w_kl · (1/|y|) Σ_t KL( p_θ(·|x, y<t) ‖ sg[q(·|x, r, y<t)] )   (KA term)
         + w_rce · CE(y | x, r)                              (rationale-conditioned CE)

over the answer tokens ``y`` only (teacher forced), the KL over the *full vocabulary*.
``p_θ`` is the model without the rationale ``r``; ``q`` is the model *with* it in
context, under a stop-gradient ``sg``: either the same weights (``teacher="self"``,
self-distillation from privileged context, recomputed every step) or a frozen copy of
the start model (``teacher="frozen"``). The weights are separate settings, not ``λ`` and
``1 − λ``: the notes suggest ``CE(y|x,r) + CE(y|x) + λ·KL``, which is our default
(``w_ce = w_kl = w_rce = 1``). ``w_rce`` is what teaches the self-teacher to read
rationales; it trains θ through the teacher pass but never through the KL's target.

Direction: ``reverse`` (the default, the paper's) is ``KL(p_θ ‖ q)`` — "reverse" in
distillation's naming, because the *student* is the first argument; it is mode-seeking
(S2 in the notes warns not to swap it). ``forward`` is ``KL(q ‖ p_θ)``, an ablation.

Arms: ``sft`` = ``w_ce`` only; ``ka`` = all three terms; ``ka-only`` = KA term and the
rationale CE, without ``CE(y | x)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from trl import SFTTrainer

from arena.train.kale_settings import (
    IGNORE,
    LOSSES,
    Direction,
    KALossSettings,
    LossKind,
    TeacherKind,
)
from envs.errors import ArenaError

__all__ = [
    "IGNORE",
    "LOSSES",
    "Direction",
    "KALossSettings",
    "KnowledgeAwareTrainer",
    "LossKind",
    "LossParts",
    "PairCollator",
    "TeacherKind",
    "answer_logits",
    "ka_objective",
    "token_kl",
]


# ----------------------------------------------------------------------------- formulas
def answer_logits(logits: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The logits that predict answer tokens, and those tokens, flattened in row order.

    Position ``i`` predicts token ``i + 1``, so the logits are shifted against the labels;
    ``labels`` is ``IGNORE`` everywhere but the answer.
    """
    shifted_logits, shifted_labels = logits[:, :-1, :], labels[:, 1:]
    mask = shifted_labels != IGNORE
    return shifted_logits[mask], shifted_labels[mask]


def token_kl(
    student_logits: torch.Tensor,
    teacher_logits: torch.Tensor,
    direction: Direction = "reverse",
    *,
    detach_teacher: bool = True,
) -> torch.Tensor:
    """Per-position KL over the full vocabulary (rows = aligned answer positions).

    ``reverse``: ``Σ_v p(v) [log p(v) − log q(v)]`` with ``p`` the student;
    ``forward``: ``Σ_v q(v) [log q(v) − log p(v)]``. The teacher is detached
    (``detach_teacher=False`` exists only so the tests can show the check catches it).
    """
    log_p = F.log_softmax(student_logits.float(), dim=-1)
    target = teacher_logits.detach() if detach_teacher else teacher_logits
    log_q = F.log_softmax(target.float(), dim=-1)
    if direction == "reverse":
        return (log_p.exp() * (log_p - log_q)).sum(-1)
    return (log_q.exp() * (log_q - log_p)).sum(-1)


@dataclass
class LossParts:
    """The total loss and its terms (the terms detached, for logging)."""

    total: torch.Tensor
    ce: float
    kl: float
    rationale_ce: float


def ka_objective(
    settings: KALossSettings,
    student_logits: torch.Tensor,
    student_labels: torch.Tensor,
    teacher_logits: torch.Tensor | None = None,
    teacher_labels: torch.Tensor | None = None,
) -> LossParts:
    """The module's objective on full-sequence logits ``[batch, length, vocab]``.

    The student's and the teacher's answer tokens must be the same tokens in the same
    order (only the context before them differs); a mismatch is a bug in the data and
    raises. Means are over the batch's answer tokens.
    """
    w_ce, w_kl, w_rce = settings.weights
    s_logits, s_tokens = answer_logits(student_logits, student_labels)
    ce = F.cross_entropy(s_logits.float(), s_tokens) if s_tokens.numel() else s_logits.sum() * 0
    total = w_ce * ce
    kl_value = torch.zeros((), device=ce.device)
    rce = torch.zeros((), device=ce.device)
    if w_kl > 0 or w_rce > 0:
        if teacher_logits is None or teacher_labels is None:
            raise ValueError("the KA terms need the rationale-conditioned (teacher) logits")
        t_logits, t_tokens = answer_logits(teacher_logits, teacher_labels)
        if t_tokens.shape != s_tokens.shape or not torch.equal(t_tokens, s_tokens):
            raise ValueError("student and teacher answer tokens differ; check the collator")
        if s_tokens.numel():
            if w_kl > 0:
                kl_value = token_kl(s_logits, t_logits, settings.kl_direction).mean()
                total = total + w_kl * kl_value
            if w_rce > 0:
                rce = F.cross_entropy(t_logits.float(), t_tokens)
                total = total + w_rce * rce
    return LossParts(total, float(ce.detach()), float(kl_value.detach()), float(rce.detach()))


# ----------------------------------------------------------------------------- batches
class PairCollator:
    """Right-pads the student (``input_ids``/``labels``) and teacher (``teacher_*``)
    sequences of each example into one batch."""

    def __init__(self, pad_token_id: int) -> None:
        self.pad = pad_token_id

    def _pad(self, rows: list[list[int]], value: int) -> torch.Tensor:
        width = max(len(r) for r in rows)
        return torch.tensor([r + [value] * (width - len(r)) for r in rows], dtype=torch.long)

    def __call__(self, examples: list[dict[str, Any]]) -> dict[str, torch.Tensor]:
        batch: dict[str, torch.Tensor] = {}
        for prefix in ("", "teacher_"):
            if f"{prefix}input_ids" not in examples[0]:
                continue
            ids = [list(e[f"{prefix}input_ids"]) for e in examples]
            batch[f"{prefix}input_ids"] = self._pad(ids, self.pad)
            batch[f"{prefix}attention_mask"] = self._pad([[1] * len(r) for r in ids], 0)
            batch[f"{prefix}labels"] = self._pad(
                [list(e[f"{prefix}labels"]) for e in examples], IGNORE
            )
        return batch


# ----------------------------------------------------------------------------- trainer
class KnowledgeAwareTrainer(SFTTrainer):
    """TRL's ``SFTTrainer`` with :func:`ka_objective` as ``compute_loss``.

    Everything else — optimiser, schedule, logging (the terms appear in the log as
    ``ce``, ``kl``, ``rationale_ce``), checkpointing, accelerate/multi-GPU — is TRL's.
    The dataset is pre-tokenised (``dataset_kwargs={"skip_prepare_dataset": True}``,
    ``remove_unused_columns=False``) and batched by :class:`PairCollator`. With
    ``teacher="frozen"`` pass ``teacher_model``; it is put in eval mode with
    ``requires_grad`` off, so no gradient can reach it.
    """

    def __init__(
        self,
        *args: Any,
        ka_settings: KALossSettings,
        teacher_model: Any | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        # our loss is a per-micro-batch mean, so the Trainer must divide it by the
        # gradient-accumulation steps (it skips that for losses it thinks are pre-scaled)
        self.loss_is_scaled_for_ga = False  # type: ignore[assignment]
        self.ka_settings = ka_settings
        if ka_settings.teacher == "frozen" and ka_settings.needs_teacher:
            if teacher_model is None:
                raise ArenaError("teacher='frozen' needs a teacher model.", "pass teacher_model.")
            teacher_model.eval()
            teacher_model.requires_grad_(False)
            teacher_model.to(self.accelerator.device)
        self.teacher_model: Any = teacher_model

    def _teacher_logits(self, model: Any, inputs: dict[str, torch.Tensor]) -> torch.Tensor:
        ids, mask = inputs["teacher_input_ids"], inputs["teacher_attention_mask"]
        settings = self.ka_settings
        if settings.teacher == "frozen":
            with torch.no_grad():
                return self.teacher_model(input_ids=ids, attention_mask=mask).logits
        if settings.weights[2] > 0:  # the rationale CE trains θ through this pass
            return model(input_ids=ids, attention_mask=mask).logits
        with torch.no_grad():
            return model(input_ids=ids, attention_mask=mask).logits

    def compute_loss(
        self,
        model: Any,
        inputs: dict[str, torch.Tensor],
        return_outputs: bool = False,
        num_items_in_batch: Any = None,
    ) -> Any:
        outputs = model(input_ids=inputs["input_ids"], attention_mask=inputs["attention_mask"])
        teacher_logits = teacher_labels = None
        if self.ka_settings.needs_teacher:
            teacher_logits = self._teacher_logits(model, inputs)
            teacher_labels = inputs["teacher_labels"]
        parts = ka_objective(
            self.ka_settings, outputs.logits, inputs["labels"], teacher_logits, teacher_labels
        )
        mode = "train" if model.training else "eval"
        self._metrics[mode]["ce"].append(parts.ce)
        self._metrics[mode]["kl"].append(parts.kl)
        self._metrics[mode]["rationale_ce"].append(parts.rationale_ce)
        return (parts.total, outputs) if return_outputs else parts.total
