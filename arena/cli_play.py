"""``arena play ENV``: one command per registered environment, flags built from its config.

Each environment module declares its config dataclass (:class:`~envs.game_spec.GameSpec`);
this module turns the dataclass fields into click options, the way TRL's
``HfArgumentParser`` turns training configs into flags, so a new environment or a new
setting needs no CLI code. Nested dataclasses flatten (``reward.r_harm`` → ``--r-harm``);
``int``/``float``/``str``/``bool``/``Literal`` fields and tuples of numbers
(``--budgets 0,2,4``) become flags; anything else is set with ``--env-config FILE.json``
or from Python. Seats become repeatable agent options (``--attacker/-a``).

Only flags the user gives are passed on, so the dataclass defaults stay the single
source of defaults (and are shown in ``--help``).
"""

from __future__ import annotations

import dataclasses
import enum
import inspect
import json
import types
import typing
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table
from typer.core import TyperGroup

from arena.console import console, error_console
from envs import ALIASES, canonical_name, load_game
from envs.errors import ArenaError
from envs.game_spec import GameSpec, SummaryTable, field_help, flat_fields

_RESERVED_SHORT = {"h"}


@dataclasses.dataclass(frozen=True)
class _Flag:
    """One config field as a CLI flag: its parameter and how to read its value back."""

    field: str
    parameter: inspect.Parameter
    parse: typing.Callable[[Any], Any]


def _tuple_parser(kind: type, flag: str) -> typing.Callable[[Any], Any]:
    def parse(text: Any) -> tuple[Any, ...]:
        parts = [p.strip() for p in str(text).split(",") if p.strip()]
        try:
            return tuple(kind(p) for p in parts)
        except ValueError:
            raise ArenaError(
                f"{flag} {text!r} is not a comma-separated list of {kind.__name__} values.",
                f"write e.g. {flag} 0,2,4.",
            ) from None

    return parse


def _unwrap_optional(tp: Any) -> Any:
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        return args[0] if len(args) == 1 else None
    return tp


def _default_text(f: dataclasses.Field[Any]) -> str:
    if f.default is not dataclasses.MISSING:
        value: Any = f.default
    elif f.default_factory is not dataclasses.MISSING:
        value = f.default_factory()
    else:
        return ""
    if value is None:
        return ""
    if isinstance(value, tuple):
        value = ",".join(str(v) for v in value)
    return f" (default: {value})"


def _config_flags(game: GameSpec, taken: set[str]) -> list[_Flag]:
    """A flag per config field that a command line can express (see module docstring)."""
    flags: list[_Flag] = []
    for name, (f, declared) in flat_fields(game.config_class).items():
        tp = _unwrap_optional(declared)
        flag = str(f.metadata.get("flag", "--" + name.replace("_", "-")))
        help_text = (field_help(f) or game.flag_help.get(name, "")) + _default_text(f)
        parse: typing.Callable[[Any], Any] = lambda v: v  # noqa: E731
        decls: list[str] = [flag]
        annotation: Any
        origin = typing.get_origin(tp)
        if origin is typing.Literal:
            choices = [str(a) for a in typing.get_args(tp)]
            choice_type: Any = enum.Enum  # a choice type made at run time
            annotation = choice_type(f"{name}_choices", {c: c for c in choices}, type=str)
            parse = lambda v: v.value if isinstance(v, enum.Enum) else v  # noqa: E731
        elif origin is tuple:
            args = [a for a in typing.get_args(tp) if a is not Ellipsis]
            if len(args) != 1 or args[0] not in (int, float):
                continue
            annotation = str
            parse = _tuple_parser(args[0], flag)
            if "comma-separated" not in help_text:
                help_text = f"{help_text} (comma-separated)".strip()
        elif tp is bool:
            annotation = bool
            decls = [f"{flag}/--no-{flag.removeprefix('--')}"]
        elif tp in (int, float, str):
            annotation = tp
        else:
            continue  # e.g. a tuple of strategy objects: set it in Python or --env-config
        if name in taken:
            raise TypeError(f"config field {name!r} of {game.name} clashes with a play option")
        option = typer.Option(*decls, help=help_text, show_default=False)
        parameter = inspect.Parameter(
            name,
            inspect.Parameter.KEYWORD_ONLY,
            default=None,
            annotation=Annotated[annotation | None, option],
        )
        flags.append(_Flag(name, parameter, parse))
    return flags


def _seat_parameters(game: GameSpec) -> list[inspect.Parameter]:
    initials = [seat[0] for seat in game.seats]
    parameters = []
    for seat in game.seats:
        decls = [f"--{seat.replace('_', '-')}"]
        if initials.count(seat[0]) == 1 and seat[0] not in _RESERVED_SHORT:
            decls.append(f"-{seat[0]}")
        option = typer.Option(
            *decls, help=f"Agent spec for the {seat} seat; repeat to compare several."
        )
        parameters.append(
            inspect.Parameter(
                f"seat_{seat}",
                inspect.Parameter.KEYWORD_ONLY,
                default=None,
                annotation=Annotated[list[str] | None, option],
            )
        )
    return parameters


def _common_parameters(game: GameSpec) -> list[inspect.Parameter]:
    def param(
        name: str, annotation: Any, default: Any, *decls: str, help: str
    ) -> inspect.Parameter:
        option = typer.Option(*decls, help=help)
        return inspect.Parameter(
            name, inspect.Parameter.KEYWORD_ONLY, default=default,
            annotation=Annotated[annotation, option],
        )  # fmt: skip

    parameters = [
        param("episodes", int, 200, "--episodes", help="Episodes per matchup (one spec per seat)."),
        param("seed", int, 0, "--seed", help="Run seed; episode i uses seed+i."),
        param("first_episode", int, 0, "--first-episode",
              help="Index of the first episode: plays seeds seed+N.. (a chunk of a run)."),
        param("batch_size", int, 64, "--batch-size", help="Games stepped in lock-step."),
        param("env_config", Path | None, None, "--env-config",
              help="JSON file of environment settings (flags override it)."),
        param("runs_dir", Path, Path("runs"), "--runs-dir", help="Where run folders go."),
        param("run_name", str | None, None, "--run-name",
              help="Run folder name (default: timestamp)."),
        param("overwrite", bool, False, "--overwrite", help="Replace an existing run folder."),
        param("save", bool, True, "--save/--no-save", help="Write the run folder."),
    ]  # fmt: skip
    if game.judged:
        parameters.insert(
            3,
            param("judge", str, "rule", "--judge",
                  help="'rule' (offline) or 'guard:hf:PATH' (a guard model)."),
        )  # fmt: skip
    return parameters


def _read_env_config(path: Path | None) -> dict[str, Any]:
    if path is None:
        return {}
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ArenaError(f"--env-config file {str(path)!r} does not exist.",
                         "pass the path of a JSON file of settings.") from None  # fmt: skip
    except ValueError as exc:
        raise ArenaError(f"--env-config file {str(path)!r} is not valid JSON ({exc}).",
                         'write a JSON object such as {"max_turns": 2}.') from None  # fmt: skip
    if not isinstance(data, dict):
        raise ArenaError(f"--env-config file {str(path)!r} holds no JSON object.",
                         'write a JSON object such as {"max_turns": 2}.')  # fmt: skip
    return data


def make_game_command(game: GameSpec) -> typing.Callable[..., None]:
    """A typer command function for ``game`` with a synthesised signature."""
    seat_parameters = _seat_parameters(game)
    common = _common_parameters(game)
    flags = _config_flags(game, {p.name for p in [*seat_parameters, *common]})

    def command(**values: Any) -> None:
        from arena.play import PlayConfig

        settings = _read_env_config(values.pop("env_config"))
        for flag in flags:
            value = values.pop(flag.field)
            if value is not None:
                settings[flag.field] = flag.parse(value)
        seats = {seat: list(values.pop(f"seat_{seat}") or []) for seat in game.seats}
        config = PlayConfig(
            env=game.name,
            seats=seats,
            episodes=values["episodes"],
            seed=values["seed"],
            first_episode=values["first_episode"],
            batch_size=values["batch_size"],
            judge=values.get("judge", "rule"),
            env_config=settings,
        )
        run_play(
            config,
            runs_dir=values["runs_dir"] if values["save"] else None,
            run_name=values["run_name"],
            overwrite=values["overwrite"],
        )

    parameters = [*seat_parameters, *common, *(flag.parameter for flag in flags)]
    command.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    command.__annotations__ = {p.name: p.annotation for p in parameters}
    seats = " ".join(f"--{s.replace('_', '-')} SPEC" for s in game.seats)
    command.__doc__ = (
        f"{game.description} Play {seats} (repeat a seat option to compare agents); print "
        "the game's summary table and write a run folder."
    )
    return command


class _PlayGroup(TyperGroup):
    """Unknown environment names get our one-line error listing the environments."""

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        command = super().get_command(ctx, cmd_name)
        if command is None and not cmd_name.startswith("-"):
            canonical_name(cmd_name)  # raises the ArenaError naming every environment
        return command


def build_play_app() -> typer.Typer:
    """``arena play``: one sub-command per environment (full names hidden, aliases shown)."""
    play_app = typer.Typer(
        cls=_PlayGroup,
        help="Play agents against each other in any environment (`arena envs` lists them; "
        "`arena play ENV --help` lists that game's flags).",
        invoke_without_command=True,
        no_args_is_help=False,
    )

    @play_app.callback()
    def play_callback(
        ctx: typer.Context,
        resume: Annotated[
            Path | None,
            typer.Option(help="Continue an aborted run (runs/NAME): plays only what it lacks."),
        ] = None,
    ) -> None:
        if ctx.invoked_subcommand is not None:
            if resume is not None:
                raise ArenaError(
                    "--resume takes every setting from the run, so it takes no environment.",
                    "run `arena play --resume runs/NAME` alone.",
                )
            return
        if resume is None:
            raise ArenaError(
                "Missing environment: `arena play` needs the game to play.",
                f"run `arena play ENV ...` with ENV one of {', '.join(sorted(ALIASES))} "
                "(`arena play ENV --help` lists its flags), or `arena play --resume runs/NAME`.",
            )
        from arena.play import prepare_resume

        prepared, writer, done = prepare_resume(resume)
        error_console.print(f"resuming {writer.destination}: {len(done)} episodes kept")
        _play_with_progress(prepared, writer=writer, done=done)

    for alias, full in sorted(ALIASES.items()):
        game = load_game(full)
        short = game.description
        play_app.command(alias, help=None, short_help=short)(make_game_command(game))
        play_app.command(full, hidden=True)(make_game_command(game))
    return play_app


def run_play(config: Any, *, runs_dir: Path | None, run_name: str | None, overwrite: bool) -> None:
    from arena.play import prepare

    prepared = prepare(config)  # every input checked before the bar or any file appears
    _play_with_progress(prepared, runs_dir=runs_dir, run_name=run_name, overwrite=overwrite)


def _play_with_progress(prepared: Any, **kwargs: Any) -> None:
    from arena.play import run, total_episodes

    for warning in prepared.warnings:
        error_console.print(f"warning: {warning}", markup=False, highlight=False, soft_wrap=True)
    total = total_episodes(prepared, len(kwargs.get("done", ())))
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
        result = run(prepared, progress=lambda n: bar.advance(task, n), **kwargs)
    console.print(rich_table(result.summary.table))
    if result.run_dir is not None:
        # The CLI is the composition root: it may call analysis/ (arena/ itself never does).
        from analysis.play_report import render_play_report

        console.print(f"Episodes and manifest written to [bold]{result.run_dir}[/bold]")
        try:
            report_path = render_play_report(result.run_dir)
        except Exception as exc:  # the run is complete; a report failure must not hide it
            error_console.print(
                f"error: the report could not be written ({type(exc).__name__}: {exc}).",
                markup=False,
            )
        else:
            console.print(f"Report: [bold]{report_path}[/bold]")


def rich_table(summary: SummaryTable) -> Table:
    table = Table(title=summary.title, caption=summary.caption or None, pad_edge=False)
    for i, header in enumerate(summary.columns):
        if i == 0:
            table.add_column(header, justify="left", overflow="fold", min_width=12)
        else:
            table.add_column(header, justify="right" if i < len(summary.columns) - 1 else "left")
    for row, style in zip(summary.rows, summary.styles, strict=True):
        table.add_row(*row, style=style)
    return table
