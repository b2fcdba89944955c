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
``engine``          ``plain`` or ``continuous`` (greedy requests through  plain
                    transformers' continuous batching: the GPU path)
==================  ====================================================  ==========

The first five are the agent's (how it samples); ``device``, ``dtype``, ``batch_size``
and ``engine`` are the generator's (what is loaded) and go to
:func:`agents.generators.acquire_generator`, so agents and guard judges naming the same
model with the same loader options share one loaded instance per process, however
differently they sample. In a match the runner's per-episode seeds are used as they are,
or as ``sub_seed(seed, SEED)`` when the spec says ``seed=SEED`` (so ``seed=`` still
gives a different, reproducible run).

``hf:tiny`` builds the offline tiny model once (``agents.tiny.ensure_tiny_model``).
Importing this module registers the kind; ``agents.registry`` imports it lazily.
"""

from __future__ import annotations

from agents.base import AgentContext
from agents.llm import LLMAgent
from agents.llm_kind import SAMPLING_OPTIONS, make_llm_agent
from agents.registry import register_agent_kind
from envs.errors import ArenaError

OPTIONS = (*SAMPLING_OPTIONS, "device", "dtype", "batch_size", "engine")


def make_hf_agent(argument: str, context: AgentContext) -> LLMAgent:
    """Factory for ``hf:ARG``: acquire the shared model and wrap it in an :class:`LLMAgent`."""
    if not argument:
        raise ArenaError(
            "The hf agent needs a model: hf: was given nothing after the colon.",
            "write hf:tiny, hf:PATH/TO/CHECKPOINT or hf:OWNER/NAME.",
        )
    return make_llm_agent("hf", argument, context)


register_agent_kind(
    "hf",
    make_hf_agent,
    "Hugging Face transformers causal LM: hf:tiny (offline tiny model), hf:PATH or "
    "hf:OWNER/NAME; options temperature, top_p, max_new_tokens, seed, system, device, "
    "dtype, batch_size, engine",
)
