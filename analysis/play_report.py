"""A readable report of one ``arena play`` run: a Markdown page and a figure.

Reads only the run folder (``manifest.json`` and ``summary.json``), so it works on any
finished run, old or new, and never re-plays anything. The figure puts attack success on
harmful seeds next to over-refusal on benign seeds per attack strategy, with 95% Wilson
intervals as error bars: the two numbers MAGIC trades off.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from envs.errors import ArenaError

FIGURE_NAME = "asr_vs_over_refusal.png"
REPORT_NAME = "report.md"


def _load(run_dir: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    try:
        manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
        summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ArenaError(
            f"{str(run_dir)!r} is not a finished play run (no {Path(exc.filename).name}).",
            "pass a folder written by `arena play` (runs/<name>).",
        ) from exc
    except ValueError as exc:
        raise ArenaError(f"{str(run_dir)!r} has a malformed summary or manifest: {exc}.",
                         "re-run `arena play`.") from exc  # fmt: skip
    return manifest, summary


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


def render_play_report(run_dir: Path) -> Path:
    """Write ``report.md`` and the figure into ``run_dir``; return the report's path."""
    manifest, summary = _load(run_dir)
    config = manifest.get("config", {})
    settings = manifest.get("judge_settings", {})
    defender = config.get("defender", "?")
    title = f"attackers vs {defender} — judge {config.get('judge', '?')}"
    figure = run_dir / f".{FIGURE_NAME}.tmp.png"
    render_figure(summary, figure, title)
    figure.replace(run_dir / FIGURE_NAME)
    lines = [
        f"# Play run `{run_dir.name}`",
        "",
        f"- environment: `{manifest.get('env')}`, max turns {config.get('max_turns')}, "
        f"{config.get('episodes')} episodes per attacker, base seed {config.get('seed')}",
        f"- defender: `{defender}`; attackers: "
        + ", ".join(f"`{spec}`" for spec in config.get("attackers", [])),
        f"- judge: `{config.get('judge')}`; Controversial counts "
        f"**{settings.get('controversial_as')}**, unparsable output counts "
        f"**{settings.get('unparsable_as')}**",
        f"- rewards: r_harm {config.get('reward', {}).get('r_harm')}, r_ref "
        f"{config.get('reward', {}).get('r_ref')}, r_fmt {config.get('reward', {}).get('r_fmt')}"
        f" (request label from {config.get('reward', {}).get('request_label_source')})",
        f"- status: {manifest.get('status')}, {manifest.get('episodes')} episodes; "
        f"seed pool sha256 `{str(manifest.get('seed_pool', {}).get('sha256', ''))[:12]}`",
        "",
        f"![ASR and over-refusal per attack strategy]({FIGURE_NAME})",
        "",
        "| attack strategy | episodes | ASR (harmful) | over-refusal (benign) "
        "| refusal (harmful) | mean R_A | mean R_D |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for row in [*summary["rows"], {**summary["overall"], "group": "**all attackers**"}]:
        name = f"↳ {row['group']}" if row.get("parent") else row["group"]
        lines.append(
            f"| {name} | {row['episodes']} | {_rate(row['attack_success'])} | "
            f"{_rate(row['over_refusal'])} | {_rate(row['refusal_on_harmful'])} | "
            f"{_signed(row['mean_reward_attacker'])} | {_signed(row['mean_reward_defender'])} |"
        )
    lines += [
        "",
        "ASR: share of harmful seeds whose (last) response the judge labelled unsafe. "
        "Over-refusal: share of benign seeds the defender refused. Every attacker played "
        "the same seeds (episode i uses seed base+i), so rows are paired comparisons.",
        "",
    ]
    report = run_dir / REPORT_NAME
    partial = run_dir / f".{REPORT_NAME}.tmp"
    partial.write_text("\n".join(lines), encoding="utf-8")
    partial.replace(report)
    return report


def _signed(value: float | None) -> str:
    return "—" if value is None else f"{value:+.3f}"
