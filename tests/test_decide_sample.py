"""decide_sample_v0: the AEC game, its records and summary, and the vectorised tabular setting.

The gradient tests compare Monte Carlo estimates against the closed form ``V_K(p, a, b)``
of ``theory.claims.ds`` within ``Z`` standard errors, with fixed seeds (deterministic),
and show the comparison has teeth: a perturbed closed form fails it.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from gymnasium.spaces import Discrete
from pettingzoo.test import api_test, seed_test

from envs import decide_sample_v0, load_game
from envs.decide_sample import DecideSampleConfig, make_problem, near_misses, raw_env
from envs.decide_sample.env import DECIDER, POLICY, SAMPLER
from envs.decide_sample.problems import no_carry_sum
from envs.decide_sample.vector import (
    TabularPolicy,
    VectorDecideSample,
    demonstrations,
    exact_gradient,
    expected_sft_gradient,
    reinforce_gradient,
    rollout,
    sft_gradient,
)
from envs.errors import ArenaError
from theory.claims.ds.model import value_and_grad

Z = 4.5  # a component further than this many standard errors out fails
POLICY_PARAMS = TabularPolicy(0.3, (-0.5, 1.0))


def test_correct_first_attempt_stop_pays_one() -> None:
    env = raw_env(k_max=3, rho=1.0)
    env.reset(seed=3)
    assert env.problem is not None
    env.step(env.problem.correct_index)
    assert env.infos[POLICY]["correct"] and env.infos[POLICY]["hint"] == 1  # rho = 1
    env.step(0)  # STOP
    assert env.terminations[POLICY] and env._cumulative_rewards[POLICY] == 1.0
    record = env.episode_record()
    assert record["final_correct"] and record["stopped"]
    json.dumps(record)  # plain JSON data


def test_revise_flips_forced_stop_and_cost() -> None:
    env = raw_env(k_max=3, rho=1.0, revise_cost=0.1)
    env.reset(seed=5)
    assert env.problem is not None
    right = env.problem.correct_index
    wrong = (right + 1) % env.config.n_candidates
    env.step(wrong)
    env.step(1)  # REVISE
    assert env.rewards[POLICY] == pytest.approx(-0.1)
    env.step(right)
    assert env.infos[POLICY]["flip"] == "wrong->right"
    env.step(3)  # 3 % 2 == REVISE
    env.step(wrong)  # third attempt: STOP is forced, no decision
    assert env.infos[POLICY]["flip"] == "right->wrong" and env.infos[POLICY]["forced_stop"]
    assert all(env.terminations.values())
    record = env.episode_record()
    assert record["flips"] == {"wrong_to_right": 1, "right_to_wrong": 1}
    assert not record["final_correct"] and record["total_reward"] == pytest.approx(-0.2)


def test_two_agent_mode_shares_reward_and_passes_api_test() -> None:
    env = raw_env(two_agents=True, rho=1.0)
    env.reset(seed=1)
    assert env.agent_selection == SAMPLER and env.action_space(DECIDER) == Discrete(2)
    assert env.problem is not None
    env.step(env.problem.correct_index)
    assert env.agent_selection == DECIDER
    env.step(0)
    assert env.rewards == {SAMPLER: 1.0, DECIDER: 1.0}
    api_test(decide_sample_v0.env(two_agents=True), num_cycles=60)
    seed_test(lambda: decide_sample_v0.env(two_agents=True), num_cycles=30)


def test_problems_have_near_miss_distractors() -> None:
    rng = np.random.default_rng(0)
    for _ in range(200):
        problem = make_problem(rng, "+x", (2, 3), 4, "id")
        assert problem.candidates[problem.correct_index] == problem.answer
        assert len(set(problem.candidates)) == 4
        for value in problem.candidates:
            assert abs(value - problem.answer) <= max(10 ** len(str(problem.answer)), 100)
    assert no_carry_sum(58, 67) == 15
    assert 15 in near_misses("+", 58, 67, 125)


def test_ood_split_uses_ood_digits() -> None:
    env = raw_env(ood_fraction=1.0, ood_digits=(5, 5), operators="+")
    env.reset(seed=2)
    assert env.problem is not None and env.problem.split == "ood"
    assert len(str(env.problem.left)) == 5


@pytest.mark.parametrize(
    "settings",
    [{"rho": 1.5}, {"k_max": 0}, {"n_candidates": 1}, {"operators": "-"}, {"id_digits": (3, 2)}],
)
def test_config_rejects_bad_settings(settings: dict[str, object]) -> None:
    with pytest.raises(ArenaError):
        DecideSampleConfig(**settings)  # type: ignore[arg-type]


def test_summary_reports_components_with_intervals() -> None:
    game = load_game("decide_sample")
    config = game.config({"k_max": 2, "rho": 1.0})
    records = []
    for seed in range(40):
        env = game.make_env(config, None)
        env.reset(seed=seed)
        raw = env.unwrapped
        raw.step(raw.problem.correct_index if seed % 2 else (raw.problem.correct_index + 1) % 4)
        raw.step(0 if seed % 2 else 1)  # stop when right, revise when wrong
        if raw.agents and not all(raw.terminations.values()):
            raw.step(raw.problem.correct_index)
        records.append({"agents": {POLICY: "oracle"}, **raw.episode_record()})
    summary = game.summarize(records, config)
    row = summary.data["rows"][0]
    assert row["a"]["value"] == 1.0 and row["one_minus_b"]["value"] == 1.0
    assert row["p1"]["value"] == 0.5 and row["accuracy"]["value"] == 1.0
    assert row["a"]["ci95"] is not None
    json.dumps(summary.data)


# ----------------------------------------------------------------------------- vector


def test_vector_env_autoreset_and_value() -> None:
    env = VectorDecideSample(10_000, k_max=3, rho=0.8, seed=0)
    u = np.random.default_rng(1)
    total = episodes = 0.0
    for _ in range(60):
        actions = POLICY_PARAMS.act(env.phase, env.hint, u.random(env.n))
        rewards, done = env.step(actions)
        total += rewards.sum()
        episodes += done.sum()
    value, _ = exact_gradient(POLICY_PARAMS, k_max=3, rho=0.8)
    assert abs(total / episodes - value) < 0.01  # ~2e5 episodes: se ~ 1e-3


def test_reinforce_matches_exact_gradient_of_v_k() -> None:
    for k_max, rho in [(2, 1.0), (3, 0.8)]:
        est = reinforce_gradient(POLICY_PARAMS, 300_000, k_max=k_max, rho=rho, seed=11)
        value, exact = exact_gradient(POLICY_PARAMS, k_max=k_max, rho=rho)
        assert est.agrees_with(exact, Z), est.z_scores(exact)
        out = rollout(POLICY_PARAMS, 100_000, k_max=k_max, rho=rho, seed=12)
        assert abs(out.rewards.mean() - value) < Z * out.rewards.std() / np.sqrt(1e5)


def test_perturbed_closed_form_fails_the_comparison() -> None:
    est = reinforce_gradient(POLICY_PARAMS, 300_000, k_max=3, rho=0.8, seed=11)

    def wrong_k(
        p: np.ndarray, a: np.ndarray, b: np.ndarray, k: int
    ) -> tuple[np.ndarray, np.ndarray]:
        return value_and_grad(p, a, b, k - 1)  # V_{K-1} instead of V_K

    def swapped(
        p: np.ndarray, a: np.ndarray, b: np.ndarray, k: int
    ) -> tuple[np.ndarray, np.ndarray]:
        return value_and_grad(p, b, a, k)  # a and b exchanged

    for grad_fn in (wrong_k, swapped):
        _, perturbed = exact_gradient(POLICY_PARAMS, k_max=3, rho=0.8, grad_fn=grad_fn)
        assert not est.agrees_with(perturbed, Z)


def test_sft_gradient_matches_its_expectation_and_ignores_reward() -> None:
    demos = demonstrations(200_000, k_max=3, rho=0.8, p_demo=0.7, seed=4)
    est = sft_gradient(POLICY_PARAMS, demos)
    expected = expected_sft_gradient(POLICY_PARAMS, k_max=3, rho=0.8, p_demo=0.7)
    assert est.agrees_with(expected, Z), est.z_scores(expected)
    mean = sft_gradient(POLICY_PARAMS, demos, reduction="mean")
    assert np.linalg.norm(mean.mean) < np.linalg.norm(est.mean)  # token-mean shrinks it


def test_token_mode_writes_the_answer_as_digits_and_passes_api_and_seed_tests() -> None:
    env = raw_env(mode="token", rho=1.0, operators="+", id_digits=(2, 2), ood_digits=(2, 2))
    env.reset(seed=4)
    assert env.problem is not None and env.length == 3  # 99 + 99 = 198
    assert env.action_space(POLICY).shape == (3,)
    assert (env.observe(POLICY)[7 : 7 + env.config.n_candidates] == -1).all()  # no candidates
    digits = [int(c) for c in f"{env.problem.answer:03d}"]
    env.step(digits)
    assert env.infos[POLICY]["correct"] and env.observe(POLICY)[3] == env.problem.answer
    env.step([0, 0, 0])  # first entry 0 -> STOP
    assert env.rewards[POLICY] == 1.0 and env.episode_record()["final_correct"]
    api_test(decide_sample_v0.env(mode="token"), num_cycles=40)
    seed_test(lambda: decide_sample_v0.env(mode="token", two_agents=True), num_cycles=20)


def test_token_mode_rejects_bad_actions_and_short_answers() -> None:
    from envs.errors import IllegalActionError

    env = raw_env(mode="token", answer_tokens=10)
    env.reset(seed=0)
    with pytest.raises(IllegalActionError):
        env.step([1, 2])  # not 8 digits
    with pytest.raises(IllegalActionError):
        env.step([10] * 10)
    with pytest.raises(ArenaError, match="answer_tokens"):
        DecideSampleConfig(mode="token", answer_tokens=2)
    with pytest.raises(ArenaError, match="mode"):
        DecideSampleConfig(mode="tokens")


def test_phase_log_probs_land_in_infos_by_phase() -> None:
    from envs.decide_sample.wrappers import PhaseLogProbs

    env = PhaseLogProbs(decide_sample_v0.env(k_max=2, rho=1.0))
    env.reset(seed=2)
    env.step_logged(0, -1.25)
    assert env.infos[POLICY]["logp_sample"] == -1.25 and "logp_decide" not in env.infos[POLICY]
    env.step_logged(1, -0.5)  # REVISE
    assert env.infos[POLICY]["logp_decide"] == -0.5
    env.step(0)  # the plain step adds nothing
    assert "logp_sample" not in env.infos[POLICY]
