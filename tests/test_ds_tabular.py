"""The tabular DS experiment: per-component gradients, attribution vs L, the run folder.

Monte Carlo comparisons use fixed seeds and a ``Z``-standard-error band; each check is
paired with a wrong variant (a perturbed closed form, a wrong exponent) that must fail.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest

from analysis.claims_bridge import claims_for_record_files
from analysis.ds_report import is_ds_run, render_ds_report
from arena.ds import tabular as tb
from arena.ds.attribution import by_length, optimizer_displacement, t1_record
from arena.ds.config import RunConfig, TabularSettings
from arena.ds.experiment import run
from envs.errors import ArenaError
from theory.claims import Status
from theory.claims.ds import DSAdamShareClaim, DSKLPullClaim, DSSftShareClaim

if TYPE_CHECKING:
    from conftest import CliRunner

Z = 4.5
THETA = np.array([0.3, -0.5, 1.0])
SMALL = TabularSettings(
    steps=150,
    lr=0.1,
    batch=64,
    seeds=5,
    eval_episodes=2000,
    rho_sweep=(0.6, 0.9),
    beta_sweep=(0.0, 0.5),
    sweep_seeds=1,
    lengths=(1, 2, 4, 8),
    log_every=50,
)


def test_reinforce_estimates_match_exact_gradient_and_a_perturbed_one_fails() -> None:
    settings = TabularSettings(length=4, k_max=3, rho=0.8)
    rec = t1_record(np.random.default_rng(0), THETA, 0.8, settings, 40_000)
    for key in ("grad_theta_s", "grad_theta_a", "grad_theta_b"):
        assert abs(rec[key] - rec["exact"][key]) <= Z * rec[f"se_{key}"], key
    # wrong variant: the exact gradients of a and b exchanged
    swapped = rec["exact"]["grad_theta_b"]
    assert abs(rec["grad_theta_a"] - swapped) > Z * rec["se_grad_theta_a"]


def test_kl_gradient_vanishes_at_reference_and_k3_matches_exact_in_expectation() -> None:
    rng = np.random.default_rng(1)
    th = THETA[None, :]
    batch = tb.play(rng, th[:, 0], th[:, 1:], rho=np.array([0.8]), length=4, k_max=3, batch=50_000)
    g_s, g_d = tb.kl_grad(batch, th[:, 0], th[:, 1:], th[:, 0], th[:, 1:])
    assert np.allclose(g_s, 0) and np.allclose(g_d, 0)
    ref = th - 0.5
    exact = tb.kl_grad(batch, th[:, 0], th[:, 1:], ref[:, 0], ref[:, 1:], "exact")
    k3 = tb.kl_grad(batch, th[:, 0], th[:, 1:], ref[:, 0], ref[:, 1:], "k3")
    assert np.allclose(exact[0], k3[0], rtol=0.05) and np.allclose(exact[1], k3[1], rtol=0.1)
    with pytest.raises(ValueError):
        tb.kl_grad(batch, th[:, 0], th[:, 1:], ref[:, 0], ref[:, 1:], "k2")


def test_length_laws_feed_t2_and_t3_and_a_wrong_exponent_fails() -> None:
    rows = by_length(np.random.default_rng(2), THETA, THETA + 0.6, SMALL, 20_000)
    t2 = [
        {"L": r["L"], "grad_norm_sample": r["sft_sample"], "grad_norm_decision": r["sft_decision"]}
        for r in rows
    ]
    t3 = [
        {
            "L": r["L"],
            "kl_grad_norm_sample": r["kl_sample"],
            "kl_grad_norm_decision": r["kl_decision"],
        }
        for r in rows
    ]
    assert DSSftShareClaim().check_empirical(t2).status is Status.PASS
    assert DSKLPullClaim().check_empirical(t3).status is Status.PASS
    assert DSKLPullClaim(exponent=0.0).check_empirical(t3).status is Status.FAIL
    # the RL reward gradient is balanced: its size does not grow with L
    ratio = [r["rl_sample"] / r["rl_decision"] for r in rows]
    assert max(ratio) / min(ratio) < 3


def test_adam_flattens_the_length_law_and_sgd_does_not() -> None:
    """``ds.t2.adam`` on a real optimiser's displacement: Adam passes (slope 0 in L);
    the same measurement with SGD follows T2's slope 1 and must fail the claim."""
    claim = DSAdamShareClaim()

    def records(optimizer: str) -> list[dict[str, float]]:
        rng = np.random.default_rng(5)
        rows = []
        for length in (1, 2, 4, 8, 16, 32):
            s, d = optimizer_displacement(rng, THETA, SMALL, length, optimizer, steps=6)
            rows.append({"L": length, "update_norm_sample": s, "update_norm_decision": d})
        return rows

    assert claim.check_empirical(records("adam")).status is Status.PASS
    assert claim.check_empirical(records("sgd")).status is Status.FAIL


def test_sft_moves_sampling_towards_the_expert() -> None:
    from arena.ds.tabular_run import instances, train

    t = replace(SMALL, steps=100, rho_sweep=(), beta_sweep=())
    insts = instances(t, ("sft",))
    theta0, theta, rows = train(t, insts, np.random.default_rng(3))
    assert np.all(tb.sigmoid(theta[:, 0]) > tb.sigmoid(theta0[:, 0]))  # expert accuracy 0.9
    assert rows and {"grad_norm_sample", "grad_norm_decision", "p", "a", "b"} <= set(rows[0])


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("ds") / "d1"
    return run(RunConfig(policy="tabular", train=("rl", "sft"), tabular=SMALL), out)


def test_run_folder_contract(run_dir: Path) -> None:
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["kind"] == "ds_run" and manifest["status"] == "complete"
    assert "numpy" in manifest["versions"] and manifest["config"]["policy"] == "tabular"
    assert is_ds_run(run_dir)
    header = (run_dir / "metrics.csv").read_text().splitlines()[0]
    assert "grad_norm_decision" in header and "kl_grad_norm_sample" in header
    results = json.loads((run_dir / "results.json").read_text())
    methods = {row["method"] for row in results["summary"]}
    assert methods == {"rl", "sft"}
    assert {(s["sampler"], s["decider"]) for s in results["swaps"]} >= {
        ("rl", "sft"),
        ("sft", "rl"),
    }
    assert results["sweeps"]["rho"] and results["sweeps"]["beta"]
    stems = {p.stem for p in (run_dir / "claim_records").glob("*.jsonl")}
    assert stems == {"ds.t1", "ds.t1.grpo-token-mean", "ds.t2", "ds.t2.adam", "ds.t3", "ds.t4"}


def test_claims_read_the_run_and_a_corrupted_record_fails(run_dir: Path, tmp_path: Path) -> None:
    verdicts = dict(claims_for_record_files(run_dir))
    for cid in ("ds.t1", "ds.t2", "ds.t3"):
        outcome = verdicts[cid]
        assert not isinstance(outcome, str) and outcome.status is Status.PASS, (cid, outcome)
    t4 = verdicts["ds.t4"]
    assert not isinstance(t4, str) and t4.evidence["n"] == 10
    # wrong variant: one t1 estimate moved well away from its closed form
    import shutil

    copy = tmp_path / "bad"
    shutil.copytree(run_dir, copy)
    path = copy / "claim_records" / "ds.t1.jsonl"
    lines = path.read_text().splitlines()
    first = json.loads(lines[0])
    first["grad_theta_a"] += 0.3
    path.write_text("\n".join([json.dumps(first), *lines[1:]]) + "\n")
    bad = dict(claims_for_record_files(copy, "ds.t1"))["ds.t1"]
    assert not isinstance(bad, str) and bad.status is Status.FAIL


@pytest.mark.slow
def test_report_has_the_tables_and_figures(run_dir: Path) -> None:
    paths = render_ds_report(run_dir)
    text = paths[0].read_text()
    assert "Δ(1−b)" in text and "ds.t4" in text and "sampler from" in text
    assert all(p.exists() and p.stat().st_size > 0 for p in paths)
    assert {p.name for p in paths} >= {"report.md", "deltas.png", "lengths.png", "training.png"}


def test_existing_folder_and_bad_settings_are_rejected(run_dir: Path) -> None:
    with pytest.raises(ArenaError, match="already exists"):
        run(RunConfig(tabular=SMALL), run_dir)
    with pytest.raises(ArenaError, match="--train"):
        RunConfig(train=("ppo",))
    with pytest.raises(ArenaError, match="--policy"):
        RunConfig(policy="gpt")
    with pytest.raises(ArenaError, match="--rho"):
        RunConfig(tabular=replace(SMALL, rho=1.5))
    with pytest.raises(ArenaError, match="kl-estimator"):
        RunConfig(tabular=replace(SMALL, kl_estimator="k2"))
    with pytest.raises(ArenaError, match=r"results\.json"):
        render_ds_report(run_dir.parent)


def test_out_of_domain_run_does_not_feed_t4(tmp_path: Path) -> None:
    t = replace(SMALL, steps=20, seeds=2, length=2, rho_sweep=(), beta_sweep=(), lengths=(1, 2, 4))
    out = run(RunConfig(train=("rl", "sft"), tabular=t), tmp_path / "d")
    assert not (out / "claim_records" / "ds.t4.jsonl").exists()
    notes = json.loads((out / "results.json").read_text())["notes"]
    assert any("ds.t4" in n and "domain" in n for n in notes)


def test_cli_runs_a_small_tabular_experiment_and_rejects_bad_flags(
    tmp_path: Path, cli: CliRunner
) -> None:
    out = tmp_path / "d1"
    args = ["ds", "run", "--out", str(out), "--train", "rl,sft", "--steps", "20", "--seeds", "2"]
    args += ["--rho-sweep", "", "--beta-sweep", "", "--lengths", "1,2,4", "--no-report"]
    code, stdout, err = cli([*args, "--eval-episodes", "200", "--account-every", "2"])
    assert code == 0, err
    assert "arena theory check --run" in stdout and "account_every" in err  # not tabular
    assert (out / "manifest.json").exists() and not (out / "report.md").exists()
    code, _, err = cli([*args[:3], str(tmp_path / "d2"), "--rho-sweep", "a,b"])
    assert code == 2 and err.count("\n") == 1 and "--rho-sweep" in err and "Fix:" in err
    code, _, err = cli(["ds", "run", "--out", str(out)])
    assert code == 2 and "already exists" in err


def test_report_intervals_stay_in_the_possible_range(run_dir: Path, tmp_path: Path) -> None:
    """Sweep rows over 2 seeds have t-intervals past [0, 1] (t = 12.7); the report clips
    them (accuracies to [0, 1], gains and shares to [-1, 1]) and marks them with †."""
    import re
    import shutil

    copy = tmp_path / "d1"
    shutil.copytree(run_dir, copy)
    results = json.loads((copy / "results.json").read_text())
    row = results["sweeps"]["rho"][0]
    row["id_accuracy_after"] = {"mean": 0.399, "low": -0.65, "high": 1.45, "n": 2}
    row["share_decision"] = {"mean": 0.574, "low": -2.39, "high": 3.53, "n": 2}
    (copy / "results.json").write_text(json.dumps(results))
    text = render_ds_report(copy)[0].read_text()
    tables = [line for line in text.splitlines() if line.startswith(("| rl |", "| sft |", "| 0"))]
    pairs = re.findall(r"\[([-+]?\d+\.\d+), ([-+]?\d+\.\d+)\]", "\n".join(tables))
    bounds = [float(b) for pair in pairs for b in pair]
    assert bounds and all(-1.0 <= b <= 1.0 for b in bounds)
    assert "0.399 [0.00, 1.00]†" in text and "+0.574 [-1.00, +1.00]†" in text
