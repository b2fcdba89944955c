"""MAGIC co-evolution recipe (arena/train): config validation, a short run, rewards moving."""

from __future__ import annotations

import csv
import json
from pathlib import Path

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


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


SHORT = dict(
    steps=2,
    switch_every=1,
    sft_steps=2,
    num_seeds=4,
    eval_seeds=2,
    group_size=2,
    seeds_per_step=1,
    defender_max_new_tokens=16,
)


def test_short_run_writes_loadable_checkpoints_logs_and_resumes(tmp_path: Path) -> None:
    from arena.train.magic import train_magic

    out = tmp_path / "m"
    seen: list[tuple[int, int, str]] = []
    manifest = train_magic(MagicConfig(out=str(out), **SHORT), lambda *a: seen.append(a))
    assert manifest["status"] == "completed"
    kinds = [(p["kind"], p["role"]) for p in manifest["phases"]]
    assert kinds == [("sft", "attacker"), ("grpo", "defender"), ("grpo", "attacker")]
    assert [e["phase"] for e in manifest["evaluations"]] == [0, 1, 2, 3]
    assert seen and seen[-1][:2] == (2, 2)
    for role in ("attacker", "defender"):
        for index in (1, 2, 3):
            folder = out / role / f"phase-{index}"
            assert (folder / "model.safetensors").is_file()
            assert (folder / "tokenizer.json").is_file()
    rows = _rows(out / "log.csv")
    grpo = [r for r in rows if r["role"] in ("attacker", "defender")]
    assert [(r["step"], r["role"]) for r in grpo] == [("1", "defender"), ("2", "attacker")]
    for row in grpo:
        for name in ("r_attacker", "r_defender", "r_harm", "format_rate", "strategy_mix"):
            assert row[name] != ""
    assert json.loads((out / "run.json").read_text())["status"] == "completed"

    # An `hf:` agent (and thus a tournament) loads a phase checkpoint.
    from agents.backends.base import SamplingParams
    from agents.backends.hf import HFGenerator

    generator = HFGenerator(str(out / "attacker" / "phase-3"))
    texts = generator.generate(
        [[{"role": "user", "content": "hi"}]], SamplingParams(max_new_tokens=4, temperature=0.0)
    )
    assert len(texts) == 1

    # Killed during phase 3: the manifest still says phase 2; the same call resumes there.
    record = json.loads((out / "run.json").read_text())
    record["phases"] = record["phases"][:2]
    record["evaluations"] = record["evaluations"][:3]
    record["status"] = "running"
    (out / "run.json").write_text(json.dumps(record))
    resumed = train_magic(MagicConfig(out=str(out), **SHORT))
    assert resumed["status"] == "completed"
    assert [p["index"] for p in resumed["phases"]] == [1, 2, 3]
    grpo = [r for r in _rows(out / "log.csv") if r["role"] in ("attacker", "defender")]
    assert [r["step"] for r in grpo] == ["1", "2"]  # no duplicated rows

    # Other settings on the same folder: one clear error, nothing overwritten.
    with pytest.raises(ArenaError, match="another run"):
        train_magic(MagicConfig(out=str(out), **{**SHORT, "steps": 3}))


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
