"""A tiny random-init causal LM, built locally, so every LLM code path runs offline.

Generation, TRL training, checkpoint reload and vLLM (where installed) all need a real
Hugging Face model directory. Downloading one makes tests slow and breaks them offline,
so this module *builds* one in a fraction of a second:

* a byte-level BPE tokenizer trained with ``tokenizers`` on generated environment-like
  text (:mod:`agents.tiny.corpus`), wrapped in ``PreTrainedTokenizerFast`` with
  ``padding_side="left"`` given to the constructor (set later, it would not be saved)
  and a ChatML-style chat template;
* a Qwen2 or Llama config of about 3M parameters (hidden 256, 4 layers), initialised
  under ``torch.manual_seed(seed)`` so the same seed gives byte-identical weights;
* both written with ``save_pretrained`` (safetensors).

Load it back with ``PreTrainedTokenizerFast.from_pretrained`` (``AutoTokenizer`` would
swap in the Qwen2/Llama tokenizer class and split text differently) and
``AutoModelForCausalLM.from_pretrained``.

Token choices, and why:

* ``<|im_end|>`` is the EOS token: it closes every chat turn, so generation, TRL's
  completion masks and vLLM all stop where an assistant turn ends.
* ``<|im_start|>`` opens a turn; ``<|pad|>`` and ``<|bos|>`` are separate tokens so
  padding never looks like the end of a turn. All four are special (stripped by
  ``skip_special_tokens``).
* ``<think>``, ``</think>``, ``<answer>``, ``</answer>`` are single *non*-special tokens:
  the attacker's format is cheap to learn, and decoding keeps them.
* The template wraps assistant content in ``{% generation %}`` so TRL's
  ``assistant_only_loss`` (``return_assistant_tokens_mask``) works on the tiny model.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Literal

from envs.errors import ArenaError

Family = Literal["qwen2", "llama"]

PAD, BOS, IM_START, IM_END = "<|pad|>", "<|bos|>", "<|im_start|>", "<|im_end|>"
SPECIAL_TOKENS = (PAD, BOS, IM_START, IM_END)
TAG_TOKENS = ("<think>", "</think>", "<answer>", "</answer>")
VOCAB_SIZE = 512
HIDDEN_SIZE = 256
NUM_LAYERS = 4
#: The builder writes this file last-but-one; its presence marks a directory it made.
MANIFEST = "arena-tiny.json"
FORMAT_VERSION = 1

CHAT_TEMPLATE = (
    "{%- for message in messages %}"
    "{%- if message['role'] not in ['system', 'user', 'assistant'] %}"
    "{{ raise_exception('tiny model chat roles are system, user and assistant, not ' "
    "+ message['role']) }}"
    "{%- endif %}"
    "{{- '<|im_start|>' + message['role'] + '\\n' }}"
    "{%- if message['role'] == 'assistant' %}"
    "{%- generation %}{{- message['content'] + '<|im_end|>' }}{%- endgeneration %}"
    "{{- '\\n' }}"
    "{%- else %}"
    "{{- message['content'] + '<|im_end|>\\n' }}"
    "{%- endif %}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}"
)


def _train_tokenizer():  # -> transformers.PreTrainedTokenizerFast (imported lazily)
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    from agents.tiny.corpus import corpus_lines

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=VOCAB_SIZE - len(TAG_TOKENS),
        special_tokens=list(SPECIAL_TOKENS),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(corpus_lines(), trainer=trainer)
    tok.add_tokens(list(TAG_TOKENS))
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token=BOS,
        eos_token=IM_END,
        pad_token=PAD,
        additional_special_tokens=[IM_START],
        padding_side="left",
        chat_template=CHAT_TEMPLATE,
        model_max_length=4096,
        clean_up_tokenization_spaces=False,
    )


def _config(family: Family, vocab_size: int, bos: int, eos: int, pad: int):  # -> PretrainedConfig
    common: dict[str, Any] = dict(
        vocab_size=vocab_size,
        hidden_size=HIDDEN_SIZE,
        intermediate_size=2 * HIDDEN_SIZE,
        num_hidden_layers=NUM_LAYERS,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=4096,
        # Wider than the usual 0.02 so a random model's next-token choice is clear-cut:
        # greedy decoding then survives the rounding differences between a padded batch
        # and a single prompt, which the batching tests rely on.
        initializer_range=0.1,
        tie_word_embeddings=False,
        bos_token_id=bos,
        eos_token_id=eos,
        pad_token_id=pad,
    )
    if family == "qwen2":
        from transformers import Qwen2Config

        return Qwen2Config(**common)
    if family == "llama":
        from transformers import LlamaConfig

        return LlamaConfig(**common)
    raise ArenaError(f"Unknown tiny model family {family!r}.", "use 'qwen2' or 'llama'.")


def build_tiny_model(out_dir: Path, *, family: Family = "qwen2", seed: int = 0) -> Path:
    """Write a tiny random-init model + tokenizer to ``out_dir`` (created) and return it.

    Deterministic: the tokenizer never changes and the weights depend only on ``seed``.
    Writes in place; use :func:`ensure_tiny_model` for an atomic, build-once directory.
    """
    import torch
    from transformers import AutoModelForCausalLM, GenerationConfig

    out_dir = Path(out_dir)
    tokenizer = _train_tokenizer()
    bos, eos, pad = tokenizer.bos_token_id, tokenizer.eos_token_id, tokenizer.pad_token_id
    config = _config(family, len(tokenizer), bos, eos, pad)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    model.generation_config = GenerationConfig(bos_token_id=bos, eos_token_id=eos, pad_token_id=pad)
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)
    manifest = {"format_version": FORMAT_VERSION, "family": family, "seed": seed}
    (out_dir / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    return out_dir


def default_tiny_path() -> Path:
    """``$ARENA_HOME/models/tiny-qwen2`` (``ARENA_HOME`` defaults to ``~/.cache/arena``)."""
    home = os.environ.get("ARENA_HOME") or "~/.cache/arena"
    return Path(home).expanduser() / "models" / "tiny-qwen2"


def _is_complete(path: Path) -> bool:
    return all((path / name).is_file() for name in ("config.json", "tokenizer.json", MANIFEST))


def ensure_tiny_model(
    path: Path | None = None, *, family: Family = "qwen2", seed: int = 0, force: bool = False
) -> Path:
    """Return a built tiny model directory, building it once if it is missing.

    The build goes into a temporary directory beside ``path`` and is moved into place with
    one ``os.replace``, so a killed build never leaves a half-written model and two
    processes racing to build it both end up with one complete copy. ``force`` rebuilds.
    """
    path = Path(path).expanduser() if path is not None else default_tiny_path()
    if path.exists() and not force:
        if _is_complete(path):
            return path
        raise ArenaError(
            f"{path} exists but is not a tiny model built by arena (no {MANIFEST}).",
            f"delete {path}, or pass another path, then run `arena tiny build` again.",
        )
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    except OSError as exc:
        raise ArenaError(
            f"Cannot create the tiny model directory under {path.parent}: {exc.strerror}.",
            "set ARENA_HOME to a writable directory, or pass a writable path.",
        ) from exc
    try:
        build_tiny_model(tmp, family=family, seed=seed)
        if force and path.exists():
            shutil.rmtree(path)
        try:
            os.replace(tmp, path)
        except OSError:
            if not _is_complete(path):  # not a lost race with another builder
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return path


__all__ = [
    "CHAT_TEMPLATE",
    "build_tiny_model",
    "default_tiny_path",
    "ensure_tiny_model",
]
