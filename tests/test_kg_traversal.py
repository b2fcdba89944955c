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


def _hops_record(hops: int, answered: str | None) -> dict[str, object]:
    return {
        "agents": {"navigator": "n"},
        "rewards": {"navigator": 0.0},
        "hops": hops,
        "answered": answered,
        "correct": False,
    }


def test_mean_hops_interval_stays_within_the_hop_limit() -> None:
    """Two episodes with 0 and 4 hops give a t-interval of 2 ± 25; hops lie in [0, 4]."""
    config = KGTraversalConfig(max_hops=4)
    records = [_hops_record(0, "E1"), _hops_record(4, None)]
    summary = kg_traversal_v0.GAME.summarize(records, config)
    hops = summary.data["navigators"][0]["mean_hops"]
    assert hops["ci95"] == [0.0, 4.0] and hops["clipped"] is True
    assert summary.table.rows[0][4] == "+2.00 (+0.00, +4.00)"
    assert "clipped to the possible range [0, 4]" in summary.table.caption


def test_answered_column_counts_the_records_committed_answers() -> None:
    """The table's answered rate is the share of records whose ``answered`` is set (the
    committed entity); null means the walk was truncated, and the caption says so."""
    env = KGTraversalEnv(KGTraversalConfig(max_hops=2))
    records = []
    for seed in range(12):
        env.reset(seed=seed)
        step = 0
        while not (env.terminations["navigator"] or env.truncations["navigator"]):
            if seed % 2 and env.hop >= 2:  # at the hop limit, move instead of answering
                env.step(0 if env.answer_slot else 1)
            else:
                env.step(random_legal_action(env.observe("navigator"), seed * 7 + step))
            step += 1
        record = env.episode_record()
        record["agents"] = {"navigator": "r"}
        record["rewards"] = {"navigator": record["return"]}
        assert (record["answered"] is None) == record["truncated"]
        records.append(record)
    summary = kg_traversal_v0.GAME.summarize(records, KGTraversalConfig(max_hops=2))
    answered = summary.data["navigators"][0]["answered"]
    assert answered["successes"] == sum(r["answered"] is not None for r in records)
    assert 0 < answered["successes"] < len(records)
    assert "null if truncated" in summary.table.caption
