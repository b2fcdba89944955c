"""The tabular decide/sample setting, numpy-batched: N episodes stepped at once.

Why a second implementation: checking the DS gradient claims by Monte Carlo needs
10^5-10^6 episodes per estimate, which the per-episode PettingZoo environment (one
Python call per move) cannot give in a test's time budget. This module keeps the same
game (:mod:`envs.decide_sample.env`: SAMPLE, then a verifier hint correct with
probability ``rho``, then STOP/REVISE, STOP forced after ``k_max`` attempts, reward 1
for stopping on a correct answer, ``-revise_cost`` per REVISE) with the *tabular*
abstraction of the sampler: the SAMPLE action is ``1`` (the truth) or ``0`` (a near
miss), so a sampler is described by one number, its per-attempt accuracy ``p``.

The policy (:class:`TabularPolicy`) has disjoint parameters, as the DS notes'
analysis assumes (``kale_ds.md`` B.2, a reconstruction, not the paper's text):

* ``theta_s``: the sampling logit, ``p = σ(θ_S)``;
* ``theta_d = (θ_0, θ_1)``: the decision logits, ``P(STOP | hint = h) = σ(θ_h)``.

Marginalising the hint gives the toy model's decision quality
``a = P(STOP | correct) = ρ σ(θ_1) + (1−ρ) σ(θ_0)`` and
``b = P(STOP | wrong) = (1−ρ) σ(θ_1) + ρ σ(θ_0)``, so the exact value is
``V_K(p, a, b)`` of :mod:`theory.claims.ds.model` and :func:`exact_gradient` is its
gradient by the chain rule. :func:`reinforce_gradient` (policy-gradient estimates per
component) and :func:`sft_gradient` (log-likelihood gradient of expert demonstrations
per component) are what the DS claims T1/T2 compare.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from theory.claims.ds.model import value_and_grad

SAMPLE, DECIDE = 0, 1
STOP, REVISE = 0, 1
#: Parameter order of every gradient here: sampling, then the two decision logits.
PARAM_NAMES = ("theta_s", "theta_d0", "theta_d1")
GradFn = Callable[[np.ndarray, np.ndarray, np.ndarray, int], tuple[np.ndarray, np.ndarray]]


def sigmoid(x: np.ndarray | float) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.asarray(x, dtype=np.float64)))


@dataclass(frozen=True)
class TabularPolicy:
    """A tabular policy with disjoint sampling (``theta_s``) and decision (``theta_d``) parts."""

    theta_s: float
    theta_d: tuple[float, float]

    @property
    def p(self) -> float:
        """Per-attempt accuracy ``σ(θ_S)``."""
        return float(sigmoid(self.theta_s))

    @property
    def stop_probs(self) -> np.ndarray:
        """``P(STOP | hint = 0)``, ``P(STOP | hint = 1)``."""
        return sigmoid(np.asarray(self.theta_d, dtype=np.float64))

    def components(self, rho: float) -> tuple[float, float, float]:
        """The toy model's ``(p, a, b)`` once the hint is marginalised out."""
        s0, s1 = self.stop_probs
        return self.p, rho * s1 + (1 - rho) * s0, (1 - rho) * s1 + rho * s0

    def act(self, phase: np.ndarray, hint: np.ndarray, u: np.ndarray) -> np.ndarray:
        """Batch actions from uniforms: SAMPLE 1 w.p. ``p``, DECIDE STOP w.p. ``σ(θ_hint)``."""
        deciding = phase == DECIDE
        prob = np.where(deciding, self.stop_probs.take(hint), self.p)
        return ((u < prob) ^ deciding).astype(np.int8)  # DECIDE: u < P(STOP) -> 0 (STOP)


class VectorDecideSample:
    """``n`` independent tabular episodes, stepped together (see the module docstring).

    ``step(actions)`` advances every slot by one agent-step and returns
    ``(rewards, done)``; with ``autoreset`` a finished slot starts a new episode at once
    (the benchmark's mode), without it a finished slot stays finished and ignores its
    actions (the rollouts of the gradient estimators).
    """

    def __init__(
        self,
        n: int,
        *,
        k_max: int = 3,
        rho: float = 0.8,
        revise_cost: float = 0.0,
        seed: int | None = None,
        autoreset: bool = True,
    ) -> None:
        if n < 1 or k_max < 1 or not 0 <= rho <= 1 or revise_cost < 0:
            raise ValueError("need n >= 1, k_max >= 1, 0 <= rho <= 1, revise_cost >= 0")
        self.n, self.k_max, self.rho = n, k_max, rho
        self.revise_cost = float(revise_cost)
        self.autoreset = autoreset
        self.rng = np.random.default_rng(seed)
        self.reset()

    def reset(self) -> None:
        n = self.n
        self.phase = np.zeros(n, dtype=np.int8)
        self.attempt = np.zeros(n, dtype=np.int16)  # attempts made so far
        self.correct = np.zeros(n, dtype=bool)
        self.hint = np.zeros(n, dtype=np.int8)
        self.finished = np.zeros(n, dtype=bool)

    def step(
        self, actions: np.ndarray, u_hint: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """One agent-step in every slot; ``u_hint`` (uniforms) may be passed to save a draw."""
        if u_hint is None:
            u_hint = self.rng.random(self.n)
        live = ~self.finished
        sampling = (self.phase == SAMPLE) & live
        deciding = (self.phase == DECIDE) & live
        self.correct = np.where(sampling, actions == 1, self.correct)
        self.attempt += sampling
        forced = sampling & (self.attempt >= self.k_max)
        truthful = u_hint < self.rho
        self.hint = np.where(sampling, self.correct == truthful, self.hint).astype(np.int8)
        stop = deciding & (actions == STOP)
        revise = deciding & ~stop
        done = forced | stop
        rewards = (done & self.correct).astype(np.float64)
        if self.revise_cost:
            rewards -= self.revise_cost * revise
        self.phase = (sampling & ~forced).astype(np.int8)  # -> DECIDE; else back to SAMPLE
        if self.autoreset:
            self.attempt *= ~done
        else:
            self.finished |= done
        return rewards, done


@dataclass(frozen=True)
class Rollout:
    """One finished episode per slot: return and per-parameter score ``∇ log P(τ)``."""

    rewards: np.ndarray  # (n,)
    scores: np.ndarray  # (n, 3), columns PARAM_NAMES
    first_correct: np.ndarray  # (n,)


def rollout(
    policy: TabularPolicy,
    n: int,
    *,
    k_max: int,
    rho: float,
    revise_cost: float = 0.0,
    seed: int | None = None,
) -> Rollout:
    """Play ``n`` episodes to the end with ``policy`` through :class:`VectorDecideSample`.

    The score of a Bernoulli-logit action is ``action − prob``; summed per component it
    is ``g_S`` (all SAMPLE actions) and ``g_D`` (decisions, split by the hint seen).
    """
    env = VectorDecideSample(
        n, k_max=k_max, rho=rho, revise_cost=revise_cost, seed=seed, autoreset=False
    )
    rng = env.rng
    p, stops = policy.p, policy.stop_probs
    rewards = np.zeros(n)
    scores = np.zeros((n, 3))
    first_correct = np.zeros(n, dtype=bool)
    for move in range(2 * k_max - 1):
        u = rng.random((2, n))
        live = ~env.finished
        phase, hint = env.phase.copy(), env.hint.copy()
        actions = policy.act(phase, hint, u[0])
        sampling = live & (phase == SAMPLE)
        deciding = live & (phase == DECIDE)
        scores[:, 0] += sampling * (actions - p)
        stop = (actions == STOP).astype(np.float64)
        for h in (0, 1):
            scores[:, 1 + h] += (deciding & (hint == h)) * (stop - stops[h])
        if move == 0:
            first_correct = actions == 1
        r, _ = env.step(actions, u[1])
        rewards += r
    assert env.finished.all()
    return Rollout(rewards, scores, first_correct)


@dataclass(frozen=True)
class GradientEstimate:
    """A Monte Carlo gradient (per parameter, PARAM_NAMES order) with standard errors."""

    mean: np.ndarray
    stderr: np.ndarray
    n: int

    def agrees_with(self, exact: np.ndarray, z: float = 4.0) -> bool:
        """Whether every component is within ``z`` standard errors of ``exact``."""
        return bool(np.all(np.abs(self.mean - exact) <= z * self.stderr))

    def z_scores(self, exact: np.ndarray) -> np.ndarray:
        return np.asarray((self.mean - exact) / self.stderr)


def _estimate(contrib: np.ndarray) -> GradientEstimate:
    n = contrib.shape[0]
    return GradientEstimate(contrib.mean(axis=0), contrib.std(axis=0, ddof=1) / np.sqrt(n), n)


def reinforce_gradient(
    policy: TabularPolicy, n: int, *, k_max: int, rho: float, seed: int | None = None
) -> GradientEstimate:
    """REINFORCE ``E[(R − b)·∇ log P(τ)]`` per parameter, leave-one-out baseline ``b``.

    Why leave-one-out: a baseline computed from the episode itself would bias the
    estimate by ``O(1/n)``; the mean of the *other* episodes does not depend on this
    episode's actions, so the estimate stays unbiased for ``∇V`` (T1's balance).
    """
    out = rollout(policy, n, k_max=k_max, rho=rho, seed=seed)
    r = out.rewards
    baseline = (r.sum() - r) / (n - 1)
    return _estimate((r - baseline)[:, None] * out.scores)


def exact_gradient(
    policy: TabularPolicy, *, k_max: int, rho: float, grad_fn: GradFn = value_and_grad
) -> tuple[float, np.ndarray]:
    """``V_K`` and ``∂V_K/∂(θ_S, θ_0, θ_1)`` from the closed form of ``theory.claims.ds``.

    ``grad_fn(p, a, b, k_max)`` returns ``(V, ∂V/∂(p, a, b))``; a test passes a
    perturbed one to show the Monte Carlo comparison can fail.
    """
    p, a, b = policy.components(rho)
    value, grad = grad_fn(np.asarray(p), np.asarray(a), np.asarray(b), k_max)
    dp, da, db = (float(g) for g in np.asarray(grad))
    s0, s1 = policy.stop_probs
    return float(value), np.array(
        [
            dp * p * (1 - p),
            (da * (1 - rho) + db * rho) * s0 * (1 - s0),
            (da * rho + db * (1 - rho)) * s1 * (1 - s1),
        ]
    )


@dataclass(frozen=True)
class Demonstrations:
    """Expert traces: attempt correctness, the hint seen and the expert's decision.

    Arrays are ``(n, k_max)``; ``valid`` marks attempts that happened and ``decided``
    the ones followed by a decision (all but a forced final attempt).
    """

    correct: np.ndarray
    hint: np.ndarray
    stop: np.ndarray
    valid: np.ndarray
    decided: np.ndarray


def demonstrations(
    n: int, *, k_max: int, rho: float, p_demo: float, seed: int | None = None
) -> Demonstrations:
    """Expert traces: attempts correct w.p. ``p_demo``; STOP exactly on a correct attempt.

    This is the SFT data of ``kale_ds.md`` B.4 (correct single attempts plus
    wrong → REVISE → correct traces); the expert decides on the true correctness, which
    the student only sees through the hint.
    """
    rng = np.random.default_rng(seed)
    correct = rng.random((n, k_max)) < p_demo
    truthful = rng.random((n, k_max)) < rho
    hint = (correct == truthful).astype(np.int8)
    before: np.ndarray = np.cumsum(correct, axis=1) - correct  # correct attempts before this one
    valid: np.ndarray = before == 0
    decided: np.ndarray = valid.copy()
    decided[:, -1] = False
    return Demonstrations(correct, hint, correct & decided, valid, decided)


def sft_gradient(
    policy: TabularPolicy, demos: Demonstrations, *, reduction: str = "sum"
) -> GradientEstimate:
    """Per-parameter gradient of the demonstrations' log-likelihood (−∇ of the SFT loss).

    ``reduction="sum"`` sums over a trace's action tokens; ``"mean"`` divides by their
    number (attempts plus decisions), as token-mean SFT losses do. Why it is
    unbalanced (claim T2, reconstructed): the decision term imitates ``d*`` whatever
    the outcome, with no ``Q(STOP) − Q(REVISE)`` contrast.
    """
    if reduction not in ("sum", "mean"):
        raise ValueError("reduction must be 'sum' or 'mean'")
    p, stops = policy.p, policy.stop_probs
    g_s = (demos.valid * (demos.correct - p)).sum(axis=1)
    g_d = [(demos.decided & (demos.hint == h)) * (demos.stop - stops[h]) for h in (0, 1)]
    contrib = np.stack([g_s, g_d[0].sum(axis=1), g_d[1].sum(axis=1)], axis=1)
    if reduction == "mean":
        tokens = demos.valid.sum(axis=1) + demos.decided.sum(axis=1)
        contrib = contrib / tokens[:, None]
    return _estimate(contrib)


def expected_sft_gradient(
    policy: TabularPolicy, *, k_max: int, rho: float, p_demo: float
) -> np.ndarray:
    """The exact expectation of :func:`sft_gradient` with ``reduction="sum"``.

    Attempt ``k`` happens with probability ``(1 − p_demo)^(k−1)`` (Wald's identity for
    the sampling term); a decision follows every attempt but the last.
    """
    p, (s0, s1) = policy.p, policy.stop_probs
    reach = (1 - p_demo) ** np.arange(k_max)
    hint1_correct = p_demo * rho
    hint1 = p_demo * rho + (1 - p_demo) * (1 - rho)
    hint0_correct = p_demo * (1 - rho)
    decisions = reach[:-1].sum()
    return np.array(
        [
            reach.sum() * (p_demo - p),
            decisions * (hint0_correct - (1 - hint1) * s0),
            decisions * (hint1_correct - hint1 * s1),
        ]
    )
