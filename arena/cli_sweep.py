"""``arena sweep ...``: measured sweeps that feed the theory's empirical checks.

``arena sweep rapo --model hf:tiny --ks 0,1,2,3 --ts 0,2,4,8 --trials 20 --out
runs/r-sweep`` measures a model's refusal rate over attack complexity k and reasoning
budget t (:mod:`arena.sweep`); ``arena theory check --run runs/r-sweep`` then checks
RAPO's claims on the records.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from arena.console import console, error_console

sweep_app = typer.Typer(
    help="Measured sweeps (RAPO's k × t refusal rates) for the claims' empirical checks.",
    no_args_is_help=True,
)


@sweep_app.command("rapo")
def rapo(
    model: Annotated[str, typer.Option(help="Model spec (hf:tiny, hf:PATH, ...).")] = "hf:tiny",
    ks: Annotated[str, typer.Option(help="Attack complexities k (combined strategies).")] = (
        "0,1,2,3"
    ),
    ts: Annotated[str, typer.Option(help="Reasoning budgets t (prefilled sentences).")] = (
        "0,2,4,8"
    ),
    trials: Annotated[int, typer.Option(help="Trials per (k, t) cell.")] = 5,
    out: Annotated[Path, typer.Option(help="Run folder to write.")] = Path("runs/rapo-sweep"),
    judge: Annotated[str, typer.Option(help="Judge spec (rule = offline).")] = "rule",
    seeds: Annotated[str, typer.Option(help="Seed pool (docs/seeds.md).")] = "builtin",
    seed: Annotated[int, typer.Option(help="Seed of prompts, strategies and sampling.")] = 0,
    max_new_tokens: Annotated[int, typer.Option(help="Tokens the model adds.")] = 48,
    temperature: Annotated[float, typer.Option(help="Sampling temperature (0: greedy).")] = 1.0,
    overwrite: Annotated[bool, typer.Option(help="Replace an existing --out.")] = False,
) -> None:
    """Refusal rate per (k, t): k combined attack strategies, t safe-reasoning sentences."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    from arena.sweep import SweepConfig, parse_int_list, run_rapo_sweep

    config = SweepConfig(
        model=model,
        ks=parse_int_list(ks, "ks"),
        ts=parse_int_list(ts, "ts"),
        trials=trials,
        seed=seed,
        judge=judge,
        seeds=seeds,
        max_new_tokens=max_new_tokens,
        temperature=temperature,
    )
    config.validate()
    # Started at the first progress report, after the model has loaded: an error while
    # loading stays the one line it is, with no half-drawn bar above it.
    bar = Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=error_console,
    )
    task = bar.add_task("rapo sweep: generating", total=None)

    def progress(done: int, total: int) -> None:
        if not bar.live.is_started:
            bar.start()
        bar.update(task, completed=done, total=total)

    try:
        result = run_rapo_sweep(config, out, overwrite=overwrite, progress=progress)
    finally:
        bar.stop()
    table = Table(title=f"Refusal rate per (k, t): {model}, {trials} trials per cell")
    table.add_column("k", justify="right")
    for t in config.ts:
        table.add_column(f"t={t}", justify="right")
    for k in config.ks:
        cells = []
        for t in config.ts:
            rate = result.rates[k, t]
            low, high = rate.wilson()
            cells.append(f"{rate.value:.2f} [{low:.2f}, {high:.2f}]")
        table.add_row(str(k), *cells)
    console.print(table)
    console.print(
        f"{len(result.records)} records in [bold]{result.run_dir}[/bold]; check RAPO's claims "
        f"with `arena theory check --run {result.run_dir}`"
    )
