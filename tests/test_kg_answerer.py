"""kg_traversal_v0's answerer seat: PettingZoo API, shared rewards, what each mode shows."""

from __future__ import annotations

from typing import Any

import pytest
from pettingzoo.test import api_test, seed_test

from agents.registry import make_agent
from arena.match import play_episodes
from envs import kg_traversal_v0
from envs.errors import ArenaError
from envs.kg.answerer import follow_rationale, parse_choice, walk_rationale
from envs.kg.env import KGTraversalConfig, KGTraversalEnv, gold_actions

MODES = ("with_rationale", "without_rationale")


@pytest.mark.parametrize("mode", MODES)
def test_pettingzoo_api_and_seed(mode: str) -> None:
    api_test(kg_traversal_v0.env(answerer_mode=mode), num_cycles=60)
    seed_test(lambda: kg_traversal_v0.env(answerer_mode=mode), num_cycles=30)


def run_episode(env: KGTraversalEnv, navigator: list[int], seed: int) -> dict[str, float]:
    """Gold/scripted navigator actions, then the scripted answerer; returns the returns."""
    totals = dict.fromkeys(env.possible_agents, 0.0)
    moves = iter(navigator)
    for agent in env.agent_iter(50):
        _, _, terminated, truncated, _ = env.last()
        if terminated or truncated:
            env.step(None)
        elif agent == "navigator":
            env.step(next(moves))
        else:
            env.step(follow_rationale(env.observe(agent), seed))
        for name, reward in env.rewards.items():
            totals[name] += reward
    assert not env.agents
    return totals


def test_shared_reward_and_rationale_flow() -> None:
    env = KGTraversalEnv(KGTraversalConfig(answerer_mode="with_rationale"))
    for seed in range(6):
        env.reset(seed=seed)
        q = env.question
        assert q is not None
        before = env.observe("answerer")
        assert (before["committed"] == -1).all() and "Rationale" not in before["prompt"]
        totals = run_episode(env, gold_actions(env), seed)
        expected = 1.0 - 0.05 * q.hops
        assert totals == {"navigator": pytest.approx(expected), "answerer": pytest.approx(expected)}
        record = env.episode_record()
        assert record["correct"] and record["navigator_correct"]
        assert record["rationale"] == walk_rationale(env.kg, q.path, q.answer)
        assert env.kg.label(q.answer) in record["rationale"]


def test_without_rationale_hides_the_walk() -> None:
    env = KGTraversalEnv(KGTraversalConfig(answerer_mode="without_rationale"))
    correct = 0
    episodes = 40
    for seed in range(episodes):
        env.reset(seed=seed)
        actions = gold_actions(env)
        for action in actions:
            env.step(action)
        seen = env.observe("answerer")
        assert (seen["committed"] == -1).all() and (seen["rationale"] == -1).all()
        assert "Rationale" not in seen["prompt"]
        env.step(follow_rationale(seen, seed))
        correct += env.episode_record()["correct"]
    # the scripted answerer can only guess among 4 options without the walk
    assert correct < 0.6 * episodes


def test_navigator_truncation_hands_over_and_wrong_answer_costs_both() -> None:
    env = KGTraversalEnv(KGTraversalConfig(answerer_mode="with_rationale", max_hops=2))
    env.reset(seed=1)
    q = env.question
    assert q is not None
    totals = run_episode(env, [0, 0, 0], seed=1)  # two hops, then a move past the limit
    record = env.episode_record()
    assert record["truncated"] and record["navigator_answered"] is None
    assert "no answer was committed" in record["rationale"]
    final = -0.1 + (1.0 if record["correct"] else -1.0)
    assert totals["navigator"] == pytest.approx(final) == pytest.approx(totals["answerer"])


def test_parse_choice() -> None:
    env = KGTraversalEnv(KGTraversalConfig(answerer_mode="with_rationale"))
    env.reset(seed=0)
    q = env.question
    assert q is not None
    obs = env.observe("answerer")
    assert parse_choice("The answer is (C).", obs) == 2
    assert parse_choice(f"I think {env.kg.label(q.choices[3])}.", obs) == 3
    assert parse_choice("no idea", obs) == 0
    assert parse_choice("Z", obs) == 0  # not an option here


def test_engine_plays_both_seats_reproducibly() -> None:
    config = KGTraversalConfig(answerer_mode="with_rationale")
    env = KGTraversalEnv(config)
    agents = {
        seat: make_agent(
            "tabular:uniform",
            role=seat,
            action_space=env.action_space(seat),
            observation_space=env.observation_space(seat),
        )
        for seat in env.possible_agents
    }

    def play(batch: int) -> list[dict[str, Any]]:
        results = play_episodes(
            lambda: kg_traversal_v0.raw_env(config),
            agents,
            list(range(12)),
            run_seed=3,
            batch_size=batch,
        )
        return [{**r.record, "rewards": r.rewards} for r in results]

    first = play(4)
    assert first == play(12)
    assert all(r["rewards"]["navigator"] == r["rewards"]["answerer"] for r in first)
    summary = kg_traversal_v0.GAME.summarize(
        [{**r, "agents": {"navigator": "u", "answerer": "u"}} for r in first], config
    )
    assert summary.table.columns[:2] == ("navigator", "answerer")
    assert summary.data["navigators"][0]["n"] == 12


def test_arena_play_refuses_the_two_seat_game_with_a_fix() -> None:
    game = kg_traversal_v0.GAME
    with pytest.raises(ArenaError, match="answerer"):
        game.make_env(game.config({"answerer_mode": "with_rationale"}), None)
    with pytest.raises(ArenaError, match="answerer_mode"):
        KGTraversalConfig(answerer_mode="both")  # type: ignore[arg-type]
    assert kg_traversal_v0.seats_for(game.config({})) == ("navigator",)
