"""strategy_game_v0: PettingZoo conformance, the risk model, and the exact normal form."""

from __future__ import annotations

import json
import math
import warnings
from typing import Any

import numpy as np
import pytest
from pettingzoo.test import api_test, parallel_api_test, parallel_seed_test, seed_test

from envs import strategy_game_v0
from envs.errors import ArenaError, IllegalActionError
from envs.strategy_game import AttackStrategy, RiskModel, StrategyGameModel
from theory.dynamics import psro
from theory.equilibria import exploitability
from theory.games import LeaderFollowerGame, NormalFormGame

SETTINGS: list[dict[str, Any]] = [
    {},
    {"refusal": "logistic", "benign_prob": 0.3},
    {"rounds": 3, "estimator": "oracle"},
    {"payoff_table": np.arange(24, dtype=float).reshape(3, 4, 2)},
]


# ----------------------------------------------------------------- PettingZoo conformance


@pytest.mark.parametrize("settings", SETTINGS)
def test_parallel_api(settings: dict[str, Any]) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the env must not trigger PettingZoo's warnings
        parallel_api_test(strategy_game_v0.parallel_env(**settings), num_cycles=20)


@pytest.mark.parametrize("settings", SETTINGS[:3])
def test_parallel_seed(settings: dict[str, Any]) -> None:
    parallel_seed_test(lambda: strategy_game_v0.parallel_env(**settings), num_cycles=20)


@pytest.mark.parametrize("settings", SETTINGS[:3])
def test_aec_conversion_passes_api_and_seed_tests(settings: dict[str, Any]) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        api_test(strategy_game_v0.env(**settings), num_cycles=20)
    # the only advice api_test may give: agent names like "player_0" (ours are role names)
    messages = {str(w.message) for w in caught if issubclass(w.category, UserWarning)}
    assert all("<descriptor>_<number>" in m for m in messages), messages
    seed_test(lambda: strategy_game_v0.env(**settings), num_cycles=20)


def test_module_convention() -> None:
    assert strategy_game_v0.raw_env is type(strategy_game_v0.parallel_env())
    aec = strategy_game_v0.env()
    aec.reset(seed=0)
    assert aec.possible_agents == ["attacker", "defender"]
    assert aec.metadata["name"] == "strategy_game_v0"


# ----------------------------------------------------------------- the risk model


def test_risk_model_is_rapo_theorem_3_1() -> None:
    risk = RiskModel(delta=0.3, eta=0.5)
    for k in range(6):
        t_star = risk.required_budget(k, risk.delta)
        assert t_star == pytest.approx(0.3 * k / (0.5 * 0.7))  # t* = delta k / (eta (1 - delta))
        assert risk.score(t_star, k) == pytest.approx(risk.delta)  # the refusal boundary
        assert risk.score(t_star + 0.01, k) > risk.delta > risk.score(t_star - 0.01, k)
    assert risk.score(4, 3) == pytest.approx((0.3 + 0.5 * 4 * 0.7) / 4)
    # masking raises the required budget, as in docs/papers.md#rapo-generalised-dilution
    assert risk.score(4, 3, masking=0.1) < risk.score(4, 3)
    logistic = RiskModel(refusal="logistic", beta=10.0)
    assert logistic.refusal_probability(0.3, 0.3) == pytest.approx(0.5)
    assert logistic.refusal_probability(-1e4, 0.3) == 0.0  # no overflow far from the boundary


def test_fixed_budget_refuses_exactly_up_to_the_rapo_complexity() -> None:
    """Deterministic rule, no benign prompts: a plain attack of K concepts is refused
    iff t >= t*(K) = delta K / (eta (1 - delta))."""
    model = StrategyGameModel(
        strategies=(AttackStrategy("wrap", 0, "ISS"),),
        levels=tuple(range(1, 9)),
        max_combination=1,
        budgets=(0, 1, 2, 3, 5, 8),
        adaptive_margins=(),
        benign_prob=0.0,
        attack_cost=0.0,
    )
    payoffs = model.payoff_tensor()
    for a, attack in enumerate(model.attacker_actions):
        concepts = model.complexity(attack)[0]
        for d, defense in enumerate(model.defender_actions):
            assert defense.budget is not None
            needed = model.risk.required_budget(concepts, model.risk.delta)
            refused = defense.budget >= needed - 1e-9
            assert payoffs[0, a, d] == (0.0 if refused else 1.0), (attack.label, defense.label)
    # the direct request is refused even without reasoning (s = delta >= gamma = delta)
    assert payoffs[0, 0, 0] == 0.0


def _payoff(game: NormalFormGame, attacker: str, defender: str) -> np.ndarray:
    a = game.strategies[0].index(attacker)
    d = game.strategies[1].index(defender)
    return game.payoffs[:, a, d]


def test_adaptive_budget_with_oracle_estimate_stops_plain_attacks() -> None:
    game = strategy_game_v0.parallel_env(
        estimator="oracle", benign_prob=0.0, budgets=(0, 40)
    ).to_normal_form()
    adaptive = "adaptive(x1),gamma=0.3"
    for attack in ("role_play@k=4", "multi_condition_stacking@k=4", "encoding_rewriting@k=3"):
        assert _payoff(game, attack, adaptive)[0] < 0  # refused: the attacker only pays costs
        assert _payoff(game, attack, "t=0,gamma=0.3")[0] > 0  # a fixed small budget loses
    # masking (a legitimacy pretext) beats a budget computed for plain dilution
    assert _payoff(game, "role_play+legitimacy_pretext@k=4", adaptive)[0] > 0


def test_surface_estimator_is_fooled_by_encoding() -> None:
    """A length-based complexity proxy lets hidden layers through (papers.md#rapo-game-players)."""
    kwargs = {"benign_prob": 0.0, "budgets": (0, 40)}
    surface = strategy_game_v0.parallel_env(estimator="surface", **kwargs).to_normal_form()
    oracle = strategy_game_v0.parallel_env(estimator="oracle", **kwargs).to_normal_form()
    adaptive = "adaptive(x1.5),gamma=0.3"
    assert _payoff(surface, "encoding_rewriting@k=4", adaptive)[0] > 0
    assert _payoff(oracle, "encoding_rewriting@k=4", adaptive)[0] < 0


def test_over_refusal_cost_enters_the_defender_payoff() -> None:
    """A long fixed budget over-refuses short sensitive benign prompts (q > delta_b)."""
    env = strategy_game_v0.parallel_env(benign_prob=1.0, benign_complexities=(0.0,))
    game = env.to_normal_form()
    cost = env.model.defense_cost
    assert _payoff(game, "direct", "t=0,gamma=0.3")[1] == pytest.approx(0.0)  # 0.15 < 0.3
    # t=2: s_b = 0.15 + 0.5 * 2 * (0.4 - 0.15) = 0.4 >= 0.3 -> refused
    assert _payoff(game, "direct", "t=2,gamma=0.3")[1] == pytest.approx(-0.5 - 2 * cost)
    assert np.all(game.payoffs[0] == 0.0)  # the attacker plays no part in benign episodes


# ----------------------------------------------------------------- expected vs sampled


@pytest.mark.parametrize(
    ("attacker", "defender"),
    [
        ("role_play+legitimacy_pretext@k=2", "t=4,gamma=0.3"),
        ("encoding_rewriting@k=1", "adaptive(x1.5),gamma=0.3"),
        ("direct", "t=16,gamma=0.3"),
    ],
)
def test_empirical_mean_rewards_match_the_normal_form(attacker: str, defender: str) -> None:
    """The rewards the env samples average to the payoffs of to_normal_form()."""
    episodes = 4000
    env = strategy_game_v0.parallel_env(refusal="logistic", benign_prob=0.4, rounds=episodes)
    game = env.to_normal_form()
    a = env.attacker_labels.index(attacker)
    d = env.defender_labels.index(defender)
    env.reset(seed=123)
    samples = []
    for _ in range(episodes):
        _, rewards, _, _, _ = env.step({"attacker": a, "defender": d})
        samples.append([rewards["attacker"], rewards["defender"]])
    data = np.asarray(samples)
    mean, sem = data.mean(axis=0), data.std(axis=0) / math.sqrt(episodes)
    expected = game.payoffs[:, a, d]
    assert np.all(np.abs(mean - expected) <= 4.5 * sem + 1e-12), (mean, expected, sem)
    assert env.agents == []  # terminated after `rounds` rounds


def test_env_is_deterministic_under_seed() -> None:
    def run(seed: int) -> list[Any]:
        env = strategy_game_v0.parallel_env(refusal="logistic", benign_prob=0.5, rounds=50)
        env.reset(seed=seed)
        out = []
        for i in range(50):
            _, rewards, _, _, infos = env.step({"attacker": i % 41, "defender": i % 7})
            out.append((rewards["attacker"], infos["defender"]["prompt"]))
        return out

    assert run(1) == run(1)
    assert run(1) != run(2)


# ----------------------------------------------------------------- episodes and observations


def test_rounds_observations_and_infos() -> None:
    env = strategy_game_v0.parallel_env(rounds=2, render_mode="ansi")
    obs, infos = env.reset(seed=0)
    n_a, n_d = len(env.attacker_labels), len(env.defender_labels)
    assert obs["attacker"].shape == obs["defender"].shape == (n_a + n_d + 1,)
    assert obs["attacker"][-1] == 1.0 and obs["attacker"].sum() == 1.0  # "first round" slot
    assert env.render() == "strategy_game_v0: no round played yet"
    obs, _, terms, truncs, infos = env.step({"attacker": 5, "defender": 2})
    for agent in ("attacker", "defender"):  # the public history: the previous joint action
        assert np.flatnonzero(obs[agent]).tolist() == [5, n_a + 2]
    assert not any(terms.values()) and not any(truncs.values())
    info = infos["attacker"]
    assert info["attacker_action"] == env.attacker_labels[5]
    assert info["prompt"] in ("attack", "benign")
    assert info["attack_success"] == (info["prompt"] == "attack" and not info["refused"])
    assert isinstance(env.render(), str)
    _, _, terms, _, _ = env.step({"attacker": 0, "defender": 0})
    assert all(terms.values()) and env.agents == []
    with pytest.raises(ArenaError, match="reset"):
        env.step({"attacker": 0, "defender": 0})


def test_illegal_actions_raise() -> None:
    env = strategy_game_v0.parallel_env()
    env.reset(seed=0)
    with pytest.raises(IllegalActionError, match="outside"):
        env.step({"attacker": 999, "defender": 0})
    with pytest.raises(IllegalActionError, match="No action"):
        env.step({"attacker": 0})
    with pytest.raises(IllegalActionError, match="integer"):
        env.step({"attacker": "role_play", "defender": 0})


def test_describe_is_plain_data() -> None:
    formula = strategy_game_v0.parallel_env(refusal="logistic").describe()
    assert formula["payoff_source"] == "risk model"
    assert formula["model"]["risk"]["refusal"] == "logistic"
    assert formula["model"]["strategies"][0]["taxonomy_id"] == 0
    table = strategy_game_v0.parallel_env(payoff_table=np.zeros((2, 2, 2))).describe()
    assert table["payoff_source"] == "table" and table["attacker_actions"] == ["a0", "a1"]
    json.dumps(formula)
    json.dumps(table)


def test_settings_are_checked() -> None:
    with pytest.raises(ArenaError, match="Unknown strategy_game_v0 setting"):
        strategy_game_v0.parallel_env(budget=3)
    with pytest.raises(ArenaError, match="delta"):
        strategy_game_v0.parallel_env(delta=1.5)
    with pytest.raises(ArenaError, match="rounds"):
        strategy_game_v0.parallel_env(rounds=0)
    with pytest.raises(ArenaError, match="benign_weights"):
        strategy_game_v0.parallel_env(benign_weights=(1.0,))
    with pytest.raises(ArenaError, match="max_combination"):
        strategy_game_v0.parallel_env(max_combination=9)
    with pytest.raises(ArenaError, match="thresholds"):
        strategy_game_v0.parallel_env(thresholds=(0.0,))
    with pytest.raises(ArenaError, match="model= and individual settings"):
        strategy_game_v0.parallel_env(model=StrategyGameModel(), delta=0.2)


# ----------------------------------------------------------------- the exact game


def test_to_normal_form_is_the_payoff_tensor_with_labels() -> None:
    env = strategy_game_v0.parallel_env(thresholds=(0.25, 0.3), adaptive_margins=(1.0,))
    game = env.to_normal_form()
    assert isinstance(game, NormalFormGame)
    assert game.players == ("attacker", "defender")
    assert game.strategies == (env.attacker_labels, env.defender_labels)
    assert game.num_strategies == (41, 12)  # 1 + (4 + 6) x 4 attacks; 2 x (5 + 1) defences
    np.testing.assert_array_equal(game.payoffs, env.payoffs)
    lf = env.to_leader_follower()
    assert isinstance(lf, LeaderFollowerGame) and lf.players == ("defender", "attacker")
    np.testing.assert_array_equal(lf.leader_payoffs, env.payoffs[1].T)


def test_theory_solves_the_game() -> None:
    """The bridge: PSRO on the exact game reaches an equilibrium."""
    game = strategy_game_v0.parallel_env().to_normal_form()
    res = psro(game, iterations=100)
    assert res.converged and res.profile is not None
    assert exploitability(game, res.profile) <= 1e-9


# ----------------------------------------------------------------- payoff tables


def test_payoff_table_array_replaces_the_formula() -> None:
    table = np.random.default_rng(0).normal(size=(3, 2, 2))
    env = strategy_game_v0.parallel_env(
        payoff_table=table, attacker_labels=("x", "y", "z"), defender_labels=("p", "q")
    )
    np.testing.assert_array_equal(env.to_normal_form().payoffs, np.moveaxis(table, 2, 0))
    env.reset(seed=0)
    _, rewards, _, _, infos = env.step({"attacker": 2, "defender": 1})
    assert rewards == {"attacker": table[2, 1, 0], "defender": table[2, 1, 1]}
    assert infos["defender"]["attacker_action"] == "z"


def test_payoff_table_of_the_formula_shape_keeps_the_formula_labels() -> None:
    formula = strategy_game_v0.parallel_env()
    measured = np.moveaxis(formula.payoffs, 0, 2) + 0.01
    env = strategy_game_v0.parallel_env(payoff_table=measured)
    assert env.attacker_labels == formula.attacker_labels
    np.testing.assert_allclose(env.payoffs, formula.payoffs + 0.01)


def test_payoff_table_mapping() -> None:
    mapping = {
        ("weak", "strict"): (0.0, -0.2),
        ("weak", "lax"): (0.5, -0.5),
        ("strong", "strict"): (0.3, -0.4),
        ("strong", "lax"): (0.9, -0.9),
    }
    env = strategy_game_v0.parallel_env(payoff_table=mapping)
    assert env.attacker_labels == ("weak", "strong")
    assert env.defender_labels == ("strict", "lax")
    assert env.to_normal_form().payoffs[:, 1, 0].tolist() == [0.3, -0.4]
    incomplete = dict(mapping)
    del incomplete[("strong", "lax")]
    with pytest.raises(ArenaError, match="no entry"):
        strategy_game_v0.parallel_env(payoff_table=incomplete)
    with pytest.raises(ArenaError, match="shape"):
        strategy_game_v0.parallel_env(payoff_table=np.zeros((3, 2)))
    with pytest.raises(ArenaError, match="labels"):
        strategy_game_v0.parallel_env(attacker_labels=("a",))


@pytest.mark.parametrize(
    "extra",
    [{"delta": 0.3}, {"benign_prob": 0.3, "refusal": "logistic"}, {"model": StrategyGameModel()}],
)
def test_payoff_table_with_model_settings_is_refused(extra: dict[str, Any]) -> None:
    """The table replaces the risk model; settings for the model would be silently ignored."""
    table = np.zeros((2, 2, 2))
    with pytest.raises(ArenaError, match="payoff_table") as info:
        strategy_game_v0.env(payoff_table=table, **extra)
    assert "not both" in info.value.fix
    # rounds= is not a model setting: it still applies to a table game
    assert strategy_game_v0.parallel_env(payoff_table=table, rounds=2).rounds == 2
