"""``arena tournament``, ``arena replay`` and ``arena store``: the CLI over tournaments.

::

    arena tournament attack_defense --attackers scripted:role-play,scripted:base64 \\
        --defenders scripted:keyword-filter,hf:tiny --episodes 100 --out runs/t1
    arena tournament runs/t1 --add-defender hf:runs/m1/defender/phase-4   # new cells only
    arena tournament runs/t1                                              # resume
    arena report runs/t1                                                  # report.html + .md
    arena replay runs/t1 3:17                                             # cell 3, episode 17
    arena store runs/t1 --export results.parquet
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from arena.console import console, error_console
from arena.runs import RunInterrupted
from envs.errors import ArenaError

SpecList = Annotated[
    list[str] | None,
    typer.Option(help="Agent specs, comma-separated or repeated."),
]


def _specs(values: list[str] | None) -> list[str]:
    from arena.tournament import split_specs

    out: list[str] = []
    for value in values or []:
        out.extend(split_specs(value))
    return list(dict.fromkeys(out))


def _seat_options(
    generic: list[str] | None, named: dict[str, list[str] | None], what: str
) -> dict[str, list[str]]:
    """``--attackers A`` and ``--seat attacker=A`` both name a seat's agents."""
    seats: dict[str, list[str]] = {}
    for seat, values in named.items():
        if values:
            seats.setdefault(seat, []).extend(_specs(values))
    for item in generic or []:
        seat, sep, specs = item.partition("=")
        if not sep or not seat.strip() or not specs.strip():
            raise ArenaError(
                f"{what} {item!r} is not SEAT=SPEC[,SPEC...].",
                f"write e.g. {what} player_0=tabular:uniform.",
            )
        seats.setdefault(seat.strip(), []).extend(_specs([specs]))
    return {seat: list(dict.fromkeys(specs)) for seat, specs in seats.items()}


def tournament(
    target: Annotated[
        str,
        typer.Argument(help="An environment (starts a tournament) or a tournament folder."),
    ],
    attackers: SpecList = None,
    defenders: SpecList = None,
    players: Annotated[
        list[str] | None,
        typer.Option(help="Round robin roster (symmetric games), comma-separated."),
    ] = None,
    seat: Annotated[
        list[str] | None, typer.Option(help="SEAT=SPEC[,SPEC...] for games with other seats.")
    ] = None,
    add_attacker: SpecList = None,
    add_defender: SpecList = None,
    add_player: SpecList = None,
    add: Annotated[list[str] | None, typer.Option(help="SEAT=SPEC to add to a seat.")] = None,
    drop: Annotated[
        list[str] | None, typer.Option(help="SEAT=SPEC to drop (its episodes stay stored).")
    ] = None,
    episodes: Annotated[
        int | None,
        typer.Option(
            help="Episodes per cell (default 100). On an existing tournament, a larger "
            "number plays the extra episodes in every cell."
        ),
    ] = None,
    out: Annotated[Path | None, typer.Option(help="The tournament folder to create.")] = None,
    seed: Annotated[int, typer.Option(help="Run seed; episode i of every cell plays seed+i.")] = 0,
    batch_size: Annotated[int, typer.Option(help="Games in flight at once.")] = 64,
    judge: Annotated[str, typer.Option(help="'rule' or guard:hf:PATH (judged games).")] = "rule",
    env_config: Annotated[
        Path | None, typer.Option(help="JSON file with the environment's settings.")
    ] = None,
    agent_timeout: Annotated[
        float | None, typer.Option(help="Seconds an agent may take per batched call.")
    ] = None,
    self_play: Annotated[
        bool, typer.Option(help="Round robin: also i vs i (the meta-game's diagonal).")
    ] = True,
    retry_failed: Annotated[bool, typer.Option(help="Play failed episodes again.")] = False,
    adaptive: Annotated[
        bool,
        typer.Option(
            help="ResponseGraphUCB: after --min-episodes per cell, play only where the "
            "ranking is unresolved (--episodes is then the per-cell cap)."
        ),
    ] = False,
    adaptive_delta: Annotated[
        float, typer.Option(help="Adaptive: probability the response graph is wrong.")
    ] = 0.1,
    min_episodes: Annotated[int, typer.Option(help="Adaptive: episodes per cell first.")] = 10,
    executor: Annotated[
        str, typer.Option(help="inprocess (default) or ray (the `distributed` extra).")
    ] = "inprocess",
    workers: Annotated[int, typer.Option(help="Ray executor: actors (each loads the models).")] = 2,
    max_episodes: Annotated[
        int | None, typer.Option(help="Stop after this many episodes (resume later).")
    ] = None,
    report: Annotated[bool, typer.Option(help="Write report.html/.md when done.")] = True,
    bootstrap: Annotated[int, typer.Option(help="Bootstrap replicates in the report.")] = 200,
) -> None:
    """Play agents × seats × episode seeds into a resumable store, then write the report.

    Cross-play pairs every attacker with every defender (MAGIC's cross-play table);
    --players plays a round robin of a symmetric game. Run it again on the folder to
    resume, or with --add-SEAT to play only the new agent's cells.
    """
    import json

    from arena.tournament import (
        TournamentSpec,
        create,
        discard_unplayed,
        extend_episodes,
        first_missing,
        load_spec,
        run_tournament,
        spec_path,
    )

    folder = Path(target)
    additions = _seat_options(
        add,
        {"attacker": add_attacker, "defender": add_defender, "players": add_player},
        "--add",
    )
    drops = _seat_options(drop, {}, "--drop")
    first_new: Path | None = None
    fresh = False  # whether this command creates the folder's tournament
    if (folder / "tournament.json").exists():
        if attackers or defenders or players or seat:
            raise ArenaError(
                f"{target!r} is already a tournament; rosters are changed with --add-SEAT.",
                f"e.g. arena tournament {target} --add-defender SPEC.",
            )
        if episodes is not None:
            extend_episodes(folder, episodes)
    else:
        if folder.exists() and folder.is_dir() and any(folder.iterdir()):
            raise ArenaError(
                f"{target!r} is a folder but not a tournament (no tournament.json).",
                "pass an environment name (see `arena envs`) with --out DIR.",
            )
        if additions or drops:
            raise ArenaError(
                f"{target!r} is not a tournament folder, so there is nothing to add to.",
                "start it first: arena tournament ENV --attackers ... --defenders ... --out DIR.",
            )
        _check_environment_name(target)
        seats = _seat_options(
            seat, {"attacker": attackers, "defender": defenders, "players": players}, "--seat"
        )
        settings: dict[str, Any] = {}
        if env_config is not None:
            try:
                settings = json.loads(env_config.read_text())
            except (OSError, ValueError) as exc:
                raise ArenaError(
                    f"--env-config {str(env_config)!r} is not a readable JSON file ({exc}).",
                    "pass a JSON object of the environment's settings.",
                ) from exc
        if out is None:
            out = Path("runs") / ("tournament-" + time.strftime("%Y%m%d-%H%M%S"))
        folder = out
        first_new = first_missing(folder)
        fresh = not spec_path(folder).exists()
        create(
            folder,
            TournamentSpec(
                env=target,
                seats=seats,
                mode="round-robin" if "players" in seats else "cross",
                episodes=100 if episodes is None else episodes,
                seed=seed,
                batch_size=batch_size,
                judge=judge,
                env_config=settings,
                agent_timeout=agent_timeout,
                self_play=self_play,
                adaptive=adaptive,
                adaptive_delta=adaptive_delta,
                min_episodes=min_episodes,
            ),
        )
        console.print(f"tournament folder: [bold]{folder}[/bold]")
    spec = load_spec(folder)
    _print_warnings(spec)
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=error_console,
        transient=True,
    ) as bar:
        task = bar.add_task(f"{spec.env} tournament", total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        try:
            result = run_tournament(
                folder,
                progress=progress,
                retry_failed=retry_failed,
                max_episodes=max_episodes,
                additions=additions,
                drops=drops,
                executor_name=executor,
                executor_options={"workers": workers} if executor == "ray" else None,
            )
        except RunInterrupted as exc:
            exc.message = (
                "the finished episodes are in the store. "
                f"Fix: resume with `arena tournament {folder}`."
            )
            raise
        except Exception:
            if fresh:  # e.g. a typo in an agent spec: the corrected command must not be refused
                discard_unplayed(folder, first_new)
            raise
    if additions or drops:
        console.print(f"roster: {_roster_line(load_spec(folder))}")
    if result.resolved is not None:
        console.print(
            "adaptive sampling: the response graph is "
            + ("resolved." if result.resolved else "NOT resolved (per-cell cap or budget reached).")
        )
    console.print(
        f"played {result.played} episodes ({result.failed} failed) in "
        f"{result.cells - result.skipped_cells} of {result.cells} cells; "
        f"{result.skipped_cells} cells were complete."
    )
    _print_cells(folder)
    if report:
        from analysis.tournament_report import render_tournament_report

        paths = render_tournament_report(folder, bootstrap=bootstrap)
        console.print(f"report: [bold]{paths.html}[/bold] (and {paths.markdown})")


def _check_environment_name(target: str) -> None:
    """A TARGET that is no environment but looks like a path is a missing tournament.

    ``arena tournament runs/t1`` with a typo in the folder would otherwise read as an
    unknown environment, which points the wrong way.
    """
    from envs import canonical_name

    try:
        canonical_name(target)
        return
    except ArenaError:
        if not _looks_like_path(target):
            raise
    raise ArenaError(
        f"There is no tournament folder at {target!r} (no tournament.json there).",
        f"check the path (`ls {Path(target).parent}`), or start a tournament there with "
        f"`arena tournament ENV --attackers ... --defenders ... --out {target}` "
        "(`arena envs` lists environments).",
    )


def _looks_like_path(target: str) -> bool:
    """A path separator, a leading '.' or '~', or something on disk: not an env name."""
    separators = {"/", os.sep} | ({os.altsep} if os.altsep else set())
    return (
        any(sep in target for sep in separators)
        or target.startswith((".", "~"))
        or Path(target).exists()
    )


def _print_warnings(spec: Any) -> None:
    """The game's cautions about these settings (e.g. a rule judge on data it cannot
    read), as `arena play` prints them: a tournament's numbers carry the same caveats."""
    from envs import load_game

    game = load_game(spec.env)
    if game.warnings is None:
        return
    for warning in game.warnings(game.config(spec.env_config), spec.judge):
        error_console.print(f"warning: {warning}", markup=False, highlight=False, soft_wrap=True)


def _roster_line(spec: Any) -> str:
    return "; ".join(f"{seat}: {', '.join(specs)}" for seat, specs in spec.seats.items())


def _print_cells(folder: Path) -> None:
    from arena.tournament import cell_table

    rows = cell_table(folder)
    if not rows:
        return
    table = Table(title="cells (mean reward per seat, 95% interval)")
    for column in rows[0]:
        table.add_column(column)
    for row in rows:
        table.add_row(*(str(v) for v in row.values()))
    console.print(table)


def replay_command(
    run: Annotated[Path, typer.Argument(help="A tournament folder (or its store.sqlite).")],
    episode: Annotated[str, typer.Argument(help="CELL:EPISODE, e.g. 3:17.")],
    show: Annotated[bool, typer.Option(help="Print the replayed record.")] = False,
) -> None:
    """Re-play one stored episode from its key and check its transcript hash."""
    import json

    from arena.replay import parse_episode_ref, replay

    cell, number = parse_episode_ref(episode)
    result = replay(run, cell, number)
    if show:
        console.print_json(json.dumps({"rewards": result.rewards, "record": result.record}))
    if not result.identical:
        raise ArenaError(
            f"Episode {cell}:{number} (seed {result.episode_seed}) did not reproduce: stored "
            f"transcript {result.stored_sha256[:16]}…, replayed {result.replayed_sha256[:16]}….",
            "the code, a dependency, a model or a data file (e.g. a seed file edited in "
            "place) changed what the same inputs produce; restore what changed and replay "
            "again.",
        )
    console.print(
        f"episode {cell}:{number} (seed {result.episode_seed}) reproduced: "
        f"transcript sha256 {result.replayed_sha256[:16]}… matches the store."
    )


def store_command(
    run: Annotated[Path, typer.Argument(help="A tournament folder (or its store.sqlite).")],
    export: Annotated[
        Path | None, typer.Option(help="Write every episode to .parquet or .csv.")
    ] = None,
    records: Annotated[bool, typer.Option(help="Include transcripts in the export.")] = False,
    import_run: Annotated[
        list[Path] | None,
        typer.Option("--import", help="An `arena play` run folder to file into the store."),
    ] = None,
) -> None:
    """List a store's cells; export it (Parquet/CSV); import `arena play` runs into it."""
    from arena.replay import import_run as import_one
    from arena.store import Store

    path = run / "store.sqlite" if run.is_dir() or not run.suffix else run
    with Store(path, create=bool(import_run)) as store:
        for folder in import_run or []:
            _print_import(import_one(store, folder), path.parent)
        if export is not None:
            frame = store.to_pandas(with_records=records)
            if export.suffix == ".csv":
                frame.to_csv(export, index=False)
            elif export.suffix == ".parquet":
                frame.to_parquet(export, index=False)
            else:
                raise ArenaError(
                    f"--export {str(export)!r} has no known format.", "end it in .parquet or .csv."
                )
            console.print(f"{len(frame)} episodes written to {export}")
        counts = store.counts()
        table = Table(title=f"{path}: cells")
        for column in ("cell", "env", "agents", "ok", "failed"):
            table.add_column(column)
        for info in store.cells():
            ok, failed = counts.get(info["cell_id"], (0, 0))
            agents = ", ".join(f"{s}={a['spec']}" for s, a in info["seats"].items())
            table.add_row(str(info["cell_id"]), info["env"], agents, str(ok), str(failed))
        console.print(table)


def _print_import(result: Any, tournament: Path) -> None:
    """Say what an import filed and whether the tournament's report will count it.

    Imported cells of another environment config (e.g. another seed pool), judge, run
    seed or roster stay in the store but out of the tournament's report: said here,
    because nothing else shows it.
    """
    from arena.replay import outside_reasons

    cells = ", ".join(str(c) for c in result.cells) or "none"
    console.print(
        f"imported {result.episodes} new episodes from {result.run} into "
        f"{len(result.cells)} cell(s) ({cells}; env_id {result.env_id})"
    )
    if not (tournament / "tournament.json").exists():
        return
    reasons = outside_reasons(result, tournament)
    if reasons:
        console.print(
            "these cells stay out of the tournament's report: " + "; ".join(reasons) + ". "
            "They are kept in the store (`--export` includes them; group by env_id)."
        )
    else:
        console.print("they are the tournament's own cells: its report counts them.")


def register_tournament_commands(app: typer.Typer) -> None:
    app.command("tournament")(tournament)
    app.command("replay")(replay_command)
    app.command("store")(store_command)
