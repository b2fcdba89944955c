"""Settings of one ``arena ds run``: a frozen, validated dataclass.

Why validated here: a bad flag should stop with one line (``ArenaError``) naming the
flag and the fix before anything is trained or written. Defaults are chosen so the
tabular run sits inside the reconstructed T4 claim's stated domain (``L = 8``,
``β·L = 4``, plain gradient steps, gradient-flow horizon ``lr·steps = 20``) and the
whole tabular experiment, sweeps included, takes seconds.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from envs.errors import ArenaError

METHODS = ("rl", "rl-nokl", "sft")
KL_ESTIMATORS = ("exact", "k3")
OPTIMIZERS = ("sgd", "adam")


@dataclass(frozen=True)
class TabularSettings:
    """The tabular experiment (see :mod:`arena.ds.tabular` for the model)."""

    steps: int = 2000
    lr: float = 0.01
    batch: int = 128
    seeds: int = 5
    length: int = 8
    beta: float = 0.5
    kl_estimator: str = "exact"
    optimizer: str = "sgd"
    k_max: int = 3
    rho: float = 0.8
    demo_accuracy: float = 0.9
    ood_shift: float = 1.0
    eval_episodes: int = 4000
    rho_sweep: tuple[float, ...] = (0.5, 0.65, 0.8, 0.95)
    beta_sweep: tuple[float, ...] = (0.0, 0.125, 0.5, 2.0)
    sweep_seeds: int = 2
    lengths: tuple[int, ...] = (1, 2, 4, 8, 16, 32)
    log_every: int = 20


@dataclass(frozen=True)
class LLMSettings:
    """The causal-LM experiment (:mod:`arena.ds.llm_run`); small CPU defaults.

    Why these defaults: the tiny model is random-init, so every method starts from one
    short SFT *warm-up* (a noisy teacher: ``warmup_accuracy`` correct answers, random
    STOP/REVISE) that gives a base with some reward; then each method takes ``steps``
    AdamW steps of ``batch`` episodes. Problems are single-digit additions in
    distribution and two-digit ones out of it, answers written as ``length`` digit
    tokens (zero-padded), ``k_max = 2`` attempts. About a minute on 2 free cores, most
    of it the warm-up (docs/ds.md, "How long it takes").
    """

    steps: int = 30
    warmup_steps: int = 150
    #: the warm-up's step size (the methods use ``lr``): Adam moves every parameter by
    #: about ``lr`` per step whatever the gradient's noise, so REINFORCE on a small batch
    #: needs a far smaller step than supervised warm-up does
    warmup_lr: float = 1e-3
    lr: float = 2e-4
    batch: int = 16
    seeds: int = 1
    length: int = 3
    beta: float = 0.1
    kl_estimator: str = "exact"
    k_max: int = 2
    rho: float = 0.8
    demo_accuracy: float = 0.9
    warmup_accuracy: float = 0.7
    id_digits: int = 1
    ood_digits: int = 2
    operators: str = "+"
    eval_episodes: int = 96
    lengths: tuple[int, ...] = (3, 4, 6, 8)
    #: split the gradient by component every this many steps (1: every step). Exact
    #: accounting costs one extra backward pass; every 2nd step halves that overhead.
    account_every: int = 1


@dataclass(frozen=True)
class RunConfig:
    """What ``arena ds run`` trains: a policy spec, the methods, and their settings."""

    policy: str = "tabular"
    train: tuple[str, ...] = METHODS
    seed: int = 0
    tabular: TabularSettings = field(default_factory=TabularSettings)
    llm: LLMSettings = field(default_factory=LLMSettings)

    def __post_init__(self) -> None:
        if self.policy != "tabular" and not self.policy.startswith("hf:"):
            raise ArenaError(
                f"--policy must be 'tabular' or 'hf:PATH_OR_TINY', got {self.policy!r}.",
                "pass --policy tabular or --policy hf:tiny.",
            )
        bad = [m for m in self.train if m not in METHODS]
        if not self.train or bad:
            raise ArenaError(
                f"--train must list methods from {', '.join(METHODS)}, "
                f"got {','.join(self.train)!r}.",
                "pass e.g. --train rl,sft.",
            )
        check_tabular(self.tabular)
        check_llm(self.llm)

    def to_dict(self) -> dict[str, Any]:
        """The settings of this run, for the manifest and results.json.

        Only the chosen policy's settings block (``tabular`` or ``llm``) is kept: with
        both, an hf run's manifest showed the unused tabular ``"length": 8`` next to the
        ``"length": 3`` it ran with.
        """
        data = asdict(self)
        data.pop("llm" if self.policy == "tabular" else "tabular")
        return data


def _positive_int(name: str, value: int, low: int = 1) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ArenaError(
            f"--{name} must be an integer >= {low}, got {value!r}.", f"pass --{name} {max(low, 1)}."
        )


def _prob(name: str, value: float) -> None:
    if not 0.0 <= float(value) <= 1.0:
        raise ArenaError(f"--{name} must be in [0, 1], got {value!r}.", f"pass e.g. --{name} 0.8.")


def check_tabular(t: TabularSettings) -> None:
    """Raise one ``ArenaError`` for the first bad setting."""
    for name in ("steps", "batch", "seeds", "length", "k_max", "sweep_seeds", "log_every"):
        _positive_int(name.replace("_", "-"), getattr(t, name), 2 if name == "batch" else 1)
    _positive_int("eval-episodes", t.eval_episodes, 100)
    for name in ("rho", "demo_accuracy"):
        _prob(name.replace("_", "-"), getattr(t, name))
    for value in t.rho_sweep:
        _prob("rho-sweep", value)
    if not t.lr > 0:
        raise ArenaError(f"--lr must be > 0, got {t.lr!r}.", "pass --lr 0.01.")
    if t.beta < 0 or any(b < 0 for b in t.beta_sweep):
        raise ArenaError("--beta and --beta-sweep must be >= 0.", "pass --beta 0.5.")
    if t.kl_estimator not in KL_ESTIMATORS:
        raise ArenaError(
            f"--kl-estimator must be one of {', '.join(KL_ESTIMATORS)}, got {t.kl_estimator!r}.",
            "pass --kl-estimator exact.",
        )
    if t.optimizer not in OPTIMIZERS:
        raise ArenaError(
            f"--optimizer must be one of {', '.join(OPTIMIZERS)}, got {t.optimizer!r}.",
            "pass --optimizer sgd.",
        )
    if not t.lengths or any(x < 1 for x in t.lengths):
        raise ArenaError("--lengths must be integers >= 1.", "pass --lengths 1,2,4,8,16,32.")


def check_llm(t: LLMSettings) -> None:
    """Raise one ``ArenaError`` for the first bad LLM setting."""
    for name in ("steps", "batch", "seeds", "length", "k_max", "eval_episodes", "account_every"):
        _positive_int(name.replace("_", "-"), getattr(t, name), 2 if name == "batch" else 1)
    _positive_int("warmup-steps", t.warmup_steps, 0)
    for name in ("rho", "demo_accuracy", "warmup_accuracy"):
        _prob(name.replace("_", "-"), getattr(t, name))
    if not t.lr > 0 or not t.warmup_lr > 0 or t.beta < 0:
        raise ArenaError("--lr must be > 0 and --beta >= 0.", "pass --lr 2e-3 --beta 0.1.")
    if t.kl_estimator not in KL_ESTIMATORS:
        raise ArenaError(
            f"--kl-estimator must be one of {', '.join(KL_ESTIMATORS)}, got {t.kl_estimator!r}.",
            "pass --kl-estimator exact.",
        )
    if not t.operators or any(c not in "+x" for c in t.operators):
        raise ArenaError(f"operators must be '+', 'x' or '+x', got {t.operators!r}.", "use '+'.")
    widest = max(
        _answer_digits(t.id_digits, t.operators), _answer_digits(t.ood_digits, t.operators)
    )
    for name, value in (("length", t.length), *(("lengths", x) for x in t.lengths)):
        if value < widest:
            raise ArenaError(
                f"--{name} {value} is shorter than the widest answer ({widest} digits).",
                f"pass --{name} {widest} or more.",
            )
    if not 1 <= t.id_digits <= 4 or not 1 <= t.ood_digits <= 4:
        raise ArenaError("id/ood digits must be 1..4.", "use id_digits=1, ood_digits=2.")


def _answer_digits(digits: int, operators: str) -> int:
    biggest = 10**digits - 1
    return len(str(biggest * biggest if "x" in operators else 2 * biggest))
