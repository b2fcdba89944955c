"""``arena theory ...``: solve Gambit games and check the papers' claims from the shell.

``arena theory solve FILE.nfg`` reads a Gambit strategic game (payoff or outcome form),
computes its equilibria, and prints each with its exploitability, plus whether the game
is degenerate (so that a short list is never mistaken for a complete one). ``--json``
prints only JSON on stdout, for scripts:

    {"degenerate": bool | null, "method": str,
     "equilibria": [{"strategies": [[p, ...], ...], "exploitability": float}, ...],
     "degeneracy_exhaustive": bool, "degeneracy_witness": str | null, "note": str}

``strategies`` holds one probability list per player in the file's strategy order.
``degenerate`` is null when the method does not need the check (lp, first-order, pure).
Errors are raised, not printed: a missing file as :class:`envs.errors.ArenaError`, a
malformed file as :class:`theory.errors.NFGFormatError` (its message names the line);
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


@theory_app.command()
def solve(
    file: Annotated[Path, typer.Argument(help="A Gambit strategic game file (.nfg).")],
    method: Annotated[
        Method,
        typer.Option(
            "--method",
            "-m",
            help="Equilibrium method; 'auto' picks LP (zero-sum), vertex enumeration "
            "(small two-player), Lemke-Howson (large), pure equilibria (N players).",
        ),
    ] = Method.auto,
    as_json: Annotated[bool, typer.Option("--json", help="Print only JSON on stdout.")] = False,
) -> None:
    """Print the equilibria of a Gambit .nfg game with each one's exploitability."""
    from theory.equilibria import solve as solve_game
    from theory.nfg import read_nfg

    if not file.is_file():
        raise ArenaError(
            f"no game file at {file}.",
            "pass the path of a Gambit .nfg file (payoff or outcome form).",
        )
    game = read_nfg(file)
    result = solve_game(game, method.value)
    if as_json:
        payload: dict[str, Any] = {
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
        table.add_row(str(k), *strategies, payoffs, f"{eq.exploitability:.2e}")
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
) -> None:
    """Check every claim of the papers symbolically and numerically; print a table.

    Before the table, each claim's statement, assumptions and source (paper,
    paper-second-hand, reconstruction, extension or textbook; docs/claims.md) are printed.
    """
    from theory.claims import all_claims, run_claim_checks

    rows = run_claim_checks(seed=seed, n=n, tol=tol, alpha=alpha)
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
