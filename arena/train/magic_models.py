"""MAGIC's two models: loading, saving, the frozen side's generation, optimizer state.

Each side owns its own weights *and* its own optimizer (MAGIC trains two separate
models, so neither shares gradients or Adam moments with the other). The optimizer's
state outlives a ``GRPOTrainer``: one is built per phase (TRL trains one policy per
trainer), so the learner's AdamW state is handed from the end of its previous phase to
the start of its next one and saved next to the phase checkpoint, which is what makes a
resumed run continue the same way (:func:`save_optimizer_state`,
:func:`optimizer_fingerprint`).
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from arena.train.config import ROLES, Role
from arena.train.magic_data import Chat
from envs.errors import ArenaError


@dataclass
class Policy:
    """One side's model and tokenizer (each side owns its own copy of the weights)."""

    role: Role
    model: Any
    tokenizer: Any


def resolve_spec(spec: str) -> Path:
    """``hf:tiny`` / ``hf:PATH`` → a local model directory (clear ArenaError otherwise)."""
    from agents.backends.hf import resolve_model

    name = spec.removeprefix("hf:")
    if name == "tiny":
        from agents.tiny import ensure_tiny_model

        return ensure_tiny_model()
    loaded, local = resolve_model(name)
    if local is None:
        from huggingface_hub import snapshot_download

        return Path(snapshot_download(loaded))
    return local


def load_policy(role: Role, directory: Path, device: str) -> Policy:
    """Tokenizer (left padding, a chat template required) and float32 weights."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, PreTrainedTokenizerFast

    from agents.backends.hf import checkpoint_errors

    with checkpoint_errors(str(directory), Path(directory)):  # a damaged file: one line
        if (directory / "tokenizer.json").is_file():
            tokenizer = PreTrainedTokenizerFast.from_pretrained(directory, padding_side="left")
        else:
            tokenizer = AutoTokenizer.from_pretrained(directory, padding_side="left")
    if not tokenizer.chat_template:
        raise ArenaError(
            f"The {role}'s tokenizer in {str(directory)!r} has no chat template.",
            "use an instruct/chat model, or one whose tokenizer_config.json has chat_template.",
        )
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    # A damaged file is named by checkpoint_errors; missing safetensors keep this message.
    with checkpoint_errors(str(directory), Path(directory)):
        try:
            model: Any = AutoModelForCausalLM.from_pretrained(
                directory, use_safetensors=True, dtype=torch.float32
            )
        except OSError as exc:
            raise ArenaError(
                f"Could not load the {role} model from {str(directory)!r} as safetensors ({exc}).",
                "pass a directory written by save_pretrained with safetensors weights.",
            ) from exc
    model.to(device)
    from agents.backends.hf import _limit_threads_for_small_models

    # One intra-op thread for a tiny model on the CPU (see that function: 10x+ faster).
    _limit_threads_for_small_models(torch, model, device)
    return Policy(role, model, tokenizer)


def save_policy(policy: Policy, target: Path) -> None:
    """save_pretrained into a temporary folder, then one rename: never half-written."""
    tmp = target.with_name(target.name + ".tmp")
    if tmp.exists():
        shutil.rmtree(tmp)
    policy.model.save_pretrained(tmp, safe_serialization=True)
    policy.tokenizer.save_pretrained(tmp)
    if target.exists():
        shutil.rmtree(target)
    os.replace(tmp, target)


@contextmanager
def _eval_mode(model: Any) -> Iterator[None]:
    was_training = model.training
    model.eval()
    try:
        yield
    finally:
        if was_training:
            model.train()


def generate(
    policy: Policy,
    chats: Sequence[Chat],
    *,
    max_new_tokens: int,
    sample: bool,
    temperature: float = 1.0,
    seed: int = 0,
    batch_size: int = 64,
) -> list[str]:
    """The frozen opponent's (or an evaluation's) completions: greedy or seeded sampling.

    All chats go through ``generate`` in one left-padded batch (up to ``batch_size``),
    with the KV cache and under ``inference_mode``: on a small model a decoding step
    costs about the same for 1 row as for 64, so the number of calls is what counts.
    Sampling seeds torch inside ``fork_rng``, so the frozen side's draws neither depend
    on nor disturb the learner's random stream (a resumed step draws the same).
    """
    import torch

    tokenizer, model = policy.tokenizer, policy.model
    texts: list[str] = []
    prompts = [
        tokenizer.apply_chat_template(chat, tokenize=False, add_generation_prompt=True)
        for chat in chats
    ]
    with _eval_mode(model), torch.inference_mode(), torch.random.fork_rng(devices=[]):
        for start in range(0, len(prompts), batch_size):
            encoded = tokenizer(
                prompts[start : start + batch_size],
                return_tensors="pt",
                padding=True,
                add_special_tokens=False,
            ).to(model.device)
            options: dict[str, Any] = {"do_sample": False}
            if sample:
                torch.manual_seed(seed + start)
                options = {"do_sample": True, "temperature": temperature, "top_k": 0, "top_p": 1.0}
            output = model.generate(
                **encoded,
                max_new_tokens=max_new_tokens,
                pad_token_id=tokenizer.pad_token_id,
                eos_token_id=tokenizer.eos_token_id,
                use_cache=True,
                **options,
            )
            new_tokens = output[:, encoded["input_ids"].shape[1] :]
            texts.extend(tokenizer.batch_decode(new_tokens, skip_special_tokens=True))
    return texts


# ---------------------------------------------------------------------------- optimizer
def unwrap_optimizer(optimizer: Any) -> Any:
    """The torch optimizer inside accelerate's ``AcceleratedOptimizer`` (or itself)."""
    return getattr(optimizer, "optimizer", optimizer)


def optimizer_fingerprint(optimizer: Any) -> dict[str, Any]:
    """``{"steps", "sha256"}`` of an optimizer's state: Adam's step count and a digest of
    every moment tensor, in parameter order. Two fingerprints are equal iff the state is
    bit-identical, which is how the manifest shows that a phase started from exactly the
    state its role's previous phase ended with (a fresh optimizer has ``steps == 0``)."""
    import torch

    opt = unwrap_optimizer(optimizer)
    digest = hashlib.sha256()
    steps = 0
    for group in opt.param_groups:
        for param in group["params"]:
            state = opt.state.get(param, {})
            for key in sorted(state):
                value = state[key]
                if key == "step":
                    steps = max(steps, int(value.item() if torch.is_tensor(value) else value))
                if torch.is_tensor(value):
                    digest.update(key.encode())
                    digest.update(value.detach().cpu().contiguous().numpy().tobytes())
    return {"steps": steps, "sha256": digest.hexdigest()}


def save_optimizer_state(optimizer: Any, target: Path) -> None:
    """``torch.save`` of the state dict through a temporary file and one rename."""
    import torch

    tmp = target.with_name(target.name + ".tmp")
    torch.save(unwrap_optimizer(optimizer).state_dict(), tmp)
    os.replace(tmp, target)


def load_optimizer_state(path: Path) -> dict[str, Any]:
    import torch

    try:
        state: dict[str, Any] = torch.load(path, map_location="cpu", weights_only=True)
    except (OSError, RuntimeError) as exc:
        raise ArenaError(
            f"Could not read the optimizer state {str(path)!r} ({exc}).",
            "the run folder is damaged: resume from an earlier copy or pass a new --out.",
        ) from exc
    return state


def optimizer_continuity(manifest: dict[str, Any]) -> list[str]:
    """Where a role's GRPO phase did *not* start from the optimizer state its previous
    GRPO phase ended with (empty: every hand-over was exact). Reads the fingerprints the
    trainer records per phase; a mid-phase resume starts from its checkpoint instead and
    is checked against nothing here."""
    problems = []
    last: dict[str, dict[str, Any]] = {}
    for phase in manifest.get("phases", []):
        role = phase.get("role")
        if phase.get("kind") != "grpo" or role not in ROLES:
            continue
        start = phase.get("optimizer_start")
        if role in last and not phase.get("resumed_from_step") and start != last[role]:
            problems.append(
                f"phase {phase['index']} ({role}) started from optimizer state {start}, "
                f"not the {last[role]} its previous phase ended with"
            )
        if phase.get("optimizer_end") is not None:
            last[role] = phase["optimizer_end"]
    return problems
