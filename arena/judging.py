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

from typing import Any, Literal

from agents.backends.base import SamplingParams
from agents.registry import parse_spec
from envs.attack_defense.judges import CachedJudge, GuardJudge, Judge, RuleJudge
from envs.errors import ArenaError

_GUARD_STYLES = ("qwen3guard", "llamaguard")


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
    kind, argument, options = parse_spec(generator_spec)
    if kind != "hf":
        raise ArenaError(
            f"Guard judge backend {kind!r} is not supported.",
            "use guard:hf:PATH (a Hugging Face guard model such as Qwen3Guard-Gen).",
        )
    style = options.pop("style", "qwen3guard")
    if style not in _GUARD_STYLES:
        raise ArenaError(
            f"Unknown guard style {style!r}.", f"use one of: {', '.join(_GUARD_STYLES)}."
        )
    try:
        max_new_tokens = int(options.pop("max_new_tokens", "64"))
    except ValueError as exc:
        raise ArenaError(
            "Guard option max_new_tokens must be an integer.", "e.g. ?max_new_tokens=64."
        ) from exc
    from agents.backends.hf import HFGenerator
    from agents.tiny import ensure_tiny_model

    path = str(ensure_tiny_model()) if argument == "tiny" else argument
    kwargs: dict[str, Any] = {k: options[k] for k in ("device", "dtype") if k in options}
    generator = HFGenerator(path, **kwargs)
    sampling = SamplingParams(max_new_tokens=max_new_tokens, temperature=0.0)

    def generate(chats: Any) -> list[str]:
        return generator.generate(chats, sampling)

    guard_style: Literal["qwen3guard", "llamaguard"] = (
        "llamaguard" if style == "llamaguard" else "qwen3guard"
    )
    return CachedJudge(GuardJudge(generate, style=guard_style))
