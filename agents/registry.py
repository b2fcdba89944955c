"""Spec strings: ``kind:argument?key=value&...`` names an agent on the command line.

Built-in kinds:

* ``scripted:NAME`` — a hand-written strategy, e.g. ``scripted:role-play`` or a
  combination ``scripted:role-play+base64`` (see ``arena agents`` for the list);
* ``hf:PATH_OR_HUB_ID`` — a Hugging Face transformers causal LM (``hf:tiny`` is the
  offline tiny model the project builds locally); options such as
  ``?temperature=0.7&max_new_tokens=64`` set sampling;
* ``openai:URL?model=NAME`` — a model behind an OpenAI-compatible server, e.g.
  ``openai:http://127.0.0.1:8000/v1?model=tiny`` (the URL's own ``:`` and ``/`` are fine:
  only the first ``:`` ends the kind and the first ``?`` starts the options).

New kinds are registered either in code::

    from agents.registry import register_agent_kind
    register_agent_kind("mykind", make_my_agent, "what it is")

or, from another package, through the ``arena.agents`` entry-point group
(``mykind = "mypkg.agents:make_my_agent"``); a factory is called as
``factory(argument, context)`` with an :class:`~agents.base.AgentContext`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any
from urllib.parse import parse_qsl

from agents.base import Agent, AgentContext
from envs.errors import ArenaError

AgentFactory = Callable[[str, AgentContext], Agent]


@dataclass(frozen=True)
class AgentKind:
    name: str
    factory: AgentFactory
    help: str


_KINDS: dict[str, AgentKind] = {}
_BUILTIN_MODULES = {
    "scripted": "agents.scripted",
    "hf": "agents.hf",
    "tabular": "agents.tabular",
    "openai": "agents.openai",
    "vllm": "agents.vllm",
}
_entry_points_loaded = False


class AgentSpecError(ArenaError):
    """A spec string that does not name an agent."""


def register_agent_kind(name: str, factory: AgentFactory, help: str = "") -> None:
    """Make ``name:ARG`` specs build agents with ``factory(ARG, context)``."""
    if not name.isidentifier():
        raise ValueError(f"agent kind {name!r} must be an identifier")
    _KINDS[name] = AgentKind(name, factory, help)


def _load_entry_points() -> None:
    global _entry_points_loaded
    if _entry_points_loaded:
        return
    _entry_points_loaded = True
    for entry in entry_points(group="arena.agents"):
        if entry.name in _KINDS:
            continue
        try:
            factory = entry.load()
        except Exception as exc:  # a broken plug-in must not break every lookup
            raise AgentSpecError(
                f"The agent kind {entry.name!r} registered by {entry.value!r} "
                f"failed to load: {type(exc).__name__}: {exc}.",
                "fix or uninstall the package that registers it (entry-point group arena.agents).",
            ) from exc
        register_agent_kind(entry.name, factory, f"from {entry.value}")


def _ensure_kind(kind: str) -> AgentKind | None:
    if kind not in _KINDS and kind in _BUILTIN_MODULES:
        importlib.import_module(_BUILTIN_MODULES[kind])  # registers itself on import
    if kind not in _KINDS:
        _load_entry_points()
    return _KINDS.get(kind)


def known_kinds() -> list[AgentKind]:
    for kind in _BUILTIN_MODULES:
        _ensure_kind(kind)
    _load_entry_points()
    return sorted(_KINDS.values(), key=lambda k: k.name)


def parse_spec(spec: str) -> tuple[str, str, dict[str, str]]:
    """Split ``kind:argument?k=v&k2=v2`` into its three parts (argument may be empty).

    A registered kind that takes no argument may be named without the colon (``tft``
    for ``tft:``): a user who registered it by that name should not have to guess the
    colon. Anything else without a colon is an error naming the fix.
    """
    if ":" not in spec and _ensure_kind(spec.partition("?")[0].strip()) is not None:
        spec = spec.replace("?", ":?", 1) if "?" in spec else spec + ":"
    if ":" not in spec:
        raise AgentSpecError(
            f"Agent spec {spec!r} has no kind.",
            "write KIND:ARGUMENT, e.g. scripted:role-play or hf:tiny "
            "(`arena agents` lists the kinds).",
        )
    kind, _, rest = spec.partition(":")
    argument, _, query = rest.partition("?")
    try:
        options = dict(parse_qsl(query, keep_blank_values=True, strict_parsing=bool(query)))
    except ValueError as exc:
        raise AgentSpecError(
            f"Agent spec {spec!r} has malformed options {query!r}.",
            "write options as ?key=value&key2=value2.",
        ) from exc
    return kind.strip(), argument.strip(), options


def make_agent(
    spec: str,
    *,
    role: str | None = None,
    seed: int | None = None,
    action_space: Any = None,
    observation_space: Any = None,
    game: Any = None,
    player: int | None = None,
) -> Agent:
    """Build the agent a spec string names, or raise one clear :class:`AgentSpecError`.

    The keyword arguments describe the seat (see :class:`~agents.base.AgentContext`).
    """
    kind_name, argument, options = parse_spec(spec)
    kind = _ensure_kind(kind_name)
    if kind is None:
        names = ", ".join(k.name for k in known_kinds())
        raise AgentSpecError(
            f"Unknown agent kind {kind_name!r} in spec {spec!r}.",
            f"use one of: {names}; or register a new kind (see agents/registry.py).",
        )
    context = AgentContext(
        role=role,
        seed=seed,
        options=options,
        action_space=action_space,
        observation_space=observation_space,
        game=game,
        player=player,
    )
    agent = kind.factory(argument, context)
    agent.spec = spec
    return agent
