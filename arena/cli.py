"""The ``arena`` command line (typer).

Errors a user can cause (a wrong spec, a missing file, a malformed game) are printed as
one line, ``error: WHAT. Fix: HOW``, with exit status 2 and no traceback; see
:func:`main`.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from arena.cli_theory import theory_app
from arena.console import console, error_console
from envs.attack_defense.verdicts import RewardConfig
from envs.errors import ArenaError

if TYPE_CHECKING:
    from arena.metrics import GroupSummary, Rate
    from arena.play import PlayConfig, SummaryRow

app = typer.Typer(
    name="arena",
    help="Pit agents against each other, train them, and check theorems against the runs.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(theory_app, name="theory")
tiny_app = typer.Typer(
    help="The offline tiny model every LLM code path runs on.", no_args_is_help=True
)
app.add_typer(tiny_app, name="tiny")


@app.command()
def play(
    env: Annotated[str, typer.Argument(help="Environment, e.g. attack_defense.")],
    attacker: Annotated[
        list[str],
        typer.Option("--attacker", "-a", help="Attacker spec; repeat to compare several."),
    ],
    defender: Annotated[str, typer.Option("--defender", "-d", help="Defender spec.")],
    episodes: Annotated[int, typer.Option(help="Episodes per attacker.")] = 200,
    seed: Annotated[int, typer.Option(help="Base seed: episode i uses seed+i.")] = 0,
    max_turns: Annotated[int, typer.Option(help="Turns per episode (1 = MAGIC's setting).")] = 1,
    batch_size: Annotated[int, typer.Option(help="Games stepped in lock-step.")] = 64,
    judge: Annotated[str, typer.Option(help="'rule' or 'guard:hf:PATH'.")] = "rule",
    seeds: Annotated[
        str, typer.Option(help="'builtin' or data files (HarmBench/JBB/WildJailbreak/AdvBench).")
    ] = "builtin",
    harmful_fraction: Annotated[float, typer.Option(help="Share of harmful seeds.")] = 0.5,
    controversial_as: Annotated[str, typer.Option(help="How 'Controversial' counts.")] = "unsafe",
    unparsable_as: Annotated[
        str, typer.Option(help="How unparsable judge output counts.")
    ] = "unsafe",
    request_label: Annotated[
        str, typer.Option(help="R_ref's request label: 'seed' (paper) or 'judge' (MAGIC code).")
    ] = "seed",
    reward_mode: Annotated[str, typer.Option(help="'final' (MAGIC) or 'per_turn'.")] = "final",
    r_harm: Annotated[float, typer.Option(help="MAGIC r_harm.")] = 1.0,
    r_ref: Annotated[float, typer.Option(help="MAGIC r_ref.")] = 0.5,
    r_fmt: Annotated[float, typer.Option(help="MAGIC r_fmt.")] = 0.5,
    runs_dir: Annotated[Path, typer.Option(help="Where run folders go.")] = Path("runs"),
    run_name: Annotated[
        str | None, typer.Option(help="Run folder name (default: timestamp).")
    ] = None,
    overwrite: Annotated[bool, typer.Option(help="Replace an existing run folder.")] = False,
    save: Annotated[bool, typer.Option(help="Write the run folder.")] = True,
) -> None:
    """Play attackers against a defender and print ASR / over-refusal / rewards."""
    from arena.play import PlayConfig, prepare, run, unique
    from envs.attack_defense.verdicts import JudgeSettings

    config = PlayConfig(
        attackers=unique(attacker),
        defender=defender,
        episodes=episodes,
        seed=seed,
        max_turns=max_turns,
        batch_size=batch_size,
        judge=judge,
        seeds=seeds,
        harmful_fraction=harmful_fraction,
        reward_mode=reward_mode,  # type: ignore[arg-type]
        reward=RewardConfig(
            r_harm=r_harm,
            r_ref=r_ref,
            r_fmt=r_fmt,
            request_label_source=request_label,  # type: ignore[arg-type]
            # the config dataclasses check these strings and name the flag to fix
            judge=JudgeSettings(
                controversial_as=controversial_as,  # type: ignore[arg-type]
                unparsable_as=unparsable_as,  # type: ignore[arg-type]
            ),
        ),
        env=env,
    )
    prepared = prepare(config)  # every input checked before the bar or any file appears
    total = episodes * len(config.attackers)
    with Progress(
        TextColumn("[bold]playing"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("episodes"),
        TimeRemainingColumn(),
        console=error_console,
        transient=True,
    ) as bar:
        task = bar.add_task("play", total=total)
        result = run(
            prepared,
            runs_dir=runs_dir if save else None,
            run_name=run_name,
            overwrite=overwrite,
            progress=lambda n: bar.advance(task, n),
        )
    console.print(_summary_table(result.rows, result.overall, config))
    if result.run_dir is not None:
        # The CLI is the composition root: it may call analysis/ (arena/ itself never does).
        from analysis.play_report import render_play_report

        console.print(f"Episodes and manifest written to [bold]{result.run_dir}[/bold]")
        try:
            report_path = render_play_report(result.run_dir)
        except Exception as exc:  # the run is complete; a report failure must not hide it
            _print_error(f"the report could not be written ({type(exc).__name__}: {exc}).")
        else:
            console.print(f"Report: [bold]{report_path}[/bold]")


@app.command()
def report(
    run_dir: Annotated[Path, typer.Argument(help="A run folder written by `arena play`.")],
) -> None:
    """(Re)write a play run's report.md and figure from its summary and manifest."""
    from analysis.play_report import render_play_report

    console.print(f"report written to [bold]{render_play_report(run_dir)}[/bold]")


def _summary_table(rows: list[SummaryRow], overall: GroupSummary, config: PlayConfig) -> Table:
    from arena.play import SummaryRow

    settings = config.reward.judge
    table = Table(
        title=(
            f"attack_defense_v0 vs {config.defender} (judge {config.judge}; "
            f"controversial→{settings.controversial_as}, unparsable→{settings.unparsable_as})"
        ),
        caption=(
            "ASR on harmful seeds and over-refusal on benign seeds with 95% Wilson intervals; "
            "refusals on harmful seeds; attacker format compliance; mean rewards per role"
        ),
        pad_edge=False,
    )
    columns = ("attack strategy", "n", "ASR", "over-refusal", "refused", "format", "R_A", "R_D")
    for header in columns:
        if header == "attack strategy":
            table.add_column(header, justify="left", overflow="fold", min_width=18)
        else:
            table.add_column(header, justify="right")
    top_level = [row for row in rows if row.parent is None]
    shown = [*rows, SummaryRow(overall)] if len(top_level) > 1 else rows
    for row in shown:
        summary = row.summary
        table.add_row(
            f"  ↳ {summary.group}" if row.parent else summary.group,
            str(summary.episodes),
            _rate_with_interval(summary.attack_success),
            _rate_with_interval(summary.over_refusal),
            _percent(summary.refusal_on_harmful),
            _percent(summary.format_ok),
            f"{summary.mean_reward_attacker:+.2f}",
            f"{summary.mean_reward_defender:+.2f}",
            style="bold" if summary is overall else ("dim" if row.parent else None),
        )
    return table


def _percent(rate: Rate) -> str:
    return f"{rate.value:.1%}" if rate.trials else "—"


def _rate_with_interval(rate: Rate) -> str:
    if not rate.trials:
        return "—"
    low, high = rate.wilson()
    return f"{rate.value:.1%} ({low:.0%}–{high:.0%})"


@app.command("agents")
def list_agents() -> None:
    """List agent kinds and the scripted strategies."""
    from agents.registry import known_kinds

    table = Table(title="agent kinds (spec = KIND:ARGUMENT?key=value)")
    table.add_column("kind")
    table.add_column("what it is")
    for kind in known_kinds():
        table.add_row(kind.name, kind.help)
    console.print(table)
    try:
        from agents.scripted import describe_scripted
    except ImportError:
        return
    console.print(describe_scripted())


@app.command("envs")
def list_envs() -> None:
    """List the environments."""
    from envs import ENVIRONMENTS

    for name, module in sorted(ENVIRONMENTS.items()):
        console.print(f"{name}  ({module})")


@tiny_app.command("build")
def tiny_build(
    path: Annotated[
        Path | None, typer.Option(help="Where to save it (default: ARENA_HOME).")
    ] = None,
    family: Annotated[str, typer.Option(help="'qwen2' or 'llama'.")] = "qwen2",
    seed: Annotated[int, typer.Option(help="Seed of the random initialisation.")] = 0,
    force: Annotated[bool, typer.Option(help="Rebuild even if it exists.")] = False,
) -> None:
    """Build (once) the tiny random-init model and its locally trained tokenizer."""
    from agents.tiny import ensure_tiny_model

    if family != "qwen2" and family != "llama":
        raise ArenaError(f"Unknown tiny model family {family!r}.", "use --family qwen2 or llama.")
    built = ensure_tiny_model(
        path, family="llama" if family == "llama" else "qwen2", seed=seed, force=force
    )
    console.print(f"tiny model at {built}")


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the app; user errors become one line on stderr and exit 2."""
    # transformers' own load/save bars would interleave with the rich progress bar.
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    try:
        # Standalone mode: typer/click print usage errors themselves and exit 2.
        app(args=argv, prog_name="arena")
    except ArenaError as exc:
        _print_error(exc.one_line())
        sys.exit(2)
    except KeyboardInterrupt:
        _print_error("interrupted; a run folder in progress is kept as .NAME.partial")
        sys.exit(130)
    except ValueError as exc:
        # theory/ raises ValueError subclasses with a one-line, fix-naming message.
        from theory.errors import TheoryError

        if not isinstance(exc, TheoryError):
            raise
        _print_error(str(exc))
        sys.exit(2)


def _print_error(message: str) -> None:
    error_console.print(f"error: {message}", markup=False, highlight=False, soft_wrap=True)


if __name__ == "__main__":
    main()
