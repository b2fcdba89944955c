"""Every theorem of the re-implemented papers as a checkable object.

``all_claims()`` lists them; ``run_claim_checks()`` runs each claim's symbolic and
numeric checks (and its empirical check where records are given) and returns one row per
claim — the table ``arena theory check`` prints and the analysis report embeds.

Your own claims join them through :func:`register_claim` or the ``arena.claims``
entry-point group (``theory/claims/registry.py``; worked example in
``docs/claims.md#your-own-claims``): ``all_claims()``, ``get_claim()`` and
``run_claim_checks()`` then include them after the papers' claims.

Claims marked ``reconstructed`` (DS T1-T4 and their stated variants, KALE, and the RAPO
variants) restate results whose source text could not be read; see
``docs/papers.md#rapo``, ``docs/papers.md#ds`` and ``docs/papers.md#kale``. Each claim's
``source`` says what kind of result it is (``docs/claims.md``). Every empirical verdict
reports ``n`` and an interval and says "insufficient data" below the claim's minimum
sample size (the shared rules are in :mod:`theory.claims.stats`).
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from theory.claims.base import (
    CheckResult,
    Claim,
    ClaimUsageError,
    RecordSchemaError,
    Source,
    Status,
    UnknownClaimError,
    check_alpha,
    skipped,
)
from theory.claims.registry import (
    ENTRY_POINT_GROUP,
    ClaimPluginError,
    ClaimRegistrationError,
    builtin_claims,
    register_claim,
    registered_claims,
    unregister_claim,
)

__all__ = [
    "ENTRY_POINT_GROUP",
    "CheckResult",
    "Claim",
    "ClaimCheckRow",
    "ClaimPluginError",
    "ClaimRegistrationError",
    "ClaimUsageError",
    "RecordSchemaError",
    "Source",
    "Status",
    "UnknownClaimError",
    "all_claims",
    "builtin_claims",
    "get_claim",
    "register_claim",
    "registered_claims",
    "run_claim_checks",
    "unregister_claim",
]


def all_claims() -> list[Claim]:
    """Fresh instances of every claim: the papers' (grouped by paper), then registered ones.

    Registered claims come from :func:`register_claim` and, loaded on the first call, the
    ``arena.claims`` entry points; a broken entry point raises :class:`ClaimPluginError`.
    """
    return [*builtin_claims(), *registered_claims()]


def get_claim(claim_id: str) -> Claim:
    """The claim with ``claim_id``; raises :class:`UnknownClaimError` naming the known ids."""
    claims = all_claims()
    for claim in claims:
        if claim.id == claim_id:
            return claim
    known = ", ".join(c.id for c in claims)
    raise UnknownClaimError(f"no claim has id {claim_id!r}. Fix: use one of {known}.")


@dataclass(frozen=True)
class ClaimCheckRow:
    """One line of the claims table: the three verdicts and the evidence that decides them."""

    claim: str
    paper: str
    symbolic: str
    numeric: str
    empirical: str
    evidence: str


def _run(check: Any, *args: Any) -> CheckResult:
    """Run one check; a crash is a failed check, except malformed user input."""
    try:
        result: CheckResult = check(*args)
    except (RecordSchemaError, ClaimUsageError):
        raise
    except Exception as exc:  # a crashing check must show up as a failure
        return CheckResult(Status.FAIL, f"raised {type(exc).__name__}: {exc}", {}, None)
    return result


# symbolic checks take no random input; a default-constructed built-in claim always gives
# the same verdict, so the table does not re-run sympy (keyed by the method, so a patched
# check runs). Registered claims are not cached: two instances of one class may differ.
_SYMBOLIC_CACHE: dict[tuple[type, Any], CheckResult] = {}


def claim_rng(seed: int, claim_id: str) -> np.random.Generator:
    """A generator that depends only on ``seed`` and the claim id, not on claim order."""
    return np.random.default_rng([seed, zlib.crc32(claim_id.encode())])


def run_claim_checks(
    seed: int = 0,
    n: int = 200,
    records: Mapping[str, Sequence[Mapping[str, Any]]] | None = None,
    tol: float = 0.05,
    alpha: float = 0.05,
    claim_ids: Sequence[str] | None = None,
) -> list[ClaimCheckRow]:
    """Symbolic and numeric checks of every claim, plus empirical ones where records exist.

    ``claim_ids`` restricts the checks to those claims (:class:`UnknownClaimError` for an
    id no claim has).

    ``records`` maps a claim id to the records its ``check_empirical`` reads (each claim's
    docstring gives the schema); claims without records get ``skipped``. ``n`` random
    instances per numeric check (at least 1); ``seed`` must be >= 0 (numpy seeds are
    non-negative); ``tol`` is the empirical tolerance (in each claim's units) and
    ``alpha`` the significance level of the statistical empirical tests. Bad
    ``n``/``seed``/``tol``/``alpha`` raise :class:`ClaimUsageError` before any check runs.
    Symbolic verdicts are deterministic and cached per claim class.
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ClaimUsageError(
            f"n={n!r} random instances per numeric check; at least one is needed, or every "
            "numeric check would pass having checked nothing. Fix: pass n >= 1."
        )
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ClaimUsageError(f"seed={seed!r} is not a non-negative integer. Fix: pass seed >= 0.")
    if not (isinstance(tol, (int, float)) and math.isfinite(tol) and tol >= 0):
        raise ClaimUsageError(f"tol={tol!r} is not a finite number >= 0. Fix: pass tol >= 0.")
    check_alpha(alpha)
    claims = all_claims()
    if claim_ids is not None:
        claims = [get_claim(claim_id) for claim_id in claim_ids]
    builtin_ids = {c.id for c in builtin_claims()}
    records = dict(records or {})
    unknown = sorted(set(records) - {c.id for c in claims})
    if unknown:
        known = ", ".join(c.id for c in claims)
        raise RecordSchemaError(
            f"records given for unknown claim ids {unknown}. Fix: use one of {known}."
        )
    rows = []
    for claim in claims:
        key = (type(claim), type(claim).check_symbolic)
        if claim.id not in builtin_ids:
            symbolic = _run(claim.check_symbolic)
        else:
            if key not in _SYMBOLIC_CACHE:
                _SYMBOLIC_CACHE[key] = _run(claim.check_symbolic)
            symbolic = _SYMBOLIC_CACHE[key]
        numeric = _run(claim.check_numeric, claim_rng(seed, claim.id), n)
        if claim.id in records:
            empirical = _run(claim.check_empirical, records[claim.id], tol, alpha)
        else:
            empirical = skipped("no records")
        failed = [
            f"{name}: {r.summary}"
            for name, r in (("symbolic", symbolic), ("numeric", numeric), ("empirical", empirical))
            if r.status is Status.FAIL
        ]
        if failed:
            evidence = " | ".join(failed)
        else:
            evidence = numeric.summary
            if claim.id in records:
                evidence += f" | empirical: {empirical.summary}"
        rows.append(
            ClaimCheckRow(
                claim=claim.id,
                paper=claim.paper + (" [reconstructed]" if claim.reconstructed else ""),
                symbolic=symbolic.status.value,
                numeric=numeric.status.value,
                empirical=empirical.status.value,
                evidence=evidence,
            )
        )
    return rows
