"""Judge spec strings, like agent specs, so the judge is swapped from the command line.

* ``rule`` — the offline rule-based judge (default);
* ``guard:<generator spec>`` — a Qwen3Guard / Llama-Guard style guard model run by any
  registered text generator (:mod:`agents.generators`), e.g.
  ``guard:hf:/models/Qwen3Guard-Gen-0.6B`` or ``guard:hf:tiny?style=llamaguard``. Judge
  options: ``style``, ``prompt_mode``, ``max_new_tokens``; every other option is the
  generator's loader option (``device``, ``dtype``, ``batch_size`` for ``hf``; ``model``,
  ``timeout``... for ``openai``, e.g. ``guard:openai:http://127.0.0.1:8000/v1?model=g``). Guard
  judges are wrapped in a cache so a lock-step round is judged in one batch.

The guard gets its model from the same registry as the agents, so ``-a hf:tiny -d
hf:tiny --judge guard:hf:tiny`` loads the tiny model once per process. It decodes
greedily: a verdict must be a function of (prompt, response), which is also what lets
the cache reuse it, and it needs no seeds.

The judge lives in ``envs`` (it is part of the game); building one from a model needs
a generation backend from ``agents``, which is why this factory sits in ``arena``.
"""

from __future__ import annotations

import dataclasses
from typing import Any, cast

from agents.backends.base import SamplingParams, TextGenerator
from agents.generators import GeneratorSpec, acquire_generator, generator_kind
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
#: The judge's own options; the rest of a guard spec's options go to the generator.
_JUDGE_OPTIONS = ("style", "prompt_mode", "max_new_tokens")


class GuardCachedJudge(CachedJudge):
    """A cached guard judge that owns a shared generator handle.

    :class:`CachedJudge` has no ``close``; this one gives the generator back, so the
    model is freed once the agents sharing it are closed too. Closing twice is harmless.
    """

    def __init__(self, inner: Judge, generator: TextGenerator) -> None:
        super().__init__(inner)
        self.generator = generator

    def close(self) -> None:
        self.generator.close()


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
    loader_options = generator_kind(kind).options  # unknown kind: "not supported"
    if not argument:
        raise ArenaError(
            "The guard judge names no model.", f"write guard:{kind}:PATH, e.g. guard:hf:tiny."
        )
    unknown = sorted(set(options) - {*_JUDGE_OPTIONS, *loader_options})
    if unknown:
        raise ArenaError(
            f"Unknown guard judge option(s) {', '.join(unknown)} in {generator_spec!r}.",
            f"use: {', '.join((*_JUDGE_OPTIONS, *loader_options))}.",
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
    raw_tokens = options.get("max_new_tokens", "64")
    try:
        max_new_tokens = int(raw_tokens)
    except ValueError as exc:
        raise ArenaError(
            f"Guard option max_new_tokens={raw_tokens!r} is not a whole number.",
            "e.g. ?max_new_tokens=64.",
        ) from exc
    try:
        sampling = SamplingParams(max_new_tokens=max_new_tokens, temperature=0.0)
    except ArenaError as exc:
        raise ArenaError(f"Bad guard judge option: {exc.message}", exc.fix) from None
    spec = GeneratorSpec(kind, argument, {k: v for k, v in options.items() if k in loader_options})
    generator = acquire_generator(spec)

    def generate(chats: Any) -> list[str]:
        return generator.generate(chats, sampling)

    try:
        info = {**generator.describe(), "sampling": dataclasses.asdict(sampling)}
        judge = GuardJudge(
            generate,
            style=cast(GuardStyle, style),  # validated above
            prompt_mode=cast(PromptMode, prompt_mode),
            generator_info=info,
        )
    except BaseException:
        generator.close()
        raise
    return GuardCachedJudge(judge, generator)
