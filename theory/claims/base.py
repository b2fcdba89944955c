"""The shape every claim shares: a statement, its assumptions, and three typed checks.

A *claim* is one theorem (or one reconstructed theorem) of a paper this repository
re-implements. It is an object rather than a test so that the CLI, the analysis report
and the test-suite all run the same checks and print the same evidence:

* ``check_symbolic()`` proves the algebraic core with sympy (an identity, a solved
  threshold, a derivative);
* ``check_numeric(rng, n)`` samples ``n`` random instances of the claim's model and
  verifies the conclusion with numpy/scipy (and the game solvers of ``theory``), so a
  wrong formula or a wrong solver makes it fail;
* ``check_empirical(records, tol, alpha)`` compares the claim's prediction with
  measurements from a run. Each claim documents the record schema it reads. ``tol`` is a
  *tolerance* (how far a measured number may be from the prediction, in the claim's
  units); ``alpha`` is a *significance level* (the false-alarm rate of a statistical
  test). A claim uses whichever its test needs and says so; every empirical verdict
  reports ``n`` (the sample size it used) and an ``interval``, and below the claim's
  ``min_records`` it returns ``INSUFFICIENT`` ("insufficient data") rather than ``PASS``
  (data that already contradict the claim ``FAIL`` at any ``n``). The shared decision
  rules are in :mod:`theory.claims.stats`.

Each claim carries a :class:`Source` (paper, paper-second-hand, reconstruction, extension
or textbook; see ``docs/claims.md``) and an ``explanation`` (the derivation and what each
check computes), which ``arena theory check --explain`` prints.

Every check returns a :class:`CheckResult` whose ``evidence`` is a plain JSON-able dict,
so a verdict can be stored next to a run and shown without re-running anything.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import numpy as np

from theory.errors import TheoryError


class Status(str, Enum):
    """Outcome of one check.

    ``SKIPPED`` means the check was not run (e.g. no records were given);
    ``NOT_APPLICABLE`` means it ran but the claim's premise does not hold on the input,
    so the claim says nothing about it; ``INSUFFICIENT`` means there were records but too
    few for the test to have power (below the claim's minimum sample size), so neither
    PASS nor FAIL is reported.
    """

    PASS = "pass"
    FAIL = "fail"
    SKIPPED = "skipped"
    NOT_APPLICABLE = "n/a"
    INSUFFICIENT = "insufficient data"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class CheckResult:
    """A verdict with the numbers that justify it.

    ``tolerance`` is the tolerance the verdict was taken at (``None`` for exact checks);
    ``evidence`` holds plain Python values (floats, ints, strings, lists, dicts).
    """

    status: Status
    summary: str
    evidence: dict[str, Any] = field(default_factory=dict)
    tolerance: float | None = None

    @property
    def passed(self) -> bool:
        return self.status is Status.PASS

    def __str__(self) -> str:
        return f"{self.status.value}: {self.summary}"


class RecordSchemaError(TheoryError):
    """Records handed to ``check_empirical`` lack a key or hold a value of the wrong kind."""


class ClaimUsageError(TheoryError):
    """A claim check was called with arguments it cannot use (e.g. ``n < 1`` instances).

    Raised rather than returning a verdict: a numeric check over zero instances would
    pass having checked nothing.
    """


class UnknownClaimError(ClaimUsageError):
    """No claim has the requested id; the message lists the known ids."""


def require_instances(n: int, claim_id: str) -> None:
    """Raise :class:`ClaimUsageError` unless ``n`` is an integer >= 1.

    Every ``check_numeric`` calls this first, so that ``n = 0`` cannot produce a vacuous
    pass ("0/0 instances") and a negative ``n`` cannot reach numpy as a shape.
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ClaimUsageError(
            f"{claim_id}: n={n!r} random instances; a numeric check needs at least one. "
            "Fix: pass an integer n >= 1."
        )


def verdict(
    ok: bool,
    summary: str,
    evidence: Mapping[str, Any],
    tolerance: float | None = None,
) -> CheckResult:
    """``PASS`` if ``ok`` else ``FAIL``, with ``evidence`` made JSON-friendly.

    A failing summary always starts with ``failed:`` (added when the check's own text does
    not), so that no FAIL reads like a pass in the table.
    """
    if not ok and not summary.lower().startswith("failed"):
        summary = f"failed: {summary}"
    return CheckResult(Status.PASS if ok else Status.FAIL, summary, to_plain(evidence), tolerance)


def skipped(reason: str) -> CheckResult:
    return CheckResult(Status.SKIPPED, reason, {}, None)


def insufficient(
    n: int, needed: int, what: str = "records", evidence: Mapping[str, Any] | None = None
) -> CheckResult:
    """``INSUFFICIENT``: ``n`` {what} where the test needs at least ``needed``.

    ``evidence`` adds what the check could still say (e.g. the counts per group); ``n``,
    ``min_n`` and ``interval`` (``None``: no interval was computed) are always set.
    """
    return CheckResult(
        Status.INSUFFICIENT,
        f"insufficient data: n={n} {what}, the test needs at least {needed}",
        to_plain({**(evidence or {}), "n": n, "min_n": needed, "interval": None}),
        None,
    )


DEFAULT_TOL = 0.05
DEFAULT_ALPHA = 0.05


def wilson_interval(successes: float, n: int, alpha: float = DEFAULT_ALPHA) -> list[float]:
    """Wilson score interval of a binomial proportion at level ``1 − alpha``."""
    from scipy import stats

    if n <= 0:
        return [0.0, 1.0]
    z = float(stats.norm.ppf(1 - alpha / 2))
    phat = successes / n
    denom = 1 + z * z / n
    centre = (phat + z * z / (2 * n)) / denom
    half = z * math.sqrt(phat * (1 - phat) / n + z * z / (4 * n * n)) / denom
    return [max(0.0, centre - half), min(1.0, centre + half)]


def check_alpha(alpha: float) -> None:
    """Raise :class:`ClaimUsageError` unless ``0 < alpha < 1``."""
    if not (isinstance(alpha, (int, float)) and 0 < alpha < 1):
        raise ClaimUsageError(f"alpha={alpha!r} is not a significance level. Fix: 0 < alpha < 1.")


SOURCE_KINDS = ("paper", "paper-second-hand", "reconstruction", "extension", "textbook")


@dataclass(frozen=True)
class Source:
    """Where a claim comes from: one of :data:`SOURCE_KINDS`, a citation and its caveats.

    ``paper``: stated in the paper's text, which we read. ``paper-second-hand``: the
    paper states it, but we saw it only quoted by reviewers or summaries.
    ``reconstruction``: our restatement of a result whose text we could not read.
    ``extension``: our own generalisation of a paper's result. ``textbook``: a standard
    identity the paper relies on. Details per claim: ``docs/claims.md``.
    """

    kind: str
    citation: str
    caveats: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.kind not in SOURCE_KINDS:
            raise ValueError(f"source kind {self.kind!r} is not one of {SOURCE_KINDS}")

    def __str__(self) -> str:
        text = f"[{self.kind}] {self.citation}"
        return text + "".join(f"\n  caveat: {c}" for c in self.caveats)


def not_applicable(reason: str, evidence: Mapping[str, Any] | None = None) -> CheckResult:
    return CheckResult(Status.NOT_APPLICABLE, reason, to_plain(evidence or {}), None)


def to_plain(value: Any) -> Any:
    """Convert numpy scalars/arrays and sympy numbers to plain Python for the evidence.

    A sympy expression that is not a number is kept as its text on purpose (a formula);
    anything else that is not JSON data is a bug in the check and raises ``TypeError``
    (it used to be stringified, which let any object through as "evidence").
    """
    if isinstance(value, Mapping):
        return {str(k): to_plain(v) for k, v in value.items()}
    if isinstance(value, np.ndarray):
        return to_plain(value.tolist())
    if isinstance(value, (list, tuple)):
        return [to_plain(v) for v in value]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value)
    if isinstance(value, str) or value is None:
        return value
    import sympy

    if isinstance(value, sympy.Basic):
        if value.is_Integer:
            return int(value)
        if value.is_Number:
            return float(value)
        return str(value)
    raise TypeError(
        f"claim evidence holds a {type(value).__name__} ({value!r:.60}), which is not JSON "
        "data; convert it in the check (numbers, strings, lists, dicts)."
    )


def require_keys(records: Sequence[Mapping[str, Any]], keys: Iterable[str], claim_id: str) -> None:
    """Raise :class:`RecordSchemaError` naming the first record that lacks a key."""
    wanted = tuple(keys)
    for i, record in enumerate(records):
        if not isinstance(record, Mapping):
            raise RecordSchemaError(
                f"{claim_id}: record {i} is a {type(record).__name__}, not a mapping. "
                f"Fix: pass dicts with keys {list(wanted)}."
            )
        missing = [k for k in wanted if k not in record]
        if missing:
            raise RecordSchemaError(
                f"{claim_id}: record {i} lacks {missing} (it has {sorted(record)}). "
                f"Fix: give every record the keys {list(wanted)}."
            )


def record_float(record: Mapping[str, Any], key: str, claim_id: str, index: int) -> float:
    """``float(record[key])``, raising :class:`RecordSchemaError` with the record index."""
    try:
        value = float(record[key])
    except (TypeError, ValueError) as exc:
        raise RecordSchemaError(
            f"{claim_id}: record {index} has {key}={record[key]!r}, not a number. "
            f"Fix: store {key} as a number."
        ) from exc
    if math.isnan(value):
        raise RecordSchemaError(f"{claim_id}: record {index} has {key}=NaN. Fix: drop it.")
    return value


class Claim(ABC):
    """One theorem as a checkable object.

    Subclasses set the class attributes below and implement the three checks. A check
    must be able to fail: it compares an independently computed quantity with the
    claim's prediction and returns ``FAIL`` with the counterexample in the evidence.
    """

    id: str
    paper: str
    statement: str
    assumptions: tuple[str, ...]
    reconstructed: bool
    source: Source
    #: the derivation and what each check computes (``arena theory check --explain``)
    explanation: str = ""
    #: fewest records (in the claim's unit: episodes, runs, answers per method, ...)
    #: before ``check_empirical`` can PASS; a contradiction may FAIL with fewer
    min_records: int = 1

    @abstractmethod
    def check_symbolic(self) -> CheckResult:
        """Prove the algebraic core of the claim with sympy."""

    @abstractmethod
    def check_numeric(self, rng: np.random.Generator, n: int) -> CheckResult:
        """Verify the claim on ``n`` random instances drawn with ``rng``."""

    @abstractmethod
    def check_empirical(
        self,
        records: Sequence[Mapping[str, Any]],
        tol: float = DEFAULT_TOL,
        alpha: float = DEFAULT_ALPHA,
    ) -> CheckResult:
        """Compare the claim with measurements from a run (schema in the subclass docstring).

        ``tol`` is a tolerance in the claim's units, ``alpha`` a significance level; the
        subclass docstring says which one its test uses.
        """

    def describe(self, explain: bool = False) -> str:
        """Statement, assumptions and source as plain text; ``explain`` adds the derivation."""
        lines = [f"{self.id} ({self.paper})" + (" [reconstructed]" if self.reconstructed else "")]
        lines.append(self.statement)
        lines.extend(f"  assumes: {a}" for a in self.assumptions)
        lines.append(f"  source: {self.source}")
        if explain:
            lines.append("  explanation:")
            body = self.explanation or (type(self).__doc__ or "").strip()
            lines.extend(f"    {line.strip()}" for line in body.splitlines())
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(id={self.id!r})"
