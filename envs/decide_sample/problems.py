"""Arithmetic problems and their near-miss distractors.

Why near misses: a distractor that is far from the truth would let a sampler (or a
verifier) reject it by magnitude alone; the DS experiment needs wrong answers that look
like real slips, so the decision head has something to learn. Distractors are the
errors people and small models make (reconstruction, ``kale_ds.md`` C.2): a dropped
carry (addition), an off-by-one, one digit off by one (``± 10^j``) and two adjacent
digits swapped.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SYMBOLS = {"+": "+", "x": "×"}


@dataclass(frozen=True)
class Problem:
    """``left op right`` with its answer and the (shuffled) candidate answers."""

    op: str
    left: int
    right: int
    answer: int
    candidates: tuple[int, ...]
    correct_index: int
    split: str  # "id" or "ood"

    @property
    def text(self) -> str:
        return f"{self.left} {SYMBOLS[self.op]} {self.right}"


def _operand(rng: np.random.Generator, digits: tuple[int, int]) -> int:
    d = int(rng.integers(digits[0], digits[1] + 1))
    low = 10 ** (d - 1) if d > 1 else 1
    return int(rng.integers(low, 10**d))


def no_carry_sum(left: int, right: int) -> int:
    """``left + right`` with every carry dropped (digit-wise sums mod 10)."""
    out, scale = 0, 1
    while left or right:
        out += ((left % 10 + right % 10) % 10) * scale
        left, right, scale = left // 10, right // 10, scale * 10
    return out


def near_misses(op: str, left: int, right: int, answer: int) -> list[int]:
    """Every near-miss wrong answer (distinct, >= 0, != ``answer``), in a fixed order."""
    pool: list[int] = []
    if op == "+":
        pool.append(no_carry_sum(left, right))
    pool += [answer + 1, answer - 1]
    text = str(answer)
    for j in range(len(text)):
        pool += [answer + 10**j, answer - 10**j]
    for j in range(len(text) - 1):
        if text[j] != text[j + 1] and not (j == 0 and text[1] == "0"):
            swapped = text[:j] + text[j + 1] + text[j] + text[j + 2 :]
            pool.append(int(swapped))
    seen: set[int] = {answer}
    out: list[int] = []
    for value in pool:
        if value >= 0 and value not in seen:
            seen.add(value)
            out.append(value)
    return out


def make_problem(
    rng: np.random.Generator,
    operators: str,
    digits: tuple[int, int],
    n_candidates: int,
    split: str,
) -> Problem:
    """Draw one problem and its ``n_candidates`` shuffled candidates (one is the truth)."""
    op = operators[int(rng.integers(len(operators)))]
    left, right = _operand(rng, digits), _operand(rng, digits)
    answer = left + right if op == "+" else left * right
    pool = near_misses(op, left, right, answer)
    order = rng.permutation(len(pool))
    wrong = [pool[i] for i in order[: n_candidates - 1]]
    extra = 2
    while len(wrong) < n_candidates - 1:  # tiny answers: fall back to answer + k
        if answer + extra not in wrong:
            wrong.append(answer + extra)
        extra += 1
    values = [answer, *wrong]
    perm = rng.permutation(n_candidates)
    candidates = tuple(int(values[i]) for i in perm)
    return Problem(op, left, right, answer, candidates, int(np.argmin(perm)), split)
