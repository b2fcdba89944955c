"""Gymnasium spaces for text environments.

``gymnasium.spaces.Text`` only *contains* strings drawn from a fixed character set
(alphanumerics by default), which no LLM output respects. :class:`FreeText` accepts any
``str`` up to ``max_length`` characters, and still samples (for PettingZoo's
``api_test``/``seed_test``, which step with ``action_space.sample()``) from printable
ASCII with the space's own seeded generator, so sampled actions are reproducible.
"""

from __future__ import annotations

import string
from typing import Any

from gymnasium.spaces import Text

_PRINTABLE = frozenset(string.ascii_letters + string.digits + string.punctuation + " \n")


class FreeText(Text):
    """Any string of at most ``max_length`` characters (samples use printable ASCII)."""

    def __init__(self, max_length: int, *, min_length: int = 0, seed: int | None = None):
        super().__init__(max_length, min_length=min_length, charset=_PRINTABLE, seed=seed)

    def contains(self, x: Any) -> bool:
        return isinstance(x, str) and self.min_length <= len(x) <= self.max_length

    def __repr__(self) -> str:
        return f"FreeText({self.min_length}, {self.max_length})"
