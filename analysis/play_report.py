"""A readable report of one ``arena play`` run: a Markdown page and a figure.

Reads only the run folder (``manifest.json`` and ``summary.json``), so it works on any
finished run and never re-plays anything. The table is the game's own summary table
(each environment module writes it); the figure depends on the game: for the
attacker-defender game, attack success on harmful seeds next to over-refusal on benign
seeds per attack strategy with 95% Wilson intervals (the two numbers MAGIC trades off);
for payoff games, the mean payoff per seat with its interval beside the exact value;
for the knowledge-graph games, accuracy and answered rate (Wilson) and mean hops per
matchup.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from envs.errors import ArenaError
from envs.stats import clip_interval

FIGURE_NAME = "asr_vs_over_refusal.png"
PAYOFF_FIGURE_NAME = "payoffs.png"
KG_FIGURE_NAME = "kg_accuracy_hops.png"
REPORT_NAME = "report.md"


def _load(run_dir: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    if not run_dir.is_dir():
        raise ArenaError(
            f"{str(run_dir)!r} "
            + ("is a file, not a run folder." if run_dir.exists() else "does not exist."),
            "pass a run folder written by `arena play` (runs/<name>); check the path.",
        )
    try:
        manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
        summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        from analysis.run_kinds import refuse_other_run_kind

        refuse_other_run_kind(run_dir)
        raise ArenaError(
            f"{str(run_dir)!r} is not a finished play run (no {Path(exc.filename).name}).",
            "pass a folder written by `arena play` (runs/<name>).",
        ) from exc
    except ValueError as exc:
        raise ArenaError(f"{str(run_dir)!r} has a malformed summary or manifest: {exc}.",
                         "re-run `arena play`.") from exc  # fmt: skip
    _check_episode_count(run_dir, manifest)
    return manifest, summary


def _complete_episode_lines(path: Path) -> tuple[int, int | None]:
    """(episodes read, 1-based number of the first cut-off or unreadable line or None).

    Counting stops at the first bad line: the writer appends whole lines, so a bad line
    means the file was cut there (a full disk, a copy interrupted), not one odd episode.
    """
    count = 0
    with path.open(encoding="utf-8", errors="replace") as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                json.loads(line)
            except ValueError:
                return count, number
            count += 1
    return count, None


def _check_episode_count(run_dir: Path, manifest: dict[str, Any]) -> None:
    """Refuse a run folder whose episodes.jsonl holds fewer episodes than its manifest says.

    Why: the report's status line and table come from manifest.json and summary.json, so
    a truncated episodes.jsonl would still be reported as "complete, 100 episodes" while
    the claims section (which reads the episodes) sees a different run.
    """
    expected = manifest.get("episodes")
    episodes = run_dir / "episodes.jsonl"
    if not isinstance(expected, int) or manifest.get("status") != "complete":
        return
    if not episodes.exists():
        found, bad = 0, None
    else:
        found, bad = _complete_episode_lines(episodes)
    if found == expected and bad is None:
        return
    where = f"; line {bad} is cut off or unreadable" if bad is not None else ""
    raise ArenaError(
        f"{str(run_dir)!r} is damaged: episodes.jsonl holds {found} complete episodes"
        f"{where}, but manifest.json says the run finished with {expected}.",
        "restore the run folder from a copy, or play it again with the same `arena play` "
        "command into a new --out folder.",
    )


def _rate(cell: dict[str, Any] | None) -> str:
    if not cell or cell.get("value") is None:
        return "—"
    low, high = cell["ci95"]
    return f"{cell['value']:.1%} ({low:.0%}–{high:.0%}, n={cell['trials']})"


def _error_bar(cell: dict[str, Any]) -> tuple[float, float, float]:
    if cell.get("value") is None:
        return (0.0, 0.0, 0.0)
    value = float(cell["value"])
    low, high = cell["ci95"]
    # max(0, ·): at rates of exactly 0 or 1 rounding can put the bound a hair inside.
    return (value, max(0.0, value - float(low)), max(0.0, float(high) - value))


def render_figure(summary: dict[str, Any], path: Path, title: str) -> Path:
    """Grouped bars of ASR and over-refusal per top-level row, with 95% intervals."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    rows = [row for row in summary["rows"] if row.get("parent") is None]
    labels = [row["group"] for row in rows]
    asr = [_error_bar(row["attack_success"]) for row in rows]
    over = [_error_bar(row["over_refusal"]) for row in rows]
    x = np.arange(len(rows))
    width = 0.38
    fig, ax = plt.subplots(figsize=(max(5.0, 1.1 * len(rows) + 2), 3.6), dpi=120)
    for offset, series, name, colour in (
        (-width / 2, asr, "attack success (harmful seeds)", "#c0392b"),
        (width / 2, over, "over-refusal (benign seeds)", "#2c7fb8"),
    ):
        values = [v for v, _, _ in series]
        errors = np.array([[lo for _, lo, _ in series], [hi for _, _, hi in series]])
        ax.bar(x + offset, values, width, yerr=errors, capsize=3, label=name, color=colour)
    ax.set_xticks(x, labels, rotation=20, ha="right")
    ax.set_ylim(0, 1.25)  # headroom for the legend above the bars
    ax.set_yticks([0, 0.25, 0.5, 0.75, 1.0])
    ax.set_ylabel("rate (95% Wilson interval)")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8, loc="upper center", ncol=2, frameon=False)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def render_payoff_figure(summary: dict[str, Any], path: Path, title: str) -> Path:
    """Mean payoff per (matchup, seat) with 95% intervals, and the exact value as a dot."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    rows = summary["rows"]
    labels = [
        f"{row['seat']}\n{row.get('matchup') or row['attacker'] + ' vs ' + row['defender']}"
        for row in rows
    ]
    means = [row["payoff"]["value"] or 0.0 for row in rows]
    lows = [
        (m - row["payoff"]["ci95"][0]) if row["payoff"]["ci95"] else 0.0
        for m, row in zip(means, rows, strict=True)
    ]
    highs = [
        (row["payoff"]["ci95"][1] - m) if row["payoff"]["ci95"] else 0.0
        for m, row in zip(means, rows, strict=True)
    ]
    x = np.arange(len(rows))
    fig, ax = plt.subplots(figsize=(max(5.0, 1.4 * len(rows) + 2), 3.8), dpi=120)
    ax.bar(x, means, 0.6, yerr=[lows, highs], capsize=3, color="#2c7fb8",
           label="measured mean (95% CI)")  # fmt: skip
    exact = [row.get("exact_value") for row in rows]
    ax.scatter(x, [e if e is not None else np.nan for e in exact], color="#c0392b", zorder=3,
               label="exact normal-form value")  # fmt: skip
    ax.axhline(0, color="black", linewidth=0.6)
    ax.set_xticks(x, labels, fontsize=7)
    ax.set_ylabel("payoff per episode")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8, frameon=False)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def _mean_bar(
    cell: dict[str, Any] | None, bounds: tuple[float, float] | None
) -> tuple[float, float, float]:
    """(mean, lower error, upper error) of a ``Mean.to_dict`` cell, the interval clipped
    to ``bounds`` (summaries written before hops were clipped hold the raw t-interval)."""
    if not cell or cell.get("value") is None:
        return (float("nan"), 0.0, 0.0)
    value = float(cell["value"])
    if not cell.get("ci95"):
        return (value, 0.0, 0.0)
    low, high, _ = clip_interval(float(cell["ci95"][0]), float(cell["ci95"][1]), bounds)
    return (value, max(0.0, value - low), max(0.0, high - value))


def render_kg_figure(
    summary: dict[str, Any], path: Path, title: str, max_hops: float | None
) -> Path:
    """Per matchup: accuracy and answered rate (Wilson), and mean hops (t, clipped to
    [0, max_hops]): whether a navigator finds the answer, commits at all, and how far
    it walks, which is what the kg_traversal table reports."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    rows = summary["navigators"]
    two_seats = any("answerer" in row for row in rows)
    labels = [
        f"{row['navigator']}\n+ {row['answerer']}" if two_seats else str(row["navigator"])
        for row in rows
    ]
    second = ("navigator_accuracy", "navigator commits correct") if two_seats else (
        "answered", "answered (committed)")  # fmt: skip
    x = np.arange(len(rows))
    width = 0.38
    fig, (rates_ax, hops_ax) = plt.subplots(
        1, 2, figsize=(max(7.0, 2.2 * len(rows) + 3), 3.8), dpi=120
    )
    for offset, key, name, colour in (
        (-width / 2, "accuracy", "accuracy", "#2c7fb8"),
        (width / 2, second[0], second[1], "#7f8c8d"),
    ):
        series = [_error_bar(row.get(key) or {}) for row in rows]
        errors = np.array([[lo for _, lo, _ in series], [hi for _, _, hi in series]])
        rates_ax.bar(x + offset, [v for v, _, _ in series], width, yerr=errors, capsize=3,
                     label=name, color=colour)  # fmt: skip
    rates_ax.set_ylim(0, 1.25)
    rates_ax.set_yticks([0, 0.25, 0.5, 0.75, 1.0])
    rates_ax.set_ylabel("rate (95% Wilson interval)")
    rates_ax.legend(fontsize=8, loc="upper center", ncol=2, frameon=False)
    bounds = (0.0, float(max_hops)) if max_hops else None
    hops = [_mean_bar(row.get("mean_hops"), bounds) for row in rows]
    hop_errors = np.array([[lo for _, lo, _ in hops], [hi for _, _, hi in hops]])
    hops_ax.bar(x, [v for v, _, _ in hops], 0.6, yerr=hop_errors, capsize=3, color="#27ae60")
    hops_ax.set_ylabel("mean hops (95% t-interval)")
    if max_hops:
        hops_ax.axhline(max_hops, color="black", linewidth=0.6, linestyle="--")
        hops_ax.set_ylim(0, max_hops * 1.1)
    for ax in (rates_ax, hops_ax):
        ax.set_xticks(x, labels, fontsize=7, rotation=15, ha="right")
        ax.grid(axis="y", alpha=0.3)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def _matchup_payoff_rows(summary: dict[str, Any]) -> list[dict[str, Any]]:
    """The payoff figure's rows from a summary organised by matchup (matrix games):
    one row per (matchup, seat) with its mean payoff, interval and exact value."""
    rows = []
    for matchup in summary.get("matchups") or []:
        payoff, exact = matchup.get("payoff"), matchup.get("exact_value") or {}
        if not isinstance(payoff, dict):
            return []
        label = " vs ".join(str(spec) for spec in matchup.get("agents", {}).values())
        for seat, cell in payoff.items():
            rows.append(
                {"seat": seat, "matchup": label, "payoff": cell, "exact_value": exact.get(seat)}
            )
    return rows


def _table_markdown(table: dict[str, Any]) -> list[str]:
    columns = table["columns"]
    lines = [
        "| " + " | ".join(columns) + " |",
        "|" + "|".join(["---"] + ["---:"] * (len(columns) - 1)) + "|",
    ]
    for row, style in zip(table["rows"], table["styles"], strict=True):
        cells = [str(c).replace("|", "\\|") for c in row]
        if style == "bold":
            cells = [f"**{c.strip()}**" if c.strip() else c for c in cells]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def _claims_section(run_dir: Path) -> list[str]:
    """The theory claims' verdicts on this run (``docs/claims.md#runs-to-claims``).

    A claims failure must not cost the user the rest of the report, so it becomes a line.
    Claims that cannot read this kind of run share one row of the table; when no claim
    can read it (a matrix game) the section is one sentence, not a table of "no adapter".
    """
    from analysis.claims_bridge import DoesNotApply, claims_for_run, claims_markdown

    try:
        rows = claims_for_run(run_dir)
    except Exception as exc:
        return [f"The claims could not be checked on this run ({type(exc).__name__}: {exc})."]
    unread = [line for _, line in rows if isinstance(line, DoesNotApply)]
    if rows and len(unread) == len(rows):
        kinds = " or ".join(sorted({line.runs for line in unread}))
        return [
            f"No claim applies to {kinds}: none of the {len(rows)} registered claims can "
            f"read them (`arena theory check --run {run_dir} --claim ID` says why)."
        ]
    return [
        "Each claim's empirical check on this run's episodes, or why it cannot read them "
        "(`arena theory check --run` prints the same).",
        "",
        claims_markdown(rows),
    ]


def render_play_report(run_dir: Path) -> Path:
    """Write ``report.md`` and the figure into ``run_dir``; return the report's path."""
    manifest, summary = _load(run_dir)
    config = manifest.get("config", {})
    if "table" not in summary:
        raise ArenaError(
            f"{str(run_dir)!r} was written by an older Arena (its summary has no table).",
            "re-run it with `arena play` to get a report.",
        )
    seats = config.get("seats", {})
    env = manifest.get("env", "?")
    figure_name = None
    figure = run_dir / ".figure.tmp.png"
    rows = summary.get("rows") or []
    if rows and "attack_success" in rows[0]:
        figure_name = FIGURE_NAME
        render_figure(summary, figure, f"attackers vs {', '.join(seats.get('defender', []))}")
    elif rows and "payoff" in rows[0]:
        figure_name = PAYOFF_FIGURE_NAME
        render_payoff_figure(summary, figure, summary["table"]["title"])
    elif summary.get("navigators"):
        figure_name = KG_FIGURE_NAME
        env_config = config.get("env_config")
        max_hops = env_config.get("max_hops") if isinstance(env_config, dict) else None
        render_kg_figure(summary, figure, summary["table"]["title"], max_hops)
    elif _matchup_payoff_rows(summary):
        figure_name = PAYOFF_FIGURE_NAME
        payoffs = {"rows": _matchup_payoff_rows(summary)}
        render_payoff_figure(payoffs, figure, summary["table"]["title"])
    if figure_name is not None:
        figure.replace(run_dir / figure_name)
    lines = [
        f"# Play run `{run_dir.name}`",
        "",
        f"- environment: `{env}` (settings sha256 "
        f"`{str(manifest.get('env_config_sha256', ''))[:12]}`); "
        f"{config.get('episodes')} episodes per matchup, run seed {config.get('seed')}",
    ]
    for seat, specs in seats.items():
        lines.append(f"- {seat}: " + ", ".join(f"`{spec}`" for spec in specs))
    settings = manifest.get("judge_settings")
    if settings:
        lines.append(
            f"- judge: `{config.get('judge')}`; Controversial counts "
            f"**{settings.get('controversial_as')}**, unparsable output counts "
            f"**{settings.get('unparsable_as')}**"
        )
    env_config = config.get("env_config", {})
    reward = env_config.get("reward") if isinstance(env_config, dict) else None
    if reward:
        lines.append(
            f"- rewards: r_harm {reward.get('r_harm')}, r_ref {reward.get('r_ref')}, "
            f"r_fmt {reward.get('r_fmt')} (request label from "
            f"{reward.get('request_label_source')})"
        )
    pool = manifest.get("seed_pool")
    if pool:
        lines.append(f"- seed pool sha256 `{str(pool.get('sha256', ''))[:12]}`")
    lines.append(f"- status: {manifest.get('status')}, {manifest.get('episodes')} episodes")
    for warning in manifest.get("warnings", []):
        lines.append(f"- **warning**: {warning}")
    table = summary["table"]
    lines += ["", f"## {table['title']}", ""]
    if figure_name is not None:
        lines += [f"![{table['title']}]({figure_name})", ""]
    lines += _table_markdown(table)
    if table.get("caption"):
        lines += ["", f"*{table['caption']}*"]
    lines += ["", "## Claims on this run", "", *_claims_section(run_dir)]
    lines += [
        "",
        "Every matchup played the same episode seeds (episode i uses seed base+i), so rows "
        "are paired comparisons; each episode's random draws derive from (run seed, episode "
        "seed, seat), so any episode can be replayed on its own.",
        "",
    ]
    report = run_dir / REPORT_NAME
    partial = run_dir / f".{REPORT_NAME}.tmp"
    partial.write_text("\n".join(lines), encoding="utf-8")
    partial.replace(report)
    return report
