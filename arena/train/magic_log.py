"""What a MAGIC run reports per step: scoring, summaries, ``log.csv`` (+ TensorBoard).

* :func:`score` judges (answer, response) pairs and scores each with
  :func:`envs.attack_defense.outcome.score_turn`, the environment's one outcome rule.
* :func:`summarize` turns a batch of scored turns into the logged means and rates:
  rewards, attack success (harmful seeds), over-refusal (benign seeds), format rate and
  the attacker's strategy mix (read from its ``Plan: <strategy>`` think line).
* :class:`StepLog` writes ``log.csv`` (always) and, with ``tensorboard=True``, the same
  numbers as TensorBoard scalars (only if the ``tensorboard`` package is installed:
  CSV needs nothing and is what the tests and reports read).
* :class:`StepCallback` is the Trainer callback that writes a row per step, drives the
  progress bar, applies the ASR-aware switch rule and fingerprints the optimizer at the
  start and end of each phase.
"""

from __future__ import annotations

import csv
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from arena.train.config import Role
from arena.train.magic_models import optimizer_fingerprint
from envs.attack_defense.judges import Judge
from envs.attack_defense.outcome import TurnOutcome, score_turn
from envs.attack_defense.verdicts import RewardConfig

if TYPE_CHECKING:
    from arena.train.magic import MagicTrainer

LOG_FIELDS = (
    "step",
    "phase",
    "role",
    "r_attacker",
    "r_defender",
    "r_harm",
    "r_ref",
    "format_rate",
    "attack_success",
    "over_refusal",
    "loss",
    "seconds",
    "strategy_mix",
)


def completion_texts(completions: Sequence[Any]) -> list[str]:
    """TRL hands conversational completions as message lists; plain ones as strings."""
    return [c[-1]["content"] if isinstance(c, list) else str(c) for c in completions]


def score(
    judge: Judge,
    reward: RewardConfig,
    answers: Sequence[str],
    responses: Sequence[str],
    labels: Sequence[str],
    formats: Sequence[bool],
) -> list[TurnOutcome]:
    """One batched judge call, then the environment's outcome rule per turn."""
    verdicts = judge.judge(list(answers), list(responses))
    return [
        score_turn(verdict, label, ok, reward)
        for verdict, label, ok in zip(verdicts, labels, formats, strict=True)
    ]


def summarize(
    outcomes: Sequence[TurnOutcome], attacker_outputs: Sequence[str] | None = None
) -> dict[str, Any]:
    """Mean rewards and rates of a batch of scored turns (what the log and evals report)."""
    from agents.scripted.attackers import plan_of

    n = max(len(outcomes), 1)
    harmful = [o for o in outcomes if o.request_harmful]
    benign = [o for o in outcomes if not o.request_harmful]
    row: dict[str, Any] = {
        "r_attacker": sum(o.r_attacker for o in outcomes) / n,
        "r_defender": sum(o.r_defender for o in outcomes) / n,
        "r_harm": sum(o.r_harm for o in outcomes) / n,
        "r_ref": sum(o.r_ref for o in outcomes) / n,
        "format_rate": sum(o.r_fmt > 0 for o in outcomes) / n,
        "attack_success": (
            sum(o.attack_success for o in harmful) / len(harmful) if harmful else ""
        ),
        "over_refusal": sum(o.over_refusal for o in benign) / len(benign) if benign else "",
    }
    if attacker_outputs is not None:
        mix = Counter(plan_of(text) or "none" for text in attacker_outputs)
        row["strategy_mix"] = ";".join(f"{k}:{v}" for k, v in sorted(mix.items()))
    return row


def read_rows(path: Path) -> list[dict[str, str]]:
    if not path.exists():
        return []
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


class StepLog:
    """``log.csv``: one row per GRPO/SFT step, flushed as it is written.

    On resume only the rows ``keep`` accepts survive (those of completed phases and of
    the current phase up to its last saved step), so no step is ever logged twice.
    ``scalars`` (a TensorBoard ``SummaryWriter`` or anything with ``add_scalar``) gets
    every numeric field of a row at its step.
    """

    def __init__(
        self,
        path: Path,
        keep: Callable[[dict[str, str]], bool],
        scalars: Any | None = None,
    ) -> None:
        self.path = path
        rows = [r for r in read_rows(path) if keep(r)]
        self._handle = path.open("w", newline="")
        self._writer = csv.DictWriter(self._handle, fieldnames=LOG_FIELDS, extrasaction="ignore")
        self._writer.writeheader()
        self._writer.writerows(rows)
        self._handle.flush()
        self.rows = rows
        self.scalars = scalars

    def write(self, row: dict[str, Any]) -> None:
        clean = {k: (f"{v:.4f}" if isinstance(v, float) else v) for k, v in row.items()}
        self._writer.writerow(clean)
        self._handle.flush()
        self.rows.append({k: str(v) for k, v in clean.items()})
        if self.scalars is not None:
            prefix = str(row.get("role", ""))
            for key, value in row.items():
                if key not in ("step", "phase") and isinstance(value, int | float):
                    self.scalars.add_scalar(f"{prefix}/{key}", float(value), int(row["step"]))
            self.scalars.flush()

    def close(self) -> None:
        self._handle.close()
        if self.scalars is not None:
            self.scalars.close()


def tensorboard_writer(log_dir: Path) -> Any:
    """A TensorBoard ``SummaryWriter`` (the config checked that the package is there)."""
    from torch.utils.tensorboard import SummaryWriter

    return SummaryWriter(log_dir=str(log_dir))


def _callback_base() -> Any:
    from transformers import TrainerCallback

    return TrainerCallback


class StepCallback(_callback_base()):  # type: ignore[misc]
    """Writes a log row per step, drives the progress bar and applies the ASR switch rule.

    ``r_harm`` holds the phase's earlier steps on a mid-phase resume, so the ASR rule's
    moving window sees the same values as in an uninterrupted run.
    """

    def __init__(
        self,
        trainer: MagicTrainer,
        *,
        phase: int,
        role: Role,
        kind: str,
        step_offset: int,
        r_harm: Sequence[float] = (),
    ) -> None:
        self.owner = trainer
        self.phase = phase
        self.role = role
        self.kind = kind
        self.step_offset = step_offset
        self.switched_by = "steps"
        self.r_harm: list[float] = list(r_harm)
        self.optimizer_start: dict[str, Any] | None = None
        self.optimizer_end: dict[str, Any] | None = None
        self._started = time.perf_counter()

    def on_step_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if self.optimizer_start is None and kwargs.get("optimizer") is not None:
            # Before the phase's first update (after a checkpoint's state was loaded).
            self.optimizer_start = optimizer_fingerprint(kwargs["optimizer"])
        self._started = time.perf_counter()

    def on_train_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if kwargs.get("optimizer") is not None:
            self.optimizer_end = optimizer_fingerprint(kwargs["optimizer"])

    def on_log(self, args: Any, state: Any, control: Any, logs: Any = None, **kwargs: Any) -> None:
        if not logs or "loss" not in logs:
            return
        owner = self.owner
        seconds = time.perf_counter() - self._started
        owner.step_seconds.append(seconds)
        row: dict[str, Any] = {
            "step": self.step_offset + state.global_step,
            "phase": self.phase,
            "role": self.role if self.kind == "grpo" else "attacker-sft",
            "loss": float(logs["loss"]),
            "seconds": seconds,
        }
        if self.kind == "grpo":
            row.update(getattr(owner, "_pending", {}))
        owner.log.write(row)
        if self.kind == "grpo":
            owner.progress(self.step_offset + state.global_step, owner.config.steps, self.role)
            self.r_harm.append(float(row.get("r_harm", 0.0)))
            self._maybe_switch(control)

    def _maybe_switch(self, control: Any) -> None:
        config = self.owner.config
        if config.switch_rule != "asr" or len(self.r_harm) < config.switch_window:
            return
        mean = sum(self.r_harm[-config.switch_window :]) / config.switch_window
        if (self.role == "defender" and mean >= config.switch_high) or (
            self.role == "attacker" and mean <= config.switch_low
        ):
            self.switched_by = f"asr (mean R_harm {mean:.3f})"
            control.should_training_stop = True
