"""Memoising wrapper: one batched inner call per lock-step round."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

from envs.attack_defense.judges.base import Judge, _check_batch
from envs.attack_defense.verdicts import Verdict
from envs.errors import ArenaError


# ------------------------------------------------------------------------------ caching
class CachedJudge(Judge):
    """Memoises ``inner`` per (prompt, response), least-recently-used entries evicted.

    ``prefetch`` judges every uncached pair in ONE inner call, so a runner that knows a
    whole lock-step round's pairs hands the guard model one batch; the per-game
    ``judge()`` calls that follow are cache hits. Caching assumes the inner judge is
    deterministic (greedy decoding), which is also what makes a run reproducible.
    """

    def __init__(self, inner: Judge, max_entries: int | None = 100_000) -> None:
        if max_entries is not None and max_entries < 1:
            raise ArenaError(
                f"max_entries must be >= 1 or None, got {max_entries}.", "e.g. 100000."
            )
        self.inner = inner
        self.name = inner.name
        self.max_entries = max_entries
        self._cache: OrderedDict[tuple[str, str], Verdict] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._cache)

    def clear(self) -> None:
        self._cache.clear()

    def prefetch(self, prompts: Sequence[str], responses: Sequence[str]) -> None:
        """Judge all uncached pairs in one batched inner call."""
        _check_batch(prompts, responses)
        missing = [
            pair
            for pair in dict.fromkeys(zip(prompts, responses, strict=True))
            if pair not in self._cache
        ]
        if missing:
            self._judge_missing(missing)

    def _judge_missing(self, missing: list[tuple[str, str]]) -> dict[tuple[str, str], Verdict]:
        verdicts = self.inner.judge([p for p, _ in missing], [r for _, r in missing])
        if len(verdicts) != len(missing):
            raise ArenaError(
                f"Judge {self.inner.name!r} returned {len(verdicts)} verdicts for "
                f"{len(missing)} pairs.",
                "return exactly one verdict per (prompt, response) pair.",
            )
        self.misses += len(missing)
        fresh = dict(zip(missing, verdicts, strict=True))
        for pair, verdict in fresh.items():
            self._cache[pair] = verdict
            if self.max_entries is not None and len(self._cache) > self.max_entries:
                self._cache.popitem(last=False)
        return fresh

    def judge(self, prompts: Sequence[str], responses: Sequence[str]) -> list[Verdict]:
        _check_batch(prompts, responses)
        pairs = list(zip(prompts, responses, strict=True))
        found: dict[tuple[str, str], Verdict] = {}
        for pair in pairs:
            verdict = self._cache.get(pair)
            if verdict is not None:
                self._cache.move_to_end(pair)
                found[pair] = verdict
                self.hits += 1
        missing = [pair for pair in dict.fromkeys(pairs) if pair not in found]
        if missing:
            found.update(self._judge_missing(missing))
        return [found[pair] for pair in pairs]

    def describe(self) -> dict[str, Any]:
        description = dict(self.inner.describe())
        description["cache"] = {"max_entries": self.max_entries}
        return description
