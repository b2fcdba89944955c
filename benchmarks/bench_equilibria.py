"""Benchmark of theory.equilibria against nashpy and OpenSpiel, with PASS/FAIL per goal.

Run from the repository root:

    python benchmarks/bench_equilibria.py          # full run, about 3-4 minutes
    python benchmarks/bench_equilibria.py --quick  # smaller sizes, about 30 s, no Gambit rows
    python benchmarks/bench_equilibria.py --gambit-only  # only the Gambit rows, about 1 min

Everything runs in one process on the same seeded random games for every method, so
the ratios are comparable even on a noisy shared machine. Times are the best of several
repeats (``time.perf_counter``). Torch is not imported and BLAS threading is left at
its default. Optional baselines are skipped cleanly when not installed: nashpy (dev
dependency), OpenSpiel's ``lp_solver`` (needs ``open-spiel``, ``cvxpy`` and ``ecos``),
Gambit (``pygambit``).

Goals (from the Theory issue):

1. zero-sum exact LP, 10x10 to 1000x1000: at most 1.1x nashpy's ``linear_program``;
2. at least 2x faster than OpenSpiel's ``lp_solver`` at 200x200;
3. 1000x1000 in under 2 s;
4. first-order solver reaching exploitability <= 1e-3 on 5000x5000 at least 5x faster than
   the exact LP (the LP runs under a time limit; if it hits the limit, the ratio shown
   is a lower bound);
5. all equilibria of random nondegenerate 8x8 games at least 20x faster than nashpy's
   ``support_enumeration``, with the same set of equilibria;
6. Lemke-Howson on 100x100 in under 1 s;
7. vertex enumeration at least 2x faster than Gambit's ``enummixed_solve`` at 12x12, with
   the same set of extreme equilibria (8x8 and 10x10 rows are informational);
8. Lemke-Howson following paths from every equilibrium it finds (``lemke_howson_graph``,
   what Gambit's ``lcp_solve`` does) finding at least as many distinct equilibria as
   ``lcp_solve`` in at most 2x its time, at 12x12 and 20x20.

Gambit runs in floating point (``rational=False``), its fastest mode; the rational mode
is far slower (``enummixed_solve`` took about 4 minutes on 12x12). Our vertex
enumeration caches polytope vertices per payoff matrix, so that cache is cleared before
every timed call of ours (the nashpy rows included). Gambit's ``lcp_solve`` runs in a
child process (it can run for minutes) that first solves a 3x3 game, so its one-time
setup is not timed.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from theory.equilibria import (
    exploitability,
    is_degenerate,
    lemke_howson,
    lemke_howson_graph,
    nash_conv,
    solve_zero_sum,
    solve_zero_sum_first_order,
    support_enumeration,
    vertex_enumeration,
)
from theory.equilibria._polytope import _cached_vertices
from theory.errors import SolverTimeLimitError
from theory.games import NormalFormGame

# NashConv up to which a profile from Gambit's float lcp_solve counts as an equilibrium
# (its float pivots leave ~1e-12 on genuine ones).
GAMBIT_NASH_TOL = 1e-6

# Exploitability an exact solver must reach for its timing to count (the solvers verify
# NashConv <= 1e-9 x payoff range; these games have range ~1).
EXACT_EXPL = 1e-9

HAS_NASHPY = importlib.util.find_spec("nashpy") is not None
HAS_OPENSPIEL = all(
    importlib.util.find_spec(name) is not None for name in ("pyspiel", "cvxpy", "ecos")
)


@dataclass
class Row:
    goal: str
    ours: str
    baseline: str
    ratio: str
    target: str
    verdict: str


def best_time(fn: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    """Best wall time over ``repeats`` calls and the last result."""
    best, result = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def fmt(seconds: float) -> str:
    return f"{seconds * 1e3:.1f} ms" if seconds < 1 else f"{seconds:.2f} s"


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def zero_sum_game(n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).uniform(0.0, 1.0, size=(n, n))


def bench_zero_sum(sizes: list[int], rows: list[Row]) -> None:
    if not HAS_NASHPY:
        rows.append(Row("zero-sum LP vs nashpy", "-", "nashpy missing", "-", "<=1.1x", "SKIP"))
    for n in sizes:
        A = zero_sum_game(n, seed=n)
        repeats = 7 if n <= 50 else 3 if n <= 200 else 2
        t_ours, sol = best_time(partial(solve_zero_sum, A), repeats)
        game = NormalFormGame.zero_sum(A)
        expl = exploitability(game, [sol.row, sol.col])
        if HAS_NASHPY:
            import nashpy

            nash_game = nashpy.Game(A, -A)
            t_np, (x, y) = best_time(nash_game.linear_program, repeats)
            theirs = [np.clip(s, 0, None) / np.clip(s, 0, None).sum() for s in (x, y)]
            ratio = t_ours / t_np
            rows.append(
                Row(
                    f"zero-sum LP {n}x{n} vs nashpy.linear_program",
                    f"{fmt(t_ours)} (expl {expl:.1e})",
                    f"{fmt(t_np)} (expl {exploitability(game, theirs):.1e})",
                    f"{ratio:.2f}x time",
                    f"<= 1.1x, expl <= {EXACT_EXPL:g}",
                    verdict(ratio <= 1.1 and expl <= EXACT_EXPL),
                )
            )
        if n == 200:
            if HAS_OPENSPIEL:
                import pyspiel
                from open_spiel.python.algorithms import lp_solver

                spiel_game = pyspiel.create_matrix_game(A.tolist(), (-A).tolist())
                t_os, _ = best_time(partial(lp_solver.solve_zero_sum_matrix_game, spiel_game), 3)
                speedup = t_os / t_ours
                rows.append(
                    Row(
                        "zero-sum LP 200x200 vs OpenSpiel lp_solver",
                        fmt(t_ours),
                        fmt(t_os),
                        f"{speedup:.1f}x faster",
                        f">= 2x faster, expl <= {EXACT_EXPL:g}",
                        verdict(speedup >= 2 and expl <= EXACT_EXPL),
                    )
                )
            else:
                rows.append(
                    Row(
                        "zero-sum LP 200x200 vs OpenSpiel lp_solver",
                        fmt(t_ours),
                        "open-spiel/cvxpy/ecos missing",
                        "-",
                        ">= 2x faster",
                        "SKIP",
                    )
                )
        if n == 1000:
            rows.append(
                Row(
                    "zero-sum LP 1000x1000 wall time",
                    f"{fmt(t_ours)} (expl {expl:.1e})",
                    "-",
                    "-",
                    f"< 2 s, expl <= {EXACT_EXPL:g}",
                    verdict(t_ours < 2 and expl <= EXACT_EXPL),
                )
            )


def bench_first_order(n: int, lp_limit: float, rows: list[Row]) -> None:
    A = zero_sum_game(n, seed=12345)
    t_fo, sol = best_time(partial(solve_zero_sum_first_order, A, tol=1e-3), 2)
    expl = sol.gap / 2
    start = time.perf_counter()
    try:
        solve_zero_sum(A, time_limit=lp_limit)
        t_lp, bound = time.perf_counter() - start, ""
    except SolverTimeLimitError:
        t_lp, bound = time.perf_counter() - start, ">= "
    speedup = t_lp / t_fo
    rows.append(
        Row(
            f"first-order (RM+) {n}x{n} to exploitability 1e-3 vs exact LP",
            f"{fmt(t_fo)} ({sol.iterations} it, expl {expl:.1e})",
            f"{bound}{fmt(t_lp)}" + (" (time limit)" if bound else ""),
            f"{bound}{speedup:.1f}x faster",
            ">= 5x faster",
            verdict(speedup >= 5 and expl <= 1e-3),
        )
    )


def _nashpy_support(A: np.ndarray, B: np.ndarray) -> list[Any]:
    import nashpy

    return list(nashpy.Game(A, B).support_enumeration())


def _profile_set(profiles: list[tuple[np.ndarray, ...]]) -> set[tuple[float, ...]]:
    return {tuple(np.round(np.concatenate(p), 6) + 0.0) for p in profiles}


def bench_general_sum(n_games: int, nashpy_repeats: int, rows: list[Row]) -> None:
    rng = np.random.default_rng(8)
    games: list[NormalFormGame] = []
    while len(games) < n_games:
        game = NormalFormGame.from_bimatrix(rng.normal(size=(8, 8)), rng.normal(size=(8, 8)))
        if not is_degenerate(game):
            games.append(game)
    if not HAS_NASHPY:
        rows.append(
            Row("8x8 all equilibria vs nashpy", "-", "nashpy missing", "-", ">= 20x", "SKIP")
        )
        return
    import nashpy

    worst_speedup = float("inf")
    same_as_vertex, contains_support, missed = True, True, 0
    t_ours_max = t_np_max = 0.0
    for game in games:
        A, B = game.bimatrix()
        # is_degenerate above filled the polytope cache for these very games; every
        # timed call starts cold (support enumeration's degeneracy check and vertex
        # enumeration both read it), as nashpy, which caches nothing, does.
        t_sup, ours_sup = best_time(partial(_cold, support_enumeration, game), 5)
        t_vert, ours_vert = best_time(partial(_cold, vertex_enumeration, game), 5)
        ours = _profile_set([eq.strategies for eq in ours_sup])
        assert ours == _profile_set([eq.strategies for eq in ours_vert])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t_np, theirs_sup = best_time(partial(_nashpy_support, A, B), nashpy_repeats)
            theirs_vert = list(nashpy.Game(A, B).vertex_enumeration())
        theirs = _profile_set(theirs_sup)
        same_as_vertex &= ours == _profile_set(theirs_vert)
        contains_support &= theirs <= ours
        missed += len(ours - theirs)
        t_ours = max(t_sup, t_vert)
        worst_speedup = min(worst_speedup, t_np / t_ours)
        t_ours_max, t_np_max = max(t_ours_max, t_ours), max(t_np_max, t_np)
    rows.append(
        Row(
            f"all equilibria of {n_games} random nondegenerate 8x8 vs nashpy support_enumeration",
            f"<= {fmt(t_ours_max)} (support and vertex enum.)",
            f"up to {fmt(t_np_max)}",
            f">= {worst_speedup:.0f}x faster",
            ">= 20x faster",
            verdict(worst_speedup >= 20),
        )
    )
    rows.append(
        Row(
            "  same set of equilibria",
            f"= nashpy vertex_enumeration: {same_as_vertex}",
            f"nashpy support_enum. subset of ours: {contains_support}; it missed {missed}",
            "-",
            "same set",
            verdict(same_as_vertex and contains_support),
        )
    )


def bench_lemke_howson(n: int, n_games: int, rows: list[Row]) -> None:
    rng = np.random.default_rng(100)
    worst, worst_expl = 0.0, 0.0
    for _ in range(n_games):
        game = NormalFormGame.from_bimatrix(rng.normal(size=(n, n)), rng.normal(size=(n, n)))
        for label in (0, n):
            t, eq = best_time(partial(lemke_howson, game, label), 3)
            worst, worst_expl = max(worst, t), max(worst_expl, eq.exploitability)
    rows.append(
        Row(
            f"Lemke-Howson {n}x{n} ({n_games} games x 2 labels, slowest)",
            f"{fmt(worst)} (expl <= {worst_expl:.1e})",
            "-",
            "-",
            f"< 1 s, expl <= {EXACT_EXPL:g}",
            verdict(worst < 1.0 and worst_expl <= EXACT_EXPL),
        )
    )


def _gambit_game(A: np.ndarray, B: np.ndarray) -> Any:
    import pygambit

    return pygambit.StrategicGame.from_arrays(A, B)


def _gambit_profiles(game: Any, equilibria: list[Any]) -> list[tuple[np.ndarray, ...]]:
    return [
        tuple(np.array([float(v) for _, v in eq[player]]) for player in game.players)
        for eq in equilibria
    ]


def _rounded_set(profiles: list[tuple[np.ndarray, ...]]) -> set[tuple[float, ...]]:
    return {tuple(np.round(np.concatenate(p), 7) + 0.0) for p in profiles}


def _gambit_bimatrix(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Seeded random n x n payoffs, rounded to 4 decimals so both solvers see the same
    numbers exactly."""
    rng = np.random.default_rng(seed)
    return np.round(rng.normal(size=(n, n)), 4), np.round(rng.normal(size=(n, n)), 4)


def _cold(solver: Callable[[NormalFormGame], Any], game: NormalFormGame) -> Any:
    """``solver(game)`` with our polytope-vertex cache cleared first."""
    _cached_vertices.cache_clear()
    return solver(game)


def _cold_vertex_enumeration(game: NormalFormGame) -> list[Any]:
    return _cold(vertex_enumeration, game)


def gambit_available(rows: list[Row]) -> bool:
    try:
        import pygambit  # noqa: F401
    except Exception as exc:  # any import failure means skip
        reason = f"pygambit not importable ({type(exc).__name__})"
        print(f"Skipping Gambit rows: {reason}")
        for goal in ("vertex enum. vs Gambit enummixed_solve", "Lemke-Howson vs Gambit lcp_solve"):
            rows.append(Row(goal, "-", reason, "-", "-", "SKIP"))
        return False
    return True


def bench_gambit_enummixed(sizes: list[int], rows: list[Row]) -> None:
    import pygambit

    for n in sizes:
        A, B = _gambit_bimatrix(n, seed=1000 + n)
        game = NormalFormGame.from_bimatrix(A, B)
        ggame = _gambit_game(A, B)
        repeats = 3 if n <= 10 else 1
        t_ours, ours = best_time(partial(_cold_vertex_enumeration, game), repeats)
        t_gb, res = best_time(
            partial(pygambit.nash.enummixed_solve, ggame, rational=False), max(repeats, 2)
        )
        ours_set = _rounded_set([eq.strategies for eq in ours])
        theirs_set = _rounded_set(_gambit_profiles(ggame, res.equilibria))
        same = ours_set == theirs_set
        speedup = t_gb / t_ours
        gated = n == max(sizes)
        rows.append(
            Row(
                f"vertex enum. {n}x{n} vs Gambit enummixed_solve (float)",
                f"{fmt(t_ours)} ({len(ours_set)} eq.)",
                f"{fmt(t_gb)} ({len(theirs_set)} eq.)",
                f"{speedup:.2f}x faster",
                ">= 2x faster, same set" if gated else "same set (info)",
                verdict(same and (speedup >= 2 or not gated)),
            )
        )


def _gambit_lcp_child(A: np.ndarray, B: np.ndarray, queue: Any) -> None:
    import pygambit

    # The first solve in a fresh process pays one-time setup (~70 ms here); a 3x3 game
    # takes it, so the timed solve is warm, as ours is.
    pygambit.nash.lcp_solve(_gambit_game(np.eye(3), np.eye(3)[::-1]), rational=False)
    game = _gambit_game(A, B)

    def found(eq: Any) -> None:
        queue.put(("eq", _gambit_profiles(game, [eq])[0]))

    start = time.perf_counter()
    pygambit.nash.lcp_solve(game, rational=False, nash_callback=found)
    queue.put(("done", time.perf_counter() - start))


def _gambit_lcp(
    A: np.ndarray, B: np.ndarray, limit: float
) -> tuple[float, list[tuple[np.ndarray, ...]], bool]:
    """Gambit's lcp_solve in a child process (it can run for minutes on some 20x20
    games): wall time, equilibria found, and whether it finished within ``limit``."""
    import multiprocessing as mp
    import queue as queue_mod

    ctx = mp.get_context("fork")
    q = ctx.Queue()
    proc = ctx.Process(target=_gambit_lcp_child, args=(A, B, q))
    proc.start()
    deadline = time.perf_counter() + limit
    profiles: list[tuple[np.ndarray, ...]] = []
    elapsed, finished = limit, False
    while not finished:
        try:
            kind, payload = q.get(timeout=max(deadline - time.perf_counter(), 0.01))
        except queue_mod.Empty:
            break
        if kind == "eq":
            profiles.append(payload)
        else:
            elapsed, finished = payload, True
    proc.terminate()
    proc.join()
    return elapsed, profiles, finished


def bench_gambit_lcp(sizes: list[int], rows: list[Row], limit: float = 30.0) -> None:
    """``lemke_howson_graph`` (paths from every equilibrium found, as Gambit does) vs
    ``lcp_solve``. Gambit's float ``lcp_solve`` does not finish on some games (on the
    20x20 one here it had 160 equilibria after 30 s and still 160 after 900 s); it is
    then stopped at ``limit``, its time is only known to exceed ``limit``, and the row
    passes when ours finished the whole search within ``2 x limit`` with at least as
    many equilibria, including every one Gambit had found. Profiles Gambit returns that
    fail the best-response check (NashConv above ``GAMBIT_NASH_TOL``) are not counted;
    the row says how many there were."""
    for n in sizes:
        A, B = _gambit_bimatrix(n, seed=2000 + n)
        game = NormalFormGame.from_bimatrix(A, B)
        t_ours, search = best_time(partial(lemke_howson_graph, game), 3)
        t_gb, theirs, finished = _gambit_lcp(A, B, limit)
        if finished:
            t_gb = min(t_gb, _gambit_lcp(A, B, limit)[0])
        ours_set = _rounded_set([eq.strategies for eq in search.equilibria])
        # Gambit's float pivoting can end on a profile that is not an equilibrium (on
        # the 20x20 game: NashConv 3e-5, entries of -2e-5); only genuine ones count.
        genuine = [p for p in theirs if _nash_conv_of(game, p) <= GAMBIT_NASH_TOL]
        theirs_set = _rounded_set(genuine)
        covered = _covers(ours_set, theirs_set)
        junk = len(_rounded_set(theirs)) - len(theirs_set)
        bound = "" if finished else ">= "
        ratio = t_ours / t_gb
        ok = search.complete and len(ours_set) >= len(theirs_set) and covered and ratio <= 2
        rows.append(
            Row(
                f"Lemke-Howson graph {n}x{n} vs Gambit lcp_solve (float)",
                f"{fmt(t_ours)} ({len(ours_set)} eq.{'' if search.complete else ', incomplete'})",
                f"{bound}{fmt(t_gb)} ({bound}{len(theirs_set)} eq.)"
                + ("" if finished else f" (stopped at {limit:g} s)")
                + (f" (+{junk} non-equilibria)" if junk else "")
                + ("" if covered else " (some not found by ours)"),
                f"{'<= ' if bound else ''}{ratio:.2f}x time",
                ">= as many eq., <= 2x time",
                verdict(ok),
            )
        )


def _nash_conv_of(game: NormalFormGame, profile: tuple[np.ndarray, ...]) -> float:
    """NashConv of a profile a float solver returned (clipped at 0 and renormalised)."""
    clipped = [np.clip(s, 0.0, None) for s in profile]
    if any(s.sum() <= 0 for s in clipped):
        return float("inf")
    return nash_conv(game, [s / s.sum() for s in clipped])


def _covers(ours: set[tuple[float, ...]], theirs: set[tuple[float, ...]]) -> bool:
    """Whether every profile of ``theirs`` is within 1e-6 of one of ``ours`` (Gambit's
    float output and ours can differ in the 7th decimal)."""
    if not theirs:
        return True
    if not ours:
        return False
    mine = np.array(sorted(ours))
    return all(float(np.abs(mine - np.array(p)).max(axis=1).min()) <= 1e-6 for p in theirs)


def bench_gambit(rows: list[Row]) -> None:
    if not gambit_available(rows):
        return
    bench_gambit_enummixed([8, 10, 12], rows)
    bench_gambit_lcp([12, 20], rows)


def print_table(rows: list[Row]) -> None:
    headers = ("goal", "ours", "baseline", "ratio", "target", "verdict")
    data = [headers, *[(r.goal, r.ours, r.baseline, r.ratio, r.target, r.verdict) for r in rows]]
    widths = [max(len(row[k]) for row in data) for k in range(len(headers))]
    for i, row in enumerate(data):
        print(" | ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)))
        if i == 0:
            print("-+-".join("-" * w for w in widths))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes (about 30 s)")
    parser.add_argument(
        "--gambit-only", action="store_true", help="only the Gambit comparison rows"
    )
    args = parser.parse_args()
    rows: list[Row] = []
    start = time.perf_counter()
    if args.gambit_only:
        bench_gambit(rows)
    elif args.quick:
        bench_zero_sum([10, 50, 200], rows)
        bench_first_order(2000, lp_limit=10.0, rows=rows)
        bench_general_sum(1, 1, rows)
        bench_lemke_howson(100, 1, rows)
    else:
        bench_zero_sum([10, 50, 200, 1000], rows)
        bench_first_order(5000, lp_limit=30.0, rows=rows)
        bench_general_sum(2, 2, rows)
        bench_lemke_howson(100, 3, rows)
        bench_gambit(rows)
    print_table(rows)
    failed = [r.goal for r in rows if r.verdict == "FAIL"]
    print(f"\n{len(rows)} checks, {len(failed)} failed, {time.perf_counter() - start:.0f} s total")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
