"""A knowledge graph on networkx, plus the integer-indexed view path search runs on.

:class:`KnowledgeGraph` keeps the triples in a ``networkx.MultiDiGraph`` (one edge per
triple, keyed by relation id) so users get networkx's whole toolbox, and keeps entity
labels, aliases and types beside it. Every relation may have an *inverse* (``born_in`` ↔
``birthplace_of``); :meth:`KnowledgeGraph.add_triple` adds the inverse edge too, so the
graph is symmetric in its distances, which the ALT heuristic's admissibility argument
relies on (KALE, ``kale_ds.md`` A.2).

:class:`IndexedGraph` is a frozen snapshot with entities numbered ``0..n-1`` and plain
Python adjacency lists: A* and BFS on a 100k-edge graph spend their time in dict/list
operations, and networkx's per-edge attribute dicts would dominate (see
``benchmarks/bench_paths.py``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import networkx as nx

from envs.errors import ArenaError

Triple = tuple[str, str, str]


def normalize_alias(text: str) -> str:
    """Lower-case, punctuation to spaces, whitespace collapsed: what alias matching compares."""
    return " ".join(re.sub(r"[^\w]+", " ", text.lower()).split())


@dataclass
class Entity:
    """One entity: id (e.g. ``Q42``), display label, aliases and an optional type."""

    id: str
    label: str
    aliases: tuple[str, ...] = ()
    type: str = ""


@dataclass
class Relation:
    """One relation: id, label (used in templates), and its inverse relation's id."""

    id: str
    label: str
    inverse: str | None = None
    #: Phrase template for questions, ``{x}`` is the subject ("the birthplace of {x}").
    phrase: str = ""
    #: Sentence template for rationales ("{h} was born in {t}").
    sentence: str = ""


@dataclass
class KnowledgeGraph:
    """Triples in a ``networkx.MultiDiGraph`` with labels, aliases, types and inverses."""

    name: str = "kg"
    graph: nx.MultiDiGraph = field(default_factory=nx.MultiDiGraph)
    entities: dict[str, Entity] = field(default_factory=dict)
    relations: dict[str, Relation] = field(default_factory=dict)
    _index: IndexedGraph | None = field(default=None, repr=False)

    # ------------------------------------------------------------------ building
    def add_entity(
        self, entity_id: str, label: str = "", aliases: Iterable[str] = (), type: str = ""
    ) -> Entity:
        """Add (or update) an entity; the label is always one of its aliases."""
        entity = self.entities.get(entity_id)
        if entity is None:
            entity = Entity(entity_id, label or entity_id, (), type)
            self.entities[entity_id] = entity
            self.graph.add_node(entity_id)
        if label:
            entity.label = label
        if type:
            entity.type = type
        merged = dict.fromkeys([entity.label, *entity.aliases, *aliases])
        entity.aliases = tuple(a for a in merged if a)
        self._index = None
        return entity

    def add_relation(
        self,
        relation_id: str,
        label: str = "",
        inverse: str | None = None,
        inverse_label: str = "",
        phrase: str = "",
        sentence: str = "",
        inverse_phrase: str = "",
        inverse_sentence: str = "",
    ) -> Relation:
        """Add a relation and, when ``inverse`` is given, its inverse (a symmetric
        relation such as ``spouse`` is its own inverse)."""
        relation = Relation(relation_id, label or relation_id, inverse, phrase, sentence)
        self.relations[relation_id] = relation
        if inverse and inverse != relation_id:
            self.relations[inverse] = Relation(
                inverse, inverse_label or inverse, relation_id, inverse_phrase, inverse_sentence
            )
        self._index = None
        return relation

    def add_triple(self, head: str, relation: str, tail: str) -> None:
        """Add ``(head, relation, tail)`` and its inverse edge (if the relation has one)."""
        if relation not in self.relations:
            raise ArenaError(f"Unknown relation {relation!r}.", "add_relation() it first.")
        for entity in (head, tail):
            if entity not in self.entities:
                self.add_entity(entity)
        self.graph.add_edge(head, tail, key=relation)
        inverse = self.relations[relation].inverse
        if inverse:
            self.graph.add_edge(tail, head, key=inverse)
        self._index = None

    # ------------------------------------------------------------------ reading
    def triples(self) -> Iterator[Triple]:
        """Every edge as ``(head, relation, tail)`` (inverse edges included)."""
        for head, tail, key in self.graph.edges(keys=True):
            yield (head, key, tail)

    def out_edges(self, entity: str) -> list[tuple[str, str]]:
        """``(relation, tail)`` pairs leaving ``entity``, sorted: the env's action order."""
        return sorted((key, tail) for _, tail, key in self.graph.out_edges(entity, keys=True))

    def follow(self, entity: str, relation: str) -> list[str]:
        """Tails reached from ``entity`` by ``relation`` (sorted)."""
        return sorted(t for r, t in self.out_edges(entity) if r == relation)

    def label(self, entity: str) -> str:
        return self.entities[entity].label if entity in self.entities else entity

    def relation_label(self, relation: str) -> str:
        return self.relations[relation].label if relation in self.relations else relation

    def degree(self, entity: str) -> int:
        return int(self.graph.out_degree(entity))

    def max_out_degree(self) -> int:
        return max((int(d) for _, d in self.graph.out_degree()), default=0)

    @property
    def num_edges(self) -> int:
        return int(self.graph.number_of_edges())

    def index(self) -> IndexedGraph:
        """The integer-indexed snapshot (built once, rebuilt after any change)."""
        if self._index is None:
            self._index = IndexedGraph.from_kg(self)
        return self._index


@dataclass(frozen=True)
class IndexedGraph:
    """Entities as ``0..n-1`` and adjacency lists of ``(relation index, node)`` pairs.

    ``out[u]`` are the edges leaving ``u`` (sorted by relation id, then tail id, the
    order of :meth:`KnowledgeGraph.out_edges`), ``succ[u]`` just their nodes, ``pred[u]``
    the nodes with an edge into ``u`` (BFS *to* an anchor, for the symmetric ALT term).
    """

    ids: tuple[str, ...]
    node: dict[str, int]
    relations: tuple[str, ...]
    out: tuple[tuple[tuple[int, int], ...], ...]
    succ: tuple[tuple[int, ...], ...]
    pred: tuple[tuple[int, ...], ...]

    @classmethod
    def from_kg(cls, kg: KnowledgeGraph) -> IndexedGraph:
        ids = tuple(sorted(kg.entities))
        node = {e: i for i, e in enumerate(ids)}
        relations = tuple(sorted(kg.relations))
        rel = {r: i for i, r in enumerate(relations)}
        out: list[list[tuple[int, int]]] = [[] for _ in ids]
        pred: list[list[int]] = [[] for _ in ids]
        for head, tail, key in kg.graph.edges(keys=True):
            out[node[head]].append((rel[key], node[tail]))
            pred[node[tail]].append(node[head])
        for edges in out:
            edges.sort(key=lambda e: (relations[e[0]], ids[e[1]]))
        return cls.from_lists(ids, relations, out, pred)

    @classmethod
    def from_lists(
        cls,
        ids: Iterable[str],
        relations: Iterable[str],
        out: list[list[tuple[int, int]]],
        pred: list[list[int]] | None = None,
    ) -> IndexedGraph:
        """Build from adjacency lists directly (synthetic graphs in tests and benchmarks)."""
        ids_t = tuple(ids)
        if pred is None:
            pred = [[] for _ in ids_t]
            for u, edges in enumerate(out):
                for _, v in edges:
                    pred[v].append(u)
        return cls(
            ids=ids_t,
            node={e: i for i, e in enumerate(ids_t)},
            relations=tuple(relations),
            out=tuple(tuple(edges) for edges in out),
            succ=tuple(tuple(v for _, v in edges) for edges in out),
            pred=tuple(tuple(p) for p in pred),
        )

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def num_edges(self) -> int:
        return sum(len(edges) for edges in self.out)

    def to_networkx(self) -> nx.DiGraph:
        """A simple ``DiGraph`` of the same nodes (for networkx's own path algorithms)."""
        graph = nx.DiGraph()
        graph.add_nodes_from(range(len(self.ids)))
        graph.add_edges_from((u, v) for u, vs in enumerate(self.succ) for v in vs)
        return graph
