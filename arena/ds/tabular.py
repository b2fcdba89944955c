"""The tabular decide/sample policy in token mode, trained by RL (± KL) or SFT, batched.

Why a token-mode tabular policy: the DS claims (``theory.claims.ds``, all
*reconstructed* from the paper's abstract) are about how a training signal's gradient
splits between a sampling part that emits ``L`` tokens per attempt and a decision part
that emits one. This module is the claims' toy model made executable, with the game of
``envs.decide_sample`` (verifier hint correct w.p. ``rho``, STOP forced after ``k_max``
attempts, reward 1 for stopping on a correct answer):

* sampling head ``θ_S``: each of an attempt's ``L`` tokens is "on track" w.p.
  ``σ(θ_S − shift)``; the attempt's answer is its last token, so an attempt is correct
  w.p. ``p = σ(θ_S − shift)`` and the ``L − 1`` trace tokens only add score noise and
  KL/SFT terms (exactly the claims' toy). ``shift`` is 0 in distribution and
  ``ood_shift`` out of distribution: OOD problems are harder for the same sampler;
* decision head ``θ_D = (θ_0, θ_1)``: ``P(STOP | hint = h) = σ(θ_h)``, one token per
  non-final attempt. Marginalising the hint gives the toy's ``a`` and ``b``.

Every array has a leading *instance* axis: one row per (seed, method, ρ, β) trained
side by side, so a whole experiment with its sweeps is one numpy loop. Gradients are
per component and in the ascent direction (what the update adds, before the step size).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from theory.claims.ds.model import value_and_grad


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


@dataclass
class Batch:
    """One batch of finished episodes per instance: arrays ``(I, B)`` unless noted."""

    reward: np.ndarray
    score_s: np.ndarray  # Σ over sampling tokens of (y − σ): the θ_S score
    score_d: np.ndarray  # (I, B, 2): Σ over decisions with hint h of (stop − σ(θ_h))
    score_a: np.ndarray  # marginal (hint summed out) scores of a = P(STOP|correct)
    score_b: np.ndarray  # ... and of b = P(STOP|wrong)
    ones: np.ndarray  # on-track sampling tokens
    n_sample: np.ndarray  # sampling tokens
    n_dec: np.ndarray  # (I, B, 2) decisions per hint
    first_correct: np.ndarray
    dec_correct: np.ndarray  # decisions made after a correct attempt
    stop_correct: np.ndarray  # ... that were STOP
    dec_wrong: np.ndarray  # decisions made after a wrong attempt
    revise_wrong: np.ndarray  # ... that were REVISE

    @property
    def tokens(self) -> np.ndarray:
        return np.asarray(self.n_sample + self.n_dec.sum(axis=-1))


def play(
    rng: np.random.Generator,
    theta_s: np.ndarray,
    theta_d: np.ndarray,
    *,
    rho: np.ndarray,
    length: int,
    k_max: int,
    batch: int,
    shift: float = 0.0,
    expert: np.ndarray | None = None,
) -> Batch:
    """Play ``batch`` episodes per instance; ``expert`` makes them demonstrations.

    ``theta_s`` is ``(I,)``, ``theta_d`` ``(I, 2)``, ``rho`` ``(I,)``. With ``expert``
    (``(I,)`` token accuracies ``q*``) the tokens come from the expert and the decisions
    are the expert's (STOP iff the attempt is correct), while the scores are still the
    *student's* (``θ``): the per-token log-likelihood gradients of SFT on those traces.
    """
    n = theta_s.shape[0]
    s = sigmoid(theta_s - shift)[:, None]
    tok = s if expert is None else np.asarray(expert, dtype=np.float64)[:, None]
    sd = sigmoid(theta_d)  # (I, 2)
    rho_c = np.asarray(rho, dtype=np.float64)[:, None]
    a = rho_c * sd[:, 1:2] + (1 - rho_c) * sd[:, 0:1]
    b = (1 - rho_c) * sd[:, 1:2] + rho_c * sd[:, 0:1]
    shape = (n, batch)
    zeros = lambda: np.zeros(shape)  # noqa: E731
    alive = np.ones(shape, dtype=bool)
    reward, score_s, score_a, score_b, ones, n_sample = (zeros() for _ in range(6))
    score_d = np.zeros((*shape, 2))
    n_dec = np.zeros((*shape, 2))
    first = np.zeros(shape, dtype=bool)
    dec_c, stop_c, dec_w, rev_w = (zeros() for _ in range(4))
    for attempt in range(k_max):
        correct = rng.random(shape) < tok
        trace = rng.binomial(length - 1, np.broadcast_to(tok, shape)) if length > 1 else 0
        on = correct + trace
        ones += alive * on
        n_sample += alive * length
        score_s += alive * (on - length * s)
        if attempt == 0:
            first = correct.copy()
        if attempt == k_max - 1:
            reward += alive & correct
            break
        hint = np.where(rng.random(shape) < rho_c, correct, ~correct).astype(np.int64)
        p_stop = np.where(hint == 1, sd[:, 1:2], sd[:, 0:1])
        stop = correct if expert is not None else rng.random(shape) < p_stop
        for h in (0, 1):
            here = alive & (hint == h)
            score_d[..., h] += here * (stop - sd[:, h : h + 1])
            n_dec[..., h] += here
        score_a += alive & correct & stop
        score_a -= (alive & correct) * a
        score_b += alive & ~correct & stop
        score_b -= (alive & ~correct) * b
        dec_c += alive & correct
        stop_c += alive & correct & stop
        dec_w += alive & ~correct
        rev_w += alive & ~correct & ~stop
        reward += alive & stop & correct
        alive &= ~stop
    return Batch(
        reward,
        score_s,
        score_d,
        score_a,
        score_b,
        ones,
        n_sample,
        n_dec,
        first,
        dec_c,
        stop_c,
        dec_w,
        rev_w,
    )


def reinforce_grad(batch: Batch) -> tuple[np.ndarray, np.ndarray]:
    """REINFORCE per component, leave-one-out baseline: ``(g_S (I,), g_D (I, 2))``.

    Each trajectory's whole score is weighted by its advantage alone, the weighting
    under which T1 says attribution is balanced.
    """
    r = batch.reward
    m = r.shape[1]
    adv = r - (r.sum(axis=1, keepdims=True) - r) / (m - 1)
    g_s = (adv * batch.score_s).mean(axis=1)
    g_d = (adv[..., None] * batch.score_d).mean(axis=1)
    return g_s, g_d


def kl_grad(
    batch: Batch,
    theta_s: np.ndarray,
    theta_d: np.ndarray,
    ref_s: np.ndarray,
    ref_d: np.ndarray,
    estimator: str = "exact",
) -> tuple[np.ndarray, np.ndarray]:
    """Gradient of the per-token KL penalty ``Σ_tokens KL(π_θ ‖ π_ref)`` per component.

    Treated as a per-token loss at the sampled tokens (as TRL's GRPO does), averaged
    over episodes. ``"exact"``: the Bernoulli KL of the head at every token,
    ``∂/∂θ = σ'(θ)(θ − θ_ref)`` per token; ``"k3"``: the sampled-token estimator
    ``ρ − log ρ − 1`` (``ρ = π_ref(y)/π(y)``), whose gradient is ``(1 − ρ)·∂log π(y)``.
    The sampling sum has ``L`` terms per attempt, the decision sum one: T3's asymmetry.
    """
    s, r = sigmoid(theta_s), sigmoid(ref_s)
    sd, rd = sigmoid(theta_d), sigmoid(ref_d)
    if estimator == "exact":
        g_s = batch.n_sample.mean(axis=1) * s * (1 - s) * (theta_s - ref_s)
        g_d = batch.n_dec.mean(axis=1) * sd * (1 - sd) * (theta_d - ref_d)
        return g_s, g_d
    if estimator != "k3":
        raise ValueError(f"estimator must be 'exact' or 'k3', got {estimator!r}")
    # y = 1: (1 − r/s)(1 − s); y = 0: (1 − (1−r)/(1−s))(−s)
    one_s, zero_s = (1 - r / s) * (1 - s), (1 - (1 - r) / (1 - s)) * (-s)
    g_s = batch.ones.mean(axis=1) * one_s + (batch.n_sample - batch.ones).mean(axis=1) * zero_s
    stops = (batch.score_d + batch.n_dec * sd[:, None, :]).mean(axis=1)  # STOP decisions
    one_d, zero_d = (1 - rd / sd) * (1 - sd), (1 - (1 - rd) / (1 - sd)) * (-sd)
    g_d = stops * one_d + (batch.n_dec.mean(axis=1) - stops) * zero_d
    return g_s, g_d


def sft_grad(batch: Batch) -> tuple[np.ndarray, np.ndarray]:
    """Log-likelihood gradient of demonstrations, batch token-mean (TRL's SFT loss).

    Sums every token's score and divides by the batch's token count, so a decision
    token weighs as much as a sampling token and there are ``L`` of those per attempt.
    """
    tokens = batch.tokens.sum(axis=1)
    return batch.score_s.sum(axis=1) / tokens, batch.score_d.sum(axis=1) / tokens[:, None]


def components(theta: np.ndarray, rho: np.ndarray, shift: float = 0.0) -> np.ndarray:
    """Exact ``(p, a, b)`` per instance, ``(I, 3)``."""
    p = sigmoid(theta[:, 0] - shift)
    s0, s1 = sigmoid(theta[:, 1]), sigmoid(theta[:, 2])
    return np.stack([p, rho * s1 + (1 - rho) * s0, (1 - rho) * s1 + rho * s0], axis=1)


def exact_value(theta: np.ndarray, rho: np.ndarray, k_max: int, shift: float = 0.0) -> np.ndarray:
    """Exact accuracy ``V_K(p, a, b)`` per instance (the claims' recursion)."""
    pab = components(theta, rho, shift)
    return np.asarray(value_and_grad(pab[:, 0], pab[:, 1], pab[:, 2], k_max)[0])


@dataclass(frozen=True)
class Measured:
    """Rates measured on played episodes, per instance: accuracy, p1, a, 1 − b (+ counts)."""

    accuracy: np.ndarray
    p1: np.ndarray
    a: np.ndarray
    one_minus_b: np.ndarray
    n: int
    n_a: np.ndarray
    n_b: np.ndarray


def measure(
    rng: np.random.Generator,
    theta: np.ndarray,
    *,
    rho: np.ndarray,
    length: int,
    k_max: int,
    episodes: int,
    shift: float = 0.0,
) -> Measured:
    """Play ``episodes`` per instance and count the DS components (as the env summary does)."""
    out = play(
        rng,
        theta[:, 0],
        theta[:, 1:],
        rho=rho,
        length=length,
        k_max=k_max,
        batch=episodes,
        shift=shift,
    )
    n_a, n_b = out.dec_correct.sum(axis=1), out.dec_wrong.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        a = np.where(n_a > 0, out.stop_correct.sum(axis=1) / np.maximum(n_a, 1), np.nan)
        omb = np.where(n_b > 0, out.revise_wrong.sum(axis=1) / np.maximum(n_b, 1), np.nan)
    return Measured(
        out.reward.mean(axis=1), out.first_correct.mean(axis=1), a, omb, episodes, n_a, n_b
    )
