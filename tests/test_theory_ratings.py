"""Elo, Bradley-Terry and paired tests (theory/evaluation/ratings.py, paired.py).

Every statistic is checked against a property that a wrong implementation would break:
a planted strong agent must come first, intervals must cover the truth in most seeds
(and must not cover a wrong truth), a paired test must not reject on null data at more
than its nominal rate and must reject a planted effect.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from theory.errors import InvalidGameError, NumericalError
from theory.evaluation import (
    PairwiseOutcomes,
    bradley_terry,
    elo,
    holm,
    mcnemar,
    pair_by_seed,
    paired_t,
    paired_test,
    wilcoxon_signed_rank,
)
from theory.evaluation.paired import _signed_rank_lower_index, walsh_order_statistic
from theory.evaluation.ratings import ELO_SCALE, competition_rank


def _tournament(
    seed: int, n: int = 6, games: int = 40, spread: float = 300.0, ties: float = 0.0
) -> tuple[PairwiseOutcomes, np.ndarray]:
    """Round robin under the Elo model with known ratings (mean 1500), random order."""
    rng = np.random.default_rng(seed)
    true = rng.permutation(np.linspace(-spread / 2, spread / 2, n)) + 1500.0
    first, second, score = [], [], []
    for i in range(n):
        for j in range(i + 1, n):
            p = 1.0 / (1.0 + 10.0 ** (-(true[i] - true[j]) / 400.0))
            s = (rng.random(games) < p).astype(float)
            s[rng.random(games) < ties] = 0.5
            first += [i] * games
            second += [j] * games
            score += s.tolist()
    order = rng.permutation(len(score))
    data = PairwiseOutcomes(
        labels=tuple(f"a{k}" for k in range(n)),
        first=np.array(first)[order],
        second=np.array(second)[order],
        score=np.array(score)[order],
    )
    return data, true


# -- data --------------------------------------------------------------------------------


def test_records_and_counts_give_the_same_score_matrix() -> None:
    records = [("a", "b", 1.0), ("b", "a", 0.0), ("a", "b", 0.5), ("c", "a", 1.0)]
    data = PairwiseOutcomes.from_records(records)
    s, g = data.score_matrix()
    assert data.labels == ("a", "b", "c")
    assert s[0, 1] == 2.5 and s[1, 0] == 0.5 and s[2, 0] == 1.0 and s[0, 2] == 0.0
    assert g[0, 1] == g[1, 0] == 3 and g[0, 2] == 1
    wins = np.array([[0, 2, 0], [0, 0, 0], [1, 0, 0]])
    ties = np.array([[0, 1, 0], [1, 0, 0], [0, 0, 0]])
    counted = PairwiseOutcomes.from_counts(wins, ties, labels=("a", "b", "c"))
    s2, g2 = counted.score_matrix()
    np.testing.assert_array_equal(s, s2)
    np.testing.assert_array_equal(g, g2)
    assert not counted.ordered and data.ordered


@pytest.mark.parametrize(
    ("records", "needle"),
    [
        ([("a", "a", 1.0)], "itself"),
        ([("a", "b", 1.5)], "[0, 1]"),
        ([("a", "b", float("nan"))], "[0, 1]"),
        ([("a", "b")], "expected"),
    ],
)
def test_bad_records_are_refused(records: list, needle: str) -> None:
    with pytest.raises(InvalidGameError, match=needle.replace("[", r"\[").replace("]", r"\]")):
        PairwiseOutcomes.from_records(records)


def test_unknown_agent_with_fixed_labels_is_refused() -> None:
    with pytest.raises(InvalidGameError, match="not in labels"):
        PairwiseOutcomes.from_records([("a", "z", 1.0)], labels=("a", "b"))


def test_competition_rank_shares_ranks() -> None:
    np.testing.assert_array_equal(competition_rank([3.0, 5.0, 3.0, 1.0]), [2, 1, 2, 4])


# -- Elo -----------------------------------------------------------------------------------


def test_one_elo_update_by_hand() -> None:
    result = elo([("a", "b", 1.0)], k=32, n_boot=0)
    np.testing.assert_allclose(result.ratings, [1516.0, 1484.0])
    assert math.isnan(result.lower[0])
    second = elo([("a", "b", 1.0), ("a", "b", 1.0)], k=32, n_boot=0)
    expected = 32 * (1 - 1 / (1 + 10 ** (-32 / 400)))
    np.testing.assert_allclose(second.ratings[0], 1516.0 + expected)


def test_elo_is_zero_sum_and_ranks_the_planted_order() -> None:
    data, true = _tournament(0, games=60, spread=600)
    result = elo(data, n_boot=0)
    assert abs(result.ratings.mean() - 1500.0) < 1e-9
    assert result.ranking()[0] == data.labels[int(np.argmax(true))]


def test_sequential_elo_depends_on_order_and_the_permutation_mean_does_not() -> None:
    data, _ = _tournament(1, games=30)
    reversed_data = PairwiseOutcomes(
        data.labels, data.first[::-1], data.second[::-1], data.score[::-1]
    )
    seq = elo(data, n_boot=0).ratings
    seq_rev = elo(reversed_data, n_boot=0).ratings
    perm = elo(data, permutations=200, n_boot=0, seed=0).ratings
    perm_rev = elo(reversed_data, permutations=200, n_boot=0, seed=0).ratings
    order_effect = np.abs(seq - seq_rev).max()
    assert order_effect > 10.0  # the defect the permutation mean removes
    assert np.abs(perm - perm_rev).max() < order_effect / 4


def test_sequential_elo_refuses_unordered_counts() -> None:
    counted = PairwiseOutcomes.from_counts(np.array([[0, 3], [1, 0]]))
    with pytest.raises(InvalidGameError, match="permutations"):
        elo(counted)
    assert elo(counted, permutations=5, n_boot=0).ratings[0] > 1500


def test_elo_intervals_cover_the_truth_and_not_a_wrong_truth() -> None:
    hits, wrong = [], []
    for seed in range(8):
        data, true = _tournament(seed)
        result = elo(data, permutations=5, n_boot=60, seed=seed)
        hits.append(np.mean((result.lower <= true) & (true <= result.upper)))
        mirrored = 3000.0 - true
        wrong.append(np.mean((result.lower <= mirrored) & (mirrored <= result.upper)))
    assert np.mean(hits) >= 0.75
    assert np.mean(wrong) <= 0.35


def test_elo_bootstrap_is_seeded() -> None:
    data, _ = _tournament(3, games=10)
    a = elo(data, n_boot=30, seed=7)
    b = elo(data, n_boot=30, seed=7)
    c = elo(data, n_boot=30, seed=8)
    np.testing.assert_array_equal(a.lower, b.lower)
    assert not np.array_equal(a.lower, c.lower)


# -- Bradley-Terry -------------------------------------------------------------------------


def test_bradley_terry_solves_its_score_equations() -> None:
    data, _ = _tournament(4, ties=0.2)
    ridge = 0.05
    result = bradley_terry(data, ridge=ridge, n_boot=0)
    theta = (result.ratings - 1500.0) / ELO_SCALE
    s, g = data.score_matrix()
    p = 1.0 / (1.0 + np.exp(-(theta[:, None] - theta[None, :])))
    gradient = s.sum(axis=1) - (g * p).sum(axis=1) - ridge * theta
    assert np.abs(gradient).max() < 1e-7
    assert abs(theta.sum()) < 1e-9  # the ridge centres the scale


def test_planted_strong_agent_ranks_first_with_a_tight_rank_interval() -> None:
    rng = np.random.default_rng(5)
    records = []
    for _ in range(30):
        for other in ("b", "c", "d", "e"):
            records.append(("star", other, float(rng.random() < 0.9)))
        for x, y in (("b", "c"), ("c", "d"), ("d", "e"), ("b", "e")):
            records.append((x, y, float(rng.random() < 0.5)))
    result = bradley_terry(records, n_boot=200, seed=0)
    star = result.labels.index("star")
    assert result.ranking()[0] == "star"
    assert result.rank[star] == 1 and result.rank_worst[star] == 1
    assert result.lower[star] > np.delete(result.upper, star).max()
    # the same design without the plant: "star" is no longer certainly first
    level = [(a, b, float(rng.random() < 0.5)) for a, b, _ in records]
    plain = bradley_terry(level, n_boot=200, seed=0)
    assert plain.rank_worst[plain.labels.index("star")] > 1


def test_bradley_terry_intervals_cover_the_truth_and_not_a_wrong_truth() -> None:
    hits, wrong = [], []
    for seed in range(12):
        data, true = _tournament(seed)
        result = bradley_terry(data, n_boot=200, seed=seed)
        hits.append(np.mean((result.lower <= true) & (true <= result.upper)))
        mirrored = 3000.0 - true
        wrong.append(np.mean((result.lower <= mirrored) & (mirrored <= result.upper)))
    assert np.mean(hits) >= 0.8
    assert np.mean(wrong) <= 0.3


def test_unbeaten_agent_is_finite_with_ridge_and_refused_without() -> None:
    records = [("top", "x", 1.0)] * 10 + [("x", "y", 1.0), ("y", "x", 1.0)] * 5
    result = bradley_terry(records, n_boot=50)
    assert np.all(np.isfinite(result.ratings)) and np.all(np.isfinite(result.upper))
    assert result.ranking()[0] == "top"
    with pytest.raises(NumericalError, match="does not exist"):
        bradley_terry(records, ridge=0.0, n_boot=0)
    with pytest.raises(InvalidGameError, match="ridge=0"):
        bradley_terry(records, ridge=0.0)


def test_plain_mle_matches_the_closed_form_for_two_agents() -> None:
    # two agents, 7 wins of 10: theta_a - theta_b = log(7/3)
    records = [("a", "b", 1.0)] * 7 + [("a", "b", 0.0)] * 3
    result = bradley_terry(records, ridge=0.0, n_boot=0)
    diff = (result.ratings[0] - result.ratings[1]) / ELO_SCALE
    assert abs(diff - math.log(7 / 3)) < 1e-9
    assert abs(result.win_probability("a", "b") - 0.7) < 1e-9


def test_all_ties_rate_everyone_equal() -> None:
    records = [("a", "b", 0.5), ("b", "c", 0.5), ("c", "a", 0.5)] * 4
    result = bradley_terry(records, n_boot=20)
    np.testing.assert_allclose(result.ratings, 1500.0, atol=1e-9)


def test_disconnected_groups_and_idle_agents_are_noted() -> None:
    records = [("a", "b", 1.0), ("c", "d", 1.0)]
    result = bradley_terry(records, labels=("a", "b", "c", "d", "e"), n_boot=0)
    assert "groups" in result.note and "e" in result.note
    rows = result.as_rows()
    assert rows[0]["agent"] in ("a", "c") and len(rows) == 5


# -- paired tests ----------------------------------------------------------------------------


def _binom_two_sided(b: int, n: int) -> float:
    k = min(b, n - b)
    return min(1.0, 2.0 * sum(math.comb(n, i) for i in range(k + 1)) / 2.0**n)


def test_mcnemar_exact_p_value_by_hand_and_chi2_above_the_switch() -> None:
    a = np.array([1] * 7 + [0] * 2 + [1] * 20 + [0] * 11)
    b = np.array([0] * 7 + [1] * 2 + [1] * 20 + [0] * 11)
    res = mcnemar(a, b)
    assert res.test == "mcnemar-exact"
    assert res.details["only_a"] == 7 and res.details["only_b"] == 2
    assert abs(res.p_value - _binom_two_sided(7, 9)) < 1e-12
    assert abs(res.effect - 5 / 40) < 1e-12
    big_a = np.array([1] * 30 + [0] * 10 + [1] * 10)
    big_b = np.array([0] * 30 + [1] * 10 + [1] * 10)
    chi = mcnemar(big_a, big_b)
    assert chi.test == "mcnemar-chi2"
    assert abs(chi.statistic - (abs(30 - 10) - 1) ** 2 / 40) < 1e-12


def test_mcnemar_detects_a_planted_difference_and_covers_it() -> None:
    rng = np.random.default_rng(0)
    seed_difficulty = rng.random(300)
    a = (rng.random(300) < 0.3 + 0.5 * seed_difficulty).astype(int)
    b = (rng.random(300) < 0.1 + 0.5 * seed_difficulty).astype(int)
    res = mcnemar(a, b, labels=("strong", "weak"))
    assert res.significant and res.lower <= 0.2 <= res.upper
    assert res.verdict.startswith("strong better than weak")


def test_mcnemar_rejects_null_data_at_most_at_its_nominal_rate() -> None:
    rng = np.random.default_rng(1)
    rejections = 0
    trials = 300
    for _ in range(trials):
        base = rng.random(60) < 0.5
        a = (base ^ (rng.random(60) < 0.2)).astype(int)  # same distribution as b
        b = (base ^ (rng.random(60) < 0.2)).astype(int)
        rejections += mcnemar(a, b).significant
    assert rejections / trials <= 0.08


def test_agresti_min_interval_is_not_degenerate_without_discordant_pairs() -> None:
    same = np.array([1, 0] * 10)
    res = mcnemar(same, same)
    assert res.p_value == 1.0 and res.effect == 0.0
    assert res.lower < 0 < res.upper
    assert "no significant difference" in res.verdict


def test_insufficient_data_gives_no_verdict() -> None:
    for result in (
        mcnemar([1, 0, 1], [0, 0, 1]),
        paired_t([1.0, 2.0, 3.0], [0.0, 1.0, 1.0]),
        wilcoxon_signed_rank([1.0, 2.0], [0.0, 0.0]),
    ):
        assert not result.sufficient and not result.significant
        assert math.isnan(result.p_value) and math.isnan(result.lower)
        assert result.verdict.startswith("insufficient data")


def test_paired_t_uses_the_pairing() -> None:
    rng = np.random.default_rng(2)
    seed_effect = rng.normal(0.0, 5.0, 40)  # large variation between seeds
    a = seed_effect + 0.5 + rng.normal(0.0, 0.3, 40)
    b = seed_effect + rng.normal(0.0, 0.3, 40)
    paired = paired_t(a, b)
    assert paired.significant and paired.lower <= 0.5 <= paired.upper
    # the same numbers with the pairing destroyed: the seed variance swamps the shift
    unpaired = paired_t(a, rng.permutation(b))
    assert not unpaired.significant


def test_paired_t_null_calibration_and_interval_coverage() -> None:
    rng = np.random.default_rng(3)
    rejections = covered = 0
    trials = 300
    for _ in range(trials):
        d = rng.normal(0.0, 1.0, 25)
        res = paired_t(d, np.zeros(25))
        rejections += res.significant
        covered += res.lower <= 0.0 <= res.upper
    assert rejections / trials <= 0.09
    assert covered / trials >= 0.91


def test_paired_t_with_constant_differences() -> None:
    x = np.arange(12.0)
    assert paired_t(x, x).p_value == 1.0
    shifted = paired_t(x + 1.0, x)
    assert shifted.p_value == 0.0 and shifted.lower == shifted.upper == 1.0


def test_walsh_order_statistics_match_the_explicit_list() -> None:
    rng = np.random.default_rng(4)
    for n in (1, 2, 7, 30):
        d = np.round(rng.normal(size=n), 1)  # with ties
        walsh = np.sort([(d[i] + d[j]) / 2 for i in range(n) for j in range(i, n)])
        for k in range(1, walsh.size + 1, max(1, walsh.size // 25)):
            assert abs(walsh_order_statistic(d, k) - walsh[k - 1]) < 1e-12


def test_signed_rank_critical_values_match_tables() -> None:
    # two-sided 5% critical values of T (reject if T <= c): n=10 -> 8, n=20 -> 52
    assert _signed_rank_lower_index(10, 0.95) == 9
    assert _signed_rank_lower_index(20, 0.95) == 53
    assert _signed_rank_lower_index(5, 0.95) == 0  # no finite 95% interval from 5 pairs
    exact, approx = _signed_rank_lower_index(60, 0.95), _signed_rank_lower_index(61, 0.95)
    assert 0 < approx - exact < 40  # the normal approximation continues the exact values


def test_wilcoxon_finds_a_shift_and_not_a_null() -> None:
    rng = np.random.default_rng(5)
    a = rng.standard_t(3, 50) + 1.0  # heavy tails
    b = rng.standard_t(3, 50)
    shift = wilcoxon_signed_rank(a, b)
    assert shift.significant and shift.effect > 0
    rejections = 0
    for _ in range(100):
        rejections += wilcoxon_signed_rank(rng.standard_t(3, 30), rng.standard_t(3, 30)).significant
    assert rejections <= 10


def test_wilcoxon_all_zero_differences() -> None:
    x = np.ones(15)
    res = wilcoxon_signed_rank(x, x)
    assert res.p_value == 1.0 and res.effect == 0.0


def test_paired_test_auto_dispatch_and_errors() -> None:
    assert paired_test([1, 0] * 6, [0, 0] * 6).test.startswith("mcnemar")
    assert paired_test(np.linspace(0, 1, 12), np.zeros(12)).test == "paired-t"
    with pytest.raises(InvalidGameError, match="binary"):
        mcnemar([0.5] * 12, [0] * 12)
    with pytest.raises(InvalidGameError, match="pair_by_seed"):
        paired_t([1.0, 2.0], [1.0])


def test_pair_by_seed_keeps_common_seeds() -> None:
    x, y, seeds = pair_by_seed({3: 1.0, 1: 0.0, 7: 1.0}, {1: 1.0, 3: 0.0, 9: 0.0})
    assert seeds == [1, 3]
    np.testing.assert_array_equal(x, [0.0, 1.0])
    np.testing.assert_array_equal(y, [1.0, 0.0])


def test_holm_by_hand() -> None:
    adjusted = holm([0.01, 0.04, 0.03, float("nan")])
    # sorted 0.01, 0.03, 0.04 -> 3*0.01, 2*0.03, 1*0.04 -> monotone 0.03, 0.06, 0.06
    np.testing.assert_allclose(adjusted[:3], [0.03, 0.06, 0.06])
    assert math.isnan(adjusted[3])
