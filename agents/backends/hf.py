"""Hugging Face transformers backend: batched chat generation on the CPU or a GPU.

Why it looks the way it does:

* **Tokenizer.** A directory with a ``tokenizer.json`` is loaded with
  ``PreTrainedTokenizerFast``: ``AutoTokenizer`` would swap in the model family's own
  class, which for the tiny model (and checkpoints trained from it) splits text
  differently from how it was trained. Hub ids use ``AutoTokenizer``.
* **Left padding.** Decoder-only models continue from the last position, so prompts of a
  batch are padded on the left (forced here, whatever the checkpoint says).
* **Sampling is ours.** The model's ``generation_config`` keeps only its token ids;
  sampling is exactly :class:`SamplingParams` (temperature + top-p, ``top_k`` off), so a
  checkpoint's own defaults or transformers' global ``top_k=50`` never change the
  distribution behind a result, and the vLLM backend can match it.
* **Reproducible sampling.** With ``SamplingParams.seed`` the call runs under
  ``torch.random.fork_rng`` + ``manual_seed``: the same call gives the same text, and the
  caller's global RNG state is left untouched.
* **Clear errors.** A missing path, a directory that is not a model, or a hub id that
  cannot be fetched (offline, not cached) raise one :class:`~envs.errors.ArenaError`
  naming it and the fix, before transformers gets a chance to print a traceback.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Literal

from agents.backends.base import Chat, SamplingParams, TextGenerator
from envs.errors import ArenaError

Device = Literal["cpu", "cuda", "auto"]
DType = Literal["auto", "float32", "bfloat16"]
DEVICES = ("cpu", "cuda", "auto")
DTYPES = ("auto", "float32", "bfloat16")

# owner/name on the Hub: one slash, no path-like parts.
_HUB_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9][A-Za-z0-9_.-]*$")
_TRUE = {"1", "on", "yes", "true"}
_MISSING_FIX = (
    "check the path, or run `arena tiny build` and pass hf:tiny for the offline tiny model."
)


def looks_like_hub_id(name: str) -> bool:
    """``owner/name`` (e.g. ``Qwen/Qwen3-0.6B``) the Hub accepts, as opposed to a path."""
    if not _HUB_ID.match(name) or ".." in name:
        return False
    from huggingface_hub.utils import HFValidationError, validate_repo_id

    try:
        validate_repo_id(name)
    except HFValidationError:
        return False
    return True


def hub_offline() -> bool:
    """Whether the Hub may not be contacted (``HF_HUB_OFFLINE`` / ``TRANSFORMERS_OFFLINE``)."""
    env = any(
        os.environ.get(var, "").strip().lower() in _TRUE
        for var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")
    )
    from huggingface_hub import constants

    return env or bool(constants.HF_HUB_OFFLINE)


def _hub_cached(repo_id: str) -> bool:
    from huggingface_hub import try_to_load_from_cache

    return isinstance(try_to_load_from_cache(repo_id, "config.json"), str)


def resolve_model(model: str) -> tuple[str, Path | None]:
    """``(name to load, local directory or None for a hub id)``, or a clear ArenaError."""
    path = Path(model).expanduser()
    if path.exists():
        if not path.is_dir():
            raise ArenaError(
                f"Model path {str(path)!r} is a file, not a model directory.",
                "pass the directory that save_pretrained wrote (it holds config.json).",
            )
        if not (path / "config.json").is_file():
            raise ArenaError(
                f"Model directory {str(path)!r} has no config.json, so it is not a Hugging "
                "Face model.",
                "pass the directory that save_pretrained wrote, or run `arena tiny build` "
                "and pass hf:tiny.",
            )
        return str(path), path
    if not looks_like_hub_id(model):
        raise ArenaError(f"Model path {model!r} does not exist.", _MISSING_FIX)
    if _hub_cached(model):
        return model, None
    if hub_offline():
        raise ArenaError(
            f"Model {model!r} is neither a local directory nor in the Hugging Face cache, and "
            "the Hub is offline (HF_HUB_OFFLINE).",
            f"download it while online (`hf download {model}`), or {_MISSING_FIX}",
        )
    _probe_hub(model)
    return model, None


def _probe_hub(repo_id: str) -> None:
    """One quick Hub request before loading an uncached model.

    Without it, a machine with no network spends about a minute in transformers'
    download retries (tokenizer, then model) before failing; a typo'd id fails late too.
    """
    import huggingface_hub
    from huggingface_hub.errors import GatedRepoError, RepositoryNotFoundError

    try:
        huggingface_hub.model_info(repo_id, timeout=10)
    except GatedRepoError as exc:
        raise ArenaError(
            f"Model {repo_id!r} is gated on the Hugging Face Hub.",
            "accept its terms on huggingface.co, then log in with `hf auth login`.",
        ) from exc
    except RepositoryNotFoundError as exc:
        raise ArenaError(
            f"Model {repo_id!r} is neither a local directory nor a model on the Hugging Face "
            "Hub (or it is private).",
            f"check the spelling; log in with `hf auth login` for a private model; or "
            f"{_MISSING_FIX}",
        ) from exc
    except Exception as exc:  # no network, proxy, timeout, server error
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ArenaError(
            f"Could not reach the Hugging Face Hub for model {repo_id!r}, which is not in the "
            f"local cache ({reason}).",
            f"connect to the network, or `hf download {repo_id}` where you can and copy the "
            f"cache, or {_MISSING_FIX}",
        ) from exc


def _pick_device(device: str) -> str:
    import torch

    if device not in DEVICES:
        raise ArenaError(f"Unknown device {device!r}.", f"use one of: {', '.join(DEVICES)}.")
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise ArenaError(
            "device=cuda was asked for but torch sees no CUDA GPU.",
            "use device=cpu (or device=auto), or install a CUDA build of torch.",
        )
    return device


def _pick_dtype(dtype: str, device: str) -> Any:
    import torch

    if dtype not in DTYPES:
        raise ArenaError(f"Unknown dtype {dtype!r}.", f"use one of: {', '.join(DTYPES)}.")
    if dtype == "auto":
        # bf16 halves memory and is fast on a GPU; on the CPU float32 is faster and exact.
        use_bf16 = device == "cuda" and torch.cuda.is_bf16_supported()
        return torch.bfloat16 if use_bf16 else torch.float32
    return getattr(torch, dtype)


def _weights_file(directory: Path) -> Path | None:
    """The file whose hash identifies the weights: the shard index, else the first shard."""
    index = directory / "model.safetensors.index.json"
    if index.is_file():
        return index
    shards = sorted(directory.glob("*.safetensors"))
    return shards[0] if shards else None


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class HFGenerator(TextGenerator):
    """A causal LM loaded with ``from_pretrained`` from a local path or a hub id."""

    def __init__(
        self,
        model: str,
        *,
        device: Device | str = "auto",
        dtype: DType | str = "auto",
        batch_size: int = 32,
    ) -> None:
        import torch
        from transformers import (
            AutoModelForCausalLM,
            AutoTokenizer,
            GenerationConfig,
            PreTrainedTokenizerFast,
        )

        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ArenaError(
                f"batch_size must be a positive integer, got {batch_size!r}.",
                "pass e.g. batch_size=32.",
            )
        self.model_name, self._local_dir = resolve_model(str(model))
        self.device = _pick_device(device)
        self.dtype = _pick_dtype(dtype, self.device)
        self.batch_size = batch_size
        try:
            if self._local_dir is not None and (self._local_dir / "tokenizer.json").is_file():
                tokenizer = PreTrainedTokenizerFast.from_pretrained(self._local_dir)
            else:
                tokenizer = AutoTokenizer.from_pretrained(self.model_name)
            lm: Any = AutoModelForCausalLM.from_pretrained(self.model_name, dtype=self.dtype)
        except (OSError, ValueError) as exc:
            text = str(exc).strip()
            first_line = text.splitlines()[0] if text else type(exc).__name__
            raise ArenaError(
                f"Could not load model {self.model_name!r}: {first_line}",
                "check the path or hub id (and network access), or run `arena tiny build` "
                "and pass hf:tiny.",
            ) from exc
        if tokenizer.chat_template is None:
            raise ArenaError(
                f"Model {self.model_name!r} has no chat template, so it cannot answer chats.",
                "use an instruct/chat model, or save the tokenizer with a chat_template.",
            )
        tokenizer.padding_side = "left"
        if tokenizer.pad_token is None:
            if tokenizer.eos_token is None:
                raise ArenaError(
                    f"Model {self.model_name!r} has neither a pad nor an EOS token.",
                    "save its tokenizer with a pad_token (tokenizer.pad_token = ...).",
                )
            tokenizer.pad_token = tokenizer.eos_token
        eos = lm.generation_config.eos_token_id
        eos_ids = {eos} if isinstance(eos, int) else set(eos or ())
        if tokenizer.eos_token_id is not None:
            eos_ids.add(tokenizer.eos_token_id)
        self._eos_ids = sorted(eos_ids)
        # Keep only token ids: sampling comes from SamplingParams alone (module docstring).
        lm.generation_config = GenerationConfig(
            bos_token_id=lm.generation_config.bos_token_id,
            eos_token_id=self._eos_ids,
            pad_token_id=tokenizer.pad_token_id,
        )
        self.tokenizer = tokenizer
        self.model: Any = lm.to(self.device).eval()
        self._torch = torch
        self._sha: str | None = None

    # -- generation -----------------------------------------------------------------

    def render(self, chat: Chat) -> str:
        """The prompt text for one chat (its chat template + the assistant turn opener)."""
        from jinja2.exceptions import TemplateError

        try:
            text = self.tokenizer.apply_chat_template(
                [dict(message) for message in chat], tokenize=False, add_generation_prompt=True
            )
        except TemplateError as exc:
            raise ArenaError(
                f"The chat template of {self.model_name!r} rejected a chat: {exc}",
                "pass messages with roles system/user/assistant and string content.",
            ) from exc
        return str(text)

    @contextlib.contextmanager
    def _seeded(self, seed: int | None) -> Iterator[None]:
        if seed is None:
            yield
            return
        torch = self._torch
        if self.device == "cuda":
            devices = list(range(torch.cuda.device_count()))
            rng = torch.random.fork_rng(devices=devices, device_type="cuda")
        else:
            rng = torch.random.fork_rng(devices=[])
        with rng:
            torch.manual_seed(seed)
            yield

    def _generation_kwargs(self, sampling: SamplingParams) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            "max_new_tokens": sampling.max_new_tokens,
            "do_sample": not sampling.greedy,
            "pad_token_id": self.tokenizer.pad_token_id,
            "eos_token_id": self._eos_ids,
        }
        if not sampling.greedy:
            kwargs.update(temperature=sampling.temperature, top_p=sampling.top_p, top_k=0)
        return kwargs

    def generate(self, chats: Sequence[Chat], sampling: SamplingParams) -> list[str]:
        if not chats:
            return []
        encoded = self.tokenizer(
            [self.render(chat) for chat in chats], add_special_tokens=False
        ).input_ids
        # Batch prompts of similar length together: less padding, same results (the
        # order is a pure function of the inputs, so seeded sampling stays reproducible).
        order = sorted(range(len(encoded)), key=lambda i: len(encoded[i]))
        outputs: list[str] = [""] * len(encoded)
        kwargs = self._generation_kwargs(sampling)
        if self.model is None:
            raise ArenaError(
                f"The generator for {self.model_name!r} was closed.", "build a new one."
            )
        with self._torch.inference_mode(), self._seeded(sampling.seed):
            for start in range(0, len(order), self.batch_size):
                chunk = order[start : start + self.batch_size]
                batch = self.tokenizer.pad(
                    {"input_ids": [encoded[i] for i in chunk]}, return_tensors="pt"
                ).to(self.device)
                generated = self.model.generate(**batch, **kwargs)
                new_tokens = generated[:, batch["input_ids"].shape[1] :]
                texts = self.tokenizer.batch_decode(new_tokens, skip_special_tokens=True)
                for i, text in zip(chunk, texts, strict=True):
                    outputs[i] = text
        return outputs

    # -- bookkeeping ----------------------------------------------------------------

    def _weights_dir(self) -> Path | None:
        if self._local_dir is not None:
            return self._local_dir
        try:
            from huggingface_hub import snapshot_download

            return Path(snapshot_download(self.model_name, local_files_only=True))
        except Exception:  # a manifest without a hash beats a crash while writing it
            return None

    def weights_sha256(self) -> str | None:
        """sha256 of the shard index (sharded) or the only safetensors file (cached)."""
        if self._sha is None:
            directory = self._weights_dir()
            weights = _weights_file(directory) if directory is not None else None
            self._sha = _sha256(weights) if weights is not None else ""
        return self._sha or None

    def describe(self) -> dict[str, Any]:
        import transformers

        return {
            "backend": "hf",
            "model": self.model_name,
            "weights_sha256": self.weights_sha256(),
            "dtype": str(self.dtype).removeprefix("torch."),
            "device": self.device,
            "batch_size": self.batch_size,
            "transformers": transformers.__version__,
        }

    def close(self) -> None:
        """Drop the model so its (GPU) memory can be freed."""
        torch = self._torch
        self.model = None
        if self.device == "cuda":
            torch.cuda.empty_cache()
