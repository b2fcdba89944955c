"""GRPO generation through vLLM colocate mode on the CPU build, with our weight sync.

A bare TRL ``GRPOTrainer`` on the tiny model, ``use_vllm=True, vllm_mode="colocate"``,
runs a few steps at a learning rate high enough to change the greedy outputs. What is
pinned:

* TRL's own sync is replaced (:func:`arena.train.vllm_colocate.install_weight_sync`) and
  is called during training;
* after the last sync vLLM's greedy completions equal transformers' greedy completions
  of the *updated* policy, and differ from what vLLM produced before training;
* wrong variant: reloading the original checkpoint into the engine (as if the sync had
  not happened) makes the same check fail.

Skipped, with the reason, where vLLM does not import.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from vllm_server import VLLM_ENV, skip_without_vllm

from envs.errors import ArenaError

MAX_TOKENS = 10


# -- when the sync is (not) installed: no vLLM needed --------------------------------------


def _trainer(**generation: Any) -> Any:
    from types import SimpleNamespace

    fields = {"mode": "colocate", "enable_sleep_mode": False, "sync": None, **generation}
    fields["sync_weights"] = fields.pop("sync")
    gen = SimpleNamespace(**fields)
    return SimpleNamespace(use_vllm=True, vllm_generation=gen)


def test_the_sync_is_installed_only_for_colocated_vllm() -> None:
    from types import SimpleNamespace

    from arena.train.vllm_colocate import install_weight_sync

    assert not install_weight_sync(SimpleNamespace(use_vllm=False), always=True)
    assert not install_weight_sync(_trainer(mode="server"), always=True)
    trainer = _trainer(sync="TRL's own")
    assert install_weight_sync(trainer, always=True)
    assert trainer.vllm_generation.sync_weights != "TRL's own"


def test_sleep_mode_is_refused_with_a_fix() -> None:
    from arena.train.vllm_colocate import install_weight_sync

    with pytest.raises(ArenaError, match="sleep mode") as info:
        install_weight_sync(_trainer(enable_sleep_mode=True), always=True)
    assert "vllm_enable_sleep_mode=False" in info.value.fix


def test_colocate_settings_turn_vllm_on_without_sleep_mode() -> None:
    from arena.train.vllm_colocate import colocate_settings

    settings = colocate_settings(max_model_length=512)
    assert settings["use_vllm"] is True and settings["vllm_mode"] == "colocate"
    assert settings["vllm_enable_sleep_mode"] is False
    assert settings["vllm_max_model_length"] == 512


# -- a real colocated engine ----------------------------------------------------------------


def _hf_greedy(model: Any, prompt_ids: list[list[int]], pad: int, eos: int) -> list[list[int]]:
    """Transformers' greedy completion ids, one prompt at a time (no padding effects)."""
    import torch

    rows = []
    model.eval()
    with torch.inference_mode():
        for ids in prompt_ids:
            out = model.generate(
                torch.tensor([ids]),
                attention_mask=torch.ones(1, len(ids), dtype=torch.long),
                max_new_tokens=MAX_TOKENS,
                do_sample=False,
                pad_token_id=pad,
                eos_token_id=eos,
            )
            rows.append(out[0, len(ids) :].tolist())
    return rows


def _engine_ids(llm: Any, prompt_ids: list[list[int]], eos: int) -> list[list[int]]:
    from arena.train.vllm_colocate import engine_greedy_ids

    rows = engine_greedy_ids(llm, prompt_ids, MAX_TOKENS)
    # transformers keeps the EOS token and stops; vLLM does too (stop on EOS, kept).
    return [row[: row.index(eos) + 1] if eos in row else row for row in rows]


@pytest.mark.vllm
@pytest.mark.slow
def test_colocated_vllm_follows_the_trained_weights(tmp_path: Path) -> None:
    skip_without_vllm()
    for name, value in VLLM_ENV.items():
        os.environ.setdefault(name, value)
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, PreTrainedTokenizerFast
    from trl import GRPOConfig, GRPOTrainer

    from agents.tiny import ensure_tiny_model
    from arena.train.vllm_colocate import (
        colocate_settings,
        engine_args,
        install_weight_sync,
        model_runner,
    )

    tiny = ensure_tiny_model()
    tokenizer = PreTrainedTokenizerFast.from_pretrained(tiny, padding_side="left")
    model = AutoModelForCausalLM.from_pretrained(tiny)
    chats = [[{"role": "user", "content": f"question number {i}"}] for i in range(8)]
    dataset = Dataset.from_list([{"prompt": chat} for chat in chats])

    def reward(completions: list[Any], **_: Any) -> list[float]:
        # Any signal that varies within a group moves the policy; length is the simplest.
        return [float(len(c[0]["content"] if isinstance(c, list) else c)) for c in completions]

    args = GRPOConfig(
        output_dir=str(tmp_path / "grpo"),
        max_steps=3,
        per_device_train_batch_size=4,
        num_generations=4,
        max_completion_length=MAX_TOKENS,
        learning_rate=3e-3,
        beta=0.0,
        logging_steps=1,
        save_strategy="no",
        report_to=[],
        disable_tqdm=True,
        bf16=False,
        gradient_checkpointing=False,
        use_cpu=True,
        seed=0,
        **colocate_settings(max_model_length=256),
    )
    with engine_args(enforce_eager=True):  # no compilation: a faster start (not a speed test)
        trainer = GRPOTrainer(
            model=model,
            reward_funcs=reward,
            args=args,
            train_dataset=dataset,
            processing_class=tokenizer,
        )
    try:
        assert install_weight_sync(trainer)
        assert install_weight_sync(trainer)  # idempotent
        generation = trainer.vllm_generation
        synced = generation.sync_weights
        calls = []

        def counting_sync() -> None:
            calls.append(1)
            synced()

        generation.sync_weights = counting_sync
        llm = generation.llm
        texts = [
            tokenizer.apply_chat_template(chat, tokenize=False, add_generation_prompt=True)
            for chat in chats[:4]
        ]
        prompt_ids = [tokenizer(t, add_special_tokens=False).input_ids for t in texts]
        eos = int(tokenizer.eos_token_id)
        pad = int(tokenizer.pad_token_id)
        before = _engine_ids(llm, prompt_ids, eos)

        trainer.train()
        assert len(calls) >= 2  # TRL synced before generating at several steps

        generation.sync_weights()  # the last step updated the policy after its sync
        after = _engine_ids(llm, prompt_ids, eos)
        expected = _hf_greedy(trainer.model, prompt_ids, pad, eos)
        assert after == expected
        assert after != before, "training did not change the greedy outputs; raise the lr"

        # Wrong variant: the engine back on the original checkpoint no longer follows.
        model_runner(llm).reload_weights()
        llm.reset_prefix_cache()
        stale = _engine_ids(llm, prompt_ids, eos)
        assert stale == before
        assert stale != expected
    finally:
        llm_obj = getattr(getattr(trainer, "vllm_generation", None), "llm", None)
        if llm_obj is not None:
            del trainer.vllm_generation.llm


def test_magic_refuses_use_vllm_without_vllm(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    from arena.train.config import MagicConfig

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "vllm" else real(name, *a)
    )
    with pytest.raises(ArenaError, match="vLLM is not installed"):
        MagicConfig(use_vllm=True)
    assert MagicConfig().use_vllm is False  # transformers generation by default


@pytest.mark.vllm
@pytest.mark.slow
def test_magic_co_evolution_runs_through_colocated_vllm(tmp_path: Path) -> None:
    """Two one-step GRPO phases (defender, then attacker) with generation in vLLM: each
    phase's engine gets the weight sync, and the run writes loadable checkpoints."""
    skip_without_vllm()
    for name, value in VLLM_ENV.items():
        os.environ.setdefault(name, value)
    from arena.train.config import MagicConfig
    from arena.train.magic import train_magic

    config = MagicConfig(
        out=str(tmp_path / "m"), steps=2, switch_every=1, sft_steps=0, num_seeds=4,
        eval_seeds=0, group_size=2, seeds_per_step=1, max_new_tokens=16,
        defender_max_new_tokens=8, save_every=0, use_vllm=True,
    )  # fmt: skip
    manifest = train_magic(config)
    grpo = [p for p in manifest["phases"] if p["kind"] == "grpo"]
    assert [p["role"] for p in grpo] == ["defender", "attacker"]
    assert (tmp_path / "m" / "defender" / "phase-1" / "config.json").exists()
    assert manifest["config"]["use_vllm"] is True
