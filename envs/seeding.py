"""Per-episode randomness: every random draw derives from (run seed, episode seed, seat).

Why this exists: a sampling agent that keeps one random stream across a match gives
episode *i* different draws depending on what was played before it: the batch size,
the order of episodes, how a run was split into chunks, and whether it was restarted.
Then a killed tournament cannot resume to the same results and a stored episode cannot
be replayed. Deriving each draw from the episode's identity instead makes a transcript a
pure function of (run seed, episode seed, seat, move) and the inputs.

The mixing is SplitMix64's finaliser (Steele, Lea & Flood 2014): a few integer
operations, so seeding every move of every episode costs well under a microsecond on
the scripted path (``benchmarks/bench_env.py`` measures it). Seeds are 63-bit, so they
fit ``torch.manual_seed``, ``numpy.random.default_rng`` and ``random.Random``.

This module sits in ``envs`` (the lowest layer every other layer may import) because the
contract spans the runner (``arena``), the agents and the environments.
"""

from __future__ import annotations

import zlib
from functools import lru_cache

_MASK64 = (1 << 64) - 1
_MASK63 = (1 << 63) - 1
_GOLDEN = 0x9E3779B97F4A7C15


def mix64(value: int) -> int:
    """SplitMix64: a bijective 64-bit scrambler (adjacent inputs give unrelated outputs)."""
    z = (value + _GOLDEN) & _MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
    return z ^ (z >> 31)


@lru_cache(maxsize=1024)
def seat_code(seat: str) -> int:
    """A stable 32-bit code of a seat name (CRC-32), mixed into its streams."""
    return zlib.crc32(seat.encode("utf-8"))


def stream_seed(run_seed: int, episode_seed: int, seat: str) -> int:
    """The base seed of one seat's random stream in one episode."""
    return mix64(mix64(mix64(run_seed & _MASK64) ^ (episode_seed & _MASK64)) ^ seat_code(seat))


def move_seed(stream: int, move: int) -> int:
    """The seed of the ``move``-th decision (0, 1, ...) a seat makes in an episode."""
    return mix64(stream ^ mix64(move)) & _MASK63


def draw_seed(run_seed: int, episode_seed: int, seat: str, move: int = 0) -> int:
    """``move_seed(stream_seed(...), move)``: the seed an agent gets for one decision."""
    return move_seed(stream_seed(run_seed, episode_seed, seat), move)


def sub_seed(seed: int, salt: int | str) -> int:
    """A further independent seed from ``seed`` (e.g. one per chat, or per option)."""
    code = seat_code(salt) if isinstance(salt, str) else salt & _MASK64
    return mix64(seed ^ mix64(code)) & _MASK63


def uniform(seed: int) -> float:
    """One uniform draw in [0, 1) from a seed: the cheapest stream for a single decision."""
    return (mix64(seed) >> 11) * (1.0 / (1 << 53))
