"""The settings of ``decide_sample_v0``, as one validated, frozen (hashable) dataclass.

Why frozen: the engine hashes configs into run manifests and result-store keys, and a
summary must see the exact settings the episodes were played with. Every check runs in
``__post_init__`` so a wrong value stops with one line naming the flag and the fix,
before anything is played.

The game follows section C.2 of ``shared/papers/kale_ds.md``, which is itself a
*reconstruction* of the DS paper (arXiv 2601.01580; only its abstract could be read):
the digit ranges, the candidate count and ``rho`` are our choices, not the paper's.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from envs.errors import ArenaError

OPERATORS = "+x"
#: Operands have at most this many digits, so a product fits an int64 observation.
MAX_DIGITS = 9

FLAG_HELP = {
    "operators": "Operators problems draw from: any of '+' and 'x' (e.g. '+x').",
    "id_digits": "In-distribution operand digits: min,max.",
    "ood_digits": "Out-of-distribution operand digits: min,max.",
    "ood_fraction": "Probability that an episode's problem is out-of-distribution.",
    "n_candidates": "Answer candidates in SAMPLE (the truth plus near-miss distractors).",
    "k_max": "Most attempts per episode; STOP is forced after attempt k_max.",
    "rho": "Probability that the verifier hint equals the attempt's true correctness.",
    "revise_cost": "Reward subtracted for each REVISE (>= 0).",
    "mode": "SAMPLE action: 'structured' (pick a candidate) or 'token' (write L digits).",
    "answer_tokens": "Token mode: digits per answer, L (0 = just enough for the widest answer).",
}

MODES = ("structured", "token")


def _check_digits(name: str, value: object) -> tuple[int, int]:
    if (
        not isinstance(value, tuple)
        or len(value) != 2
        or not all(isinstance(v, int) and not isinstance(v, bool) for v in value)
        or not 1 <= value[0] <= value[1] <= MAX_DIGITS
    ):
        raise ArenaError(
            f"{name} must be two integers min,max with 1 <= min <= max <= {MAX_DIGITS}, "
            f"got {value!r}.",
            f"pass e.g. --{name.replace('_', '-')} 2,3.",
        )
    return value[0], value[1]


@dataclass(frozen=True)
class DecideSampleConfig:
    """Settings of ``decide_sample_v0`` (see :data:`FLAG_HELP` for each field)."""

    operators: str = field(default="+x", metadata={"help": FLAG_HELP["operators"]})
    id_digits: tuple[int, ...] = field(default=(2, 3), metadata={"help": FLAG_HELP["id_digits"]})
    ood_digits: tuple[int, ...] = field(default=(4, 5), metadata={"help": FLAG_HELP["ood_digits"]})
    ood_fraction: float = field(default=0.0, metadata={"help": FLAG_HELP["ood_fraction"]})
    n_candidates: int = field(default=4, metadata={"help": FLAG_HELP["n_candidates"]})
    k_max: int = field(default=3, metadata={"help": FLAG_HELP["k_max"]})
    rho: float = field(default=0.8, metadata={"help": FLAG_HELP["rho"]})
    revise_cost: float = field(default=0.0, metadata={"help": FLAG_HELP["revise_cost"]})
    mode: str = field(default="structured", metadata={"help": FLAG_HELP["mode"]})
    answer_tokens: int = field(default=0, metadata={"help": FLAG_HELP["answer_tokens"]})

    @property
    def widest_answer(self) -> int:
        """Digits of the largest answer any problem of this config can have."""
        top = 10 ** max(self.id_digits[1], self.ood_digits[1]) - 1
        return len(str(top * top if "x" in self.operators else 2 * top))

    @property
    def attempt_length(self) -> int:
        """``L``: digit tokens per attempt in token mode."""
        return self.answer_tokens or self.widest_answer

    def __post_init__(self) -> None:
        ops = self.operators
        if not isinstance(ops, str) or not ops or any(c not in OPERATORS for c in ops):
            raise ArenaError(
                f"operators must be a non-empty string of '+' and 'x', got {ops!r}.",
                "pass --operators +x.",
            )
        _check_digits("id_digits", self.id_digits)
        _check_digits("ood_digits", self.ood_digits)
        _check_int("n_candidates", self.n_candidates, 2, "pass --n-candidates 4.")
        _check_int("k_max", self.k_max, 1, "pass --k-max 3.")
        _check_prob("ood_fraction", self.ood_fraction, "pass --ood-fraction 0.")
        _check_prob("rho", self.rho, "pass --rho 0.8.")
        if self.mode not in MODES:
            raise ArenaError(
                f"mode must be 'structured' or 'token', got {self.mode!r}.", "pass --mode token."
            )
        _check_int("answer_tokens", self.answer_tokens, 0, "pass --answer-tokens 0.")
        if self.answer_tokens and self.answer_tokens < self.widest_answer:
            raise ArenaError(
                f"answer_tokens={self.answer_tokens} is shorter than the widest answer "
                f"({self.widest_answer} digits).",
                f"pass --answer-tokens {self.widest_answer} (or 0 for automatic).",
            )
        cost = self.revise_cost
        if isinstance(cost, bool) or not isinstance(cost, int | float) or not cost >= 0:
            raise ArenaError(
                f"revise_cost must be a number >= 0, got {cost!r}.", "pass --revise-cost 0."
            )


def _check_int(name: str, value: object, low: int, fix: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ArenaError(f"{name} must be an integer >= {low}, got {value!r}.", fix)


def _check_prob(name: str, value: object, fix: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise ArenaError(f"{name} must be a probability in [0, 1], got {value!r}.", fix)
