"""Your own claims: register them in code or through the ``arena.claims`` entry points.

A registered claim is listed by :func:`theory.claims.all_claims`, found by
:func:`theory.claims.get_claim`, and checked by :func:`theory.claims.run_claim_checks`
(so ``arena theory check`` prints it) exactly like the papers' claims. Register one in
code::

    from theory.claims import register_claim
    register_claim(MyClaim)            # a Claim subclass (default-constructed),
    register_claim(MyClaim(k=3))       # a Claim instance (shared, not copied), or
    register_claim(lambda: MyClaim(3)) # a zero-argument callable returning a Claim

or, from an installed package, through the ``arena.claims`` entry-point group::

    [project.entry-points."arena.claims"]
    "mypkg.my-claim" = "mypkg.claims:MyClaim"

The entry point may name any of the three forms above. Entry points are loaded lazily,
once, the first time the claims are listed; a plug-in that fails to load (or does not
give a :class:`~theory.claims.base.Claim`) raises one :class:`ClaimPluginError` naming
the entry point and the fix, every time the claims are listed, until it is fixed.

Ids are unique: registering an id that is already registered raises
:class:`ClaimRegistrationError` unless ``replace=True``; the papers' own ids (the
built-in claims) can never be replaced, so a table row ``magic.thm3.2`` always means
the built-in check. A claim registered in code takes precedence over an entry point
with the same id (so a script can override an installed plug-in while developing it).
Worked example: ``docs/claims.md#your-own-claims``.
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from theory.claims.base import Claim
from theory.claims.ds import ds_claims
from theory.claims.kale import kale_claims
from theory.claims.magic import MagicPointwiseSafetyClaim, MagicSimultaneousContrastClaim
from theory.claims.rapo import rapo_claims
from theory.errors import TheoryError

ENTRY_POINT_GROUP = "arena.claims"

#: something that gives a claim: a Claim instance, a Claim subclass, or a
#: zero-argument callable returning a Claim
ClaimFactory = Callable[[], Claim]


class ClaimRegistrationError(TheoryError):
    """A claim could not be registered (duplicate id, not a claim, no id)."""


class ClaimPluginError(ClaimRegistrationError):
    """An ``arena.claims`` entry point failed to load or does not give a claim."""


@dataclass(frozen=True)
class _Registered:
    claim_id: str
    factory: ClaimFactory
    origin: str  # "code" or "entry point NAME = VALUE"


_REGISTRY: dict[str, _Registered] = {}
_entry_points_loaded = False


def builtin_claims() -> list[Claim]:
    """Fresh instances of the papers' claims, grouped by paper (no registered ones)."""
    return [
        MagicPointwiseSafetyClaim(),
        MagicSimultaneousContrastClaim(),
        *rapo_claims(),
        *ds_claims(),
        *kale_claims(),
    ]


def _as_factory(obj: Any) -> ClaimFactory | None:
    """``obj`` as a zero-argument callable giving a claim, or ``None`` if it cannot be one."""
    if isinstance(obj, Claim):
        return lambda: obj
    if isinstance(obj, type):
        return obj if issubclass(obj, Claim) else None
    return obj if callable(obj) else None


def _make(obj: Any, what: str) -> tuple[ClaimFactory, Claim]:
    """Check that ``obj`` gives a claim with a usable id; raise with ``what`` in the message."""
    forms = "a Claim instance, a Claim subclass, or a zero-argument callable returning a Claim"
    factory = _as_factory(obj)
    if factory is None:
        raise ClaimRegistrationError(
            f"{what} is of type {type(obj).__name__}, not a claim. Fix: give {forms}."
        )
    try:
        claim = factory()
    except Exception as exc:
        raise ClaimRegistrationError(
            f"{what} failed to build a claim: {type(exc).__name__}: {exc}. Fix: give {forms}."
        ) from exc
    if not isinstance(claim, Claim):
        raise ClaimRegistrationError(
            f"{what} returned a {type(claim).__name__}, not a Claim. Fix: give {forms}."
        )
    claim_id = getattr(claim, "id", None)
    if not isinstance(claim_id, str) or not claim_id.strip():
        raise ClaimRegistrationError(
            f"{what} gives a claim without an id ({claim_id!r}). Fix: set the class "
            "attribute id to a non-empty string, e.g. 'mypkg.my-claim'."
        )
    return factory, claim


def _builtin_ids() -> set[str]:
    return {c.id for c in builtin_claims()}


def register_claim(claim_or_factory: Any, *, replace: bool = False) -> Claim:
    """Add a claim to :func:`~theory.claims.all_claims`; return an instance of it.

    ``claim_or_factory`` is a Claim instance (listed as is, not copied), a Claim subclass
    (default-constructed each time the claims are listed), or a zero-argument callable
    returning a Claim (called each time). It is called once here to read the id.
    An id already registered raises :class:`ClaimRegistrationError` unless ``replace``;
    a built-in claim's id always does (pick a namespaced id such as ``mypkg.name``).
    """
    factory, claim = _make(claim_or_factory, f"register_claim({claim_or_factory!r})")
    if claim.id in _builtin_ids():
        raise ClaimRegistrationError(
            f"claim id {claim.id!r} is a built-in claim's id and cannot be replaced. "
            "Fix: give your claim another id, e.g. 'mypkg.' + its name."
        )
    existing = _REGISTRY.get(claim.id)
    # code overrides an entry point's claim; two registrations in code clash
    if existing is not None and existing.origin == "code" and not replace:
        raise ClaimRegistrationError(
            f"claim id {claim.id!r} is already registered (code). Fix: give your claim "
            "another id, or pass replace=True to register_claim."
        )
    _REGISTRY[claim.id] = _Registered(claim.id, factory, "code")
    return claim


def unregister_claim(claim_id: str) -> None:
    """Remove a registered claim; raise :class:`ClaimRegistrationError` if none has the id."""
    if claim_id not in _REGISTRY:
        known = ", ".join(sorted(_REGISTRY)) or "none"
        raise ClaimRegistrationError(
            f"no registered claim has id {claim_id!r} (registered: {known}). Fix: use one "
            "of those; built-in claims cannot be unregistered."
        )
    del _REGISTRY[claim_id]


def _load_entry_points() -> None:
    """Register every ``arena.claims`` entry point, all or none, at most once."""
    global _entry_points_loaded
    if _entry_points_loaded:
        return
    fix = (
        f"Fix: correct or uninstall the package that registers it (entry-point group "
        f"{ENTRY_POINT_GROUP}); the entry point must name a Claim subclass, a Claim "
        "instance or a zero-argument callable returning a Claim, with an id of its own."
    )
    builtin = _builtin_ids()
    loaded: dict[str, tuple[ClaimFactory, str]] = {}
    for entry in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        origin = f"entry point {entry.name} = {entry.value}"
        what = f"the {ENTRY_POINT_GROUP} {origin}"
        try:
            factory, claim = _make(entry.load(), what)
        except ClaimRegistrationError as exc:
            raise ClaimPluginError(f"{str(exc).split('. Fix:')[0]}. {fix}") from exc
        except Exception as exc:  # a broken plug-in: one clear line, not a traceback
            raise ClaimPluginError(
                f"{what} failed to load: {type(exc).__name__}: {exc}. {fix}"
            ) from exc
        if claim.id in builtin:
            raise ClaimPluginError(
                f"{what} gives claim id {claim.id!r}, a built-in claim's id. {fix}"
            )
        if claim.id in loaded:
            raise ClaimPluginError(
                f"claim id {claim.id!r} is given by two {ENTRY_POINT_GROUP} entry points "
                f"({loaded[claim.id][1]}; {origin}). {fix}"
            )
        loaded[claim.id] = (factory, origin)
    for claim_id, (factory, origin) in loaded.items():
        if claim_id not in _REGISTRY:  # a claim registered in code takes precedence
            _REGISTRY[claim_id] = _Registered(claim_id, factory, origin)
    _entry_points_loaded = True


def registered_claims() -> list[Claim]:
    """Fresh instances of the registered claims (entry points loaded first), in order."""
    _load_entry_points()
    claims = []
    for item in list(_REGISTRY.values()):
        claim = item.factory()
        if not isinstance(claim, Claim) or claim.id != item.claim_id:
            raise ClaimRegistrationError(
                f"the claim registered as {item.claim_id!r} ({item.origin}) now gives "
                f"{claim!r}. Fix: make its factory return the same claim id every time."
            )
        claims.append(claim)
    return claims


def is_registered(claim_id: str) -> bool:
    """Whether ``claim_id`` belongs to a registered (not built-in) claim."""
    _load_entry_points()
    return claim_id in _REGISTRY
