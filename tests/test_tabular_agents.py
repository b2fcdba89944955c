"""Tabular (mixed-strategy) agents on strategy_game_v0: uniform, nash and strategy files."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from gymnasium.spaces import Box, Discrete
from scipy.stats import chisquare

from agents.registry import make_agent
from agents.tabular import TabularAgent, observation_key, save_strategies
from envs import strategy_game_v0
from envs.errors import ArenaError
from envs.seeding import draw_seed
from envs.strategy_game.env import StrategyGameEnv
from theory.equilibria import exploitability, is_equilibrium, vertex_enumeration

ROLES = ("attacker", "defender")
DRAWS = 20_000

# A weighted rock-paper-scissors (zero-sum, unique interior equilibrium (1/4, 1/2, 1/4)).
RPS = np.array([[0.0, -1.0, 2.0], [1.0, 0.0, -1.0], [-2.0, 1.0, 0.0]])
# Battle of the sexes (general-sum, two pure and one mixed equilibrium).
BOS = np.array([[[2.0, 1.0], [0.0, 0.0]], [[0.0, 0.0], [1.0, 2.0]]])


def zero_sum_env() -> StrategyGameEnv:
    return strategy_game_v0.parallel_env(
        payoff_table=np.stack([RPS, -RPS], axis=-1),
        attacker_labels=["rock", "paper", "scissors"],
        defender_labels=["rock", "paper", "scissors"],
    )


def general_sum_env() -> StrategyGameEnv:
    return strategy_game_v0.parallel_env(
        payoff_table=np.moveaxis(BOS, 0, -1),
        attacker_labels=["opera", "football"],
        defender_labels=["opera", "football"],
    )


def agent(spec: str, env: StrategyGameEnv, role: str, seed: int = 7) -> TabularAgent:
    built = make_agent(
        spec,
        role=role,
        seed=seed,
        action_space=env.action_space(role),
        observation_space=env.observation_space(role),
        game=env.to_normal_form,
        player=ROLES.index(role),
    )
    assert isinstance(built, TabularAgent)
    return built


def first_obs(env: StrategyGameEnv) -> np.ndarray:
    obs, _ = env.reset(seed=0)
    return obs["attacker"]


def obs_after(env: StrategyGameEnv, a: int, d: int) -> np.ndarray:
    env.reset(seed=0)
    obs, *_ = env.step({"attacker": a, "defender": d})
    return obs["attacker"]


def episode_seeds(role: str, count: int = DRAWS, run_seed: int = 3) -> list[int]:
    return [draw_seed(run_seed, episode, role, 0) for episode in range(count)]


def chi2_pvalue(actions: Sequence[int], probs: Sequence[float]) -> float:
    """p-value of the actions under ``probs``; 0 when a zero-probability action occurs."""
    counts = np.bincount(np.asarray(actions), minlength=len(probs))
    expected = np.asarray(probs) * len(actions)
    support = expected > 0
    if counts[~support].any():
        return 0.0
    observed = counts[support]
    return float(chisquare(observed, expected[support] * observed.sum() / expected.sum()).pvalue)


# --------------------------------------------------------------------- observation keys
def test_observation_key_rule() -> None:
    env = strategy_game_v0.parallel_env()
    width = env.observation_space("attacker").shape[0]
    assert observation_key(first_obs(env)) == ",".join(["0"] * (width - 1) + ["1"])
    assert observation_key(np.array([0.1, 1.0, -0.0], dtype=np.float32)) == "0.1,1,0"
    assert observation_key([1.0, 0.5]) == "1,0.5"
    assert observation_key(3) == "3"
    assert observation_key(np.int64(4)) == "4"
    assert observation_key("hello") == "hello"
    with pytest.raises(ArenaError, match="cannot key an observation of type dict"):
        observation_key({"messages": []})


# --------------------------------------------------------------------- uniform
def test_uniform_frequencies_and_plain_ints() -> None:
    env = strategy_game_v0.parallel_env()
    for role in ROLES:
        uni = agent("tabular:uniform", env, role)
        n = int(env.action_space(role).n)
        assert uni.strategy_for(first_obs(env)) == pytest.approx([1 / n] * n)
        seeds = episode_seeds(role)
        actions = uni.act_batch([first_obs(env)] * len(seeds), seeds)
        assert all(type(a) is int for a in actions)
        assert chi2_pvalue(actions, [1 / n] * n) > 1e-3
        assert set(actions) == set(range(n))


def test_uniform_respects_discrete_start() -> None:
    uni = make_agent("tabular:uniform", action_space=Discrete(3, start=5))
    actions = uni.act_batch([0] * 3000, list(range(3000)))
    assert set(actions) == {5, 6, 7}
    assert uni.label_action(5) == "5" and uni.label_action(4) is None


def test_uniform_needs_a_discrete_space() -> None:
    with pytest.raises(ArenaError, match="needs the seat's action space"):
        make_agent("tabular:uniform", role="attacker")
    with pytest.raises(ArenaError, match="plays Discrete action spaces"):
        make_agent("tabular:uniform", role="attacker", action_space=Box(0, 1, shape=(2,)))


# --------------------------------------------------------------------- nash
@pytest.mark.parametrize(
    ("make_env", "method"),
    [
        (strategy_game_v0.parallel_env, "lemke-howson"),  # 41x7 general-sum
        (zero_sum_env, "lp"),
        (general_sum_env, "vertex"),
    ],
)
def test_nash_pair_is_a_verified_equilibrium(make_env: Any, method: str) -> None:
    env = make_env()
    game = env.to_normal_form()
    obs = first_obs(env)
    agents = [agent("tabular:nash", env, role) for role in ROLES]
    profile = [np.array(a.strategy_for(obs)) for a in agents]
    assert all(a.describe()["method_used"] == method for a in agents)
    assert is_equilibrium(game, profile)
    assert exploitability(game, profile) < 1e-9
    # The strategy is the same whatever the agent observes.
    assert agents[0].strategy_for(obs_after(env, 1, 0)) == tuple(profile[0])


def test_nash_zero_sum_seats_solve_independently() -> None:
    env = zero_sum_env()
    game = env.to_normal_form()
    x = np.array(agent("tabular:nash", env, "attacker").strategy_for(0))
    y = np.array(agent("tabular:nash", env, "defender").strategy_for(0))
    # Maximin: x guarantees what y concedes (no duality gap), each seat on its own.
    assert float((x @ RPS).min()) == pytest.approx(float((RPS @ y).max()), abs=1e-9)
    assert is_equilibrium(game, [x, y])


def test_nash_general_sum_plays_the_first_vertex_equilibrium() -> None:
    env = general_sum_env()
    game = env.to_normal_form()
    expected = vertex_enumeration(game)
    for index in range(len(expected)):
        spec = f"tabular:nash?method=vertex&equilibrium={index}"
        for player, role in enumerate(ROLES):
            probs = agent(spec, env, role).strategy_for(0)
            assert probs == pytest.approx(expected[index].strategies[player])
    auto = agent("tabular:nash", env, "attacker")
    assert auto.strategy_for(0) == pytest.approx(expected[0].strategies[0])
    assert auto.label_action(0) == "opera"
    description = auto.describe()
    assert description["method"] == "auto" and description["equilibrium"] == 0


def test_nash_errors() -> None:
    env = strategy_game_v0.parallel_env()
    space = env.action_space("defender")
    with pytest.raises(ArenaError, match=r"to_normal_form\(\).*tabular:FILE or tabular:uniform"):
        make_agent("tabular:nash", role="defender", action_space=space)
    with pytest.raises(ArenaError, match="Unknown method 'bogus'"):
        agent("tabular:nash?method=bogus", env, "defender")
    with pytest.raises(ArenaError, match="Unknown option"):
        agent("tabular:nash?metod=lp", env, "defender")
    with pytest.raises(ArenaError, match="needs a two-player zero-sum game"):
        agent("tabular:nash?method=lp", env, "defender")
    with pytest.raises(ArenaError, match="no equilibrium=9"):
        agent("tabular:nash?method=vertex&equilibrium=9", general_sum_env(), "defender")
    with pytest.raises(ArenaError, match=r"Discrete\(5\)"):
        make_agent(
            "tabular:nash", role="defender", action_space=Discrete(5), game=env.to_normal_form
        )


# --------------------------------------------------------------------- sampling
def test_frequencies_match_the_strategy_and_a_perturbed_one_fails() -> None:
    env = strategy_game_v0.parallel_env()
    nash = agent("tabular:nash", env, "defender")
    probs = list(nash.strategy_for(first_obs(env)))
    seeds = episode_seeds("defender")
    actions = nash.act_batch([first_obs(env)] * len(seeds), seeds)
    assert chi2_pvalue(actions, probs) > 1e-3

    wrong = probs.copy()
    top = int(np.argmax(wrong))
    other = next(i for i, p in enumerate(wrong) if 0 < p < 0.5)
    wrong[top] -= 0.02
    wrong[other] += 0.02
    assert chi2_pvalue(actions, wrong) < 1e-6
    # An action outside the support is never played.
    assert all(probs[a] > 0 for a in set(actions))


def write_keyed_table(tmp_path: Path, env: StrategyGameEnv) -> tuple[Path, dict[str, list[float]]]:
    n = int(env.action_space("defender").n)
    table = {
        "*": [1 / n] * n,
        observation_key(first_obs(env)): [0.0] * (n - 1) + [1.0],
        observation_key(obs_after(env, 0, 1)): [0.5, 0.5] + [0.0] * (n - 2),
    }
    return save_strategies(tmp_path / "keyed.json", table), table


def test_same_seeds_same_actions_whatever_the_batching(tmp_path: Path) -> None:
    env = strategy_game_v0.parallel_env()
    path, _ = write_keyed_table(tmp_path, env)
    table_agent = agent(f"tabular:{path}", env, "defender")
    pool = [first_obs(env), obs_after(env, 0, 1), obs_after(env, 2, 3)]
    observations = [pool[i % 3] for i in range(600)]
    seeds = episode_seeds("defender", 600)
    for built in (table_agent, agent("tabular:nash", env, "defender")):
        whole = built.act_batch(observations, seeds)
        chunks = [
            a
            for k in range(0, 600, 7)
            for a in built.act_batch(observations[k : k + 7], seeds[k : k + 7])
        ]
        backwards = built.act_batch(observations[::-1], seeds[::-1])[::-1]
        singles = [built.act(o, s) for o, s in zip(observations, seeds, strict=True)]
        assert whole == chunks == backwards == singles
    # The keyed entries are honoured.
    n = int(env.action_space("defender").n)
    assert set(table_agent.act_batch([pool[0]] * 50, seeds[:50])) == {n - 1}
    assert set(table_agent.act_batch([pool[1]] * 200, seeds[:200])) == {0, 1}


def test_without_seeds_the_agent_seed_decides() -> None:
    env = strategy_game_v0.parallel_env()
    obs = [first_obs(env)] * 200
    a, b = (
        agent("tabular:uniform", env, "attacker", 1),
        agent("tabular:uniform", env, "attacker", 1),
    )
    first = a.act_batch(obs)
    assert first == b.act_batch(obs[:50]) + b.act_batch(obs[50:])
    assert first != agent("tabular:uniform", env, "attacker", 2).act_batch(obs)
    assert a.act_batch(obs) != first  # the stream goes on
    a.reset(1)
    assert a.act_batch(obs) == first


# --------------------------------------------------------------------- files
@pytest.mark.parametrize("suffix", [".json", ".npz"])
def test_file_round_trip(tmp_path: Path, suffix: str) -> None:
    env = strategy_game_v0.parallel_env()
    n = int(env.action_space("defender").n)
    rng = np.random.default_rng(0)
    table = {
        "*": rng.dirichlet(np.ones(n)).tolist(),
        observation_key(first_obs(env)): rng.dirichlet(np.ones(n)).tolist(),
    }
    labels = list(env.defender_labels)
    path = save_strategies(tmp_path / f"table{suffix}", table, actions=labels)
    loaded = agent(f"tabular:{path}", env, "defender")
    for key, probs in table.items():
        assert loaded.strategies[key] == pytest.approx(probs, abs=1e-12)
    assert loaded.strategy_for(obs_after(env, 0, 0)) == pytest.approx(table["*"], abs=1e-12)
    description = loaded.describe()
    assert description["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert description["file"] == str(path) and description["format"] == suffix[1:]
    assert loaded.label_action(n - 1) == labels[-1]


def test_single_strategy_files(tmp_path: Path) -> None:
    env = strategy_game_v0.parallel_env()
    n = int(env.action_space("defender").n)
    labels = list(env.defender_labels)
    plain = tmp_path / "plain.json"
    plain.write_text(json.dumps({"strategy": [0.0] * (n - 1) + [1.0]}))
    assert set(agent(f"tabular:{plain}", env, "defender").act_batch([0] * 20)) == {n - 1}

    by_label = tmp_path / "by_label.json"
    by_label.write_text(json.dumps({"strategy": {labels[0]: 0.25, labels[2]: 0.75}}))
    probs = agent(f"tabular:{by_label}", env, "defender").strategy_for(0)
    assert probs == pytest.approx([0.25, 0.0, 0.75] + [0.0] * (n - 3))

    reordered = tmp_path / "reordered.json"
    weights = [float(i + 1) for i in range(n)]
    weights = [w / sum(weights) for w in weights]
    reordered.write_text(json.dumps({"strategy": weights[::-1], "actions": labels[::-1]}))
    assert agent(f"tabular:{reordered}", env, "defender").strategy_for(0) == pytest.approx(weights)

    npz = tmp_path / "one.npz"
    np.savez(npz, strategy=np.array(weights))
    assert agent(f"tabular:{npz}", env, "defender").strategy_for(0) == pytest.approx(weights)

    rounding = tmp_path / "rounding.json"
    rounding.write_text(json.dumps({"strategy": [0.5 + 4e-7, 0.5] + [0.0] * (n - 2)}))
    probs = agent(f"tabular:{rounding}", env, "defender").strategy_for(0)
    assert sum(probs) == pytest.approx(1.0, abs=1e-15)


BAD_FILES: list[tuple[str, str, str]] = [
    # (file name, content, message pattern)
    ("short.json", '{"strategy": [0.5, 0.5]}', r"key '\*' has 2 probabilities .* Discrete\(7\)"),
    ("negative.json", '{"strategy": [1.2, -0.2, 0, 0, 0, 0, 0]}', "negative probability -0.2"),
    ("sum.json", '{"strategy": [0.5, 0.4, 0, 0, 0, 0, 0]}', "sums to 0.9, not 1"),
    ("nan.json", '{"strategy": [NaN, 1, 0, 0, 0, 0, 0]}', "NaN or infinite"),
    ("text.json", '{"strategy": ["a", 1, 0, 0, 0, 0, 0]}', "not a flat list of numbers"),
    ("bad.json", '{"strategy": [0.5, ', "is not valid JSON"),
    ("both.json", '{"strategy": [1], "strategies": {}}', 'exactly one of "strategy"'),
    ("typo.json", '{"strategys": [1]}', "unknown field"),
    ("labels.json", '{"strategy": {"no such action": 1}}', "unknown action"),
    ("actions.json", '{"strategy": [1, 0], "actions": ["a", "b"]}', "names actions"),
    ("table.csv", "1,0", "neither .json nor .npz"),
]


@pytest.mark.parametrize(("name", "content", "pattern"), BAD_FILES)
def test_bad_files_get_one_clear_error(
    tmp_path: Path, name: str, content: str, pattern: str
) -> None:
    env = strategy_game_v0.parallel_env()
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(ArenaError, match=pattern) as caught:
        agent(f"tabular:{path}", env, "defender")
    message = str(caught.value)
    assert str(path) in message and "Fix:" in message and "\n" not in message


def test_wrong_length_in_a_keyed_npz_names_the_key(tmp_path: Path) -> None:
    env = strategy_game_v0.parallel_env()
    path = tmp_path / "keyed.npz"
    np.savez(path, keys=np.array(["*", "1,0"]), probs=np.full((2, 3), 1 / 3))
    with pytest.raises(
        ArenaError, match=r"keyed.npz', key '\*' has 3 probabilities .*Discrete\(7\)"
    ):
        agent(f"tabular:{path}", env, "defender")
    broken = tmp_path / "broken.npz"
    broken.write_bytes(b"not a zip")
    with pytest.raises(ArenaError, match=r"not a readable \.npz"):
        agent(f"tabular:{broken}", env, "defender")


def test_missing_file_and_missing_key(tmp_path: Path) -> None:
    env = strategy_game_v0.parallel_env()
    with pytest.raises(ArenaError, match=r"does not exist.*tabular:uniform"):
        agent(f"tabular:{tmp_path / 'nowhere.json'}", env, "defender")
    n = int(env.action_space("defender").n)
    path = save_strategies(
        tmp_path / "partial.json", {observation_key(first_obs(env)): [1 / n] * n}
    )
    partial = agent(f"tabular:{path}", env, "defender")
    assert partial.act(first_obs(env), 1) in range(n)
    with pytest.raises(ArenaError, match=r"has no entry in .*partial.json.* no \"\*\" default"):
        partial.act(obs_after(env, 0, 0), 1)


def test_spec_errors() -> None:
    with pytest.raises(ArenaError, match="nothing after the colon"):
        make_agent("tabular:", action_space=Discrete(2))
    with pytest.raises(ArenaError, match="Unknown option"):
        make_agent("tabular:uniform?seed=1", action_space=Discrete(2))
