"""Tests for theory.claims: every claim passes as stated and every check can fail.

Each "broken variant" test feeds a claim a wrong formula, a game outside its premise, a
broken solver or contradicting records, and asserts the verdict flips — so none of the
checks is a rubber stamp.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import sympy as sp

from theory.claims import (
    ClaimCheckRow,
    ClaimUsageError,
    RecordSchemaError,
    Status,
    UnknownClaimError,
    all_claims,
    get_claim,
    run_claim_checks,
)
from theory.claims.ds import (
    C_SYM as BASELINE_SYM,
)
from theory.claims.ds import (
    L_SYM,
    L_TOK,
    Q_STAR,
    R_SYM,
    TH_A,
    TH_B,
    TH_S,
    VN_CLAIM,
    DSAdamShareClaim,
    DSBalancedAttributionClaim,
    DSGrpoTokenMeanClaim,
    DSKLPullClaim,
    DSRLvsSFTClaim,
    DSSftShareClaim,
    P,
    _finite_diff,
    gradient_descent,
    sample_token_trajectories,
    sft_expected_nll,
    sft_step_exprs,
    simulate_policy_gradient,
    value_and_grad,
)
from theory.claims.kale import (
    AltAdmissibilityClaim,
    KAKnownIncorrectClaim,
    KALossGradientClaim,
    KAMultiHopGainClaim,
    forward_kl_gradient,
    naive_alt_heuristic,
)
from theory.claims.magic import (
    MagicPointwiseSafetyClaim,
    MagicSimultaneousContrastClaim,
    sample_game_without_fallback,
)
from theory.claims.rapo import (
    DELTA,
    ETA,
    GENERAL_T_STAR,
    PAPER_T_STAR,
    K,
    RapoBudgetClaim,
    RapoCorrelatedMaskingClaim,
    RapoGeneralThresholdClaim,
    RapoUntargetedClaim,
)
from theory.equilibria.sequential import SPNESolution
from theory.games import LeaderFollowerGame

REPO = Path(__file__).resolve().parents[1]


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


@pytest.fixture(scope="module")
def default_rows() -> list[ClaimCheckRow]:
    return run_claim_checks(n=50)


# -- registry and table ------------------------------------------------------------------


def test_registry_ids_unique_and_fields_set() -> None:
    claims = all_claims()
    ids = [c.id for c in claims]
    assert len(ids) == len(set(ids))
    for c in claims:
        assert c.paper and c.statement and c.assumptions
        assert type(c).__doc__
    reconstructed = {c.id for c in claims if c.reconstructed}
    assert {"ds.t1", "ds.t2", "ds.t3", "ds.t4", "kale.ka-loss", "kale.alt-admissible"} <= (
        reconstructed
    )
    assert "magic.thm3.2" not in reconstructed and "rapo.thm3.1" not in reconstructed
    for c in claims:
        if c.id.startswith(("ds.", "kale.")):
            assert "RECONSTRUCTED" in (type(c).__doc__ or "")
    assert get_claim("rapo.thm3.1").id == "rapo.thm3.1"
    with pytest.raises(UnknownClaimError, match=r"no claim has id 'nope'.*rapo\.thm3\.1"):
        get_claim("nope")
    assert issubclass(UnknownClaimError, ValueError)


@pytest.mark.parametrize("bad_n", [0, -3])
def test_non_positive_n_is_rejected_not_vacuously_passed(bad_n: int) -> None:
    with pytest.raises(ClaimUsageError, match="n >= 1"):
        run_claim_checks(n=bad_n)
    for claim in all_claims():
        with pytest.raises(ClaimUsageError, match=claim.id):
            claim.check_numeric(rng(), bad_n)
    assert issubclass(ClaimUsageError, ValueError)


def test_negative_seed_is_rejected() -> None:
    with pytest.raises(ClaimUsageError, match="seed"):
        run_claim_checks(seed=-1, n=1)


def test_default_run_passes_everything(default_rows: list[ClaimCheckRow]) -> None:
    assert [r.claim for r in default_rows] == [c.id for c in all_claims()]
    for row in default_rows:
        assert row.symbolic == "pass", row
        assert row.numeric == "pass", row
        assert row.empirical == "skipped"
        assert row.evidence
    papers = {r.paper for r in default_rows}
    assert any("[reconstructed]" in p for p in papers)


def test_run_is_deterministic_and_takes_records() -> None:
    records = {
        "kale.ka-loss": [
            {"p": [0.5, 0.5], "q": [0.25, 0.75], "loss": 0.5 * np.log(2) + 0.5 * np.log(2 / 3)}
        ]
    }
    first = run_claim_checks(seed=3, n=10, records=records)
    second = run_claim_checks(seed=3, n=10, records=records)
    assert first == second
    row = next(r for r in first if r.claim == "kale.ka-loss")
    assert row.empirical == "pass"
    assert "empirical" in row.evidence
    with pytest.raises(RecordSchemaError, match="unknown claim ids"):
        run_claim_checks(n=5, records={"magic.thm9": []})


def test_crashing_check_is_a_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(self: object, rng: np.random.Generator, n: int) -> None:
        raise ZeroDivisionError("boom")

    monkeypatch.setattr(KALossGradientClaim, "check_numeric", boom)
    row = next(r for r in run_claim_checks(n=5) if r.claim == "kale.ka-loss")
    assert row.numeric == "fail" and "ZeroDivisionError" in row.evidence


def test_evidence_is_json_data() -> None:
    """Evidence passes through ``to_plain``, which now rejects what is not JSON data."""
    for claim in all_claims():
        for result in (claim.check_numeric(rng(1), 10), claim.check_symbolic()):
            text = json.dumps(result.evidence, allow_nan=False)
            assert json.loads(text) == result.evidence


@pytest.mark.parametrize("bad", [object(), np.array([1, object()], dtype=object), {1, 2}])
def test_evidence_that_is_not_json_data_is_rejected(bad: object) -> None:
    """Wrong variants: to_plain used to stringify anything, so the test above could not fail."""
    from theory.claims.base import to_plain

    with pytest.raises(TypeError, match="not JSON"):
        to_plain({"x": bad})
    assert to_plain({"r": sp.Rational(1, 4), "f": sp.Symbol("g") + 1}) == {"r": 0.25, "f": "g + 1"}


def test_theory_claims_import_without_torch() -> None:
    code = "import sys, theory.claims; assert 'torch' not in sys.modules, 'torch imported'"
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True)


# -- MAGIC -------------------------------------------------------------------------------


def test_magic_without_fallback_is_not_applicable() -> None:
    claim = MagicPointwiseSafetyClaim(sampler=sample_game_without_fallback)
    result = claim.check_numeric(rng(), 30)
    assert result.status is Status.NOT_APPLICABLE
    ev = result.evidence
    assert ev["without_fallback_some_spne_unsafe"] == ev["games_without_fallback"] >= 30


def test_magic_detects_a_solver_that_is_not_subgame_perfect() -> None:
    def uniform_follower(game: LeaderFollowerGame, tie_break: str) -> SPNESolution:
        n_a, n_d = game.follower_payoffs.shape
        leader = np.eye(n_a)[0]
        return SPNESolution(leader, np.full((n_a, n_d), 1.0 / n_d), 0.0, 0.0)

    broken = MagicPointwiseSafetyClaim(solver=uniform_follower)
    result = broken.check_numeric(rng(), 20)
    assert result.status is Status.FAIL
    assert "not SPNE" in result.summary
    assert broken.check_symbolic().status is Status.FAIL


def test_magic_empirical_episodes_and_tables() -> None:
    claim = MagicPointwiseSafetyClaim()
    assert claim.check_empirical([], 0.05).status is Status.SKIPPED
    safe: list[dict[str, Any]] = [
        {"attacker_action": a, "defender_action": "refuse", "r_defender": 1.5}
        for a in ("roleplay", "cipher")
        for _ in range(20)
    ]
    assert claim.check_empirical(safe, 0.05).status is Status.PASS
    unsafe: list[dict[str, Any]] = [
        *safe,
        *[{"attacker_action": "cipher", "defender_action": "comply", "r_defender": -1.0}] * 5,
    ]
    result = claim.check_empirical(unsafe, 0.05)
    # unsafe answers show the run is not at an SPNE: n/a (premise), never a refutation
    assert result.status is Status.NOT_APPLICABLE
    assert result.evidence["worst"]["prompt"] == "cipher"
    table = {
        "r_defender_table": [[1.0, -1.0], [0.5, -2.0]],
        "defender_policy": [[1, 0], [0.9, 0.1]],
    }
    assert claim.check_empirical([table], 0.05).status is Status.NOT_APPLICABLE
    assert claim.check_empirical([table], 0.2).status is Status.PASS
    no_fallback = {
        "r_defender_table": [[1.0, -1.0], [-0.5, -2.0]],
        "defender_policy": [[1, 0], [1, 0]],
    }
    assert claim.check_empirical([no_fallback], 0.05).status is Status.NOT_APPLICABLE
    with pytest.raises(RecordSchemaError, match="r_defender"):
        claim.check_empirical([{"attacker_action": "x", "defender_action": "y"}], 0.05)


def test_magic_empirical_reports_n_interval_and_premise_wording() -> None:
    claim = MagicPointwiseSafetyClaim()
    safe = [
        {"attacker_action": f"p{i % 3}", "defender_action": "refuse", "r_defender": 1.5}
        for i in range(45)
    ]
    good = claim.check_empirical(safe, 0.05)
    assert good.status is Status.PASS and good.evidence["n"] == 45
    assert good.evidence["interval"][0] == 0.0 < good.evidence["interval"][1]
    few = claim.check_empirical(safe[:12], 0.05)
    assert few.status is Status.INSUFFICIENT and "insufficient data" in few.summary
    # one unsafe answer in 12: the theorem predicts 0, so it fails even below the minimum
    unsafe = [*safe[:11], {"attacker_action": "p0", "defender_action": "x", "r_defender": -1}]
    bad = claim.check_empirical(unsafe, 0.05)
    assert bad.status is Status.NOT_APPLICABLE
    assert bad.summary.startswith("premise not established:") and "'p0'" in bad.summary
    table = {
        "r_defender_table": [[1.0, -1.0], [0.5, -2.0]],
        "defender_policy": [[1, 0], [0.9, 0.1]],
    }
    not_spne = claim.check_empirical([table], 0.05)
    assert not_spne.status is Status.NOT_APPLICABLE
    assert not_spne.summary.startswith("premise not established:")
    assert "not a best response" in not_spne.summary and not_spne.evidence["n"] == 2
    # the contrast: a mean below −tol must be significant to fail
    contrast = MagicSimultaneousContrastClaim()
    mixed = [
        {"attacker_action": "a", "defender_action": d, "r_defender": r}
        for d, r in (("comply", -1.0), ("refuse", 1.5)) * 20
    ]
    assert contrast.check_empirical(mixed, 0.05).status is Status.PASS
    dipped = [*mixed, {"attacker_action": "b", "defender_action": "comply", "r_defender": -1}]
    assert contrast.check_empirical(dipped, 0.05).status is Status.INSUFFICIENT
    harmful = [
        {**r, "r_defender": -1.0 if r["defender_action"] == "comply" else 0.2} for r in mixed
    ]
    result = contrast.check_empirical(harmful, 0.05)
    assert result.status is Status.NOT_APPLICABLE
    assert result.summary.startswith("premise not established")
    assert result.evidence["n"] == 40 and result.evidence["interval"][1] < -0.05


def test_magic_contrast_finds_expectation_only_equilibria() -> None:
    result = MagicSimultaneousContrastClaim().check_numeric(rng(), 40)
    assert result.status is Status.PASS
    ev = result.evidence
    assert ev["games_where_some_nash_defender_is_unsafe"] > 0
    assert ev["expectation_guarantee_violations"] == 0
    assert ev["unsafe_mass_only_off_attacker_support"] is True
    example = ev["example"]
    assert example["nash_conv"] < 1e-7 and example["unsafe_mass"] > 0
    assert min(example["expected_r_defender"]) >= -1e-9


def test_magic_contrast_fails_when_no_instance_differs() -> None:
    def all_safe(generator: np.random.Generator) -> LeaderFollowerGame:
        r_d = generator.uniform(0.0, 1.0, size=(2, 2))
        return LeaderFollowerGame(-r_d, r_d)

    result = MagicSimultaneousContrastClaim(sampler=all_safe).check_numeric(rng(), 10)
    assert result.status is Status.FAIL and "no differing game" in result.summary


def test_magic_contrast_empirical_classifies_expectation_only() -> None:
    claim = MagicSimultaneousContrastClaim()
    table = {
        "r_defender_table": [[0.0, -1.0], [1.0, -1.0]],
        "defender_policy": [[1, 0], [0.5, 0.5]],
    }
    result = claim.check_empirical([table], 0.05)
    assert result.status is Status.PASS
    assert result.evidence["classification"] == "safe only in expectation"
    pointwise = MagicPointwiseSafetyClaim().check_empirical([table], 0.05)
    assert pointwise.status is Status.NOT_APPLICABLE  # prompt a1: not a best response


# -- RAPO --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("claim_type", "wrong"),
    [
        (RapoBudgetClaim, DELTA * K / ETA),
        (RapoGeneralThresholdClaim, PAPER_T_STAR),
        (RapoCorrelatedMaskingClaim, GENERAL_T_STAR),
    ],
)
def test_rapo_wrong_threshold_fails(claim_type: type, wrong: sp.Expr) -> None:
    assert claim_type().check_symbolic().status is Status.PASS
    claim = claim_type(wrong)
    assert claim.check_symbolic().status is Status.FAIL
    result = claim.check_numeric(rng(), 50)
    assert result.status is Status.FAIL
    assert result.evidence["failures"] > 0


def test_rapo_untargeted_wrong_exponent_fails() -> None:
    good = RapoUntargetedClaim().check_numeric(rng(), 40)
    assert good.status is Status.PASS
    assert good.evidence["stops_not_refused_by_model"] == 0
    wrong = RapoUntargetedClaim(exponent=1.0)
    assert wrong.check_symbolic().status is Status.FAIL
    assert wrong.check_numeric(rng(), 40).status is Status.FAIL


def _refusal_records(law, n: int = 3000, seed: int = 1) -> list[dict]:
    generator = rng(seed)
    out = []
    for _ in range(n):
        k = int(generator.integers(0, 13))
        t = float(generator.integers(0, 41))
        logit = 3.0 * (t - law(k)) / (k + 1)
        out.append({"k": k, "t": t, "refused": bool(generator.random() < 1 / (1 + np.exp(-logit)))})
    return out


def test_rapo_empirical_iso_refusal_line() -> None:
    linear = _refusal_records(lambda k: 1.5 * k)
    quadratic = _refusal_records(lambda k: 0.2 * k * k)
    claim = RapoBudgetClaim()
    good = claim.check_empirical(linear, 0.05)
    assert good.status is Status.PASS
    assert abs(good.evidence["fitted_theta"][0] - 1.5) < 0.15
    assert claim.check_empirical(quadratic, 0.05).status is Status.FAIL
    assert RapoGeneralThresholdClaim().check_empirical(quadratic, 0.05).status is Status.FAIL
    assert claim.check_empirical([], 0.05).status is Status.SKIPPED
    two_k = [r for r in linear if r["k"] in (1, 2)]
    assert claim.check_empirical(two_k, 0.05).status is Status.INSUFFICIENT
    with pytest.raises(RecordSchemaError, match="refused"):
        claim.check_empirical([{"k": 1, "t": 2}], 0.05)


def test_rapo_untargeted_empirical() -> None:
    generator = rng(2)
    records = [
        {"k": k, "steps": int(generator.negative_binomial(k, 1 / (k + 1)) + k)}
        for k in (4, 8, 16, 32)
        for _ in range(400)
    ]
    assert RapoUntargetedClaim().check_empirical(records, 0.1).status is Status.PASS
    linear = [{"k": r["k"], "steps": 3 * r["k"]} for r in records]
    assert RapoUntargetedClaim().check_empirical(linear, 0.1).status is Status.FAIL
    good = RapoUntargetedClaim().check_empirical(records, 0.1)
    lo, hi = good.evidence["interval"]
    assert 1.0 < lo < hi < 3.0 and good.evidence["n"] == 1600
    few = RapoUntargetedClaim().check_empirical(records[:50], 0.1)
    assert few.status is Status.INSUFFICIENT
    two_k = [r for r in records if r["k"] in (4, 8)]
    assert RapoUntargetedClaim().check_empirical(two_k, 0.1).status is Status.INSUFFICIENT


# -- DS ----------------------------------------------------------------------------------


def test_ds_value_recursion_matches_closed_forms() -> None:
    p, a, b = np.array(0.6), np.array(0.8), np.array(0.3)
    v2, _ = value_and_grad(p, a, b, 2)
    assert float(v2) == pytest.approx(0.6 * (1 + 0.4 * 0.5))
    v_long, g_long = value_and_grad(p, a, b, 400)
    d = 0.6 * 0.8 + 0.4 * 0.3
    assert float(v_long) == pytest.approx(0.48 / d)
    assert float(g_long[0]) == pytest.approx(0.8 * 0.3 / d**2)


def test_ds_wrong_closed_forms_fail() -> None:
    for wrong in (
        DSBalancedAttributionClaim(v2=P * (1 + (1 - P) * 2 * (sp.Symbol("a", positive=True)))),
        DSBalancedAttributionClaim(v_inf=P),
    ):
        assert wrong.check_symbolic().status is Status.FAIL
        assert wrong.check_numeric(rng(), 40).status is Status.FAIL


def test_ds_t1_empirical_with_mc_estimates() -> None:
    claim = DSBalancedAttributionClaim()
    p, a, b = np.array([0.6]), np.array([0.7]), np.array([0.2])
    sim = simulate_policy_gradient(rng(4), p, a, b, np.array([2]), 20000)
    record = {"p": 0.6, "a": 0.7, "b": 0.2, "K": 2, "value": float(sim["value"][0])}
    for i, key in enumerate(("grad_theta_s", "grad_theta_a", "grad_theta_b")):
        record[key] = float(sim["grad"][0, i])
        record[f"se_{key}"] = float(sim["grad_se"][0, i])
    assert claim.check_empirical([record], 0.01).status is Status.PASS
    inf_record = {"p": 0.6, "a": 0.7, "b": 0.2, "K": "inf", "value": 0.42 / (0.42 + 0.08)}
    assert claim.check_empirical([inf_record], 0.01).status is Status.PASS
    assert claim.check_empirical([{**record, "grad_theta_a": 0.3}], 0.01).status is Status.FAIL
    with pytest.raises(RecordSchemaError, match="none of"):
        claim.check_empirical([{"p": 0.5, "a": 0.5, "b": 0.5, "K": 2}], 0.01)


def test_ds_t2_t3_wrong_laws_fail() -> None:
    wrong = DSSftShareClaim(1 / (1 + sp.sqrt(L_SYM) * R_SYM))
    assert wrong.check_symbolic().status is Status.FAIL
    assert wrong.check_numeric(rng(), 40).status is Status.FAIL
    # right at r = 1 but wrong in r: the share derived from the gradients rejects it
    wrong_r = DSSftShareClaim(1 / (1 + L_SYM * R_SYM**2))
    result = wrong_r.check_symbolic()
    assert result.status is Status.FAIL
    assert not result.evidence["checks"][
        "claimed law = |G_D|/(|G_S|+|G_D|) of the derived gradients"
    ]
    assert wrong_r.check_numeric(rng(), 40).status is Status.FAIL
    wrong_kl = DSKLPullClaim(exponent=0.5)
    assert wrong_kl.check_symbolic().status is Status.FAIL
    assert wrong_kl.check_numeric(rng(), 40).status is Status.FAIL


def test_ds_length_slope_empirical() -> None:
    records = [
        {"L": length, "grad_norm_sample": 0.3 * length, "grad_norm_decision": 0.5}
        for length in (1, 4, 16, 64)
    ]
    assert DSSftShareClaim().check_empirical(records, 0.05).status is Status.PASS
    flat = [{**r, "grad_norm_sample": 0.3} for r in records]
    assert DSSftShareClaim().check_empirical(flat, 0.05).status is Status.FAIL
    kl_records = [
        {"L": r["L"], "kl_grad_norm_sample": r["grad_norm_sample"], "kl_grad_norm_decision": 1.0}
        for r in records
    ]
    assert DSKLPullClaim().check_empirical(kl_records, 0.05).status is Status.PASS
    few = DSKLPullClaim().check_empirical(kl_records[:2], 0.05)
    assert few.status is Status.INSUFFICIENT and few.evidence["n"] == 2
    # noisy points: the slope interval also holds the rival exponent 0 -> insufficient
    noisy = [
        {**r, "grad_norm_sample": r["grad_norm_sample"] * f}
        for r, f in zip(records, (1.0, 0.2, 4.0, 0.3), strict=True)
    ]
    result = DSSftShareClaim().check_empirical(noisy, 0.05)
    assert result.status is Status.INSUFFICIENT and "rival" in result.summary
    lo, hi = result.evidence["interval"]
    assert lo < 0 < hi and result.evidence["n"] == 4


def test_ds_t4_prediction_and_reversal() -> None:
    result = DSRLvsSFTClaim().check_numeric(rng(), 60)
    assert result.status is Status.PASS
    assert result.evidence["weak_kl_contrast_hold_rate"] < 1.0
    assert DSRLvsSFTClaim(favoured="sft").check_numeric(rng(), 60).status is Status.FAIL
    symbolic = DSRLvsSFTClaim().check_symbolic()
    assert symbolic.status is Status.PASS and symbolic.evidence["derived_favoured"] == "rl"
    wrong = DSRLvsSFTClaim(favoured="sft").check_symbolic()
    assert wrong.status is Status.FAIL and wrong.evidence["derived_favoured"] == "rl"
    records = _t4_runs(decision_rl=True)
    good = DSRLvsSFTClaim().check_empirical(records, 0.05)
    assert good.status is Status.PASS and good.evidence["n"] == 12
    lo, hi = good.evidence["interval"]
    assert 0 < lo < hi
    assert DSRLvsSFTClaim().check_empirical(records[:1], 0.05).status is Status.INSUFFICIENT
    swapped = _t4_runs(decision_rl=False)
    reversed_ = DSRLvsSFTClaim().check_empirical(swapped, 0.05)
    assert reversed_.status is Status.FAIL and reversed_.summary.startswith("failed: reversed")
    # two runs per method showing the effect: below min_per_method, not a pass
    few = [r for r in records if r["run"] < 2]
    assert DSRLvsSFTClaim().check_empirical(few, 0.05).status is Status.INSUFFICIENT
    # both methods mix decision and sampling gains: no difference to show
    same = [{**r, "method": "sft" if r["run"] % 2 else "rl"} for r in records]
    mixed = DSRLvsSFTClaim().check_empirical(same, 0.05)
    assert mixed.status is Status.FAIL and "no significant effect" in mixed.summary


def _t4_runs(decision_rl: bool, runs: int = 6) -> list[dict[str, Any]]:
    """Training runs: one method gains through decisions (a up, b down), one through p."""
    rec = {"p_before": 0.5, "a_before": 0.5, "b_before": 0.5}
    out = []
    for run in range(runs):
        jitter = 0.01 * (run - runs / 2)
        decision = {"p_after": 0.52 + jitter, "a_after": 0.8 - jitter, "b_after": 0.2}
        sampling = {"p_after": 0.7 + jitter, "a_after": 0.52, "b_after": 0.48 + jitter}
        rl, sft = (decision, sampling) if decision_rl else (sampling, decision)
        out.append({**rec, **rl, "method": "rl", "run": run})
        out.append({**rec, **sft, "method": "sft", "run": run})
    return out


# -- KALE --------------------------------------------------------------------------------


def test_kale_forward_kl_gradient_is_rejected() -> None:
    wrong = KALossGradientClaim(gradient_formula=forward_kl_gradient)
    assert wrong.check_symbolic().status is Status.FAIL
    assert wrong.check_numeric(rng(), 30).status is Status.FAIL


def test_kale_empirical_loss_direction() -> None:
    p = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]])
    q = np.array([[0.5, 0.25, 0.25], [0.2, 0.3, 0.5]])
    reverse = float(np.mean(np.sum(p * np.log(p / q), axis=1)))
    forward = float(np.mean(np.sum(q * np.log(q / p), axis=1)))
    claim = KALossGradientClaim()
    ok = claim.check_empirical([{"p": p.tolist(), "q": q.tolist(), "loss": reverse}], 1e-6)
    assert ok.status is Status.PASS
    bad = claim.check_empirical([{"p": p.tolist(), "q": q.tolist(), "loss": forward}], 1e-6)
    assert bad.status is Status.FAIL
    assert bad.evidence["forward_matches"] == 1
    kl = np.sum(p * np.log(p / q), axis=1, keepdims=True)
    grad = p * (np.log(p) - np.log(q) - kl) / 2
    with_grad = {"p": p.tolist(), "q": q.tolist(), "grad_logits": grad.tolist()}
    assert claim.check_empirical([with_grad], 1e-9).status is Status.PASS
    wrong_grad = {**with_grad, "grad_logits": ((p - q) / 2).tolist()}
    assert claim.check_empirical([wrong_grad], 1e-6).status is Status.FAIL
    with pytest.raises(RecordSchemaError, match="neither"):
        claim.check_empirical([{"p": [1.0], "q": [1.0]}], 0.1)
    with pytest.raises(RecordSchemaError, match="probability"):
        claim.check_empirical([{"p": [0.5, 0.6], "q": [0.5, 0.5], "loss": 0.0}], 0.1)


def test_kale_unclamped_alt_heuristic_fails() -> None:
    wrong = AltAdmissibilityClaim(heuristic=naive_alt_heuristic)
    assert wrong.check_symbolic().status is Status.FAIL
    result = wrong.check_numeric(rng(), 60)
    assert result.status is Status.FAIL
    good = AltAdmissibilityClaim().check_numeric(rng(), 60)
    assert good.status is Status.PASS
    assert good.evidence["unclamped_formula_inadmissible_graphs"] > 0


def test_kale_alt_empirical() -> None:
    claim = AltAdmissibilityClaim()
    records = [
        {"h": float(d - 1), "true_distance": float(d), "astar_length": d, "shortest_length": d}
        for d in range(1, 13)
    ]
    result = claim.check_empirical(records, 0.0)
    assert result.status is Status.PASS
    assert result.evidence["n"] == 12 and result.evidence["interval"] == [-1.0, -1.0]
    # one admissible node says little: below min_records a pass is insufficient data ...
    assert claim.check_empirical(records[:1], 0.0).status is Status.INSUFFICIENT
    # ... but one inadmissible node is a counterexample at any n
    assert claim.check_empirical([{"h": 3.0, "true_distance": 2.0}], 0.0).status is Status.FAIL
    longer = [*records, {**records[0], "astar_length": 3.0}]
    assert claim.check_empirical(longer, 0.0).status is Status.FAIL


# -- derived quantities, independent of the claims ---------------------------------------


def test_ds_sft_step_is_minus_the_nll_gradient() -> None:
    """train_toy's SFT step is derived from the expected NLL, checked by finite differences."""
    length, q = 6, 0.8
    nll = sp.lambdify((TH_S, TH_A, TH_B), sft_expected_nll().subs({L_TOK: length, Q_STAR: q}))
    theta = np.array([0.2, -0.5, 1.1])
    numeric = -_finite_diff(lambda th: float(nll(*th)), theta)
    derived = [
        float(e.subs({TH_S: 0.2, TH_A: -0.5, TH_B: 1.1, L_TOK: length, Q_STAR: q}))
        for e in sft_step_exprs()
    ]
    assert numeric == pytest.approx(derived, abs=1e-7)


def test_ds_t3_sampled_token_counts_scale_with_length() -> None:
    """The sampler really emits L tokens per attempt; decisions do not depend on L."""
    probs = np.array([0.6, 0.7, 0.2])
    short = sample_token_trajectories(rng(6), probs, 2, 3, 3000)
    long = sample_token_trajectories(rng(6), probs, 16, 3, 3000)
    assert long[0].size / short[0].size == pytest.approx(8.0, rel=0.1)
    assert long[1].size + long[2].size == pytest.approx(short[1].size + short[2].size, rel=0.1)


MAGIC_SYMBOLIC_CHECKS = {
    "exact game 0: premise holds",
    "exact game 0: every SPNE support response attains its row maximum",
    "exact game 0: every SPNE support response has r_D ≥ 0",
    "exact game 1: premise holds",
    "exact game 1: every SPNE support response attains its row maximum",
    "exact game 1: every SPNE support response has r_D ≥ 0",
    "game without fallback: premise is false",
    "game without fallback: the SPNE plays an unsafe response",
}
KALE_SYMBOLIC_CHECKS = {
    "admissible: h ≤ d(e, e_a) on every 5-node graph, anchor set and radius",
    "consistent: h(u) ≤ 1 + h(v) on every edge",
    "finite on every node that reaches the target",
    "non-negative",
    "equals the ALT formula with unbounded distances (path example)",
    "the unclamped formula is inadmissible on the R < m path example",
}


def test_magic_and_kale_symbolic_checks_are_derived() -> None:
    """The checks are compared as a whole: a dropped check (one that restated an
    assumption) coming back under any wording fails here; ``"old" not in checks`` did not."""
    magic = MagicPointwiseSafetyClaim().check_symbolic().evidence["checks"]
    assert set(magic) == MAGIC_SYMBOLIC_CHECKS
    kale = AltAdmissibilityClaim().check_symbolic().evidence["checks"]
    assert set(kale) == KALE_SYMBOLIC_CHECKS
    assert all(v is True for v in (*magic.values(), *kale.values()))


@pytest.mark.parametrize("claim", [MagicPointwiseSafetyClaim, AltAdmissibilityClaim])
def test_a_dropped_check_coming_back_reworded_is_caught(
    claim: type[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    real = claim.check_symbolic

    def with_a_restated_assumption(self: Any) -> Any:
        result = real(self)
        result.evidence["checks"]["a support point below M lowers E_π r_D"] = True
        return result

    monkeypatch.setattr(claim, "check_symbolic", with_a_restated_assumption)
    with pytest.raises(AssertionError):
        test_magic_and_kale_symbolic_checks_are_derived()


# -- issue 7: every check can fail -------------------------------------------------------

G_SYM, C_SYM = sp.symbols("g c", positive=True)


def _huge_heuristic(anchor_dists: np.ndarray, target: int) -> np.ndarray:
    return np.full(anchor_dists.shape[1], 1e9)


def _zero_heuristic(anchor_dists: np.ndarray, target: int) -> np.ndarray:
    return np.zeros(anchor_dists.shape[1])


def _point_paired(n11: Any, n10: Any, n01: Any, n00: Any, alpha: float) -> tuple[Any, Any, Any]:
    """A paired "interval" that is just the point estimate: no uncertainty at all."""
    n = np.asarray(n11) + n10 + n01 + n00
    d = (np.asarray(n10) - n01) / n
    return d, d, d


def _point_unpaired(x1: Any, n1: Any, x2: Any, n2: Any, alpha: float) -> tuple[Any, Any, Any]:
    d = np.asarray(x1) / n1 - np.asarray(x2) / n2
    return d, d, d


def _ignore_pairing(n11: Any, n10: Any, n01: Any, n00: Any, alpha: float) -> tuple[Any, Any, Any]:
    """The unpaired interval on the two marginals: treats paired answers as independent."""
    from theory.claims.stats import newcombe_difference

    n = np.asarray(n11) + n10 + n01 + n00
    return newcombe_difference(np.asarray(n11) + n10, n, np.asarray(n11) + n01, n, alpha)


def _kale_answers(ka: float, sft: float, n: int = 60, known: float = 1.0) -> list[dict]:
    """n paired multi-hop questions with KA and SFT accuracies ka, sft (exact counts)."""
    out = []
    for q in range(n):
        for method, acc in (("ka", ka), ("sft", sft)):
            out.append(
                {
                    "method": method,
                    "hops": 2 + q % 2,
                    "correct": q < round(acc * n),
                    "known": (q % 10) < round(known * 10),
                    "question_id": q,
                }
            )
    return out


# (claim, check) -> a deliberately broken variant whose check must FAIL
BROKEN_SYMBOLIC = {
    "magic.thm3.2": lambda: MagicPointwiseSafetyClaim(premise=lambda r: True),
    "magic.thm3.2.contrast": lambda: MagicSimultaneousContrastClaim(witness_mass=sp.Integer(1)),
    "rapo.thm3.1": lambda: RapoBudgetClaim(DELTA * K / ETA),
    "rapo.thm3.1.general": lambda: RapoGeneralThresholdClaim(PAPER_T_STAR),
    "rapo.thm3.1.correlated-masking": lambda: RapoCorrelatedMaskingClaim(GENERAL_T_STAR),
    "rapo.untargeted-k2": lambda: RapoUntargetedClaim(exponent=1.0),
    "ds.t1": lambda: DSBalancedAttributionClaim(v_inf=P),
    # the belief that the baseline still drops out under token-mean weighting
    "ds.t1.grpo-token-mean": lambda: DSGrpoTokenMeanClaim(VN_CLAIM.subs(BASELINE_SYM, 0)),
    "ds.t2": lambda: DSSftShareClaim(1 / (1 + sp.sqrt(L_SYM) * R_SYM)),
    # T2's plain-gradient law carried over to Adam
    "ds.t2.adam": lambda: DSAdamShareClaim(share_law=1 / (1 + L_SYM)),
    "ds.t3": lambda: DSKLPullClaim(exponent=0.5),
    "ds.t4": lambda: DSRLvsSFTClaim(length_weighted_kl=False),
    "kale.ka-loss": lambda: KALossGradientClaim(gradient_formula=forward_kl_gradient),
    "kale.alt-admissible": lambda: AltAdmissibilityClaim(heuristic=_huge_heuristic),
    "kale.multihop-gain": lambda: KAMultiHopGainClaim(paired_interval=_ignore_pairing),
    "kale.known-incorrect": lambda: KAKnownIncorrectClaim(unpaired_interval=_point_unpaired),
}
BROKEN_NUMERIC = {
    **BROKEN_SYMBOLIC,
    "magic.thm3.2": lambda: MagicPointwiseSafetyClaim(premise=lambda r: bool(r.max() >= 0)),
    "magic.thm3.2.contrast": lambda: MagicSimultaneousContrastClaim(
        sampler=lambda g: LeaderFollowerGame(-(r := g.uniform(0, 1, (2, 2))), r)
    ),
    "ds.t4": lambda: DSRLvsSFTClaim(favoured="sft"),
    # plain gradient steps in place of Adam: the update share follows T2 again
    "ds.t2.adam": lambda: DSAdamShareClaim(optimizer=gradient_descent),
    "kale.alt-admissible": lambda: AltAdmissibilityClaim(heuristic=naive_alt_heuristic),
    "kale.multihop-gain": lambda: KAMultiHopGainClaim(
        paired_interval=_point_paired, unpaired_interval=_point_unpaired
    ),
}


def _refusals(law: Any = None, fixed: float | None = None, n: int = 1500) -> list[dict]:
    generator = rng(11)
    out = []
    for _ in range(n):
        k = int(generator.integers(0, 13))
        t = float(generator.integers(0, 41))
        p = fixed if fixed is not None else 1 / (1 + np.exp(-3.0 * (t - law(k)) / (k + 1)))
        out.append({"k": k, "t": t, "refused": bool(generator.random() < p)})
    return out


#: a premise-established MAGIC table: a safe fallback (r_D ≥ −SAFE_TOL) and a defender that
#: best-responds (regret below SAFE_TOL) yet puts mass on an unsafe reply (r_D < −SAFE_TOL)
#: and has a negative mean. Exact arithmetic rules this out, so only rounding-sized
#: rewards contradict the theorems; unsafe *episodes* only say the premise is not
#: established (n/a), never FAIL.
_MAGIC_CONTRADICTION = {"r_defender_table": [[-0.5e-9, -1.4e-9]], "defender_policy": [[0.5, 0.5]]}
#: the tolerance each claim's broken records are checked at (default 0.05): the contrast
#: bounds a mean, and a best-responding defender's mean is ≥ −SAFE_TOL, so only tol 0 can
#: show a contradiction
_BROKEN_TOL = {"magic.thm3.2.contrast": 0.0}


def _broken_records(claim_id: str) -> list[dict]:
    """Records that contradict each claim (its empirical check must FAIL on them)."""
    p, q = [0.7, 0.2, 0.1], [0.5, 0.25, 0.25]
    return {
        "magic.thm3.2": [_MAGIC_CONTRADICTION],
        "magic.thm3.2.contrast": [_MAGIC_CONTRADICTION],
        "rapo.thm3.1": _refusals(lambda k: -1.5 * k),
        "rapo.thm3.1.general": _refusals(lambda k: 0.2 * k * k),
        "rapo.thm3.1.correlated-masking": _refusals(fixed=0.5),
        "rapo.untargeted-k2": [{"k": k, "steps": 3 * k} for k in (4, 8, 16, 32) for _ in range(50)],
        "ds.t1": [{"p": 0.6, "a": 0.7, "b": 0.2, "K": 2, "value": 0.1}],
        "ds.t1.grpo-token-mean": [{"p": 0.6, "a": 0.7, "b": 0.2, "L": 4, "c": 0.5, "value": 0.3}],
        "ds.t2.adam": [  # T2's plain-gradient law: the update ratio grows ∝ L
            {"L": length, "update_norm_sample": 0.3 * length, "update_norm_decision": 0.5}
            for length in (1, 4, 16, 64)
        ],
        "ds.t2": [
            {"L": length, "grad_norm_sample": 0.3, "grad_norm_decision": 0.5}
            for length in (1, 4, 16, 64)
        ],
        "ds.t3": [
            {"L": length, "kl_grad_norm_sample": 0.3, "kl_grad_norm_decision": 0.5}
            for length in (1, 4, 16, 64)
        ],
        "ds.t4": _t4_runs(decision_rl=False),
        "kale.ka-loss": [{"p": p, "q": q, "loss": 0.0}],
        "kale.alt-admissible": [{"h": 3.0, "true_distance": 2.0}],
        "kale.multihop-gain": _kale_answers(ka=0.5, sft=0.5),  # no gain
        "kale.known-incorrect": _kale_answers(ka=0.3, sft=0.7),  # KA wrong more often
    }[claim_id]


def test_every_claim_has_a_broken_variant_per_check() -> None:
    ids = {c.id for c in all_claims()}
    assert set(BROKEN_SYMBOLIC) == ids and set(BROKEN_NUMERIC) == ids
    for claim_id in ids:
        _broken_records(claim_id)


@pytest.mark.parametrize("claim_id", sorted(BROKEN_SYMBOLIC))
def test_symbolic_check_can_fail(claim_id: str) -> None:
    result = BROKEN_SYMBOLIC[claim_id]().check_symbolic()
    assert result.status is Status.FAIL, result
    assert result.summary.startswith("failed"), result.summary


@pytest.mark.parametrize("claim_id", sorted(BROKEN_NUMERIC))
def test_numeric_check_can_fail(claim_id: str) -> None:
    result = BROKEN_NUMERIC[claim_id]().check_numeric(rng(), 20)
    assert result.status is Status.FAIL, result
    assert result.summary.startswith("failed"), result.summary  # says what failed


@pytest.mark.parametrize("claim_id", sorted(BROKEN_SYMBOLIC))
def test_empirical_check_can_fail(claim_id: str) -> None:
    tol = _BROKEN_TOL.get(claim_id, 0.05)
    result = get_claim(claim_id).check_empirical(_broken_records(claim_id), tol, 0.05)
    assert result.status is Status.FAIL, result


@pytest.mark.parametrize("claim_id", sorted(BROKEN_SYMBOLIC))
def test_every_empirical_verdict_reports_n_and_an_interval(claim_id: str) -> None:
    """The audit of issue 7: every claim's empirical verdict carries n and an interval,
    and a failing one says what failed."""
    tol = _BROKEN_TOL.get(claim_id, 0.05)
    result = get_claim(claim_id).check_empirical(_broken_records(claim_id), tol, 0.05)
    assert isinstance(result.evidence["n"], int) and result.evidence["n"] >= 1
    interval = result.evidence["interval"]
    assert len(interval) == 2 and interval[0] <= interval[1]
    assert result.evidence["interval_of"]
    assert result.summary.startswith(("failed", "premise not established")), result.summary


def test_alt_symbolic_uses_the_heuristic() -> None:
    huge = AltAdmissibilityClaim(heuristic=_huge_heuristic).check_symbolic()
    assert huge.status is Status.FAIL and huge.evidence["inadmissible_nodes"] > 0
    zero = AltAdmissibilityClaim(heuristic=_zero_heuristic).check_symbolic()
    assert zero.status is Status.FAIL  # admissible but not the ALT heuristic
    assert AltAdmissibilityClaim().check_symbolic().status is Status.PASS


def test_magic_contrast_symbolic_depends_on_the_witness() -> None:
    assert MagicSimultaneousContrastClaim().check_symbolic().status is Status.PASS
    for wrong in (sp.Integer(0), G_SYM / (2 * (G_SYM + C_SYM)), G_SYM / (G_SYM + C_SYM) + 0.1):
        result = MagicSimultaneousContrastClaim(witness_mass=wrong).check_symbolic()
        assert result.status is Status.FAIL and result.summary.startswith("failed")


def test_magic_numeric_needs_a_non_vacuous_premise() -> None:
    vacuous = MagicPointwiseSafetyClaim(premise=lambda r: True).check_numeric(rng(), 20)
    assert vacuous.status is Status.FAIL and "premise" in vacuous.summary
    good = MagicPointwiseSafetyClaim().check_numeric(rng(), 20)
    assert good.status is Status.PASS
    assert good.evidence["without_fallback_some_spne_unsafe"] > 0


def test_ds_t4_symbolic_sees_the_kl_mechanism() -> None:
    good = DSRLvsSFTClaim().check_symbolic()
    assert good.status is Status.PASS
    assert good.evidence["rl_ratio_growth_L8_to_L64"] == pytest.approx([8.0, 8.0])
    flat = DSRLvsSFTClaim(length_weighted_kl=False).check_symbolic()
    assert not flat.evidence["checks"][
        "RL decision/sampling move ratio grows ∝ L at fixed β·L (the KL mechanism)"
    ]


@pytest.mark.parametrize(
    "claim_type", [RapoBudgetClaim, RapoGeneralThresholdClaim, RapoCorrelatedMaskingClaim]
)
@pytest.mark.parametrize(
    ("name", "records"),
    [
        ("noise", {"fixed": 0.5}),
        ("always refuses", {"fixed": 1.0}),
        ("inverse law", {"law": lambda k: -1.5 * k}),
    ],
)
def test_rapo_empirical_negatives(claim_type: type, name: str, records: dict) -> None:
    result = claim_type().check_empirical(_refusals(**records), alpha=0.05)
    assert result.status is Status.FAIL, (name, result)
    assert result.summary.startswith("failed")
    assert result.evidence["n"] == 1500 and len(result.evidence["interval"]) == 2


def test_rapo_empirical_pass_reports_n_and_interval_and_insufficient_data() -> None:
    result = RapoBudgetClaim().check_empirical(_refusals(lambda k: 1.5 * k))
    assert result.status is Status.PASS
    lo, hi = result.evidence["interval"]
    assert lo < 1.5 < hi and result.evidence["n"] == 1500
    assert len(result.evidence["fitted_theta_interval"]) == 1
    few = RapoBudgetClaim().check_empirical(_refusals(lambda k: 1.5 * k, n=100))
    assert few.status is Status.INSUFFICIENT and "insufficient data" in few.summary


def test_alpha_is_separate_from_tol() -> None:
    with pytest.raises(ClaimUsageError, match="alpha"):
        run_claim_checks(n=1, alpha=0.0)
    records = _refusals(lambda k: 1.5 * k)
    # tol is not a p-value for RAPO: a huge tolerance does not turn a test into a pass
    bad = _refusals(lambda k: -1.5 * k)
    assert RapoBudgetClaim().check_empirical(bad, tol=10.0).status is Status.FAIL
    assert RapoBudgetClaim().check_empirical(records, tol=0.0).status is Status.PASS


def test_failing_summaries_say_what_failed() -> None:
    for claim in (
        DSSftShareClaim(1 / (1 + sp.sqrt(L_SYM) * R_SYM)),
        DSKLPullClaim(exponent=0.5),
        RapoUntargetedClaim(exponent=1.0),
    ):
        for result in (claim.check_symbolic(), claim.check_numeric(rng(), 20)):
            assert result.status is Status.FAIL
            assert "failed" in result.summary, result.summary


def test_every_claim_has_a_source_and_docs() -> None:
    kinds = {c.id: c.source.kind for c in all_claims()}
    assert kinds["rapo.thm3.1"] == "paper-second-hand"
    for cid in ("rapo.thm3.1.general", "rapo.thm3.1.correlated-masking", "rapo.untargeted-k2"):
        assert kinds[cid] == "extension"
    assert kinds["kale.ka-loss"] == kinds["kale.alt-admissible"] == "textbook"
    assert all(kinds[f"ds.t{i}"] == "reconstruction" for i in range(1, 5))
    assert kinds["ds.t1.grpo-token-mean"] == kinds["ds.t2.adam"] == "extension"
    assert kinds["kale.multihop-gain"] == "paper"
    assert kinds["kale.known-incorrect"] == "paper-second-hand"
    for cid in ("kale.ka-loss", "kale.alt-admissible"):
        assert "textbook" in get_claim(cid).source.citation
    t2 = " ".join(get_claim("ds.t2").assumptions)
    assert "plain gradient" in t2 and "Adam" in t2
    docs = (REPO / "docs" / "claims.md").read_text()
    for claim in all_claims():
        assert f"`{claim.id}`" in docs
        text = claim.describe(explain=True)
        assert "source:" in text and claim.statement in text and "explanation:" in text
    t4 = " ".join(get_claim("ds.t4").assumptions)
    assert "β·L ∈ [2, 32]" in t4 and "Adam" in t4


def test_cli_check_prints_statement_source_and_explanation() -> None:
    from typer.testing import CliRunner

    from arena.cli_theory import theory_app

    result = CliRunner().invoke(theory_app, ["check", "--n", "2", "--explain", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert all(r["source"]["kind"] and r["statement"] and r["explanation"] for r in rows)
