"""``arena theory ...``: solve games and check the papers' claims from the shell.

Game files (see :func:`theory.facade.read_game`): a Gambit ``.nfg``; a ``.npy`` array
(``(m, n)`` zero-sum, ``(2, m, n)`` bimatrix, ``(N, n_1, ...)``); or a ``.csv`` matrix of
the row player's payoffs (alone: zero-sum; a second CSV gives the column player's).
``stackelberg``, ``spne``, ``dynamics`` and ``rank`` take the same files, and every
``--json`` starts with ``title``, ``players``, ``strategies`` and ``payoffs``.

``arena theory solve FILE`` reads a game (a Gambit file in payoff or outcome form),
computes its equilibria, and prints each with its exploitability, plus whether the game
is degenerate (so that a short list is never mistaken for a complete one). ``--json``
prints only JSON on stdout, for scripts:

    {"title": str, "players": [str, ...], "strategy_labels": [[str, ...], ...],
     "payoffs": [N x n_1 x ... nested lists], "degenerate": bool | null, "method": str,
     "equilibria": [{"strategies": [[p, ...], ...], "exploitability": float}, ...],
     "degeneracy_exhaustive": bool, "degeneracy_witness": str | null, "note": str}

``strategies`` holds one probability list per player in the file's strategy order.
``degenerate`` is null when the method does not need the check (lp, first-order, pure).
Errors are raised, not printed: a missing file as :class:`envs.errors.ArenaError`, a
malformed file as a :class:`theory.errors.TheoryError` (its message names the line);
``arena.cli.main`` prints either as one line and exits with status 2.
"""

from __future__ import annotations

import json
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from arena.console import console
from envs.errors import ArenaError
from envs.stats import clean

theory_app = typer.Typer(
    help="Game theory: solve normal-form games (Gambit .nfg) and check the papers' claims.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


class Method(str, Enum):
    """Equilibrium methods of :func:`theory.equilibria.solve` (same names)."""

    auto = "auto"
    lp = "lp"
    support = "support"
    vertex = "vertex"
    lemke_howson = "lemke-howson"
    first_order = "first-order"
    pure = "pure"


def _format_strategy(probabilities: list[float], names: tuple[str, ...]) -> str:
    parts = [
        f"{name}: {clean(p):.4g}"
        for name, p in zip(names, probabilities, strict=True)
        if clean(p) > 0
    ]
    return ", ".join(parts) if parts else "-"


#: below this, an exploitability or payoff printed for people is float dust: shown as 0
DUST = 1e-12


def _human(value: float, spec: str) -> str:
    """``value`` formatted with ``spec`` for a person, float dust (|v| < 1e-12) as ``0``.

    An exact equilibrium's exploitability comes out of the LP as 5.55e-17, which reads as
    "not quite an equilibrium"; ``--json`` keeps the raw value for scripts.
    """
    return "0" if abs(value) < DUST else format(value, spec)


def _load_game(file: Path, file_b: Path | None) -> Any:
    """The :class:`theory.Game` in ``file`` (and ``file_b``: the column player's payoffs)."""
    from theory import Game

    for path in (file, file_b):
        if path is not None and not path.is_file():
            raise ArenaError(
                f"no game file at {path}.",
                "pass a Gambit .nfg file, a .csv payoff matrix (two for a bimatrix game) "
                "or a .npy array.",
            )
    return Game.from_file(file, file_b)


def _game_json(game: Any) -> dict[str, Any]:
    """Title, player names, strategy labels and the payoff tensor ``(N, n_1, ...)``."""
    return {
        "title": game.normal_form.title,
        "players": list(game.players),
        "strategy_labels": [list(s) for s in game.strategies],
        "payoffs": game.payoffs.tolist(),
    }


def _floats(values: Any) -> list[float]:
    return [float(v) for v in values]


FileArg = Annotated[
    Path,
    typer.Argument(
        help="A game: Gambit .nfg, .npy ((m, n) zero-sum, (2, m, n) bimatrix, or "
        "(N, n_1, ..., n_N)), or a .csv matrix of the row player's payoffs (alone: zero-sum)."
    ),
]
FileBArg = Annotated[
    Path | None,
    typer.Argument(
        help="Optional: the column player's payoffs (.csv or .npy matrix) for a bimatrix game."
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print only JSON on stdout.")]
LeaderOpt = Annotated[
    int, typer.Option("--leader", min=0, max=1, help="Who moves first: 0 row player, 1 column.")
]


@theory_app.command()
def solve(
    file: FileArg,
    file_b: FileBArg = None,
    method: Annotated[
        Method,
        typer.Option(
            "--method",
            "-m",
            help="Equilibrium method; 'auto' picks LP (zero-sum), vertex enumeration "
            "(small two-player), Lemke-Howson (large), pure equilibria (N players).",
        ),
    ] = Method.auto,
    as_json: JsonOpt = False,
) -> None:
    """Print the equilibria of a game file (.nfg, .csv, .npy) with each one's exploitability."""
    game_obj = _load_game(file, file_b)
    game = game_obj.normal_form
    result = game_obj.solve(method.value)
    if as_json:
        payload: dict[str, Any] = {
            **_game_json(game_obj),
            "degenerate": result.degenerate,
            "method": result.method,
            "equilibria": [
                {
                    "strategies": [[float(p) for p in s] for s in eq.strategies],
                    "exploitability": float(eq.exploitability),
                }
                for eq in result.equilibria
            ],
            "degeneracy_exhaustive": result.degeneracy_exhaustive,
            "degeneracy_witness": result.degeneracy_witness,
            "note": result.note,
        }
        typer.echo(json.dumps(payload))
        return

    title = game.title or file.name
    dims = " x ".join(str(n) for n in game.num_strategies)
    table = Table(title=f"{title} ({dims}, method: {result.method})")
    table.add_column("#", justify="right")
    for player in game.players:
        table.add_column(player)
    table.add_column("payoffs", justify="right")
    table.add_column("exploitability", justify="right")
    for k, eq in enumerate(result.equilibria, start=1):
        strategies = [
            _format_strategy([float(p) for p in s], names)
            for s, names in zip(eq.strategies, game.strategies, strict=True)
        ]
        # float dust (6e-33 for a zero value) is printed as the 0 it is
        scale = game.payoff_scale()
        payoffs = ", ".join(
            f"{clean(float(v), scale):.4g}" for v in game.expected_payoffs(eq.strategies)
        )
        table.add_row(str(k), *strategies, payoffs, _human(float(eq.exploitability), ".2e"))
    console.print(table)
    count = len(result.equilibria)
    noun = "equilibrium" if count == 1 else "equilibria"
    console.print(f"{count} {noun}: {result.note}.", highlight=False)
    if result.degenerate is None:
        console.print(f"degeneracy not checked (method {result.method} does not depend on it).")
    elif result.degenerate:
        console.print(f"[bold yellow]degenerate game[/]: {result.degeneracy_witness}.")
    elif result.degeneracy_exhaustive:
        console.print("nondegenerate game (checked exhaustively).")
    else:
        console.print(
            "no degeneracy among pure strategies (the game is too large, or has more than "
            "two players, for an exhaustive check)."
        )


@theory_app.command()
def stackelberg(
    file: FileArg, file_b: FileBArg = None, leader: LeaderOpt = 0, as_json: JsonOpt = False
) -> None:
    """Strong Stackelberg equilibrium: the leader commits to a mixed strategy first."""
    game = _load_game(file, file_b)
    sol = game.stackelberg(leader)
    follower = 1 - leader
    if as_json:
        payload = {
            **_game_json(game),
            "leader": leader,
            "leader_strategy": _floats(sol.leader_strategy),
            "follower_action": sol.follower_action,
            "leader_value": float(sol.leader_value),
            "follower_value": float(sol.follower_value),
        }
        typer.echo(json.dumps(payload))
        return
    names = game.strategies
    console.print(
        f"{game.players[leader]} commits to "
        f"{_format_strategy(_floats(sol.leader_strategy), names[leader])}; "
        f"{game.players[follower]} replies {names[follower][sol.follower_action]}. "
        f"Payoffs: leader {_human(float(sol.leader_value), '.4g')}, "
        f"follower {_human(float(sol.follower_value), '.4g')}.",
        highlight=False,
        markup=False,
    )


@theory_app.command()
def spne(
    file: FileArg,
    file_b: FileBArg = None,
    leader: LeaderOpt = 0,
    tie_break: Annotated[
        str,
        typer.Option(help="Follower's tie-breaking rule (see theory.equilibria.spne)."),
    ] = "leader-favorable",
    as_json: JsonOpt = False,
) -> None:
    """Subgame-perfect equilibrium when the leader moves first and the follower sees it."""
    game = _load_game(file, file_b)
    sol = game.spne(leader, tie_break)
    sequential = game.leader_follower(leader)
    if as_json:
        payload = {
            **_game_json(game),
            "leader": leader,
            "leader_action": sol.leader_action,
            "follower_policy": [_floats(row) for row in sol.follower_policy],
            "leader_value": float(sol.leader_value),
            "follower_value": float(sol.follower_value),
        }
        typer.echo(json.dumps(payload))
        return
    lead, follow = sequential.players
    console.print(
        f"{lead} plays {sequential.leader_actions[sol.leader_action]}; payoffs: leader "
        f"{_human(float(sol.leader_value), '.4g')}, "
        f"follower {_human(float(sol.follower_value), '.4g')}.",
        highlight=False,
        markup=False,
    )
    for action, reply in zip(sequential.leader_actions, sol.follower_policy, strict=True):
        reply_text = _format_strategy(_floats(reply), sequential.follower_actions)
        console.print(
            f"  {follow} replies to {action}: {reply_text}", highlight=False, markup=False
        )


class Dynamics(str, Enum):
    """Learning procedures of :meth:`theory.Game.dynamics` (same names)."""

    fictitious_play = "fictitious-play"
    regret_matching = "regret-matching"
    replicator = "replicator"
    psro = "psro"


@theory_app.command()
def dynamics(
    file: FileArg,
    file_b: FileBArg = None,
    kind: Annotated[Dynamics, typer.Option("--kind", "-k", help="Learning procedure.")] = (
        Dynamics.fictitious_play
    ),
    iterations: Annotated[
        int, typer.Option(min=1, help="Iterations (PSRO: oracle rounds; ignored by replicator).")
    ] = 1000,
    t_max: Annotated[float, typer.Option(min=0.0, help="Replicator: integration time.")] = 50.0,
    as_json: JsonOpt = False,
) -> None:
    """Run a learning procedure; print its final (average) profile and exploitability."""
    game = _load_game(file, file_b)
    if kind is Dynamics.replicator:
        result = game.dynamics(kind.value, t_max=t_max)
    else:
        result = game.dynamics(kind.value, iterations=iterations)
    profile = [_floats(s) for s in result.profile]
    final = float(result.exploitability[-1])
    if as_json:
        payload = {
            **_game_json(game),
            "kind": kind.value,
            "profile": profile,
            "exploitability": final,
            "trajectory": _floats(result.exploitability),
        }
        typer.echo(json.dumps(payload))
        return
    for player, strategy, names in zip(game.players, profile, game.strategies, strict=True):
        console.print(
            f"{player}: {_format_strategy(strategy, names)}", highlight=False, markup=False
        )
    console.print(f"{kind.value}: final exploitability {_human(final, '.3e')}.", highlight=False)


class Rank(str, Enum):
    """Evaluation methods of :mod:`theory.evaluation`."""

    nash_averaging = "nash-averaging"
    alpha_rank = "alpha-rank"


@theory_app.command()
def rank(
    file: FileArg,
    file_b: FileBArg = None,
    method: Annotated[Rank, typer.Option("--method", "-m", help="Ranking method.")] = (
        Rank.nash_averaging
    ),
    alpha: Annotated[float, typer.Option(min=0.0, help="Alpha-rank selection intensity.")] = 10.0,
    as_json: JsonOpt = False,
) -> None:
    """Rank strategies: Nash averaging (symmetric zero-sum file) or alpha-rank."""
    game = _load_game(file, file_b)
    if method is Rank.nash_averaging:
        nash = game.nash_averaging()
        ranking = [
            {"label": label, "rating": float(r), "nash": float(p)}
            for label, r, p in zip(nash.labels, nash.ratings, nash.nash, strict=True)
        ]
    else:
        # one population for a symmetric game, one per player otherwise
        ranks = game.alpha_rank(alpha=alpha, single_population=game.is_symmetric())
        ranking = [{"label": label, "mass": mass} for label, mass in ranks.ranking()]
    if as_json:
        typer.echo(json.dumps({**_game_json(game), "method": method.value, "ranking": ranking}))
        return
    table = Table(title=f"{method.value} ({file.name})")
    for name in ranking[0]:
        table.add_column(name)
    for row in ranking:
        table.add_row(*(v if isinstance(v, str) else f"{clean(v):.4g}" for v in row.values()))
    console.print(table)


@theory_app.command()
def check(
    seed: Annotated[int, typer.Option(min=0, help="Seed of the random instances.")] = 0,
    n: Annotated[int, typer.Option(min=1, help="Random instances per numeric check.")] = 200,
    tol: Annotated[
        float,
        typer.Option(min=0.0, help="Empirical tolerance, in each claim's units (not a p-value)."),
    ] = 0.05,
    alpha: Annotated[
        float,
        typer.Option(
            min=0.0, max=1.0, help="Significance level of the statistical empirical tests."
        ),
    ] = 0.05,
    explain: Annotated[
        bool,
        typer.Option(
            "--explain", help="Also print each claim's derivation and what its checks compute."
        ),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print only JSON on stdout.")] = False,
    imports: Annotated[
        list[str] | None,
        typer.Option(
            "--import",
            metavar="MODULE",
            help="Import MODULE (a module name or a .py file; repeatable) first, so the "
            "claims it registers with theory.claims.register_claim are checked too.",
        ),
    ] = None,
    run: Annotated[
        Path | None,
        typer.Option(
            "--run",
            metavar="DIR",
            help="Check the claims' empirical side on this `arena play` run instead: one "
            "line per claim, its verdict or why it cannot read the run (docs/claims.md).",
        ),
    ] = None,
    claim_id: Annotated[
        str | None, typer.Option("--claim", metavar="ID", help="Only this claim.")
    ] = None,
) -> None:
    """Check every claim of the papers symbolically and numerically; print a table.

    With ``--run DIR``, adapt the run's episodes to each claim's records instead and print
    each claim's empirical verdict on it, or one line saying why it cannot read the run.

    Before the table, each claim's statement, assumptions and source (paper,
    paper-second-hand, reconstruction, extension or textbook; docs/claims.md) are printed.
    Your own claims are included: installed ones (entry-point group ``arena.claims``)
    always, ones registered in a script with ``--import``; docs/claims.md#your-own-claims.
    """
    from theory.claims import all_claims, run_claim_checks

    for module in imports or []:
        _import_claims_module(module)
    if run is not None:
        _check_run(run, claim_id, tol, alpha, as_json)
        return
    from theory.claims import UnknownClaimError

    try:
        rows = run_claim_checks(
            seed=seed,
            n=n,
            tol=tol,
            alpha=alpha,
            claim_ids=None if claim_id is None else [claim_id],
        )
    except UnknownClaimError as exc:
        raise ArenaError(str(exc)) from exc
    claims = {c.id: c for c in all_claims()}
    fields = ("claim", "paper", "symbolic", "numeric", "empirical", "evidence")
    if as_json:
        payload = []
        for row in rows:
            item: dict[str, Any] = {f: str(getattr(row, f)) for f in fields}
            claim = claims[row.claim]
            item["statement"] = claim.statement
            item["assumptions"] = list(claim.assumptions)
            item["source"] = {
                "kind": claim.source.kind,
                "citation": claim.source.citation,
                "caveats": list(claim.source.caveats),
            }
            if explain:
                item["explanation"] = claim.describe(explain=True)
            payload.append(item)
        typer.echo(json.dumps(payload))
        return
    for row in rows:
        console.print(claims[row.claim].describe(explain=explain), highlight=False, markup=False)
        console.print()
    table = Table(title=f"Claims (seed {seed}, {n} random instances per numeric check)")
    for f in fields:
        table.add_column(f, overflow="fold")
    for row in rows:
        table.add_row(*(str(getattr(row, f)) for f in fields))
    console.print(table)


def _check_run(run: Path, claim_id: str | None, tol: float, alpha: float, as_json: bool) -> None:
    """``check --run``: each claim's verdict on the run, or why it cannot read it."""
    from analysis.claims_bridge import claims_for_run, collapse_inapplicable, format_verdict
    from theory.claims import UnknownClaimError

    try:
        rows = claims_for_run(run, claim_id, tol=tol, alpha=alpha)
    except UnknownClaimError as exc:
        raise ArenaError(str(exc)) from exc
    fields = ("claim", "verdict", "n", "interval", "evidence")
    if as_json:
        payload = [
            dict(zip(fields, (cid, *format_verdict(outcome)), strict=True)) for cid, outcome in rows
        ]
        typer.echo(json.dumps(payload))
        return
    table = Table(title=f"Claims on run {run} (tol {tol:g}, alpha {alpha:g})")
    for f in fields:
        table.add_column(f, overflow="fold")
    # claims that cannot read this kind of run share one row; --json keeps them all
    for cid, outcome in collapse_inapplicable(rows):
        table.add_row(cid, *format_verdict(outcome))
    console.print(table)


def _import_claims_module(module: str) -> None:
    """Import a module name or a ``.py`` file for ``check --import`` (it registers claims)."""
    import importlib
    import importlib.util
    import sys

    path = Path(module)
    try:
        if path.suffix == ".py":
            spec = importlib.util.spec_from_file_location(path.stem, path)
            if spec is None or spec.loader is None or not path.is_file():
                raise ImportError(f"no file {str(path)!r}")
            loaded = importlib.util.module_from_spec(spec)
            sys.modules[path.stem] = loaded
            spec.loader.exec_module(loaded)
        else:
            importlib.import_module(module)
    except ImportError as exc:
        raise ArenaError(
            f"--import {module}: cannot import it ({exc}).",
            "pass an existing .py file, or a module name importable from this Python "
            "(installed, or on PYTHONPATH).",
        ) from exc
