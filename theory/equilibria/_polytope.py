"""Batched linear algebra shared by support and vertex enumeration.

Both enumerations visit, for every ``k``, every pair of index sets ``(S, J)`` with
``|S| = |J| = k`` and solve one small square system per pair. Doing that one pair at a
time in Python (as nashpy does) spends almost all of its time in interpreter overhead;
here each ``k`` is one stacked ``numpy.linalg.solve`` call over all pairs, in chunks
that bound memory.

Vertex enumeration need not visit every pair: a nondegenerate game's best-response
polytopes are simple, and their vertices are found by walking the edges from the
origin (:func:`_pivot_vertices`, one batched solve per breadth-first layer), about
4,000 systems instead of 2.7 million at 12x12. The walk certifies its own answer and
hands over to the visit of every pair (:func:`_basis_vertices`) whenever the polytope
may not be simple, so degenerate games get the exhaustive treatment they need.

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


# Reciprocal condition numbers (1-norm, ``1 / (||M||_1 ||M^-1||_1)``) below which a
# system counts as singular. A system that is singular in exact arithmetic comes out of
# floating point with a reciprocal condition number at rounding level (k x 1e-16 or so);
# the bases of genuine vertices, even of hard literature games, stay above 1e-12 (von
# Stengel's 6x6 game with 75 equilibria: 1e-7 at worst). The old test, ``|det|`` below
# 1e-12 times Hadamard's bound, measured magnitude instead: payoffs mapped to [1, 2] make
# every system close to rank one, so ``|det|`` is tiny even when the system is well
# conditioned, and two of that game's equilibria were lost.
RCOND_SINGULAR = 1e-13
# Systems between this rounding-noise floor and RCOND_SINGULAR cannot be told apart from
# singular ones at double precision; enumeration skips them, and a degeneracy check that
# met one does not claim to be a proof.
RCOND_NOISE = 1e-15
# Below this the explicit inverse loses too much in its residual even after a step of
# iterative refinement; such (rare) systems are re-solved by LU, which is backward stable.
RCOND_RESOLVE = 1e-10


def batched_rcond(systems: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Inverses and 1-norm reciprocal condition numbers of a stack of square systems.

    Exactly singular systems (a zero pivot) get rcond 0 and a NaN inverse.
    """
    count = systems.shape[0]
    try:
        inv = np.linalg.inv(systems)
        nonzero = np.ones(count, dtype=bool)
    except np.linalg.LinAlgError:
        sign, _ = np.linalg.slogdet(systems)
        nonzero = sign != 0
        inv = np.full_like(systems, np.nan)
        if np.any(nonzero):
            inv[nonzero] = np.linalg.inv(systems[nonzero])
    with np.errstate(invalid="ignore", over="ignore"):
        norm = np.abs(systems).sum(axis=1).max(axis=1)
        norm_inv = np.abs(inv).sum(axis=1).max(axis=1)
        rcond = 1.0 / (norm * norm_inv)
    rcond = np.where(nonzero & np.isfinite(rcond), rcond, 0.0).astype(np.float64)
    return np.asarray(inv, dtype=np.float64), rcond


def batched_solve(systems: FloatArray, rhs: FloatArray) -> tuple[FloatArray, NDArray[np.bool_]]:
    """:func:`batched_solve_rcond` without the condition numbers."""
    out, ok, _ = batched_solve_rcond(systems, rhs)
    return out, ok


def batched_solve_rcond(
    systems: FloatArray, rhs: FloatArray
) -> tuple[FloatArray, NDArray[np.bool_], FloatArray]:
    """Solve a stack of square systems, skipping the (numerically) singular ones.

    Returns ``(solutions, ok, rcond)``, rcond being the reciprocal condition numbers;
    rows of ``solutions`` where ``ok`` is False are NaN. A system counts as singular
    when its reciprocal condition number is below
    :data:`RCOND_SINGULAR`: a test of conditioning, not of the size of ``det``.
    """
    out, ok, rcond, _ = _solve_with_inverse(systems, rhs)
    return out, ok, rcond


def _solve_with_inverse(
    systems: FloatArray, rhs: FloatArray
) -> tuple[FloatArray, NDArray[np.bool_], FloatArray, FloatArray]:
    """:func:`batched_solve_rcond` that also returns the inverses (NaN where singular)."""
    count, size = systems.shape[0], systems.shape[1]
    out = np.full((count, size), np.nan)
    if count == 0 or size == 0:
        ok = np.full(count, size == 0)
        return out, ok, np.ones(count), np.zeros((count, size, size))
    inv, rcond = batched_rcond(systems)
    ok = rcond >= RCOND_SINGULAR
    if np.any(ok):
        sys_ok, inv_ok, rhs_ok = systems[ok], inv[ok], rhs[ok]
        sol = np.einsum("tij,tj->ti", inv_ok, rhs_ok)
        # One step of iterative refinement: the explicit inverse alone leaves a residual
        # of order cond x eps, enough to hide a tight constraint of an ill-conditioned
        # (but regular) basis from the 1e-10 label tolerance.
        residual = rhs_ok - np.einsum("tij,tj->ti", sys_ok, sol)
        out[ok] = sol + np.einsum("tij,tj->ti", inv_ok, residual)
        shaky = ok & (rcond < RCOND_RESOLVE)
        if np.any(shaky):
            out[shaky] = np.linalg.solve(systems[shaky], rhs[shaky][..., None])[..., 0]
    return out, ok, rcond, inv


# Support pairs up to which solve(method="auto") enumerates and degeneracy is checked
# exhaustively (10x10 has C(20, 10) = 184,756: about a second).
AUTO_ENUMERATION = 200_000


def polytope_vertices(M: FloatArray) -> tuple[FloatArray, NDArray[np.uint64], NDArray[np.uint64]]:
    """Cached :func:`_polytope_vertices` (degeneracy checks and vertex enumeration of the
    same game need the same vertices); the returned arrays are read-only."""
    points, zeros, tights, _ = _vertices_and_doubts(M)
    return points, zeros, tights


def polytope_doubts(M: FloatArray) -> str | None:
    """Why the vertex list of ``M`` may be inexact at double precision, or None.

    Two things can hide a vertex or a label from floating point: a basis whose
    reciprocal condition number lies between rounding noise (:data:`RCOND_NOISE`) and
    :data:`RCOND_SINGULAR` (skipped, though it may be regular), and a constraint whose
    slack at a vertex exceeds :data:`LABEL_TOL` but lies within the error bound that
    the conditioning of the vertex's basis allows (it may be tight in exact arithmetic,
    an extra label that would make the game degenerate). A degeneracy check that meets
    either is not a proof.
    """
    return _vertices_and_doubts(M)[3]


def _vertices_and_doubts(
    M: FloatArray,
) -> tuple[FloatArray, NDArray[np.uint64], NDArray[np.uint64], str | None]:
    matrix = np.ascontiguousarray(M, dtype=np.float64)
    return _cached_vertices(matrix.shape, matrix.tobytes())


@functools.lru_cache(maxsize=16)
def _cached_vertices(
    shape: tuple[int, ...], data: bytes
) -> tuple[FloatArray, NDArray[np.uint64], NDArray[np.uint64], str | None]:
    points, zeros, tights, doubt = _polytope_vertices(
        np.frombuffer(data, dtype=np.float64).reshape(shape)
    )
    for array in (points, zeros, tights):
        array.setflags(write=False)
    return points, zeros, tights, doubt


def _polytope_vertices(
    M: FloatArray,
) -> tuple[FloatArray, NDArray[np.uint64], NDArray[np.uint64], str | None]:
    """All vertices of ``{z >= 0 : M^T z <= 1}``: by walking the edges when the polytope
    is simple (:func:`_pivot_vertices`), else by visiting every basis
    (:func:`_basis_vertices`). Both return the same vertices and labels on a simple
    polytope; the walk visits each vertex once instead of all ``C(p + q, p)`` bases,
    which at 12x12 is ~4,000 instead of 2.7 million systems. A walk that finishes has
    certified every vertex and edge it used (see :func:`_pivot_vertices`), so it reports
    no doubt; a basis it could not certify sends the polytope to the visit of every
    basis, whose doubts are then reported."""
    p, q = M.shape
    if p + q > 63:
        raise UnsupportedGameError(
            f"vertex enumeration supports at most 63 strategies in all, got {p + q}."
        )
    walked = _pivot_vertices(M)
    if walked is not None:
        return (*walked, None)
    return _basis_vertices(M)


# Bases expanded per numpy call by the edge walk (bounds its temporaries to ~10 MB).
PIVOT_CHUNK = 2048


def _pivot_vertices(
    M: FloatArray,
) -> tuple[FloatArray, NDArray[np.uint64], NDArray[np.uint64]] | None:
    """The vertices of a *simple* polytope ``{z >= 0 : M^T z <= 1}`` by breadth-first
    search over its edges, or None when the polytope may not be simple.

    Write the ``p + q`` constraints as values ``v = C z + c0 >= 0`` (``v_i = z_i``,
    ``v_{p+j} = 1 - (M^T z)_j``). A vertex of a simple polytope is determined by the set
    ``N`` of its ``p`` zero values (its labels, bits as in :func:`_basis_vertices`), and
    its ``p`` neighbours are reached by letting one ``v_e``, ``e`` in ``N``, grow along
    the edge until the first other value ``v_l`` hits zero (the simplex ratio test):
    the neighbour is ``N - e + l``. The graph of a polytope is connected, so the search
    from the origin (``N`` = every ``z_i``) visits every vertex. Each frontier is one
    batch: the systems ``C_N z = -c0_N`` are solved afresh from ``M`` (no pivoting
    error accumulates) with the conditioning test of :func:`batched_solve_rcond`.

    The walk certifies itself. Every vertex it visits must have each of its other
    ``q`` values clearly positive: above :data:`LABEL_TOL` *and* above the error bound
    of its basis's conditioning (the bound :func:`_basis_vertices` uses). A value
    within that margin of zero is an extra label (a degenerate vertex, where bases and
    vertices stop being one to one) or cannot be told from one; a negative value means
    a ratio test chose the wrong leaving constraint (a near tie). In exact arithmetic a
    wrong choice always lands on an infeasible basis, because the point of ``N - e + l``
    lies on the edge's line beyond the true first constraint; so a walk in which every
    visited basis passes is the exact vertex set. On any failure (and on singular
    bases) this returns None and the caller enumerates every basis instead, which
    handles degenerate polytopes and reports doubts.
    """
    p, q = M.shape
    size = p + q
    C = np.vstack([np.eye(p), -M.T])
    c0 = np.concatenate([np.zeros(p), np.ones(q)])
    eps = float(np.finfo(np.float64).eps)
    shifts = np.arange(size, dtype=np.uint64)
    one = np.uint64(1)
    seen = {(1 << p) - 1}
    frontier = np.array(sorted(seen), dtype=np.uint64)
    masks: list[NDArray[np.uint64]] = []
    points: list[FloatArray] = []
    while len(frontier):
        reached: list[NDArray[np.uint64]] = []
        for lo in range(0, len(frontier), PIVOT_CHUNK):
            N = frontier[lo : lo + PIVOT_CHUNK]
            count = len(N)
            nonbasic = ((N[:, None] >> shifts) & one).astype(bool)
            idx = np.nonzero(nonbasic)[1].reshape(count, p)  # ascending per row
            z, ok, rcond, inv = _solve_with_inverse(C[idx], -c0[idx])
            if not np.all(ok):
                return None
            values = z @ C.T + c0
            bound = np.maximum(LABEL_TOL, 2.0 * (p + 1) * eps / rcond)
            basic = ~nonbasic
            if np.any(basic & (values <= bound[:, None])):
                return None  # a degenerate, doubtful or infeasible vertex
            # Column c of C_N^{-1} moves z along the edge on which nonbasic value idx[c]
            # grows at unit rate; values then change at the rate direction[:, l, c].
            direction = np.matmul(C, inv)
            with np.errstate(divide="ignore", invalid="ignore"):
                ratios = np.where(
                    basic[:, :, None] & (direction < 0.0),
                    values[:, :, None] / -direction,
                    np.inf,
                )
            leave = np.argmin(ratios, axis=1)
            if not np.all(np.isfinite(np.take_along_axis(ratios, leave[:, None, :], axis=1))):
                return None  # an unbounded edge: impossible for a positive M
            reached.append(
                (
                    N[:, None] ^ (one << idx.astype(np.uint64)) ^ (one << leave.astype(np.uint64))
                ).ravel()
            )
            z[nonbasic[:, :p]] = 0.0
            masks.append(N)
            points.append(z)
        new = set(np.concatenate(reached).tolist()) - seen
        seen |= new
        frontier = np.array(sorted(new), dtype=np.uint64)
    labels = np.concatenate(masks)
    return (
        np.concatenate(points),
        labels & np.uint64((1 << p) - 1),
        labels >> np.uint64(p),
    )


def _basis_vertices(
    M: FloatArray,
) -> tuple[FloatArray, NDArray[np.uint64], NDArray[np.uint64], str | None]:
    """All vertices of ``{z >= 0 : M^T z <= 1}`` for a positive matrix ``M`` (p x q).

    A vertex has ``p`` linearly independent tight constraints; choosing ``k``
    constraints ``(M^T z)_j = 1`` for ``j`` in ``J`` and ``z_i = 0`` off a set ``S`` with
    ``|S| = |J| = k`` and solving ``M[S, J]^T z_S = 1`` visits every vertex at least once
    (a degenerate vertex once per basis). Returns ``(points, zero_bits, tight_bits,
    doubt)``: the distinct vertices, a bitmask of their zero coordinates (bit ``i`` for
    ``z_i = 0``) and a bitmask of their tight constraints (bit ``j`` for
    ``(M^T z)_j = 1``), deduplicated by those masks (the tight set of a vertex
    determines it), and :func:`polytope_doubts`'s reason or None. The labels of the
    basis itself (``J`` tight, zeros off ``S``) hold by construction and are set as such;
    only the other constraints are tested against :data:`LABEL_TOL`.
    """
    p, q = M.shape
    seen: dict[tuple[int, int], FloatArray] = {}
    pow_p = np.left_shift(np.uint64(1), np.arange(p, dtype=np.uint64))
    pow_q = np.left_shift(np.uint64(1), np.arange(q, dtype=np.uint64))
    all_p = (1 << p) - 1
    gray = ambiguous = 0
    eps = float(np.finfo(np.float64).eps)
    for k in range(0, min(p, q) + 1):
        for S, J in support_pairs(p, q, k):
            count = len(S)
            # systems[t] = M[S[t], J[t]]^T, i.e. entry (a, b) = M[S[t, b], J[t, a]].
            systems = M[S[:, None, :], J[:, :, None]]
            sol, ok, rcond = batched_solve_rcond(systems, np.ones((count, k)))
            gray += int(np.count_nonzero((rcond >= RCOND_NOISE) & (rcond < RCOND_SINGULAR)))
            z = np.zeros((count, p))
            np.put_along_axis(z, S, np.nan_to_num(sol, nan=-1.0), axis=1)
            constraint = z @ M
            feasible = ok & np.all(z >= -LABEL_TOL, axis=1)
            feasible &= np.all(constraint <= 1.0 + LABEL_TOL, axis=1)
            if not np.any(feasible):
                continue
            z, S, J, rcond = z[feasible], S[feasible], J[feasible], rcond[feasible]
            slack = np.abs(constraint[feasible] - 1.0)
            # First-order error bound of the labels from the basis's conditioning: a
            # backward-stable solve (after refinement) errs by about (k + 1) eps cond in
            # z, whose 1-norm is at most 1 (entries of M are at least 1), and entries of
            # M are at most 2.
            bound = np.maximum(LABEL_TOL, 2.0 * (k + 1) * eps / np.maximum(rcond, 1e-300))
            in_basis_p = np.zeros((len(z), p), dtype=bool)
            np.put_along_axis(in_basis_p, S, True, axis=1)
            in_basis_q = np.zeros((len(z), q), dtype=bool)
            np.put_along_axis(in_basis_q, J, True, axis=1)
            zero = np.abs(z) <= LABEL_TOL
            tight = slack <= LABEL_TOL
            unsure = np.count_nonzero(
                ~in_basis_q & ~tight & (slack <= bound[:, None])
            ) + np.count_nonzero(in_basis_p & ~zero & (np.abs(z) <= bound[:, None]))
            ambiguous += int(unsure)
            tight |= in_basis_q
            zero |= ~in_basis_p
            zero_bits = zero @ pow_p if p else np.zeros(len(z), np.uint64)
            tight_bits = tight @ pow_q if q else np.zeros(len(z), np.uint64)
            for point, zb, tb in zip(z, zero_bits.tolist(), tight_bits.tolist(), strict=True):
                clean = np.where(np.abs(point) <= LABEL_TOL, 0.0, point)
                seen.setdefault((int(zb) & all_p, int(tb)), clean)
    keys = list(seen)
    points = np.array([seen[key] for key in keys]).reshape(len(keys), p)
    zeros = np.array([key[0] for key in keys], dtype=np.uint64)
    tights = np.array([key[1] for key in keys], dtype=np.uint64)
    reasons = []
    if gray:
        reasons.append(
            f"{gray} bases with reciprocal condition number in [{RCOND_NOISE:g}, "
            f"{RCOND_SINGULAR:g}) were skipped as singular but may be regular"
        )
    if ambiguous:
        reasons.append(
            f"{ambiguous} labels at vertices have slack above {LABEL_TOL:g} but within the "
            "error bound of their basis's conditioning"
        )
    return points, zeros, tights, "; ".join(reasons) or None


def popcount(bits: NDArray[np.uint64]) -> NDArray[np.intp]:
    """Number of set bits of each entry."""
    b = bits.astype(np.uint64)
    count = np.zeros(b.shape, dtype=np.intp)
    while np.any(b):
        count += (b & np.uint64(1)).astype(np.intp)
        b = b >> np.uint64(1)
    return count
