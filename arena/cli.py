"""The ``arena`` command line (typer).

Errors a user can cause (a wrong spec, a missing file, a malformed game) are printed as
one line, ``error: WHAT. Fix: HOW``, with exit status 2 and no traceback; see
:func:`main`.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from arena.cli_ds import ds_app
from arena.cli_kale import kale_app
from arena.cli_play import build_play_app
from arena.cli_sweep import sweep_app
from arena.cli_theory import theory_app
from arena.cli_tournament import register_tournament_commands
from arena.cli_train import train_app
from arena.console import console, error_console
from arena.runs import RunInterrupted
from envs.errors import ArenaError

try:  # typer >= 0.2x vendors click; older releases use the click package itself
    from typer._click.core import Abort, NoArgsIsHelpError, UsageError
    from typer._click.exceptions import ClickException
except ImportError:  # pragma: no cover
    from click.exceptions import (  # type: ignore[assignment]
        Abort,
        ClickException,
        NoArgsIsHelpError,
        UsageError,
    )

app = typer.Typer(
    name="arena",
    help="Pit agents against each other, train them, and check theorems against the runs.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(theory_app, name="theory")
app.add_typer(train_app, name="train")
app.add_typer(sweep_app, name="sweep")
app.add_typer(build_play_app(), name="play")
app.add_typer(kale_app, name="kale")
app.add_typer(ds_app, name="ds")
register_tournament_commands(app)
tiny_app = typer.Typer(
    help="The offline tiny model every LLM code path runs on.", no_args_is_help=True
)
app.add_typer(tiny_app, name="tiny")


@app.command()
def report(
    run_dir: Annotated[
        Path,
        typer.Argument(help="A run folder of `arena play`, `arena tournament` or `arena ds run`."),
    ],
    bootstrap: Annotated[
        int, typer.Option(help="Bootstrap replicates for a tournament's intervals.")
    ] = 200,
) -> None:
    """(Re)write a run's report: report.md (+ figures); a tournament also gets report.html."""
    from analysis.ds_report import is_ds_run, render_ds_report

    if is_ds_run(run_dir):
        console.print(f"report written to [bold]{render_ds_report(run_dir)[0]}[/bold]")
        return
    if (run_dir / "tournament.json").exists():
        from analysis.tournament_report import render_tournament_report

        paths = render_tournament_report(run_dir, bootstrap=bootstrap)
        console.print(f"report written to [bold]{paths.html}[/bold] and {paths.markdown}")
        return
    from analysis.play_report import render_play_report

    console.print(f"report written to [bold]{render_play_report(run_dir)}[/bold]")


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


def build_cli() -> Any:
    """The whole command tree as a (typer-vendored) click group."""
    return typer.main.get_command(app)


def _raise_interrupt(what: str, code: int) -> Callable[[int, Any], None]:
    def handler(signum: int, frame: Any) -> None:
        raise RunInterrupted(what, code)

    return handler


def main(argv: list[str] | None = None) -> None:
    """Entry point: every user error is one line on stderr, exit 2; no tracebacks.

    Click runs in non-standalone mode so that usage errors, Ctrl-C and SIGTERM reach
    this function instead of being printed as boxes or blank lines: Ctrl-C and SIGTERM
    raise :class:`~arena.runs.RunInterrupted`, which marks a run in progress ``aborted``
    (resumable with ``arena play --resume``) before the one-line message.
    """
    # transformers' own load/save bars would interleave with the rich progress bar.
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    previous: dict[signal.Signals, Any] = {}
    if threading.current_thread() is threading.main_thread():
        for signum, what, code in (
            (signal.SIGINT, "interrupted (Ctrl-C)", 130),
            (signal.SIGTERM, "terminated (SIGTERM)", 143),
        ):
            previous[signum] = signal.signal(signum, _raise_interrupt(what, code))
    try:
        exit_code = _run(argv)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    sys.exit(exit_code)


def _run(argv: list[str] | None) -> int:
    try:
        result = build_cli().main(args=argv, prog_name="arena", standalone_mode=False)
    except ArenaError as exc:
        _print_error(exc.one_line())
        return 2
    except RunInterrupted as exc:
        if exc.message is not None:
            _print_error(f"{exc.what}; {exc.message}")
        elif exc.run_folder is not None:
            _print_error(
                f"{exc.what}; the run is marked aborted with {exc.episodes} episodes kept. "
                f"Fix: resume it with `arena play --resume {exc.run_folder}`."
            )
        else:
            _print_error(f"{exc.what}; nothing was written.")
        return exc.exit_code
    except NoArgsIsHelpError as exc:
        console.print(exc.ctx.get_help() if exc.ctx else "", markup=False, highlight=False)
        return 0
    except UsageError as exc:
        where = exc.ctx.command_path if exc.ctx else "arena"
        message = exc.format_message().strip().rstrip(".")
        _print_error(f"{message}. Fix: see `{where} --help`.")
        return 2
    except ClickException as exc:
        _print_error(exc.format_message())
        return exc.exit_code
    except Abort:
        _print_error("aborted.")
        return 1
    except ValueError as exc:
        # theory/ raises ValueError subclasses with a one-line, fix-naming message.
        from theory.errors import TheoryError

        if not isinstance(exc, TheoryError):
            raise
        _print_error(str(exc))
        return 2
    return result if isinstance(result, int) else 0


def _print_error(message: str) -> None:
    error_console.print(f"error: {message}", markup=False, highlight=False, soft_wrap=True)


if __name__ == "__main__":
    main()
