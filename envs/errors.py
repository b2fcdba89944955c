"""The one error type users see.

Every mistake a user can make (a wrong agent spec, a malformed data row, an illegal
action, a missing checkpoint) raises :class:`ArenaError` carrying *what* went wrong and
*how to fix it*. The CLI prints it as one line and exits with status 2; library users
catch it like any ``ValueError``. It lives in ``envs`` because that is the lowest layer
that every other layer may import (``theory`` stays dependency-free and uses plain
``ValueError``).
"""

from __future__ import annotations


class ArenaError(ValueError):
    """A user-facing error: ``message`` names the thing, ``fix`` says what to do."""

    def __init__(self, message: str, fix: str = "") -> None:
        self.message = message
        self.fix = fix
        super().__init__(self.one_line())

    def one_line(self) -> str:
        return f"{self.message} Fix: {self.fix}" if self.fix else self.message


class IllegalActionError(ArenaError):
    """An agent returned an action outside the environment's action space."""


class DatasetError(ArenaError):
    """A data file is missing or malformed (names the file, row and column)."""
