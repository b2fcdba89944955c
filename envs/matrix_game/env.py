"""``matrix_game_v0``: a repeated two-player normal-form game as a PettingZoo parallel env.

Each round both players (``player_0``, the row player, and ``player_1``, the column
player) choose an action at once and receive the stage game's payoffs
``A[i, j]`` and ``B[i, j]``. After ``rounds`` rounds (default 1) the episode terminates.
The stage game is a textbook game or a payoff file (:mod:`envs.matrix_game.games`).

Spaces: ``player_k``'s actions are ``Discrete(n_k)``, indices into
:attr:`MatrixGameEnv.action_labels` ``[k]`` (the game's strategy labels). Its observation is
``Discrete(n_other + 1)``: the opponent's action in the previous round, or ``n_other``
before the first round, as a read-only 0-d ``int64`` array (PettingZoo's tests want
numpy observations; ``int(obs)`` is the index). So a tabular agent's table is keyed by
``"0"``, ``"1"``, ... (with ``"n"`` for the first round).

The game draws nothing at random: an episode is a pure function of the actions.
``reset(seed=s)`` checks and keeps the seed (``np_random_seed``) for PettingZoo's API.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
from gymnasium.spaces import Discrete

from envs.errors import ArenaError
from envs.matrix_game.config import check_rounds
from envs.matrix_game.games import DEFAULT_GAME, SEATS, load_stage_game
from envs.repeated_game import RENDER_MODES, TextRenderedGame, check_render_mode, index_action
from theory.games import NormalFormGame


def _frozen(value: int) -> np.ndarray:
    array = np.array(value, dtype=np.int64)
    array.setflags(write=False)
    return array


class MatrixGameEnv(TextRenderedGame):
    """The parallel environment (``raw_env``); see the module docstring.

    ``game`` is a built-in name or a payoff file path (as :class:`MatrixGameConfig`), or
    a two-player :class:`~theory.games.NormalFormGame` (its players are renamed to the
    seats).
    """

    metadata: ClassVar[dict[str, Any]] = {
        "name": "matrix_game_v0",
        # "ansi": render() returns the last round as text; "human": step() prints it.
        "render_modes": RENDER_MODES,
        "is_parallelizable": True,
    }

    def __init__(
        self,
        *,
        game: str | NormalFormGame = DEFAULT_GAME,
        rounds: int = 1,
        render_mode: str | None = None,
    ) -> None:
        self.render_mode = check_render_mode(render_mode)
        self.rounds = check_rounds(rounds)
        if isinstance(game, NormalFormGame):
            if game.num_players != 2:
                raise ArenaError(
                    f"matrix_game_v0 plays two-player games; this one has {game.num_players}.",
                    "pass a bimatrix game (NormalFormGame.from_bimatrix(A, B)).",
                )
            if game.players != SEATS:
                game = NormalFormGame(
                    game.payoffs, players=SEATS, strategies=game.strategies, title=game.title
                )
            self.stage_game = game
        else:
            self.stage_game = load_stage_game(game)
        self.title = self.stage_game.title
        self.action_labels: tuple[tuple[str, ...], ...] = self.stage_game.strategies
        # Python floats: a step's rewards come from here without converting each time.
        self._payoffs: list[list[list[float]]] = self.stage_game.payoffs.tolist()
        self._sizes = self.stage_game.num_strategies
        self.possible_agents = list(SEATS)
        self.agents: list[str] = []
        self._action_spaces = {
            seat: Discrete(self._sizes[k]) for k, seat in enumerate(self.possible_agents)
        }
        self._observation_spaces = {
            seat: Discrete(self._sizes[1 - k] + 1) for k, seat in enumerate(self.possible_agents)
        }
        # Observations are 0-d int64 arrays (the dtype of Discrete; PettingZoo's api_test
        # wants numpy arrays), made once and read-only: _seen[k][a] is what player_k
        # sees after the opponent played a (a = n_opponent: nothing yet).
        self._seen = [[_frozen(a) for a in range(self._sizes[1 - k] + 1)] for k in range(2)]
        self.np_random_seed: int | None = None
        self.round = 0
        self.history: list[dict[str, Any]] = []

    # ------------------------------------------------------------------ spaces
    # The same space objects every call, as PettingZoo's seeding tests require.
    def observation_space(self, agent: str) -> Discrete:
        return self._observation_spaces[agent]

    def action_space(self, agent: str) -> Discrete:
        return self._action_spaces[agent]

    # ------------------------------------------------------------------ the game
    @property
    def payoffs(self) -> np.ndarray:
        """The stage game's payoffs, shape ``(2, n_0, n_1)`` (read-only)."""
        return self.stage_game.payoffs

    def to_normal_form(self) -> NormalFormGame:
        """The stage game (players ``player_0``, ``player_1``), as tabular agents solve it."""
        return self.stage_game

    def describe(self) -> dict[str, Any]:
        """The environment's settings as plain data."""
        return {
            "env": self.metadata["name"],
            "game": self.title,
            "rounds": self.rounds,
            "actions": {seat: list(self.action_labels[k]) for k, seat in enumerate(SEATS)},
            "payoffs": self.stage_game.payoffs.tolist(),
        }

    # ------------------------------------------------------------------ PettingZoo API
    def reset(
        self, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, np.ndarray], dict[str, dict[str, Any]]]:
        if seed is not None:
            if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
                raise ArenaError(
                    f"reset(seed={seed!r}): a seed must be an integer >= 0.", "pass e.g. seed=0."
                )
            self.np_random_seed = int(seed)
        self.agents = list(SEATS)
        self.round = 0
        self.history = []
        # before the first round each player sees "no action yet": n_opponent
        obs = {SEATS[0]: self._seen[0][-1], SEATS[1]: self._seen[1][-1]}
        return obs, {SEATS[0]: {"round": 0}, SEATS[1]: {"round": 0}}

    def _action(self, actions: Mapping[str, Any], index: int) -> int:
        return index_action(
            actions, SEATS[index], self._sizes[index], self.round + 1,
            f"env.action_labels[{index}]",
        )  # fmt: skip

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
        i = self._action(actions, 0)
        j = self._action(actions, 1)
        self.round += 1
        payoffs = [self._payoffs[0][i][j], self._payoffs[1][i][j]]
        labels = [self.action_labels[0][i], self.action_labels[1][j]]
        self.history.append(
            {"round": self.round, "actions": [i, j], "labels": labels, "payoffs": payoffs}
        )
        done = self.round >= self.rounds
        p0, p1 = SEATS
        obs = {p0: self._seen[0][j], p1: self._seen[1][i]}  # the opponent's action
        rewards = {p0: payoffs[0], p1: payoffs[1]}
        terminations = {p0: done, p1: done}
        truncations = {p0: False, p1: False}
        info = {"round": self.round, "actions": labels}
        infos = {p0: info, p1: dict(info, actions=list(labels))}
        if done:
            self.agents = []
        if self.render_mode == "human":
            self.render()
        return obs, rewards, terminations, truncations, infos

    def episode_record(self) -> dict[str, Any]:
        """The episode as plain JSON data: each round's actions (indices and labels) and
        payoffs, in seat order (``player_0``, ``player_1``)."""
        return {
            "rounds": [
                {
                    "round": entry["round"],
                    "actions": list(entry["actions"]),
                    "labels": list(entry["labels"]),
                    "payoffs": list(entry["payoffs"]),
                }
                for entry in self.history
            ]
        }

    def _render_text(self) -> str:
        if not self.history:
            return f"matrix_game_v0 ({self.title}): no round played yet"
        last = self.history[-1]
        a, b = last["labels"]
        p, q = last["payoffs"]
        return f"round {last['round']}/{self.rounds}: {a} vs {b} -> payoffs ({p:g}, {q:g})"
