"""``strategy_game_v0``: the abstract attacker-defender game as a PettingZoo parallel env.

Both agents move at once: the attacker picks an attack (a subset of MAGIC strategies and
a complexity level ``k``), the defender a reasoning budget and refusal rule (or an
adaptive budget). The environment then draws who actually sent the prompt (the
attacker, or a benign user with probability ``benign_prob``) and, under the logistic
rule, whether it was refused. After ``rounds`` such rounds (default 1) the episode
terminates. Every modelling choice is documented in :mod:`envs.strategy_game.model`.

The expected rewards of one round are exactly the payoffs of :meth:`to_normal_form`, so
the same game can be solved exactly with :mod:`theory` and played by agents. With
``payoff_table=`` the formula is replaced by a table (e.g. measured by a tournament) and
rewards are its entries.

Randomness: a SplitMix64 stream from :mod:`envs.seeding`, not a numpy ``Generator``
(building one per ``reset(seed=...)`` costs more than a whole round). ``reset(seed=s)``
(an integer >= 0, used mod 2**64) sets the stream's base to ``sub_seed(s,
"strategy_game_v0")``; the ``n``-th uniform draw since then is ``uniform(sub_seed(base,
n))``, and each round of the risk model draws two: the prompt source (inverse CDF over
the branches, as ``numpy``'s ``choice``) and the refusal (``u < p_refuse``). ``reset()``
without a seed continues the stream (a fresh environment starts from an entropy seed,
kept in ``np_random_seed``). So an episode is a pure function of its seed and actions,
and the outcome probabilities are exactly the model's. ``np_random`` is still provided,
built lazily from the same seed, for code that wants a ``Generator``; the environment
itself never draws from it.

Spaces: actions are ``Discrete`` indices into :attr:`attacker_labels` /
:attr:`defender_labels`. Both agents observe the same public history as a ``float32``
vector of length ``n_attacker_actions + n_defender_actions + 1``: one-hots of the
attacker's and the defender's actions in the previous round, and a final "first round"
slot set at the start (so an observation is never all zeros).
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import fields
from typing import Any, ClassVar

import numpy as np
from gymnasium.spaces import Box, Discrete
from gymnasium.utils import seeding

from envs.errors import ArenaError
from envs.repeated_game import RENDER_MODES, TextRenderedGame, check_render_mode, index_action
from envs.seeding import sub_seed, uniform
from envs.strategy_game.model import (
    ATTACKER,
    DEFENDER,
    PayoffTable,
    RiskModel,
    StrategyGameModel,
    leader_follower,
    normal_form,
)
from envs.strategy_game.model import describe as describe_model
from theory.games import LeaderFollowerGame, NormalFormGame

_MODEL_FIELDS = {f.name for f in fields(StrategyGameModel)} - {"risk"}
_RISK_FIELDS = {f.name for f in fields(RiskModel)}
_STREAM_SALT = "strategy_game_v0"


def build_model(model: StrategyGameModel | None, settings: Mapping[str, Any]) -> StrategyGameModel:
    """A model from ``model`` or from flat keyword settings (``delta=0.2, budgets=(0, 4)``)."""
    unknown = set(settings) - _MODEL_FIELDS - _RISK_FIELDS
    if unknown:
        raise ArenaError(
            f"Unknown strategy_game_v0 setting(s): {sorted(unknown)}.",
            f"use any of {sorted(_MODEL_FIELDS | _RISK_FIELDS | {'rounds', 'payoff_table'})}.",
        )
    if model is not None:
        if settings:
            raise ArenaError(
                "Both model= and individual settings were given.",
                "pass either a StrategyGameModel or keyword settings, not both.",
            )
        return model
    risk = RiskModel(**{k: v for k, v in settings.items() if k in _RISK_FIELDS})
    kwargs = {k: v for k, v in settings.items() if k in _MODEL_FIELDS}
    for name in ("levels", "budgets", "adaptive_margins", "benign_complexities"):
        if name in kwargs:
            kwargs[name] = tuple(kwargs[name])
    for name in ("strategies", "thresholds", "benign_weights"):
        if kwargs.get(name) is not None:
            kwargs[name] = tuple(kwargs[name])
    return StrategyGameModel(risk=risk, **kwargs)


class StrategyGameEnv(TextRenderedGame):
    """The parallel environment (``raw_env``); see the module docstring."""

    metadata: ClassVar[dict[str, Any]] = {
        "name": "strategy_game_v0",
        # "ansi": render() returns the last round as text; "human": step() prints it
        # (and render() prints it, returning None), as PettingZoo's text games do.
        "render_modes": RENDER_MODES,
        "is_parallelizable": True,
    }

    def __init__(
        self,
        *,
        rounds: int = 1,
        payoff_table: Any = None,
        attacker_labels: Sequence[str] | None = None,
        defender_labels: Sequence[str] | None = None,
        model: StrategyGameModel | None = None,
        render_mode: str | None = None,
        **settings: Any,
    ) -> None:
        if int(rounds) != rounds or rounds < 1:
            raise ArenaError(f"rounds must be a positive integer, got {rounds}.", "pass rounds=1.")
        check_render_mode(render_mode)
        if payoff_table is not None and (model is not None or settings):
            # The table replaces the risk model's payoffs, so model settings would be
            # silently ignored; refuse them rather than let a run record a wrong setup.
            given = sorted(settings) if settings else ["model"]
            raise ArenaError(
                f"payoff_table= replaces the risk model, so {given} would be ignored.",
                "pass either payoff_table= (with attacker_labels=/defender_labels=) or "
                "model settings, not both.",
            )
        self.model = build_model(model, settings)
        self.rounds = int(rounds)
        self.render_mode = render_mode
        self.table: PayoffTable | None = None
        if payoff_table is not None:
            if attacker_labels is None and defender_labels is None:
                shape = np.shape(payoff_table) if not isinstance(payoff_table, Mapping) else ()
                if shape[:2] == (
                    len(self.model.attacker_actions),
                    len(self.model.defender_actions),
                ):
                    attacker_labels = self.model.attacker_labels
                    defender_labels = self.model.defender_labels
            self.table = PayoffTable(
                payoff_table, attacker_labels=attacker_labels, defender_labels=defender_labels
            )
            self.attacker_labels = self.table.attacker_labels
            self.defender_labels = self.table.defender_labels
            self._payoffs = self.table.payoff_tensor()
        else:
            if attacker_labels is not None or defender_labels is not None:
                raise ArenaError(
                    "attacker_labels/defender_labels only apply with payoff_table=.",
                    "drop them; the formula's actions are named by the model.",
                )
            self.attacker_labels = self.model.attacker_labels
            self.defender_labels = self.model.defender_labels
            self._payoffs = self.model.payoff_tensor()
        self._payoffs.setflags(write=False)
        self.possible_agents = [ATTACKER, DEFENDER]
        self.agents: list[str] = []
        sizes = {ATTACKER: len(self.attacker_labels), DEFENDER: len(self.defender_labels)}
        self._action_spaces = {agent: Discrete(sizes[agent]) for agent in self.possible_agents}
        # Both agents see the same public history, so the spaces are equal but distinct
        # objects (each is seeded separately by PettingZoo's tests).
        width = sizes[ATTACKER] + sizes[DEFENDER] + 1
        self._observation_spaces = {
            agent: Box(0.0, 1.0, shape=(width,), dtype=np.float32) for agent in self.possible_agents
        }
        self._n_attacker = sizes[ATTACKER]
        self._n_defender = sizes[DEFENDER]
        self._width = width
        self._first = np.zeros(width, dtype=np.float32)
        self._first[-1] = 1.0
        self._seed(None)
        self.round = 0
        self.history: list[dict[str, Any]] = []

    # ------------------------------------------------------------------ randomness
    def _seed(self, seed: int | None) -> None:
        if seed is None:
            seed = secrets.randbits(63)
        elif isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
            raise ArenaError(
                f"reset(seed={seed!r}): a seed must be an integer >= 0.", "pass e.g. seed=0."
            )
        self.np_random_seed = int(seed)
        self._stream = sub_seed(self.np_random_seed, _STREAM_SALT)
        self._draws = 0
        self._np_random: np.random.Generator | None = None

    def _uniform(self) -> float:
        """The next uniform draw in [0, 1) of the episode's stream."""
        n = self._draws
        self._draws = n + 1
        return uniform(sub_seed(self._stream, n))

    @property
    def np_random(self) -> np.random.Generator:
        """A numpy ``Generator`` seeded like gymnasium's from ``np_random_seed`` (built on
        first use after each seeded reset). The environment's own draws do not use it."""
        if self._np_random is None:
            self._np_random, _ = seeding.np_random(self.np_random_seed)
        return self._np_random

    # ------------------------------------------------------------------ spaces
    # The same space objects every call, as PettingZoo's seeding tests require.
    def observation_space(self, agent: str) -> Box:
        return self._observation_spaces[agent]

    def action_space(self, agent: str) -> Discrete:
        return self._action_spaces[agent]

    # ------------------------------------------------------------------ the game
    @property
    def payoffs(self) -> np.ndarray:
        """Expected payoffs of one round, shape ``(2, n_attacker_actions, n_defender_actions)``."""
        return self._payoffs

    def to_normal_form(self) -> NormalFormGame:
        """The exact one-round game whose payoffs the expected rewards follow."""
        return normal_form(self._payoffs, self.attacker_labels, self.defender_labels, self._title())

    def to_leader_follower(self) -> LeaderFollowerGame:
        """The same payoffs with the defender committing first (RAPO's Stackelberg reading).

        See ``docs/papers.md#rapo-game-players``.
        """
        return leader_follower(
            self._payoffs, self.attacker_labels, self.defender_labels, self._title()
        )

    def describe(self) -> dict[str, Any]:
        """The environment's settings as plain data, for run manifests."""
        out: dict[str, Any] = {
            "env": self.metadata["name"],
            "rounds": self.rounds,
            "attacker_actions": list(self.attacker_labels),
            "defender_actions": list(self.defender_labels),
        }
        if self.table is not None:
            out["payoff_source"] = "table"
            out["payoff_table"] = self.table.table.tolist()
        else:
            out["payoff_source"] = "risk model"
            out["model"] = describe_model(self.model)
        return out

    def _title(self) -> str:
        source = "payoff table" if self.table is not None else "RAPO risk model"
        return f"strategy_game_v0 ({source})"

    # ------------------------------------------------------------------ PettingZoo API
    def reset(
        self, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, np.ndarray], dict[str, dict[str, Any]]]:
        if seed is not None:
            self._seed(seed)
        self.agents = [ATTACKER, DEFENDER]
        self.round = 0
        self.history = []
        # Both agents see the same history, each in an array of its own.
        first = self._first
        obs = {ATTACKER: first.copy(), DEFENDER: first.copy()}
        return obs, {ATTACKER: {"round": 0}, DEFENDER: {"round": 0}}

    def _observe(self, joint: tuple[int, int] | None) -> np.ndarray:
        if joint is None:
            return self._first.copy()
        out = np.zeros(self._width, dtype=np.float32)
        out[joint[0]] = 1.0
        out[self._n_attacker + joint[1]] = 1.0
        return out

    def _action(self, actions: Mapping[str, Any], agent: str) -> int:
        n = self._n_attacker if agent == ATTACKER else self._n_defender
        return index_action(actions, agent, n, self.round + 1, f"env.{agent}_labels")

    def step(
        self, actions: Mapping[str, Any]
    ) -> tuple[
        dict[str, np.ndarray],
        dict[str, float],
        dict[str, bool],
        dict[str, bool],
        dict[str, dict[str, Any]],
    ]:
        if not self.agents:
            raise ArenaError("step() called on a finished episode.", "call reset() first.")
        a = self._action(actions, ATTACKER)
        d = self._action(actions, DEFENDER)
        self.round += 1
        info: dict[str, Any] = {
            "round": self.round,
            "attacker_action": self.attacker_labels[a],
            "defender_action": self.defender_labels[d],
        }
        if self.table is None:
            outcome = self.model.outcome(a, d, self._uniform(), self._uniform())
            info.update(outcome.details)
        else:  # a payoff table draws nothing
            outcome = self.table.outcome(a, d)
        self.history.append(dict(info, rewards=outcome.rewards, actions=(a, d)))
        rewards = {ATTACKER: outcome.rewards[0], DEFENDER: outcome.rewards[1]}
        done = self.round >= self.rounds
        seen = self._observe((a, d))
        obs = {ATTACKER: seen, DEFENDER: seen.copy()}
        terminations = {ATTACKER: done, DEFENDER: done}
        truncations = {ATTACKER: False, DEFENDER: False}
        infos = {ATTACKER: info, DEFENDER: dict(info)}
        if done:
            self.agents = []
        if self.render_mode == "human":
            self.render()
        return obs, rewards, terminations, truncations, infos

    def episode_record(self) -> dict[str, Any]:
        """The finished (or running) episode as plain data: each round and its actions."""
        return {
            # rewards and actions are the entries' only tuples (see step)
            "rounds": [
                dict(entry, rewards=list(entry["rewards"]), actions=list(entry["actions"]))
                for entry in self.history
            ],
            "actions": [list(entry["actions"]) for entry in self.history],
        }

    def _render_text(self) -> str:
        if not self.history:
            return "strategy_game_v0: no round played yet"
        last = self.history[-1]
        parts = [
            f"round {last['round']}/{self.rounds}",
            last["attacker_action"],
            "vs",
            last["defender_action"],
        ]
        if "prompt" in last:
            parts.append(
                f"-> {last['prompt']} prompt, {'refused' if last['refused'] else 'answered'}"
            )
        parts.append(f"rewards {last['rewards']}")
        return " ".join(parts)
