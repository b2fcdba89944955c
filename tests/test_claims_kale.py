"""KALE's claims: the two textbook identities and the two empirical claims with a schema.

The empirical claims (``kale.multihop-gain``, ``kale.known-incorrect``) must pass a
synthetic data set with the effect, and fail the negative ones: no gain, a reversed
effect and noise; below the minimum sample size they report insufficient data. Their
symbolic and numeric checks examine the test itself, so broken intervals fail them.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from scipy import stats

from theory.claims import RecordSchemaError, Status, get_claim
from theory.claims.kale import (
    MIN_PER_METHOD,
    RECORD_SCHEMA,
    KAKnownIncorrectClaim,
    KAMultiHopGainClaim,
    pair_answers,
    parse_kale_records,
)
from theory.claims.stats import agresti_min_difference, newcombe_difference
from theory.evaluation.paired import mcnemar


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def _answers(
    ka: float,
    sft: float,
    n: int = 200,
    *,
    seed: int = 1,
    paired: bool = True,
    known_rate: float = 0.7,
    ki_ka: float | None = None,
    ki_sft: float | None = None,
) -> list[dict[str, Any]]:
    """Synthetic multi-hop answers (hops 2-4) of both methods to ``n`` questions.

    Accuracies ``ka`` and ``sft``; with ``ki_*`` set, a question is "known" w.p.
    ``known_rate`` and a known question is answered wrongly w.p. ``ki_*`` (the
    known&incorrect rate), an unknown one w.p. 0.7. A shared question difficulty makes
    the two methods' answers correlated, as two fine-tunes of one base model are.
    """
    g = rng(seed)
    out = []
    for q in range(n):
        ease = g.normal()
        hops = int(g.integers(2, 5))
        for method, acc, ki in (("ka", ka, ki_ka), ("sft", sft, ki_sft)):
            if ki is None:
                # correct iff ease + noise clears the method's cut-off: accuracy acc
                cut = float(stats.norm.ppf(1 - acc)) * np.sqrt(1 + 0.7**2)
                correct = bool(ease + 0.7 * g.normal() > cut)
                known = True
            else:
                known = bool(g.random() < known_rate)
                correct = bool(g.random() >= (ki if known else 0.7))
            record: dict[str, Any] = {
                "method": method,
                "hops": hops,
                "correct": correct,
                "known": known,
            }
            if paired:
                record["question_id"] = f"q{q}"
            out.append(record)
    return out


# -- textbook identities -----------------------------------------------------------------


def test_textbook_rows_say_textbook() -> None:
    for cid in ("kale.ka-loss", "kale.alt-admissible"):
        claim = get_claim(cid)
        assert claim.source.kind == "textbook"
        assert "textbook" in claim.source.citation and "textbook" in str(claim.source)
        assert any("not one of KALE's empirical claims" in c for c in claim.source.caveats)


def test_ka_loss_empirical_reports_n_and_the_range_of_deviations() -> None:
    p, q = [0.5, 0.5], [0.25, 0.75]
    loss = 0.5 * np.log(2) + 0.5 * np.log(2 / 3)
    claim = get_claim("kale.ka-loss")
    good = claim.check_empirical([{"p": p, "q": q, "loss": loss + 0.01}], tol=0.05)
    assert good.status is Status.PASS and good.evidence["n"] == 1
    assert good.evidence["interval"] == pytest.approx([0.01, 0.01])
    forward = 0.25 * np.log(0.5) + 0.75 * np.log(1.5)
    bad = claim.check_empirical([{"p": p, "q": q, "loss": forward}], tol=1e-6)
    assert bad.status is Status.FAIL and "wrong direction" in bad.summary


# -- the record schema --------------------------------------------------------------------


def test_record_schema_is_validated() -> None:
    assert set(RECORD_SCHEMA) == {"method", "hops", "correct", "known", "question_id", "cluster"}
    good = {"method": "KA", "hops": 2.0, "correct": 1, "known": False, "question_id": 7}
    (answer,) = parse_kale_records([good], "t", need_known=True)
    assert (answer.method, answer.hops, answer.correct, answer.known) == ("ka", 2, True, False)
    assert answer.question_id == "7"
    for bad, match in (
        ({**good, "method": "rl"}, "'ka' or 'sft'"),
        ({**good, "hops": 0}, "hops"),
        ({**good, "hops": True}, "hops"),
        ({**good, "hops": 2.5}, "hops"),
        ({**good, "correct": "yes"}, "correct"),
        ({**good, "correct": 2}, "correct"),
    ):
        with pytest.raises(RecordSchemaError, match=match):
            parse_kale_records([bad], "t", need_known=False)
    with pytest.raises(RecordSchemaError, match="known"):
        KAKnownIncorrectClaim().check_empirical([{k: v for k, v in good.items() if k != "known"}])
    assert KAMultiHopGainClaim().check_empirical([]).status is Status.SKIPPED


def test_pairing_rules() -> None:
    records = _answers(0.6, 0.5, n=5)
    answers = parse_kale_records(records, "t", need_known=False)
    pairs, why = pair_answers(answers)
    assert pairs is not None and len(pairs) == 5 and why == "paired by question_id"
    assert pair_answers(answers[:-1])[0] is None  # one question answered by KA only
    twice = parse_kale_records([*records, records[0]], "t", need_known=False)
    assert "twice" in pair_answers(twice)[1]
    unpaired = parse_kale_records(_answers(0.6, 0.5, n=5, paired=False), "t", False)
    assert "no question_id" in pair_answers(unpaired)[1]


# -- intervals ----------------------------------------------------------------------------


def test_intervals_match_published_values_and_the_evaluation_module() -> None:
    # Newcombe (1998, Stat. Med. 17:873), Table II, method 10
    _, lo, hi = newcombe_difference(56, 70, 48, 80, 0.05)
    assert (float(lo), float(hi)) == pytest.approx((0.0524, 0.3339), abs=5e-5)
    _, lo, hi = newcombe_difference(9, 10, 3, 10, 0.05)
    assert (float(lo), float(hi)) == pytest.approx((0.1705, 0.8090), abs=5e-5)
    # the paired interval is theory.evaluation.paired.mcnemar's, on counts
    a = np.array([1] * 30 + [1] * 12 + [0] * 5 + [0] * 13)
    b = np.array([1] * 30 + [0] * 12 + [1] * 5 + [0] * 13)
    reference = mcnemar(a, b)
    d, lo, hi = agresti_min_difference(30, 12, 5, 13, 0.05)
    assert float(d) == pytest.approx(reference.effect)
    assert (float(lo), float(hi)) == pytest.approx((reference.lower, reference.upper))


# -- kale.multihop-gain -------------------------------------------------------------------


@pytest.mark.parametrize("paired", [True, False])
def test_multihop_gain_passes_a_real_gain(paired: bool) -> None:
    records = _answers(0.65, 0.45, paired=paired)
    result = KAMultiHopGainClaim().check_empirical(records)
    assert result.status is Status.PASS, result
    ev = result.evidence
    assert ev["n"] == 400 and ev["answers_per_method"] == {"ka": 200, "sft": 200}
    lo, hi = ev["interval"]
    assert 0 < lo < hi and ev["interval_of"] == "multi-hop accuracy KA − SFT"
    assert ev["pairing"].startswith("paired" if paired else "unpaired")


@pytest.mark.parametrize(
    ("name", "records", "phrase"),
    [
        ("no gain", _answers(0.5, 0.5), "no significant effect"),
        ("reversed", _answers(0.4, 0.6), "reversed"),
        ("noise", _answers(0.5, 0.5, seed=7, paired=False), "no significant effect"),
    ],
)
def test_multihop_gain_fails_negative_data_sets(
    name: str, records: list[dict[str, Any]], phrase: str
) -> None:
    result = KAMultiHopGainClaim().check_empirical(records)
    assert result.status is Status.FAIL, (name, result)
    assert result.summary.startswith("failed") and phrase in result.summary
    assert result.evidence["n"] == 400 and len(result.evidence["interval"]) == 2


def test_multihop_noise_with_independent_answers_fails() -> None:
    """Pure noise: every answer a coin flip, whatever the method."""
    g = rng(11)
    records = [
        {"method": m, "hops": 3, "correct": bool(g.random() < 0.5), "question_id": q}
        for q in range(300)
        for m in ("ka", "sft")
    ]
    result = KAMultiHopGainClaim().check_empirical(records)
    assert result.status is Status.FAIL and "no significant effect" in result.summary


def test_multihop_gain_small_samples_and_single_hop_questions() -> None:
    few = _answers(0.65, 0.45, n=MIN_PER_METHOD - 10)
    result = KAMultiHopGainClaim().check_empirical(few)
    assert result.status is Status.INSUFFICIENT and "insufficient data" in result.summary
    assert result.evidence["n"] == 2 * (MIN_PER_METHOD - 10)
    # a significant reversal is a failure even below the minimum
    reversed_few = [
        {"method": m, "hops": 2, "correct": m == "sft", "question_id": q}
        for q in range(20)
        for m in ("ka", "sft")
    ]
    assert KAMultiHopGainClaim().check_empirical(reversed_few).status is Status.FAIL
    # a gain on one-hop questions only is not the claim's
    one_hop = [{**r, "hops": 1} for r in _answers(0.9, 0.1)]
    only = KAMultiHopGainClaim().check_empirical(one_hop)
    assert only.status is Status.INSUFFICIENT and only.evidence["single_hop_ignored"] == 400


def test_multihop_gain_checks_of_the_test() -> None:
    claim = KAMultiHopGainClaim()
    symbolic = claim.check_symbolic()
    assert symbolic.status is Status.PASS and all(symbolic.evidence["checks"].values())
    numeric = claim.check_numeric(rng(), 20)
    assert numeric.status is Status.PASS, numeric
    assert numeric.evidence["pass_rate_no_effect"] <= 0.045
    assert min(numeric.evidence["power_n400_effect_0.15"]) >= 0.8


def _point_unpaired(x1: Any, n1: Any, x2: Any, n2: Any, alpha: float) -> tuple[Any, Any, Any]:
    d = np.asarray(x1) / n1 - np.asarray(x2) / n2
    return d, d, d


def _point_paired(n11: Any, n10: Any, n01: Any, n00: Any, alpha: float) -> tuple[Any, Any, Any]:
    d = (np.asarray(n10) - n01) / (np.asarray(n11) + n10 + n01 + n00)
    return d, d, d


def test_point_estimate_instead_of_an_interval_fails_every_check() -> None:
    gain = KAMultiHopGainClaim(paired_interval=_point_paired, unpaired_interval=_point_unpaired)
    assert gain.check_symbolic().status is Status.FAIL
    numeric = gain.check_numeric(rng(), 20)
    assert numeric.status is Status.FAIL and "no-effect data sets" in numeric.summary
    # on data: a tiny, insignificant difference now "passes"
    tiny = _answers(0.51, 0.5, seed=3)
    assert gain.check_empirical(tiny).status is not Status.FAIL
    assert KAMultiHopGainClaim().check_empirical(tiny).status is Status.FAIL


def test_ignoring_the_pairing_fails_the_symbolic_check() -> None:
    def as_if_independent(n11: Any, n10: Any, n01: Any, n00: Any, alpha: float) -> Any:
        n = np.asarray(n11) + n10 + n01 + n00
        return newcombe_difference(np.asarray(n11) + n10, n, np.asarray(n11) + n01, n, alpha)

    result = KAMultiHopGainClaim(paired_interval=as_if_independent).check_symbolic()
    assert result.status is Status.FAIL
    assert not result.evidence["checks"]["paired half-width = z·√Var(I10 − I01)/√n at large n"]


# -- kale.known-incorrect -----------------------------------------------------------------


def test_known_incorrect_passes_a_real_reduction() -> None:
    records = _answers(0.6, 0.6, ki_ka=0.15, ki_sft=0.4)
    result = KAKnownIncorrectClaim().check_empirical(records)
    assert result.status is Status.PASS, result
    ev = result.evidence
    lo, hi = ev["interval"]
    assert 0 < lo < hi and ev["n"] == sum(ev["known_per_method"].values())
    rates = ev["rate_incorrect_given_known"]
    assert rates["sft"] > rates["ka"]
    assert ev["rate_known_and_incorrect"]["sft"] > ev["rate_known_and_incorrect"]["ka"]


@pytest.mark.parametrize(
    ("name", "kwargs", "phrase"),
    [
        ("no difference", {"ki_ka": 0.3, "ki_sft": 0.3}, "no significant effect"),
        ("reversed", {"ki_ka": 0.45, "ki_sft": 0.15}, "reversed"),
        ("noise", {"ki_ka": 0.5, "ki_sft": 0.5, "seed": 5}, "no significant effect"),
    ],
)
def test_known_incorrect_fails_negative_data_sets(
    name: str, kwargs: dict[str, Any], phrase: str
) -> None:
    records = _answers(0.6, 0.6, **kwargs)
    result = KAKnownIncorrectClaim().check_empirical(records)
    assert result.status is Status.FAIL, (name, result)
    assert result.summary.startswith("failed") and phrase in result.summary


def test_known_incorrect_needs_known_questions() -> None:
    few = _answers(0.6, 0.6, n=40, ki_ka=0.1, ki_sft=0.5, known_rate=0.3)
    result = KAKnownIncorrectClaim().check_empirical(few)
    assert result.status is Status.INSUFFICIENT
    none_known = [{**r, "known": False} for r in few]
    assert KAKnownIncorrectClaim().check_empirical(none_known).status is Status.INSUFFICIENT


def test_known_incorrect_checks_of_the_test() -> None:
    claim = KAKnownIncorrectClaim()
    assert claim.check_symbolic().status is Status.PASS
    assert claim.check_numeric(rng(), 20).status is Status.PASS
    broken = KAKnownIncorrectClaim(unpaired_interval=_point_unpaired)
    assert broken.check_symbolic().status is Status.FAIL
    assert broken.check_numeric(rng(), 20).status is Status.FAIL


def _seeded_copies(
    cells: tuple[int, int, int, int], seeds: int, known: bool = True
) -> list[dict[str, Any]]:
    """Questions answered after each of ``seeds`` training seeds, every seed giving the same
    answers (perfectly correlated within a question), paired by ``seed:qid``. ``cells``
    counts questions (both right, KA only, SFT only, neither)."""
    outcomes = [
        pair
        for pair, count in zip(((1, 1), (1, 0), (0, 1), (0, 0)), cells, strict=True)
        for _ in range(count)
    ]
    rows: list[dict[str, Any]] = []
    for seed in range(seeds):
        for q, (ka, sft) in enumerate(outcomes):
            for method, right in (("ka", ka), ("sft", sft)):
                rows.append({"method": method, "hops": 2, "correct": bool(right),
                             "known": known, "question_id": f"{seed}:{q}"})  # fmt: skip
    return rows


def _clustered(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{**r, "cluster": str(r["question_id"]).split(":")[1]} for r in rows]


def test_clusters_count_questions_not_copies() -> None:
    """12 questions seen after 5 seeds are 12 independent answers, not 60: without the
    cluster field the copies pass; with it the claim says insufficient data."""
    claim = get_claim("kale.multihop-gain")
    rows = _seeded_copies((3, 6, 0, 3), 5)
    assert claim.check_empirical(rows).status is Status.PASS  # the naive (wrong) count
    clustered = claim.check_empirical(_clustered(rows))
    assert clustered.status is Status.INSUFFICIENT
    assert clustered.evidence["clusters_per_method"] == {"ka": 12, "sft": 12}


def test_clusters_widen_the_interval_until_a_weak_effect_is_not_shown() -> None:
    """40 questions × 5 seeds, KA alone right on 8, SFT alone on 3 (McNemar on 40
    questions: not significant): the naive interval over 200 copies excludes 0 (a false
    PASS); the cluster-robust one does not (FAIL: no effect shown)."""
    claim = get_claim("kale.multihop-gain")
    rows = _seeded_copies((15, 8, 3, 14), 5)
    naive = claim.check_empirical(rows)
    robust = claim.check_empirical(_clustered(rows))
    assert naive.status is Status.PASS
    assert robust.status is Status.FAIL
    assert robust.evidence["design_effect"] > 4  # ~ the number of copies
    width = lambda r: r.evidence["interval"][1] - r.evidence["interval"][0]  # noqa: E731
    assert width(robust) > 2 * width(naive)
    known = get_claim("kale.known-incorrect")
    known_rows = _clustered(_seeded_copies((15, 8, 3, 14), 5))
    assert known.check_empirical(known_rows).evidence["design_effect"] > 4


def test_independent_clusters_keep_the_interval() -> None:
    """One answer per cluster: the design effect is 1 and nothing changes."""
    rng = np.random.default_rng(0)
    claim = get_claim("kale.multihop-gain")
    rows = [{"method": m, "hops": 2, "correct": bool(rng.random() < p), "question_id": q}
            for q in range(80) for m, p in (("ka", 0.7), ("sft", 0.4))]  # fmt: skip
    plain = claim.check_empirical(rows)
    with_clusters = claim.check_empirical([{**r, "cluster": r["question_id"]} for r in rows])
    assert with_clusters.evidence["design_effect"] == pytest.approx(1.0, abs=0.15)
    assert with_clusters.status is plain.status
    with pytest.raises(RecordSchemaError, match="some records have a cluster"):
        claim.check_empirical([rows[0], {**rows[1], "cluster": "x"}])
