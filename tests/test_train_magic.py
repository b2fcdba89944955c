"""MAGIC co-evolution recipe (arena/train): config validation, a short run, rewards moving."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from arena.train.config import MagicConfig
from envs.errors import ArenaError

pytest.importorskip("trl")


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"steps": -1}, "steps"),
        ({"switch_every": 0}, "switch_every"),
        ({"switch_rule": "sometimes"}, "switch_rule"),
        ({"group_size": 1}, "group_size"),
        ({"beta": -0.1}, "beta"),
        ({"learning_rate": 0.0}, "learning_rate"),
        ({"learning_rate": float("nan")}, "learning_rate"),
        ({"max_new_tokens": 0}, "max_new_tokens"),
        ({"sft_steps": -3}, "sft_steps"),
        ({"switch_high": 1.5}, "switch_high"),
        ({"switch_low": 0.95, "switch_high": 0.9}, "switch_low"),
        ({"harmful_fraction": 1.0}, "harmful_fraction"),
        ({"num_seeds": 1}, "num_seeds"),
        ({"attacker": "scripted:role-play"}, "attacker"),
        ({"start_role": "judge"}, "start_role"),
        ({"prompt_style": "long"}, "prompt_style"),
        ({"r_harm": 0.0}, "r_harm"),
        ({"save_every": -1}, "save_every"),
        ({"steps": 0, "sft_steps": 0}, "sft_steps"),
    ],
)
def test_config_rejects_impossible_values(overrides: dict, field: str) -> None:
    with pytest.raises(ArenaError) as info:
        MagicConfig(**overrides)
    assert field in info.value.message
    assert info.value.fix


def test_config_defaults_are_the_papers_where_it_matters() -> None:
    config = MagicConfig()
    assert (config.switch_every, config.beta, config.start_role) == (15, 0.0, "defender")
    assert (config.r_harm, config.r_ref, config.r_fmt) == (1.0, 0.5, 0.5)
    assert config.compact_prompts  # both hf:tiny
    assert not MagicConfig(prompt_style="paper").compact_prompts


def test_tensorboard_is_optional_and_checked_up_front(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "tensorboard" else real(name, *a),
    )
    with pytest.raises(ArenaError, match="tensorboard"):
        MagicConfig(tensorboard=True)
    assert not MagicConfig().tensorboard  # CSV only by default: no hard dependency


def test_step_log_sends_numeric_fields_to_a_scalar_writer(tmp_path: Path) -> None:
    from arena.train.magic_log import StepLog

    class Writer:
        def __init__(self) -> None:
            self.scalars: list[tuple[str, float, int]] = []

        def add_scalar(self, tag: str, value: float, step: int) -> None:
            self.scalars.append((tag, value, step))

        def flush(self) -> None: ...

        def close(self) -> None: ...

    writer = Writer()
    log = StepLog(tmp_path / "log.csv", keep=lambda row: True, scalars=writer)
    log.write({"step": 3, "phase": 2, "role": "defender", "r_defender": 0.5, "strategy_mix": "x:1"})
    log.close()
    assert writer.scalars == [("defender/r_defender", 0.5, 3)]
    assert _rows(tmp_path / "log.csv")[0]["r_defender"] == "0.5000"


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


class SimulatedKill(Exception):
    """Raised from a Trainer callback: the run dies there, as under ``kill -9``."""


def _killer(event: str, at: int) -> Any:
    """A callback raising SimulatedKill at the ``at``-th ``event`` of the whole run."""
    from transformers import TrainerCallback

    class Killer(TrainerCallback):
        seen = 0

        def _tick(self) -> None:
            Killer.seen += 1
            if Killer.seen == at:
                raise SimulatedKill(f"{event} #{at}")

    setattr(Killer, event, lambda self, *a, **k: self._tick())
    return Killer()


#: Three one-step GRPO phases (defender, attacker, defender) with short completions; no
#: SFT (its test is the slow one below, which needs longer targets).
SHORT = dict(
    steps=3,
    switch_every=1,
    sft_steps=0,
    num_seeds=4,
    eval_seeds=2,
    group_size=2,
    seeds_per_step=1,
    max_new_tokens=24,
    defender_max_new_tokens=8,
    save_every=0,
)
#: The same without evaluations: GRPO steps only.
BARE = dict(SHORT, eval_seeds=0)


def test_short_run_writes_loadable_checkpoints_logs_and_resumes(tmp_path: Path) -> None:
    from arena.train.magic import optimizer_continuity, train_magic

    out = tmp_path / "m"
    seen: list[tuple[int, int, str]] = []
    # Killed at the start of the 4th phase (2nd defender phase), before its first step.
    with pytest.raises(SimulatedKill):
        train_magic(
            MagicConfig(out=str(out), **SHORT),
            lambda *a: seen.append(a),
            callbacks=[_killer("on_step_begin", 3)],
        )
    killed = json.loads((out / "run.json").read_text())
    assert killed["status"] == "running" and len(killed["phases"]) == 3
    variant = tmp_path / "variant"
    shutil.copytree(out, variant)
    # The same call resumes from the last completed phase.
    manifest = train_magic(MagicConfig(out=str(out), **SHORT))
    assert manifest["status"] == "completed"
    kinds = [(p["kind"], p["role"]) for p in manifest["phases"]]
    assert kinds == [
        ("init", None),
        ("grpo", "defender"),
        ("grpo", "attacker"),
        ("grpo", "defender"),
    ]
    assert [e["phase"] for e in manifest["evaluations"]] == [0, 1, 2, 3, 4]
    assert seen and seen[-1][:2] == (2, 3)
    for role in ("attacker", "defender"):
        for index in (1, 2, 3, 4):
            folder = out / role / f"phase-{index}"
            assert (folder / "model.safetensors").is_file()
            assert (folder / "tokenizer.json").is_file()
    rows = _rows(out / "log.csv")
    grpo = [r for r in rows if r["role"] in ("attacker", "defender")]
    assert [(r["step"], r["role"]) for r in grpo] == [
        ("1", "defender"),
        ("2", "attacker"),
        ("3", "defender"),
    ]
    for row in grpo:
        for name in ("r_attacker", "r_defender", "r_harm", "format_rate", "strategy_mix"):
            assert row[name] != ""
    assert json.loads((out / "run.json").read_text())["status"] == "completed"

    # Each role's optimizer carries over: the defender's 2nd phase (run after the kill,
    # so its state came from OUT/defender/optimizer-phase-2.pt) starts exactly where its
    # 1st ended; the attacker's first GRPO phase starts fresh.
    phases = manifest["phases"]
    assert phases[3]["optimizer_start"] == phases[1]["optimizer_end"]
    assert phases[1]["optimizer_end"]["steps"] == 1
    assert phases[3]["optimizer_end"]["steps"] == 2
    assert phases[2]["optimizer_start"]["steps"] == 0
    assert optimizer_continuity(manifest) == [] and manifest["optimizer_handover"] == "exact"
    # Only each role's latest optimizer state is kept on disk.
    assert sorted(p.name for p in out.glob("*/optimizer-phase-*.pt")) == [
        "optimizer-phase-3.pt",
        "optimizer-phase-4.pt",
    ]
    assert not (out / "_trainer" / "phase-4").exists()
    assert not (out / "_trainer").exists()  # a completed run leaves no empty _trainer/

    # An `hf:` agent (and thus a tournament) loads a phase checkpoint.
    from agents.backends.base import SamplingParams
    from agents.backends.hf import HFGenerator

    generator = HFGenerator(str(out / "attacker" / "phase-3"))
    texts = generator.generate(
        [[{"role": "user", "content": "hi"}]], SamplingParams(max_new_tokens=4, temperature=0.0)
    )
    assert len(texts) == 1

    # Other settings on the same folder: one clear error, nothing overwritten.
    with pytest.raises(ArenaError, match="another run"):
        train_magic(MagicConfig(out=str(out), **{**SHORT, "steps": 4}))

    # The wrong variant, resumed from the same kill: a trainer that lets each phase build
    # a new AdamW. The hand-over check catches it.
    from arena.train.magic import MagicTrainer

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(MagicTrainer, "_restore_optimizer", lambda self, trainer, role: None)
        reset = train_magic(MagicConfig(out=str(variant), **SHORT))
    problems = optimizer_continuity(reset)
    assert len(problems) == 1 and "phase 4 (defender)" in problems[0]
    assert reset["phases"][3]["optimizer_start"]["steps"] == 0
    assert reset["optimizer_handover"] == problems


def test_a_run_killed_mid_phase_resumes_from_its_last_saved_step(tmp_path: Path) -> None:
    from arena.train.magic import train_magic

    out = tmp_path / "m"
    config = MagicConfig(out=str(out), **{**BARE, "steps": 2, "switch_every": 2, "save_every": 1})
    # Killed while logging step 2, i.e. after step 1's checkpoint and before step 2's.
    with pytest.raises(SimulatedKill):
        train_magic(config, callbacks=[_killer("on_log", 2)])
    assert (out / "_trainer" / "phase-2" / "checkpoint-1").is_dir()
    killed_row = _rows(out / "log.csv")[-1]
    assert killed_row["step"] == "2"

    manifest = train_magic(config)
    assert manifest["status"] == "completed"
    (phase,) = [p for p in manifest["phases"] if p["kind"] == "grpo"]
    assert (phase["steps"], phase["resumed_from_step"]) == (2, 1)
    # The optimizer came back from the checkpoint (1 Adam step), not a fresh one ...
    assert phase["optimizer_start"]["steps"] == 1
    assert phase["optimizer_end"]["steps"] == 2
    # ... and step 2 was logged once, after the resume, with the same sampled rewards
    # (the checkpoint restored the RNG state, so the replayed step drew the same texts).
    rows = _rows(out / "log.csv")
    assert [r["step"] for r in rows] == ["1", "2"]
    for name in ("r_defender", "r_harm", "r_ref"):
        assert rows[1][name] == killed_row[name]
    assert not (out / "_trainer" / "phase-2").exists()


def test_bad_model_path_is_one_clear_error(tmp_path: Path) -> None:
    from arena.train.magic import train_magic

    with pytest.raises(ArenaError, match="does not exist"):
        train_magic(MagicConfig(out=str(tmp_path / "x"), attacker="hf:/no/such/model", **SHORT))


@pytest.mark.slow
def test_attacker_rewards_rise_over_the_untrained_start(tmp_path: Path) -> None:
    """Phase 1 moves the attacker's reward on fixed held-out seeds (greedy, seeded: exact)."""
    from arena.train.magic import train_magic

    config = MagicConfig(
        out=str(tmp_path / "m"), steps=0, sft_steps=20, num_seeds=16, eval_seeds=8, seed=0
    )
    manifest = train_magic(config)
    start, trained = manifest["evaluations"][0], manifest["evaluations"][-1]
    assert start["phase"] == 0 and trained["phase"] == 1
    assert trained["format_rate"] > start["format_rate"]
    assert trained["r_attacker"] > start["r_attacker"]


@pytest.mark.slow
def test_defender_grpo_steps_raise_its_reward_over_the_untrained_start(tmp_path: Path) -> None:
    """Four GRPO steps (no SFT) move the defender's reward on fixed prompts and seeds.

    The untrained tiny defender sometimes copies the harm marker of a harmful request
    into its reply, which the rule judge calls unsafe (R_harm = -1): a reward component
    that varies inside a group, so GRPO has something to push on. A high learning rate
    makes the effect large (measured: unsafe replies to harmful requests 8/64 -> 2/64,
    mean R_D 0.80 -> 0.94), and the test asks for about half of that rise.
    """
    from arena.judging import make_judge
    from arena.train.magic import (
        attacker_chat,
        defender_chat,
        draw_seeds,
        generate,
        load_policy,
        score,
        summarize,
        train_magic,
    )
    from envs.attack_defense.parsing import extract_answer
    from envs.attack_defense.verdicts import RewardConfig

    out = tmp_path / "m"
    config = MagicConfig(
        out=str(out),
        **{
            **BARE,
            "steps": 4,
            "switch_every": 4,
            "num_seeds": 8,
            "group_size": 4,
            "seeds_per_step": 4,
            "learning_rate": 2e-2,
            "defender_max_new_tokens": 32,
        },
    )
    manifest = train_magic(config)
    assert [(p["role"], p["steps"]) for p in manifest["phases"]] == [(None, 0), ("defender", 4)]

    # The frozen attacker's greedy rewrites (what the defender trained on), 16 sampled
    # replies to each, from the untrained (phase-1) and the trained (phase-2) defender.
    seeds, _ = draw_seeds(config)
    attacker = load_policy("attacker", out / "attacker" / "phase-1", "cpu")
    outputs = generate(
        attacker, [attacker_chat(s, compact=True) for s in seeds], max_new_tokens=24, sample=False
    )
    answers = [extract_answer(text) for text in outputs] * 16
    labels = [s.label for s in seeds] * 16
    judge, reward = make_judge("rule"), RewardConfig()
    means = []
    for phase in (1, 2):
        defender = load_policy("defender", out / "defender" / f"phase-{phase}", "cpu")
        replies = generate(
            defender,
            [defender_chat(a) for a in answers],
            max_new_tokens=32,
            sample=True,
            seed=7,
            batch_size=len(answers),
        )
        means.append(
            summarize(score(judge, reward, answers, replies, labels, [True] * len(answers)))
        )
    start, trained = means
    assert trained["r_defender"] >= start["r_defender"] + 0.08
    assert trained["attack_success"] < start["attack_success"]
