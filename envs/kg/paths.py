"""KALE's Knowledge-Induced (KI) path synthesis: entity linking, ALT A*, rationales.

This is a *reconstruction* (``kale_ds.md`` A.2; the paper's full text was not
available), so every choice the paper leaves open is a setting of :class:`SearchSettings`:

* **Entity linking** (:func:`link_entities`): longest-first, non-overlapping exact match
  of normalised aliases against the text. The paper does not name its NER/linker.
* **Multi-path A\\*** (:func:`astar_paths`): states are simple paths, priority
  ``f = g + h`` with unit edge cost; goal states are collected until ``num_paths`` paths
  are found or no path within ``max_hops`` remains, so the result is the top-N paths by
  length (the "most plausible reading" of *multi-path*). Entities whose out-degree
  exceeds ``hub_degree`` are never expanded (they may still be the start or the answer),
  the paper-notes' guard against paths through "human" or "country".
* **The ALT anchor heuristic** (:class:`AltHeuristic`), as the paper writes it:
  ``h(e) = max_i [dist(a_i, e_ans) - dist(a_i, e)]^+`` with ``k`` anchors sampled from
  the answer's ``m``-hop neighbourhood and distances from a BFS bounded at ``bound``
  hops. An anchor whose ``dist(a_i, e)`` is unknown (beyond the bound) is *skipped* for
  ``e`` (``unknown="skip"``), which keeps ``h`` admissible (the paper's argument does
  not cover ``inf - inf``). Settings beyond the paper: ``heuristic="symmetric"`` adds
  the other triangle inequality ``dist(e, a_i) - dist(e_ans, a_i)`` (classic ALT, also
  admissible); ``unknown="clamp"`` uses ``dist > bound`` as the lower bound
  ``bound + 1`` in that term (still admissible, "safe inf clamp" of ``kale_ds.md`` C.1);
  ``unknown="zero"`` reads an unknown distance as 0, a deliberately **inadmissible**
  variant kept so the admissibility test can show it catches one.
* **The perimeter heuristic** (:class:`PerimeterHeuristic`, ``heuristic="perimeter"``,
  beyond the paper): the answer itself as the one anchor of the symmetric term. A BFS
  *into* the answer bounded at ``perimeter`` hops gives ``d(e, e_ans)`` exactly inside
  that ball and ``perimeter + 1`` (a true lower bound) outside it. It is admissible and
  consistent on any directed graph, costs one small BFS per answer, and is the variant
  that makes A* beat BFS in ``benchmarks/bench_paths.py`` (global landmarks and a
  per-answer cache live in :mod:`envs.kg.landmarks`).
* **Rationales** (:func:`template_rationale`, :func:`rationale_ok`): one sentence per
  triple from the relation's template, then "so the answer is X"; a rationale is kept
  only if it mentions the answer and every entity it mentions is on the path or in the
  question (the paper's GPT-4o step is replaced by the template offline).

Search runs on :class:`~envs.kg.graph.IndexedGraph` (integers and tuples) for speed.
"""

from __future__ import annotations

import heapq
import random
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from envs.errors import ArenaError
from envs.kg.graph import IndexedGraph, KnowledgeGraph, normalize_alias

HeuristicKind = Literal["paper", "symmetric", "none", "perimeter"]
UnknownRule = Literal["skip", "clamp", "zero"]


@dataclass(frozen=True)
class SearchSettings:
    """Settings of the path search; defaults follow ``kale_ds.md`` A.2's suggestions.

    ``max_hops`` L=3 (paper: at most 4), ``anchors`` k=8, ``anchor_hops`` m=2,
    ``num_paths`` N=5, ``hub_degree`` 10^4 (lower it for small graphs). ``bound`` is the
    depth of the anchors' bounded BFS (not given by the paper). ``perimeter`` is the
    depth of the answer's own BFS for ``heuristic="perimeter"`` (``max_hops - 2`` is a
    good value: deeper balls cost more than they prune).
    """

    max_hops: int = 3
    num_paths: int = 5
    anchors: int = 8
    anchor_hops: int = 2
    bound: int = 4
    hub_degree: int = 10_000
    heuristic: HeuristicKind = "paper"
    unknown: UnknownRule = "skip"
    seed: int = 0
    perimeter: int = 2

    def __post_init__(self) -> None:
        for name in ("max_hops", "num_paths", "bound", "hub_degree"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ArenaError(f"{name} must be an integer >= 1, got {value!r}.", "fix it.")
        for name in ("anchors", "anchor_hops", "perimeter"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ArenaError(f"{name} must be an integer >= 0, got {value!r}.", "fix it.")
        if self.heuristic not in ("paper", "symmetric", "none", "perimeter"):
            raise ArenaError(
                f"heuristic {self.heuristic!r} is unknown.",
                "use paper, symmetric, perimeter or none.",
            )
        if self.unknown not in ("skip", "clamp", "zero"):
            raise ArenaError(f"unknown={self.unknown!r} is unknown.", "use skip, clamp or zero.")


@dataclass(frozen=True)
class Path:
    """A path as entity indices ``nodes[0] -r0-> nodes[1] ...`` (``len(rels) == hops``)."""

    nodes: tuple[int, ...]
    rels: tuple[int, ...]

    @property
    def hops(self) -> int:
        return len(self.rels)

    def triples(self, graph: IndexedGraph) -> list[tuple[str, str, str]]:
        """The path as ``(head id, relation id, tail id)`` triples."""
        return [
            (graph.ids[self.nodes[i]], graph.relations[r], graph.ids[self.nodes[i + 1]])
            for i, r in enumerate(self.rels)
        ]


@dataclass
class SearchResult:
    """Paths found (shortest first) and the work done: ``expansions`` counts states whose
    successors were generated; ``anchor_expansions`` the anchors' BFS nodes."""

    paths: list[Path] = field(default_factory=list)
    expansions: int = 0
    anchor_expansions: int = 0


# ----------------------------------------------------------------------------- BFS
def bounded_bfs(
    adjacency: Sequence[Sequence[int]], source: int, bound: int
) -> tuple[dict[int, int], int]:
    """Distances from ``source`` up to ``bound`` hops and the number of nodes expanded."""
    dist = {source: 0}
    frontier = [source]
    expanded = 0
    for depth in range(1, bound + 1):
        nxt: list[int] = []
        for u in frontier:
            expanded += 1
            for v in adjacency[u]:
                if v not in dist:
                    dist[v] = depth
                    nxt.append(v)
        if not nxt:
            break
        frontier = nxt
    return dist, expanded


# ----------------------------------------------------------------------------- ALT
class AltHeuristic:
    """``h(e)``, a lower bound on ``dist(e, target)`` from anchor distances (see module)."""

    def __init__(self, graph: IndexedGraph, target: int, settings: SearchSettings) -> None:
        self.settings = settings
        self.expansions = 0
        ball, work = bounded_bfs(graph.succ, target, settings.anchor_hops)
        self.expansions += work
        rng = random.Random(settings.seed * 1_000_003 + target)
        candidates = sorted(ball)
        chosen = rng.sample(candidates, min(settings.anchors, len(candidates)))
        # term 1: (dist(a, t), dist(a, .)) -- the paper's formula
        self.forward: list[tuple[int, dict[int, int]]] = []
        # term 2: (dist(t, a), dist(., a)) -- classic ALT's other inequality
        self.backward: list[tuple[int, dict[int, int]]] = []
        kind = settings.heuristic
        if kind == "perimeter":
            raise ArenaError(
                "AltHeuristic is the anchor heuristic; heuristic='perimeter' is another one.",
                "use make_heuristic() or PerimeterHeuristic.",
            )
        for anchor in chosen if kind != "none" else ():
            from_a, work = bounded_bfs(graph.succ, anchor, settings.bound)
            self.expansions += work
            if target in from_a:
                self.forward.append((from_a[target], from_a))
            if kind == "symmetric":
                to_a, work = bounded_bfs(graph.pred, anchor, settings.bound)
                self.expansions += work
                if target in to_a:
                    self.backward.append((to_a[target], to_a))
        self.anchors = tuple(chosen)
        self._memo: dict[int, int] = {}

    def __call__(self, node: int) -> int:
        value = self._memo.get(node)
        if value is not None:
            return value
        best = 0
        unknown = self.settings.unknown
        for d_at, from_a in self.forward:
            d_ae = from_a.get(node)
            if d_ae is None:
                if unknown != "zero":
                    continue  # skip: d(a, e) > bound makes this term <= 0 anyway
                d_ae = 0  # the deliberately inadmissible reading
            best = max(best, d_at - d_ae)
        for d_ta, to_a in self.backward:
            d_ea = to_a.get(node)
            if d_ea is None:
                if unknown == "skip":
                    continue
                d_ea = self.settings.bound + 1 if unknown == "clamp" else 0
            best = max(best, d_ea - d_ta)
        self._memo[node] = best
        return best


class PerimeterHeuristic(dict[int, int]):
    """``h(e) = d(e, target)`` within ``depth`` hops of the target, ``outside`` beyond.

    A bounded BFS over the reversed edges from the target: exact inside the ball, and
    ``depth + 1`` (the default ``outside``) is a true lower bound for every node the BFS
    did not reach, so ``h`` is admissible; ``min(d, depth + 1)`` of a true distance is
    also consistent. ``outside`` larger than ``depth + 1`` is **inadmissible** and exists
    only so the tests can show the admissibility check catches it. A ``dict`` with
    ``__missing__`` so that a lookup is one C-level ``dict.__getitem__`` in the hot loop.
    """

    def __init__(
        self, graph: IndexedGraph, target: int, depth: int, outside: int | None = None
    ) -> None:
        dist, work = bounded_bfs(graph.pred, target, depth)
        super().__init__(dist)
        self.outside = depth + 1 if outside is None else outside
        self.expansions = work

    def __missing__(self, node: int) -> int:
        return self.outside

    def __call__(self, node: int) -> int:
        return self[node]


def make_heuristic(
    graph: IndexedGraph, target: int, settings: SearchSettings
) -> tuple[Callable[[int], int], int]:
    """The heuristic ``settings.heuristic`` names for ``target`` and the BFS work it cost."""
    if settings.heuristic == "perimeter":
        ball = PerimeterHeuristic(graph, target, settings.perimeter)
        return ball.__getitem__, ball.expansions
    alt = AltHeuristic(graph, target, settings)
    return alt, alt.expansions


# ----------------------------------------------------------------------------- search
def astar_paths(
    graph: IndexedGraph,
    source: int,
    target: int,
    settings: SearchSettings,
    heuristic: Callable[[int], int] | None = None,
) -> SearchResult:
    """Top-``num_paths`` simple paths from ``source`` to ``target`` within ``max_hops``,
    shortest first, by A* over paths with ``heuristic`` (default: the one
    ``settings.heuristic`` names, see :func:`make_heuristic`).

    With a consistent heuristic (ALT's is) goal paths leave the open list in
    non-decreasing length, so the first N popped are a top-N by length.
    """
    result = SearchResult()
    if heuristic is None:
        heuristic, result.anchor_expansions = make_heuristic(graph, target, settings)
    limit, wanted, hub = settings.max_hops, settings.num_paths, settings.hub_degree
    out = graph.out
    counter = 0
    h0 = heuristic(source)
    if h0 > limit:
        return result
    # (f, -g, tie, node, nodes, rels): deeper first among equal f finds goals sooner.
    heap: list[tuple[int, int, int, int, tuple[int, ...], tuple[int, ...]]] = [
        (h0, 0, 0, source, (source,), ())
    ]
    while heap:
        _, neg_g, _, u, nodes, rels = heapq.heappop(heap)
        if u == target:
            result.paths.append(Path(nodes, rels))
            if len(result.paths) >= wanted:
                break
            continue
        g = -neg_g + 1
        if g > limit or (u != source and len(out[u]) > hub):
            continue
        result.expansions += 1
        for r, v in out[u]:
            if v in nodes:
                continue
            f = g + heuristic(v)
            if f <= limit:
                counter += 1
                heapq.heappush(heap, (f, -g, counter, v, (*nodes, v), (*rels, r)))
    return result


def bfs_paths(
    graph: IndexedGraph, source: int, target: int, settings: SearchSettings
) -> SearchResult:
    """The baseline: breadth-first enumeration of simple paths (goal test on generation),
    same hop limit, hub rule and N as :func:`astar_paths`."""
    result = SearchResult()
    limit, wanted, hub = settings.max_hops, settings.num_paths, settings.hub_degree
    if source == target:
        result.paths.append(Path((source,), ()))
        return result
    out = graph.out
    queue: deque[tuple[int, tuple[int, ...], tuple[int, ...]]] = deque([(source, (source,), ())])
    while queue:
        u, nodes, rels = queue.popleft()
        if len(rels) >= limit or (u != source and len(out[u]) > hub):
            continue
        result.expansions += 1
        for r, v in out[u]:
            if v in nodes:
                continue
            if v == target:
                result.paths.append(Path((*nodes, v), (*rels, r)))
                if len(result.paths) >= wanted:
                    return result
            else:
                queue.append((v, (*nodes, v), (*rels, r)))
    return result


def find_paths(
    kg: KnowledgeGraph, source: str, target: str, settings: SearchSettings | None = None
) -> list[list[tuple[str, str, str]]]:
    """Entity-id convenience wrapper: the top-N paths as lists of triples."""
    graph = kg.index()
    settings = settings or SearchSettings()
    found = astar_paths(graph, graph.node[source], graph.node[target], settings)
    return [path.triples(graph) for path in found.paths]


# ----------------------------------------------------------------------------- linking
class AliasIndex:
    """Normalised alias -> entity ids, for longest-first exact matching in text."""

    def __init__(self, kg: KnowledgeGraph) -> None:
        self.table: dict[tuple[str, ...], list[str]] = {}
        for entity in kg.entities.values():
            for alias in entity.aliases:
                key = tuple(normalize_alias(alias).split())
                if key:
                    ids = self.table.setdefault(key, [])
                    if entity.id not in ids:
                        ids.append(entity.id)
        self.longest = max((len(k) for k in self.table), default=0)

    def link(self, text: str) -> list[str]:
        """Entity ids mentioned in ``text``, in order (an ambiguous alias gives all)."""
        words = normalize_alias(text).split()
        found: list[str] = []
        i = 0
        while i < len(words):
            for n in range(min(self.longest, len(words) - i), 0, -1):
                ids = self.table.get(tuple(words[i : i + n]))
                if ids:
                    found.extend(e for e in sorted(ids) if e not in found)
                    i += n
                    break
            else:
                i += 1
        return found


def link_entities(text: str, kg: KnowledgeGraph) -> list[str]:
    """Entity linking by alias match (simulated NER, ``kale_ds.md`` A.2 step 1)."""
    return AliasIndex(kg).link(text)


# ----------------------------------------------------------------------------- rationales
def triple_sentence(kg: KnowledgeGraph, head: str, relation: str, tail: str) -> str:
    """One fact as a sentence, from the relation's template or ``head relation tail``."""
    template = kg.relations[relation].sentence if relation in kg.relations else ""
    h, t = kg.label(head), kg.label(tail)
    if template:
        return template.format(h=h, t=t)
    return f"{h} {kg.relation_label(relation)} {t}"


def template_rationale(
    kg: KnowledgeGraph, triples: Sequence[tuple[str, str, str]], answer: str
) -> str:
    """ "B was written by X; X was born in Y; so the answer is Y." (C.1's template)."""
    facts = "; ".join(triple_sentence(kg, *t) for t in triples)
    return f"{facts}; so the answer is {kg.label(answer)}."


def rationale_ok(
    kg: KnowledgeGraph,
    rationale: str,
    answer: str,
    allowed: Iterable[str],
    max_chars: int = 1000,
    index: AliasIndex | None = None,
) -> bool:
    """A.2's filter: mentions the answer, mentions no entity outside ``allowed`` (the
    path's and the question's entities), and is at most ``max_chars`` long."""
    if len(rationale) > max_chars:
        return False
    mentioned = (index or AliasIndex(kg)).link(rationale)
    if answer not in mentioned:
        return False
    allowed_set = set(allowed) | {answer}
    return all(e in allowed_set for e in mentioned)
