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
* **Per-chat seeded sampling.** ``generate`` samples each chat from its own seed (see
  :class:`~agents.backends.base.TextGenerator`), never from torch's global stream shared
  by the batch: otherwise chat *i*'s text would change with which other chats share its
  batch, the batch size and their order, and a run could not be resumed or replayed.
  :class:`SeededSampler` is a logits processor that does the whole sampling step itself
  (temperature, top-p, ``top_k`` off) and returns scores that are ``-inf`` except the
  token it chose; ``generate`` then runs with ``do_sample=False`` and its greedy pick
  takes that token. The uniform draw of step *k* for a chat is
  ``uniform(sub_seed(seed, k))``: counter-based, so there is no generator state to keep
  in step, a finished row's draws cannot leak into another row, the same seed gives the
  same draws on the CPU and a GPU, and torch's global RNG is never touched.
* **Robust to rounding.** Left padding and the batch size can move a logit in its last
  bits (different kernels, different reduction lengths). The sampler works in float64
  and inverts the CDF over tokens in *vocabulary* order: a tiny change of a logit moves
  a CDF boundary by about as much, so it changes the chosen token only when the draw
  lands within that distance of a boundary: per token, a chance of roughly the logit
  change divided by the temperature (about 1e-5 on the CPU, below). Ordering the
  CDF by probability instead would swap near-tied tokens and change the pick for whole
  intervals of draws.

  Measured on the tiny model, CPU, float32: a chat's logits differ by up to 2e-5 between
  running alone and in a padded batch of 64, and by as much in a batch of equal-length
  (unpadded) prompts or in a fixed-shape batch with other companions, because the batch
  size and a row's position in it change the matrix kernels' rounding. So bucketing by
  prompt length would not remove it, and is not done. The texts were nonetheless
  identical: 0 of 384 completions of 48 tokens (temperature 0.7, top_p 0.95) differed
  between ``batch_size`` 1 and 64 (with a probability-ordered CDF, 1 of 384 did). A
  chat run alone is bit-exact, so ``batch_size=1`` is the mode that *guarantees*
  batch invariance, at the cost of speed. bfloat16 on a GPU moves logits far more (not
  measured here): expect occasional divergent completions there; ``dtype=float32``
  should make them rare again, ``batch_size=1`` removes them.
* **Two engines.** ``engine=plain`` (default) runs ``model.generate`` on left-padded
  batches of ``batch_size`` chats: exact per-chat seeded sampling, fastest on a CPU.
  ``engine=continuous`` hands *greedy* requests to transformers' continuous batching
  (``model.generate_batch``: paged KV cache, requests join and leave the running batch as
  they finish, CUDA graphs on a GPU): the path meant for many chats on a GPU, where
  plain ``generate`` spends most of each step in Python. Sampled requests still take the
  plain path, because our per-chat seeded sampler is a logits processor and continuous
  batching runs only its own built-in ones (their draws would depend on the batch).
  On a CPU continuous batching is correct but slow (a scheduler thread hands over every
  step), so the cache is sized to the request there instead of to free memory.
* **Clear errors.** A missing path, a directory that is not a model, or a hub id that
  cannot be fetched (offline, not cached) raise one :class:`~envs.errors.ArenaError`
  naming it and the fix, before transformers gets a chance to print a traceback.
  A checkpoint whose files are damaged (a truncated or overwritten ``model.safetensors``,
  a ``config.json`` or ``tokenizer.json`` that is not valid) makes transformers raise
  deserialisation errors of several types (safetensors' ``SafetensorError`` subclasses
  only ``Exception``); :func:`checkpoint_errors` turns them into one ArenaError naming
  the damaged file. Every LM load in the project should go through it
  (:func:`load_tokenizer`, :func:`load_causal_lm`).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import zipfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

from agents.backends.base import Chat, SamplingParams, TextGenerator, TokenUsage, chat_seeds
from envs.errors import ArenaError
from envs.seeding import sub_seed, uniform

Device = Literal["cpu", "cuda", "auto"]
DType = Literal["auto", "float32", "bfloat16"]
Engine = Literal["plain", "continuous"]
DEVICES = ("cpu", "cuda", "auto")
DTYPES = ("auto", "float32", "bfloat16")
ENGINES = ("plain", "continuous")
#: KV-cache page size of the continuous engine's CPU sizing (tokens per block).
_CPU_PAGE = 32

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


_CORRUPT_FIX = (
    "restore it from a backup, or re-save the checkpoint (save_pretrained, or re-run the "
    "training that wrote it); for the tiny model run `arena tiny build --force`."
)


def _cached_dir(name: str) -> Path | None:
    """The local snapshot of hub id ``name`` in the Hugging Face cache, if there is one."""
    try:
        from huggingface_hub import snapshot_download

        return Path(snapshot_download(name, local_files_only=True))
    except Exception:  # not cached, or the cache is unreadable: nothing to diagnose
        return None


def _file_problem(path: Path) -> str | None:
    """Why ``path`` cannot be read as the checkpoint file it claims to be, or None."""
    suffix = path.suffix
    try:
        if suffix == ".json":
            json.loads(path.read_text(encoding="utf-8"))
            if path.name == "tokenizer.json":
                from tokenizers import Tokenizer

                Tokenizer.from_file(str(path))
        elif suffix == ".safetensors":
            from safetensors import safe_open

            with safe_open(str(path), framework="pt"):
                pass
        elif suffix == ".bin" and not zipfile.is_zipfile(path):
            return "not a torch zip archive"
    except Exception as exc:  # every parser has its own error types; all mean "broken"
        text = str(exc).strip()
        return text.splitlines()[0] if text else type(exc).__name__
    return None


def find_damaged_file(directory: Path) -> tuple[Path, str] | None:
    """The first checkpoint file in ``directory`` that does not parse, and why.

    Only run after a load failed (it reads every JSON file and every weight header), to
    name the file: transformers' and safetensors' messages (e.g. "Error while
    deserializing header: header too large") do not say which file they were reading.
    """
    files = sorted(directory.glob("*.json")) + sorted(directory.glob("*.safetensors"))
    for path in files + sorted(directory.glob("*.bin")):
        problem = _file_problem(path)
        if problem is not None:
            return path, problem
    return None


def damaged_checkpoint_error(name: str, directory: Path | None) -> ArenaError | None:
    """The ArenaError for model ``name`` if a file in ``directory`` is damaged, else None
    (also for loaders of their own, e.g. the vllm backend's)."""
    damaged = find_damaged_file(directory) if directory is not None else None
    if damaged is None:
        return None
    path, problem = damaged
    return ArenaError(
        f"Model {name!r} cannot be loaded: its file {str(path)!r} is damaged ({problem}).",
        _CORRUPT_FIX,
    )


@contextmanager
def checkpoint_errors(name: str, local_dir: Path | None) -> Iterator[None]:
    """Turn a failed ``from_pretrained`` of model ``name`` into one clear ArenaError.

    A damaged file (found by :func:`find_damaged_file` in ``local_dir``, or in the cache
    for a hub id) is named with the fix "restore or re-save the checkpoint"; other
    OSError/ValueError/SafetensorError failures (missing weights, an unknown
    architecture) keep the generic "could not load" line. Anything else (e.g. running
    out of memory) propagates unchanged: it is not a checkpoint problem.
    """
    from safetensors import SafetensorError

    try:
        yield
    except ArenaError:
        raise
    except Exception as exc:
        directory = local_dir if local_dir is not None else _cached_dir(name)
        damaged = damaged_checkpoint_error(name, directory)
        if damaged is not None:
            raise damaged from exc
        if not isinstance(exc, (OSError, ValueError, SafetensorError)):
            raise
        text = str(exc).strip()
        first_line = text.splitlines()[0] if text else type(exc).__name__
        raise ArenaError(
            f"Could not load model {name!r}: {first_line}",
            "check the path or hub id (and network access), or run `arena tiny build` "
            "and pass hf:tiny.",
        ) from exc


def load_tokenizer(name: str, local_dir: Path | None, **kwargs: Any) -> Any:
    """The tokenizer of ``name`` as this backend loads it (module docstring), or an
    ArenaError: ``PreTrainedTokenizerFast`` for a directory with ``tokenizer.json``."""
    from transformers import AutoTokenizer, PreTrainedTokenizerFast

    with checkpoint_errors(name, local_dir):
        if local_dir is not None and (local_dir / "tokenizer.json").is_file():
            return PreTrainedTokenizerFast.from_pretrained(local_dir, **kwargs)
        return AutoTokenizer.from_pretrained(name, **kwargs)


def load_causal_lm(name: str, local_dir: Path | None, **kwargs: Any) -> Any:
    """``AutoModelForCausalLM.from_pretrained(name, **kwargs)``, or one ArenaError."""
    from transformers import AutoModelForCausalLM

    with checkpoint_errors(name, local_dir):
        return AutoModelForCausalLM.from_pretrained(name, **kwargs)


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


def sample_tokens(scores: Any, uniforms: Any, temperature: float, top_p: float) -> Any:
    """One token per row of ``scores`` (batch, vocab), row *r* chosen by ``uniforms[r]``.

    The distribution is exactly :class:`SamplingParams`': softmax(scores / temperature),
    cut to the smallest most-probable set whose mass reaches ``top_p`` (ties broken by
    token id), renormalised. The draw inverts the CDF in vocabulary order, in float64
    (module docstring: robust to last-bit changes of the logits). Every operation is
    row-wise, so a row's token depends on that row's scores and draw alone.
    """
    import torch

    logits = scores.to(torch.float64) / temperature
    probs = torch.softmax(logits, dim=-1)
    if top_p < 1.0:
        ranked, index = torch.sort(probs, dim=-1, descending=True, stable=True)
        mass_before = torch.cumsum(ranked, dim=-1) - ranked
        drop_ranked = mass_before >= top_p  # the most probable token is always kept
        drop = torch.zeros_like(drop_ranked).scatter(-1, index, drop_ranked)
        probs = probs.masked_fill(drop, 0.0)
    cdf = torch.cumsum(probs, dim=-1)
    target = uniforms.to(device=cdf.device, dtype=torch.float64).reshape(-1, 1) * cdf[:, -1:]
    tokens = torch.searchsorted(cdf, target, right=True).squeeze(-1)
    # A row of NaNs (all scores -inf) lands past the end: clamp to a valid id rather than
    # crash; generate replaces the tokens of finished rows with padding anyway.
    return tokens.clamp(max=scores.shape[-1] - 1)


class SeededSampler:
    """A transformers logits processor that samples each row from its own seed.

    Step *k* (the *k*-th new token) of row *r* uses the draw ``uniform(sub_seed(seeds[r],
    k))``; ``k`` is read from the sequence length, so a row's draws depend neither on how
    long the other prompts are (they share the padded ``prompt_length``) nor on whether
    other rows have finished. It returns scores that are ``-inf`` except at the chosen
    token, for ``generate(do_sample=False)`` to pick.
    """

    def __init__(
        self, seeds: Sequence[int], *, temperature: float, top_p: float, prompt_length: int
    ) -> None:
        if temperature <= 0:
            raise ValueError("SeededSampler samples; temperature 0 is greedy decoding")
        self.seeds = [int(seed) for seed in seeds]
        self.temperature = temperature
        self.top_p = top_p
        self.prompt_length = prompt_length

    def draws(self, step: int) -> list[float]:
        """The uniform draw of every row at ``step`` (0 for the first new token)."""
        return [uniform(sub_seed(seed, step)) for seed in self.seeds]

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        import torch

        if scores.shape[0] != len(self.seeds):
            raise ValueError(
                f"SeededSampler has {len(self.seeds)} seeds for a batch of {scores.shape[0]}"
            )
        step = int(input_ids.shape[-1]) - self.prompt_length
        uniforms = torch.tensor(self.draws(step), dtype=torch.float64)
        tokens = sample_tokens(scores, uniforms, self.temperature, self.top_p)
        chosen = torch.full_like(scores, float("-inf"))
        chosen.scatter_(-1, tokens.unsqueeze(-1), 0.0)
        return chosen


def _processors(sampler: SeededSampler) -> Any:
    from transformers import LogitsProcessorList

    return LogitsProcessorList([sampler])


#: Below this many parameters a CPU forward pass is too small to split across threads.
SMALL_MODEL_PARAMETERS = 50_000_000


def _limit_threads_for_small_models(torch: Any, model: Any, device: str) -> int | None:
    """One intra-op thread for a small model on the CPU, unless the user chose a number.

    Why: a forward pass of a few-million-parameter model is a handful of tiny matrix
    products; splitting each across OpenMP threads costs more than it saves, and when
    the cores are shared the threads' spin-waits make it far worse (measured on the
    tiny model, 2 cores: 32 chats x 32 tokens took 0.73 s with one thread and 12-16 s
    with two while another process was busy). A user who sets ``OMP_NUM_THREADS`` keeps
    their choice. Returns the thread count in use.
    """
    if device != "cpu":
        return None
    if os.environ.get("OMP_NUM_THREADS"):
        return int(torch.get_num_threads())
    if sum(p.numel() for p in model.parameters()) < SMALL_MODEL_PARAMETERS:
        torch.set_num_threads(1)
    return int(torch.get_num_threads())


class HFGenerator(TextGenerator):
    """A causal LM loaded with ``from_pretrained`` from a local path or a hub id."""

    def __init__(
        self,
        model: str,
        *,
        device: Device | str = "auto",
        dtype: DType | str = "auto",
        batch_size: int = 32,
        engine: Engine | str = "plain",
    ) -> None:
        import torch
        from transformers import GenerationConfig

        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ArenaError(
                f"batch_size must be a positive integer, got {batch_size!r}.",
                "pass e.g. batch_size=32.",
            )
        if engine not in ENGINES:
            raise ArenaError(f"Unknown hf engine {engine!r}.", f"use one of: {', '.join(ENGINES)}.")
        self.engine = str(engine)
        self.model_name, self._local_dir = resolve_model(str(model))
        self.device = _pick_device(device)
        self.dtype = _pick_dtype(dtype, self.device)
        self.batch_size = batch_size
        tokenizer = load_tokenizer(self.model_name, self._local_dir)
        lm: Any = load_causal_lm(self.model_name, self._local_dir, dtype=self.dtype)
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
        if self.engine == "continuous" and not hasattr(lm, "generate_batch"):
            import transformers

            raise ArenaError(
                f"engine=continuous needs transformers' continuous batching "
                f"(model.generate_batch), which transformers {transformers.__version__} "
                "lacks for this model.",
                "upgrade transformers, or use engine=plain.",
            )
        self.tokenizer = tokenizer
        self.model: Any = lm.to(self.device).eval()
        self._torch = torch
        self._sha: str | None = None
        self.threads = _limit_threads_for_small_models(torch, lm, self.device)

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

    def generate(
        self,
        chats: Sequence[Chat],
        sampling: SamplingParams,
        seeds: Sequence[int] | None = None,
    ) -> list[str]:
        return self.generate_with_usage(chats, sampling, seeds)[0]

    def generate_with_usage(
        self,
        chats: Sequence[Chat],
        sampling: SamplingParams,
        seeds: Sequence[int] | None = None,
    ) -> tuple[list[str], list[TokenUsage]]:
        """:meth:`generate` plus each chat's token counts: its prompt's tokens, and the
        tokens it generated up to and including its end-of-sequence token (no padding)."""
        if not chats:
            return [], []
        if self.model is None:
            raise ArenaError(
                f"The generator for {self.model_name!r} was closed.", "build a new one."
            )
        row_seeds = None if sampling.greedy else chat_seeds(len(chats), sampling, seeds)
        encoded = self.tokenizer(
            [self.render(chat) for chat in chats], add_special_tokens=False
        ).input_ids
        if self.engine == "continuous" and row_seeds is None:
            return self._generate_continuous(encoded, sampling.max_new_tokens)
        # Batch prompts of similar length together: less padding. Each chat samples from
        # its own seed, so which chats share a batch does not change what they sample.
        order = sorted(range(len(encoded)), key=lambda i: len(encoded[i]))
        outputs: list[str] = [""] * len(encoded)
        usages: list[TokenUsage] = [TokenUsage()] * len(encoded)
        with self._torch.inference_mode():
            for start in range(0, len(order), self.batch_size):
                chunk = order[start : start + self.batch_size]
                batch = self.tokenizer.pad(
                    {"input_ids": [encoded[i] for i in chunk]}, return_tensors="pt"
                ).to(self.device)
                prompt_length = int(batch["input_ids"].shape[1])
                kwargs = self._generation_kwargs(sampling)
                if row_seeds is not None:
                    kwargs["logits_processor"] = _processors(
                        SeededSampler(
                            [row_seeds[i] for i in chunk],
                            temperature=sampling.temperature,
                            top_p=sampling.top_p,
                            prompt_length=prompt_length,
                        )
                    )
                generated = self.model.generate(**batch, **kwargs)
                new_tokens = generated[:, prompt_length:]
                texts = self.tokenizer.batch_decode(new_tokens, skip_special_tokens=True)
                counts = _generated_counts(new_tokens.tolist(), self._eos_ids)
                for i, text, count in zip(chunk, texts, counts, strict=True):
                    outputs[i] = text
                    usages[i] = TokenUsage(len(encoded[i]), count)
        return outputs, usages

    def _generate_continuous(
        self, encoded: list[list[int]], max_new_tokens: int
    ) -> tuple[list[str], list[TokenUsage]]:
        """Greedy completions through ``model.generate_batch`` (module docstring)."""
        from transformers import GenerationConfig

        config = GenerationConfig(
            max_new_tokens=max_new_tokens,
            do_sample=False,
            eos_token_id=self._eos_ids,
            pad_token_id=self.tokenizer.pad_token_id,
        )
        kwargs: dict[str, Any] = {
            "generation_config": config,
            "progress_bar": False,
            "warmup": self.device == "cuda",  # CUDA-graph capture; nothing to warm on a CPU
        }
        if self.device == "cpu":
            kwargs["continuous_batching_config"] = _cpu_cache_config(encoded, max_new_tokens)
        with self._torch.inference_mode():
            results = list(self.model.generate_batch(encoded, **kwargs).values())
        failed = [r.error for r in results if r.error is not None]
        if len(results) != len(encoded) or failed:
            reason = failed[0] if failed else f"{len(results)} of {len(encoded)} results came back"
            raise ArenaError(
                f"Continuous batching failed for {self.model_name!r}: {reason}",
                "use engine=plain (the default), or report the transformers version.",
            )
        rows = [list(result.generated_tokens) for result in results]
        texts = self.tokenizer.batch_decode(rows, skip_special_tokens=True)
        counts = _generated_counts(rows, self._eos_ids)
        usages = [TokenUsage(len(p), c) for p, c in zip(encoded, counts, strict=True)]
        return list(texts), usages

    def _generation_kwargs(self, sampling: SamplingParams) -> dict[str, Any]:
        # Always greedy for transformers: sampling is SeededSampler's (module docstring).
        return {
            "max_new_tokens": sampling.max_new_tokens,
            "do_sample": False,
            "pad_token_id": self.tokenizer.pad_token_id,
            "eos_token_id": self._eos_ids,
        }

    # -- bookkeeping ----------------------------------------------------------------

    def _weights_dir(self) -> Path | None:
        if self._local_dir is not None:
            return self._local_dir
        return _cached_dir(self.model_name)  # a manifest without a hash beats a crash

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
            "engine": self.engine,
            "cpu_threads": self.threads,
            "transformers": transformers.__version__,
        }

    def close(self) -> None:
        """Drop the model so its (GPU) memory can be freed."""
        torch = self._torch
        self.model = None
        if self.device == "cuda":
            torch.cuda.empty_cache()


def _cpu_cache_config(encoded: list[list[int]], max_new_tokens: int) -> Any:
    """A paged cache that holds exactly this request on a CPU.

    Left to itself, transformers sizes the cache to a share of free memory, which on a
    CPU means allocating gigabytes and ~20 s per call for the tiny model; this request
    needs ``ceil((prompt + new) / page)`` blocks per chat (measured: 3 chats x 6 tokens
    0.8 s instead of 20 s, the same tokens).
    """
    from transformers.generation.configuration_utils import ContinuousBatchingConfig

    blocks = sum(-(-(len(ids) + max_new_tokens) // _CPU_PAGE) for ids in encoded)
    longest = max(len(ids) for ids in encoded)
    return ContinuousBatchingConfig(
        page_size=_CPU_PAGE,
        num_blocks=blocks + len(encoded),
        max_batch_tokens=max(256, longest),
    )


def _generated_counts(rows: list[list[int]], eos_ids: Sequence[int]) -> list[int]:
    """Tokens each row generated: up to and including its first end-of-sequence token
    (``generate`` pads finished rows with the pad token, which may itself be an EOS)."""
    stops = set(eos_ids)
    counts = []
    for row in rows:
        end = next((k for k, token in enumerate(row) if token in stops), None)
        counts.append(len(row) if end is None else end + 1)
    return counts
