"""``report.md`` and figures for an ``arena ds run`` folder.

The report answers the DS question side by side: how much each training signal moved
``p`` (sampling), ``a = P(STOP|correct)`` and ``1 − b = P(REVISE|wrong)`` (deciding), in
and out of distribution; what the counterfactual swaps attribute to each component;
how the gradient reaching each component scales with the attempt length ``L``; and,
next to each, what the DS claims (reconstructed from the paper's abstract, see
``docs/ds.md``) predict, with their verdicts on this run's ``claim_records/``.

Reads only the run folder (``results.json``, ``metrics.csv``, ``claim_records/``);
imports ``theory`` through :mod:`analysis.claims_bridge`, never ``arena``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from analysis import ds_figures
from analysis.claims_bridge import claims_for_record_files, claims_markdown
from envs.errors import ArenaError

__all__ = ["is_ds_run", "render_ds_report"]


def is_ds_run(run_dir: Path) -> bool:
    """Whether ``run_dir`` was written by ``arena ds run`` (manifest kind ``ds_run``)."""
    try:
        manifest = json.loads((Path(run_dir) / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(manifest, dict) and manifest.get("kind") == "ds_run"


CLIPPED_MARK = "†"
CLIPPED_NOTE = (
    f"{CLIPPED_MARK} interval clipped to the possible range (accuracies [0, 1]; changes and "
    "decision shares [−1, 1]): the t-interval over so few runs reached past it "
    "(2 runs: t = 12.7), so read it as *n too small*."
)


def _fmt(
    cell: Mapping[str, Any] | None,
    signed: bool = False,
    bounds: tuple[float, float] | None = None,
) -> str:
    """``mean [low, high]``; the interval clipped to ``bounds`` (default: [0, 1] for an
    unsigned rate, [−1, 1] for a signed change) and marked with † when that cut it."""
    if not cell or cell.get("mean") is None:
        return "—"
    mean = float(cell["mean"])
    text = f"{mean:+.3f}" if signed else f"{mean:.3f}"
    bounds = bounds or (ds_figures.CHANGE_BOUNDS if signed else ds_figures.RATE_BOUNDS)
    interval = ds_figures.bounded_interval(cell, bounds)
    if interval is not None:
        low, high, clipped = interval
        mark = CLIPPED_MARK if clipped else ""
        text += f" [{low:+.2f}, {high:+.2f}]{mark}" if signed else f" [{low:.2f}, {high:.2f}]{mark}"
    return text


def _clip_notes(lines: Sequence[str]) -> list[str]:
    """The † footnote, only under tables that have a clipped interval."""
    return ["", CLIPPED_NOTE] if any(CLIPPED_MARK in line for line in lines) else []


def _summary_table(summary: Sequence[Mapping[str, Any]]) -> list[str]:
    lines = [
        "| method | runs | split | accuracy before → after | Δp (first attempt) | Δa | Δ(1−b) | "
        "decision share of the ID gain |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in summary:
        for split in ("id", "ood"):
            acc = (
                f"{_fmt(row.get(f'{split}_accuracy_before'))} → "
                f"{_fmt(row.get(f'{split}_accuracy_after'))}"
            )
            share = _fmt(row.get("share_decision"), signed=True) if split == "id" else ""
            lines.append(
                f"| {row['method']} | {row['runs']} | {split.upper()} | {acc} | "
                f"{_fmt(row.get(f'{split}_p1_delta'), True)} | "
                f"{_fmt(row.get(f'{split}_a_delta'), True)} | "
                f"{_fmt(row.get(f'{split}_one_minus_b_delta'), True)} | {share} |"
            )
    return lines


def _swap_table(swaps: Sequence[Mapping[str, Any]]) -> list[str]:
    if not swaps:
        return ["(no swaps: train at least one method)"]
    lines = ["| sampler from | decider from | ID accuracy | OOD accuracy |", "|---|---|---|---|"]
    for s in swaps:
        lines.append(
            f"| {s['sampler']} | {s['decider']} | {_fmt(s['id_accuracy'])} | "
            f"{_fmt(s['ood_accuracy'])} |"
        )
    return lines


def _length_table(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    if not rows:
        return []
    keys = [k for k in rows[0] if k != "L" and isinstance(rows[0][k], float)]
    lines = ["| L | " + " | ".join(keys) + " |", "|---" * (len(keys) + 1) + "|"]
    for r in rows:
        lines.append(
            f"| {r['L']} | " + " | ".join(f"{float(r.get(k, 0)):.4g}" for k in keys) + " |"
        )
    return lines


def _t1_table(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    if not rows:
        return []
    lines = [
        "| policy | seed | component | REINFORCE estimate ± se | exact ∂V_K/∂θ |",
        "|---|---|---|---|---|",
    ]
    for r in rows[:12]:
        for key in ("grad_theta_s", "grad_theta_a", "grad_theta_b"):
            lines.append(
                f"| {r['policy']} | {r['seed']} | {key} | {r[key]:+.4f} ± "
                f"{r['se_' + key]:.4f} | {r['exact'][key]:+.4f} |"
            )
    if len(rows) > 12:
        lines.append(f"(first 12 of {len(rows)} policies; all in claim_records/ds.t1.jsonl)")
    return lines


def _sweep_table(rows: Sequence[Mapping[str, Any]], key: str) -> list[str]:
    if not rows:
        return []
    lines = [
        f"| {key} | method | runs | ID accuracy after | ID gain | OOD accuracy after | "
        "decision share |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r[key]:g} | {r['method']} | {r['runs']} | {_fmt(r['id_accuracy_after'])} "
            f"| {_fmt(r['id_accuracy_gain'], True)} | {_fmt(r['ood_accuracy_after'])} | "
            f"{_fmt(r['share_decision'], True)} |"
        )
    return lines


def render_ds_report(run_dir: Path) -> list[Path]:
    """Write ``report.md`` and the figures into ``run_dir``; returns their paths
    (``report.md`` first). Raises :class:`ArenaError` if ``run_dir`` is no DS run."""
    run_dir = Path(run_dir)
    try:
        results = json.loads((run_dir / "results.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ArenaError(
            f"{str(run_dir)!r} has no readable results.json ({exc}).",
            "pass a folder written by `arena ds run`, or re-run it.",
        ) from exc
    policy = results.get("policy", "?")
    figures: list[Path] = []
    summary = results.get("summary", [])
    figures.append(
        ds_figures.deltas_figure(
            summary, run_dir / "deltas.png", f"what each signal moved ({policy})"
        )
    )
    attribution = results.get("attribution", {})
    if attribution.get("by_length"):
        figures.append(ds_figures.lengths_figure(attribution["by_length"], run_dir / "lengths.png"))
    if (run_dir / "metrics.csv").exists():
        fig = ds_figures.training_figure(run_dir / "metrics.csv", run_dir / "training.png")
        if fig is not None:
            figures.append(fig)
    sweeps = results.get("sweeps", {})
    sweep_fig = ds_figures.sweeps_figure(sweeps, run_dir / "sweeps.png")
    if sweep_fig is not None:
        figures.append(sweep_fig)
    verdicts = claims_for_record_files(run_dir)
    ds_rows = [(cid, out) for cid, out in verdicts if cid.startswith("ds.")]
    predictions = results.get("predictions", {})
    lines = [
        f"# Decide/sample run: {policy}",
        "",
        results.get("settings_note", ""),
        "",
        "The DS claims below are **reconstructed** from the paper's abstract (the full text "
        "was not readable); the toy model and theorem statements are ours (docs/ds.md).",
        "",
        "## What each training signal moved",
        "",
        "Means over seeds with 95% t intervals. p = first-attempt accuracy (sampling); "
        "a = P(STOP | attempt correct), 1−b = P(REVISE | attempt wrong) (deciding). The "
        "decision share is the counterfactual-swap share of the ID accuracy gain due to the "
        "decision head (theory.claims.ds.decision_attribution).",
        "",
        *_summary_table(summary),
        *_clip_notes(_summary_table(summary)),
        "",
        "![deltas](deltas.png)",
        "",
        "## What the claims predict, and their verdicts on this run",
        "",
        *[f"* **{cid}**: {text}" for cid, text in predictions.items()],
        "",
        claims_markdown(ds_rows),
        "",
        "## Counterfactual swaps (sampler from one model, decider from another)",
        "",
        *_swap_table(results.get("swaps", [])),
        *_clip_notes(_swap_table(results.get("swaps", []))),
        "",
        "## Gradient norm reaching each component vs attempt length L",
        "",
        f"Measured on {attribution.get('length_from', '?')}.",
        "",
        *_length_table(attribution.get("by_length", [])),
        "",
    ]
    if attribution.get("by_length"):
        lines += ["![lengths](lengths.png)", ""]
    if attribution.get("t1_vs_exact"):
        lines += [
            "### Policy-gradient estimates vs the exact gradient of V_K(p, a, b)",
            "",
            *_t1_table(attribution["t1_vs_exact"]),
            "",
        ]
    if (run_dir / "training.png").exists():
        lines += ["## Training curves", "", "![training](training.png)", ""]
    if sweep_fig is not None:
        lines += [
            "## Sweeps",
            "",
            *_sweep_table(sweeps.get("rho", []), "rho"),
            "",
            *_sweep_table(sweeps.get("beta", []), "beta"),
            *_clip_notes(
                [
                    *_sweep_table(sweeps.get("rho", []), "rho"),
                    *_sweep_table(sweeps.get("beta", []), "beta"),
                ]
            ),
            "",
            "![sweeps](sweeps.png)",
            "",
        ]
    notes = results.get("notes", [])
    if notes:
        lines += ["## Notes", "", *[f"* {n}" for n in notes], ""]
    report = run_dir / "report.md"
    report.write_text("\n".join(lines), encoding="utf-8")
    return [report, *figures]
