"""MAGIC co-evolution (attacker SFT, then alternating GRPO of two models) on TRL.

Recipe (MAGIC §2; ``docs/magic.md`` has it in full, with formulas and step times):

* **Phase 1, attacker SFT** (TRL ``SFTTrainer``): (attacker prompt → think + answer)
  pairs written by the scripted strategy attackers (:mod:`agents.scripted.attackers`),
  one per training seed and strategy, in the environment's own prompt templates. Their
  think starts with ``Plan: <strategy>``, which is how the strategy mix of the trained
  attacker is read back (:func:`agents.scripted.attackers.plan_of`).
* **Phase 2, alternating GRPO** of two separate models (each its own weights and
  optimizer), defender first, switching every ``switch_every`` steps or by MAGIC's
  ASR-aware rule (moving mean of R_harm ≥ ``switch_high`` → train the attacker;
  ≤ ``switch_low`` → train the defender).

  - Defender phase: the frozen attacker rewrites every training seed *greedily* once;
    each GRPO prompt is ``"Question:\\n" + answer`` and TRL samples G defender responses
    from it (one rewrite shared by the group, as MAGIC's code).
  - Attacker phase: TRL samples G rewrites per seed; the reward function has the frozen
    defender sample one response to each and judges it.
  - Rewards: the judge (``rule`` by default) labels each (answer, response) pair and
    :func:`envs.attack_defense.outcome.score_turn` turns it into ``R_D`` / ``R_A`` — the
    one outcome rule of the environment. ``R_fmt`` is part of ``R_A`` only.

**GRPOTrainer, not hand-written building blocks, and why.** TRL's GRPOTrainer trains one
policy against reward functions; MAGIC alternates *which* policy learns while the other is
frozen. Both halves of a step fit that shape: in the defender phase the frozen attacker is
greedy, so its rewrite of a seed is fixed for the whole phase and is computed once, into
the phase's dataset; in the attacker phase the frozen defender's sampled reply is part of
the attacker's reward, so the reward function generates it. Each GRPO phase is therefore
one ``GRPOTrainer`` (``max_steps`` = the phase length, or stopped early by a callback under
the ASR rule) on the learner's model object, with reward functions backed by the
environment. That keeps TRL's loss, clipping, group advantages, KL (β) and generation
exactly as upstream (and its vLLM path, where installed). What a per-phase trainer would
lose is carried over by hand: each role's AdamW state (moments and step count) goes from
the end of its previous phase into the next phase's trainer before its first step, and
is saved beside the phase checkpoint (``OUT/<role>/optimizer-phase-N.pt``), as MAGIC's
verl keeps it. One PPO mini-batch per step (MAGIC: two). Loss ``dapo`` = token-mean over
the batch, MAGIC's ``agg_mode=token``; advantages ``(r - mean) / std`` per group.

Outputs in ``OUT``: ``attacker/phase-N`` and ``defender/phase-N`` after each phase
(``phase-1`` = after SFT; ``phase-2`` … = after each GRPO phase; safetensors + tokenizer,
loadable as ``hf:OUT/attacker/phase-N``), ``run.json`` (config, judge, phases, greedy
evaluation on held-out seeds after each phase, ``phase-0`` = the untrained start),
``log.csv`` (one row per step) and, with ``tensorboard=True``, ``OUT/tensorboard``.
Every ``save_every`` steps the running phase writes a TRL checkpoint
(``OUT/_trainer/phase-N/checkpoint-K``: weights, optimizer, scheduler, RNG states); a run
killed mid-phase resumes from there when the same command is run again on the same
``OUT`` (or from its last completed phase when no checkpoint was written yet).
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, cast

from arena.train.config import ROLES, MagicConfig, Role, grpo_settings
from arena.train.magic_data import (
    COMPACT_ATTACKER_SYSTEM,
    COMPACT_TASK,
    Chat,
    attacker_chat,
    defender_chat,
    draw_seeds,
    sft_examples,
)
from arena.train.magic_log import (
    LOG_FIELDS,
    StepCallback,
    StepLog,
    completion_texts,
    score,
    summarize,
    tensorboard_writer,
)
from arena.train.magic_models import (
    Policy,
    generate,
    load_optimizer_state,
    load_policy,
    optimizer_continuity,
    optimizer_fingerprint,
    resolve_spec,
    save_optimizer_state,
    save_policy,
    unwrap_optimizer,
)
from arena.train.magic_phases import attacker_phase_data, defender_phase_data
from arena.train.run_folder import (
    MANIFEST,
    drop_printer,
    open_manifest,
    quiet_libraries,
    undo_if_untrained,
    write_manifest,
)
from arena.train.vllm_colocate import colocated_engine, install_weight_sync
from envs.attack_defense.parsing import extract_answer, is_well_formatted
from envs.attack_defense.verdicts import RewardConfig
from envs.errors import ArenaError

__all__ = [
    "COMPACT_ATTACKER_SYSTEM",
    "COMPACT_TASK",
    "LOG",
    "LOG_FIELDS",
    "MANIFEST",
    "Chat",
    "MagicConfig",
    "MagicTrainer",
    "Policy",
    "StepCallback",
    "StepLog",
    "attacker_chat",
    "completion_texts",
    "defender_chat",
    "draw_seeds",
    "generate",
    "grpo_settings",
    "load_policy",
    "optimizer_continuity",
    "optimizer_fingerprint",
    "resolve_spec",
    "save_policy",
    "score",
    "sft_examples",
    "summarize",
    "train_magic",
]


LOG = "log.csv"
TRAINER_DIR = "_trainer"
#: The old private name, kept for code that subclassed it.
_StepCallback = StepCallback


def _last_checkpoint(folder: Path) -> tuple[str, int] | None:
    """(path, local step) of the newest ``checkpoint-K`` TRL saved in ``folder``."""
    if not folder.is_dir():
        return None
    from transformers.trainer_utils import get_last_checkpoint

    path = get_last_checkpoint(str(folder))
    if path is None:
        return None
    return path, int(Path(path).name.rsplit("-", 1)[1])


class MagicTrainer:
    """Runs (or resumes) one MAGIC co-evolution run as :class:`MagicConfig` describes it.

    ``callbacks`` are extra Trainer callbacks added to every phase's trainer (after the
    step logger); ``step_callback`` is the class that logs each step (a subclass may
    record more, as ``benchmarks/bench_coevolve.py`` does).
    """

    step_callback: type[StepCallback] = StepCallback

    def __init__(
        self,
        config: MagicConfig,
        progress: Callable[[int, int, str], None] | None = None,
        callbacks: Sequence[Any] = (),
    ) -> None:
        self.config = config
        self.out = config.out_dir
        self.progress = progress or (lambda done, total, what: None)
        self.reward = RewardConfig(r_harm=config.r_harm, r_ref=config.r_ref, r_fmt=config.r_fmt)
        self.manifest: dict[str, Any] = {}
        self.compact = config.compact_prompts
        self.step_seconds: list[float] = []
        self.extra_callbacks = list(callbacks)
        #: Each role's optimizer state at the end of its latest GRPO phase.
        self.optimizer_states: dict[Role, dict[str, Any]] = {}
        #: The summary of the current step's scored turns (set by the reward function).
        self._pending: dict[str, Any] = {}

    # -------------------------------------------------------------- manifest / resume
    def _load_or_start_manifest(self) -> None:
        config = self.config.to_dict()
        manifest = open_manifest(self.out, "magic", config)
        if manifest is None:
            self.out.mkdir(parents=True, exist_ok=True)
            manifest = {
                "recipe": "magic",
                "status": "running",
                "config": config,
                "phases": [],
                "evaluations": [],
            }
        self.manifest = manifest
        self._write_manifest()

    def _write_manifest(self) -> None:
        write_manifest(self.out, self.manifest)

    def _phase_dir(self, index: int) -> Path:
        return self.out / TRAINER_DIR / f"phase-{index}"

    def _resume_point(self) -> tuple[int, int]:
        """(the phase to run next, the local step of its newest mid-phase checkpoint)."""
        index = len(self.manifest["phases"]) + 1
        found = _last_checkpoint(self._phase_dir(index))
        return index, (found[1] if found else 0)

    def _row_filter(self) -> Callable[[dict[str, str]], bool]:
        """On resume, which ``log.csv`` rows survive: those of completed phases, and of
        the current phase up to its newest checkpoint (the steps after it run again)."""
        index, local = self._resume_point()
        offset = self._steps_done()

        def keep(row: dict[str, str]) -> bool:
            phase = int(row["phase"])
            if phase < index:
                return True
            if phase > index or local == 0:
                return False
            return int(row["step"]) <= (offset if row["role"] in ROLES else 0) + local

        return keep

    # -------------------------------------------------------------- schedule
    def _next_role(self) -> Role:
        grpo = [p for p in self.manifest["phases"] if p["kind"] == "grpo"]
        if not grpo:
            return self.config.start_role
        return "attacker" if grpo[-1]["role"] == "defender" else "defender"

    def _steps_done(self) -> int:
        return sum(p["steps"] for p in self.manifest["phases"] if p["kind"] == "grpo")

    # -------------------------------------------------------------- run
    def run(self) -> dict[str, Any]:
        """Run or resume; a fresh run that stops before training anything leaves no files
        (:func:`~arena.train.run_folder.undo_if_untrained`), so its corrected command is
        not refused as "another run"."""
        with undo_if_untrained(self.out, MANIFEST, self._trained_anything):
            return self._run()

    def _trained_anything(self) -> bool:
        """A completed phase, or a mid-phase checkpoint a re-run resumes from."""
        if self.manifest.get("phases"):
            return True
        return any((self.out / TRAINER_DIR).glob("phase-*/checkpoint-*"))

    def _run(self) -> dict[str, Any]:
        import torch

        from arena.judging import make_judge

        config = self.config
        self._load_or_start_manifest()
        self.judge = make_judge(config.judge)
        self.manifest["judge"] = self.judge.describe()
        self.manifest["compact_prompts"] = self.compact
        quiet_libraries()
        torch.manual_seed(config.seed)
        device = "cuda" if torch.cuda.is_available() else "cpu"
        self.device = device
        self.train_seeds, self.eval_set = draw_seeds(config)
        phases = self.manifest["phases"]
        if phases:
            last = phases[-1]["index"]
            attacker_dir = self.out / "attacker" / f"phase-{last}"
            defender_dir = self.out / "defender" / f"phase-{last}"
        else:
            attacker_dir = resolve_spec(config.attacker)
            defender_dir = resolve_spec(config.defender)
        self.attacker = load_policy("attacker", attacker_dir, device)
        self.defender = load_policy("defender", defender_dir, device)
        for role in ROLES:  # each role's optimizer as its latest GRPO phase left it
            done = [p for p in phases if p["kind"] == "grpo" and p["role"] == role]
            if done and done[-1].get("optimizer_file"):
                self.optimizer_states[role] = load_optimizer_state(
                    self.out / done[-1]["optimizer_file"]
                )
        scalars = tensorboard_writer(self.out / "tensorboard") if config.tensorboard else None
        self.log = StepLog(self.out / LOG, keep=self._row_filter(), scalars=scalars)
        try:
            if not any(e["phase"] == 0 for e in self.manifest["evaluations"]):
                self._evaluate(0)
            if not phases:
                if config.sft_steps > 0:
                    self._sft_phase()
                else:
                    self._finish_phase({"kind": "init", "role": None, "steps": 0})
            self.progress(self._steps_done(), config.steps, "grpo")
            while self._steps_done() < config.steps:
                self._grpo_phase(self._next_role())
            self.manifest["status"] = "completed"
            self.manifest["optimizer_handover"] = optimizer_continuity(self.manifest) or "exact"
            self._write_manifest()
            # every phase removed its own checkpoints; the empty parent goes too
            shutil.rmtree(self.out / TRAINER_DIR, ignore_errors=True)
        finally:
            self.log.close()
        return self.manifest

    def _finish_phase(self, record: dict[str, Any], learner_optimizer: Any | None = None) -> None:
        """Save both checkpoints (and the learner's optimizer), then record the phase.

        The manifest is written last: a kill before that re-runs the phase, one after it
        finds everything the manifest names on disk.
        """
        index = len(self.manifest["phases"]) + 1
        record = {
            "index": index,
            **record,
            "end_step": self._steps_done() + (record["steps"] if record["kind"] == "grpo" else 0),
            "attacker": f"attacker/phase-{index}",
            "defender": f"defender/phase-{index}",
        }
        for policy in (self.attacker, self.defender):
            target = self.out / policy.role / f"phase-{index}"
            target.parent.mkdir(parents=True, exist_ok=True)
            save_policy(policy, target)
        role = record.get("role")
        stale: list[Path] = []
        if learner_optimizer is not None and role in ROLES:
            target = self.out / role / f"optimizer-phase-{index}.pt"
            save_optimizer_state(learner_optimizer, target)
            record["optimizer_file"] = f"{role}/{target.name}"
            state = unwrap_optimizer(learner_optimizer).state_dict()
            self.optimizer_states[cast(Role, role)] = state
            stale = [p for p in target.parent.glob("optimizer-phase-*.pt") if p != target]
        self.manifest["phases"].append(record)
        self._evaluate(index)  # also writes the manifest
        for path in stale:  # only the latest optimizer state of a role is ever read
            path.unlink(missing_ok=True)
        shutil.rmtree(self._phase_dir(index), ignore_errors=True)

    def _evaluate(self, index: int) -> None:
        """Greedy attacker vs greedy defender on the held-out seeds (fixed across phases)."""
        if not self.eval_set:
            self._write_manifest()
            return
        outputs = generate(
            self.attacker,
            [attacker_chat(s, self.compact) for s in self.eval_set],
            max_new_tokens=self.config.max_new_tokens,
            sample=False,
        )
        answers = [extract_answer(t) for t in outputs]
        responses = generate(
            self.defender,
            [defender_chat(a) for a in answers],
            max_new_tokens=self.config.defender_max_new_tokens,
            sample=False,
        )
        outcomes = score(
            self.judge,
            self.reward,
            answers,
            responses,
            [s.label for s in self.eval_set],
            [is_well_formatted(t) for t in outputs],
        )
        self.manifest["evaluations"].append({"phase": index, **summarize(outcomes, outputs)})
        self._write_manifest()

    def _callbacks(self, callback: StepCallback) -> list[Any]:
        return [callback, *self.extra_callbacks]

    # -------------------------------------------------------------- phase 1: SFT
    def _sft_phase(self) -> None:
        from datasets import Dataset
        from trl import SFTConfig, SFTTrainer

        config = self.config
        tokenizer = self.attacker.tokenizer
        rows = sft_examples(
            self.train_seeds,
            config.seed,
            compact=self.compact,
            count_tokens=lambda text: len(tokenizer(text, add_special_tokens=False)["input_ids"]),
            max_tokens=config.max_new_tokens,
        )
        if not rows:
            raise ArenaError(
                f"No scripted rewrite fits in max_new_tokens={config.max_new_tokens} tokens.",
                "raise --max-new-tokens (e.g. 256).",
            )
        dataset = Dataset.from_list(rows)
        output_dir = self._phase_dir(1)
        checkpoint = _last_checkpoint(output_dir)
        args = SFTConfig(
            output_dir=str(output_dir),
            max_steps=config.sft_steps,
            per_device_train_batch_size=config.sft_batch_size,
            learning_rate=config.sft_learning_rate,
            lr_scheduler_type="constant",
            logging_steps=1,
            save_strategy="steps" if config.save_every else "no",
            save_steps=max(config.save_every, 1),
            save_total_limit=1,
            report_to=[],
            disable_tqdm=True,
            bf16=config.bf16,
            gradient_checkpointing=False,
            max_length=1024,
            seed=config.seed,
            use_cpu=self.device == "cpu",
        )
        callback = self.step_callback(self, phase=1, role="attacker", kind="sft", step_offset=0)
        trainer = SFTTrainer(
            model=self.attacker.model,
            args=args,
            train_dataset=dataset,
            processing_class=self.attacker.tokenizer,
            callbacks=self._callbacks(callback),
        )
        drop_printer(trainer)
        started = time.perf_counter()
        trainer.train(resume_from_checkpoint=checkpoint[0] if checkpoint else None)
        self._finish_phase(
            {
                "kind": "sft",
                "role": "attacker",
                "steps": config.sft_steps,
                "examples": len(dataset),
                "resumed_from_step": checkpoint[1] if checkpoint else 0,
                "seconds": round(time.perf_counter() - started, 2),
            }
        )

    # -------------------------------------------------------------- phase 2: GRPO
    def _grpo_phase(self, role: Role) -> None:
        from datasets import Dataset
        from trl import GRPOTrainer

        config = self.config
        index = len(self.manifest["phases"]) + 1
        start_step = self._steps_done()
        n_steps = min(config.switch_every, config.steps - start_step)
        learner = self.defender if role == "defender" else self.attacker
        reward_fn, rows = (
            self._defender_phase_data() if role == "defender" else self._attacker_phase_data()
        )
        # The learner's trainer draws its own sample order; the dataset is cycled as needed.
        dataset = Dataset.from_list(rows)
        max_tokens = config.defender_max_new_tokens if role == "defender" else config.max_new_tokens
        output_dir = self._phase_dir(index)
        checkpoint = _last_checkpoint(output_dir)
        args = grpo_settings(
            config,
            output_dir=output_dir,
            max_steps=n_steps,
            max_completion_length=max_tokens,
            seed=config.seed + index,
            use_cpu=self.device == "cpu",
            save_steps=config.save_every,
        )
        earlier = [float(r["r_harm"]) for r in self.log.rows if r["phase"] == str(index)]
        callback = self.step_callback(
            self, phase=index, role=role, kind="grpo", step_offset=start_step, r_harm=earlier
        )
        with colocated_engine(self.config.use_vllm):
            trainer = GRPOTrainer(
                model=learner.model,
                reward_funcs=[cast(Any, reward_fn)],
                args=args,
                train_dataset=dataset,
                processing_class=learner.tokenizer,
                callbacks=self._callbacks(callback),
            )
        install_weight_sync(trainer)  # vLLM's CPU build needs an in-place reload
        drop_printer(trainer)
        self._restore_optimizer(trainer, role)
        started = time.perf_counter()
        trainer.train(resume_from_checkpoint=checkpoint[0] if checkpoint else None)
        steps = int(trainer.state.global_step)
        learner.model = trainer.model
        self._finish_phase(
            {
                "kind": "grpo",
                "role": role,
                "steps": steps,
                "start_step": start_step + 1,
                "switched_by": callback.switched_by,
                "resumed_from_step": checkpoint[1] if checkpoint else 0,
                "optimizer_start": callback.optimizer_start,
                "optimizer_end": callback.optimizer_end,
                "seconds": round(time.perf_counter() - started, 2),
            },
            learner_optimizer=trainer.optimizer,
        )

    def _restore_optimizer(self, trainer: Any, role: Role) -> None:
        """Give ``trainer`` the role's AdamW as its previous GRPO phase left it.

        A checkpoint of the phase itself (mid-phase resume), if any, replaces this state
        inside ``train()``. A role's first GRPO phase starts fresh (the attacker's SFT
        optimizer is not carried into RL: other loss, other learning rate).
        """
        state = self.optimizer_states.get(role)
        if state is not None:
            trainer.create_optimizer().load_state_dict(state)

    def _defender_phase_data(self) -> tuple[Callable[..., list[float]], list[dict[str, Any]]]:
        return defender_phase_data(self)

    def _attacker_phase_data(self) -> tuple[Callable[..., list[float]], list[dict[str, Any]]]:
        return attacker_phase_data(self)


def train_magic(
    config: MagicConfig,
    progress: Callable[[int, int, str], None] | None = None,
    callbacks: Sequence[Any] = (),
) -> dict[str, Any]:
    """Run or resume ``config``; returns the final manifest (also in ``OUT/run.json``)."""
    return MagicTrainer(config, progress, callbacks).run()
