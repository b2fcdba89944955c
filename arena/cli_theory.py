"""``arena theory ...``: solve games and check the papers' claims from the shell.

Game files (see :func:`theory.facade.read_game`): a Gambit ``.nfg``; a ``.npy`` array
(``(m, n)`` zero-sum, ``(2, m, n)`` bimatrix, ``(N, n_1, ...)``); or a ``.csv`` matrix of
the row player's payoffs (alone: zero-sum; a second CSV gives the column player's; cells
separated by ',', or by ';' or tabs in a file without commas; a header line holds no
numbers). ``dynamics --init uniform|random|P`` chooses the start profile.
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


#: below this the start of a dynamics run counts as an equilibrium (a rest point)
REST_TOL = 1e-9

InitOpt = Annotated[
    str,
    typer.Option(
        "--init",
        metavar="START",
        help="Start profile: 'uniform' (the equilibrium of RPS-like games, where "
        "regret matching and the replicator cannot move), 'random' (Dirichlet(1) per "
        "player, seeded by --seed), or probabilities per player, e.g. "
        "'0.6,0.3,0.1;0.2,0.2,0.6' (';' between players). Not for psro.",
    ),
]
SeedOpt = Annotated[int, typer.Option(min=0, help="Seed of --init random.")]


def _init_error(text: str, problem: str, sizes: tuple[int, ...]) -> ArenaError:
    """One error for every way an explicit ``--init`` can be wrong."""
    example = ";".join(",".join(["1"] + ["0"] * (n - 1)) for n in sizes)
    return ArenaError(
        f"--init {text!r}: {problem}.",
        "pass 'uniform', 'random' (seeded by --seed), or one comma-separated list of "
        "probabilities per player, the lists separated by ';', each with one non-negative "
        f"entry per strategy summing to 1 (this game: {' x '.join(map(str, sizes))}; "
        f"e.g. --init '{example}').",
    )


def _player_start(text: str, group: str, player: int, sizes: tuple[int, ...]) -> list[float]:
    """Player ``player``'s probabilities from its part of an explicit ``--init``."""
    from fractions import Fraction

    cells = [c.strip() for c in group.split(",")]
    n = sizes[player]
    if len(cells) != n:
        raise _init_error(
            text, f"player {player + 1} has {len(cells)} probabilities for {n} strategies", sizes
        )
    values: list[float] = []
    for cell in cells:
        try:
            value = float(Fraction(cell))  # also accepts 1/3
        except (ValueError, ZeroDivisionError):
            raise _init_error(
                text, f"player {player + 1}: {cell!r} is not a number", sizes
            ) from None
        if value < 0:
            raise _init_error(text, f"player {player + 1}: {cell} is negative", sizes)
        values.append(value)
    if abs(sum(values) - 1.0) > 1e-9:
        raise _init_error(
            text, f"player {player + 1}'s probabilities sum to {sum(values):.12g}, not 1", sizes
        )
    return values


def _start_profile(text: str, game: Any, seed: int) -> list[Any] | None:
    """The start ``--init`` names: ``None`` for uniform (the functions' own default)."""
    from theory.dynamics import random_profile

    choice = text.strip()
    if choice.lower() == "uniform":
        return None
    if choice.lower() == "random":
        return random_profile(game.normal_form, seed)
    sizes = tuple(game.num_strategies)
    if not any(c.isdigit() for c in choice):
        raise _init_error(text, "not 'uniform', 'random' or probabilities", sizes)
    groups = choice.split(";")
    if len(groups) != len(sizes):
        lists = "list" if len(groups) == 1 else "lists"
        raise _init_error(
            text, f"{len(groups)} probability {lists} for {len(sizes)} players", sizes
        )
    return [_player_start(text, g, i, sizes) for i, g in enumerate(groups)]


def _run_dynamics(
    game: Any, kind: Dynamics, start: list[Any] | None, iterations: int, t_max: float
) -> Any:
    """:meth:`theory.Game.dynamics` with the CLI's options for ``kind``."""
    if kind is Dynamics.replicator:
        return game.dynamics(kind.value, initial=start, t_max=t_max)
    if kind is Dynamics.psro:
        return game.dynamics(kind.value, iterations=iterations)
    return game.dynamics(kind.value, iterations=iterations, initial=start)


def _start_report(
    game: Any, start: list[Any] | None, profile: list[list[float]]
) -> tuple[list[list[float]], float, bool]:
    """The start, its exploitability, and whether the run stayed there (a rest point).

    Reported because from the uniform start of RPS or Shapley's game regret matching and
    the replicator never move, and an exploitability of 0 then reads as convergence.
    """
    import numpy as np

    if start is None:
        begin = [[1.0 / n] * n for n in game.num_strategies]
    else:
        begin = [_floats(s) for s in start]
    start_expl = float(game.exploitability(begin))
    moved = max(
        float(np.max(np.abs(np.asarray(p) - np.asarray(q))))
        for p, q in zip(profile, begin, strict=True)
    )
    return begin, start_expl, start_expl < REST_TOL and moved < REST_TOL


def _rest_note(start_exploitability: float | None, rest_point: bool) -> str | None:
    """What a person should know about a start that is already an equilibrium."""
    if start_exploitability is None or start_exploitability >= REST_TOL:
        return None
    if rest_point:
        return (
            "the start is an equilibrium (a rest point): the dynamics cannot move; "
            "try --init random"
        )
    return (
        "the start is already an equilibrium (exploitability below 1e-9); this "
        "procedure moved away from it"
    )


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
    init: InitOpt = "uniform",
    seed: SeedOpt = 0,
    as_json: JsonOpt = False,
) -> None:
    """Run a learning procedure; print its final (average) profile and exploitability.

    The default start is uniform, which in RPS-like games (Shapley's game too) is the
    equilibrium: regret matching and the replicator dynamics then stay put, and the
    output says so. ``--init random`` (or explicit probabilities) shows their motion.
    """
    game = _load_game(file, file_b)
    start = _start_profile(init, game, seed)
    if kind is Dynamics.psro and start is not None:
        raise ArenaError(
            f"--init {init!r}: psro starts from each player's first strategy, not a profile.",
            "drop --init for psro, or use --kind fictitious-play, regret-matching or replicator.",
        )
    result = _run_dynamics(game, kind, start, iterations, t_max)
    profile = [_floats(s) for s in result.profile]
    final = float(result.exploitability[-1])
    begin: list[list[float]] | None = None
    start_expl: float | None = None
    rest_point = False
    if kind is not Dynamics.psro:  # psro starts from pure strategies, not a profile
        begin, start_expl, rest_point = _start_report(game, start, profile)
    if as_json:
        payload = {
            **_game_json(game),
            "kind": kind.value,
            "init": init,
            "start": begin,
            "start_exploitability": start_expl,
            "rest_point": rest_point,
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
    note = _rest_note(start_expl, rest_point)
    if note is not None:
        console.print(f"note: {note}.", highlight=False, markup=False)


class Rank(str, Enum):
    """Evaluation methods of :mod:`theory.evaluation`."""

    nash_averaging = "nash-averaging"
    alpha_rank = "alpha-rank"


def _nash_averaging(game: Any, file: Path, file_b: Path | None) -> Any:
    """:meth:`theory.Game.nash_averaging`, its refusal worded as CLI actions.

    The library's message points Python users at ``antisymmetric_from_win_rates``,
    which a shell user cannot call; here the fix is another ``--method`` or another file.
    """
    import numpy as np

    from theory.errors import UnsupportedGameError

    try:
        return game.nash_averaging()
    except UnsupportedGameError:
        a = np.asarray(game.payoffs[0], dtype=np.float64)
        if game.num_players != 2:
            why = f"the game has {game.num_players} players"
        elif not game.is_zero_sum():
            why = "the game is not zero-sum (the second file is not minus the first)"
        elif a.shape[0] != a.shape[1]:
            why = f"the matrix is {a.shape[0]} x {a.shape[1]}, not square"
        else:
            gap = float(np.max(np.abs(a + a.T)))
            why = f"the matrix is not antisymmetric (max |A[i][j] + A[j][i]| = {gap:.3g})"
        files = f"{file} {file_b}" if file_b is not None else str(file)
        raise ArenaError(
            f"{file.name}: nash-averaging needs one square matrix A of margins with "
            f"A[i][j] = -A[j][i] (how much strategy i beats j); {why}.",
            f"rank any game with `arena theory rank {files} --method alpha-rank`, or write "
            "one CSV of margins, A[i][j] = -A[j][i] with a zero diagonal (e.g. the win rate "
            "of i against j minus 0.5), and pass it alone.",
        ) from None


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
        nash = _nash_averaging(game, file, file_b)
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
