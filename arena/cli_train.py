"""``arena train ...``: the training recipes (TRL) from the shell.

``arena train magic --attacker hf:tiny --defender hf:tiny --steps 60 --switch-every 15
--out runs/m1`` runs MAGIC's co-evolution (attacker SFT, then alternating GRPO); see
:mod:`arena.train.magic`. Re-running the same command on the same ``--out`` resumes a
killed run from its last completed phase.
"""

from __future__ import annotations

from typing import Annotated

import typer

from arena.console import console, error_console

train_app = typer.Typer(help="Train agents (MAGIC co-evolution) with TRL.", no_args_is_help=True)


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
    group_size: Annotated[int, typer.Option(help="GRPO group size G.")] = 4,
    seeds_per_step: Annotated[int, typer.Option(help="Seed prompts per step.")] = 2,
    beta: Annotated[float, typer.Option(help="KL coefficient (paper: 0).")] = 0.0,
    learning_rate: Annotated[float, typer.Option(help="GRPO learning rate.")] = 5e-5,
    max_new_tokens: Annotated[int, typer.Option(help="Attacker completion tokens.")] = 128,
    defender_max_new_tokens: Annotated[int, typer.Option(help="Defender tokens.")] = 64,
    sft_steps: Annotated[int, typer.Option(help="Phase-1 attacker SFT steps (0: skip).")] = 40,
    sft_learning_rate: Annotated[float, typer.Option(help="Phase-1 learning rate.")] = 1e-3,
    seeds: Annotated[str, typer.Option(help="Seed pool: builtin or FILE[,FILE].")] = "builtin",
    num_seeds: Annotated[int, typer.Option(help="Training seeds drawn from the pool.")] = 32,
    eval_seeds: Annotated[int, typer.Option(help="Held-out seeds evaluated per phase.")] = 8,
    judge: Annotated[str, typer.Option(help="Judge spec (rule = offline).")] = "rule",
    prompt_style: Annotated[str, typer.Option(help="auto, paper or compact.")] = "auto",
    start_role: Annotated[str, typer.Option(help="First GRPO learner.")] = "defender",
    seed: Annotated[int, typer.Option(help="Seed of draws, sampling and init.")] = 0,
    bf16: Annotated[bool, typer.Option(help="bf16 training (GPU).")] = False,
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
        group_size=group_size,
        seeds_per_step=seeds_per_step,
        beta=beta,
        learning_rate=learning_rate,
        max_new_tokens=max_new_tokens,
        defender_max_new_tokens=defender_max_new_tokens,
        sft_steps=sft_steps,
        sft_learning_rate=sft_learning_rate,
        seeds=seeds,
        num_seeds=num_seeds,
        eval_seeds=eval_seeds,
        judge=judge,
        prompt_style=prompt_style,  # type: ignore[arg-type]
        start_role=start_role,  # type: ignore[arg-type]
        seed=seed,
        bf16=bf16,
    )
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    from arena.train.magic import train_magic

    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=error_console,
    ) as bar:
        task = bar.add_task("magic: loading", total=config.steps)

        def progress(done: int, total: int, what: str) -> None:
            bar.update(task, completed=done, total=total, description=f"magic: {what}")

        manifest = train_magic(config, progress)
    last = manifest["phases"][-1]["index"] if manifest["phases"] else 0
    console.print(
        f"MAGIC run {manifest['status']}: {len(manifest['phases'])} phases in [bold]{out}[/bold]; "
        f"latest checkpoints hf:{out}/attacker/phase-{last} and hf:{out}/defender/phase-{last}; "
        f"per-step log {out}/log.csv"
    )
