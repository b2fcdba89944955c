"""Judge spec strings, like agent specs, so the judge is swapped from the command line.

* ``rule`` — the offline rule-based judge (default);
* ``guard:<generator spec>`` — a Qwen3Guard / Llama-Guard style guard model run by any
  text generator, e.g. ``guard:hf:/models/Qwen3Guard-Gen-0.6B`` or
  ``guard:hf:tiny?style=llamaguard`` (options: ``style``, ``max_new_tokens``, ``device``,
  ``dtype``). Guard judges are wrapped in a cache so a lock-step round is judged in one
  batch.

The judge lives in ``envs`` (it is part of the game); building one from a model needs
a generation backend from ``agents``, which is why this factory sits in ``arena``.
"""

from __future__ import annotations

import dataclasses
from typing import Any, cast

from agents.backends.base import SamplingParams
from agents.registry import parse_spec
from envs.attack_defense.judges import (
    CachedJudge,
    GuardJudge,
    GuardStyle,
    Judge,
    PromptMode,
    RuleJudge,
)
from envs.errors import ArenaError

_GUARD_STYLES = ("qwen3guard", "llamaguard")
_GUARD_OPTIONS = ("style", "prompt_mode", "max_new_tokens", "batch_size", "device", "dtype")


def make_judge(spec: str) -> Judge:
    """Build the judge a spec string names, or raise one clear :class:`ArenaError`."""
    if spec == "rule":
        return RuleJudge()
    if spec.startswith("guard:"):
        return _make_guard_judge(spec.removeprefix("guard:"))
    raise ArenaError(
        f"Unknown judge {spec!r}.",
        "use 'rule' (offline default) or 'guard:hf:PATH' for a guard model.",
    )


def _make_guard_judge(generator_spec: str) -> Judge:
    if not generator_spec.strip():
        raise ArenaError(
            "The guard judge names no model.", "write guard:hf:PATH, e.g. guard:hf:tiny."
        )
    kind, argument, options = parse_spec(generator_spec)
    if kind != "hf":
        raise ArenaError(
            f"Guard judge backend {kind!r} is not supported.",
            "use guard:hf:PATH (a Hugging Face guard model such as Qwen3Guard-Gen).",
        )
    if not argument:
        raise ArenaError("The guard judge names no model.", "write guard:hf:PATH or guard:hf:tiny.")
    unknown = sorted(set(options) - set(_GUARD_OPTIONS))
    if unknown:
        raise ArenaError(
            f"Unknown guard judge option(s) {', '.join(unknown)} in {generator_spec!r}.",
            f"use: {', '.join(_GUARD_OPTIONS)}.",
        )
    style = options.get("style", "qwen3guard")
    if style != "qwen3guard" and style != "llamaguard":
        raise ArenaError(
            f"Unknown guard style {style!r}.", f"use one of: {', '.join(_GUARD_STYLES)}."
        )
    prompt_mode = options.get("prompt_mode", "native")
    if prompt_mode != "native" and prompt_mode != "instructed":
        raise ArenaError(
            f"Unknown guard prompt_mode {prompt_mode!r}.",
            "use 'native' (the guard's own template) or 'instructed' (any instruct model).",
        )
    try:
        max_new_tokens = int(options.get("max_new_tokens", "64"))
        batch_size = int(options.get("batch_size", "32"))
    except ValueError as exc:
        raise ArenaError(
            "Guard options max_new_tokens and batch_size must be integers.",
            "e.g. ?max_new_tokens=64&batch_size=32.",
        ) from exc
    from agents.backends.hf import HFGenerator
    from agents.tiny import ensure_tiny_model

    path = str(ensure_tiny_model()) if argument == "tiny" else argument
    kwargs: dict[str, Any] = {k: options[k] for k in ("device", "dtype") if k in options}
    generator = HFGenerator(path, batch_size=batch_size, **kwargs)
    sampling = SamplingParams(max_new_tokens=max_new_tokens, temperature=0.0)

    def generate(chats: Any) -> list[str]:
        return generator.generate(chats, sampling)

    info = {**generator.describe(), "sampling": dataclasses.asdict(sampling)}
    return CachedJudge(
        GuardJudge(
            generate,
            style=cast(GuardStyle, style),  # validated above
            prompt_mode=cast(PromptMode, prompt_mode),
            generator_info=info,
        )
    )
