"""Equilibrium computation for finite games.

Every function that returns an equilibrium has checked it with a best-response test
(:func:`~theory.equilibria.best_response.verify_equilibrium`) first.
"""

from theory.equilibria.best_response import (
    Equilibrium,
    best_response,
    deviation_gains,
    exploitability,
    is_equilibrium,
    nash_conv,
    verify_equilibrium,
)
from theory.equilibria.degeneracy import DegeneracyReport, degeneracy_report, is_degenerate
from theory.equilibria.first_order import solve_zero_sum_first_order
from theory.equilibria.general_sum import (
    DegenerateGameWarning,
    pure_equilibria,
    support_enumeration,
    vertex_enumeration,
)
from theory.equilibria.lemke import (
    LemkeHowsonSearch,
    lemke_howson,
    lemke_howson_all,
    lemke_howson_search,
)
from theory.equilibria.lemke_graph import lemke_howson_graph
from theory.equilibria.sequential import SPNESolution, spne
from theory.equilibria.solve import METHODS, SolveResult, solve
from theory.equilibria.stackelberg import StackelbergSolution, stackelberg_commitment
from theory.equilibria.zero_sum import ZeroSumSolution, solve_zero_sum

__all__ = [
    "METHODS",
    "DegeneracyReport",
    "DegenerateGameWarning",
    "Equilibrium",
    "LemkeHowsonSearch",
    "SPNESolution",
    "SolveResult",
    "StackelbergSolution",
    "ZeroSumSolution",
    "best_response",
    "degeneracy_report",
    "deviation_gains",
    "exploitability",
    "is_degenerate",
    "is_equilibrium",
    "lemke_howson",
    "lemke_howson_all",
    "lemke_howson_graph",
    "lemke_howson_search",
    "nash_conv",
    "pure_equilibria",
    "solve",
    "solve_zero_sum",
    "solve_zero_sum_first_order",
    "spne",
    "stackelberg_commitment",
    "support_enumeration",
    "verify_equilibrium",
    "vertex_enumeration",
]
