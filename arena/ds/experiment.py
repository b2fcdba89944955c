"""``arena ds run`` as a function: train, measure, attribute, write the run folder.

:func:`run` dispatches on the policy spec: ``tabular`` (:mod:`arena.ds.tabular_run`,
the claims' toy with a numpy-batched game) or ``hf:PATH_OR_TINY``
(:mod:`arena.ds.llm_run`, a causal LM whose sampling and decision tokens are masked
apart). Both produce the same summaries (:mod:`arena.ds.summary`), so the report and
the claims read one format.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from arena.ds import rundir
from arena.ds.attribution import by_length, claim_records
from arena.ds.config import RunConfig, TabularSettings
from arena.ds.summary import method_summary, swap_summary, sweep_summary
from arena.ds.tabular_run import run_tabular

Progress = Callable[[str, int, int], None]

#: what the reconstructed claims predict, shown beside the measurements
PREDICTIONS = {
    "ds.t1": "RL's per-component gradient estimates equal the exact ∂V_K/∂θ of each head.",
    "ds.t2": "SFT's decision share of the gradient ≈ 1/(1 + L·r): ‖G_S‖/‖G_D‖ grows ∝ L.",
    "ds.t2.adam": "Under Adam the update share does not depend on L (slope 0).",
    "ds.t3": "The per-token KL pull on sampling grows ∝ L, on the decision head it is O(1).",
    "ds.t4": "With a binding KL, RL's accuracy gain is attributed more to the decision head "
    "than SFT's (Δa, Δ(1−b) large, Δp small for RL; Δp large for SFT).",
}


def run(
    config: RunConfig,
    out: Path,
    *,
    overwrite: bool = False,
    progress: Progress | None = None,
) -> Path:
    """Run the experiment of ``config`` and write its folder at ``out``; returns ``out``."""
    staging = rundir.prepare(out, overwrite)
    started = rundir.now()
    try:
        if config.policy == "tabular":
            results, metrics, records = _tabular(config, progress)
        else:
            from arena.ds.llm_run import run_llm

            results, metrics, records = run_llm(config, progress)
    except BaseException:
        import shutil

        shutil.rmtree(staging, ignore_errors=True)
        raise
    results = {
        "kind": rundir.KIND,
        "policy": config.policy,
        "config": config.to_dict(),
        "predictions": PREDICTIONS,
        **results,
    }
    return rundir.write_run(
        staging,
        out,
        config=config.to_dict(),
        results=results,
        metrics=metrics,
        claim_records=records,
        started_at=started,
    )


def _tabular(
    config: RunConfig, progress: Progress | None
) -> tuple[dict[str, Any], list[dict[str, Any]], dict[str, list[dict[str, Any]]]]:
    t: TabularSettings = config.tabular
    step_cb = (lambda i, n: progress("training", i, n)) if progress else None
    out = run_tabular(t, config.train, config.seed, step_cb)
    entries = out["instances"]
    main = [e for e in entries if e["group"] == "main"]
    rng: np.random.Generator = out["rng"]
    if progress:
        progress("attribution", 0, 1)
    trained = next((e for e in main if e["method"] == "rl"), None) or next(
        (e for e in main if e["method"] == "rl-nokl"), main[0]
    )
    lengths = by_length(
        rng, np.array(trained["theta0"]), np.array(trained["theta"]), t, max(t.eval_episodes, 4000)
    )
    records, notes = claim_records(rng, t, main, lengths)
    if progress:
        progress("attribution", 1, 1)
    results = {
        "summary": method_summary(main),
        "swaps": swap_summary(out["swaps"]),
        "swap_runs": out["swaps"],
        "sweeps": {
            "rho": sweep_summary([e for e in entries if e["group"] == "rho"], "rho"),
            "beta": sweep_summary([e for e in entries if e["group"] == "beta"], "beta"),
        },
        "attribution": {
            "by_length": lengths,
            "length_from": f"{trained['method']} seed {trained['seed']}",
            "t1_vs_exact": [
                {
                    k: r[k]
                    for k in (
                        "policy",
                        "seed",
                        "p",
                        "a",
                        "b",
                        "K",
                        "exact",
                        "grad_theta_s",
                        "grad_theta_a",
                        "grad_theta_b",
                        "se_grad_theta_s",
                        "se_grad_theta_a",
                        "se_grad_theta_b",
                    )
                }
                for r in records["ds.t1"]
            ],
        },
        "runs": entries,
        "notes": notes,
        "settings_note": (
            "tabular: the claims' toy (theory.claims.ds); OOD = sampling logit lowered by "
            f"ood_shift={t.ood_shift:g}; p, a, 1-b measured on {t.eval_episodes} episodes"
        ),
    }
    return results, out["metrics"], records
