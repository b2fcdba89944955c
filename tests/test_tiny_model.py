"""The offline tiny model: deterministic build, faithful save/load, usable tokenizer."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from transformers import AutoModelForCausalLM, PreTrainedTokenizerFast  # noqa: E402

import agents.tiny as tiny  # noqa: E402
from agents.tiny import (  # noqa: E402
    build_tiny_model,
    default_tiny_path,
    ensure_tiny_model,
)
from agents.tiny.__main__ import main as tiny_main  # noqa: E402
from envs.errors import ArenaError  # noqa: E402

torch.set_num_threads(1)

CHAT = [
    {"role": "system", "content": "You are a careful assistant."},
    {"role": "user", "content": "Question:\nHow do I kill a Python process?"},
    {"role": "assistant", "content": "<think>benign</think>\n<answer>Use kill PID.</answer>"},
    {"role": "user", "content": "Thanks! And on Windows?"},
]


@pytest.fixture(scope="session")
def tiny_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return ensure_tiny_model(tmp_path_factory.mktemp("tiny") / "tiny-qwen2")


@pytest.fixture(scope="session")
def tokenizer(tiny_dir: Path) -> PreTrainedTokenizerFast:
    return PreTrainedTokenizerFast.from_pretrained(tiny_dir)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_directory_holds_a_safetensors_model_of_about_three_million_parameters(
    tiny_dir: Path,
) -> None:
    names = {p.name for p in tiny_dir.iterdir()}
    assert {"config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"} <= names
    assert not any(name.endswith((".bin", ".pt")) for name in names)
    model = AutoModelForCausalLM.from_pretrained(tiny_dir)
    assert model.config.model_type == "qwen2"
    assert model.config.hidden_size == 256 and model.config.num_hidden_layers == 4
    assert 2_000_000 <= model.num_parameters() <= 4_000_000


def test_build_is_deterministic_per_seed(tiny_dir: Path, tmp_path: Path) -> None:
    same = build_tiny_model(tmp_path / "same", seed=0)
    other = build_tiny_model(tmp_path / "other", seed=1)
    assert _sha(same / "model.safetensors") == _sha(tiny_dir / "model.safetensors")
    assert _sha(other / "model.safetensors") != _sha(tiny_dir / "model.safetensors")
    # The tokenizer never depends on the seed: checkpoints of any seed share a vocabulary.
    assert _sha(other / "tokenizer.json") == _sha(tiny_dir / "tokenizer.json")


def test_save_and_reload_give_identical_logits(tiny_dir: Path, tmp_path: Path) -> None:
    model = AutoModelForCausalLM.from_pretrained(tiny_dir).eval()
    model.save_pretrained(tmp_path / "copy")
    again = AutoModelForCausalLM.from_pretrained(tmp_path / "copy").eval()
    ids = torch.tensor([[5, 17, 42, 99, 3, 250, 7]])
    with torch.no_grad():
        first, second = model(ids).logits, again(ids).logits
    assert torch.equal(first, second)
    assert first.std() > 0.1  # a random model, but not a degenerate one


def test_llama_family_builds_and_loads(tmp_path: Path) -> None:
    path = build_tiny_model(tmp_path / "tiny-llama", family="llama", seed=3)
    model = AutoModelForCausalLM.from_pretrained(path)
    assert type(model).__name__ == "LlamaForCausalLM"
    assert 2_000_000 <= model.num_parameters() <= 4_000_000


def test_unknown_family_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ArenaError, match="gpt2"):
        build_tiny_model(tmp_path / "x", family="gpt2")  # type: ignore[arg-type]


def test_chat_template_renders_roles_and_generation_prompt(tokenizer) -> None:
    text = tokenizer.apply_chat_template(CHAT, tokenize=False, add_generation_prompt=True)
    assert text.startswith("<|im_start|>system\nYou are a careful assistant.<|im_end|>\n")
    assert "<|im_start|>assistant\n<think>benign</think>" in text
    assert text.endswith(
        "<|im_start|>user\nThanks! And on Windows?<|im_end|>\n<|im_start|>assistant\n"
    )
    closed = tokenizer.apply_chat_template(CHAT[:3], tokenize=False)
    assert closed.endswith("</answer><|im_end|>\n")
    with pytest.raises(Exception, match="tool"):
        tokenizer.apply_chat_template([{"role": "tool", "content": "x"}], tokenize=False)


def test_chat_template_marks_assistant_tokens_for_trl(tokenizer) -> None:
    out = tokenizer.apply_chat_template(
        CHAT[:3], return_dict=True, return_assistant_tokens_mask=True
    )
    ids, mask = out["input_ids"], out["assistant_masks"]
    marked = tokenizer.decode([i for i, m in zip(ids, mask, strict=True) if m])
    assert marked == "<think>benign</think>\n<answer>Use kill PID.</answer><|im_end|>"


def test_tokenizer_round_trips_text_and_keeps_format_tags(tokenizer) -> None:
    text = "<think>plan: base64 SGVsbG8=</think>\n<answer>Héllo, wörld — 42 ✓</answer>"
    ids = tokenizer(text, add_special_tokens=False).input_ids
    assert tokenizer.decode(ids, skip_special_tokens=True) == text
    for tag in ("<think>", "</think>", "<answer>", "</answer>"):
        assert len(tokenizer(tag, add_special_tokens=False).input_ids) == 1
    # Role markers and EOS are special: they vanish from decoded completions.
    with_specials = tokenizer("<|im_start|>assistant\nhi<|im_end|>", add_special_tokens=False)
    assert tokenizer.decode(with_specials.input_ids, skip_special_tokens=True) == "assistant\nhi"
    assert tokenizer.eos_token == "<|im_end|>"
    assert len({tokenizer.pad_token_id, tokenizer.bos_token_id, tokenizer.eos_token_id}) == 3


def test_reloaded_tokenizer_pads_on_the_left(tokenizer) -> None:
    assert tokenizer.padding_side == "left"
    batch = tokenizer(
        ["short", "a much longer prompt here"], padding=True, add_special_tokens=False
    )
    first = batch["input_ids"][0]
    assert first[0] == tokenizer.pad_token_id and first[-1] != tokenizer.pad_token_id
    assert batch["attention_mask"][0][0] == 0 and batch["attention_mask"][0][-1] == 1


def test_ensure_builds_once_and_leaves_no_temporary_directory(tmp_path: Path) -> None:
    target = tmp_path / "models" / "tiny"
    assert ensure_tiny_model(target) == target
    stamp = (target / "model.safetensors").stat().st_mtime_ns
    assert ensure_tiny_model(target) == target
    assert (target / "model.safetensors").stat().st_mtime_ns == stamp
    assert [p.name for p in target.parent.iterdir()] == ["tiny"]
    ensure_tiny_model(target, seed=5, force=True)
    assert (target / "model.safetensors").stat().st_mtime_ns != stamp


def test_a_killed_build_leaves_nothing_half_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def dies_midway(out_dir: Path, **_: object) -> Path:
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / "config.json").write_text("{}")
        raise KeyboardInterrupt

    monkeypatch.setattr(tiny, "build_tiny_model", dies_midway)
    target = tmp_path / "tiny"
    with pytest.raises(KeyboardInterrupt):
        ensure_tiny_model(target)
    assert list(tmp_path.iterdir()) == []


def test_a_foreign_directory_is_not_mistaken_for_the_model(tmp_path: Path) -> None:
    (tmp_path / "tiny").mkdir()
    with pytest.raises(ArenaError, match=r"tiny.*delete"):
        ensure_tiny_model(tmp_path / "tiny")


def test_default_path_follows_arena_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ARENA_HOME", str(tmp_path / "home"))
    assert default_tiny_path() == tmp_path / "home" / "models" / "tiny-qwen2"
    monkeypatch.delenv("ARENA_HOME")
    assert default_tiny_path() == Path("~/.cache/arena/models/tiny-qwen2").expanduser()


def test_module_cli_builds_and_prints_the_path(tmp_path: Path, capsys) -> None:
    assert tiny_main([str(tmp_path / "cli-tiny")]) == 0
    assert capsys.readouterr().out.strip() == str(tmp_path / "cli-tiny")
    (tmp_path / "junk").mkdir()
    assert tiny_main([str(tmp_path / "junk")]) == 2
    assert "junk" in capsys.readouterr().err
