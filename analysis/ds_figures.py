"""Figures of an ``arena ds run`` folder (matplotlib, PNG), from its plain data only.

Why these four: the DS question is *which component moved*, so the first figure puts
Δp, Δa and Δ(1−b) of every method side by side in and out of distribution; the second
shows the length law the claims T2/T3 are about (gradient norm per component vs L);
the third the training curves of p, a, b; the fourth the ρ and β sweeps.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from envs.stats import clip_interval

COMPONENTS = (
    ("p1", "Δp (first attempt)"),
    ("a", "Δa = ΔP(stop|correct)"),
    ("one_minus_b", "Δ(1−b) = ΔP(revise|wrong)"),
)


def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


RATE_BOUNDS = (0.0, 1.0)
"""An accuracy or a probability (p, a, 1−b) lies in [0, 1]."""
CHANGE_BOUNDS = (-1.0, 1.0)
"""A change of a rate, and the decision share ``gain_D/(|gain_S| + |gain_D|)``, lie in [−1, 1]."""


def bounded_interval(
    cell: Mapping[str, Any] | None, bounds: tuple[float, float]
) -> tuple[float, float, bool] | None:
    """The cell's (low, high) clipped to ``bounds``, and whether it was clipped.

    Why at read time: ``results.json`` of runs written before the summaries clipped
    hold raw t-intervals (2 seeds: t = 12.7, so ``0.40 [-0.65, 1.45]`` for an accuracy);
    clipping here makes the report and figures right for old and new runs alike.
    ``None`` when the cell has no interval.
    """
    if not cell or cell.get("low") is None or cell.get("high") is None:
        return None
    return clip_interval(float(cell["low"]), float(cell["high"]), bounds)


def _value(
    cell: Mapping[str, Any] | None, bounds: tuple[float, float] = CHANGE_BOUNDS
) -> tuple[float, float, float]:
    """(mean, lower error, upper error) with the interval clipped to ``bounds``, NaN-safe."""
    if not cell or cell.get("mean") is None:
        return float("nan"), 0.0, 0.0
    mean = float(cell["mean"])
    interval = bounded_interval(cell, bounds)
    if interval is None:
        return mean, 0.0, 0.0
    low, high, _ = interval
    return mean, max(mean - low, 0.0), max(high - mean, 0.0)


def deltas_figure(summary: Sequence[Mapping[str, Any]], path: Path, title: str) -> Path:
    plt = _plt()
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8), sharey=True)
    methods = [row["method"] for row in summary]
    width = 0.8 / max(len(methods), 1)
    for ax, split in zip(axes, ("id", "ood"), strict=True):
        for k, row in enumerate(summary):
            vals = [_value(row.get(f"{split}_{key}_delta")) for key, _ in COMPONENTS]
            xs = [i + (k - (len(methods) - 1) / 2) * width for i in range(len(COMPONENTS))]
            ax.bar(
                xs,
                [v[0] for v in vals],
                width,
                yerr=[[v[1] for v in vals], [v[2] for v in vals]],
                capsize=3,
                label=row["method"],
            )
        ax.axhline(0, color="black", linewidth=0.6)
        ax.set_xticks(range(len(COMPONENTS)), [label for _, label in COMPONENTS], fontsize=8)
        ax.set_title("in distribution" if split == "id" else "out of distribution")
    axes[0].set_ylabel("change after training (95% CI over seeds)")
    axes[0].legend(fontsize=8)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def lengths_figure(rows: Sequence[Mapping[str, Any]], path: Path) -> Path:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 4))
    lengths = [r["L"] for r in rows]
    styles = {"sft": "tab:blue", "kl": "tab:red", "rl": "tab:green"}
    for signal, color in styles.items():
        for part, mark in (("sample", "-o"), ("decision", "--s")):
            key = f"{signal}_{part}"
            ys = [r.get(key) for r in rows]
            if all(isinstance(y, (int, float)) and y > 0 for y in ys):
                ax.plot(lengths, ys, mark, color=color, label=f"{signal} → {part}")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("attempt length L (sampling tokens)")
    ax.set_ylabel("gradient norm reaching the component")
    ax.set_title("per-component gradient norm vs L", fontsize=10)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def training_figure(metrics_csv: Path, path: Path) -> Path | None:
    """Mean exact p, a, b over the main group's seeds per method (tabular runs)."""
    with metrics_csv.open(encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh) if r.get("group", "main") == "main"]
    if not rows or "p" not in rows[0]:
        return None
    plt = _plt()
    fig, axes = plt.subplots(1, 3, figsize=(11, 3.4), sharex=True)
    methods = list(dict.fromkeys(r["method"] for r in rows))
    for method in methods:
        mine = [r for r in rows if r["method"] == method]
        steps = sorted({int(r["step"]) for r in mine})
        for ax, key in zip(axes, ("p", "a", "b"), strict=True):
            means = []
            for s in steps:
                vals = [float(r[key]) for r in mine if int(r["step"]) == s and r[key]]
                means.append(sum(vals) / len(vals) if vals else float("nan"))
            ax.plot(steps, means, label=method)
            ax.set_title(
                {"p": "p (sampling)", "a": "a = P(stop|correct)", "b": "b = P(stop|wrong)"}[key],
                fontsize=9,
            )
    axes[0].legend(fontsize=8)
    for ax in axes:
        ax.set_xlabel("step")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def sweeps_figure(sweeps: Mapping[str, Sequence[Mapping[str, Any]]], path: Path) -> Path | None:
    present = [(k, v) for k, v in sweeps.items() if v]
    if not present:
        return None
    plt = _plt()
    fig, axes = plt.subplots(1, len(present), figsize=(5 * len(present), 3.6), squeeze=False)
    for ax, (key, rows) in zip(axes[0], present, strict=True):
        for method in dict.fromkeys(r["method"] for r in rows):
            mine = [r for r in rows if r["method"] == method]
            xs = [r[key] for r in mine]
            ax.plot(
                xs,
                [_value(r["id_accuracy_gain"])[0] for r in mine],
                "-o",
                label=f"{method}: accuracy gain",
            )
            ax.plot(
                xs,
                [_value(r["share_decision"])[0] for r in mine],
                "--s",
                label=f"{method}: decision share",
            )
        ax.set_xlabel("ρ (verifier hint accuracy)" if key == "rho" else "β (KL coefficient)")
        ax.axhline(0, color="black", linewidth=0.5)
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
