"""KALE's experiment on a tiny model: single-hop pre-training, then SFT vs KA fine-tuning.

``arena kale train`` runs it (``docs/kale.md``). The tiny model (``hf:tiny``) starts
random, so the pipeline is:

1. **Slice** the data file to a sub-KG a CPU can learn in minutes
   (:func:`arena.train.kale_data.slice_rows`: ``max_questions`` questions of at most
   ``max_hops`` hops, chosen to share facts).
2. **Pre-train the shared start** on templated single-hop questions, one per fact on the
   slice's gold paths (the probes), a ``context_fraction`` of them with a rationale in
   context (so the model — and a ``teacher="frozen"`` copy — has seen the
   "question + facts → answer" format). It stops when ``probe_target`` of the probes are
   answered exactly (greedy), or at ``pretrain_steps`` (the manifest says which).
3. **Fine-tune** a copy of the start per arm (``sft``, ``ka``, ``ka-only``) and seed on
   the ``train`` questions, with the probes replayed (``replay``) so single-hop knowledge
   is not simply overwritten; every arm sees the same rows in the same order per seed.
   The loss is :mod:`arena.train.kale_loss` in TRL's ``SFTTrainer``.
4. **Evaluate** the start and every arm: greedy answers to every question and probe;
   ``correct`` = exact match of the normalised answer; ``known`` = all the question's
   probes correct (on the same model).

Outputs in ``OUT`` (each file written to a temporary name and renamed, so a killed run
never leaves a half-written one): ``kale.json`` (settings, slice, pre-training outcome,
finished units), ``start/`` (the shared start, loadable as ``hf:OUT/start``),
``results/start.jsonl`` and ``results/ARM-seedS.jsonl`` (one line per question),
``models/ARM-seedS/`` (unless ``save_models=False``). Running ``train`` again on the
same ``OUT`` skips finished units, so a killed run resumes; other settings on the same
``OUT`` are refused (use ``restart=True`` to start over).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import MISSING, asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from arena.train.kale_data import load_rows, slice_rows
from arena.train.kale_io import (
    distinct_probes,
    evaluate,
    example,
    finetune_examples,
    load_model,
    pretrain_examples,
    probe_accuracy,
    resolve_model,
    save_model,
    write_json,
    write_jsonl,
)
from arena.train.kale_settings import LOSSES, KALossSettings, flag_of
from arena.train.run_folder import undo_if_untrained
from envs.errors import ArenaError

MANIFEST = "kale.json"
RESULTS = "results"
#: what a run writes into OUT (``restart`` deletes exactly these)
RUN_OUTPUTS = (
    MANIFEST,
    "start",
    RESULTS,
    "models",
    "_trainer",
    "claim_records",
    "report.md",
    "eval.json",
)
Progress = Callable[[int, int, str], None]
__all__ = [
    "KaleConfig",
    "KaleRun",
    "example",
    "load_model",
    "train_kale",
    "write_json",
    "write_jsonl",
]


@dataclass(frozen=True)
class KaleConfig:
    """Every setting of a run; the ``*_steps``/``max_questions`` defaults fit 2 CPU cores."""

    data: str
    out: str = "runs/kale"
    model: str = "hf:tiny"
    losses: tuple[str, ...] = ("sft", "ka")
    seeds: tuple[int, ...] = (0, 1, 2)
    kl_direction: str = "reverse"
    teacher: str = "self"
    ce_weight: float = 1.0
    kl_weight: float = 1.0
    rationale_ce_weight: float = 1.0
    max_questions: int = 24
    max_hops: int = 3
    slice_seed: int = 0
    pretrain_steps: int = 150
    pretrain_batch: int = 16
    pretrain_lr: float = 3e-3
    pretrain_check_every: int = 25
    probe_target: float = 0.95
    context_fraction: float = 0.25
    finetune_steps: int = 30
    finetune_batch: int = 8
    finetune_lr: float = 1e-3
    replay: bool = True
    max_new_tokens: int = 24
    save_models: bool = True
    restart: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        bad = [x for x in self.losses if x not in LOSSES]
        if bad or not self.losses:
            raise ArenaError(
                f"--loss {','.join(self.losses)!r} is unknown.",
                f"use one or more of {', '.join(LOSSES)} (comma-separated).",
            )
        if not self.seeds:
            raise ArenaError("no seeds given.", "pass --seeds 0,1,2.")
        for name in (
            "max_questions",
            "max_hops",
            "pretrain_batch",
            "pretrain_check_every",
            "finetune_batch",
            "max_new_tokens",
        ):
            _at_least(self, name, 1)
        for name in ("pretrain_steps", "finetune_steps"):
            _at_least(self, name, 0)
        for name in ("pretrain_lr", "finetune_lr"):
            value = getattr(self, name)
            if not value > 0:
                raise ArenaError(
                    f"{flag_of(name)} must be > 0, got {value}.",
                    f"pass e.g. {flag_of(name)} {_DEFAULT_OF[name]}.",
                )
        for name in ("probe_target", "context_fraction"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ArenaError(
                    f"{flag_of(name)} must be in [0, 1], got {value}.",
                    f"pass e.g. {flag_of(name)} {_DEFAULT_OF[name]}.",
                )
        self.loss_settings("ka")  # validates direction, teacher and weights

    def loss_settings(self, loss: str) -> KALossSettings:
        return KALossSettings(
            loss=loss,  # type: ignore[arg-type]
            kl_direction=self.kl_direction,  # type: ignore[arg-type]
            teacher=self.teacher,  # type: ignore[arg-type]
            ce_weight=self.ce_weight,
            kl_weight=self.kl_weight,
            rationale_ce_weight=self.rationale_ce_weight,
        )

    def identity(self) -> dict[str, Any]:
        """The settings that must match to resume (arms, seeds and output flags may grow)."""
        skip = {"out", "losses", "seeds", "save_models", "restart"}
        return {k: v for k, v in asdict(self).items() if k not in skip}


#: The defaults, named in the fix of an impossible value.
_DEFAULT_OF: dict[str, Any] = {
    f.name: f.default for f in fields(KaleConfig) if f.default is not MISSING
}


def _at_least(config: KaleConfig, name: str, minimum: int) -> None:
    """One line naming the flag and a value that works (the default, or the minimum)."""
    value = getattr(config, name)
    if value < minimum:
        good = _DEFAULT_OF.get(name, minimum)
        raise ArenaError(
            f"{flag_of(name)} must be a whole number >= {minimum}, got {value!r}.",
            f"pass e.g. {flag_of(name)} {good if good >= minimum else minimum}.",
        )


# ----------------------------------------------------------------------------- the run
class KaleRun:
    """One run folder: resume bookkeeping, the shared start, the arms (module docstring)."""

    def __init__(self, config: KaleConfig, progress: Progress | None = None) -> None:
        self.config = config
        self.out = Path(config.out)
        self.progress = progress or (lambda done, total, what: None)
        rows = load_rows(config.data)  # a malformed file fails before anything is written
        self.rows = slice_rows(rows, config.max_questions, config.max_hops, config.slice_seed)
        if not any(r.split == "train" for r in self.rows):
            raise ArenaError(
                f"{config.data}: the slice has no 'train' questions.",
                "raise --max-questions or --max-hops.",
            )
        self.identity_sha = hashlib.sha256(
            json.dumps(config.identity(), sort_keys=True, default=str).encode()
        ).hexdigest()
        self.manifest: dict[str, Any] = {}

    # -- bookkeeping --------------------------------------------------------------------
    def _open(self) -> None:
        path = self.out / MANIFEST
        if self.config.restart:  # the run's own outputs only: the data file may live here
            for name in RUN_OUTPUTS:
                target = self.out / name
                if target.is_dir():
                    shutil.rmtree(target)
                elif target.exists():
                    target.unlink()
        if path.is_file():
            old = json.loads(path.read_text(encoding="utf-8"))
            if old.get("identity_sha256") != self.identity_sha:
                changed = ", ".join(_changed_settings(old.get("config", {}), self.config))
                raise ArenaError(
                    f"{self.out} holds a KALE run with other settings "
                    f"(different: {changed or 'unknown, kale.json has no config'}).",
                    "pass another --out, the same settings to resume, or --restart.",
                )
            self.manifest = old
        else:
            self.out.mkdir(parents=True, exist_ok=True)
            self.manifest = {
                "kind": "kale",
                "identity_sha256": self.identity_sha,
                "config": asdict(self.config),
                "slice": {
                    "questions": len(self.rows),
                    "ids": [r.id for r in self.rows],
                    "splits": {
                        s: sum(r.split == s for r in self.rows)
                        for s in ("train", "test-id", "test-ood")
                    },
                    "facts": len(distinct_probes(self.rows)),
                },
                "pretrain": None,
                "units": {},
                "status": "running",
            }
        self.manifest["config"] = asdict(self.config)
        (self.out / RESULTS).mkdir(parents=True, exist_ok=True)
        write_json(path, self.manifest)

    def _save(self) -> None:
        write_json(self.out / MANIFEST, self.manifest)

    def units(self) -> list[str]:
        return [f"{loss}-seed{seed}" for loss in self.config.losses for seed in self.config.seeds]

    def run(self) -> dict[str, Any]:
        """Run or resume; a fresh run that stops before the shared start is saved (a path
        that is no model, an interrupt) leaves no kale.json to block the corrected
        command (:func:`~arena.train.run_folder.undo_if_untrained`)."""
        with undo_if_untrained(
            self.out, MANIFEST, lambda: self.manifest.get("pretrain") is not None
        ):
            return self._run()

    def _run(self) -> dict[str, Any]:
        self._open()
        _quiet()
        import torch

        if not _cuda():  # a 3M-parameter model runs fastest on one CPU thread
            torch.set_num_threads(1)
        started = time.perf_counter()
        if not (self.out / "start" / "config.json").is_file() or self.manifest["pretrain"] is None:
            # a new start invalidates every result measured from an old one
            shutil.rmtree(self.out / RESULTS, ignore_errors=True)
            (self.out / RESULTS).mkdir()
            self.manifest["units"] = {}
            self._pretrain()
        if not (self.out / RESULTS / "start.jsonl").is_file():
            model, tok = load_model(self.out / "start")
            write_jsonl(
                self.out / RESULTS / "start.jsonl",
                evaluate(model, tok, self.rows, self.config.max_new_tokens),
            )
        todo = [u for u in self.units() if not (self.out / RESULTS / f"{u}.jsonl").is_file()]
        for k, unit in enumerate(todo):
            loss, seed = unit.rsplit("-seed", 1)
            self.progress(k, len(todo), f"fine-tune {unit}")
            self._finetune(loss, int(seed), unit)
        self.progress(len(todo), len(todo), "done")
        self.manifest["status"] = "completed"
        self.manifest["seconds_last_invocation"] = round(time.perf_counter() - started, 1)
        self._save()
        return self.manifest

    # -- stages -------------------------------------------------------------------------
    def _trainer(
        self,
        model: Any,
        tokenizer: Any,
        data: list[dict[str, list[int]]],
        *,
        loss: str,
        steps: int,
        batch: int,
        lr: float,
        seed: int,
        out: str,
        teacher: Any = None,
        callbacks: Sequence[Any] = (),
    ) -> Any:
        from datasets import Dataset
        from trl import SFTConfig

        from arena.train.kale_loss import KnowledgeAwareTrainer, PairCollator

        args = SFTConfig(
            output_dir=str(self.out / "_trainer" / out),
            max_steps=steps,
            per_device_train_batch_size=batch,
            learning_rate=lr,
            lr_scheduler_type="constant",
            warmup_steps=0,
            logging_steps=max(1, steps // 10),
            save_strategy="no",
            report_to=[],
            disable_tqdm=True,
            bf16=False,
            max_length=None,
            seed=seed,
            data_seed=seed,
            remove_unused_columns=False,
            dataset_kwargs={"skip_prepare_dataset": True},
            use_cpu=not _cuda(),
        )
        trainer = KnowledgeAwareTrainer(
            model=model,
            args=args,
            train_dataset=Dataset.from_list(data),
            data_collator=PairCollator(tokenizer.pad_token_id),
            processing_class=tokenizer,
            ka_settings=self.config.loss_settings(loss),
            teacher_model=teacher,
            callbacks=list(callbacks),
        )
        from transformers.trainer_callback import PrinterCallback

        trainer.remove_callback(PrinterCallback)
        return trainer

    def _pretrain(self) -> None:
        config = self.config
        model, tokenizer = load_model(resolve_model(config.model))
        data = pretrain_examples(tokenizer, self.rows, config.context_fraction, config.slice_seed)
        owner = self
        history: list[dict[str, float]] = []

        class ProbeCheck(_callback_base()):  # type: ignore[misc]
            """Every ``check_every`` steps: probe accuracy; stop at the target."""

            last = "probes not checked yet"

            def on_step_end(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
                step = state.global_step
                if step % config.pretrain_check_every == 0:
                    acc = probe_accuracy(kw["model"], tokenizer, owner.rows, config.max_new_tokens)
                    history.append({"step": step, "probe_accuracy": acc})
                    self.last = f"probes {acc:.0%} at step {step}"
                    if acc >= config.probe_target:
                        control.should_training_stop = True
                owner.progress(step, config.pretrain_steps, f"pre-train (single-hop), {self.last}")

        started = time.perf_counter()
        if config.pretrain_steps > 0:
            trainer = self._trainer(
                model,
                tokenizer,
                data,
                loss="sft",
                steps=config.pretrain_steps,
                batch=config.pretrain_batch,
                lr=config.pretrain_lr,
                seed=config.slice_seed,
                out="pretrain",
                callbacks=[ProbeCheck()],
            )
            trainer.train()
            steps = int(trainer.state.global_step)
            model = trainer.model
        else:
            steps = 0
        final = probe_accuracy(model, tokenizer, self.rows, config.max_new_tokens)
        save_model(model, tokenizer, self.out / "start")
        self.manifest["pretrain"] = {
            "steps": steps,
            "examples": len(data),
            "probe_accuracy": final,
            "target": config.probe_target,
            "reached_target": final >= config.probe_target,
            "stopped_by": "target" if final >= config.probe_target else "step cap",
            "history": history,
            "seconds": round(time.perf_counter() - started, 1),
        }
        self._save()

    def _finetune(self, loss: str, seed: int, unit: str) -> None:
        config = self.config
        model, tokenizer = load_model(self.out / "start")
        settings = config.loss_settings(loss)
        teacher = None
        if settings.teacher == "frozen" and settings.needs_teacher:
            teacher, _ = load_model(self.out / "start")
        data = finetune_examples(tokenizer, self.rows, config.replay)
        started = time.perf_counter()
        log: list[dict[str, Any]] = []
        if config.finetune_steps > 0:
            trainer = self._trainer(
                model,
                tokenizer,
                data,
                loss=loss,
                steps=config.finetune_steps,
                batch=config.finetune_batch,
                lr=config.finetune_lr,
                seed=seed,
                out=unit,
                teacher=teacher,
            )
            trainer.train()
            model = trainer.model
            log = [e for e in trainer.state.log_history if "loss" in e]
        records = evaluate(model, tokenizer, self.rows, config.max_new_tokens)
        if config.save_models:
            (self.out / "models").mkdir(exist_ok=True)
            save_model(model, tokenizer, self.out / "models" / unit)
        write_jsonl(
            self.out / RESULTS / f"{unit}.jsonl",
            [{"method": loss, "seed": seed, **r} for r in records],
        )
        self.manifest["units"][unit] = {
            "loss": loss,
            "seed": seed,
            "examples": len(data),
            "steps": config.finetune_steps,
            "seconds": round(time.perf_counter() - started, 1),
            "log": log,
        }
        self._save()
        shutil.rmtree(self.out / "_trainer" / unit, ignore_errors=True)


def _changed_settings(saved: dict[str, Any], config: KaleConfig) -> list[str]:
    """The resume-relevant settings that differ, as flags (``--model``) where one exists."""
    current = json.loads(json.dumps(config.identity(), default=str))
    return [flag_of(k) for k in sorted(current) if saved.get(k) != current[k]]


def _cuda() -> bool:
    import torch

    return bool(torch.cuda.is_available())


def _callback_base() -> Any:
    from transformers import TrainerCallback

    return TrainerCallback


def _quiet() -> None:
    import datasets
    import transformers

    datasets.disable_progress_bars()
    transformers.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()


def train_kale(config: KaleConfig, progress: Progress | None = None) -> dict[str, Any]:
    """Run or resume ``config``; returns the manifest (also ``OUT/kale.json``)."""
    return KaleRun(config, progress).run()
