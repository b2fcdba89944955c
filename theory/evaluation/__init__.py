"""Game-theoretic evaluation of agents: Nash averaging and alpha-rank.

Both rank a set of agents from their head-to-head results without assuming that skill
is transitive (which Elo and Bradley-Terry do), so a rock-paper-scissors triangle of
checkpoints is reported as a tie rather than an artefact of match order.

* :func:`nash_averaging` (Balduzzi, Tuyls, Perolat & Graepel, "Re-evaluating
  evaluation", NeurIPS 2018). The evaluation matrix ``A`` (``A[i, j]``: how much agent
  ``i`` beats agent ``j``; antisymmetric) is read as a symmetric zero-sum meta-game.
  Its *maximum-entropy* Nash equilibrium ``p*`` is unique, and each agent's rating is
  its payoff against it, ``A @ p*``. Because ``p*`` spreads mass evenly across
  redundant copies, adding copies of an agent changes no rating: the property that
  makes the method robust to a tournament padded with near-identical checkpoints.
  :func:`nash_averaging_agent_vs_task` is the paper's agents-vs-tasks variant.
* :func:`alpha_rank` (Omidshafiei, Papadimitriou, Piliouras, Tuyls, Rowland, Lespiau,
  Czarnecki, Lanctot, Perolat & Munos, "alpha-Rank: Multi-agent evaluation by
  evolution", Sci. Rep. 2019). A finite population of size ``m`` evolves under
  mutation and Fermi selection of intensity ``alpha``; alpha-rank is the stationary
  distribution of the Markov chain over monomorphic states (one strategy per
  population). Single-population (symmetric games) and multi-population (one
  population per player, any number of players) are both supported; as ``alpha``
  grows the mass concentrates on the sink strongly connected components of the
  response graph.

Solvers: the zero-sum value and the face of optimal strategies (support and tight
constraints) come from linear programs (HiGHS via :func:`scipy.optimize.linprog`); the
entropy maximisation is solved through its smooth dual by Newton's method (see
:func:`max_entropy_maximin`); the stationary distribution comes from the
Grassmann-Taksar-Heyman elimination run on logarithms, which is subtraction-free and so
stays accurate for the nearly-reducible chains that large ``alpha`` produces.
``tests/test_theory_evaluation.py`` compares both with OpenSpiel's ``alpharank.compute``
and ``nash_averaging`` on random games when OpenSpiel is installed.
"""

from __future__ import annotations

from theory.evaluation.adaptive import (
    ResponseEdge,
    ResponseGraphUCB,
    SamplingComparison,
    compare_adaptive_uniform,
    compare_sampling,
    synthetic_table,
)
from theory.evaluation.alpha_rank import (
    AlphaRankResult,
    alpha_rank,
)
from theory.evaluation.alpha_rank import (
    _stationary as _stationary,
)
from theory.evaluation.empirical_game import (
    EmpiricalGame,
    EmpiricalGameAnalysis,
    Interval,
    PopulationAnalysis,
)
from theory.evaluation.nash_averaging import (
    AgentTaskRatings,
    NashAveragingResult,
    antisymmetric_from_win_rates,
    max_entropy_maximin,
    nash_averaging,
    nash_averaging_agent_vs_task,
)
from theory.evaluation.paired import (
    PairedTestResult,
    holm,
    mcnemar,
    pair_by_seed,
    paired_t,
    paired_test,
    wilcoxon_signed_rank,
)
from theory.evaluation.ratings import (
    PairwiseOutcomes,
    RatingResult,
    bradley_terry,
    elo,
)

__all__ = [
    "AgentTaskRatings",
    "AlphaRankResult",
    "EmpiricalGame",
    "EmpiricalGameAnalysis",
    "Interval",
    "NashAveragingResult",
    "PairedTestResult",
    "PairwiseOutcomes",
    "PopulationAnalysis",
    "RatingResult",
    "ResponseEdge",
    "ResponseGraphUCB",
    "SamplingComparison",
    "alpha_rank",
    "antisymmetric_from_win_rates",
    "bradley_terry",
    "compare_adaptive_uniform",
    "compare_sampling",
    "elo",
    "holm",
    "max_entropy_maximin",
    "mcnemar",
    "nash_averaging",
    "nash_averaging_agent_vs_task",
    "pair_by_seed",
    "paired_t",
    "paired_test",
    "synthetic_table",
    "wilcoxon_signed_rank",
]
