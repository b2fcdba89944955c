"""The data and reward function of each GRPO phase of MAGIC (one per learner role).

* :func:`defender_phase_data`: the frozen attacker rewrites every training seed greedily
  once (MAGIC forces the frozen attacker to decode greedily), so the phase's dataset holds
  ``"Question:\\n" + answer`` prompts and TRL samples G defender replies to each; the
  reward function judges them and returns ``R_D``.
* :func:`attacker_phase_data`: the dataset holds the attacker's chats; TRL samples G
  rewrites per seed, and the reward function has the frozen defender sample one reply to
  each (all in one batched ``generate`` call, seeded by the global step so a resumed step
  draws the same replies), judges them and returns ``R_A`` (with ``R_fmt``).

Both reward functions leave the step's summary in ``trainer._pending`` for the log row.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from arena.train.magic_data import attacker_chat, defender_chat
from arena.train.magic_log import completion_texts, score, summarize
from arena.train.magic_models import generate
from envs.attack_defense.parsing import extract_answer, is_well_formatted

if TYPE_CHECKING:
    from arena.train.magic import MagicTrainer


def defender_phase_data(
    trainer: MagicTrainer,
) -> tuple[Callable[..., list[float]], list[dict[str, Any]]]:
    """One greedy rewrite per seed by the frozen attacker, shared by the G samples."""
    config = trainer.config
    outputs = generate(
        trainer.attacker,
        [attacker_chat(s, trainer.compact) for s in trainer.train_seeds],
        max_new_tokens=config.max_new_tokens,
        sample=False,
    )
    rows = [
        {
            "prompt": defender_chat(extract_answer(text)),
            "seed_label": seed.label,
            "attack_answer": extract_answer(text),
            "attack_output": text,
            "format_ok": is_well_formatted(text),
        }
        for seed, text in zip(trainer.train_seeds, outputs, strict=True)
    ]

    def defender_reward(
        completions: list[Any],
        seed_label: list[str],
        attack_answer: list[str],
        attack_output: list[str],
        format_ok: list[bool],
        **_: Any,
    ) -> list[float]:
        outcomes = score(
            trainer.judge,
            trainer.reward,
            attack_answer,
            completion_texts(completions),
            seed_label,
            format_ok,
        )
        trainer._pending = summarize(outcomes, attack_output)
        return [o.r_defender for o in outcomes]

    return defender_reward, rows


def attacker_phase_data(
    trainer: MagicTrainer,
) -> tuple[Callable[..., list[float]], list[dict[str, Any]]]:
    """G sampled rewrites per seed, each answered by one sampled frozen-defender reply."""
    config = trainer.config
    rows = [
        {"prompt": attacker_chat(s, trainer.compact), "seed_label": s.label}
        for s in trainer.train_seeds
    ]
    start_step = trainer._steps_done()

    def attacker_reward(
        completions: list[Any], seed_label: list[str], trainer_state: Any = None, **_: Any
    ) -> list[float]:
        outputs = completion_texts(completions)
        answers = [extract_answer(t) for t in outputs]
        # The step's own seed: a resumed step samples the same replies.
        step = start_step + int(getattr(trainer_state, "global_step", 0))
        responses = generate(
            trainer.defender,
            [defender_chat(a) for a in answers],
            max_new_tokens=config.defender_max_new_tokens,
            sample=True,
            temperature=config.temperature,
            seed=config.seed * 1_000_003 + step * 1009,
        )
        outcomes = score(
            trainer.judge,
            trainer.reward,
            answers,
            responses,
            seed_label,
            [is_well_formatted(t) for t in outputs],
        )
        trainer._pending = summarize(outcomes, outputs)
        return [o.r_attacker for o in outcomes]

    return attacker_reward, rows
