"""Figures of the tournament report (matplotlib, Agg): payoff heatmaps with intervals,
the empirical game's equilibrium and regret, ratings (an asymmetric game: each seat's
mean reward, see :mod:`analysis.tournament_stats`), strategy frequencies.

Split from :mod:`analysis.tournament_report`, which computes what they draw.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from analysis.tournament_report import TournamentAnalysis

FIGURES = ("payoffs.png", "equilibrium.png", "ratings.png", "strategies.png")


def _short(spec: str, width: int = 28) -> str:
    return spec if len(spec) <= width else spec[: width - 1] + "…"


def _seat_means_figure(analysis: TournamentAnalysis, path: Path) -> Path:
    """An asymmetric game's per-seat rankings (no cross-seat ladder): one panel per seat,
    since the seats' rewards are on different scales."""
    import matplotlib.pyplot as plt

    seats = [(seat, rows) for seat, rows in analysis.seat_means.items() if rows]
    height = 0.45 * max(len(rows) for _, rows in seats) + 2
    fig, axes = plt.subplots(1, len(seats), figsize=(6 * len(seats), height), squeeze=False)
    for ax, (seat, rows) in zip(axes[0], seats, strict=True):
        y = np.arange(len(rows))
        point = np.array([r["mean"] for r in rows], dtype=float)
        low = np.array([r["lower"] for r in rows], dtype=float)
        high = np.array([r["upper"] for r in rows], dtype=float)
        err = np.nan_to_num(
            np.vstack([np.clip(point - low, 0, None), np.clip(high - point, 0, None)])
        )
        ax.errorbar(point, y, xerr=err, fmt="o", capsize=3)
        ax.set_yticks(y, [_short(r["agent"], 34) for r in rows], fontsize=8)
        ax.invert_yaxis()
        ax.set_title(f"{seat}: mean reward vs common opponents (95%)", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def render_figures(analysis: TournamentAnalysis, out: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out.mkdir(parents=True, exist_ok=True)
    for stale in FIGURES:  # a figure that no longer applies must not linger
        (out / stale).unlink(missing_ok=True)
    paths: list[Path] = []
    seats = analysis.seats
    rows_seat, cols_seat = seats[0], seats[1]
    if analysis.spec["mode"] == "round-robin":
        row_agents = col_agents = analysis.rosters["players"]
    else:
        row_agents, col_agents = analysis.rosters[rows_seat], analysis.rosters[cols_seat]
    lookup = {(c["agents"][rows_seat], c["agents"][cols_seat]): c for c in analysis.cells}
    panels: list[tuple[str, str, Any]] = [
        (f"{seat} reward", "mean", lambda c, seat=seat: (c["rewards"] or {}).get(seat))
        for seat in seats
    ]
    panels += [
        (label, "value", lambda c, name=name: (c["metrics"] or {}).get(name))
        for name, label in analysis.metric_names.items()
    ]
    ncols = min(2, len(panels))
    nrows = math.ceil(len(panels) / ncols)
    width = max(4.5, 1.4 * len(col_agents) + 3.0)
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(width * ncols, (1.0 * len(row_agents) + 2.4) * nrows), squeeze=False
    )
    for ax in axes.flat[len(panels) :]:
        ax.axis("off")
    for ax, (title, key, get) in zip(axes.flat, panels, strict=False):
        grid = np.full((len(row_agents), len(col_agents)), np.nan)
        text = [["" for _ in col_agents] for _ in row_agents]
        for i, a in enumerate(row_agents):
            for j, b in enumerate(col_agents):
                cell = lookup.get((a, b))
                stat = get(cell) if cell else None
                if stat is None or stat.get("n", 0) == 0:
                    continue
                grid[i, j] = stat[key]
                text[i][j] = (
                    f"{stat[key]:.2f}\n[{stat['lower']:.2f}, {stat['upper']:.2f}]\nn={stat['n']}"
                )
        image = ax.imshow(grid, cmap="viridis", aspect="auto")
        low, high = (
            np.nanmin(grid) if np.isfinite(grid).any() else 0,
            np.nanmax(grid) if np.isfinite(grid).any() else 1,
        )
        for i in range(len(row_agents)):
            for j in range(len(col_agents)):
                if text[i][j]:
                    bright = high > low and (grid[i, j] - low) / (high - low) > 0.6
                    ax.text(
                        j,
                        i,
                        text[i][j],
                        ha="center",
                        va="center",
                        fontsize=7,
                        color="black" if bright else "white",
                    )
        ax.set_xticks(
            range(len(col_agents)),
            [_short(a) for a in col_agents],
            rotation=30,
            ha="right",
            fontsize=8,
        )
        ax.set_yticks(range(len(row_agents)), [_short(a) for a in row_agents], fontsize=8)
        ax.set_xlabel(cols_seat)
        ax.set_ylabel(rows_seat)
        ax.set_title(title)
        fig.colorbar(image, ax=ax, shrink=0.8)
    fig.suptitle(f"{analysis.env}: cross-play payoffs (95% intervals)")
    fig.tight_layout()
    path = out / "payoffs.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    paths.append(path)
    if analysis.empirical is not None:
        pops = analysis.empirical["populations"]
        fig, axes = plt.subplots(2, len(pops), figsize=(6 * len(pops), 7), squeeze=False)
        for col, pop in enumerate(pops):
            rows = pop["rows"]
            labels = [_short(r["agent"], 22) for r in rows]
            y = np.arange(len(rows))
            for row_index, (name, title) in enumerate(
                (("equilibrium", "equilibrium weight"), ("regret", "regret vs equilibrium"))
            ):
                ax = axes[row_index][col]
                point = np.array([r[name] for r in rows])
                low = np.array([r[f"{name}_lower"] for r in rows])
                high = np.array([r[f"{name}_upper"] for r in rows])
                err = np.vstack([np.clip(point - low, 0, None), np.clip(high - point, 0, None)])
                err = np.nan_to_num(err)
                ax.barh(
                    y,
                    point,
                    xerr=err,
                    color="tab:blue" if name == "equilibrium" else "tab:red",
                    capsize=3,
                )
                ax.set_yticks(y, labels, fontsize=8)
                ax.invert_yaxis()
                ax.set_title(f"{pop['player']}: {title}")
                if name == "equilibrium":
                    for yy, r in zip(y, rows, strict=True):
                        ax.text(
                            max(float(r["equilibrium"]), 0) + 0.02,
                            yy,
                            f"P(support)={r['support_probability']:.2f}",
                            va="center",
                            fontsize=7,
                        )
                    ax.set_xlim(0, 1.35)
        fig.suptitle("empirical game: equilibrium and regret (bootstrap 95% intervals)")
        fig.tight_layout()
        path = out / "equilibrium.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        paths.append(path)
    if analysis.ratings is not None:
        methods = [("elo", "Elo"), ("bradley_terry", "Bradley-Terry")]
        fig, axes = plt.subplots(1, 2, figsize=(12, 0.45 * len(analysis.ratings["elo"]) + 2))
        for ax, (key, title) in zip(axes, methods, strict=True):
            rows = analysis.ratings[key]
            y = np.arange(len(rows))
            point = np.array([r["rating"] for r in rows])
            err = np.nan_to_num(
                np.vstack(
                    [
                        np.clip(point - np.array([r["lower"] for r in rows]), 0, None),
                        np.clip(np.array([r["upper"] for r in rows]) - point, 0, None),
                    ]
                )
            )
            ax.errorbar(point, y, xerr=err, fmt="o", capsize=3)
            ax.set_yticks(y, [_short(r["agent"], 34) for r in rows], fontsize=8)
            ax.invert_yaxis()
            ax.set_title(f"{title} rating (95% bootstrap interval)")
        fig.tight_layout()
        path = out / "ratings.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        paths.append(path)
    elif any(analysis.seat_means.values()):
        paths.append(_seat_means_figure(analysis, out / "ratings.png"))
    if analysis.strategies and any(analysis.strategies.values()):
        items = [
            (seat, agent, counts)
            for seat, agents in analysis.strategies.items()
            for agent, counts in agents.items()
        ]
        fig, axes = plt.subplots(len(items), 1, figsize=(8, 2.2 * len(items) + 0.5), squeeze=False)
        for ax, (seat, agent, counts) in zip(axes[:, 0], items, strict=True):
            ordered = sorted(counts.items(), key=lambda kv: -kv[1])[:15]
            total = sum(counts.values())
            ax.barh([_short(k, 30) for k, _ in ordered], [v / total for _, v in ordered])
            ax.invert_yaxis()
            ax.set_title(f"{seat} {agent}: strategy frequencies (n={total})", fontsize=9)
            ax.tick_params(labelsize=7)
        fig.tight_layout()
        path = out / "strategies.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        paths.append(path)
    return paths
