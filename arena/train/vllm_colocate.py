"""GRPO generation through vLLM in colocate mode, with a weight sync that works on the CPU.

TRL's ``GRPOConfig(use_vllm=True, vllm_mode="colocate")`` runs a vLLM engine inside the
trainer's process and, before each step's generation, copies the policy's current weights
into it (``VLLMGeneration.sync_weights``). TRL copies them with the model's
``load_weights``, parameter by parameter. On vLLM's CPU build that fails at the first sync
(``'Parameter' object has no attribute 'weight_loader'``): after loading, the CPU build
has turned its layers' weights into kernel-format tensors that ``load_weights`` no longer
knows how to fill. vLLM's own in-place reload, ``model_runner.reload_weights(
weights_iterator=...)``, restores the loading machinery around the same call and works
there: it takes checkpoint-format ``(name, tensor)`` pairs, which is what the policy's
``named_parameters`` are. (Measured on the tiny model: after the reload vLLM's greedy
outputs equal transformers' on the updated weights; ``tests/test_vllm_training.py``.)

:func:`install_weight_sync` swaps that reload in for TRL's sync on one trainer. It keeps
TRL's parameter walk (``_iter_named_params``: PEFT adapters merged, DeepSpeed/FSDP
parameters gathered, names fixed for vLLM) and only changes how the tensors are loaded.
By default it does so where TRL's own sync fails, i.e. on the CPU platform; elsewhere
TRL's sync is kept unless ``always=True``.

Use (the hook a trainer calls once, after building its ``GRPOTrainer``)::

    trainer = GRPOTrainer(..., args=GRPOConfig(**colocate_settings(), ...))
    install_weight_sync(trainer)   # no-op unless the trainer uses vLLM in colocate mode

TRL warns that it is tested with vLLM up to 0.31; the CPU build here is 0.32.
"""

from __future__ import annotations

import contextlib
import functools
import types
from collections.abc import Iterable, Iterator
from typing import Any

from envs.errors import ArenaError

#: GRPOConfig settings for vLLM in colocate mode on a small machine (CPU or one GPU).
COLOCATE_SETTINGS: dict[str, Any] = {
    "use_vllm": True,
    "vllm_mode": "colocate",
    # A fraction of the GPU (ignored by the CPU build, which sizes its KV cache from
    # VLLM_CPU_KVCACHE_SPACE in GiB): the trainer's model and optimizer need the rest.
    "vllm_gpu_memory_utilization": 0.3,
    "vllm_enable_sleep_mode": False,
}


def colocate_settings(max_model_length: int | None = 2048) -> dict[str, Any]:
    """GRPOConfig keyword arguments for colocated vLLM generation (pass them on as is)."""
    settings = dict(COLOCATE_SETTINGS)
    if max_model_length is not None:
        settings["vllm_max_model_length"] = max_model_length
    return settings


@contextlib.contextmanager
def engine_args(**kwargs: Any) -> Iterator[None]:
    """Extra ``vllm.LLM`` arguments for the colocated engines TRL builds inside the block.

    TRL's GRPOConfig does not pass every engine setting on; e.g. ``enforce_eager=True``
    (no compilation at start-up: about 90 s less on a 2-core CPU with a cold cache, at
    some decoding speed) must reach ``vllm.LLM`` directly. Build the trainer inside::

        with engine_args(enforce_eager=True):
            trainer = GRPOTrainer(...)
    """
    from trl.generation import vllm_generation

    original = vllm_generation.LLM
    vllm_generation.LLM = functools.partial(original, **kwargs)
    try:
        yield
    finally:
        vllm_generation.LLM = original


@contextlib.contextmanager
def colocated_engine(use_vllm: bool) -> Iterator[None]:
    """Build a GRPOTrainer inside this block: with ``use_vllm`` on vLLM's CPU build its
    engine skips compilation (``enforce_eager``: ~90 s less start-up per phase on a small
    CPU); otherwise nothing changes."""
    if use_vllm and vllm_on_cpu():
        with engine_args(enforce_eager=True):
            yield
    else:
        yield


def vllm_on_cpu() -> bool:
    """Whether the installed vLLM is the CPU build (its platform is the CPU)."""
    from vllm.platforms import current_platform

    return bool(current_platform.is_cpu())


def model_runner(llm: Any) -> Any:
    """The model runner of a colocated (in-process) ``vllm.LLM``, or a clear ArenaError."""
    try:
        return llm.llm_engine.model_executor.driver_worker.model_runner
    except AttributeError as exc:
        raise ArenaError(
            "This vLLM engine does not run its model in this process, so its weights cannot "
            "be reloaded in place.",
            "use GRPOConfig(vllm_mode='colocate') (TRL starts the engine with "
            "distributed_executor_backend='external_launcher').",
        ) from exc


def reload_weights(llm: Any, weights: Iterable[tuple[str, Any]]) -> None:
    """Load checkpoint-format ``(name, tensor)`` pairs into a colocated engine, in place.

    Clears the prefix cache afterwards: cached KV blocks were computed with the old weights.
    """
    model_runner(llm).reload_weights(weights_iterator=iter(weights))
    llm.reset_prefix_cache()


def _named_params(generation: Any) -> Iterator[tuple[str, Any]]:
    """TRL's own parameter walk where it has one (PEFT, DeepSpeed, FSDP handled)."""
    walk = getattr(generation, "_iter_named_params", None)
    if callable(walk):
        yield from walk()
        return
    for name, param in generation.model.named_parameters():  # pragma: no cover - old TRL
        yield name, param.data


def _sync_weights(generation: Any) -> None:
    """The replacement for ``VLLMGeneration.sync_weights`` in colocate mode."""
    reload_weights(generation.llm, _named_params(generation))


def install_weight_sync(trainer: Any, *, always: bool = False) -> bool:
    """Make ``trainer`` (a TRL GRPOTrainer) sync weights into vLLM with ``reload_weights``.

    Returns whether it was installed: only for a trainer using vLLM in colocate mode, and
    only on the CPU build unless ``always`` (module docstring). Idempotent.
    """
    generation = getattr(trainer, "vllm_generation", None)
    if not getattr(trainer, "use_vllm", False) or generation is None:
        return False
    if getattr(generation, "mode", None) != "colocate":
        return False
    if not (always or vllm_on_cpu()):
        return False
    if getattr(generation, "_arena_reload_sync", False):
        return True
    if getattr(generation, "enable_sleep_mode", False):
        raise ArenaError(
            "vLLM sleep mode discards the engine's weights, which an in-place reload needs.",
            "set GRPOConfig(vllm_enable_sleep_mode=False) (arena.train.vllm_colocate."
            "colocate_settings does).",
        )
    generation.sync_weights = types.MethodType(_sync_weights, generation)
    generation._arena_reload_sync = True
    return True


def engine_greedy_ids(llm: Any, prompt_ids: list[list[int]], max_tokens: int) -> list[list[int]]:
    """Greedy completion ids of a (colocated) engine, prompts given as token ids.

    What a test or a user checks a sync with: compare them with the policy's own greedy
    ``generate`` on the same ids.
    """
    from vllm import SamplingParams

    params = SamplingParams(temperature=0.0, max_tokens=max_tokens, detokenize=False)
    outputs = llm.generate(
        [{"prompt_token_ids": ids} for ids in prompt_ids], params, use_tqdm=False
    )
    return [list(output.outputs[0].token_ids) for output in outputs]
