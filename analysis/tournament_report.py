"""The tournament report: ``report.html`` (self-contained) and ``report.md`` with figures.

What a reader gets, in order: the payoff matrix of the cross-play (each cell's mean
payoff per seat with a 95% interval and its episode count, and the game's own rates,
e.g. attack success and over-refusal with Wilson intervals: MAGIC's cross-play figure);
the empirical game's equilibrium with bootstrap intervals, each agent's probability of
being in its support and its regret against it (its exploitability in the equilibrium);
Nash averaging (constant-sum games) and alpha-rank; Elo and Bradley-Terry ratings with
bootstrap intervals (symmetric games; an asymmetric game ranks each seat's agents by mean
reward instead, see :mod:`analysis.tournament_stats`); paired tests between the agents of
a seat (a round robin: of the roster) on the same episode seeds, verdicts from the
Holm-adjusted p-values; the strategies mixed agents played; failed episodes; and the
claims table for the tournament's episodes. The game's warnings for the tournament's
data and judge (e.g. a rule judge on data it cannot read) head both pages: without them
every rate below can be meaningless.

Everything is computed from the store by :func:`analyze_tournament` (streaming: the
payoff arrays, not transcripts; the claims section reads at most
:data:`CLAIM_EPISODES_PER_CELL` transcripts per cell). ``theory`` does the statistics
(:mod:`theory.evaluation.empirical_game`, :mod:`~theory.evaluation.ratings`,
:mod:`~theory.evaluation.paired`; the comparisons of agents are in
:mod:`analysis.tournament_stats`).

**Who won an episode** (for Elo / Bradley-Terry, which need wins): the seat with the
higher total reward, a tie half each. That compares the seats' rewards, so it is only
used where the seats are interchangeable (round robins, symmetric games); the payoff
matrix, the empirical game and the per-seat rankings use the rewards themselves and need
no such convention.
"""

from __future__ import annotations

import base64
import datetime as _dt
import html
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from analysis.tournament_figures import render_figures
from analysis.tournament_stats import paired, ratings, seat_means
from envs.game_spec import GameSpec
from envs.stats import Mean, Rate

CLAIM_EPISODES_PER_CELL = 2_000


@dataclass
class ReportPaths:
    html: Path
    markdown: Path
    data: Path
    figures: list[Path] = field(default_factory=list)


@dataclass
class TournamentAnalysis:
    """Everything the report shows, as plain data (also written as ``analysis.json``)."""

    env: str
    spec: dict[str, Any]
    seats: tuple[str, ...]
    rosters: dict[str, list[str]]
    cells: list[dict[str, Any]]
    metric_names: dict[str, str]
    empirical: dict[str, Any] | None
    empirical_note: str
    ratings: dict[str, Any] | None
    ratings_note: str
    paired: list[dict[str, Any]]
    strategies: dict[str, dict[str, dict[str, int]]]
    failures: list[dict[str, Any]]
    claims: list[tuple[str, str, str, str, str]]
    episodes_ok: int
    episodes_failed: int
    warnings: list[str] = field(default_factory=list)
    seat_means: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


# ----------------------------------------------------------------------------- analysis
def _mean_cell(values: np.ndarray) -> dict[str, Any]:
    stat = Mean.of([float(v) for v in values])
    return {"mean": stat.value, "lower": stat.low, "upper": stat.high, "n": stat.n}


def _is_binary(values: np.ndarray) -> bool:
    """Whether a metric is a 0/1 outcome (a rate), not a count or a score."""
    counted = values[~np.isnan(values)]
    return bool(np.isin(counted, (0.0, 1.0)).all())


def _metric_cell(values: np.ndarray) -> dict[str, Any]:
    """A metric's cell: a 0/1 metric as a rate with its Wilson interval, any other (hops,
    a score) as a mean with its t-interval; ``value`` is the rate or the mean."""
    counted = values[~np.isnan(values)]
    if not _is_binary(counted):
        mean = _mean_cell(counted)
        return {"value": mean["mean"], "lower": mean["lower"], "upper": mean["upper"],
                "n": mean["n"], "kind": "mean"}  # fmt: skip
    rate = Rate(int(counted.sum()), int(counted.size))
    low, high = rate.wilson()
    return {"value": rate.value, "lower": low, "upper": high, "n": rate.trials, "kind": "rate"}


def analyze_tournament(folder: Path, *, bootstrap: int = 200, seed: int = 0) -> TournamentAnalysis:
    """Read the tournament at ``folder`` and compute every table of the report."""
    from arena.results import cell_samples

    folder = Path(folder)
    spec, game, samples = cell_samples(folder)
    seats = game.seats
    round_robin = spec.mode == "round-robin"
    rosters = (
        {"players": spec.roster(seats[0])}
        if round_robin
        else {seat: list(spec.seats[seat]) for seat in seats}
    )
    cells: list[dict[str, Any]] = []
    for cell in samples:
        entry: dict[str, Any] = {
            "cell_id": cell.cell_id,
            "agents": dict(cell.matchup),
            "n": cell.n,
            "failed": cell.failed,
            "rewards": {
                seat: _mean_cell(cell.rewards[:, k]) if cell.n else None
                for k, seat in enumerate(seats)
            },
            "metrics": {
                name: _metric_cell(values) if cell.n else None
                for name, values in cell.metrics.items()
            },
        }
        cells.append(entry)
    env_config = game.config(spec.env_config)
    symmetric = round_robin or game.is_symmetric(env_config)
    empirical, empirical_note = _empirical(spec, game, samples, bootstrap, seed)
    ladder, ratings_note = ratings(
        game, samples, bootstrap=bootstrap, seed=seed, round_robin=round_robin, symmetric=symmetric
    )
    from analysis.claims_bridge import format_verdict

    return TournamentAnalysis(
        env=game.name,
        spec={
            "mode": spec.mode,
            "episodes": spec.episodes,
            "seed": spec.seed,
            "judge": spec.judge if game.judged else None,
            "env_config": spec.env_config,
        },
        seats=seats,
        rosters=rosters,
        cells=cells,
        metric_names=dict(game.metric_names),
        empirical=empirical,
        empirical_note=empirical_note,
        ratings=ladder,
        ratings_note=ratings_note,
        paired=paired(game, samples, round_robin),
        strategies=_strategies(folder, game, samples),
        failures=[
            {"agents": dict(c.matchup), "failed": c.failed, "examples": c.failures}
            for c in samples
            if c.failed
        ],
        claims=[
            (claim_id, *format_verdict(outcome))
            for claim_id, outcome in _claims(folder, game.name, samples)
        ],
        episodes_ok=sum(c.n for c in samples),
        episodes_failed=sum(c.failed for c in samples),
        warnings=list(game.warnings(env_config, spec.judge)) if game.warnings else [],
        seat_means={} if symmetric else seat_means(game, samples),
    )


def _empirical(
    spec: Any, game: GameSpec, samples: Sequence[Any], bootstrap: int, seed: int
) -> tuple[dict[str, Any] | None, str]:
    from theory.errors import TheoryError
    from theory.evaluation.empirical_game import EmpiricalGame

    played = [c for c in samples if c.n]
    if not played:
        return None, "no finished episodes yet"
    try:
        if spec.mode == "round-robin":
            data = {(c.matchup[game.seats[0]], c.matchup[game.seats[1]]): c.rewards for c in played}
            emp = EmpiricalGame.symmetric(data, agents=spec.roster(game.seats[0]))
        else:
            if len(game.seats) != 2:
                return None, f"{game.name} has {len(game.seats)} seats; the analysis needs two"
            data = {(c.matchup[game.seats[0]], c.matchup[game.seats[1]]): c.rewards for c in played}
            emp = EmpiricalGame.role_split(
                data,
                row_agents=spec.seats[game.seats[0]],
                col_agents=spec.seats[game.seats[1]],
                players=(game.seats[0], game.seats[1]),
            )
        result = emp.analyze(n_boot=bootstrap, seed=seed)
    except TheoryError as exc:
        return None, str(exc)
    populations = [{"player": pop.player, "rows": pop.as_rows()} for pop in result.populations]
    return {
        "symmetric": result.symmetric,
        "constant_sum": result.constant_sum,
        "method": result.equilibrium_method,
        "value": [float(v) for v in np.atleast_1d(result.value.point)],
        "value_lower": [float(v) for v in np.atleast_1d(result.value.lower)],
        "value_upper": [float(v) for v in np.atleast_1d(result.value.upper)],
        "populations": populations,
        "n_boot": result.n_boot,
        "failed_replicates": result.failed_replicates,
        "confidence": result.confidence,
    }, ""


def _strategies(
    folder: Path, game: GameSpec, samples: Sequence[Any]
) -> dict[str, dict[str, dict[str, int]]]:
    """seat -> agent -> strategy label -> episodes (labels differ from the spec only for
    mixed agents, e.g. scripted:random)."""
    from arena.store import Store

    out: dict[str, dict[str, dict[str, int]]] = {}
    cell_agents = {c.cell_id: c.matchup for c in samples}
    if not cell_agents:
        return out
    with Store(Path(folder) / "store.sqlite", create=False) as store:
        for ep in store.iter_episodes(list(cell_agents)):
            if ep.status != "ok":
                continue
            for seat, label in ep.labels.items():
                agent = cell_agents[ep.cell_id][seat]
                counts = out.setdefault(seat, {}).setdefault(agent, {})
                counts[label] = counts.get(label, 0) + 1
    mixed = {seat: {a: c for a, c in agents.items() if len(c) > 1} for seat, agents in out.items()}
    return {seat: agents for seat, agents in mixed.items() if agents}


def _claims(folder: Path, env: str, samples: Sequence[Any]) -> list[tuple[str, Any]]:
    from analysis.claims_bridge import claims_for_episodes, collapse_inapplicable
    from arena.store import Store

    episodes: list[dict[str, Any]] = []
    with Store(Path(folder) / "store.sqlite", create=False) as store:
        for cell in samples:
            taken = 0
            for ep in store.iter_episodes([cell.cell_id], with_records=True):
                if ep.status != "ok" or ep.record is None:
                    continue
                episodes.append({**ep.record, "rewards": ep.rewards})
                taken += 1
                if taken >= CLAIM_EPISODES_PER_CELL:
                    break
    if not episodes:
        return []
    # Claims that cannot read this game share one row (the report is for people).
    return collapse_inapplicable(claims_for_episodes(env, episodes))


# ----------------------------------------------------------------------------- rendering
def _fmt(value: Any, digits: int = 3) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        if math.isnan(value):
            return "n/a"
        return f"{value:.{digits}g}" if abs(value) < 1e4 else f"{value:,.0f}"
    return str(value)


def _interval(point: Any, low: Any, high: Any, digits: int = 3) -> str:
    if point is None:
        return "-"
    if (
        low is None
        or high is None
        or any(isinstance(v, float) and math.isnan(v) for v in (low, high))
    ):
        return _fmt(point, digits)
    return f"{point:.{digits}f} [{low:.{digits}f}, {high:.{digits}f}]"


def _tables(analysis: TournamentAnalysis) -> list[tuple[str, list[str], list[list[str]], str]]:
    """(heading, columns, rows, note) for every table, shared by Markdown and HTML."""
    tables: list[tuple[str, list[str], list[list[str]], str]] = []
    seats = analysis.seats
    columns = [*seats, "n", "failed"]
    columns += [f"{seat} reward" for seat in seats]
    columns += list(analysis.metric_names.values())
    rows = []
    for cell in analysis.cells:
        row = [cell["agents"][s] for s in seats] + [str(cell["n"]), str(cell["failed"])]
        for seat in seats:
            stat = cell["rewards"].get(seat)
            row.append(_interval(stat["mean"], stat["lower"], stat["upper"]) if stat else "-")
        for name in analysis.metric_names:
            stat = cell["metrics"].get(name)
            row.append(
                f"{_interval(stat['value'], stat['lower'], stat['upper'])} (n={stat['n']})"
                if stat and stat["n"]
                else "-"
            )
        rows.append(row)
    tables.append(
        (
            "Payoff matrix",
            columns,
            rows,
            "Mean total reward per seat with a 95% t-interval; rates with 95% Wilson "
            "intervals over the episodes they count (attack success on harmful seeds, "
            "over-refusal on benign ones).",
        )
    )
    emp = analysis.empirical
    if emp is not None:
        for pop in emp["populations"]:
            cols = [
                "agent",
                "equilibrium weight",
                "P(in support)",
                "payoff vs equilibrium",
                "regret",
            ]
            has_na = any("nash_averaging" in r for r in pop["rows"])
            has_ar = any("alpha_rank" in r for r in pop["rows"])
            cols += ["Nash averaging"] * has_na + ["alpha-rank"] * has_ar
            body = []
            for r in pop["rows"]:
                line = [
                    r["agent"],
                    _interval(r["equilibrium"], r["equilibrium_lower"], r["equilibrium_upper"]),
                    f"{r['support_probability']:.2f}",
                    _interval(
                        r["payoff_vs_equilibrium"],
                        r["payoff_vs_equilibrium_lower"],
                        r["payoff_vs_equilibrium_upper"],
                    ),
                    _interval(r["regret"], r["regret_lower"], r["regret_upper"]),
                ]
                if has_na:
                    line.append(
                        _interval(
                            r.get("nash_averaging"),
                            r.get("nash_averaging_lower"),
                            r.get("nash_averaging_upper"),
                        )
                    )
                if has_ar:
                    line.append(
                        _interval(
                            r.get("alpha_rank"),
                            r.get("alpha_rank_lower"),
                            r.get("alpha_rank_upper"),
                        )
                    )
                body.append(line)
            value = ", ".join(
                _interval(v, lo, hi)
                for v, lo, hi in zip(
                    emp["value"], emp["value_lower"], emp["value_upper"], strict=True
                )
            )
            tables.append(
                (
                    f"Empirical game: {pop['player']}",
                    cols,
                    body,
                    f"Equilibrium ({emp['method']}) of the game of cell means; value {value}. "
                    f"Intervals: {emp['n_boot']} bootstrap replicates over episodes "
                    f"({emp['failed_replicates']} failed). Regret = value − payoff vs the "
                    "equilibrium: each agent's exploitability in it (0 on the support)."
                    + ("" if has_na else _NO_NASH_AVERAGING),
                )
            )
    tables += _seat_mean_tables(analysis)
    if analysis.ratings is not None:
        for key, title in (("elo", "Elo"), ("bradley_terry", "Bradley-Terry")):
            body = [
                [
                    r["agent"],
                    _interval(r["rating"], r["lower"], r["upper"], 0),
                    f"{r['rank']} ({r['rank_best']}–{r['rank_worst']})",
                    str(r["games"]),
                ]
                for r in analysis.ratings[key]
            ]
            note = analysis.ratings.get(f"{key}_note") or ""
            tables.append(
                (
                    f"{title} ratings",
                    ["agent", "rating [95%]", "rank (range)", "games"],
                    body,
                    "An episode is a win for the seat with the higher reward (ties half). " + note,
                )
            )
    if analysis.paired:
        body = [
            [
                p["seat"],
                p["outcome"],
                f"{p['a']} vs {p['b']}",
                p["test"],
                str(p["n"]),
                f"{_interval(p['effect'], p['lower'], p['upper'])} ({p['effect_name']})",
                _fmt(p["p_holm"]),
                p["verdict"],
            ]
            for p in analysis.paired
        ]
        tables.append(
            (
                "Paired tests (same opponents, same episode seeds)",
                ["seat", "outcome", "agents", "test", "n", "effect [95%]", "p (Holm)", "verdict"],
                body,
                "Binary outcomes: McNemar's test; rewards: paired t-test. p-values are "
                "Holm-adjusted within each seat (a round robin: within its roster, an "
                "agent's episodes in either seat), and each verdict follows the adjusted "
                "p-value; effect intervals are per test (not adjusted).",
            )
        )
    if analysis.failures:
        body = [
            [
                ", ".join(f"{s}={a}" for s, a in f["agents"].items()),
                str(f["failed"]),
                "; ".join(f"seed {seed}: {reason}" for seed, reason in f["examples"][:2]),
            ]
            for f in analysis.failures
        ]
        tables.append(("Failed episodes", ["cell", "failed", "first reasons"], body, ""))
    if analysis.claims:
        body = [list(row) for row in analysis.claims]
        tables.append(
            (
                "Claims on this tournament's episodes",
                ["claim", "verdict", "n", "interval", "evidence"],
                body,
                f"Each claim reads up to {CLAIM_EPISODES_PER_CELL:,} episodes per cell "
                "(docs/claims.md explains each adapter).",
            )
        )
    return tables


_NO_NASH_AVERAGING = (
    " No Nash-averaging column: Nash averaging is defined for constant-sum games, and "
    "this one is not."
)


def _seat_mean_tables(
    analysis: TournamentAnalysis,
) -> list[tuple[str, list[str], list[list[str]], str]]:
    """Per-seat rankings of an asymmetric game, in place of a cross-seat ladder; the first
    table's note says why there is no ladder (``ratings_note``)."""
    tables = []
    why = analysis.ratings_note
    for seat, rows in analysis.seat_means.items():
        body = [
            [
                str(rank),
                r["agent"],
                _interval(r["mean"], r["lower"], r["upper"]),
                str(r["opponents"]),
                str(r["seeds"]),
            ]
            for rank, r in enumerate(rows, start=1)
        ]
        note = (
            f"Mean {seat} reward against the opponents every {seat} agent faced (each "
            "opponent weighted equally, averaged per episode seed; 95% t-interval over "
            "seeds). Overlapping intervals do not separate two agents."
        )
        tables.append(
            (
                f"Ranking within the {seat} seat",
                ["rank", "agent", "mean reward [95%]", "opponents", "seeds"],
                body,
                f"{why} {note}" if why else note,
            )
        )
        why = ""
    return tables


def _markdown(analysis: TournamentAnalysis, figures: Sequence[Path], folder: Path) -> str:
    lines = [f"# Tournament report: {analysis.env}", ""]
    for warning in analysis.warnings:
        lines += [f"> **Warning:** {warning}", ""]
    lines += _intro(analysis)
    for path in figures:
        lines += [f"![{path.stem}]({path.relative_to(folder).as_posix()})", ""]
    for heading, columns, rows, note in _tables(analysis):
        lines += [f"## {heading}", ""]
        if note:
            lines += [note, ""]
        lines.append("| " + " | ".join(columns) + " |")
        lines.append("|" + "---|" * len(columns))
        for row in rows:
            lines.append("| " + " | ".join(str(c).replace("|", "/") for c in row) + " |")
        lines.append("")
    for note in _closing_notes(analysis):
        if note:
            lines += [f"> {note}", ""]
    return "\n".join(lines)


def _closing_notes(analysis: TournamentAnalysis) -> tuple[str, ...]:
    """Why a section is missing; the ratings note already heads the per-seat rankings."""
    if analysis.seat_means:
        return (analysis.empirical_note,)
    return (analysis.empirical_note, analysis.ratings_note)


def _intro(analysis: TournamentAnalysis) -> list[str]:
    spec = analysis.spec
    rosters = "; ".join(f"{seat}: {', '.join(a)}" for seat, a in analysis.rosters.items())
    return [
        f"{spec['mode']} tournament, {spec['episodes']} episodes per cell, run seed "
        f"{spec['seed']}{', judge ' + str(spec['judge']) if spec['judge'] else ''}. "
        f"{analysis.episodes_ok:,} finished episodes, {analysis.episodes_failed:,} failed. "
        f"Rosters — {rosters}. Written {_dt.datetime.now().isoformat(timespec='seconds')}.",
        "",
    ]


_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:2em auto;max-width:1200px;
color:#222;padding:0 1em}
table{border-collapse:collapse;margin:.5em 0 1.5em;font-size:13px}
th,td{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f3f3f3} img{max-width:100%;border:1px solid #eee;margin:.5em 0}
.note{color:#555;font-size:13px} h2{margin-top:1.6em}
.warning{background:#fff3cd;border:2px solid #d39e00;padding:.6em 1em;font-size:15px}
"""


def _html(analysis: TournamentAnalysis, figures: Sequence[Path]) -> str:
    esc = html.escape
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>Tournament report: {esc(analysis.env)}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>Tournament report: {esc(analysis.env)}</h1>",
        *(
            f'<p class="warning"><strong>Warning:</strong> {esc(warning)}</p>'
            for warning in analysis.warnings
        ),
        f"<p>{esc(_intro(analysis)[0])}</p>",
    ]
    for path in figures:
        data = base64.b64encode(path.read_bytes()).decode()
        parts.append(f'<img alt="{esc(path.stem)}" src="data:image/png;base64,{data}">')
    for heading, columns, rows, note in _tables(analysis):
        parts.append(f"<h2>{esc(heading)}</h2>")
        if note:
            parts.append(f'<p class="note">{esc(note)}</p>')
        parts.append("<table><thead><tr>")
        parts.extend(f"<th>{esc(c)}</th>" for c in columns)
        parts.append("</tr></thead><tbody>")
        for row in rows:
            parts.append("<tr>" + "".join(f"<td>{esc(str(c))}</td>" for c in row) + "</tr>")
        parts.append("</tbody></table>")
    for note in _closing_notes(analysis):
        if note:
            parts.append(f'<p class="note">{esc(note)}</p>')
    parts.append("</body></html>")
    return "\n".join(parts)


def _json_ready(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Mapping):
        return {str(k): _json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_ready(v) for v in value]
    if isinstance(value, np.generic):
        return _json_ready(value.item())
    return value


def render_tournament_report(folder: Path, *, bootstrap: int = 200, seed: int = 0) -> ReportPaths:
    """Analyse the tournament in ``folder``; write report.html, report.md, analysis.json."""
    from dataclasses import asdict

    folder = Path(folder)
    analysis = analyze_tournament(folder, bootstrap=bootstrap, seed=seed)
    figures = render_figures(analysis, folder / "figures")
    markdown = folder / "report.md"
    page = folder / "report.html"
    data = folder / "analysis.json"
    tmp = folder / ".report.tmp"
    tmp.write_text(_markdown(analysis, figures, folder), encoding="utf-8")
    tmp.replace(markdown)
    tmp.write_text(_html(analysis, figures), encoding="utf-8")
    tmp.replace(page)
    tmp.write_text(json.dumps(_json_ready(asdict(analysis)), indent=1) + "\n", encoding="utf-8")
    tmp.replace(data)
    return ReportPaths(page, markdown, data, figures)
