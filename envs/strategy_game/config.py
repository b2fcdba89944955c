"""The settings of one strategy-game match, as one validated dataclass.

The risk model and the game's parameters are the model's own dataclasses
(:class:`~envs.strategy_game.model.StrategyGameModel` holding a
:class:`~envs.strategy_game.model.RiskModel`), nested here so their validation runs on
construction; the CLI flattens them into flags (``--delta``, ``--budgets 0,2,4``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from envs.errors import ArenaError
from envs.strategy_game.model import StrategyGameModel

#: Help texts for the model's fields (the model module documents each choice at length).
FLAG_HELP = {
    "delta": "RAPO's base safety signal delta in (0, 1).",
    "eta": "RAPO's in-context step size eta > 0.",
    "refusal": "Refusal rule: 'deterministic' or 'logistic'.",
    "beta": "Slope of the logistic refusal rule.",
    "levels": "Attack complexity levels k, comma-separated.",
    "max_combination": "Most strategies one attack combines.",
    "budgets": "Fixed reasoning budgets t, comma-separated.",
    "thresholds": "Refusal thresholds gamma (default: delta).",
    "adaptive_margins": "Margins of the adaptive (risk-aware) budgets.",
    "estimator": "Complexity estimate of the adaptive defender: 'oracle' or 'surface'.",
    "adaptive_cap": "Largest adaptive budget (default: the largest fixed budget).",
    "value": "Attacker's gain when a harmful request is answered.",
    "harm_loss": "Defender's loss when a harmful request is answered.",
    "attack_cost": "Attacker's cost per unit of complexity.",
    "defense_cost": "Defender's cost per reasoning trace.",
    "over_refusal_cost": "Defender's cost of refusing a benign prompt.",
    "benign_prob": "Probability that the prompt comes from a benign user.",
    "benign_complexities": "Complexities of benign prompts, comma-separated.",
    "benign_weights": "Weights of the benign complexities.",
    "benign_sensitivity": "Spurious safety signal of a benign prompt.",
    "misjudgement": "Share of safety traces that misjudge a benign prompt.",
}


@dataclass(frozen=True)
class StrategyGameConfig:
    """Settings of ``strategy_game_v0``: rounds per episode and the game model."""

    rounds: int = field(default=1, metadata={"help": "Rounds per episode."})
    model: StrategyGameModel = field(default_factory=StrategyGameModel)

    def __post_init__(self) -> None:
        if isinstance(self.rounds, bool) or not isinstance(self.rounds, int) or self.rounds < 1:
            raise ArenaError(
                f"rounds must be a positive integer, got {self.rounds!r}.", "pass --rounds 1."
            )
