"""``kg_answer_v0``: the two-seat KG game through the engine, and its scripted players."""

from __future__ import annotations

import pytest

from agents.registry import AgentSpecError
from arena.play import PlayConfig, play
from envs.errors import ArenaError
from envs.kg_answer_v0 import GAME, KGAnswerConfig

SEATS = {"navigator": ["scripted:random-walk"], "answerer": ["scripted:follow-rationale"]}


def _records(mode: str, episodes: int = 60) -> list[dict]:
    config = PlayConfig(
        env="kg_answer", seats=dict(SEATS), episodes=episodes,
        env_config={"answerer_mode": mode},
    )  # fmt: skip
    return play(config).records


def test_the_answerer_follows_the_walk_only_when_it_sees_it() -> None:
    """With the rationale, the scripted answerer answers what the navigator committed
    whenever that entity is an option; without it, its pick ignores the walk."""
    shown = _records("with_rationale")
    follows = [r for r in shown if r["navigator_answered"] in r["choices"]]
    assert follows, "no episode where the navigator committed one of the options"
    assert all(r["answered"] == r["navigator_answered"] for r in follows)
    assert all(r["rewards"]["navigator"] == r["rewards"]["answerer"] for r in shown)
    hidden = _records("without_rationale")
    follows_hidden = [r for r in hidden if r["navigator_answered"] in r["choices"]]
    agree = sum(r["answered"] == r["navigator_answered"] for r in follows_hidden)
    # a leak of the committed entity would make these agree every time
    assert agree < len(follows_hidden)


def test_seats_settings_and_specs_are_checked() -> None:
    assert GAME.seats == ("navigator", "answerer")
    with pytest.raises(ArenaError, match="kg_traversal_v0 for the navigator alone"):
        KGAnswerConfig(answerer_mode="none")
    wrong_seat = {"navigator": ["scripted:follow-rationale"], "answerer": ["tabular:uniform"]}
    with pytest.raises(AgentSpecError, match="not a scripted navigator"):
        play(PlayConfig(env="kg_answer", seats=wrong_seat, episodes=2))


def test_cli_plays_the_two_seat_game(cli) -> None:  # type: ignore[no-untyped-def]
    agents = ["-n", "scripted:random-walk", "-a", "scripted:follow-rationale"]
    code, out, err = cli(["play", "kg_answer", *agents, "--episodes", "20", "--no-save"])
    assert code == 0, err
    assert "kg_answer_v0" in out and "accuracy" in out
