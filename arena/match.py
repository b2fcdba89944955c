"""Lock-step matches: many episodes of one AEC environment, each agent called once a round.

A *round* advances every unfinished game by one move. All games whose current agent is
``a`` are collected and ``a.act_batch`` is called once with their observations, so an
LLM agent generates for the whole batch at once and a scripted agent pays Python
overhead once. Before a round's moves are applied, the judge requests they will cause
are prefetched in one batch when the environment and judge support it
(``raw_env.judge_requests`` + ``CachedJudge.prefetch``).

Episode ``i`` of a match is reset with seed ``base_seed + i``, so two matches with the
same base seed play the same seed prompts (paired comparisons across agents).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from pettingzoo import AECEnv

from agents.base import Agent
from envs.errors import IllegalActionError


@dataclass(frozen=True)
class EpisodeResult:
    """One finished episode: its index and seed, final rewards, and the env's record."""

    index: int
    seed: int
    rewards: dict[str, float]
    record: dict[str, Any]


def play_episodes(
    make_env: Callable[[], AECEnv],
    agents: Mapping[str, Agent],
    *,
    episodes: int,
    base_seed: int = 0,
    batch_size: int = 64,
) -> Iterator[EpisodeResult]:
    """Play ``episodes`` games in lock-step batches of ``batch_size``; yield each result.

    Results come out in episode order, a batch at a time.
    """
    batch_size = max(1, min(batch_size, episodes)) if episodes > 0 else 1
    wrapped = [make_env() for _ in range(batch_size)]
    for start in range(0, episodes, batch_size):
        count = min(batch_size, episodes - start)
        for offset, game in enumerate(wrapped[:count]):
            game.reset(seed=base_seed + start + offset)
        # After a reset through the wrappers, step the raw environments: this loop keeps
        # the AEC order itself, and the wrappers' attribute forwarding costs ~20% here.
        games = [game.unwrapped for game in wrapped[:count]]
        totals = [dict.fromkeys(game.possible_agents, 0.0) for game in games]
        live = list(range(count))
        while live:
            by_agent: dict[str, list[int]] = {}
            for i in live:
                by_agent.setdefault(games[i].agent_selection, []).append(i)
            for agent_name, indices in by_agent.items():
                _play_round(games, indices, agent_name, agents, totals)
            live = [i for i in live if games[i].agents]
        for offset, game in enumerate(games):
            record = game.episode_record() if hasattr(game, "episode_record") else {}
            yield EpisodeResult(
                index=start + offset,
                seed=base_seed + start + offset,
                rewards=totals[offset],
                record=record,
            )


def _play_round(
    games: list[AECEnv],
    indices: list[int],
    agent_name: str,
    agents: Mapping[str, Agent],
    totals: list[dict[str, float]],
) -> None:
    """Advance each game in ``indices`` by one move of ``agent_name``."""
    acting: list[int] = []
    finished: list[int] = []
    observations = []
    for i in indices:
        game = games[i]
        if game.terminations[agent_name] or game.truncations[agent_name]:
            finished.append(i)
        else:
            acting.append(i)
            observations.append(game.observe(agent_name))
    for i in finished:
        games[i].step(None)
    if not acting:
        return
    agent = agents[agent_name]
    actions = agent.act_batch(observations)
    if len(actions) != len(acting):
        raise IllegalActionError(
            f"Agent {agent.spec or type(agent).__name__!r} returned {len(actions)} actions "
            f"for {len(acting)} observations.",
            "act_batch must return exactly one action per observation, in order.",
        )
    _prefetch_judgements([games[i] for i in acting], actions)
    for i, action in zip(acting, actions, strict=True):
        game = games[i]
        game.step(action)
        for name, reward in game.rewards.items():
            totals[i][name] += float(reward)


def _prefetch_judgements(games: list[AECEnv], actions: list[Any]) -> None:
    """Judge every pair this round will need in one batched call, where supported."""
    prefetch = getattr(getattr(games[0], "judge", None), "prefetch", None)
    if prefetch is None or not hasattr(games[0], "judge_requests"):
        return
    prompts: list[str] = []
    responses: list[str] = []
    for game, action in zip(games, actions, strict=True):
        if not isinstance(action, str):
            continue  # the env's own action check raises the clear error
        for prompt, response in game.judge_requests(action):
            prompts.append(prompt)
            responses.append(response)
    if prompts:
        prefetch(prompts, responses)
