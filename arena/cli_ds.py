"""``arena ds ...``: the decide/sample experiments (which training signal moves which part).

Commands are registered on :data:`ds_app`; see ``docs/ds.md``.
"""

from __future__ import annotations

from dataclasses import fields, replace
from pathlib import Path
from typing import Annotated, Any

import typer

from arena.ds.config import LLMSettings, TabularSettings

ds_app = typer.Typer(
    help="Decide/sample: RL vs SFT, gradient attribution by component, swaps and sweeps.",
    no_args_is_help=True,
)


def _defaults(name: str) -> str:
    """ "tabular X, hf Y": the two policies' defaults of setting ``name``, read from the
    settings classes so ``--help`` cannot drift from what a run uses (it once said hf
    L = 4 while runs used 3)."""

    def show(value: Any) -> str:
        return ",".join(str(v) for v in value) if isinstance(value, tuple) else str(value)

    return (
        f"tabular {show(getattr(TabularSettings(), name))}, hf {show(getattr(LLMSettings(), name))}"
    )


def _floats(text: str | None, flag: str) -> tuple[float, ...] | None:
    from envs.errors import ArenaError

    if text is None:
        return None
    if not text.strip():
        return ()
    try:
        return tuple(float(x) for x in text.split(","))
    except ValueError as exc:
        raise ArenaError(
            f"{flag} must be numbers separated by commas, got {text!r}.",
            f"pass e.g. {flag} 0.5,0.8.",
        ) from exc


def _ints(text: str | None, flag: str) -> tuple[int, ...] | None:
    values = _floats(text, flag)
    return None if values is None else tuple(int(v) for v in values)


@ds_app.command("run")
def run_command(
    out: Annotated[Path, typer.Option(help="Run folder to write (e.g. runs/d1).")],
    policy: Annotated[
        str, typer.Option(help="'tabular' (the claims' toy) or 'hf:PATH_OR_TINY' (a causal LM).")
    ] = "tabular",
    train: Annotated[
        str, typer.Option(help="Methods: any of rl, rl-nokl, sft.")
    ] = "rl,rl-nokl,sft",
    steps: Annotated[
        int | None, typer.Option(help=f"Training steps per method ({_defaults('steps')}).")
    ] = None,
    seeds: Annotated[
        int | None, typer.Option(help=f"Runs per method ({_defaults('seeds')}); ds.t4 needs 5.")
    ] = None,
    length: Annotated[
        int | None,
        typer.Option(
            help=f"Sampling tokens per attempt, L ({_defaults('length')}); the manifest's "
            "config.tabular.length or config.llm.length."
        ),
    ] = None,
    beta: Annotated[float | None, typer.Option(help="KL coefficient of 'rl'.")] = None,
    lr: Annotated[float | None, typer.Option(help="Step size (tabular: plain SGD).")] = None,
    rho: Annotated[float | None, typer.Option(help="Verifier hint accuracy.")] = None,
    k_max: Annotated[int | None, typer.Option(help="Most attempts per episode.")] = None,
    batch: Annotated[int | None, typer.Option(help="Episodes (or demos) per step.")] = None,
    kl_estimator: Annotated[str | None, typer.Option(help="'exact' or 'k3'.")] = None,
    optimizer: Annotated[str | None, typer.Option(help="'sgd' or 'adam' (tabular).")] = None,
    rho_sweep: Annotated[
        str | None, typer.Option(help="ρ values to sweep ('' for none; tabular).")
    ] = None,
    beta_sweep: Annotated[
        str | None, typer.Option(help="β values to sweep ('' for none; tabular).")
    ] = None,
    lengths: Annotated[
        str | None,
        typer.Option(help=f"L values of the attribution measurement ({_defaults('lengths')})."),
    ] = None,
    eval_episodes: Annotated[
        int | None, typer.Option(help=f"Episodes per evaluation ({_defaults('eval_episodes')}).")
    ] = None,
    account_every: Annotated[
        int | None, typer.Option(help="hf: split gradients by component every N steps (1).")
    ] = None,
    seed: Annotated[int, typer.Option(help="Run seed.")] = 0,
    overwrite: Annotated[bool, typer.Option(help="Replace an existing --out.")] = False,
    report: Annotated[bool, typer.Option(help="Write report.md and figures.")] = True,
) -> None:
    """Train RL (± KL) and SFT from the same start, measure p, a, 1−b in and out of
    distribution, attribute gradients by component, and feed the DS claims."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    from arena.console import console, error_console
    from arena.ds.config import RunConfig
    from arena.ds.experiment import run

    given: dict[str, Any] = {
        "steps": steps,
        "seeds": seeds,
        "length": length,
        "beta": beta,
        "lr": lr,
        "rho": rho,
        "k_max": k_max,
        "batch": batch,
        "kl_estimator": kl_estimator,
        "optimizer": optimizer,
        "eval_episodes": eval_episodes,
        "rho_sweep": _floats(rho_sweep, "--rho-sweep"),
        "beta_sweep": _floats(beta_sweep, "--beta-sweep"),
        "lengths": _ints(lengths, "--lengths"),
        "account_every": account_every,
    }
    settings_cls: Any = TabularSettings if policy == "tabular" else LLMSettings
    names = {f.name for f in fields(settings_cls)}
    chosen = {k: v for k, v in given.items() if v is not None and k in names}
    ignored = sorted(k for k, v in given.items() if v is not None and k not in names)
    settings = replace(settings_cls(), **chosen)
    methods = tuple(m.strip() for m in train.split(",") if m.strip())
    if policy == "tabular":
        config = RunConfig(policy=policy, train=methods, seed=seed, tabular=settings)
    else:
        config = RunConfig(policy=policy, train=methods, seed=seed, llm=settings)
    if ignored:
        error_console.print(f"note: {', '.join(ignored)} do not apply to --policy {policy}")
    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=error_console,
        transient=True,
    ) as bar:
        tasks: dict[str, Any] = {}

        def progress(what: str, done: int, total: int) -> None:
            if what not in tasks:
                tasks[what] = bar.add_task(what, total=total)
            bar.update(tasks[what], completed=done, total=total)

        folder = run(config, out, overwrite=overwrite, progress=progress)
    console.print(f"run written to [bold]{folder}[/bold]")
    if report:
        from analysis.ds_report import render_ds_report

        paths = render_ds_report(folder)
        console.print(f"report: {paths[0]}")
    console.print(f"claims: arena theory check --run {folder}")
