"""The ``hf`` agent kind: ``hf:tiny``, ``hf:PATH`` or ``hf:OWNER/NAME`` + options.

Options (``?key=value&...``), all optional:

==================  ====================================================  ==========
option              meaning                                               default
==================  ====================================================  ==========
``temperature``     0 = greedy, else sampling temperature                 1.0
``top_p``           nucleus sampling mass in (0, 1]                       1.0
``max_new_tokens``  completion length cap                                 64
``seed``            base sampling seed (else the arena's seed)            arena seed
``system``          role prompt, replaces/prepends the system message     none
``device``          ``cpu``, ``cuda`` or ``auto``                         auto
``dtype``           ``auto``, ``float32`` or ``bfloat16``                 auto
``batch_size``      prompts per ``generate`` call on the device           32
==================  ====================================================  ==========

``hf:tiny`` builds the offline tiny model once (``agents.tiny.ensure_tiny_model``).
Importing this module registers the kind; ``agents.registry`` imports it lazily.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from agents.backends.base import SamplingParams
from agents.base import AgentContext
from agents.llm import LLMAgent
from agents.registry import register_agent_kind
from envs.errors import ArenaError

OPTIONS = (
    "temperature",
    "top_p",
    "max_new_tokens",
    "seed",
    "system",
    "device",
    "dtype",
    "batch_size",
)
T = TypeVar("T")


def _option(
    options: Mapping[str, str], name: str, parse: Callable[[str], T], what: str
) -> T | None:
    if name not in options:
        return None
    raw = options[name]
    try:
        return parse(raw)
    except ValueError:
        raise ArenaError(
            f"Option {name}={raw!r} of the hf agent is not {what}.",
            f"write {name} as {what}, e.g. ?{name}={_EXAMPLES[name]}.",
        ) from None


_EXAMPLES = {
    "temperature": "0.7",
    "top_p": "0.9",
    "max_new_tokens": "64",
    "seed": "0",
    "batch_size": "32",
}


def _choice(options: Mapping[str, str], name: str, allowed: tuple[str, ...]) -> str:
    value = options.get(name, "auto")
    if value not in allowed:
        raise ArenaError(
            f"Option {name}={value!r} of the hf agent is not one of {', '.join(allowed)}.",
            f"write e.g. ?{name}={allowed[0]}.",
        )
    return value


def make_hf_agent(argument: str, context: AgentContext) -> LLMAgent:
    """Factory for ``hf:ARG``: load the model and wrap it in an :class:`LLMAgent`."""
    from agents.backends.hf import DEVICES, DTYPES, HFGenerator

    options = dict(context.options)
    unknown = sorted(set(options) - set(OPTIONS))
    if unknown:
        raise ArenaError(
            f"Unknown option(s) {', '.join(unknown)} for the hf agent.",
            f"use any of: {', '.join(OPTIONS)}.",
        )
    if not argument:
        raise ArenaError(
            "The hf agent needs a model: hf: was given nothing after the colon.",
            "write hf:tiny, hf:PATH/TO/CHECKPOINT or hf:OWNER/NAME.",
        )

    sampling_kwargs: dict[str, Any] = {}
    for name, parse, what in (
        ("temperature", float, "a number"),
        ("top_p", float, "a number"),
        ("max_new_tokens", int, "a whole number"),
    ):
        value = _option(options, name, parse, what)
        if value is not None:
            sampling_kwargs[name] = value
    seed = _option(options, "seed", int, "a whole number")
    sampling_kwargs["seed"] = context.seed if seed is None else seed
    batch_size = _option(options, "batch_size", int, "a whole number")
    device = _choice(options, "device", DEVICES)
    dtype = _choice(options, "dtype", DTYPES)
    try:
        sampling = SamplingParams(**sampling_kwargs)
    except ArenaError as exc:  # name it as the option the user wrote
        raise ArenaError(f"Bad option for the hf agent: {exc.message}", exc.fix) from None

    if argument == "tiny":
        from agents.tiny import ensure_tiny_model

        model = str(ensure_tiny_model())
    else:
        model = argument
    generator = HFGenerator(
        model,
        device=device,
        dtype=dtype,
        batch_size=32 if batch_size is None else batch_size,
    )
    return LLMAgent(generator, sampling=sampling, system_prompt=options.get("system"))


register_agent_kind(
    "hf",
    make_hf_agent,
    "Hugging Face transformers causal LM: hf:tiny (offline tiny model), hf:PATH or "
    "hf:OWNER/NAME; options temperature, top_p, max_new_tokens, seed, system, device, "
    "dtype, batch_size",
)
