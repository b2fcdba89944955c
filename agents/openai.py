"""The ``openai`` agent kind: a model behind an OpenAI-compatible server.

``openai:http://127.0.0.1:8000/v1?model=tiny&temperature=0.7`` plays with whatever
vLLM's or SGLang's server (or a hosted API) serves as ``tiny`` at that URL. The URL is
the spec's argument (it may contain ``:`` and ``/``: only the first ``:`` ends the kind,
and the first ``?`` starts the options, so the URL itself cannot carry a query).

Options (``?key=value&...``):

==================  ====================================================  ==============
option              meaning                                               default
==================  ====================================================  ==============
``model``           the model name the server serves (required)           —
``temperature``     0 = greedy, else sampling temperature                 1.0
``top_p``           nucleus sampling mass in (0, 1]                       1.0
``max_new_tokens``  completion length cap (the request's ``max_tokens``)  64
``seed``            mixed into every per-episode seed; also the base      arena seed
                    seed outside a match
``system``          role prompt, replaces/prepends the system message     none
``timeout``         seconds to connect and to wait for an answer          60
``max_retries``     retries of a request on connection errors,            3
                    timeouts, 429 and 5xx (with exponential backoff)
``concurrency``     requests in flight at once                            16
``api_key_env``     the environment variable holding the API key          OPENAI_API_KEY
==================  ====================================================  ==============

The API key is read from the environment, never from the spec (a spec ends up in run
manifests and logs). As for ``hf``, the first options are the agent's and the rest the
generator's (:mod:`agents.backends.openai`), acquired through
:func:`agents.generators.acquire_generator`: agents and guard judges naming the same
server, model and loader options share one generator and its concurrency limit. Each
chat is sent with its per-chat seed, so a sampled move depends on its episode's seed
only, as with ``hf``.

Importing this module registers the agent kind and (through the backend module) the
``openai`` generator kind; ``agents.registry`` imports it lazily.
"""

from __future__ import annotations

import agents.backends.openai  # noqa: F401 - registers the openai generator kind
from agents.base import AgentContext
from agents.llm import LLMAgent
from agents.llm_kind import make_llm_agent
from agents.registry import register_agent_kind
from envs.errors import ArenaError

_SECRET_OPTIONS = ("api_key", "key", "token", "password")


def make_openai_agent(argument: str, context: AgentContext) -> LLMAgent:
    """Factory for ``openai:URL``: acquire the shared generator, wrap it in an LLMAgent.

    Options are checked before anything is acquired (nothing is contacted either: an
    unreachable server shows up at the first move, as one clear error).
    """
    secrets = sorted(set(context.options) & set(_SECRET_OPTIONS))
    if secrets:
        raise ArenaError(
            f"The openai agent does not take an API key in its spec (got option "
            f"{', '.join(secrets)}).",
            "put the key in the environment variable OPENAI_API_KEY, or in another one "
            "named with ?api_key_env=NAME.",
        )
    return make_llm_agent("openai", argument, context)  # acquiring checks the URL


register_agent_kind(
    "openai",
    make_openai_agent,
    "OpenAI-compatible server (vLLM, SGLang, hosted API): openai:URL?model=NAME, e.g. "
    "openai:http://127.0.0.1:8000/v1?model=tiny; options temperature, top_p, "
    "max_new_tokens, seed, system, timeout, max_retries, concurrency, api_key_env "
    "(the key itself comes from the environment)",
)
