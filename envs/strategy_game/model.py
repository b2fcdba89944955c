"""The abstract attacker-defender game behind ``strategy_game_v0``.

MAGIC (``docs/papers.md#magic-taxonomy``) gives the attacker a vocabulary of jailbreak
strategies; RAPO (``docs/papers.md#rapo-risk-model``) gives a model of why
safe reasoning fails on complex attacks. Neither paper writes down a game between the
two: the game here is the lead's inference, proposed in ``docs/papers.md#rapo-strategy-game``,
and every modelling choice below that goes beyond the papers says so.

Risk model (RAPO Theorem 3.1; ``docs/papers.md#rapo-risk-model``, ``#rapo-game-primitives``)
----------------------------------------------------------------
The harmful goal is a unit concept ``c_0`` with base safety signal ``w^T c_0 = delta``.
An attack wraps it in ``K`` distractor concepts, ``x_0 = (c_0 + sum_i c_i) / (K + 1)``.
The defender spends ``t`` targeted safe-reasoning traces ``(c_0, 1)``, one in-context
gradient step of size ``eta`` each, so ``w_new = w + eta t (1 - delta) c_0``. The safety
score after reasoning is

    s(t, x_0) = (delta + eta t (1 - delta) + sum_i (-eps_i + eta t (1 - delta) rho_i)) / (K + 1)

where distractor ``i`` may *mask* (``w^T c_i = -eps_i``) or *cover* for the goal
(``<c_i, c_0> = rho_i``): the "generalised dilution" of
``docs/papers.md#rapo-generalised-dilution``. With
``eps = rho = 0`` this is RAPO's ``s(t, k) = (delta + eta t (1 - delta)) / (k + 1)``. A
refusal rule with threshold ``gamma`` refuses when ``s >= gamma`` (deterministic) or
with probability ``sigmoid(beta (s - gamma))`` (logistic, ``docs/papers.md#rapo-game-primitives``).
``gamma = delta`` is the paper's condition (refuse at least as surely as the bare
request) and gives the required budget ``t*(k) = delta k / (eta (1 - delta))``.

Attacker actions (inference: ``docs/papers.md#rapo-game-players``, ``#magic-taxonomy``)
--------------------------------------------------------------------------------
An attack is a subset ``S`` of the configured strategies and a complexity level ``k``.
Each :class:`AttackStrategy` wraps the goal in ``dilution * k`` distractor concepts,
so the total complexity is ``K = k * sum_{s in S} dilution_s`` ("what k means per
strategy": ``k`` is the number of wrapper layers each chosen strategy applies, and a
strategy's ``dilution`` is how many distractor concepts one layer adds). Combining
strategies is MAGIC's "novel combinatorial strategies": the concepts add up. The empty
subset is the direct request (``K = 0``), always available. Each strategy also sets:

* ``masking`` ``eps`` and ``cover`` ``rho`` per concept (generalised dilution);
* ``visibility``: the fraction of its concepts a *surface* complexity estimator counts
  (RAPO's code estimates complexity from sentence counts, so an encoding hides its
  layers: the "compression" ``m`` of ``docs/papers.md#rapo-game-players``);
* ``cost``: a fixed cost of using it (payload-fidelity loss, effort).

The attacker pays ``attack_cost * K + sum_{s in S} cost_s`` and gains ``value`` when
the harmful request is answered (``docs/papers.md#rapo-game-players``: ``V 1[not refuse] - c_A k``).

Defender actions (inference, ``docs/papers.md#rapo-game-players``)
------------------------------------------------------
* a fixed budget ``t`` from ``budgets`` with a threshold ``gamma`` from ``thresholds``;
* an adaptive policy ``t = pi(k_hat) = min(t_cap, ceil(margin * t*(k_hat; gamma)))``,
  RAPO's risk-aware budget, from a complexity estimate ``k_hat``: the true ``K``
  (``estimator="oracle"``) or ``sum_s visibility_s dilution_s k`` (``"surface"``). The
  estimate ignores masking and cover: the defender budgets for plain dilution.

The defender pays ``defense_cost`` per trace on every prompt, ``harm_loss`` when a
harmful request is answered and ``over_refusal_cost`` when a benign one is refused.

Benign prompts (inference, ``docs/papers.md#rapo-game-players``, "benign users")
-------------------------------------------------------------------
With probability ``benign_prob`` the prompt comes from a benign user instead of the
attacker: complexity ``k_b`` drawn from ``benign_complexities`` (weights
``benign_weights``), no harmful concept but a *sensitive-looking* one with spurious
signal ``benign_sensitivity`` (XSTest-style "how do I kill a process"). A fraction
``misjudgement`` of the defender's safety traces on it label it harmful, the rest
harmless, so the in-context step moves its score by ``eta t (q - delta_b)`` and

    s_b(t, k_b) = (delta_b + eta t (q - delta_b)) / (k_b + 1).

Reasoning longer on a benign prompt raises its refusal risk when ``q > delta_b``: the
over-refusal tax of a large budget. Benign prompts are honestly long, so both
estimators see ``k_hat = k_b``. The attacker gets 0 on benign episodes.

Default values are illustrative, chosen so that no action is trivially dominant
(``delta = 0.3, eta = 0.5`` is a sanity example of ``docs/papers.md#rapo-budget-theorem``);
they are not calibrated against any run (``docs/papers.md#rapo-game-calibration`` says
how to calibrate).
"""

from __future__ import annotations

import itertools
import math
from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from envs.errors import ArenaError
from theory.games import LeaderFollowerGame, NormalFormGame

FloatArray = NDArray[np.float64]
ATTACKER = "attacker"
DEFENDER = "defender"

# Scores are compared with thresholds with this tolerance, so that the paper's
# boundary case s(0, 0) = delta >= gamma = delta counts as a refusal despite rounding.
SCORE_TOL = 1e-12


@dataclass(frozen=True)
class AttackStrategy:
    """One attack strategy of MAGIC's taxonomy, as the risk model sees it.

    ``taxonomy_id`` and ``family`` are MAGIC's (``docs/papers.md#magic-taxonomy``); the
    numeric fields are this game's modelling choices (see the module docstring).
    """

    name: str
    taxonomy_id: int
    family: str
    dilution: float = 1.0
    masking: float = 0.0
    cover: float = 0.0
    visibility: float = 1.0
    cost: float = 0.0

    def __post_init__(self) -> None:
        if not self.name or "+" in self.name or "@" in self.name:
            raise ArenaError(
                f"Attack strategy name {self.name!r} is empty or contains '+' or '@'.",
                "use a plain identifier such as 'role_play'.",
            )
        if self.dilution < 0 or not 0.0 <= self.visibility <= 1.0 or self.cost < 0:
            raise ArenaError(
                f"Attack strategy {self.name!r} has dilution={self.dilution}, "
                f"visibility={self.visibility}, cost={self.cost}.",
                "use dilution >= 0, visibility in [0, 1] and cost >= 0.",
            )


# The default strategy set: one strategy per mechanism the risk model distinguishes.
# Numbers are illustrative modelling choices (``docs/papers.md#rapo-strategy-game``), not data.
DEFAULT_STRATEGIES: tuple[AttackStrategy, ...] = (
    # ISS 0: a persona adds one framing concept per layer; plain dilution.
    AttackStrategy("role_play", 0, "ISS", dilution=1.0),
    # LRPA 8: a legitimacy claim argues the request is fine: active masking (eps > 0).
    AttackStrategy("legitimacy_pretext", 8, "LRPA", dilution=1.0, masking=0.03),
    # CC 11: stacked conditions add two concepts per layer and are visibly long.
    AttackStrategy("multi_condition_stacking", 11, "CC", dilution=2.0, cost=0.02),
    # SFM 13: an encoding hides its layers from a length-based complexity estimate,
    # at a fidelity cost (the defender may misread the payload too).
    AttackStrategy("encoding_rewriting", 13, "SFM", dilution=1.0, visibility=0.0, cost=0.05),
)


@dataclass(frozen=True)
class AttackAction:
    """A subset of strategies (indices into the strategy list) and a level ``k``."""

    strategies: tuple[int, ...]
    level: int
    label: str


@dataclass(frozen=True)
class DefenseAction:
    """A fixed budget (``margin is None``) or an adaptive policy, with a threshold."""

    threshold: float
    label: str
    budget: int | None = None
    margin: float | None = None


@dataclass(frozen=True)
class RiskModel:
    """RAPO's safety score and refusal rule.

    See ``docs/papers.md#rapo-risk-model`` and ``docs/papers.md#rapo-game-primitives``.
    """

    delta: float = 0.3
    eta: float = 0.5
    refusal: Literal["deterministic", "logistic"] = "deterministic"
    beta: float = 20.0

    def __post_init__(self) -> None:
        if not 0.0 < self.delta < 1.0 or not self.eta > 0:
            raise ArenaError(
                f"RAPO's risk model needs 0 < delta < 1 and eta > 0, got delta={self.delta}, "
                f"eta={self.eta}.",
                "pass e.g. delta=0.3, eta=0.5.",
            )
        if self.refusal not in ("deterministic", "logistic"):
            raise ArenaError(
                f"Unknown refusal model {self.refusal!r}.", "use 'deterministic' or 'logistic'."
            )
        if self.refusal == "logistic" and not self.beta > 0:
            raise ArenaError(f"beta must be positive, got {self.beta}.", "pass e.g. beta=20.")

    def score(
        self, budget: float, concepts: float, masking: float = 0.0, cover: float = 0.0
    ) -> float:
        """``s(t, x_0)``: ``masking = sum_i eps_i`` and ``cover = sum_i rho_i`` over distractors."""
        step = self.eta * budget * (1.0 - self.delta)
        return (self.delta + step - masking + step * cover) / (concepts + 1.0)

    def refusal_probability(self, score: float, threshold: float) -> float:
        if self.refusal == "deterministic":
            return 1.0 if score >= threshold - SCORE_TOL else 0.0
        z = self.beta * (score - threshold)
        return (
            float(1.0 / (1.0 + math.exp(-z)))
            if z >= 0
            else float(math.exp(z) / (1.0 + math.exp(z)))
        )

    def required_budget(self, concepts: float, threshold: float) -> float:
        """RAPO's ``t*(k) = ((k + 1) gamma - delta) / (eta (1 - delta))`` (may be negative)."""
        return ((concepts + 1.0) * threshold - self.delta) / (self.eta * (1.0 - self.delta))


@dataclass(frozen=True)
class Outcome:
    """One sampled episode: who sent the prompt, whether it was refused, the payoffs."""

    benign: bool
    refused: bool
    budget: int
    score: float
    complexity: float
    estimated_complexity: float
    rewards: tuple[float, float]

    @cached_property
    def details(self) -> dict[str, Any]:
        """The outcome as the env's ``info`` fields (computed once; do not mutate)."""
        return {
            "prompt": "benign" if self.benign else "attack",
            "refused": self.refused,
            "budget": self.budget,
            "score": self.score,
            "complexity": self.complexity,
            "estimated_complexity": self.estimated_complexity,
            "attack_success": not self.benign and not self.refused,
            "over_refusal": self.benign and self.refused,
        }


@dataclass(frozen=True)
class ChanceNode:
    """The chance moves of one action pair, precomputed for sampling.

    ``cumulative[i]`` is the probability of branches ``0..i`` (the last is exactly 1),
    ``refuse[i]`` branch ``i``'s refusal probability and ``outcomes[i]`` its
    ``(answered, refused)`` outcomes. :meth:`outcome` maps two uniform draws to an
    outcome with exactly the model's probabilities (``numpy``'s ``choice`` uses the
    same inverse-CDF rule).
    """

    cumulative: tuple[float, ...]
    refuse: tuple[float, ...]
    outcomes: tuple[tuple[Outcome, Outcome], ...]

    def outcome(self, u_source: float, u_refuse: float) -> Outcome:
        """The outcome of uniform draws ``u_source`` (the branch) and ``u_refuse`` in [0, 1)."""
        i = bisect_right(self.cumulative, u_source)
        if i >= len(self.cumulative):  # pragma: no cover - u < 1 = cumulative[-1]
            i = len(self.cumulative) - 1
        return self.outcomes[i][u_refuse < self.refuse[i]]


@dataclass(frozen=True)
class _Branch:
    """A chance branch of one action pair: probability, refusal probability, payoffs."""

    prob: float
    benign: bool
    budget: int
    score: float
    complexity: float
    estimate: float
    p_refuse: float
    if_refused: tuple[float, float]
    if_answered: tuple[float, float]


@dataclass(frozen=True)
class StrategyGameModel:
    """The parametric strategy game; see the module docstring for every choice."""

    strategies: tuple[AttackStrategy, ...] = DEFAULT_STRATEGIES
    levels: tuple[int, ...] = (1, 2, 3, 4)
    max_combination: int = 2
    budgets: tuple[int, ...] = (0, 2, 4, 8, 16)
    thresholds: tuple[float, ...] | None = None
    adaptive_margins: tuple[float, ...] = (1.0, 1.5)
    estimator: Literal["oracle", "surface"] = "surface"
    adaptive_cap: int | None = None
    risk: RiskModel = field(default_factory=RiskModel)
    value: float = 1.0
    harm_loss: float = 1.0
    attack_cost: float = 0.01
    defense_cost: float = 0.005
    over_refusal_cost: float = 0.5
    benign_prob: float = 0.5
    benign_complexities: tuple[float, ...] = (0.0, 2.0, 6.0)
    benign_weights: tuple[float, ...] | None = None
    benign_sensitivity: float = 0.15
    misjudgement: float = 0.4

    def __post_init__(self) -> None:
        self._validate()

    # ------------------------------------------------------------------ validation
    def _validate(self) -> None:
        if not self.strategies:
            raise ArenaError("No attack strategies given.", "pass at least one AttackStrategy.")
        names = [s.name for s in self.strategies]
        if len(set(names)) != len(names):
            raise ArenaError(f"Attack strategy names repeat: {names}.", "give unique names.")
        if not self.levels or any(int(k) != k or k < 1 for k in self.levels):
            raise ArenaError(
                f"levels must be positive integers, got {self.levels}.", "pass e.g. (1, 2, 3, 4)."
            )
        if not 1 <= self.max_combination <= len(self.strategies):
            raise ArenaError(
                f"max_combination={self.max_combination} with {len(self.strategies)} strategies.",
                f"use a value between 1 and {len(self.strategies)}.",
            )
        if any(int(t) != t or t < 0 for t in self.budgets):
            raise ArenaError(
                f"budgets must be non-negative integers, got {self.budgets}.",
                "pass e.g. (0, 2, 4, 8).",
            )
        if not self.budgets and not self.adaptive_margins:
            raise ArenaError(
                "The defender has no actions.", "give budgets or adaptive_margins (or both)."
            )
        if self.thresholds is not None and (
            not self.thresholds or any(not 0.0 < g <= 1.0 for g in self.thresholds)
        ):
            raise ArenaError(
                f"thresholds must be refusal thresholds in (0, 1], got {self.thresholds}.",
                "pass e.g. (0.3,), or None for RAPO's gamma = delta.",
            )
        if self.adaptive_cap is not None and self.adaptive_cap < 0:
            raise ArenaError(
                f"adaptive_cap must be non-negative, got {self.adaptive_cap}.",
                "pass None (the largest fixed budget) or a budget such as 16.",
            )
        if any(not m > 0 for m in self.adaptive_margins):
            raise ArenaError(
                f"adaptive_margins must be positive, got {self.adaptive_margins}.",
                "pass e.g. (1.0, 1.5).",
            )
        if self.estimator not in ("oracle", "surface"):
            raise ArenaError(
                f"Unknown complexity estimator {self.estimator!r}.", "use 'oracle' or 'surface'."
            )
        if not 0.0 <= self.benign_prob <= 1.0:
            raise ArenaError(
                f"benign_prob must be in [0, 1], got {self.benign_prob}.", "pass a probability."
            )
        if not self.benign_complexities or any(k < 0 for k in self.benign_complexities):
            raise ArenaError(
                f"benign_complexities must be non-negative, got {self.benign_complexities}.",
                "pass e.g. (0, 2, 6).",
            )
        weights = self._benign_weights()
        if weights.shape != (len(self.benign_complexities),) or np.any(weights < 0):
            raise ArenaError(
                "benign_weights must be one non-negative weight per benign complexity.",
                "pass weights of the same length as benign_complexities, or None.",
            )
        if not 0.0 <= self.misjudgement <= 1.0 or not 0.0 <= self.benign_sensitivity < 1.0:
            raise ArenaError(
                f"misjudgement={self.misjudgement}, benign_sensitivity={self.benign_sensitivity}.",
                "use misjudgement in [0, 1] and benign_sensitivity in [0, 1).",
            )
        for name in ("value", "harm_loss", "attack_cost", "defense_cost", "over_refusal_cost"):
            if getattr(self, name) < 0:
                raise ArenaError(f"{name} must be non-negative.", f"pass {name} >= 0.")

    def _benign_weights(self) -> FloatArray:
        if self.benign_weights is None:
            n = len(self.benign_complexities)
            return np.full(n, 1.0 / n)
        w = np.asarray(self.benign_weights, dtype=np.float64)
        total = float(w.sum()) if w.size else 0.0
        if not total > 0:
            return np.full(max(w.size, 1), -1.0)  # rejected by _validate
        return w / total

    # ------------------------------------------------------------------ action lists
    @property
    def threshold_values(self) -> tuple[float, ...]:
        """The refusal thresholds ``gamma`` (default: RAPO's ``gamma = delta``)."""
        return tuple(self.thresholds) if self.thresholds else (self.risk.delta,)

    def _enumerate_attacks(self) -> tuple[AttackAction, ...]:
        actions = [AttackAction((), 0, "direct")]
        for size in range(1, self.max_combination + 1):
            for subset in itertools.combinations(range(len(self.strategies)), size):
                names = "+".join(self.strategies[i].name for i in subset)
                for k in self.levels:
                    actions.append(AttackAction(subset, int(k), f"{names}@k={int(k)}"))
        return tuple(actions)

    def _enumerate_defenses(self) -> tuple[DefenseAction, ...]:
        actions = []
        for gamma in self.threshold_values:
            for t in self.budgets:
                actions.append(DefenseAction(gamma, f"t={int(t)},gamma={gamma:g}", budget=int(t)))
            for margin in self.adaptive_margins:
                actions.append(
                    DefenseAction(gamma, f"adaptive(x{margin:g}),gamma={gamma:g}", margin=margin)
                )
        return tuple(actions)

    @cached_property
    def attacker_actions(self) -> tuple[AttackAction, ...]:
        """``direct``, then every subset of up to ``max_combination`` strategies x level."""
        return self._enumerate_attacks()

    @cached_property
    def defender_actions(self) -> tuple[DefenseAction, ...]:
        """Per threshold: the fixed budgets, then the adaptive margins."""
        return self._enumerate_defenses()

    @property
    def attacker_labels(self) -> tuple[str, ...]:
        return tuple(a.label for a in self.attacker_actions)

    @property
    def defender_labels(self) -> tuple[str, ...]:
        return tuple(d.label for d in self.defender_actions)

    # ------------------------------------------------------------------ the model
    def complexity(self, attack: AttackAction) -> tuple[float, float, float, float]:
        """``(K, k_hat, total masking, total cover)`` of an attack."""
        concepts = estimate = masking = cover = 0.0
        for i in attack.strategies:
            s = self.strategies[i]
            n = s.dilution * attack.level
            concepts += n
            masking += s.masking * n
            cover += s.cover * n
            estimate += (s.visibility if self.estimator == "surface" else 1.0) * n
        return concepts, estimate, masking, cover

    def budget(self, defense: DefenseAction, estimate: float) -> int:
        """Traces the defender spends on a prompt of estimated complexity ``estimate``."""
        if defense.budget is not None:
            return defense.budget
        assert defense.margin is not None
        cap = self.adaptive_cap if self.adaptive_cap is not None else max(self.budgets, default=0)
        needed = self.risk.required_budget(estimate, defense.threshold)
        return int(min(cap, max(0, math.ceil(defense.margin * needed - 1e-9))))

    def _branches(self, a: int, d: int) -> list[_Branch]:
        attack = self.attacker_actions[a]
        defense = self.defender_actions[d]
        branches: list[_Branch] = []
        if self.benign_prob < 1.0:
            concepts, estimate, masking, cover = self.complexity(attack)
            t = self.budget(defense, estimate)
            score = self.risk.score(t, concepts, masking, cover)
            attack_cost = self.attack_cost * concepts + sum(
                self.strategies[i].cost for i in attack.strategies
            )
            t_cost = self.defense_cost * t
            branches.append(
                _Branch(
                    prob=1.0 - self.benign_prob,
                    benign=False,
                    budget=t,
                    score=score,
                    complexity=concepts,
                    estimate=estimate,
                    p_refuse=self.risk.refusal_probability(score, defense.threshold),
                    if_refused=(-attack_cost, -t_cost),
                    if_answered=(self.value - attack_cost, -self.harm_loss - t_cost),
                )
            )
        if self.benign_prob > 0.0:
            weights = self._benign_weights()
            q, db = self.misjudgement, self.benign_sensitivity
            for k_b, w in zip(self.benign_complexities, weights, strict=True):
                if w <= 0:
                    continue
                t = self.budget(defense, k_b)
                score = (db + self.risk.eta * t * (q - db)) / (k_b + 1.0)
                t_cost = self.defense_cost * t
                branches.append(
                    _Branch(
                        prob=self.benign_prob * float(w),
                        benign=True,
                        budget=t,
                        score=score,
                        complexity=float(k_b),
                        estimate=float(k_b),
                        p_refuse=self.risk.refusal_probability(score, defense.threshold),
                        if_refused=(0.0, -self.over_refusal_cost - t_cost),
                        if_answered=(0.0, -t_cost),
                    )
                )
        return branches

    def expected_payoffs(self, a: int, d: int) -> FloatArray:
        """``(attacker, defender)`` expected payoffs of one action pair."""
        total = np.zeros(2)
        for b in self._branches(a, d):
            total += b.prob * (
                b.p_refuse * np.asarray(b.if_refused)
                + (1.0 - b.p_refuse) * np.asarray(b.if_answered)
            )
        return total

    @cached_property
    def _payoff_tensor(self) -> FloatArray:
        n_a, n_d = len(self.attacker_actions), len(self.defender_actions)
        out = np.empty((2, n_a, n_d))
        for a in range(n_a):
            for d in range(n_d):
                out[:, a, d] = self.expected_payoffs(a, d)
        out.setflags(write=False)
        return out

    def payoff_tensor(self) -> FloatArray:
        """Shape ``(2, n_attacker_actions, n_defender_actions)`` (a fresh copy; the model
        computes it once, so the many envs of a batch sharing one model pay once)."""
        return self._payoff_tensor.copy()

    @cached_property
    def _chance_nodes(self) -> dict[tuple[int, int], ChanceNode]:
        return {}

    def chance(self, a: int, d: int) -> ChanceNode:
        """The precomputed chance moves of an action pair (built on first use, then cached)."""
        key = (a, d)
        node = self._chance_nodes.get(key)
        if node is None:
            node = self._chance_nodes[key] = self._build_chance(a, d)
        return node

    def _build_chance(self, a: int, d: int) -> ChanceNode:
        branches = self._branches(a, d)
        total = math.fsum(b.prob for b in branches)
        cumulative = list(itertools.accumulate(b.prob / total for b in branches))
        cumulative[-1] = 1.0
        outcomes = []
        for b in branches:
            answered, refused = (
                Outcome(
                    benign=b.benign,
                    refused=flag,
                    budget=b.budget,
                    score=float(b.score),
                    complexity=b.complexity,
                    estimated_complexity=b.estimate,
                    rewards=(float(rewards[0]), float(rewards[1])),
                )
                for flag, rewards in ((False, b.if_answered), (True, b.if_refused))
            )
            outcomes.append((answered, refused))
        return ChanceNode(
            tuple(cumulative), tuple(float(b.p_refuse) for b in branches), tuple(outcomes)
        )

    def outcome(self, a: int, d: int, u_source: float, u_refuse: float) -> Outcome:
        """The outcome of uniform draws in [0, 1): ``u_source`` picks the prompt source
        (attack or benign, and k_b) with the model's probabilities, ``u_refuse`` the
        refusal (refused iff ``u_refuse < p_refuse``)."""
        return self.chance(a, d).outcome(u_source, u_refuse)

    def sample(self, a: int, d: int, rng: np.random.Generator) -> Outcome:
        """Draw the prompt source (attack or benign, and k_b) and the refusal from ``rng``."""
        return self.outcome(a, d, float(rng.random()), float(rng.random()))


class PayoffTable:
    """A game given by its payoffs (e.g. measured by a tournament) instead of the formula.

    ``table`` is an array of shape ``(n_attacker_actions, n_defender_actions, 2)`` with
    ``table[a, d] = (attacker payoff, defender payoff)``, or a mapping
    ``{(attacker_label, defender_label): (attacker payoff, defender payoff)}`` covering
    every pair. Rewards are the table's entries, without noise.
    """

    def __init__(
        self,
        table: ArrayLike | Mapping[tuple[str, str], Sequence[float]],
        *,
        attacker_labels: Sequence[str] | None = None,
        defender_labels: Sequence[str] | None = None,
    ) -> None:
        if isinstance(table, Mapping):
            array, att, dfn = self._from_mapping(table)
        else:
            array = np.array(table, dtype=np.float64)
            if array.ndim != 3 or array.shape[2] != 2 or 0 in array.shape:
                raise ArenaError(
                    f"payoff_table has shape {array.shape}.",
                    "pass an array of shape (n_attacker_actions, n_defender_actions, 2).",
                )
            att = tuple(attacker_labels or (f"a{i}" for i in range(array.shape[0])))
            dfn = tuple(defender_labels or (f"d{j}" for j in range(array.shape[1])))
        if len(att) != array.shape[0] or len(dfn) != array.shape[1]:
            raise ArenaError(
                f"{len(att)} attacker and {len(dfn)} defender labels for a table of shape "
                f"{array.shape[:2]}.",
                "give one label per row and per column.",
            )
        if not np.all(np.isfinite(array)):
            raise ArenaError("payoff_table has NaN or infinite entries.", "use finite payoffs.")
        array.setflags(write=False)
        self.table = array
        self.attacker_labels: tuple[str, ...] = tuple(str(x) for x in att)
        self.defender_labels: tuple[str, ...] = tuple(str(x) for x in dfn)

    @staticmethod
    def _from_mapping(
        table: Mapping[tuple[str, str], Sequence[float]],
    ) -> tuple[FloatArray, tuple[str, ...], tuple[str, ...]]:
        att: list[str] = []
        dfn: list[str] = []
        for key in table:
            if not (isinstance(key, tuple) and len(key) == 2):
                raise ArenaError(
                    f"payoff_table key {key!r} is not an (attacker, defender) pair.",
                    "key the mapping by (attacker_label, defender_label).",
                )
            if key[0] not in att:
                att.append(key[0])
            if key[1] not in dfn:
                dfn.append(key[1])
        array = np.empty((len(att), len(dfn), 2))
        for i, a in enumerate(att):
            for j, d in enumerate(dfn):
                if (a, d) not in table:
                    raise ArenaError(
                        f"payoff_table has no entry for ({a!r}, {d!r}).",
                        "give a payoff pair for every attacker x defender combination.",
                    )
                pair = np.asarray(table[(a, d)], dtype=np.float64).reshape(-1)
                if pair.shape != (2,):
                    raise ArenaError(
                        f"payoff_table[({a!r}, {d!r})] has {pair.size} values.",
                        "give (attacker payoff, defender payoff).",
                    )
                array[i, j] = pair
        return array, tuple(att), tuple(dfn)

    def payoff_tensor(self) -> FloatArray:
        return np.moveaxis(self.table, 2, 0).copy()

    def outcome(self, a: int, d: int, u_source: float = 0.0, u_refuse: float = 0.0) -> Outcome:
        """The table's entry as an outcome (deterministic: the draws are ignored)."""
        del u_source, u_refuse
        return Outcome(
            benign=False,
            refused=False,
            budget=0,
            score=math.nan,
            complexity=math.nan,
            estimated_complexity=math.nan,
            rewards=(float(self.table[a, d, 0]), float(self.table[a, d, 1])),
        )

    def sample(self, a: int, d: int, rng: np.random.Generator) -> Outcome:
        del rng  # deterministic
        return self.outcome(a, d)


def normal_form(
    payoffs: FloatArray, attacker_labels: Sequence[str], defender_labels: Sequence[str], title: str
) -> NormalFormGame:
    """The ``(attacker, defender)`` normal-form game of a payoff tensor ``(2, n_a, n_d)``."""
    return NormalFormGame(
        payoffs,
        players=(ATTACKER, DEFENDER),
        strategies=(tuple(attacker_labels), tuple(defender_labels)),
        title=title,
    )


def leader_follower(
    payoffs: FloatArray, attacker_labels: Sequence[str], defender_labels: Sequence[str], title: str
) -> LeaderFollowerGame:
    """The defender commits first, the attacker observes and replies.

    See ``docs/papers.md#rapo-game-players``.
    """
    return LeaderFollowerGame(
        leader_payoffs=payoffs[1].T,
        follower_payoffs=payoffs[0].T,
        leader_actions=tuple(defender_labels),
        follower_actions=tuple(attacker_labels),
        players=(DEFENDER, ATTACKER),
        title=title,
    )


def describe(model: StrategyGameModel) -> dict[str, Any]:
    """The model's settings as plain data (for run manifests)."""
    return {
        "strategies": [dict(s.__dict__) for s in model.strategies],
        "levels": list(model.levels),
        "max_combination": model.max_combination,
        "budgets": list(model.budgets),
        "thresholds": list(model.threshold_values),
        "adaptive_margins": list(model.adaptive_margins),
        "estimator": model.estimator,
        "adaptive_cap": model.adaptive_cap,
        "risk": dict(model.risk.__dict__),
        "value": model.value,
        "harm_loss": model.harm_loss,
        "attack_cost": model.attack_cost,
        "defense_cost": model.defense_cost,
        "over_refusal_cost": model.over_refusal_cost,
        "benign_prob": model.benign_prob,
        "benign_complexities": list(model.benign_complexities),
        "benign_weights": model._benign_weights().tolist(),
        "benign_sensitivity": model.benign_sensitivity,
        "misjudgement": model.misjudgement,
    }
