"""kg_traversal_v0: rewards, masks, truncation, records and the summary."""

from __future__ import annotations

import pytest

from envs import kg_traversal_v0
from envs.errors import ArenaError, IllegalActionError
from envs.kg.env import KGTraversalConfig, KGTraversalEnv, gold_actions, random_legal_action


def play(env: KGTraversalEnv, actions: list[int]) -> float:
    total = 0.0
    for action in actions:
        if env.terminations["navigator"] or env.truncations["navigator"]:
            break
        env.step(action)
        total += env.rewards["navigator"]
    return total


def test_gold_path_earns_one_minus_hop_costs() -> None:
    env = KGTraversalEnv(KGTraversalConfig())
    for seed in range(5):
        env.reset(seed=seed)
        q = env.question
        assert q is not None
        total = play(env, gold_actions(env))
        assert total == pytest.approx(1.0 - 0.05 * q.hops)
        record = env.episode_record()
        assert record["correct"] and record["hops"] == q.hops
        assert [tuple(t) for t in record["walk"]] == list(q.path)


def test_wrong_answer_and_truncation() -> None:
    env = KGTraversalEnv(KGTraversalConfig(max_hops=2))
    env.reset(seed=1)
    assert play(env, [env.answer_slot]) == -1.0  # the start is never the answer
    env.reset(seed=1)
    play(env, [0, 0])
    assert env.observe("navigator")["action_mask"].sum() == 1  # only ANSWER is left
    play(env, [0])
    assert env.truncations["navigator"] and not env.terminations["navigator"]
    assert env.episode_record()["answered"] is None


def test_action_mask_and_illegal_actions() -> None:
    env = KGTraversalEnv(KGTraversalConfig())
    env.reset(seed=3)
    mask = env.observe("navigator")["action_mask"]
    assert mask[-1] == 1 and mask.sum() == len(env.kg.out_edges(env.current)) + 1
    masked = [i for i, m in enumerate(mask) if not m]
    if masked:
        start = env.current
        env.step(masked[0])
        assert env.current == start and env.episode_record()["illegal_actions"] == 1
        strict = KGTraversalEnv(KGTraversalConfig(illegal_action="error"))
        strict.reset(seed=3)
        with pytest.raises(IllegalActionError):
            strict.step(masked[0])
    with pytest.raises(IllegalActionError):
        env.step(len(mask))


def test_seeded_reset_and_splits() -> None:
    a, b = KGTraversalEnv(), KGTraversalEnv()
    for seed in range(4):
        a.reset(seed=seed)
        b.reset(seed=seed)
        assert a.question == b.question
    test_env = KGTraversalEnv(KGTraversalConfig(split="test"))
    test_env.reset(seed=0)
    assert test_env.question is not None and test_env.question.split == "test"
    with pytest.raises(ArenaError):
        KGTraversalConfig(split="dev")  # type: ignore[arg-type]


def test_random_navigator_and_summary() -> None:
    env = KGTraversalEnv()
    records = []
    for seed in range(20):
        env.reset(seed=seed)
        step = 0
        while not (env.terminations["navigator"] or env.truncations["navigator"]):
            env.step(random_legal_action(env.observe("navigator"), seed * 10 + step))
            step += 1
        record = env.episode_record()
        record["agents"] = {"navigator": "scripted-random"}
        record["rewards"] = {"navigator": record["return"]}
        records.append(record)
    config = KGTraversalConfig()
    summary = kg_traversal_v0.GAME.summarize(records, config)
    row = summary.data["navigators"][0]
    assert row["n"] == 20 and row["accuracy"]["ci95"] is not None
    assert summary.table.rows[0][0] == "scripted-random"
    assert kg_traversal_v0.GAME.describe is not None
    assert kg_traversal_v0.GAME.describe(config)["kg"]["entities"] > 200
