"""Co-evolution step time (issue 9's goal): MAGIC GRPO steps vs a bare TRL GRPOTrainer step.

What is measured: wall-clock seconds per GRPO step, median over ``--steps`` steps after
one warm-up step (the first step of every trainer pays for lazy initialisation), all in
one process with ``OMP_NUM_THREADS=1`` unless already set (the tiny model runs fastest
on one intra-op thread; see ``agents.backends.hf._limit_threads_for_small_models``).

* **MAGIC** runs through the trainer's public entry point, :func:`arena.train.magic.
  train_magic`, with attacker SFT and evaluation turned off (``sft_steps=0``,
  ``eval_seeds=0``) and one defender phase followed by one attacker phase of
  ``steps + 1`` steps each. A step's time is what the trainer itself logs per step
  (``MagicTrainer.step_seconds``: from ``on_step_begin`` to the step's log row), so it
  covers TRL's generation, the environment-backed reward function and the update.
  TRL's mean completion length per step is printed for both sides (read by a subclass
  of MAGIC's step callback that only records), since a step's cost follows it.
  The defender phase's frozen-attacker rewrites are made once per phase, before the
  first step; they are reported separately (phase set-up), not per step.
* **Bare TRL**: a ``trl.GRPOTrainer`` on a fresh copy of the same tiny model
  (``agents.tiny.ensure_tiny_model()``, loaded by the same ``load_policy``), with the
  same GRPOConfig settings (``arena.train.magic.grpo_settings``) (group size G, prompts per
  step, max completion length, sampling, loss), the same prompts, and a trivial
  length-based reward; timed by the same kind of callback. The bare trainers run twice,
  before and after MAGIC, and their median is taken over both runs' steps: other
  processes' load drifts during a run, and bracketing keeps that drift out of the ratio.

Two ratios, each against the bare step on the same prompts and completion length:

* Defender phase (G defender samples per greedy attacker rewrite, ``max_completion_length
  = defender_max_new_tokens``). MAGIC adds only the rule judge and ``score_turn`` to the
  step. Goal: <= 1.2x.
* Attacker phase (G sampled rewrites per seed, ``max_completion_length = max_new_tokens``).
  Its reward function also has the frozen defender *generate* one sampled reply to every
  rewrite (G x prompts replies of up to ``defender_max_new_tokens`` tokens, one
  left-padded batch, KV cache, ``inference_mode``) before judging them, i.e. a second
  model's generation inside every step, which a bare GRPO step with a cheap reward never
  pays. It is reported against the same goal for the record, with the extra generation's
  share measured alone, but that extra work is the recipe, not overhead: on a model this
  small a decoding step costs about as much for 1 row as for 64, so the replies cost
  about ``defender_max_new_tokens`` forward passes whatever is batched.

Run: ``python benchmarks/bench_coevolve.py`` (``--steps``, ``--group-size``,
``--seeds-per-step``, ``--max-new-tokens``, ``--defender-max-new-tokens``).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, cast

os.environ.setdefault("OMP_NUM_THREADS", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from arena.train.config import MagicConfig  # noqa: E402
from arena.train.magic import (  # noqa: E402
    MagicTrainer,
    StepCallback,
    attacker_chat,
    completion_texts,
    defender_chat,
    draw_seeds,
    generate,
    grpo_settings,
    load_policy,
    resolve_spec,
)
from arena.train.run_folder import drop_printer, quiet_libraries  # noqa: E402
from envs.attack_defense.parsing import extract_answer  # noqa: E402

GOAL = 1.2


def _median_after_warmup(seconds: list[float]) -> float:
    return statistics.median(seconds[1:] if len(seconds) > 1 else seconds)


def _step_timer() -> Any:
    """A callback timing each step as MAGIC's ``_StepCallback`` does (begin -> log row)."""
    from transformers import TrainerCallback

    class StepTimer(TrainerCallback):
        def __init__(self) -> None:
            self.seconds: list[float] = []
            self.lengths: list[float] = []
            self._started = time.perf_counter()

        def on_step_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            self._started = time.perf_counter()

        def on_log(
            self, args: Any, state: Any, control: Any, logs: Any = None, **kwargs: Any
        ) -> None:
            if logs and "loss" in logs:
                self.seconds.append(time.perf_counter() - self._started)
                self.lengths.append(float(logs.get("completions/mean_length", float("nan"))))

    return StepTimer()


def bare_grpo(
    config: MagicConfig, prompts: list[Any], max_tokens: int, steps: int, out: Path, seed: int
) -> tuple[list[float], list[float]]:
    """Seconds per step of a plain GRPOTrainer with a length reward, MAGIC's settings."""
    import torch
    from datasets import Dataset
    from trl import GRPOTrainer

    torch.manual_seed(config.seed)
    policy = load_policy("defender", resolve_spec(config.defender), "cpu")

    def length_reward(completions: list[Any], **_: Any) -> list[float]:
        return [len(text) / 100.0 for text in completion_texts(completions)]

    # The same settings as MAGIC's GRPO phases.
    args = grpo_settings(
        config,
        output_dir=out,
        max_steps=steps,
        max_completion_length=max_tokens,
        seed=seed,
        use_cpu=True,
    )
    timer = _step_timer()
    trainer = GRPOTrainer(
        model=policy.model,
        reward_funcs=[cast(Any, length_reward)],
        args=args,
        train_dataset=Dataset.from_list([{"prompt": p} for p in prompts]),
        processing_class=policy.tokenizer,
        callbacks=[timer],
    )
    drop_printer(trainer)
    trainer.train()
    return list(timer.seconds), list(timer.lengths)


def magic_phases(
    config: MagicConfig,
) -> tuple[dict[str, list[float]], dict[str, list[float]], dict[str, float]]:
    """Per-step seconds and mean completion lengths of MAGIC's defender then attacker
    phase, and each phase's seconds, from one ``MagicTrainer.run()``."""
    lengths: list[float] = []

    class Recording(StepCallback):
        """MAGIC's own step callback, also noting TRL's mean completion length (read only)."""

        def on_log(self, args: Any, state: Any, control: Any, logs: Any = None, **kw: Any) -> None:
            if logs and "loss" in logs and self.kind == "grpo":
                lengths.append(float(logs.get("completions/mean_length", float("nan"))))
            super().on_log(args, state, control, logs=logs, **kw)

    class RecordingTrainer(MagicTrainer):
        step_callback = Recording

    trainer = RecordingTrainer(config)
    manifest = trainer.run()
    per_phase: dict[str, list[float]] = {}
    per_phase_len: dict[str, list[float]] = {}
    phase_seconds: dict[str, float] = {}
    done = 0
    for phase in manifest["phases"]:
        if phase["kind"] != "grpo":
            continue
        n = int(phase["steps"])
        per_phase[phase["role"]] = trainer.step_seconds[done : done + n]
        per_phase_len[phase["role"]] = lengths[done : done + n]
        phase_seconds[phase["role"]] = float(phase["seconds"])
        done += n
    return per_phase, per_phase_len, phase_seconds


def _verdict(ratio: float) -> str:
    return "PASS" if ratio <= GOAL else "FAIL"


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--steps", type=int, default=3, help="timed steps per trainer")
    parser.add_argument("--group-size", type=int, default=4)
    parser.add_argument("--seeds-per-step", type=int, default=2)
    parser.add_argument("--max-new-tokens", type=int, default=128, help="attacker completions")
    parser.add_argument("--defender-max-new-tokens", type=int, default=64)
    parser.add_argument("--num-seeds", type=int, default=8, help="training seeds drawn")
    args = parser.parse_args()

    import torch

    quiet_libraries()
    steps = args.steps + 1  # + the warm-up step
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        config = MagicConfig(
            out=str(tmp / "magic"),
            steps=2 * steps,
            switch_every=steps,
            start_role="defender",
            group_size=args.group_size,
            seeds_per_step=args.seeds_per_step,
            max_new_tokens=args.max_new_tokens,
            defender_max_new_tokens=args.defender_max_new_tokens,
            sft_steps=0,
            num_seeds=args.num_seeds,
            eval_seeds=0,
            save_every=0,  # the bare trainer saves nothing either
        )
        print(
            f"tiny model, CPU, OMP_NUM_THREADS={os.environ['OMP_NUM_THREADS']}; G="
            f"{config.group_size}, {config.seeds_per_step} prompts/step "
            f"({config.group_size * config.seeds_per_step} completions), completions <= "
            f"{config.defender_max_new_tokens} (defender) / {config.max_new_tokens} "
            f"(attacker) tokens; median of {args.steps} steps after 1 warm-up"
        )

        # The same prompts as MAGIC's two phases: the (untrained, greedy) attacker's
        # rewrites for the defender phase; the attacker chats for the attacker phase.
        train_seeds, _ = draw_seeds(config)
        compact = config.compact_prompts
        attacker_prompts = [attacker_chat(s, compact) for s in train_seeds]
        torch.manual_seed(config.seed)
        writer = load_policy("attacker", resolve_spec(config.attacker), "cpu")
        start = time.perf_counter()
        rewrites = generate(
            writer, attacker_prompts, max_new_tokens=config.max_new_tokens, sample=False
        )
        setup = time.perf_counter() - start
        defender_prompts = [defender_chat(extract_answer(text)) for text in rewrites]
        del writer

        def bare_pair(tag: str) -> tuple[list[float], list[float], list[float], list[float]]:
            # Seeds as MAGIC's phases get them (config.seed + phase index; phase 1 = init).
            d_s, d_len = bare_grpo(
                config,
                defender_prompts,
                config.defender_max_new_tokens,
                steps,
                tmp / f"bare-d-{tag}",
                config.seed + 2,
            )
            a_s, a_len = bare_grpo(
                config,
                attacker_prompts,
                config.max_new_tokens,
                steps,
                tmp / f"bare-a-{tag}",
                config.seed + 3,
            )
            return d_s, d_len, a_s, a_len

        # The bare trainers run before *and* after MAGIC: on a shared machine the load
        # drifts, and bracketing cancels a linear drift instead of charging it to MAGIC.
        started = time.perf_counter()
        before = bare_pair("before")
        started_magic = time.perf_counter()
        magic, magic_len, phase_seconds = magic_phases(config)
        magic_wall = time.perf_counter() - started_magic
        after = bare_pair("after")
        bare_wall = time.perf_counter() - started - magic_wall
        bare_def = [before[0], after[0]]
        bare_def_len = before[1]
        bare_att = [before[2], after[2]]
        bare_att_len = before[3]

    # The attacker phase's extra generation, measured alone: the frozen defender's
    # sampled replies to one step's rewrites, as the attacker's reward function makes them.
    defender = load_policy("defender", resolve_spec(config.defender), "cpu")
    n_replies = config.group_size * config.seeds_per_step
    chats = [defender_prompts[i % len(defender_prompts)] for i in range(n_replies)]
    generate(defender, chats[:1], max_new_tokens=4, sample=True)  # warm-up
    reply_times = []
    for i in range(args.steps):
        start = time.perf_counter()
        generate(
            defender, chats, max_new_tokens=config.defender_max_new_tokens, sample=True, seed=i
        )
        reply_times.append(time.perf_counter() - start)
    reply = statistics.median(reply_times)

    rows = (
        ("defender", bare_def, magic.get("defender", []), bare_def_len),
        ("attacker", bare_att, magic.get("attacker", []), bare_att_len),
    )
    for role, bare_s, magic_s, bare_len in rows:  # bare_s: the runs before and after
        if not magic_s or not bare_s:
            print(f"  {role} phase: no steps recorded")
            continue
        b = statistics.median(s for run in bare_s for s in (run[1:] or run))
        m = _median_after_warmup(magic_s)
        ratio = m / b
        print(
            f"  {role} phase: MAGIC {m:.2f} s/step, bare GRPOTrainer {b:.2f} s/step: "
            f"{ratio:.2f}x (goal <= {GOAL}x): {_verdict(ratio)}"
        )
        print(
            f"    steps (s, warm-up first): MAGIC {', '.join(f'{s:.2f}' for s in magic_s)}; "
            f"bare (before, after) "
            f"{'; '.join(', '.join(f'{s:.2f}' for s in run) for run in bare_s)}"
        )
        print(
            f"    mean completion tokens per step: MAGIC "
            f"{', '.join(f'{x:.0f}' for x in magic_len.get(role, []))}; "
            f"bare {', '.join(f'{x:.0f}' for x in bare_len)}"
        )
        if role == "attacker":
            rest = (m - reply) / b
            print(
                f"    of which the frozen defender's {n_replies} sampled replies "
                f"(<= {config.defender_max_new_tokens} tokens) take {reply:.2f} s "
                f"(measured alone); without them: {rest:.2f}x: {_verdict(rest)}"
            )
    print(
        f"  not per step: defender phase set-up (the frozen attacker's greedy rewrites of "
        f"{config.num_seeds} seeds, once per phase, before step 1): {setup:.2f} s; "
        f"GRPO phases {', '.join(f'{k} {v:.1f} s' for k, v in phase_seconds.items())}"
    )
    print(f"  wall: bare {bare_wall:.0f} s, MAGIC {magic_wall:.0f} s")


if __name__ == "__main__":
    main()
