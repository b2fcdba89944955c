"""The ``hf`` agent kind: ``hf:tiny``, ``hf:PATH`` or ``hf:OWNER/NAME`` + options.

Options (``?key=value&...``), all optional:

==================  ====================================================  ==========
option              meaning                                               default
==================  ====================================================  ==========
``temperature``     0 = greedy, else sampling temperature                 1.0
``top_p``           nucleus sampling mass in (0, 1]                       1.0
``max_new_tokens``  completion length cap                                 64
``seed``            mixed into every per-episode seed; also the base      arena seed
                    seed outside a match
``system``          role prompt, replaces/prepends the system message     none
``device``          ``cpu``, ``cuda`` or ``auto``                         auto
``dtype``           ``auto``, ``float32`` or ``bfloat16``                 auto
``batch_size``      prompts per forward pass on the device                32
==================  ====================================================  ==========

The first five are the agent's (how it samples); ``device``, ``dtype`` and
``batch_size`` are the generator's (what is loaded) and go to
:func:`agents.generators.acquire_generator`, so agents and guard judges naming the same
model with the same loader options share one loaded instance per process, however
differently they sample. In a match the runner's per-episode seeds are used as they are,
or as ``sub_seed(seed, SEED)`` when the spec says ``seed=SEED`` (so ``seed=`` still
gives a different, reproducible run).

``hf:tiny`` builds the offline tiny model once (``agents.tiny.ensure_tiny_model``).
Importing this module registers the kind; ``agents.registry`` imports it lazily.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from agents.backends.base import SamplingParams
from agents.base import AgentContext
from agents.generators import GeneratorSpec, acquire_generator, generator_options
from agents.llm import LLMAgent
from agents.registry import register_agent_kind
from envs.errors import ArenaError

#: The agent's own options; the generator's loader options are added from the registry.
SAMPLING_OPTIONS = ("temperature", "top_p", "max_new_tokens", "seed", "system")
OPTIONS = (*SAMPLING_OPTIONS, "device", "dtype", "batch_size")
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
}


def make_hf_agent(argument: str, context: AgentContext) -> LLMAgent:
    """Factory for ``hf:ARG``: acquire the shared model and wrap it in an :class:`LLMAgent`.

    Sampling options are checked before the model is acquired, so a typo fails fast.
    """
    options = dict(context.options)
    loader_options = generator_options("hf")
    allowed = (*SAMPLING_OPTIONS, *loader_options)
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise ArenaError(
            f"Unknown option(s) {', '.join(unknown)} for the hf agent.",
            f"use any of: {', '.join(allowed)}.",
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
    try:
        sampling = SamplingParams(**sampling_kwargs)
    except ArenaError as exc:  # name it as the option the user wrote
        raise ArenaError(f"Bad option for the hf agent: {exc.message}", exc.fix) from None

    spec = GeneratorSpec("hf", argument, {k: v for k, v in options.items() if k in loader_options})
    generator = acquire_generator(spec)
    return LLMAgent(
        generator, sampling=sampling, system_prompt=options.get("system"), seed_salt=seed
    )


register_agent_kind(
    "hf",
    make_hf_agent,
    "Hugging Face transformers causal LM: hf:tiny (offline tiny model), hf:PATH or "
    "hf:OWNER/NAME; options temperature, top_p, max_new_tokens, seed, system, device, "
    "dtype, batch_size",
)
