"""The ``scripted`` agent kind: hand-written attackers and defenders, no model needed.

Spec strings (the seat comes from the arena's ``role``):

* attacker seat — ``scripted:NAME`` for a MAGIC taxonomy strategy, a combination
  ``scripted:role-play+base64`` (applied left to right; at most one encoding, last),
  ``scripted:no-revision`` (MAGIC's baseline row) or ``scripted:random`` (a seeded draw
  per episode; ``?depth=K`` draws K strategies). ``?escalate=0`` stops multi-turn
  escalation.
* defender seat — ``scripted:refuse-all``, ``comply-all``, ``keyword-filter`` or
  ``decode-then-filter`` (``?words=a,b`` replaces and ``?extra=a,b`` extends the filter's
  word list).
* knowledge-graph seats (``kg_traversal_v0``, ``kg_answer_v0``) — ``scripted:random-walk``
  (navigator) and ``scripted:follow-rationale`` (answerer); see :mod:`agents.scripted.kg`.

Importing this module registers the kind (the registry imports it lazily).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from agents.base import Agent, AgentContext
from agents.registry import AgentSpecError, register_agent_kind
from agents.scripted.attackers import (
    ATTACKER_NAMES,
    ENCODINGS,
    MAX_RANDOM_DEPTH,
    NO_REVISION,
    RANDOM_NAME,
    STRATEGIES,
    RandomAttacker,
    ScriptedAttacker,
    Strategy,
    parse_chain,
)
from agents.scripted.defenders import (
    DEFENDER_NAMES,
    DEFENDERS,
    RISKY_WORDS,
    KeywordFilter,
    ScriptedDefender,
)
from agents.scripted.kg import KG_AGENTS, KG_ROLES, make_kg_agent

if TYPE_CHECKING:
    from rich.table import Table

ATTACKER_ROLE = "attacker"
DEFENDER_ROLE = "defender"
_ATTACKER_OPTIONS = ("escalate", "depth")
_DEFENDER_OPTIONS = ("words", "extra")

__all__ = [
    "ATTACKER_NAMES",
    "DEFENDER_NAMES",
    "STRATEGIES",
    "RandomAttacker",
    "ScriptedAttacker",
    "ScriptedDefender",
    "Strategy",
    "describe_scripted",
    "make_scripted_agent",
]


def _check_options(options: Mapping[str, str], allowed: tuple[str, ...], what: str) -> None:
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise AgentSpecError(
            f"Unknown option(s) {', '.join(unknown)} for a scripted {what}.",
            f"use only: {', '.join(allowed) or 'no options'}.",
        )


def _flag(options: Mapping[str, str], key: str, default: bool) -> bool:
    value = options.get(key)
    if value is None:
        return default
    if value.lower() in ("1", "true", "yes", "on"):
        return True
    if value.lower() in ("0", "false", "no", "off"):
        return False
    raise AgentSpecError(f"Option {key}={value!r} is not a boolean.", f"write {key}=1 or {key}=0.")


def _role_of(argument: str, role: str | None) -> str:
    parts = [part.strip() for part in argument.split("+")]
    defender_parts = [p for p in parts if p in DEFENDERS]
    if role is None:
        if parts[0] not in DEFENDERS and parts[0] not in ATTACKER_NAMES:
            raise AgentSpecError(
                f"Unknown scripted agent {parts[0]!r}.",
                f"attackers: {', '.join(ATTACKER_NAMES)}; defenders: {', '.join(DEFENDER_NAMES)}.",
            )
        if defender_parts and len(parts) > 1:
            raise AgentSpecError(
                f"Scripted spec {argument!r} combines a defender with other names.",
                f"defenders stand alone: {', '.join(DEFENDER_NAMES)}.",
            )
        return DEFENDER_ROLE if defender_parts else ATTACKER_ROLE
    if role not in (ATTACKER_ROLE, DEFENDER_ROLE):
        raise AgentSpecError(
            f"Scripted agents play the attacker or defender seat, not {role!r}.",
            "use scripted agents in attack_defense_v0 or the KG games, or another agent kind "
            "for this seat.",
        )
    if role == ATTACKER_ROLE and defender_parts:
        raise AgentSpecError(
            f"{defender_parts[0]!r} is a scripted defender, but it was given the attacker seat.",
            f"attackers: {', '.join(ATTACKER_NAMES)}.",
        )
    if role == DEFENDER_ROLE and parts[0] in ATTACKER_NAMES:
        raise AgentSpecError(
            f"{parts[0]!r} is a scripted attacker, but it was given the defender seat.",
            f"defenders: {', '.join(DEFENDER_NAMES)}.",
        )
    return role


def _make_defender(argument: str, options: Mapping[str, str]) -> ScriptedDefender:
    if argument not in DEFENDERS:
        raise AgentSpecError(
            f"Unknown scripted defender {argument!r}.",
            f"use one of: {', '.join(DEFENDER_NAMES)} (defenders do not combine).",
        )
    cls = DEFENDERS[argument]
    if not issubclass(cls, KeywordFilter):
        _check_options(options, (), f"defender {argument!r}")
        return cls()
    _check_options(options, _DEFENDER_OPTIONS, f"defender {argument!r}")
    words = [w for w in options.get("words", "").split(",") if w.strip()] or list(RISKY_WORDS)
    words += [w for w in options.get("extra", "").split(",") if w.strip()]
    return cls(tuple(dict.fromkeys(w.strip().lower() for w in words)))


def _make_attacker(argument: str, context: AgentContext) -> ScriptedAttacker:
    options = context.options
    escalation = _flag(options, "escalate", True)
    if argument == RANDOM_NAME:
        _check_options(options, _ATTACKER_OPTIONS, "random attacker")
        depth_text = options.get("depth", "1")
        if not depth_text.isdigit():
            raise AgentSpecError(
                f"Option depth={depth_text!r} is not a whole number.", "write e.g. depth=2."
            )
        return RandomAttacker(seed=context.seed, escalation=escalation, depth=int(depth_text))
    chain = parse_chain(argument)
    _check_options(options, ("escalate",), f"attacker {argument!r}")
    return ScriptedAttacker(chain, seed=context.seed, escalation=escalation)


def make_scripted_agent(argument: str, context: AgentContext) -> Agent:
    """Factory of the ``scripted`` kind: ``argument`` names the strategy, ``context`` the seat."""
    argument = argument.strip()
    if not argument:
        raise AgentSpecError(
            "A scripted agent spec names no strategy.",
            f"attackers: {', '.join(ATTACKER_NAMES)} (combine with '+', encodings last); "
            f"defenders: {', '.join(DEFENDER_NAMES)}.",
        )
    if context.role in KG_ROLES:
        return make_kg_agent(argument, context)
    if _role_of(argument, context.role) == DEFENDER_ROLE:
        return _make_defender(argument, context.options)
    return _make_attacker(argument, context)


def describe_scripted() -> Table:
    """The ``arena agents`` table of scripted strategies, seats and MAGIC taxonomy ids."""
    from rich.table import Table

    table = Table(title="scripted agents (attackers combine with '+', one encoding last)")
    for column in ("name", "seat", "MAGIC id", "family", "what it does"):
        table.add_column(column)
    for strategy in (*STRATEGIES.values(), NO_REVISION):
        table.add_row(
            strategy.name,
            ATTACKER_ROLE,
            str(strategy.taxonomy_id),
            strategy.family,
            strategy.description,
        )
    table.add_row(
        RANDOM_NAME,
        ATTACKER_ROLE,
        "—",
        "—",
        f"a seeded draw per episode; ?depth=K (1-{MAX_RANDOM_DEPTH}) strategies",
    )
    for name, cls in DEFENDERS.items():
        table.add_row(name, DEFENDER_ROLE, "—", "—", (cls.__doc__ or "").strip().splitlines()[0])
    for name, (role, _, what) in KG_AGENTS.items():
        table.add_row(name, role, "—", "—", what)
    return table


register_agent_kind(
    "scripted",
    make_scripted_agent,
    "hand-written attack_defense players. Attackers: "
    + ", ".join(ATTACKER_NAMES)
    + f" (combine with '+', one encoding last: {', '.join(ENCODINGS)}). Defenders: "
    + ", ".join(DEFENDER_NAMES)
    + ". KG seats: "
    + ", ".join(KG_AGENTS)
    + ".",
)
