"""What every LLM agent kind does with its spec: check options, sample, acquire, wrap.

``hf:``, ``openai:`` and ``vllm:`` differ only in their generator kind; their
agent options are the same (``temperature``, ``top_p``, ``max_new_tokens``, ``seed``,
``system``) and the rest of a spec's options are the generator's loader options. So the
factories share :func:`make_llm_agent`: one place decides which option is whose, how a
bad value is reported and how per-episode seeds are salted.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from agents.backends.base import SamplingParams
from agents.base import AgentContext
from agents.generators import GeneratorSpec, acquire_generator, generator_options
from agents.llm import LLMAgent
from envs.errors import ArenaError

#: The agent's own options; the generator's loader options are added from the registry.
SAMPLING_OPTIONS = ("temperature", "top_p", "max_new_tokens", "seed", "system")
_EXAMPLES = {"temperature": "0.7", "top_p": "0.9", "max_new_tokens": "64", "seed": "0"}
T = TypeVar("T")


def _option(
    kind: str, options: Mapping[str, str], name: str, parse: Callable[[str], T], what: str
) -> T | None:
    if name not in options:
        return None
    raw = options[name]
    try:
        return parse(raw)
    except ValueError:
        raise ArenaError(
            f"Option {name}={raw!r} of the {kind} agent is not {what}.",
            f"write {name} as {what}, e.g. ?{name}={_EXAMPLES[name]}.",
        ) from None


def make_llm_agent(kind: str, argument: str, context: AgentContext) -> LLMAgent:
    """An :class:`LLMAgent` on the shared ``kind`` generator for ``argument``.

    Sampling options are checked before the generator is acquired, so a typo fails
    before a model loads or a server is contacted.
    """
    options = dict(context.options)
    loader_options = generator_options(kind)
    allowed = (*SAMPLING_OPTIONS, *loader_options)
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise ArenaError(
            f"Unknown option(s) {', '.join(unknown)} for the {kind} agent.",
            f"use any of: {', '.join(allowed)}.",
        )
    sampling_kwargs: dict[str, Any] = {}
    for name, parse, what in (
        ("temperature", float, "a number"),
        ("top_p", float, "a number"),
        ("max_new_tokens", int, "a whole number"),
    ):
        value = _option(kind, options, name, parse, what)
        if value is not None:
            sampling_kwargs[name] = value
    seed = _option(kind, options, "seed", int, "a whole number")
    sampling_kwargs["seed"] = context.seed if seed is None else seed
    try:
        sampling = SamplingParams(**sampling_kwargs)
    except ArenaError as exc:  # name it as the option the user wrote
        raise ArenaError(f"Bad option for the {kind} agent: {exc.message}", exc.fix) from None
    spec = GeneratorSpec(kind, argument, {k: v for k, v in options.items() if k in loader_options})
    generator = acquire_generator(spec)
    return LLMAgent(
        generator, sampling=sampling, system_prompt=options.get("system"), seed_salt=seed
    )
