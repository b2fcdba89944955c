"""KALE's own claims, as empirical claims with a record schema.

KALE's results are measurements, not theorems (``docs/papers.md#kale-overview``): KA
(knowledge-aware) fine-tuning beats SFT on multi-hop questions, and it lowers the rate of
"known&incorrect" answers — questions the model gets wrong although it answers every
single-hop probe of the question's knowledge correctly. Both are checked here on records
of answered questions, one per (method, question), in this schema
(:data:`RECORD_SCHEMA`)::

    {"method": "ka" | "sft", "hops": int >= 1, "correct": bool,
     "known": bool,            # kale.known-incorrect only
     "question_id": str | int} # optional: pairs KA's and SFT's answers to one question

Only multi-hop questions (``hops >= 2`` by default) count: a one-hop question is its own
probe, so it can hardly be known&incorrect, and the gain claimed is a multi-hop one.
``arena kale eval`` produces these records (``RUN/claim_records/``);
:func:`parse_kale_records` validates them.

Both verdicts follow the directional rule of :mod:`theory.claims.stats`: ``PASS`` iff the
``1 − alpha`` interval of the difference lies above 0; a significant reversal is a
``FAIL`` at any ``n``; below :data:`MIN_PER_METHOD` answers per method (per pair when
paired) anything else is ``INSUFFICIENT``; at or above it, no significant effect is a
``FAIL``. ``tol`` is not used. The intervals: paired answers (same ``question_id`` for
both methods, each once) use the Agresti–Min interval of a paired difference; otherwise
Newcombe's hybrid score interval of two independent proportions.

Since the claims are empirical, their symbolic and numeric checks examine the test that
decides them: sympy re-derives the Wilson score bounds and the variances of the paired and
unpaired differences from the sampling model and compares the implemented intervals with
them; the numeric check measures the test's size (no effect), its behaviour on reversed
effects, its power and its coverage on thousands of synthetic data sets.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import sympy as sp

from theory.claims.base import (
    DEFAULT_ALPHA,
    CheckResult,
    Claim,
    RecordSchemaError,
    Source,
    check_alpha,
    insufficient,
    require_instances,
    require_keys,
    skipped,
    verdict,
)
from theory.claims.stats import (
    agresti_min_difference,
    directional_verdict,
    newcombe_difference,
    wilson_bounds,
    z_value,
)

PAPER = "KALE (Lv et al. 2026)"
METHODS = ("ka", "sft")
#: fewest multi-hop answers per method (pairs, when paired) before "no effect" is a FAIL
MIN_PER_METHOD = 30
MIN_HOPS = 2

RECORD_SCHEMA: dict[str, str] = {
    "method": '"ka" (knowledge-aware fine-tuning) or "sft" (plain SFT)',
    "hops": "int >= 1: hops on the question's gold knowledge-graph path",
    "correct": "bool: the final answer is correct",
    "known": "bool: every single-hop probe on the gold path was answered correctly by the "
    "same model (needed by kale.known-incorrect)",
    "question_id": "optional str or int: the same id for KA's and SFT's answer to one "
    "question makes the comparison paired",
    "cluster": "optional str or int: answers sharing a cluster are not independent (e.g. "
    "one question evaluated after several training seeds); the intervals then use "
    "cluster-robust variances and the minimum counts distinct clusters",
}

#: ``(n11, n10, n01, n00, alpha) → (d, lo, hi)`` for paired binary outcomes
PairedInterval = Callable[[Any, Any, Any, Any, float], tuple[Any, Any, Any]]
#: ``(x1, n1, x2, n2, alpha) → (d, lo, hi)`` for ``x1/n1 − x2/n2``, independent groups
UnpairedInterval = Callable[[Any, Any, Any, Any, float], tuple[Any, Any, Any]]


@dataclass(frozen=True)
class KaleAnswer:
    """One validated record: a method's answer to one question."""

    method: str
    hops: int
    correct: bool
    known: bool | None
    question_id: str | None
    cluster: str | None = None


def _flag(record: Mapping[str, Any], key: str, claim_id: str, index: int) -> bool:
    value = record[key]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)) and value in (0, 1):
        return bool(value)
    raise RecordSchemaError(
        f"{claim_id}: record {index} has {key}={value!r}. Fix: store {key} as a bool."
    )


def parse_kale_records(
    records: Sequence[Mapping[str, Any]], claim_id: str, need_known: bool
) -> list[KaleAnswer]:
    """Validate records against :data:`RECORD_SCHEMA`; raise :class:`RecordSchemaError`."""
    require_keys(
        records, ("method", "hops", "correct", *(("known",) if need_known else ())), claim_id
    )
    out = []
    for i, r in enumerate(records):
        method = str(r["method"]).lower()
        if method not in METHODS:
            raise RecordSchemaError(
                f"{claim_id}: record {i} has method={r['method']!r}. Fix: use 'ka' or 'sft'."
            )
        hops = r["hops"]
        if isinstance(hops, (float, np.floating)) and float(hops).is_integer():
            hops = int(hops)
        if isinstance(hops, bool) or not isinstance(hops, (int, np.integer)) or hops < 1:
            raise RecordSchemaError(
                f"{claim_id}: record {i} has hops={r['hops']!r}. Fix: an int >= 1."
            )
        qid = r.get("question_id")
        cluster = r.get("cluster")
        out.append(
            KaleAnswer(
                method=method,
                hops=int(hops),
                correct=_flag(r, "correct", claim_id, i),
                known=_flag(r, "known", claim_id, i) if "known" in r else None,
                question_id=None if qid is None else str(qid),
                cluster=None if cluster is None else str(cluster),
            )
        )
    if any(a.cluster is None for a in out) and any(a.cluster is not None for a in out):
        raise RecordSchemaError(
            f"{claim_id}: some records have a cluster and some do not. Fix: give every "
            "record its cluster (e.g. the question id), or none."
        )
    return out


def design_effect(values: Sequence[float], clusters: Sequence[str]) -> float:
    """How much clustering inflates the variance of the mean of ``values`` (>= 1).

    The cluster-robust (CR1) variance of a mean, ``C/(C-1) · Σ_c (Σ_{i∈c} (x_i − x̄))² / n²``,
    over the i.i.d. variance ``Σ (x_i − x̄)² / (n (n − 1))``; answers of one question
    after several training seeds are correlated, so their naive interval is too narrow.
    Never below 1: clustering is used to widen an interval, never to narrow it.
    """
    x = np.asarray(values, dtype=float)
    n = x.size
    if n < 2:
        return 1.0
    dev = x - x.mean()
    naive = float(np.sum(dev**2)) / (n * (n - 1))
    sums: dict[str, float] = defaultdict(float)
    for value, cluster in zip(dev, clusters, strict=True):
        sums[cluster] += float(value)
    c = len(sums)
    if c < 2 or naive == 0.0:
        return 1.0 if naive == 0.0 else math.inf
    robust = c / (c - 1) * sum(v * v for v in sums.values()) / (n * n)
    return max(1.0, robust / naive)


def _widen(d: float, lo: float, hi: float, factor: float) -> tuple[float, float]:
    """The interval's two half-widths around ``d``, each times ``sqrt(factor)``."""
    root = math.sqrt(factor)
    return d - (d - lo) * root, d + (hi - d) * root


def pair_answers(answers: Sequence[KaleAnswer]) -> tuple[list[tuple[bool, bool]] | None, str]:
    """``(KA correct, SFT correct)`` per question if the answers pair up, else why not.

    They pair when every answer has a ``question_id`` and each id appears exactly once
    for each method.
    """
    if any(a.question_id is None for a in answers):
        return None, "unpaired: some records have no question_id"
    seen = Counter((a.method, a.question_id) for a in answers)
    if any(c > 1 for c in seen.values()):
        return None, "unpaired: a question_id appears twice for one method"
    by_id: dict[str, dict[str, bool]] = defaultdict(dict)
    for a in answers:
        by_id[str(a.question_id)][a.method] = a.correct
    if any(len(v) != 2 for v in by_id.values()):
        return None, "unpaired: some question_ids were answered by one method only"
    return [(v["ka"], v["sft"]) for v in by_id.values()], "paired by question_id"


def _asymptotic_half_width_ok(
    interval: Callable[..., tuple[Any, Any, Any]],
    counts: Sequence[float],
    variance: float,
    n: float,
    alpha: float,
) -> bool:
    """Whether the implemented interval's half-width is ``z·√(variance/n)`` at large n."""
    _, lo, hi = interval(*counts, alpha)
    half = (float(hi) - float(lo)) / 2.0
    expected = z_value(alpha) * math.sqrt(variance / n)
    return abs(half / expected - 1.0) < 1e-3


class _KaleEmpiricalClaim(Claim):
    """Shared machinery of KALE's empirical claims (schema, intervals, checks of the test)."""

    paper = PAPER
    reconstructed = True
    min_records = MIN_PER_METHOD
    #: whether the claim compares paired answers (accuracy) or only independent groups
    uses_pairs = False

    def __init__(
        self,
        paired_interval: PairedInterval | None = None,
        unpaired_interval: UnpairedInterval | None = None,
        min_hops: int = MIN_HOPS,
    ) -> None:
        """``paired_interval`` / ``unpaired_interval`` replace the intervals (Agresti–Min,
        Newcombe) to show the checks fail; ``min_hops`` is the shortest question counted."""
        self.paired_interval: PairedInterval = (
            agresti_min_difference if paired_interval is None else paired_interval
        )
        self.unpaired_interval: UnpairedInterval = (
            newcombe_difference if unpaired_interval is None else unpaired_interval
        )
        self.min_hops = min_hops

    # -- checks of the test ---------------------------------------------------------

    def check_symbolic(self) -> CheckResult:
        """Sympy derives the sampling model's bounds and variances; the intervals must match.

        * Wilson: the endpoints are the roots in π of ``(x/n − π)² = z²π(1−π)/n``; sympy
          solves it and :func:`~theory.claims.stats.wilson_bounds` must give the roots.
        * Independent groups: the variance of ``p̂1 − p̂2`` is summed from the Bernoulli
          outcome space; at n = 10⁸ the implemented interval's half-width must be
          ``z·√Var`` (the interval is asymptotically the right one).
        * Paired (accuracy claim): the variance of ``I10 − I01`` over the four cells of a
          pair is ``π10 + π01 − (π10 − π01)²``, which differs from the unpaired variance of
          the marginals by ``2(π11π00 − π10π01)`` (pairing matters); the implemented
          paired interval's half-width must be ``z·√Var`` at n = 10⁸.
        """
        alpha = DEFAULT_ALPHA
        z = z_value(alpha)
        zs, ns, xs, pi = sp.symbols("z n x pi", positive=True)
        roots = sp.solve(sp.Eq((xs / ns - pi) ** 2, zs**2 * pi * (1 - pi) / ns), pi)
        wilson_ok = True
        for x, n in ((0, 7), (3, 10), (12, 12), (40, 100)):
            exact = sorted(float(r.subs({xs: x, ns: n, zs: z})) for r in roots)
            lo, hi = wilson_bounds(x, n, alpha)
            wilson_ok &= abs(float(lo) - max(exact[0], 0.0)) < 1e-9
            wilson_ok &= abs(float(hi) - min(exact[1], 1.0)) < 1e-9
        p1, p2 = sp.symbols("p_1 p_2", positive=True)

        def bernoulli_var(p: sp.Expr) -> sp.Expr:
            return sp.expand(sum(prob * (val - p) ** 2 for val, prob in ((1, p), (0, 1 - p))))

        var_unpaired = bernoulli_var(p1) + bernoulli_var(p2)  # per unit n, equal groups
        big = 1e8
        unpaired_ok = all(
            _asymptotic_half_width_ok(
                self.unpaired_interval,
                (a * big, big, b * big, big),
                float(var_unpaired.subs({p1: a, p2: b})),
                big,
                alpha,
            )
            for a, b in ((0.5, 0.5), (0.7, 0.4), (0.1, 0.25))
        )
        checks = {
            "Wilson bounds = roots of (x/n − π)² = z²π(1−π)/n": bool(wilson_ok),
            "unpaired half-width = z·√(p1(1−p1)/n + p2(1−p2)/n) at large n": bool(unpaired_ok),
        }
        evidence: dict[str, Any] = {"unpaired_variance_times_n": str(var_unpaired)}
        if self.uses_pairs:
            c11, c10, c01 = sp.symbols("pi_11 pi_10 pi_01", positive=True)
            cells = {(1, 1): c11, (1, 0): c10, (0, 1): c01, (0, 0): 1 - c11 - c10 - c01}
            mean_d = sum(prob * (a - b) for (a, b), prob in cells.items())
            var_paired = sp.expand(
                sum(prob * ((a - b) - mean_d) ** 2 for (a, b), prob in cells.items())
            )
            m1, m2 = c11 + c10, c11 + c01
            gap = sp.factor(sp.expand(bernoulli_var(m1) + bernoulli_var(m2) - var_paired))
            points = ((0.55, 0.15, 0.05), (0.3, 0.1, 0.1), (0.7, 0.02, 0.12))
            paired_ok = all(
                _asymptotic_half_width_ok(
                    self.paired_interval,
                    (a * big, b * big, c * big, (1 - a - b - c) * big),
                    float(var_paired.subs({c11: a, c10: b, c01: c})),
                    big,
                    alpha,
                )
                for a, b, c in points
            )
            checks["paired: Var(I10 − I01) = π10 + π01 − (π10 − π01)²"] = (
                sp.expand(var_paired - (c10 + c01 - (c10 - c01) ** 2)) == 0
            )
            checks["pairing matters: unpaired − paired variance = 2(π11π00 − π10π01)"] = (
                sp.expand(gap - 2 * (c11 * (1 - c11 - c10 - c01) - c10 * c01)) == 0
            )
            checks["paired half-width = z·√Var(I10 − I01)/√n at large n"] = bool(paired_ok)
            evidence["paired_variance_times_n"] = str(var_paired)
        failed = [k for k, v in checks.items() if not v]
        return verdict(
            not failed,
            "the intervals are the Wilson / "
            + ("paired and " if self.uses_pairs else "")
            + "unpaired ones derived from the sampling model"
            if not failed
            else f"failed: {'; '.join(failed)}",
            {"checks": checks, **evidence},
        )

    def _simulate(
        self,
        rng: np.random.Generator,
        n_per: int,
        base: float,
        effect: float,
        paired: bool,
        reps: int,
    ) -> tuple[np.ndarray, np.ndarray]:
        """``(lo, hi)`` of the claim's interval on ``reps`` synthetic data sets."""
        alpha = DEFAULT_ALPHA
        if paired:
            disc = float(rng.uniform(0.03, 0.1))
            p10, p01 = disc + max(effect, 0.0), disc + max(-effect, 0.0)
            p11 = base - p01
            cells = rng.multinomial(n_per, [p11, p10, p01, 1.0 - p11 - p10 - p01], size=reps)
            _, lo, hi = self.paired_interval(
                cells[:, 0], cells[:, 1], cells[:, 2], cells[:, 3], alpha
            )
        else:
            x1 = rng.binomial(n_per, base + effect, size=reps)
            x2 = rng.binomial(n_per, base, size=reps)
            _, lo, hi = self.unpaired_interval(x1, n_per, x2, n_per, alpha)
        return np.broadcast_to(np.asarray(lo, dtype=np.float64), (reps,)), np.broadcast_to(
            np.asarray(hi, dtype=np.float64), (reps,)
        )

    def check_numeric(self, rng: np.random.Generator, n: int) -> CheckResult:
        """Size, reversal, power and coverage of the directional test (alpha = 0.05).

        ``max(3, n // 25)`` scenarios (answers per method 30-400, base rate 0.3-0.6;
        paired and unpaired alternately for the accuracy claim), each with 400 synthetic
        data sets per true effect 0 (no effect), −0.1 (reversed) and +0.15: the test may
        pass at most 4.5% of the no-effect sets (nominal 2.5%, one-sided) and 1% of the
        reversed ones; its interval must cover the true effect in at least 93% of
        all sets (nominal 95%); and with 400 answers per method it must detect +0.15 in
        at least 80% of the sets (power).
        """
        require_instances(n, self.id)
        alpha = DEFAULT_ALPHA
        scenarios, reps = max(3, n // 25), 400
        passes: dict[float, list[float]] = {0.0: [], -0.1: [], 0.15: []}
        covered, total = 0, 0
        for s in range(scenarios):
            paired = self.uses_pairs and s % 2 == 0
            n_per = int(rng.integers(MIN_PER_METHOD, 401))
            base = float(rng.uniform(0.3, 0.6))
            for effect in passes:
                lo, hi = self._simulate(rng, n_per, base, effect, paired, reps)
                passes[effect].append(float(np.mean(lo > 0)))
                covered += int(np.sum((lo <= effect) & (effect <= hi)))
                total += reps
        power = []
        for paired in (True, False) if self.uses_pairs else (False,):
            lo, _ = self._simulate(rng, 400, float(rng.uniform(0.3, 0.6)), 0.15, paired, reps)
            power.append(float(np.mean(lo > 0)))
        size = float(np.mean(passes[0.0]))
        reversed_rate = float(np.mean(passes[-0.1]))
        coverage = covered / total
        problems = [
            text
            for text, bad in (
                (f"passes {size:.1%} of no-effect data sets (allowed 4.5%)", size > 0.045),
                (
                    f"passes {reversed_rate:.1%} of reversed-effect data sets (allowed 1%)",
                    reversed_rate > 0.01,
                ),
                (f"interval coverage {coverage:.1%} (needs 93%)", coverage < 0.93),
                (
                    f"power {min(power):.1%} at +0.15 with 400 per method (needs 80%)",
                    min(power) < 0.8,
                ),
            )
            if bad
        ]
        return verdict(
            not problems,
            f"directional test at alpha {alpha:g} on {scenarios} scenarios × {reps} data sets: "
            f"passes {size:.1%} with no effect, {reversed_rate:.1%} reversed; coverage "
            f"{coverage:.1%}; power at +0.15 (n=400) {min(power):.0%}"
            if not problems
            else f"failed: {'; '.join(problems)}",
            {
                "scenarios": scenarios,
                "data_sets_per_effect": reps,
                "pass_rate_no_effect": size,
                "pass_rate_reversed": reversed_rate,
                "pass_rate_effect_0.15_mean": float(np.mean(passes[0.15])),
                "coverage": coverage,
                "power_n400_effect_0.15": power,
            },
        )

    # -- records --------------------------------------------------------------------

    def _multi_hop(
        self, records: Sequence[Mapping[str, Any]], need_known: bool
    ) -> tuple[list[KaleAnswer], dict[str, Any]]:
        answers = parse_kale_records(records, self.id, need_known)
        multi = [a for a in answers if a.hops >= self.min_hops]
        per_hop: dict[int, dict[str, list[int]]] = defaultdict(lambda: {m: [0, 0] for m in METHODS})
        for a in multi:
            per_hop[a.hops][a.method][0] += int(a.correct)
            per_hop[a.hops][a.method][1] += 1
        info = {
            "records": len(answers),
            "single_hop_ignored": len(answers) - len(multi),
            "min_hops": self.min_hops,
            "per_hop_correct_of_n": {str(h): v for h, v in sorted(per_hop.items())},
            "min_per_method": MIN_PER_METHOD,
        }
        return multi, info


class KAMultiHopGainClaim(_KaleEmpiricalClaim):
    """KALE: KA fine-tuning answers more multi-hop questions correctly than SFT
    (RECONSTRUCTED from the abstract's accuracy gains; an empirical claim).

    Records: :data:`RECORD_SCHEMA` (``known`` not needed). The statistic is the multi-hop
    accuracy of KA minus that of SFT, paired by ``question_id`` when the answers pair up
    (Agresti–Min interval) and unpaired otherwise (Newcombe interval); the verdict is the
    directional rule (module docstring): ``alpha`` only, ``tol`` unused.
    """

    id = "kale.multihop-gain"
    uses_pairs = True
    source = Source(
        "paper",
        "KALE (Lv et al. 2026, arXiv 2601.07430), abstract: up to +11.72% and +4.18% average "
        "accuracy over 8 benchmarks and 6 LLMs; docs/papers.md#kale-overview",
        (
            "the abstract reports accuracy gains over baselines; that the gain is on "
            "multi-hop questions and against SFT specifically is our reading (the tables "
            "were not readable)",
            "an empirical claim: no theorem; the symbolic and numeric checks examine the test",
        ),
    )
    statement = (
        "On multi-hop questions (≥ 2 knowledge-graph hops), a model fine-tuned with KALE's "
        "knowledge-aware (KA) objective answers correctly more often than the same model "
        "fine-tuned with SFT: accuracy(KA) − accuracy(SFT) > 0."
    )
    assumptions = (
        "one record per (method, question): method ka/sft, hops, correct; optional "
        "question_id pairs the two methods' answers",
        "same base model, training questions and evaluation questions for both methods",
        "questions with fewer than 2 hops are not counted",
        "the evaluated questions are independent draws from one question distribution",
    )

    def check_empirical(
        self, records: Sequence[Mapping[str, Any]], tol: float = 0.05, alpha: float = 0.05
    ) -> CheckResult:
        if not records:
            return skipped(f"no records: pass dicts with {list(RECORD_SCHEMA)[:3]}")
        check_alpha(alpha)
        multi, info = self._multi_hop(records, need_known=False)
        counts = {m: sum(a.method == m for a in multi) for m in METHODS}
        correct = {m: sum(a.correct for a in multi if a.method == m) for m in METHODS}
        evidence: dict[str, Any] = {
            **info,
            "answers_per_method": counts,
            "accuracy": {m: correct[m] / counts[m] if counts[m] else None for m in METHODS},
            "accuracy_interval": {
                m: [float(v) for v in wilson_bounds(correct[m], counts[m], alpha)] for m in METHODS
            },
        }
        if min(counts.values()) == 0:
            return insufficient(
                min(counts.values()), MIN_PER_METHOD, "multi-hop answers for one method", evidence
            )
        pairs, pairing = pair_answers(multi)
        evidence["pairing"] = pairing
        if pairs is not None:
            cells = Counter(pairs)
            n11, n10 = cells[(True, True)], cells[(True, False)]
            n01, n00 = cells[(False, True)], cells[(False, False)]
            evidence["pair_cells"] = {"both": n11, "ka_only": n10, "sft_only": n01, "neither": n00}
            d, lo, hi = self.paired_interval(n11, n10, n01, n00, alpha)
            enough = len(pairs) >= MIN_PER_METHOD
            min_text = f"{len(pairs)} paired questions, the test needs {MIN_PER_METHOD}"
        else:
            d, lo, hi = self.unpaired_interval(
                correct["ka"], counts["ka"], correct["sft"], counts["sft"], alpha
            )
            enough = min(counts.values()) >= MIN_PER_METHOD
            min_text = f"{counts} multi-hop answers, the test needs {MIN_PER_METHOD} per method"
        if multi[0].cluster is not None:
            lo, hi, enough, min_text = self._clustered(
                multi, pairs is not None, float(d), float(lo), float(hi), evidence
            )
        return directional_verdict(
            difference=float(d),
            interval=(float(lo), float(hi)),
            n=len(multi),
            enough=enough,
            what="multi-hop accuracy KA − SFT",
            min_text=min_text,
            evidence=evidence,
            alpha=alpha,
        )

    @staticmethod
    def _clustered(
        multi: Sequence[KaleAnswer],
        paired: bool,
        d: float,
        lo: float,
        hi: float,
        evidence: dict[str, Any],
    ) -> tuple[float, float, bool, str]:
        """Widen the interval by the design effect and count clusters, not answers."""
        if paired:
            by_id: dict[str, dict[str, KaleAnswer]] = defaultdict(dict)
            for a in multi:
                by_id[str(a.question_id)][a.method] = a
            pairs = list(by_id.values())
            diffs = [float(p["ka"].correct) - float(p["sft"].correct) for p in pairs]
            factor = design_effect(diffs, [str(p["ka"].cluster) for p in pairs])
        else:
            factor = max(
                design_effect(
                    [float(a.correct) for a in multi if a.method == m],
                    [str(a.cluster) for a in multi if a.method == m],
                )
                for m in METHODS
            )
        clusters = {m: len({a.cluster for a in multi if a.method == m}) for m in METHODS}
        evidence["clusters_per_method"] = clusters
        evidence["design_effect"] = factor
        lo, hi = _widen(d, lo, hi, factor)
        fewest = min(clusters.values())
        text = f"{fewest} clusters (questions), the test needs {MIN_PER_METHOD} per method"
        return lo, hi, fewest >= MIN_PER_METHOD, text


class KAKnownIncorrectClaim(_KaleEmpiricalClaim):
    """KALE: KA fine-tuning lowers the known&incorrect rate relative to SFT
    (RECONSTRUCTED from second-hand summaries; an empirical claim).

    Records: :data:`RECORD_SCHEMA` with ``known``. The statistic is
    ``P(incorrect | known)`` on multi-hop questions under SFT minus that under KA (a
    positive difference = KA lower). "Known" is measured on each model separately, so the
    two conditional groups are different questions: the comparison is unpaired (Newcombe
    interval) even when ``question_id`` is given. Directional rule; ``tol`` unused. The
    evidence also gives the unconditional rate ``P(known ∧ incorrect)``.
    """

    id = "kale.known-incorrect"
    source = Source(
        "paper-second-hand",
        "KALE (Lv et al. 2026, arXiv 2601.07430): the known&incorrect phenomenon of SFT "
        "models (abstract) and its separate-probe measurement, as described by a review "
        "(S2); docs/papers.md#kale-sources",
        (
            "the abstract names the phenomenon; that KA lowers its rate, and how 'known' "
            "is measured, come from a second-hand summary",
            "we use the conditional rate P(incorrect | known) on multi-hop questions",
            "an empirical claim: no theorem; the symbolic and numeric checks examine the test",
        ),
    )
    statement = (
        "Among multi-hop questions whose single-hop knowledge the model demonstrably has "
        "(every probe on the gold path answered correctly), a KA-trained model answers "
        "incorrectly less often than an SFT-trained one: P(incorrect | known) is lower "
        "under KA than under SFT."
    )
    assumptions = (
        "one record per (method, question): method ka/sft, hops, correct, known",
        "known = every single-hop probe on the question's gold path answered correctly by "
        "the same model (a separate QA check, as in KALE)",
        "questions with fewer than 2 hops are not counted",
        "the evaluated questions are independent draws from one question distribution",
    )

    def check_empirical(
        self, records: Sequence[Mapping[str, Any]], tol: float = 0.05, alpha: float = 0.05
    ) -> CheckResult:
        if not records:
            return skipped(f"no records: pass dicts with {list(RECORD_SCHEMA)[:4]}")
        check_alpha(alpha)
        multi, info = self._multi_hop(records, need_known=True)
        known = {m: sum(a.method == m and bool(a.known) for a in multi) for m in METHODS}
        wrong = {
            m: sum(a.method == m and bool(a.known) and not a.correct for a in multi)
            for m in METHODS
        }
        answered = {m: sum(a.method == m for a in multi) for m in METHODS}
        evidence: dict[str, Any] = {
            **info,
            "known_per_method": known,
            "known_incorrect_per_method": wrong,
            "rate_incorrect_given_known": {
                m: wrong[m] / known[m] if known[m] else None for m in METHODS
            },
            "rate_interval": {
                m: [float(v) for v in wilson_bounds(wrong[m], known[m], alpha)] for m in METHODS
            },
            "rate_known_and_incorrect": {
                m: wrong[m] / answered[m] if answered[m] else None for m in METHODS
            },
        }
        if min(known.values()) == 0:
            return insufficient(
                min(known.values()),
                MIN_PER_METHOD,
                "known multi-hop questions for one method",
                evidence,
            )
        d, lo, hi = self.unpaired_interval(
            wrong["sft"], known["sft"], wrong["ka"], known["ka"], alpha
        )
        enough = min(known.values()) >= MIN_PER_METHOD
        min_text = f"{known} known multi-hop questions, the test needs {MIN_PER_METHOD} per method"
        if multi[0].cluster is not None:
            known_answers = [a for a in multi if a.known]
            factor = max(
                design_effect(
                    [float(not a.correct) for a in known_answers if a.method == m],
                    [str(a.cluster) for a in known_answers if a.method == m],
                )
                for m in METHODS
            )
            clusters = {
                m: len({a.cluster for a in known_answers if a.method == m}) for m in METHODS
            }
            evidence["clusters_per_method"] = clusters
            evidence["design_effect"] = factor
            lo, hi = _widen(float(d), float(lo), float(hi), factor)
            enough = min(clusters.values()) >= MIN_PER_METHOD
            min_text = (
                f"{clusters} clusters (questions) known, the test needs {MIN_PER_METHOD} per method"
            )
        return directional_verdict(
            difference=float(d),
            interval=(float(lo), float(hi)),
            n=sum(known.values()),
            enough=enough,
            what="known&incorrect rate P(incorrect | known), SFT − KA",
            min_text=min_text,
            evidence=evidence,
            alpha=alpha,
        )


# ``--explain``: the claim, its record schema and decision rule (module docstring), and
# what the checks of the test compute
for _claim in (KAMultiHopGainClaim, KAKnownIncorrectClaim):
    _claim.explanation = "\n".join(
        (
            _claim.__doc__ or "",
            __doc__ or "",
            _KaleEmpiricalClaim.check_symbolic.__doc__ or "",
            _KaleEmpiricalClaim.check_numeric.__doc__ or "",
        )
    )
