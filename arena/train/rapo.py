"""RAPO (risk-aware safe reasoning): stage-1 SFT, then stage-2 GRPO on ``R + G``, with TRL.

Recipe (Wei et al. 2026; ``docs/rapo.md``):

* **Stage 1, SFT** (TRL ``SFTTrainer``): prompt → ``<think>`` safety analysis whose length
  is proportional to the prompt's risk level, ``</think>``, then a refusal (harmful seed)
  or help (benign seed). Prompts are shipped seeds wrapped in ``k`` scripted strategies
  (:mod:`arena.train.rapo_data`), the construction ``arena sweep rapo`` measures.
* **Stage 2, GRPO** (TRL ``GRPOTrainer``) with two reward functions, ``R`` (risk-aware:
  does the first thinking paragraph's length match the risk level) and ``G`` (general:
  refuse harmful, help benign, judged by the configured judge through the project's one
  outcome rule); :mod:`arena.train.rapo_rewards` defines both.

**Which TRL pieces, and why.** RAPO is single-policy RL against reward functions, which is
exactly what ``GRPOTrainer`` is, so stage 2 is one ``GRPOTrainer`` with
``reward_funcs=[R, G]``: TRL sums reward functions (``reward_weights`` default to 1), so the
group advantage is computed on ``R + G`` as RAPO's Algorithm 1 does, and TRL logs each
function's mean separately (``rewards/R/mean``, ``rewards/G/mean``), which our CSV log
copies. TRL's generation, clipped surrogate (``loss_type="dapo"``, token mean), group
scaling of rewards and optional KL (``beta``) are used unchanged. Stage 1 is
``SFTTrainer`` on TRL's conversational prompt-completion format, so the loss covers the
completion only (TRL's default for that format), as RAPO's SFT. ``GRPOConfig`` is built
here rather than through :func:`arena.train.config.grpo_settings`, which takes a
``MagicConfig``; the two agree on everything except RAPO's ``top_p`` (paper 0.9).

Outputs in ``OUT``: ``stage-1`` (after SFT) and ``stage-2`` (after GRPO), safetensors +
tokenizer, each loadable as ``hf:OUT/stage-N`` by agents, tournaments and ``arena sweep
rapo``; ``run.json`` (config, judge, stages, greedy evaluation on held-out seeds at every
complexity after each stage, ``stage 0`` = the untrained start) and ``log.csv`` (one row
per step). Re-running the same command on the same ``OUT`` resumes after the last
completed stage; a stage with 0 steps is recorded as skipped and writes no checkpoint.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, cast

from arena.train.magic_log import completion_texts
from arena.train.magic_models import Policy, generate, load_policy, resolve_spec
from arena.train.magic_models import save_policy as _save_policy
from arena.train.rapo_config import RapoConfig
from arena.train.rapo_data import RapoItem, draw_items, sft_rows
from arena.train.rapo_metrics import RapoLog, score_batch
from arena.train.run_folder import (
    MANIFEST,
    drop_printer,
    open_manifest,
    quiet_libraries,
    undo_if_untrained,
    write_manifest,
)
from envs.errors import ArenaError

LOG = "log.csv"
STAGES = (1, 2)
Progress = Callable[[int, int, str], None]
_BY_K_FIELDS = ("reward", "r_risk", "g_general", "sentences", "refusal_harmful", "n")


# ---------------------------------------------------------------------------- trainer
class RapoTrainer:
    """Runs (or resumes) one RAPO run as :class:`RapoConfig` describes it (TRL-style:
    construct with the config, call :meth:`train`)."""

    def __init__(self, config: RapoConfig, progress: Progress | None = None) -> None:
        self.config = config
        self.out = config.out_dir
        self.progress: Progress = progress or (lambda done, total, what: None)
        self.manifest: dict[str, Any] = {}
        self.pending: dict[str, Any] = {}
        self.total_steps = config.sft_steps + config.steps

    # -------------------------------------------------------------- manifest / resume
    def _load_or_start_manifest(self) -> None:
        """Read the run folder's manifest (resume) or prepare a new one (written later)."""
        config = self.config.to_dict()
        self.manifest = open_manifest(self.out, "rapo", config) or {
            "recipe": "rapo",
            "status": "running",
            "config": config,
            "stages": [],
            "evaluations": [],
        }

    def _write_manifest(self) -> None:
        write_manifest(self.out, self.manifest)

    def _latest_checkpoint(self) -> Path | None:
        saved = [s for s in self.manifest["stages"] if s.get("checkpoint")]
        return self.out / saved[-1]["checkpoint"] if saved else None

    # -------------------------------------------------------------- run
    def train(self) -> dict[str, Any]:
        """Run or resume; a fresh run that stops before a stage's checkpoint is saved (a
        target too long for ``max_new_tokens``, an interrupt) leaves no files behind
        (:func:`~arena.train.run_folder.undo_if_untrained`)."""
        with undo_if_untrained(self.out, MANIFEST, self._trained_anything):
            return self._train()

    def _trained_anything(self) -> bool:
        return any(s.get("checkpoint") for s in self.manifest.get("stages", []))

    def _train(self) -> dict[str, Any]:
        import torch

        from arena.judging import make_judge

        config = self.config
        self._load_or_start_manifest()
        self.judge = make_judge(config.judge)
        try:
            self.manifest["judge"] = self.judge.describe()
            quiet_libraries()
            torch.manual_seed(config.seed)
            self.device = "cuda" if torch.cuda.is_available() else "cpu"
            self.train_items, self.eval_items = draw_items(config)
            self.manifest["data"] = {
                "train_items": len(self.train_items),
                "eval_items": len(self.eval_items),
            }
            source = self._latest_checkpoint() or resolve_spec(config.model)
            self.policy = load_policy("defender", source, self.device)
            # Written only now: a bad model, judge or seed pool leaves nothing behind.
            self.out.mkdir(parents=True, exist_ok=True)
            self._write_manifest()
            done = {s["stage"] for s in self.manifest["stages"]}
            self.log = RapoLog(self.out / LOG, keep_stages=max(done, default=0))
            try:
                if not self.manifest["evaluations"]:
                    self._evaluate(0)
                if 1 not in done:
                    self._sft_stage()
                self.progress(config.sft_steps, self.total_steps, "grpo")
                if 2 not in done:
                    self._grpo_stage()
                self.manifest["status"] = "completed"
                self._write_manifest()
                self.progress(self.total_steps, self.total_steps, "done")
            finally:
                self.log.close()
        finally:
            close = getattr(self.judge, "close", None)
            if callable(close):
                close()
        return self.manifest

    def _finish_stage(self, record: dict[str, Any], trained: bool) -> None:
        if trained:
            record["checkpoint"] = f"stage-{record['stage']}"
            _save_policy(self.policy, self.out / record["checkpoint"])
        self.manifest["stages"].append(record)
        if trained:
            self._evaluate(record["stage"])
        self._write_manifest()

    def _evaluate(self, stage: int) -> None:
        """Two fixed measurements after each stage (and of the untrained start, stage 0):

        * held-out seeds at every complexity, greedy (generalisation, as a paper's eval);
        * ``probe_items`` training prompts, ``probe_samples`` seeded samples each at the
          rollout temperature: the expected reward GRPO itself maximises, so whether the
          GRPO stage moved *its* objective is read here, not inferred from the greedy eval.
        """
        config = self.config
        record: dict[str, Any] = {"stage": stage}
        items = self.eval_items
        if items:
            texts = generate(
                self.policy,
                [item.chat() for item in items],
                max_new_tokens=config.max_new_tokens,
                sample=False,
            )
            _, _, row = self._score(items, texts)
            by_k: dict[str, Any] = {}
            for k in config.complexities:
                chosen = [(i, t) for i, t in zip(items, texts, strict=True) if i.k == k]
                if chosen:
                    _, _, k_row = self._score([i for i, _ in chosen], [t for _, t in chosen])
                    by_k[str(k)] = {key: k_row[key] for key in _BY_K_FIELDS}
            record.update({**row, "by_k": by_k, "example": texts[0]})
        probe = self.train_items[: config.probe_items]
        if probe:
            repeated = [item for item in probe for _ in range(config.probe_samples)]
            texts = generate(
                self.policy,
                [item.chat() for item in repeated],
                max_new_tokens=config.max_new_tokens,
                sample=True,
                temperature=config.temperature,
                seed=config.seed * 7919 + 17,
            )
            record["probe"] = self._score(repeated, texts)[2]
        self.manifest["evaluations"].append(record)
        self._write_manifest()

    def _score(
        self, items: Sequence[RapoItem], texts: Sequence[str]
    ) -> tuple[list[int], list[int], dict[str, Any]]:
        return score_batch(
            self.config,
            self.judge,
            texts,
            [i.level for i in items],
            [i.prompt for i in items],
            [i.seed.label for i in items],
        )

    # -------------------------------------------------------------- stage 1: SFT
    def _sft_stage(self) -> None:
        from datasets import Dataset
        from trl import SFTConfig, SFTTrainer

        config = self.config
        if config.sft_steps == 0:
            self._finish_stage({"stage": 1, "kind": "sft", "steps": 0, "skipped": True}, False)
            return
        tokenizer = self.policy.tokenizer
        rows = sft_rows(
            self.train_items,
            config.sentences_per_level,
            count_tokens=lambda text: len(tokenizer(text, add_special_tokens=False)["input_ids"]),
            max_tokens=config.max_new_tokens,
        )
        if not rows:
            raise ArenaError(
                f"No stage-1 target fits in max_new_tokens={config.max_new_tokens} tokens.",
                "raise --max-new-tokens (e.g. 160) or lower --complexities.",
            )
        args = SFTConfig(
            output_dir=str(self.out / "_trainer" / "sft"),
            max_steps=config.sft_steps,
            per_device_train_batch_size=config.sft_batch_size,
            learning_rate=config.sft_learning_rate,
            lr_scheduler_type="constant",
            logging_steps=1,
            save_strategy="no",
            report_to=[],
            disable_tqdm=True,
            bf16=config.bf16,
            gradient_checkpointing=False,
            max_length=2048,
            seed=config.seed,
            use_cpu=self.device == "cpu",
        )
        trainer = SFTTrainer(
            model=self.policy.model,
            args=args,
            train_dataset=Dataset.from_list(rows),
            processing_class=tokenizer,
            callbacks=[_StepCallback(self, stage=1, kind="sft", offset=0)],
        )
        drop_printer(trainer)
        started = time.perf_counter()
        trainer.train()
        self.policy = Policy("defender", trainer.model, tokenizer)
        record = {
            "stage": 1,
            "kind": "sft",
            "steps": config.sft_steps,
            "examples": len(rows),
            "dropped_too_long": len(self.train_items) - len(rows),
            "seconds": round(time.perf_counter() - started, 2),
        }
        self._finish_stage(record, True)

    # -------------------------------------------------------------- stage 2: GRPO
    def _grpo_stage(self) -> None:
        from datasets import Dataset
        from trl import GRPOConfig, GRPOTrainer

        config = self.config
        if config.steps == 0:
            self._finish_stage({"stage": 2, "kind": "grpo", "steps": 0, "skipped": True}, False)
            return
        rows = [
            {
                "prompt": item.chat(),
                "level": item.level,
                "seed_label": item.seed.label,
                "judge_prompt": item.prompt,
            }
            for item in self.train_items
        ]
        cache: dict[tuple[str, ...], tuple[list[int], list[int]]] = {}

        def scored(completions: list[Any], columns: dict[str, Any]) -> tuple[list[int], list[int]]:
            # TRL calls R and G on the same batch: score it once (and log it) for both.
            texts = completion_texts(completions)
            key = tuple(texts)
            if key not in cache:
                cache.clear()
                r, g, self.pending = score_batch(
                    config,
                    self.judge,
                    texts,
                    columns["level"],
                    columns["judge_prompt"],
                    columns["seed_label"],
                )
                cache[key] = (r, g)
            return cache[key]

        # Named R and G (RAPO's names): TRL logs each as rewards/R/mean, rewards/G/mean.
        def R(completions: list[Any], **columns: Any) -> list[float]:
            return [float(v) for v in scored(completions, columns)[0]]

        def G(completions: list[Any], **columns: Any) -> list[float]:
            return [float(v) for v in scored(completions, columns)[1]]

        args = GRPOConfig(
            output_dir=str(self.out / "_trainer" / "grpo"),
            max_steps=config.steps,
            per_device_train_batch_size=config.prompts_per_step * config.group_size,
            num_generations=config.group_size,
            max_completion_length=config.max_new_tokens,
            learning_rate=config.learning_rate,
            lr_scheduler_type="constant",
            beta=config.beta,
            epsilon=config.epsilon,
            temperature=config.temperature,
            top_p=config.top_p,
            top_k=0,
            loss_type="dapo",
            scale_rewards="group",
            num_iterations=1,
            logging_steps=1,
            save_strategy="no",
            report_to=[],
            disable_tqdm=True,
            bf16=config.bf16,
            gradient_checkpointing=False,
            use_vllm=False,
            seed=config.seed + 2,
            use_cpu=self.device == "cpu",
        )
        trainer = GRPOTrainer(
            model=self.policy.model,
            reward_funcs=[cast(Any, R), cast(Any, G)],
            args=args,
            train_dataset=Dataset.from_list(rows),
            processing_class=self.policy.tokenizer,
            callbacks=[_StepCallback(self, stage=2, kind="grpo", offset=config.sft_steps)],
        )
        drop_printer(trainer)
        started = time.perf_counter()
        trainer.train()
        self.policy = Policy("defender", trainer.model, self.policy.tokenizer)
        record = {
            "stage": 2,
            "kind": "grpo",
            "steps": int(trainer.state.global_step),
            "seconds": round(time.perf_counter() - started, 2),
        }
        self._finish_stage(record, True)


def _callback_base() -> Any:
    from transformers import TrainerCallback

    return TrainerCallback


class _StepCallback(_callback_base()):  # type: ignore[misc]
    """One log row per step (TRL's logged loss and reward means, our batch summary) and
    the progress bar."""

    def __init__(self, owner: RapoTrainer, *, stage: int, kind: str, offset: int) -> None:
        self.owner = owner
        self.stage = stage
        self.kind = kind
        self.offset = offset
        self._started = time.perf_counter()

    def on_step_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        self._started = time.perf_counter()

    def on_log(self, args: Any, state: Any, control: Any, logs: Any = None, **kwargs: Any) -> None:
        if not logs or "loss" not in logs:
            return
        owner = self.owner
        row: dict[str, Any] = {
            "step": self.offset + state.global_step,
            "stage": self.stage,
            "kind": self.kind,
            "loss": float(logs["loss"]),
            "seconds": time.perf_counter() - self._started,
        }
        if self.kind == "grpo":
            row.update(owner.pending)
            row["r_risk"] = float(logs.get("rewards/R/mean", row.get("r_risk", 0.0)))
            row["g_general"] = float(logs.get("rewards/G/mean", row.get("g_general", 0.0)))
            row["reward"] = float(logs.get("reward", row.get("reward", 0.0)))
        owner.log.write(row)
        owner.progress(self.offset + state.global_step, owner.total_steps, self.kind)


def train_rapo(config: RapoConfig, progress: Progress | None = None) -> dict[str, Any]:
    """Run or resume ``config``; returns the final manifest (also in ``OUT/run.json``)."""
    return RapoTrainer(config, progress).train()
