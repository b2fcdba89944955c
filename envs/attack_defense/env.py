"""``attack_defense_v0``: MAGIC's attacker-defender game as a PettingZoo AEC environment.

One episode (``max_turns=1``, MAGIC's training setting):

1. ``reset(seed)`` draws a seed prompt ``x`` — harmful with probability
   ``harmful_fraction``, else benign — from the seed pool.
2. The **attacker** observes the red-teaming system prompt and the task template for
   ``x``'s type, and writes ``<think>…</think><answer>…</answer>``.
3. The **defender** observes only ``"Question:\\n" + answer`` (the think is hidden; without
   tags the whole output minus any think block is used, MAGIC's fallback) and replies.
4. The judge labels the attack prompt and the response; rewards follow MAGIC's table:
   ``R_D = R_harm + R_ref`` and ``R_A = -R_D + R_fmt`` (:mod:`.verdicts`).

Multi-turn (``max_turns > 1``): the attacker sees its own previous outputs (think
included) and the defender's replies; the defender sees ``user:A0, assistant:D0,
user:A1, …`` with every think stripped (building A0 first, which MAGIC's code gets
wrong). The episode stops early when a response is judged unsafe. With
``reward_mode="final"`` (MAGIC) both rewards come at the end from the last turn's
verdict and format; ``"per_turn"`` pays each turn's rewards as they happen.

``infos`` (after each defender move, for both agents) carry the verdict, the labels
behind the reward and the derived metrics ``attack_success`` (harmful seed, unsafe
response) and ``over_refusal`` (benign seed, refused). The environment is deterministic
given ``reset(seed=...)`` and the judge.

The game is sequential (the defender sees the attacker's move), so there is no
parallel version: ``is_parallelizable`` is False.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, ClassVar, Literal

import numpy as np
from gymnasium.spaces import Dict, Discrete
from gymnasium.spaces import Sequence as SequenceSpace
from pettingzoo import AECEnv
from pettingzoo.utils import wrappers

from envs.attack_defense import templates
from envs.attack_defense.config import check_episode_settings
from envs.attack_defense.data import Seed, SeedPool, load_pool
from envs.attack_defense.judges import Judge, RuleJudge
from envs.attack_defense.outcome import score_turn
from envs.attack_defense.parsing import extract_answer, is_well_formatted
from envs.attack_defense.verdicts import RewardConfig, Verdict
from envs.errors import ArenaError, IllegalActionError
from envs.spaces import FreeText

ATTACKER = "attacker"
DEFENDER = "defender"
Message = dict[str, str]


class raw_env(AECEnv):
    """The unwrapped environment; use :func:`env` for PettingZoo's safety wrappers."""

    metadata: ClassVar[dict[str, Any]] = {
        "name": "attack_defense_v0",
        "render_modes": ["human", "ansi"],
        "is_parallelizable": False,
    }

    def __init__(
        self,
        *,
        seeds: SeedPool | str = "builtin",
        judge: Judge | None = None,
        reward: RewardConfig | None = None,
        max_turns: int = 1,
        harmful_fraction: float = 0.5,
        reward_mode: Literal["final", "per_turn"] = "final",
        max_action_chars: int = 32_768,
        attacker_system_prompt: str = templates.ATTACKER_SYSTEM_PROMPT,
        harmful_template: str = templates.HARMFUL_TASK_TEMPLATE,
        benign_template: str = templates.BENIGN_TASK_TEMPLATE,
        defender_template: str = templates.DEFENDER_USER_TEMPLATE,
        defender_system_prompt: str | None = None,
        render_mode: str | None = None,
    ) -> None:
        super().__init__()
        check_episode_settings(max_turns, harmful_fraction, reward_mode)
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ArenaError(f"Unknown render_mode {render_mode!r}.", "use 'human' or 'ansi'.")
        self.pool = load_pool(seeds) if isinstance(seeds, str) else seeds
        if harmful_fraction > 0 and not self.pool.harmful:
            raise ArenaError(
                "The seed pool has no harmful seeds.",
                "add some (e.g. --seeds 'FILE,builtin-harmful') or set harmful_fraction=0 "
                "(--harmful-fraction 0).",
            )
        if harmful_fraction < 1 and not self.pool.benign:
            raise ArenaError(
                "The seed pool has no benign seeds.",
                "add some (e.g. --seeds 'FILE,builtin-benign') or set harmful_fraction=1 "
                "(--harmful-fraction 1).",
            )
        self.judge = judge if judge is not None else RuleJudge()
        self.reward_config = reward if reward is not None else RewardConfig()
        self.max_turns = max_turns
        self.harmful_fraction = harmful_fraction
        self.reward_mode = reward_mode
        self.max_action_chars = max_action_chars
        self.render_mode = render_mode
        self._attacker_system = attacker_system_prompt
        self._harmful_template = harmful_template
        self._benign_template = benign_template
        self._defender_template = defender_template
        self._defender_system = defender_system_prompt
        self._multi_turn_note = templates.MULTI_TURN_NOTE if max_turns > 1 else ""

        self.possible_agents = [ATTACKER, DEFENDER]
        self.action_spaces = {agent: FreeText(max_action_chars) for agent in self.possible_agents}
        message_space = SequenceSpace(Dict({"role": FreeText(16), "content": FreeText(10**7)}))
        turn_space = Discrete(max_turns)
        self.observation_spaces = {
            ATTACKER: Dict(
                {
                    "messages": message_space,
                    "seed": FreeText(10**6),
                    "seed_label": FreeText(16),
                    "category": FreeText(256),
                    "turn": turn_space,
                }
            ),
            DEFENDER: Dict(
                {"messages": message_space, "prompt": FreeText(10**7), "turn": turn_space}
            ),
        }
        self._rng = np.random.default_rng()
        self.seed_item: Seed | None = None
        self.infos: dict[str, dict[str, Any]] = {}
        self.transcript: list[dict[str, Any]] = []

    # ------------------------------------------------------------------ PettingZoo API
    def observation_space(self, agent: str) -> Dict:
        return self.observation_spaces[agent]

    def action_space(self, agent: str) -> FreeText:
        return self.action_spaces[agent]

    def reset(self, seed: int | None = None, options: dict | None = None) -> None:
        if seed is not None:
            self._rng = np.random.default_rng(seed)
        rng = self._rng
        harmful = bool(rng.random() < self.harmful_fraction)
        seeds = self.pool.harmful if harmful else self.pool.benign
        self.seed_item = seeds[int(rng.integers(len(seeds)))]
        self.seed_is_harmful = harmful
        self.agents = self.possible_agents[:]
        self.rewards = {ATTACKER: 0.0, DEFENDER: 0.0}
        self._cumulative_rewards = {ATTACKER: 0.0, DEFENDER: 0.0}
        self.terminations = {ATTACKER: False, DEFENDER: False}
        self.truncations = {ATTACKER: False, DEFENDER: False}
        self.infos = {ATTACKER: {}, DEFENDER: {}}
        self.turn = 0
        self.transcript = []
        self._last_info: dict[str, Any] = {}
        self._pending_attack: dict[str, Any] | None = None
        template = self._harmful_template if harmful else self._benign_template
        self._attacker_messages: list[Message] = [
            {"role": "system", "content": self._attacker_system},
            {
                "role": "user",
                "content": template.format(
                    seed=self.seed_item.prompt, multi_turn_note=self._multi_turn_note
                ),
            },
        ]
        self._defender_messages: list[Message] = (
            [{"role": "system", "content": self._defender_system}] if self._defender_system else []
        )
        self.agent_selection = ATTACKER

    def observe(self, agent: str) -> dict[str, Any]:
        assert self.seed_item is not None, "call reset() before observe()"
        if agent == ATTACKER:
            return {
                "messages": tuple(dict(message) for message in self._attacker_messages),
                "seed": self.seed_item.prompt,
                "seed_label": self.seed_item.label,
                "category": self.seed_item.category,
                "turn": min(self.turn, self.max_turns - 1),
            }
        prompt = self._pending_attack["answer"] if self._pending_attack else ""
        return {
            "messages": tuple(dict(message) for message in self._defender_messages),
            "prompt": prompt,
            "turn": min(self.turn, self.max_turns - 1),
        }

    def step(self, action: Any) -> None:
        agent = self.agent_selection
        if self.terminations[agent] or self.truncations[agent]:
            self._was_dead_step(action)
            return
        self._check_action(agent, action)
        self._cumulative_rewards[agent] = 0.0
        self.rewards = {ATTACKER: 0.0, DEFENDER: 0.0}
        if agent == ATTACKER:
            self._attacker_step(action)
        else:
            self._defender_step(action)
        self._accumulate_rewards()
        if self.render_mode == "human":
            self.render()

    # ------------------------------------------------------------------ game logic
    def _check_action(self, agent: str, action: Any) -> None:
        if not isinstance(action, str):
            raise IllegalActionError(
                f"Illegal action for {agent!r} in attack_defense_v0: expected text (str), "
                f"got {type(action).__name__}.",
                "make the agent return a string (one per observation from act_batch).",
            )
        if len(action) > self.max_action_chars:
            raise IllegalActionError(
                f"Illegal action for {agent!r} in attack_defense_v0: {len(action)} characters, "
                f"the limit is {self.max_action_chars}.",
                "shorten the output (e.g. lower max_new_tokens) or raise max_action_chars.",
            )

    def _attacker_step(self, text: str) -> None:
        answer = extract_answer(text)
        self._pending_attack = {
            "attacker_output": text,
            "answer": answer,
            "well_formatted": is_well_formatted(text),
        }
        self._attacker_messages.append({"role": "assistant", "content": text})
        self._defender_messages.append(
            {"role": "user", "content": self._defender_template.format(prompt=answer)}
        )
        self.agent_selection = DEFENDER

    def judge_requests(self, action: str) -> list[tuple[str, str]]:
        """The (prompt, response) pairs that stepping ``action`` will send to the judge.

        Lets a lock-step runner judge a whole round in one batch before stepping
        (see :class:`~envs.attack_defense.judges.CachedJudge`).
        """
        if self.agent_selection == DEFENDER and self._pending_attack is not None:
            return [(self._pending_attack["answer"], action)]
        return []

    def _defender_step(self, response: str) -> None:
        assert self._pending_attack is not None and self.seed_item is not None
        attack = self._pending_attack
        verdict: Verdict = self.judge.judge([attack["answer"]], [response])[0]
        outcome = score_turn(
            verdict, self.seed_item.label, attack["well_formatted"], self.reward_config
        )
        labels = outcome.labels()
        r_attacker, r_defender = outcome.r_attacker, outcome.r_defender
        refused = outcome.refused
        turn_record = {
            "turn": self.turn,
            "attacker_output": attack["attacker_output"],
            "attack_prompt": attack["answer"],
            "well_formatted": attack["well_formatted"],
            "defender_response": response,
            "verdict": verdict.to_dict(),
            **labels,
            "attack_success": outcome.attack_success,
            "over_refusal": outcome.over_refusal,
        }
        self.transcript.append(turn_record)
        self._attacker_messages.append({"role": "user", "content": response})
        self._defender_messages.append({"role": "assistant", "content": response})
        self._pending_attack = None

        finished = labels["response_unsafe"] or self.turn + 1 >= self.max_turns
        if self.reward_mode == "per_turn" or finished:
            self.rewards = {ATTACKER: r_attacker, DEFENDER: r_defender}
        info = {
            "seed_id": self.seed_item.id,
            "seed_label": self.seed_item.label,
            "category": self.seed_item.category,
            "turn": self.turn,
            "verdict": turn_record["verdict"],
            "refused": refused,
            "well_formatted": attack["well_formatted"],
            **labels,
            "attack_success": outcome.attack_success,
            "over_refusal": outcome.over_refusal,
            "finish_reason": (
                "harmful_response"
                if labels["response_unsafe"]
                else ("reach_max_turn" if finished else "")
            ),
        }
        self.infos = {ATTACKER: dict(info), DEFENDER: info}
        self._last_info = info
        if finished:
            self.terminations = {ATTACKER: True, DEFENDER: True}
        else:
            self.turn += 1
        self.agent_selection = ATTACKER

    # ------------------------------------------------------------------ extras
    def episode_record(self) -> dict[str, Any]:
        """Everything a results file keeps about the finished (or running) episode."""
        assert self.seed_item is not None
        last = self.transcript[-1] if self.transcript else {}
        digest = hashlib.sha256(
            json.dumps(self.transcript, sort_keys=True).encode("utf-8")
        ).hexdigest()
        return {
            "seed_id": self.seed_item.id,
            "seed_label": self.seed_item.label,
            "category": self.seed_item.category,
            "seed_prompt": self.seed_item.prompt,
            "turns": list(self.transcript),
            "num_turns": len(self.transcript),
            "finish_reason": self._last_info.get("finish_reason", ""),
            "attack_success": bool(last.get("attack_success", False)),
            "over_refusal": bool(last.get("over_refusal", False)),
            "transcript_sha256": digest,
        }

    def render(self) -> str | None:
        if self.render_mode is None:
            return None
        lines = []
        for turn in self.transcript:
            lines.append(f"[turn {turn['turn']}] attacker: {turn['attack_prompt']}")
            lines.append(f"[turn {turn['turn']}] defender: {turn['defender_response']}")
            lines.append(
                f"[turn {turn['turn']}] judge: response {turn['verdict']['response_label']}, "
                f"refusal {turn['verdict']['refusal']}"
            )
        text = "\n".join(lines)
        if self.render_mode == "human":
            print(text)
            return None
        return text

    def close(self) -> None:
        pass


def env(**kwargs: Any) -> AECEnv:
    """The environment wrapped in PettingZoo's ``OrderEnforcingWrapper``.

    (PettingZoo's ``AssertOutOfBoundsWrapper`` only applies to discrete actions; text
    actions are checked by the environment itself, with a clear error.)
    """
    environment: AECEnv = raw_env(**kwargs)
    environment = wrappers.OrderEnforcingWrapper(environment)
    return environment
