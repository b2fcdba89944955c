"""The stated variants of DS T1 and T2: GRPO's token-mean weighting and the Adam optimiser.

Each variant is its own claim with its own verdicts; each check passes as stated and fails
on a deliberately broken variant (a wrong closed form, T2's law carried over to Adam, plain
gradient steps in place of Adam, contradicting records).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import sympy as sp

from theory.claims import RecordSchemaError, Status, get_claim
from theory.claims.ds import (
    ADAM_SHARE_CLAIM,
    C_SYM,
    L_SYM,
    VN_CLAIM,
    A,
    B,
    DSAdamShareClaim,
    DSGrpoTokenMeanClaim,
    P,
    adam,
    gradient_descent,
    sft_gradient,
    simulate_token_weighted_gradient,
    update_share,
)
from theory.claims.ds.model import _recursion_value


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


# -- GRPO token-mean weighting (variant of T1) ----------------------------------------------


def test_grpo_token_mean_holds_as_stated() -> None:
    claim = DSGrpoTokenMeanClaim()
    symbolic = claim.check_symbolic()
    assert symbolic.status is Status.PASS, symbolic
    assert all(symbolic.evidence["checks"].values())
    numeric = claim.check_numeric(rng(), 20)
    assert numeric.status is Status.PASS, numeric
    # the length bias is visible: token-mean weighting is not a rescaled ∇V
    assert numeric.evidence["instances_rejecting_rescaled_grad_V"] > 0
    assert get_claim("ds.t1.grpo-token-mean").source.kind == "extension"


def _rescaled_value() -> sp.Expr:
    """``V/E[N]``: the claim that token-mean weighting only rescales T1's gradient."""
    stop = P * A + (1 - P) * B
    mean_tokens = stop * (L_SYM + 1) + (1 - stop) * (2 * L_SYM + 1)
    return _recursion_value(2) / mean_tokens


@pytest.mark.parametrize(
    "wrong",
    [VN_CLAIM.subs(C_SYM, 0), _rescaled_value()],
    ids=["baseline-drops-out", "a-rescale-of-V"],
)
def test_grpo_token_mean_wrong_closed_forms_fail(wrong: sp.Expr) -> None:
    claim = DSGrpoTokenMeanClaim(value_n=wrong)
    symbolic = claim.check_symbolic()
    assert symbolic.status is Status.FAIL
    assert not symbolic.evidence["checks"]["claimed V_N = E[(R-c)/N] at K=2 (enumerated)"]
    numeric = claim.check_numeric(rng(), 20)
    assert numeric.status is Status.FAIL and numeric.summary.startswith("failed")
    assert "dV_N/dθ" in numeric.summary


def test_grpo_baseline_pushes_decisions_towards_resample() -> None:
    """Derived by hand from V_N: ∂²V_N/∂c∂a = −p·L/((L+1)(2L+1)) < 0."""
    mixed = sp.simplify(sp.diff(VN_CLAIM, C_SYM, A))
    assert sp.simplify(mixed + P * L_SYM / ((L_SYM + 1) * (2 * L_SYM + 1))) == 0


def _grpo_records(episodes: int = 20000) -> list[dict[str, Any]]:
    p, a, b = np.array([0.6, 0.4]), np.array([0.7, 0.5]), np.array([0.2, 0.3])
    length, baseline = np.array([4.0, 2.0]), np.array([0.5, 0.3])
    sim = simulate_token_weighted_gradient(rng(3), p, a, b, length, baseline, episodes)
    records = []
    for i in range(2):
        record: dict[str, Any] = {
            "p": p[i],
            "a": a[i],
            "b": b[i],
            "L": length[i],
            "c": baseline[i],
            "episodes": episodes,
        }
        for j, key in enumerate(("grad_theta_s", "grad_theta_a", "grad_theta_b")):
            record[key] = float(sim["sequence"][i, j])
            record[f"se_{key}"] = float(sim["sequence_se"][i, j])
        records.append(record)
    return records


def test_grpo_empirical_on_simulated_runs() -> None:
    claim = DSGrpoTokenMeanClaim()
    records = _grpo_records()
    good = claim.check_empirical(records, tol=0.002, alpha=0.05)
    assert good.status is Status.PASS, good
    assert good.evidence["n"] == 6 and len(good.evidence["interval"]) == 2
    assert good.evidence["episodes"] == 40000
    # the same MC numbers compared with T1's balanced gradient ∇V (no 1/N weighting)
    bad = [{**r, "grad_theta_a": r["grad_theta_a"] + 0.01} for r in records]
    failed = claim.check_empirical(bad, tol=0.002, alpha=0.05)
    assert failed.status is Status.FAIL and failed.summary.startswith("failed")
    noisy = [{**r, "se_grad_theta_a": 1.0} for r in records[:1]]
    noisy[0] = {k: v for k, v in noisy[0].items() if k not in ("grad_theta_s", "grad_theta_b")}
    assert claim.check_empirical(noisy, tol=0.002).status is Status.INSUFFICIENT
    with pytest.raises(RecordSchemaError, match="K = 2"):
        claim.check_empirical([{**records[0], "K": 3}])
    with pytest.raises(RecordSchemaError, match="'c'"):
        claim.check_empirical([{k: v for k, v in records[0].items() if k != "c"}])


def test_grpo_batch_token_mean_is_a_rescale() -> None:
    """Verl's batch token-mean: Σ(R − c)g/ΣN estimates ∇V/E[N], whatever the baseline."""
    p, a, b = np.array([0.6]), np.array([0.7]), np.array([0.2])
    length = np.array([4.0])
    low = simulate_token_weighted_gradient(rng(5), p, a, b, length, np.array([0.1]), 40000)
    high = simulate_token_weighted_gradient(rng(5), p, a, b, length, np.array([0.9]), 40000)
    # the same episodes: the batch estimate moves within noise, the per-sequence one does not
    gap_batch = np.abs(low["batch"] - high["batch"]) / (low["batch_se"] + high["batch_se"])
    gap_seq = np.abs(low["sequence"] - high["sequence"]) / (
        low["sequence_se"] + high["sequence_se"]
    )
    assert float(np.max(gap_batch)) < 3.0
    assert float(np.max(gap_seq)) > 3.0


# -- Adam (variant of T2) -------------------------------------------------------------------


def test_adam_variant_holds_as_stated() -> None:
    claim = DSAdamShareClaim()
    symbolic = claim.check_symbolic()
    assert symbolic.status is Status.PASS, symbolic
    numeric = claim.check_numeric(rng(), 20)
    assert numeric.status is Status.PASS, numeric
    ev = numeric.evidence
    lo, hi = ev["first_update_share_range"]
    assert lo == pytest.approx(float(ADAM_SHARE_CLAIM), abs=1e-3)
    assert hi == pytest.approx(float(ADAM_SHARE_CLAIM), abs=1e-3)
    # SFT's decision share of the gain: gradient flow about 0.07, Adam about 0.4
    assert ev["mean_decision_share_of_gain_gradient_flow"] < 0.15
    assert ev["mean_decision_share_of_gain_optimizer"] > 0.3
    assert ev["instances_optimizer_share_higher"] == ev["gain_instances"]


def test_t2_and_t4_state_that_they_assume_plain_gradient_flow() -> None:
    for claim_id in ("ds.t2", "ds.t4"):
        text = " ".join(get_claim(claim_id).assumptions)
        assert "plain gradient" in text and "ds.t2.adam" in text


def test_our_adam_is_kingma_ba() -> None:
    """Bias-corrected Adam: a constant gradient moves each coordinate by lr per step."""

    def constant(theta: np.ndarray) -> np.ndarray:
        return np.broadcast_to(np.array([3.0, -1e-3, 50.0]), theta.shape)

    start = np.zeros((1, 3))
    out = adam(constant, start, np.array([0.01]), np.array([7]))
    assert out[0] == pytest.approx([-0.07, 0.07, -0.07], abs=1e-6)

    def quadratic(theta: np.ndarray) -> np.ndarray:  # minimum at (1, -2, 3)
        return theta - np.array([1.0, -2.0, 3.0])

    solved = adam(quadratic, start, np.array([0.05]), np.array([3000]))
    assert solved[0] == pytest.approx([1.0, -2.0, 3.0], abs=1e-2)
    stepped = gradient_descent(quadratic, start, np.array([0.1]), np.array([500]))
    assert stepped[0] == pytest.approx([1.0, -2.0, 3.0], abs=1e-6)


def test_adam_with_t2s_law_fails() -> None:
    claim = DSAdamShareClaim(share_law=1 / (1 + L_SYM))
    symbolic = claim.check_symbolic()
    assert symbolic.status is Status.FAIL and symbolic.summary.startswith("failed")
    numeric = claim.check_numeric(rng(), 20)
    assert numeric.status is Status.FAIL and "first-update" in numeric.summary


def test_plain_gradient_steps_in_place_of_adam_fail() -> None:
    numeric = DSAdamShareClaim(optimizer=gradient_descent).check_numeric(rng(), 20)
    assert numeric.status is Status.FAIL
    assert "first-update" in numeric.summary and "gradient flow" in numeric.summary


def _update_records(optimizer: Any) -> list[dict[str, float]]:
    """One SFT step of ``optimizer`` on the toy at L = 1..64: the heads' update norms."""
    lengths = np.array([1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0])
    theta0 = np.tile([0.3, -0.5, 0.8], (lengths.size, 1))
    q = np.full(lengths.size, 0.85)
    moved = optimizer(
        sft_gradient(lengths, q), theta0, np.full(lengths.size, 0.01), np.ones(7, int)
    )
    delta = moved - theta0
    shares = update_share(delta)
    assert np.all((shares > 0) & (shares < 1))
    return [
        {
            "L": float(length),
            "update_norm_sample": float(abs(d[0])),
            "update_norm_decision": float(np.hypot(d[1], d[2])),
        }
        for length, d in zip(lengths, delta, strict=True)
    ]


def test_adam_empirical_on_measured_updates() -> None:
    claim = DSAdamShareClaim()
    adam_updates = _update_records(adam)
    good = claim.check_empirical(adam_updates, tol=0.05)
    assert good.status is Status.PASS, good
    lo, hi = good.evidence["interval"]
    assert -0.05 < lo <= hi < 0.05 and good.evidence["n"] == 7
    # plain gradient steps: the update ratio grows ∝ L, as T2 says (and ds.t2 passes)
    plain = _update_records(gradient_descent)
    assert claim.check_empirical(plain, tol=0.05).status is Status.FAIL
    t2_records = [
        {
            "L": r["L"],
            "grad_norm_sample": r["update_norm_sample"],
            "grad_norm_decision": r["update_norm_decision"],
        }
        for r in plain
    ]
    assert get_claim("ds.t2").check_empirical(t2_records, tol=0.1).status is Status.PASS
    few = claim.check_empirical(adam_updates[:2], tol=0.05)
    assert few.status is Status.INSUFFICIENT and "insufficient data" in few.summary
