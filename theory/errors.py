"""Errors raised by ``theory``.

``theory`` is the lowest layer and imports nothing else of ours, so it cannot raise
``envs.errors.ArenaError``. Every error here is a :class:`ValueError` subclass whose
message names the thing that is wrong and how to fix it, so the CLI can print it as
one line and library users can catch it as a plain ``ValueError``.
"""

from __future__ import annotations


class TheoryError(ValueError):
    """Base class of every user-facing error raised by ``theory``."""


class InvalidGameError(TheoryError):
    """A payoff array, strategy profile or game description is malformed."""


class UnsupportedGameError(TheoryError):
    """A method was asked to solve a game it is not defined for (e.g. LP on general-sum)."""


class NumericalError(TheoryError):
    """A solver returned a profile that failed the best-response check.

    Raised instead of returning an unverified profile: every equilibrium ``theory``
    returns has passed that check.
    """


class NFGFormatError(TheoryError):
    """A Gambit ``.nfg`` file is malformed; the message names the line."""


class SolverTimeLimitError(NumericalError):
    """A solver stopped at its time limit before reaching a verified answer."""


class IterationLimitError(NumericalError):
    """A solver stopped at its iteration (or pivot) limit before reaching an answer.

    Separate from other numerical failures so that a caller running many independent
    searches (Lemke-Howson from every label) can skip the ones that ran too long and
    still report a genuine failure.
    """
