"""What the repeated simultaneous-move games share (``matrix_game_v0``, ``strategy_game_v0``).

Both are PettingZoo parallel environments whose actions are indices into label lists and
whose ``render`` shows the last round as text. Checking an action and rendering are the
same code in both, so it lives here once: a fix to how an illegal move is reported
reaches every game.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from pettingzoo import ParallelEnv

from envs.errors import ArenaError, IllegalActionError

RENDER_MODES = ["human", "ansi"]


def check_render_mode(render_mode: str | None) -> str | None:
    """``render_mode`` if it is ``None``, ``"human"`` or ``"ansi"``; else one clear error."""
    if render_mode is not None and render_mode not in RENDER_MODES:
        raise ArenaError(f"Unknown render_mode {render_mode!r}.", "use None, 'human' or 'ansi'.")
    return render_mode


def as_index(agent: str, raw: Any, n: int, fix: str) -> int:
    """``raw`` as an index in ``range(n)``, or an :class:`IllegalActionError` whose fix is
    ``fix`` (every discrete-action game reports a bad move the same way)."""
    if type(raw) is int and 0 <= raw < n:  # the common case, checked cheaply
        return raw
    try:
        value = int(raw)
    except (TypeError, ValueError) as exc:
        raise IllegalActionError(f"{agent!r} action {raw!r} is not an integer.", fix) from exc
    if value != raw or not 0 <= value < n:
        raise IllegalActionError(f"{agent!r} action {raw!r} is outside Discrete({n}).", fix)
    return value


def index_action(actions: Mapping[str, Any], agent: str, n: int, round_no: int, labels: str) -> int:
    """``actions[agent]`` as an index in ``range(n)``, or an :class:`IllegalActionError`.

    ``round_no`` is the round being played (1-based) and ``labels`` names where the
    valid labels are (e.g. ``"env.action_labels[0]"``), for the error's fix.
    """
    if agent not in actions:
        raise IllegalActionError(
            f"No action for {agent!r} in round {round_no}.",
            "step with an action for every agent in env.agents.",
        )
    return as_index(agent, actions[agent], n, f"pass an index into {labels}.")


class TextRenderedGame(ParallelEnv):
    """A parallel game whose ``render`` is the text of :meth:`_render_text`.

    ``"ansi"`` returns the text; ``"human"`` prints it (``step`` calls ``render`` after
    each round, as PettingZoo's text games do) and returns ``None``.
    """

    metadata: ClassVar[dict[str, Any]] = {"render_modes": RENDER_MODES, "is_parallelizable": True}
    render_mode: str | None

    def render(self) -> str | None:
        if self.render_mode is None:
            return None
        text = self._render_text()
        if self.render_mode == "human":
            print(text)
            return None
        return text

    def _render_text(self) -> str:
        raise NotImplementedError

    def close(self) -> None:
        return None
