"""Fast exact heuristics for KALE's path search: perimeter, global ALT landmarks, cache."""

from __future__ import annotations

import random
from collections.abc import Callable

import networkx as nx
import pytest

from envs.errors import ArenaError
from envs.kg.graph import IndexedGraph
from envs.kg.landmarks import FAR, HeuristicCache, LandmarkTable, bfs_distances
from envs.kg.paths import (
    AltHeuristic,
    PerimeterHeuristic,
    SearchSettings,
    astar_paths,
    bfs_paths,
    bounded_bfs,
    make_heuristic,
)

Factory = Callable[[IndexedGraph, int], Callable[[int], int]]


def digraph(n: int, p: float, seed: int) -> IndexedGraph:
    """A random *directed* graph: no inverse edges, so d(a, b) != d(b, a) in general."""
    g = nx.gnp_random_graph(n, p, seed=seed, directed=True)
    out: list[list[tuple[int, int]]] = [[] for _ in range(n)]
    for u, v in g.edges():
        out[u].append((0, v))
    return IndexedGraph.from_lists([f"E{i}" for i in range(n)], ["r"], out)


def violations(factory: Factory) -> int:
    """Nodes where h(e) exceeds the true d(e, target) (infinite where unreachable)."""
    count = 0
    for seed in range(6):
        graph = digraph(60, 0.05, seed)
        for target in random.Random(seed).sample(range(len(graph)), 5):
            h = factory(graph, target)
            true, _ = bounded_bfs(graph.pred, target, len(graph))
            count += sum(h(e) > true.get(e, FAR) for e in range(len(graph)))
    return count


def test_perimeter_is_admissible_and_its_wrong_variant_is_caught() -> None:
    for depth in (1, 2, 3):
        assert violations(lambda g, t: PerimeterHeuristic(g, t, depth)) == 0  # noqa: B023
    assert violations(lambda g, t: PerimeterHeuristic(g, t, 2, outside=4)) > 0


def test_landmarks_are_admissible_on_directed_graphs() -> None:
    def alt(graph: IndexedGraph, target: int) -> Callable[[int], int]:
        return LandmarkTable.build(graph, 4, seed=1).heuristic(target)

    assert violations(alt) == 0


def test_landmarks_assuming_symmetry_are_caught() -> None:
    # wrong: reading d(e, L) as d(L, e), as if every edge had its inverse
    def symmetric_guess(graph: IndexedGraph, target: int) -> Callable[[int], int]:
        table = LandmarkTable.build(graph, 4, seed=1)
        k = len(table.landmarks)
        rows = tuple(r[:k] + tuple(-x for x in r[:k]) for r in table.rows)
        return LandmarkTable(table.landmarks, rows, table.expansions).heuristic(target)

    assert violations(symmetric_guess) > 0


def test_landmark_selection_spreads_out() -> None:
    graph = digraph(80, 0.05, 3)
    table = LandmarkTable.build(graph, 5, seed=0)
    assert len(set(table.landmarks)) == len(table.landmarks) == 5
    d0 = bfs_distances(graph.succ, table.landmarks[0])
    assert d0[table.landmarks[0]] == 0
    with pytest.raises(ArenaError):
        LandmarkTable.build(graph, 0)


@pytest.mark.parametrize("kind", ["perimeter", "landmarks"])
def test_fast_heuristics_find_exactly_the_shortest_paths(kind: str) -> None:
    for seed in range(4):
        graph = digraph(80, 0.05, seed)
        table = LandmarkTable.build(graph, 4, seed=seed)
        nxg = graph.to_networkx()
        rng = random.Random(seed)
        for _ in range(8):
            s, t = rng.sample(range(len(graph)), 2)
            if not nx.has_path(nxg, s, t) or nx.shortest_path_length(nxg, s, t) > 4:
                continue
            expected = sorted(tuple(p) for p in nx.all_shortest_paths(nxg, s, t))
            settings = SearchSettings(
                max_hops=len(expected[0]) - 1, num_paths=1000, heuristic="perimeter"
            )
            h = table.heuristic(t) if kind == "landmarks" else None
            found = astar_paths(graph, s, t, settings, heuristic=h)
            assert sorted(p.nodes for p in found.paths) == expected


def test_perimeter_top_n_matches_bfs_lengths() -> None:
    graph = digraph(120, 0.04, 7)
    settings = SearchSettings(max_hops=4, num_paths=5, heuristic="perimeter", perimeter=2)
    rng = random.Random(7)
    for _ in range(20):
        s, t = rng.sample(range(len(graph)), 2)
        a, b = astar_paths(graph, s, t, settings), bfs_paths(graph, s, t, settings)
        assert [p.hops for p in a.paths] == [p.hops for p in b.paths]
        assert a.anchor_expansions > 0 or not a.paths


def cache_matches_fresh(cache: HeuristicCache, queries: list[tuple[int, SearchSettings]]) -> bool:
    """Every cached heuristic gives the values a freshly built one gives."""
    graph = cache.graph
    for target, settings in queries:
        cached = cache.get(target, settings)
        fresh, _ = make_heuristic(graph, target, settings)
        if any(cached(e) != fresh(e) for e in range(len(graph))):
            return False
    return True


class TargetOnlyCache(HeuristicCache):
    """Wrong: keys by the target alone, so other settings get a stale heuristic."""

    def key(self, target: int, settings: SearchSettings) -> tuple[int, SearchSettings]:
        return (target, SearchSettings())


def test_cache_reuses_exact_heuristics_and_a_wrong_key_is_caught() -> None:
    graph = digraph(60, 0.06, 2)
    paper = SearchSettings(anchors=4, bound=3)
    queries = [
        (t, s) for t in (1, 2, 1, 3, 2) for s in (paper, SearchSettings(heuristic="perimeter"))
    ]
    cache = HeuristicCache(graph, maxsize=4)
    assert cache_matches_fresh(cache, queries)
    assert cache.hits > 0 and len(cache) <= 4
    assert isinstance(cache.get(1, paper), AltHeuristic)
    assert not cache_matches_fresh(TargetOnlyCache(graph), queries)
    with pytest.raises(ArenaError):
        HeuristicCache(graph, maxsize=0)
    with pytest.raises(ArenaError):
        AltHeuristic(graph, 1, SearchSettings(heuristic="perimeter"))
