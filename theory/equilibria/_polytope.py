"""Batched linear algebra shared by support and vertex enumeration.

Both enumerations visit, for every ``k``, every pair of index sets ``(S, J)`` with
``|S| = |J| = k`` and solve one small square system per pair. Doing that one pair at a
time in Python (as nashpy does) spends almost all of its time in interpreter overhead;
here each ``k`` is one stacked ``numpy.linalg.solve`` call over all pairs, in chunks
that bound memory.

Payoffs are first mapped affinely to ``[1, 2]`` (:func:`positive_scaled`); this leaves
best responses, and so equilibria and degeneracy, unchanged, makes the best-response
polytopes bounded, and lets the absolute tolerances below mean the same thing for
every game.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Iterator
from math import comb

import numpy as np
from numpy.typing import NDArray

from theory.errors import InvalidGameError, UnsupportedGameError

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]

# Tolerance on the [1, 2]-scaled payoffs for "this constraint is tight" / "this
# probability is zero". It must be (a) well above the rounding error of the small
# solves (~1e-14), so exact ties of a degenerate game are recognised, and (b) well below
# the verification tolerance (1e-9 of the payoff range), so a vertex pair accepted with
# this slack still passes the best-response check. Games within 1e-10 of a degenerate
# one are treated as degenerate, which is the honest answer at float precision.
LABEL_TOL = 1e-10

# Stacked systems per numpy call: bounds the temporary arrays to a few tens of MB.
CHUNK = 20_000

# Enumeration visits C(m + n, m) support pairs; beyond this it would take minutes.
MAX_ENUMERATION = 3_000_000


def positive_scaled(M: FloatArray) -> FloatArray:
    """``(M - min M) / range + 1``: entries in [1, 2] (all ones for a constant matrix).

    The one affine rescaling of the package: support and vertex enumeration,
    Lemke-Howson, the zero-sum LP and the Stackelberg LPs all work on it, so that their
    absolute tolerances mean the same thing whatever the payoff units.
    """
    low, high = float(M.min()), float(M.max())
    if high == low:
        return np.ones_like(M, dtype=np.float64)
    span = high - low
    if not np.isfinite(span):
        raise InvalidGameError(
            f"payoffs range from {low:.3g} to {high:.3g}, a spread that overflows float64. "
            "Fix: rescale the payoffs (equilibria do not change under positive affine maps)."
        )
    return np.asarray((M - low) / span + 1.0, dtype=np.float64)


def check_enumeration_size(m: int, n: int, what: str) -> None:
    """Refuse enumerations that would not finish in reasonable time."""
    count = comb(m + n, m)
    if count > MAX_ENUMERATION:
        raise UnsupportedGameError(
            f"{what} of a {m}x{n} game visits C({m + n},{m}) = {count:,} support pairs, "
            f"more than the limit {MAX_ENUMERATION:,}. Fix: use method 'lemke-howson' "
            "(one or a few equilibria) for games this large."
        )


def subsets(n: int, k: int) -> IntArray:
    """All k-subsets of range(n) as rows of an int array, shape (C(n, k), k)."""
    if k == 0:
        return np.zeros((1, 0), dtype=np.intp)
    return np.array(list(itertools.combinations(range(n), k)), dtype=np.intp)


def support_pairs(m: int, n: int, k: int) -> Iterator[tuple[IntArray, IntArray]]:
    """Chunks of all pairs (S, J) of k-subsets of rows and columns, as index arrays.

    Yields ``(S, J)`` with shapes ``(p, k)``: pair ``t`` is ``(S[t], J[t])``.
    """
    rows = subsets(m, k)
    cols = subsets(n, k)
    n_rows, n_cols = len(rows), len(cols)
    total = n_rows * n_cols
    for start in range(0, total, CHUNK):
        idx = np.arange(start, min(total, start + CHUNK))
        yield rows[idx // n_cols], cols[idx % n_cols]


def indifference_systems(M: FloatArray, S: NDArray[np.intp], J: NDArray[np.intp]) -> FloatArray:
    """Stack of systems ``[M[S, J] -1; 1 0]`` whose solution is ``(y_J, v)``.

    ``M[S, J] y_J = v 1`` makes the row player indifferent over ``S``; the last row
    makes ``y_J`` sum to one.
    """
    count, k = S.shape
    systems = np.zeros((count, k + 1, k + 1))
    systems[:, :k, :k] = M[S[:, :, None], J[:, None, :]]
    systems[:, :k, k] = -1.0
    systems[:, k, :k] = 1.0
    return systems


def batched_solve(systems: FloatArray, rhs: FloatArray) -> tuple[FloatArray, NDArray[np.bool_]]:
    """Solve a stack of square systems, skipping the (numerically) singular ones.

    Returns ``(solutions, ok)``; rows of ``solutions`` where ``ok`` is False are NaN.
    A system counts as singular when ``|det|`` is below ``1e-12`` times Hadamard's bound
    (the product of its row norms), i.e. it is singular to working precision.
    """
    count, size = systems.shape[0], systems.shape[1]
    out = np.full((count, size), np.nan)
    if count == 0:
        return out, np.zeros(0, dtype=bool)
    if size == 0:
        return out, np.ones(count, dtype=bool)
    sign, logdet = np.linalg.slogdet(systems)
    log_bound = np.log(np.linalg.norm(systems, axis=2)).sum(axis=1)
    ok = (sign != 0) & (logdet > log_bound + np.log(1e-12))
    if np.any(ok):
        out[ok] = np.linalg.solve(systems[ok], rhs[ok][..., None])[..., 0]
    return out, ok


# Support pairs up to which solve(method="auto") enumerates and degeneracy is checked
# exhaustively (10x10 has C(20, 10) = 184,756: about a second).
AUTO_ENUMERATION = 200_000


def polytope_vertices(M: FloatArray) -> tuple[FloatArray, NDArray[np.uint64], NDArray[np.uint64]]:
    """Cached :func:`_polytope_vertices` (degeneracy checks and vertex enumeration of the
    same game need the same vertices); the returned arrays are read-only."""
    matrix = np.ascontiguousarray(M, dtype=np.float64)
    return _cached_vertices(matrix.shape, matrix.tobytes())


@functools.lru_cache(maxsize=16)
def _cached_vertices(
    shape: tuple[int, ...], data: bytes
) -> tuple[FloatArray, NDArray[np.uint64], NDArray[np.uint64]]:
    result = _polytope_vertices(np.frombuffer(data, dtype=np.float64).reshape(shape))
    for array in result:
        array.setflags(write=False)
    return result


def _polytope_vertices(M: FloatArray) -> tuple[FloatArray, NDArray[np.uint64], NDArray[np.uint64]]:
    """All vertices of ``{z >= 0 : M^T z <= 1}`` for a positive matrix ``M`` (p x q).

    A vertex has ``p`` linearly independent tight constraints; choosing ``k``
    constraints ``(M^T z)_j = 1`` for ``j`` in ``J`` and ``z_i = 0`` off a set ``S`` with
    ``|S| = |J| = k`` and solving ``M[S, J]^T z_S = 1`` visits every vertex at least once
    (a degenerate vertex once per basis). Returns ``(points, zero_bits, tight_bits)``:
    the distinct vertices, a bitmask of their zero coordinates (bit ``i`` for
    ``z_i = 0``) and a bitmask of their tight constraints (bit ``j`` for
    ``(M^T z)_j = 1``), deduplicated by those masks (the tight set of a vertex
    determines it).
    """
    p, q = M.shape
    if p + q > 63:
        raise UnsupportedGameError(
            f"vertex enumeration supports at most 63 strategies in all, got {p + q}."
        )
    seen: dict[tuple[int, int], FloatArray] = {}
    pow_p = np.left_shift(np.uint64(1), np.arange(p, dtype=np.uint64))
    pow_q = np.left_shift(np.uint64(1), np.arange(q, dtype=np.uint64))
    for k in range(0, min(p, q) + 1):
        for S, J in support_pairs(p, q, k):
            count = len(S)
            # systems[t] = M[S[t], J[t]]^T, i.e. entry (a, b) = M[S[t, b], J[t, a]].
            systems = M[S[:, None, :], J[:, :, None]]
            sol, ok = batched_solve(systems, np.ones((count, k)))
            z = np.zeros((count, p))
            np.put_along_axis(z, S, np.nan_to_num(sol, nan=-1.0), axis=1)
            constraint = z @ M
            feasible = ok & np.all(z >= -LABEL_TOL, axis=1)
            feasible &= np.all(constraint <= 1.0 + LABEL_TOL, axis=1)
            if not np.any(feasible):
                continue
            z = z[feasible]
            zero_bits = (np.abs(z) <= LABEL_TOL) @ pow_p if p else np.zeros(len(z), np.uint64)
            tight = np.abs(constraint[feasible] - 1.0) <= LABEL_TOL
            tight_bits = tight @ pow_q if q else np.zeros(len(z), np.uint64)
            for point, zb, tb in zip(z, zero_bits.tolist(), tight_bits.tolist(), strict=True):
                clean = np.where(np.abs(point) <= LABEL_TOL, 0.0, point)
                seen.setdefault((int(zb), int(tb)), clean)
    keys = list(seen)
    points = np.array([seen[key] for key in keys]).reshape(len(keys), p)
    zeros = np.array([key[0] for key in keys], dtype=np.uint64)
    tights = np.array([key[1] for key in keys], dtype=np.uint64)
    return points, zeros, tights


def popcount(bits: NDArray[np.uint64]) -> NDArray[np.intp]:
    """Number of set bits of each entry."""
    b = bits.astype(np.uint64)
    count = np.zeros(b.shape, dtype=np.intp)
    while np.any(b):
        count += (b & np.uint64(1)).astype(np.intp)
        b = b >> np.uint64(1)
    return count
