"""``arena train ...``: the training recipes (TRL) from the shell.

``arena train magic --attacker hf:tiny --defender hf:tiny --steps 60 --switch-every 15
--out runs/m1`` runs MAGIC's co-evolution (attacker SFT, then alternating GRPO); see
:mod:`arena.train.magic`. Re-running the same command on the same ``--out`` resumes a
killed run from its last saved step (``--save-every``), with each model's optimizer state.

``arena train rapo --model hf:tiny --out runs/r1`` runs RAPO (risk-scaled safe-reasoning
SFT, then GRPO on R + G); see :mod:`arena.train.rapo` and docs/rapo.md. The same
command on the same ``--out`` resumes after the last completed stage.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from arena.console import console, error_console

Progress = Callable[[int, int, str], None]


@contextmanager
def training_progress(name: str, out: Path, manifest: str, total: int | None) -> Iterator[Progress]:
    """A training command's progress bar, yielding the ``progress(done, total, what)``
    callback the trainers take; on Ctrl-C it says the folder keeps the progress (when it
    does). One place for the MAGIC, RAPO and KALE commands."""
    from rich.progress import BarColumn, MofNCompleteColumn, TimeElapsedColumn
    from rich.progress import Progress as Bar

    from arena.train.run_folder import kept_on_interrupt

    columns = (BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    text = "[progress.description]{task.description}"
    with kept_on_interrupt(out, manifest), Bar(text, *columns, console=error_console) as bar:
        task = bar.add_task(f"{name}: loading", total=total)

        def progress(done: int, total: int, what: str) -> None:
            bar.update(task, completed=done, total=total, description=f"{name}: {what}")

        yield progress


train_app = typer.Typer(
    help="Train agents (MAGIC co-evolution, RAPO safe reasoning) with TRL.", no_args_is_help=True
)


@train_app.command("magic")
def magic(
    out: Annotated[str, typer.Option(help="Run folder; the same folder resumes.")] = "runs/magic",
    attacker: Annotated[str, typer.Option(help="Initial attacker (hf:tiny, hf:PATH).")] = "hf:tiny",
    defender: Annotated[str, typer.Option(help="Initial defender (hf:tiny, hf:PATH).")] = "hf:tiny",
    steps: Annotated[int, typer.Option(help="GRPO steps in all.")] = 60,
    switch_every: Annotated[int, typer.Option(help="Steps per GRPO phase (K).")] = 15,
    switch_rule: Annotated[str, typer.Option(help="'fixed' or 'asr' (MAGIC's ASR-aware).")] = (
        "fixed"
    ),
    switch_high: Annotated[
        float, typer.Option(help="ASR rule: train the attacker when mean R_harm >= this.")
    ] = 0.90,
    switch_low: Annotated[
        float, typer.Option(help="ASR rule: train the defender when mean R_harm <= this.")
    ] = 0.80,
    switch_window: Annotated[int, typer.Option(help="ASR rule: moving-mean window.")] = 3,
    group_size: Annotated[int, typer.Option(help="GRPO group size G.")] = 4,
    seeds_per_step: Annotated[int, typer.Option(help="Seed prompts per step.")] = 2,
    beta: Annotated[float, typer.Option(help="KL coefficient (paper: 0).")] = 0.0,
    learning_rate: Annotated[float, typer.Option(help="GRPO learning rate.")] = 5e-5,
    epsilon: Annotated[float, typer.Option(help="PPO clip range (paper: 0.2).")] = 0.2,
    temperature: Annotated[float, typer.Option(help="Sampling temperature (paper: 1).")] = 1.0,
    max_new_tokens: Annotated[int, typer.Option(help="Attacker completion tokens.")] = 128,
    defender_max_new_tokens: Annotated[int, typer.Option(help="Defender tokens.")] = 64,
    sft_steps: Annotated[int, typer.Option(help="Phase-1 attacker SFT steps (0: skip).")] = 40,
    sft_learning_rate: Annotated[float, typer.Option(help="Phase-1 learning rate.")] = 1e-3,
    sft_batch_size: Annotated[int, typer.Option(help="Phase-1 batch size.")] = 8,
    seeds: Annotated[str, typer.Option(help="Seed pool (docs/seeds.md).")] = "builtin",
    num_seeds: Annotated[int, typer.Option(help="Training seeds drawn from the pool.")] = 32,
    eval_seeds: Annotated[int, typer.Option(help="Held-out seeds evaluated per phase.")] = 8,
    harmful_fraction: Annotated[float, typer.Option(help="Share of harmful seeds.")] = 0.5,
    judge: Annotated[str, typer.Option(help="Judge spec (rule = offline).")] = "rule",
    r_harm: Annotated[float, typer.Option(help="MAGIC r_harm (paper: 1.0).")] = 1.0,
    r_ref: Annotated[float, typer.Option(help="MAGIC r_ref (paper: 0.5).")] = 0.5,
    r_fmt: Annotated[float, typer.Option(help="MAGIC r_fmt, attacker only (paper: 0.5).")] = 0.5,
    prompt_style: Annotated[str, typer.Option(help="auto, paper or compact.")] = "auto",
    start_role: Annotated[str, typer.Option(help="First GRPO learner.")] = "defender",
    seed: Annotated[int, typer.Option(help="Seed of draws, sampling and init.")] = 0,
    bf16: Annotated[bool, typer.Option(help="bf16 training (GPU).")] = False,
    save_every: Annotated[
        int,
        typer.Option(help="Resumable checkpoint every N steps inside a phase (0: phase ends)."),
    ] = 5,
    tensorboard: Annotated[
        bool, typer.Option(help="Also log every step to OUT/tensorboard (needs tensorboard).")
    ] = False,
    use_vllm: Annotated[
        bool, typer.Option(help="GRPO generation through vLLM, colocated (needs vllm).")
    ] = False,
) -> None:
    """MAGIC co-evolution: attacker SFT, then alternating GRPO of attacker and defender."""
    from arena.train.config import MagicConfig

    config = MagicConfig(
        out=out,
        attacker=attacker,
        defender=defender,
        steps=steps,
        switch_every=switch_every,
        switch_rule=switch_rule,  # type: ignore[arg-type]  # validated by MagicConfig
        switch_high=switch_high,
        switch_low=switch_low,
        switch_window=switch_window,
        group_size=group_size,
        seeds_per_step=seeds_per_step,
        beta=beta,
        learning_rate=learning_rate,
        epsilon=epsilon,
        temperature=temperature,
        max_new_tokens=max_new_tokens,
        defender_max_new_tokens=defender_max_new_tokens,
        sft_steps=sft_steps,
        sft_learning_rate=sft_learning_rate,
        sft_batch_size=sft_batch_size,
        seeds=seeds,
        num_seeds=num_seeds,
        eval_seeds=eval_seeds,
        harmful_fraction=harmful_fraction,
        judge=judge,
        r_harm=r_harm,
        r_ref=r_ref,
        r_fmt=r_fmt,
        prompt_style=prompt_style,  # type: ignore[arg-type]
        start_role=start_role,  # type: ignore[arg-type]
        seed=seed,
        bf16=bf16,
        save_every=save_every,
        tensorboard=tensorboard,
        use_vllm=use_vllm,
    )
    from arena.train.magic import MANIFEST, train_magic

    with training_progress("magic", config.out_dir, MANIFEST, config.steps) as progress:
        manifest = train_magic(config, progress)
    last = manifest["phases"][-1]["index"] if manifest["phases"] else 0
    console.print(
        f"MAGIC run {manifest['status']}: {len(manifest['phases'])} phases in [bold]{out}[/bold]; "
        f"latest checkpoints hf:{out}/attacker/phase-{last} and hf:{out}/defender/phase-{last}; "
        f"per-step log {out}/log.csv"
    )


@train_app.command("rapo")
def rapo(
    out: Annotated[str, typer.Option(help="Run folder; the same folder resumes.")] = "runs/rapo",
    model: Annotated[str, typer.Option(help="Model to train (hf:tiny, hf:PATH).")] = "hf:tiny",
    complexities: Annotated[str, typer.Option(help="Attack complexities k, e.g. 0,1,2.")] = (
        "0,1,2"
    ),
    sentences_per_level: Annotated[int, typer.Option(help="Analysis sentences per level.")] = 1,
    length_tolerance: Annotated[int, typer.Option(help="Sentences off target for R = 1.")] = 0,
    min_safety_share: Annotated[float, typer.Option(help="Below: off-topic.")] = 0.5,
    r_scheme: Annotated[str, typer.Option(help="R table: 'issue' or 'paper'.")] = "issue",
    sft_steps: Annotated[int, typer.Option(help="Stage-1 SFT steps (0: skip).")] = 40,
    sft_learning_rate: Annotated[float, typer.Option(help="Stage-1 learning rate.")] = 2e-3,
    sft_batch_size: Annotated[int, typer.Option(help="Stage-1 batch size.")] = 8,
    steps: Annotated[int, typer.Option(help="Stage-2 GRPO steps (0: skip).")] = 16,
    group_size: Annotated[int, typer.Option(help="GRPO group size G.")] = 8,
    prompts_per_step: Annotated[int, typer.Option(help="Prompts per GRPO step.")] = 2,
    learning_rate: Annotated[float, typer.Option(help="GRPO learning rate.")] = 1e-4,
    beta: Annotated[float, typer.Option(help="KL coefficient.")] = 0.0,
    temperature: Annotated[float, typer.Option(help="Rollout temperature (paper: 1.2).")] = 1.0,
    top_p: Annotated[float, typer.Option(help="Rollout top-p (paper: 0.9).")] = 1.0,
    max_new_tokens: Annotated[int, typer.Option(help="Completion tokens.")] = 128,
    seeds: Annotated[str, typer.Option(help="Seed pool (docs/seeds.md).")] = "builtin",
    num_seeds: Annotated[int, typer.Option(help="Training seeds drawn from the pool.")] = 24,
    eval_seeds: Annotated[int, typer.Option(help="Held-out seeds evaluated per stage.")] = 8,
    probe_items: Annotated[int, typer.Option(help="Training prompts probed per stage.")] = 16,
    probe_samples: Annotated[int, typer.Option(help="Samples per probe prompt.")] = 4,
    judge: Annotated[str, typer.Option(help="Judge of G (rule = offline; guard:SPEC).")] = "rule",
    seed: Annotated[int, typer.Option(help="Seed of draws, sampling and init.")] = 0,
    bf16: Annotated[bool, typer.Option(help="bf16 training (GPU).")] = False,
) -> None:
    """RAPO: SFT on risk-scaled safety analyses, then GRPO on R (risk-aware) + G (general)."""
    from arena.sweep import parse_int_list
    from arena.train.rapo_config import RapoConfig

    config = RapoConfig(
        out=out,
        model=model,
        complexities=parse_int_list(complexities, "complexities"),
        sentences_per_level=sentences_per_level,
        length_tolerance=length_tolerance,
        min_safety_share=min_safety_share,
        r_scheme=r_scheme,  # type: ignore[arg-type]  # validated by RapoConfig
        sft_steps=sft_steps,
        sft_learning_rate=sft_learning_rate,
        sft_batch_size=sft_batch_size,
        steps=steps,
        group_size=group_size,
        prompts_per_step=prompts_per_step,
        learning_rate=learning_rate,
        beta=beta,
        temperature=temperature,
        top_p=top_p,
        max_new_tokens=max_new_tokens,
        seeds=seeds,
        num_seeds=num_seeds,
        eval_seeds=eval_seeds,
        probe_items=probe_items,
        probe_samples=probe_samples,
        judge=judge,
        seed=seed,
        bf16=bf16,
    )
    from arena.train.rapo import train_rapo
    from arena.train.run_folder import MANIFEST

    total = config.sft_steps + config.steps
    with training_progress("rapo", config.out_dir, MANIFEST, total) as progress:
        manifest = train_rapo(config, progress)
    saved = [s["checkpoint"] for s in manifest["stages"] if s.get("checkpoint")]
    evaluations = manifest["evaluations"]
    first, last = evaluations[0], evaluations[-1]
    line = ""
    if "reward" in first and "reward" in last:
        line = (
            f"; held-out R+G {first['reward']:+.2f} (untrained) -> {last['reward']:+.2f} "
            f"(stage {last['stage']})"
        )
    console.print(
        f"RAPO run {manifest['status']} in [bold]{out}[/bold]: checkpoints "
        f"{', '.join(f'hf:{out}/{c}' for c in saved) or 'none'}{line}; per-step log {out}/log.csv"
    )
