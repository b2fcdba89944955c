"""A wrapper that puts the acting policy's log-probability into ``infos``, by phase.

Why a wrapper and not the environment: the log-probability of an action belongs to the
policy that chose it, which the environment cannot know. A training loop that wants
per-phase log-probs next to correctness and flips (``logp_sample`` after a SAMPLE move,
``logp_decide`` after a DECIDE move) calls :meth:`PhaseLogProbs.step_logged` instead of
``step``; plain ``step`` still works and adds nothing.
"""

from __future__ import annotations

from typing import Any

from pettingzoo import AECEnv
from pettingzoo.utils.wrappers import BaseWrapper

from envs.decide_sample.env import SAMPLE


class PhaseLogProbs(BaseWrapper):
    """Wraps a ``decide_sample_v0`` AEC env; see the module docstring."""

    def __init__(self, env: AECEnv) -> None:
        super().__init__(env)

    def step_logged(self, action: Any, logp: float) -> None:
        """``step(action)``, then record ``logp`` under the phase the action was taken in."""
        phase = self.unwrapped.phase
        self.env.step(action)
        key = "logp_sample" if phase == SAMPLE else "logp_decide"
        for info in self.unwrapped.infos.values():
            info[key] = float(logp)
