"""The tournament report's comparisons of agents: ratings, per-seat means, paired tests.

Split from :mod:`analysis.tournament_report` (which renders them); ``theory`` does the
statistics (:mod:`theory.evaluation.ratings`, :mod:`theory.evaluation.paired`).

**Ratings only where a "win" means something.** Elo and Bradley-Terry need wins, and the
report calls the seat with the higher total reward the winner. That compares the two
seats' rewards, which is meaningful only when the seats are interchangeable: a round
robin, or a cross-play of a symmetric game (:meth:`envs.game_spec.GameSpec.is_symmetric`).
In an asymmetric game (attack_defense's attacker and defender) the two rewards are on
different scales, and such a ladder ranked a defender that refuses everything first. For
those games :func:`ratings` gives no ladder and says why, and :func:`seat_means` ranks
each seat's agents against each other only: by their mean reward against the opponents
they all faced, which needs no cross-seat convention.

**Paired tests follow the Holm-adjusted p-value.** Within a family (a seat in cross-play,
the one roster in a round robin) every pair of agents is tested on each outcome; the
verdict is drawn from the Holm-adjusted p-value, so a pair is called different only when
the family-wise error rate allows it (the unadjusted p-value would contradict the
table's own "p (Holm)" column).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from envs.game_spec import GameSpec
from envs.stats import Mean

ROUND_ROBIN_FAMILY = "players"


# ----------------------------------------------------------------------------- ratings
def wins(game: GameSpec, samples: Sequence[Any], round_robin: bool) -> list[tuple[str, str, float]]:
    """(agent, opponent, score) per episode; role-split agents are named ``seat:spec``,
    round-robin agents by their spec alone (one population)."""
    out: list[tuple[str, str, float]] = []
    first, second = game.seats[0], game.seats[1]
    for cell in samples:
        if not cell.n:
            continue
        a, b = cell.matchup[first], cell.matchup[second]
        if a == b:
            continue
        if not round_robin:
            a, b = f"{first}:{a}", f"{second}:{b}"
        diff = cell.rewards[:, 0] - cell.rewards[:, 1]
        diff = diff[~np.isnan(diff)]  # a missing reward is no game, not a tie
        scores = np.where(diff > 0, 1.0, np.where(diff < 0, 0.0, 0.5))
        out.extend((a, b, float(s)) for s in scores)
    return out


def ratings(
    game: GameSpec,
    samples: Sequence[Any],
    *,
    bootstrap: int,
    seed: int,
    round_robin: bool,
    symmetric: bool,
) -> tuple[dict[str, Any] | None, str]:
    """Elo and Bradley-Terry over "higher reward than the other seat", or ``None`` and the
    reason; asymmetric games get none (see the module docstring)."""
    from theory.errors import TheoryError
    from theory.evaluation.ratings import bradley_terry, elo

    if len(game.seats) != 2:
        return None, "ratings need a two-seat game"
    if not (round_robin or symmetric):
        return None, (
            f"No Elo or Bradley-Terry ladder: the seats of {game.name} "
            f"({' and '.join(game.seats)}) are not interchangeable, so their rewards are on "
            "different scales and a higher reward than the other seat is no win. Each "
            "seat's agents are ranked against each other instead (mean reward against "
            "the common opponents)."
        )
    records = wins(game, samples, round_robin)
    if not records:
        return None, "no finished episodes between different agents yet"
    try:
        elo_result = elo(records, n_boot=bootstrap, seed=seed, permutations=20)
        bt_result = bradley_terry(records, n_boot=bootstrap, seed=seed)
    except TheoryError as exc:
        return None, str(exc)
    return {
        "elo": elo_result.as_rows(),
        "elo_note": elo_result.note,
        "bradley_terry": bt_result.as_rows(),
        "bradley_terry_note": bt_result.note,
        "games": len(records),
    }, ""


def seat_means(game: GameSpec, samples: Sequence[Any]) -> dict[str, list[dict[str, Any]]]:
    """seat -> its agents, best first, by mean reward against the common opponents.

    Only opponents every agent of the seat has finished episodes against count, each with
    equal weight: per episode seed, the agent's rewards against those opponents are
    averaged (seeds every one of those cells played), and the t-interval is over seeds,
    which are independent. Rewards of one seat only, so the scale is the seat's own.
    """
    out: dict[str, list[dict[str, Any]]] = {}
    if len(game.seats) != 2:
        return out
    for k, seat in enumerate(game.seats):
        other = game.seats[1 - k]
        cells: dict[str, dict[str, Any]] = {}
        for cell in samples:
            if cell.n:
                cells.setdefault(cell.matchup[seat], {})[cell.matchup[other]] = cell
        if not cells:
            continue
        common = sorted(set.intersection(*(set(by_opp) for by_opp in cells.values())))
        rows = [_seat_mean(a, [by_opp[o] for o in common], k) for a, by_opp in cells.items()]
        rows.sort(key=lambda r: -r["mean"] if math.isfinite(r["mean"]) else math.inf)
        out[seat] = rows
    return out


def _seat_mean(agent: str, cells: Sequence[Any], k: int) -> dict[str, Any]:
    seeds: np.ndarray | None = None
    for cell in cells:
        ok = cell.episodes[~np.isnan(cell.rewards[:, k])]
        seeds = ok if seeds is None else np.intersect1d(seeds, ok)
    if seeds is None or not seeds.size:
        stat = Mean.of([])
    else:
        per_opponent = [cell.rewards[_positions(cell.episodes, seeds), k] for cell in cells]
        stat = Mean.of([float(v) for v in np.mean(per_opponent, axis=0)])
    return {
        "agent": agent,
        "mean": stat.value,
        "lower": stat.low,
        "upper": stat.high,
        "seeds": stat.n,
        "opponents": len(cells),
    }


def _positions(episodes: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """Row of each wanted episode index in a cell (every one is present)."""
    _, rows, _ = np.intersect1d(episodes, wanted, return_indices=True)
    return rows


# ----------------------------------------------------------------------------- paired tests
def _families(
    game: GameSpec, samples: Sequence[Any], round_robin: bool
) -> dict[str, dict[str, dict[tuple[int, str], Any]]]:
    """family -> agent -> (seat index, opponent) -> cell: the episodes two agents of a
    family share are those with the same key and the same episode index (same seed).

    Cross-play: a family is a seat. Round robin: the one roster, and an agent's episodes
    in either seat count, each compared with the other agent's in that same seat
    against that same opponent.
    """
    families: dict[str, dict[str, dict[tuple[int, str], Any]]] = {}
    for cell in samples:
        if not cell.n:
            continue
        for k, seat in enumerate(game.seats):
            opponent = cell.matchup[game.seats[1 - k]]
            family = ROUND_ROBIN_FAMILY if round_robin else seat
            agents = families.setdefault(family, {})
            agents.setdefault(cell.matchup[seat], {})[(k, opponent)] = cell
    return families


def paired(game: GameSpec, samples: Sequence[Any], round_robin: bool) -> list[dict[str, Any]]:
    """Agents of one family compared on the same (seat, opponent, episode seed) triples,
    Holm-adjusted within the family; the verdict follows the adjusted p-value."""
    from theory.evaluation.paired import holm

    if len(game.seats) != 2:
        return []
    rows: list[dict[str, Any]] = []
    for family, cells in _families(game, samples, round_robin).items():
        reward = "reward" if round_robin else f"{family} reward"
        tests = _family_tests(game, cells, reward)
        if not tests:
            continue
        finite = [t[3].p_value if math.isfinite(t[3].p_value) else 1.0 for t in tests]
        for (what, a, b, result), p_adj in zip(tests, holm(finite), strict=True):
            p_holm = float(p_adj) if result.sufficient else math.nan
            rows.append(
                {
                    "seat": family,
                    "outcome": game.metric_names.get(what, what),
                    "a": a,
                    "b": b,
                    "test": result.test,
                    "n": result.n,
                    "effect": result.effect,
                    "effect_name": result.effect_name,
                    "lower": result.lower,
                    "upper": result.upper,
                    "p_value": result.p_value,
                    "p_holm": p_holm,
                    "verdict": holm_verdict(result, p_holm, game.metric_names.get(what)),
                }
            )
    return rows


def _family_tests(
    game: GameSpec, cells: dict[str, dict[tuple[int, str], Any]], reward: str
) -> list[tuple[str, str, str, Any]]:
    from theory.evaluation.paired import paired_test

    tests: list[tuple[str, str, str, Any]] = []
    for a, b in itertools.combinations(list(cells), 2):
        xs: list[np.ndarray] = []
        ys: list[np.ndarray] = []
        metric_pairs: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {}
        for key in sorted(set(cells[a]) & set(cells[b])):
            k = key[0]
            ca, cb = cells[a][key], cells[b][key]
            _, ia, ib = np.intersect1d(ca.episodes, cb.episodes, return_indices=True)
            xs.append(ca.rewards[ia, k])
            ys.append(cb.rewards[ib, k])
            for name in game.metric_names:
                u, v = ca.metrics[name][ia], cb.metrics[name][ib]
                keep = ~(np.isnan(u) | np.isnan(v))
                metric_pairs.setdefault(name, []).append((u[keep], v[keep]))
        if not xs:
            continue
        x, y = np.concatenate(xs), np.concatenate(ys)
        tests.append((reward, a, b, paired_test(x, y, labels=(a, b))))
        for name, parts in metric_pairs.items():
            u = np.concatenate([p[0] for p in parts])
            v = np.concatenate([p[1] for p in parts])
            if u.size:
                # "auto": McNemar for a 0/1 outcome, the paired t-test for hops or scores
                tests.append((name, a, b, paired_test(u, v, labels=(a, b))))
    return tests


def holm_verdict(result: Any, p_holm: float, metric_label: str | None = None) -> str:
    """The verdict of one paired test, decided by its Holm-adjusted p-value.

    A rate has no "better" for every seat (attack success is bad for the defender), so a
    metric says which agent's rate is higher; a reward says which agent is better.
    """
    a, b = result.labels
    if not result.sufficient or not math.isfinite(p_holm):
        return str(result.verdict)
    if not p_holm < result.alpha:
        return f"no significant difference between {a} and {b} (Holm p = {p_holm:.3g})"
    higher, lower = (a, b) if result.effect > 0 else (b, a)
    if metric_label is not None:
        return f"{metric_label} higher with {higher} than {lower} (Holm p = {p_holm:.3g})"
    return f"{higher} better than {lower} (Holm p = {p_holm:.3g})"
