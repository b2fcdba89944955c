"""``decide_sample_v0``: sample an answer, then STOP or REVISE (PettingZoo AEC).

The environment of section C.2 of ``shared/papers/kale_ds.md`` for the DS hypothesis
(Zhao et al., arXiv 2601.01580). **Reconstructed**: the paper's text beyond its abstract
could not be read, so the phases, the verifier hint and the reward are the notes'
reconstruction (consistent with the abstract's STOP/RESAMPLE semantics), not the
paper's specification.

An episode is one arithmetic problem (``+`` or ``×``; operand digits from the
in-distribution range, or with probability ``ood_fraction`` the out-of-distribution
one). Up to ``k_max`` attempts, each two phases:

* **SAMPLE** (structured mode): pick one of ``n_candidates`` answers, the truth and
  near-miss distractors (:mod:`envs.decide_sample.problems`), shuffled per episode.
* **SAMPLE** (token mode, ``mode="token"``): write the answer as ``L`` digit tokens
  (``MultiDiscrete([10] * L)``, most significant first, zero-padded; ``L`` is
  ``answer_tokens`` or just enough for the widest answer), so the attempt length the DS
  claims are about is explicit; no candidates are shown;
* **DECIDE**: STOP (accept the answer) or REVISE (sample again). Before deciding the
  agent sees a verifier hint that equals the attempt's correctness with probability
  ``rho``: without such a signal a decision policy cannot beat a constant, so ``rho``
  sets how learnable the decision part is. After attempt ``k_max`` STOP is forced and
  no decision is asked (as in the toy model ``V_K``).

Reward: 1 on stopping with the correct answer (forced stops included), else 0;
``-revise_cost`` on each REVISE.

Seats: one agent plays both phases (``"policy"``, the default, what ``arena play``
uses) or, with ``two_agents=True``, a ``"sampler"`` and a ``"decider"`` that share the
reward (training them apart gives the cleanest attribution).

Spaces. Actions are ``Discrete(n_candidates)`` for the single seat: in SAMPLE the index
of a candidate, in DECIDE ``action % 2`` (0 STOP, 1 REVISE). Why modulo: one seat has
one action space, and making every index legal in both phases lets an agent that
ignores the phase (``tabular:uniform``) play without illegal moves; an LLM or tabular
policy uses 0 and 1. In token mode the single seat's space is the sampler's
``MultiDiscrete`` and a decision reads its first entry modulo 2. With two agents the
decider's space is ``Discrete(2)``.
Observations are a read-only int64 vector (layout: :data:`OBS_FIELDS`, then the
candidates, then the previous choices, ``-1`` where none), so ``tabular:FILE`` agents
can key on it.

``infos[agent]`` after each step: ``phase``, ``attempt``, ``correct`` (of the current
answer), ``first_attempt_correct``, ``flip`` (``"wrong->right"``/``"right->wrong"``
between consecutive attempts, else ``None``), ``hint``, ``decision``, ``forced_stop``.
Per-phase log-probs (``logp_sample``/``logp_decide``) belong to the policy, not the
environment: :class:`envs.decide_sample.wrappers.PhaseLogProbs` adds them.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from gymnasium.spaces import Box, Discrete, MultiDiscrete
from pettingzoo import AECEnv
from pettingzoo.utils import wrappers

from envs.decide_sample.config import DecideSampleConfig
from envs.decide_sample.problems import Problem, make_problem
from envs.errors import ArenaError, IllegalActionError
from envs.repeated_game import as_index

POLICY = "policy"
SAMPLER = "sampler"
DECIDER = "decider"
SEATS = (POLICY,)
TWO_SEATS = (SAMPLER, DECIDER)
SAMPLE, DECIDE, DONE = 0, 1, 2
PHASES = ("sample", "decide", "done")
STOP, REVISE = 0, 1
DECISIONS = ("STOP", "REVISE")
#: The first entries of every observation; candidates and history follow.
OBS_FIELDS = ("phase", "attempt", "hint", "choice", "operator", "left", "right")
OBS_HIGH = 10**18


class raw_env(AECEnv):
    """The unwrapped environment (see the module docstring); :func:`env` wraps it."""

    metadata: ClassVar[dict[str, Any]] = {
        "name": "decide_sample_v0",
        "render_modes": ["human", "ansi"],
        "is_parallelizable": False,
    }

    def __init__(
        self,
        config: DecideSampleConfig | None = None,
        *,
        two_agents: bool = False,
        render_mode: str | None = None,
        **settings: Any,
    ) -> None:
        super().__init__()
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ArenaError(f"Unknown render_mode {render_mode!r}.", "use 'human' or 'ansi'.")
        if config is not None and settings:
            raise ArenaError("Pass a config or settings, not both.", "merge them into one.")
        self.config = config if config is not None else DecideSampleConfig(**settings)
        self.two_agents = bool(two_agents)
        self.render_mode = render_mode
        cfg = self.config
        self.sampler = SAMPLER if self.two_agents else POLICY
        self.decider = DECIDER if self.two_agents else POLICY
        self.possible_agents = list(TWO_SEATS if self.two_agents else SEATS)
        size = len(OBS_FIELDS) + cfg.n_candidates + cfg.k_max
        space = Box(low=-1, high=OBS_HIGH, shape=(size,), dtype=np.int64)
        self._observation_spaces = dict.fromkeys(self.possible_agents, space)
        self.token_mode = cfg.mode == "token"
        self.length = cfg.attempt_length
        sample_space: Discrete | MultiDiscrete = (
            MultiDiscrete([10] * self.length) if self.token_mode else Discrete(cfg.n_candidates)
        )
        self._action_spaces: dict[str, Discrete | MultiDiscrete] = dict.fromkeys(
            self.possible_agents, sample_space
        )
        if self.two_agents:
            self._action_spaces[DECIDER] = Discrete(2)
        self._rng = np.random.default_rng()
        self.problem: Problem | None = None
        self.attempts: list[dict[str, Any]] = []
        self.phase = DONE
        self.agents: list[str] = []

    # ------------------------------------------------------------------ spaces
    def observation_space(self, agent: str) -> Box:
        return self._observation_spaces[agent]

    def action_space(self, agent: str) -> Discrete | MultiDiscrete:
        return self._action_spaces[agent]

    # ------------------------------------------------------------------ PettingZoo API
    def reset(self, seed: int | None = None, options: dict[str, Any] | None = None) -> None:
        if seed is not None:
            self._rng = np.random.default_rng(seed)
        cfg, rng = self.config, self._rng
        ood = bool(rng.random() < cfg.ood_fraction)
        digits = cfg.ood_digits if ood else cfg.id_digits
        self.problem = make_problem(
            rng,
            cfg.operators,
            (digits[0], digits[1]),
            cfg.n_candidates,
            "ood" if ood else "id",
        )
        self.agents = self.possible_agents[:]
        self.rewards = dict.fromkeys(self.agents, 0.0)
        self._cumulative_rewards = dict.fromkeys(self.agents, 0.0)
        self.terminations = dict.fromkeys(self.agents, False)
        self.truncations = dict.fromkeys(self.agents, False)
        self.infos: dict[str, dict[str, Any]] = {agent: {} for agent in self.agents}
        self.attempts = []
        self.phase = SAMPLE
        self.total_reward = 0.0
        self.agent_selection = self.sampler

    def observe(self, agent: str) -> np.ndarray:
        cfg = self.config
        problem = self.problem
        assert problem is not None, "call reset() before observe()"
        last = self.attempts[-1] if self.attempts else None
        hint = -1
        if last is not None and self.phase != SAMPLE:
            hint = -1 if last["hint"] is None else int(last["hint"])
        key = "answer" if self.token_mode else "choice"
        head = [
            self.phase,
            len(self.attempts),
            hint,
            last[key] if last is not None and self.phase != SAMPLE else -1,
            "+x".index(problem.op),
            problem.left,
            problem.right,
        ]
        history = [a[key] for a in self.attempts][: cfg.k_max]
        history += [-1] * (cfg.k_max - len(history))
        # token mode writes the answer: no candidates to pick from
        shown = [-1] * cfg.n_candidates if self.token_mode else list(problem.candidates)
        obs = np.array([*head, *shown, *history], dtype=np.int64)
        obs.setflags(write=False)
        return obs

    def _tokens(self, agent: str, action: Any) -> list[int]:
        """A token-mode SAMPLE action: ``L`` digits, most significant first."""
        try:
            digits = [int(x) for x in np.asarray(action).reshape(-1)]
        except (TypeError, ValueError) as exc:
            raise IllegalActionError(
                f"{agent!r} action {action!r} is not {self.length} digits.",
                f"pass {self.length} integers 0..9.",
            ) from exc
        if len(digits) != self.length or any(not 0 <= d <= 9 for d in digits):
            raise IllegalActionError(
                f"{agent!r} action {action!r} is not {self.length} digits 0..9.",
                f"pass {self.length} integers 0..9.",
            )
        return digits

    def _action(self, agent: str, action: Any) -> int:
        space = self._action_spaces[agent]
        if isinstance(space, MultiDiscrete):  # token mode, DECIDE: the first entry decides
            return self._tokens(agent, action)[0]
        n = int(space.n)
        return as_index(agent, action, n, f"pass 0..{n - 1}.")

    def step(self, action: Any) -> None:
        agent = self.agent_selection
        if self.terminations[agent] or self.truncations[agent]:
            self._was_dead_step(action)
            return
        if self.phase == SAMPLE and self.token_mode:
            tokens = self._tokens(agent, action)
            value = int("".join(map(str, tokens)))
        else:
            value = self._action(agent, action)
        self._cumulative_rewards[agent] = 0.0
        self.rewards = dict.fromkeys(self.agents, 0.0)
        info = self._sample(value) if self.phase == SAMPLE else self._decide(value % 2)
        for name in self.agents:
            self.infos[name] = dict(info)
        self._accumulate_rewards()
        if self.render_mode == "human":
            self.render()

    # ------------------------------------------------------------------ game logic
    def _sample(self, choice: int) -> dict[str, Any]:
        """``choice`` is a candidate index, or in token mode the written answer."""
        problem = self.problem
        assert problem is not None
        if self.token_mode:
            answer, correct = choice, choice == problem.answer
        else:
            answer, correct = problem.candidates[choice], choice == problem.correct_index
        flip = None
        if self.attempts:
            before = self.attempts[-1]["correct"]
            if before != correct:
                flip = "wrong->right" if correct else "right->wrong"
        forced = len(self.attempts) + 1 >= self.config.k_max
        hint = None
        if not forced:  # the verifier only speaks where a decision follows
            truthful = bool(self._rng.random() < self.config.rho)
            hint = int(correct if truthful else not correct)
        self.attempts.append(
            {
                "choice": None if self.token_mode else choice,
                "answer": answer,
                "correct": correct,
                "hint": hint,
                "decision": "STOP" if forced else None,
                "forced": forced,
                "flip": flip,
            }
        )
        if forced:
            self._finish(correct)
        else:
            self.phase = DECIDE
            self.agent_selection = self.decider
        return self._info("sample")

    def _decide(self, decision: int) -> dict[str, Any]:
        last = self.attempts[-1]
        last["decision"] = DECISIONS[decision]
        if decision == STOP:
            self._finish(bool(last["correct"]))
        else:
            cost = -float(self.config.revise_cost)
            self._reward(cost)
            self.phase = SAMPLE
            self.agent_selection = self.sampler
        return self._info("decide")

    def _reward(self, value: float) -> None:
        self.total_reward += value
        for name in self.agents:  # shared by both seats in the two-agent game
            self.rewards[name] = value

    def _finish(self, correct: bool) -> None:
        self._reward(1.0 if correct else 0.0)
        self.phase = DONE
        self.terminations = dict.fromkeys(self.agents, True)

    def _info(self, phase: str) -> dict[str, Any]:
        last = self.attempts[-1]
        return {
            "phase": phase,
            "attempt": len(self.attempts),
            "correct": bool(last["correct"]),
            "first_attempt_correct": bool(self.attempts[0]["correct"]),
            "flip": last["flip"] if phase == "sample" else None,
            "hint": last["hint"],
            "decision": last["decision"] if phase == "decide" or last["forced"] else None,
            "forced_stop": bool(last["forced"]),
            "split": self.problem.split if self.problem is not None else None,
        }

    # ------------------------------------------------------------------ records
    def episode_record(self) -> dict[str, Any]:
        """The episode as plain JSON data (what the result store keeps).

        Per attempt: the choice, its answer, correctness, the hint, the decision (forced
        stops say so) and the flip from the previous attempt; plus the problem, the
        split and the episode's totals the summary aggregates.
        """
        problem = self.problem
        if problem is None:
            return {}
        attempts = [dict(a) for a in self.attempts]
        final = attempts[-1] if attempts else None
        stopped = bool(final is not None and final["decision"] == "STOP")
        flips = [a["flip"] for a in attempts]
        return {
            "split": problem.split,
            "problem": {
                "op": problem.op,
                "left": problem.left,
                "right": problem.right,
                "answer": problem.answer,
                "text": problem.text,
            },
            "candidates": list(problem.candidates),
            "correct_index": problem.correct_index,
            "attempts": attempts,
            "stopped": stopped,
            "final_correct": bool(stopped and final is not None and final["correct"]),
            "first_attempt_correct": bool(attempts and attempts[0]["correct"]),
            "flips": {
                "wrong_to_right": flips.count("wrong->right"),
                "right_to_wrong": flips.count("right->wrong"),
            },
            "total_reward": self.total_reward,
            "k_max": self.config.k_max,
            "rho": self.config.rho,
        }

    def render(self) -> str | None:
        if self.render_mode is None:
            return None
        text = self._render_text()
        if self.render_mode == "human":
            print(text)
            return None
        return text

    def _render_text(self) -> str:
        if self.problem is None:
            return "decide_sample_v0: not reset"
        lines = [f"{self.problem.text} = ?  candidates {list(self.problem.candidates)}"]
        for k, a in enumerate(self.attempts, 1):
            mark = "correct" if a["correct"] else "wrong"
            hint = "" if a["hint"] is None else f" hint={a['hint']}"
            lines.append(f"  attempt {k}: {a['answer']} ({mark}){hint} -> {a['decision']}")
        return "\n".join(lines)

    def close(self) -> None:
        return None


def env(**kwargs: Any) -> AECEnv:
    """:class:`raw_env` in PettingZoo's order-enforcing and bounds-asserting wrappers."""
    environment: AECEnv = raw_env(**kwargs)
    environment = wrappers.AssertOutOfBoundsWrapper(environment)
    environment = wrappers.OrderEnforcingWrapper(environment)
    return environment
