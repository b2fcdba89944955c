"""Every LM load (hf backend, ds LM policy) fails on a bad checkpoint with one clear line.

A folder that is not a model, or a copy of the tiny model with one file damaged, must
give an ArenaError naming the folder or the damaged file and the fix, never a
transformers/safetensors traceback (safetensors' SafetensorError subclasses only
Exception, so a plain ``except (OSError, ValueError)`` lets it through).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

from agents.backends.hf import HFGenerator, find_damaged_file
from agents.tiny import ensure_tiny_model
from arena.ds import llm
from envs.errors import ArenaError


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return ensure_tiny_model(tmp_path_factory.mktemp("tiny-load") / "tiny-qwen2")


def _overwrite(text: str) -> Callable[[Path], None]:
    def damage(path: Path) -> None:
        path.write_text(text)

    return damage


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[:5000])


DAMAGES = [
    pytest.param("model.safetensors", _overwrite("garbage!"), "header too large", id="garbage"),
    pytest.param("model.safetensors", _truncate, "deserializing header", id="truncated"),
    pytest.param("model.safetensors", _overwrite(""), "header too small", id="empty"),
    pytest.param("config.json", _overwrite("garbage"), "Expecting value", id="config"),
    pytest.param("tokenizer.json", _overwrite("{"), "Expecting", id="tokenizer"),
]


def _damaged_copy(
    tiny_dir: Path, tmp_path: Path, name: str, damage: Callable[[Path], None]
) -> Path:
    copy = tmp_path / "checkpoint"
    shutil.copytree(tiny_dir, copy)
    damage(copy / name)
    return copy


@pytest.mark.parametrize(("name", "damage", "reason"), DAMAGES)
def test_a_damaged_checkpoint_is_one_error_naming_the_file(
    tiny_dir: Path, tmp_path: Path, name: str, damage: Callable[[Path], None], reason: str
) -> None:
    copy = _damaged_copy(tiny_dir, tmp_path, name, damage)
    with pytest.raises(ArenaError) as info:
        HFGenerator(str(copy), device="cpu")
    message = str(info.value)
    assert str(copy / name) in message and "damaged" in message and reason in message
    assert "re-save the checkpoint" in message and "\n" not in message


@pytest.mark.parametrize(("name", "damage", "reason"), DAMAGES[:1] + DAMAGES[3:4])
def test_the_ds_lm_policy_names_the_damaged_file_too(
    tiny_dir: Path, tmp_path: Path, name: str, damage: Callable[[Path], None], reason: str
) -> None:
    copy = _damaged_copy(tiny_dir, tmp_path, name, damage)
    with pytest.raises(ArenaError, match="damaged") as info:
        llm.load_model(f"hf:{copy}")
    assert str(copy / name) in str(info.value) and reason in str(info.value)


def test_the_ds_lm_policy_rejects_a_folder_that_is_not_a_model(tmp_path: Path) -> None:
    (tmp_path / "payoffs.csv").write_text("1,2\n3,4\n")
    with pytest.raises(ArenaError, match=r"has no config\.json"):
        llm.load_model(f"hf:{tmp_path}")


def test_missing_weights_keep_the_generic_error(tiny_dir: Path, tmp_path: Path) -> None:
    copy = tmp_path / "checkpoint"
    shutil.copytree(tiny_dir, copy)
    (copy / "model.safetensors").unlink()
    with pytest.raises(ArenaError, match="Could not load model"):
        HFGenerator(str(copy), device="cpu")


def test_an_intact_checkpoint_has_no_damaged_file(tiny_dir: Path) -> None:
    assert find_damaged_file(tiny_dir) is None


def test_the_cli_prints_one_line_for_a_damaged_checkpoint(
    tiny_dir: Path, tmp_path: Path, cli: Callable[[list[str]], tuple[int, str, str]]
) -> None:
    copy = _damaged_copy(tiny_dir, tmp_path, "model.safetensors", _overwrite("garbage!"))
    args = ["ds", "run", "--policy", f"hf:{copy}", "--out", str(tmp_path / "run")]
    code, _, err = cli(args)
    assert code != 0 and "Traceback" not in err
    assert f"{copy / 'model.safetensors'}" in err and "damaged" in err


def test_the_vllm_tokenizer_loader_names_the_damaged_file(tiny_dir: Path, tmp_path: Path) -> None:
    from agents.backends.vllm import _load_tokenizer

    copy = _damaged_copy(tiny_dir, tmp_path, "tokenizer.json", _overwrite("{"))
    with pytest.raises(ArenaError, match="damaged") as info:
        _load_tokenizer(str(copy), copy, False)
    assert str(copy / "tokenizer.json") in str(info.value)


def test_training_loaders_name_a_damaged_checkpoint_file(tmp_path: Path) -> None:
    """MAGIC's and KALE's own loaders go through the same checks as hf:."""
    from arena.train.kale_io import load_model as kale_load
    from arena.train.magic_models import load_policy

    folder = tmp_path / "ckpt"
    shutil.copytree(ensure_tiny_model(), folder)
    (folder / "model.safetensors").write_text("garbage")
    with pytest.raises(ArenaError, match="damaged"):
        load_policy("attacker", folder, "cpu")
    with pytest.raises(ArenaError, match="damaged"):
        kale_load(folder)
