"""A causal-LM decide/sample policy whose sampling and decision tokens are masked apart.

Why masks: in an LLM one parameter vector implements both DS components, so "the
gradient reaching a component" is the gradient of the loss terms at that component's
token positions. Every episode is one token sequence::

    prompt "12+7="  | attempt: L digit tokens | hint Y/N | decision S/R | attempt | ...

* **sampling tokens**: the attempt's ``L`` digits (the answer zero-padded to ``L``);
  the policy there is the LM's next-token distribution restricted to the ten digits;
* **decision tokens**: one ``S`` (STOP) or ``R`` (REVISE) after the verifier's hint
  (``Y`` if the attempt looks right, ``N`` if not; truthful w.p. ``rho``), restricted to
  those two tokens; STOP is forced after ``k_max`` attempts (no decision token).

Prompt, hint and padding are context only. :class:`Episodes` keeps the token ids and
the two position masks, so a loss splits exactly into a sampling part and a decision
part (:mod:`arena.ds.llm_train`). Characters are mapped to single tokens one by one
(not through BPE merges) so every position is one known symbol; a tokenizer lacking one
of them is rejected with an ``ArenaError``.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from envs.errors import ArenaError

SYMBOLS = "0123456789+x=YNSR"


@dataclass(frozen=True)
class Vocab:
    """Token ids of the symbols the game uses."""

    ids: dict[str, int]
    pad: int

    @property
    def digits(self) -> torch.Tensor:
        return torch.tensor([self.ids[c] for c in "0123456789"])

    @property
    def decisions(self) -> torch.Tensor:  # index 0 STOP, 1 REVISE
        return torch.tensor([self.ids["S"], self.ids["R"]])

    def encode(self, text: str) -> list[int]:
        return [self.ids[c] for c in text]


def vocab_of(tokenizer: Any) -> Vocab:
    ids = {}
    for c in SYMBOLS:
        found = tokenizer.encode(c, add_special_tokens=False)
        if len(found) != 1:
            raise ArenaError(
                f"the tokenizer does not have {c!r} as one token.",
                "use --policy hf:tiny or a model whose tokenizer has single-character digits.",
            )
        ids[c] = int(found[0])
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    return Vocab(ids, int(pad if pad is not None else 0))


def load_model(spec: str) -> tuple[Any, Vocab, str]:
    """``hf:tiny`` (built offline) or ``hf:PATH``: the model, its vocab and the path.

    Loads through the hf backend's checks (:func:`agents.backends.hf.resolve_model`,
    ``load_tokenizer``, ``load_causal_lm``), so a folder that is not a model or a damaged
    checkpoint is one ArenaError line, as in ``arena play``, not a transformers traceback.
    """
    from agents.backends.hf import load_causal_lm, load_tokenizer, resolve_model

    name = spec.removeprefix("hf:")
    if name == "tiny":
        from agents.tiny import ensure_tiny_model

        name = str(ensure_tiny_model())
    path, local_dir = resolve_model(name)
    tokenizer = load_tokenizer(path, local_dir)
    model = load_causal_lm(path, local_dir, dtype=torch.float32)
    return model, vocab_of(tokenizer), path


@dataclass
class Episodes:
    """A batch of played (or demonstrated) episodes as padded token sequences."""

    ids: torch.Tensor  # (B, T)
    attention: torch.Tensor  # (B, T) 1 on real tokens
    sample_mask: torch.Tensor  # (B, T) bool: sampling-token positions
    decision_mask: torch.Tensor  # (B, T) bool: decision-token positions
    reward: np.ndarray  # (B,)
    first_correct: np.ndarray
    dec_correct: np.ndarray  # per episode: decisions after correct attempts
    stop_correct: np.ndarray
    dec_wrong: np.ndarray
    revise_wrong: np.ndarray

    @property
    def length(self) -> int:
        return int(self.ids.shape[1])


def problems(
    rng: np.random.Generator, n: int, digits: int, operators: str
) -> list[tuple[str, int]]:
    """``n`` problems ``(text, answer)`` with ``digits``-digit operands."""
    low, high = (10 ** (digits - 1) if digits > 1 else 0), 10**digits
    out = []
    for _ in range(n):
        op = operators[int(rng.integers(len(operators)))]
        left, right = int(rng.integers(low, high)), int(rng.integers(low, high))
        out.append((f"{left}{op}{right}=", left + right if op == "+" else left * right))
    return out


def _restricted_logp(logits: torch.Tensor, allowed: torch.Tensor) -> torch.Tensor:
    return torch.log_softmax(logits[..., allowed], dim=-1)


class _Stream:
    """One model reading the batch's tokens as they are written (KV cache)."""

    def __init__(self, model: Any, prompt: torch.Tensor) -> None:
        self.model = model
        # transformers >= 5.2x renamed ``past_key_values`` to ``cache``
        self.key = (
            "cache"
            if "cache" in inspect.signature(model.forward).parameters
            else ("past_key_values")
        )
        self._read(model(input_ids=prompt, use_cache=True))

    def _read(self, out: Any) -> None:
        past = getattr(out, self.key, None)
        self.past = past if past is not None else getattr(out, "past_key_values", None)
        self.logits = out.logits[:, -1, :]

    def feed(self, token: torch.Tensor) -> None:
        self._read(self.model(input_ids=token[:, None], use_cache=True, **{self.key: self.past}))


@torch.no_grad()
def play(
    samplers: tuple[Any, Any],
    vocab: Vocab,
    rng: np.random.Generator,
    probs: list[tuple[str, int]],
    *,
    length: int,
    k_max: int,
    rho: float,
    expert: float | None = None,
    decide_at_random: bool = False,
) -> Episodes:
    """Play one episode per problem; ``samplers = (sampling model, decision model)``.

    The two models may differ (the counterfactual swap). With ``expert`` the tokens are a
    teacher's instead: the right answer w.p. ``expert`` (else one digit off), STOP iff the
    attempt is right (or at random with ``decide_at_random``, the warm-up's noisy teacher).

    Every problem of a batch has the same prompt length and every attempt the same
    layout, so the batch advances in lock step with a KV cache: an episode that has
    stopped keeps receiving tokens, which its masks exclude (causal attention keeps them
    from touching the positions that count). Sampling draws come from a
    ``torch.Generator`` seeded from ``rng``.
    """
    gen = torch.Generator().manual_seed(int(rng.integers(2**62)))
    n = len(probs)
    prompts = [vocab.encode(text) for text, _ in probs]
    if len({len(x) for x in prompts}) != 1:
        raise ValueError("every prompt of a batch must have the same length")
    ids = torch.tensor(prompts, dtype=torch.long)
    columns: list[torch.Tensor] = []
    smask: list[bool] = [False] * ids.shape[1]
    dmask: list[bool] = [False] * ids.shape[1]
    live = np.ones(n, dtype=bool)
    reward = np.zeros(n)
    first = np.zeros(n, dtype=bool)
    dc, sc, dw, rw = (np.zeros(n) for _ in range(4))
    digits, decisions = vocab.digits, vocab.decisions
    digit_of = {int(t): d for d, t in enumerate(digits)}
    streams: list[_Stream] = []
    if expert is None:
        streams = [_Stream(samplers[0], ids)]
        if samplers[1] is not samplers[0]:
            streams.append(_Stream(samplers[1], ids))

    alive_at: list[np.ndarray] = []

    def write(token: torch.Tensor, sample: bool = False, decision: bool = False) -> None:
        columns.append(token)
        smask.append(sample)
        dmask.append(decision)
        alive_at.append(live.copy())
        for stream in streams:
            stream.feed(token)

    answers = [f"{answer:0{length}d}"[-length:] for _, answer in probs]
    for attempt in range(k_max):
        wrong_pos = np.full(n, -1)
        if expert is not None:
            slip = rng.random(n) >= expert
            wrong_pos = np.where(slip, rng.integers(length, size=n), -1)
            shift = rng.integers(1, 10, size=n)
        written = []
        for pos in range(length):
            if expert is None:
                dist = _restricted_logp(streams[0].logits, digits).exp()
                token = digits[torch.multinomial(dist, 1, generator=gen)[:, 0]]
            else:
                vals = [
                    (int(answers[i][pos]) + (shift[i] if wrong_pos[i] == pos else 0)) % 10
                    for i in range(n)
                ]
                token = digits[torch.tensor(vals)]
            written.append(token)
            write(token, sample=True)
        drafts = torch.stack(written, dim=1)
        correct = np.array(
            [
                all(digit_of[int(t)] == int(answers[i][k]) for k, t in enumerate(drafts[i]))
                for i in range(n)
            ]
        )
        if attempt == 0:
            first = correct.copy()
        if attempt == k_max - 1:
            reward += live & correct
            break
        hints = np.where(rng.random(n) < rho, correct, ~correct)
        write(torch.tensor([vocab.ids["Y" if h else "N"] for h in hints]))
        if expert is not None:
            stop = rng.random(n) < 0.5 if decide_at_random else correct.copy()
        else:
            p_stop = _restricted_logp(streams[-1].logits, decisions).exp()[:, 0]
            stop = (torch.rand(n, generator=gen) < p_stop).numpy()
        write(decisions[torch.as_tensor(np.where(stop, 0, 1))], decision=True)
        dc += live & correct
        sc += live & correct & stop
        dw += live & ~correct
        rw += live & ~correct & ~stop
        reward += live & correct & stop
        live &= ~stop
    full = torch.cat([ids, torch.stack(columns, dim=1)], dim=1)
    prompt_len = ids.shape[1]
    alive = torch.zeros(full.shape, dtype=torch.bool)  # tokens written while live
    alive[:, prompt_len:] = torch.as_tensor(np.stack(alive_at, axis=1))
    sample_mask = torch.tensor(smask, dtype=torch.bool)[None, :] & alive
    decision_mask = torch.tensor(dmask, dtype=torch.bool)[None, :] & alive
    return Episodes(
        full, torch.ones_like(full), sample_mask, decision_mask, reward, first, dc, sc, dw, rw
    )


def shifted_logits(model: Any, ep: Episodes) -> torch.Tensor:
    """Logits aligned with the tokens: position ``t`` holds the prediction of token ``t``."""
    logits = model(input_ids=ep.ids, attention_mask=ep.attention).logits
    return torch.cat([torch.zeros_like(logits[:, :1]), logits[:, :-1]], dim=1)


def head_logp(
    logits: torch.Tensor, ep: Episodes, vocab: Vocab
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(logp at sampling positions, their distributions, logp at decisions, dists)``.

    ``logits`` are already shifted (position ``t`` predicts token ``t``). Each head's
    distribution is the softmax restricted to its tokens (digits; STOP/REVISE).
    """
    out = []
    for mask, allowed in ((ep.sample_mask, vocab.digits), (ep.decision_mask, vocab.decisions)):
        dist = _restricted_logp(logits[mask], allowed)  # (n, |allowed|)
        taken = ep.ids[mask]
        index = (taken[:, None] == allowed[None, :]).float().argmax(dim=1)
        out += [dist.gather(1, index[:, None])[:, 0], dist]
    return out[0], out[1], out[2], out[3]
