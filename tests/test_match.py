"""The lock-step runner: batching changes speed, never results."""

from __future__ import annotations

from agents.registry import make_agent
from arena.match import play_episodes
from envs import attack_defense_v0


def _play(batch_size: int, episodes: int = 37, max_turns: int = 1) -> list[tuple]:
    agents = {
        "attacker": make_agent("scripted:random", role="attacker", seed=5),
        "defender": make_agent("scripted:keyword-filter", role="defender", seed=5),
    }
    return [
        (
            r.index,
            r.seed,
            r.rewards["attacker"],
            r.rewards["defender"],
            r.record["transcript_sha256"],
        )
        for r in play_episodes(
            lambda: attack_defense_v0.env(max_turns=max_turns),
            agents,
            episodes=episodes,
            base_seed=11,
            batch_size=batch_size,
        )
    ]


def test_batch_size_does_not_change_results() -> None:
    assert _play(1) == _play(8) == _play(64)


def test_multi_turn_batches_with_games_of_different_lengths() -> None:
    results = _play(16, episodes=20, max_turns=3)
    assert [r[0] for r in results] == list(range(20))
    assert results == _play(1, episodes=20, max_turns=3)
