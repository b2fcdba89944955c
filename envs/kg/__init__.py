"""Knowledge graphs for KALE: graphs, the built-in KG, loaders, questions, path search.

:mod:`.graph` (networkx-backed :class:`KnowledgeGraph`), :mod:`.builtin` (the shipped
KG, generated in code), :mod:`.loaders` (triple files), :mod:`.questions` (multi-hop
questions and the split by unseen composition), :mod:`.paths` (entity linking, ALT A*,
rationales), :mod:`.landmarks` (global ALT landmarks, a per-answer heuristic cache),
:mod:`.env` and :mod:`.answerer` (the ``kg_traversal_v0`` game and its two seats).
Parts reconstruct ``kale_ds.md``: see each module for what is a setting.
"""

from envs.kg.builtin import build_builtin_kg, builtin_kg, builtin_questions
from envs.kg.graph import Entity, IndexedGraph, KnowledgeGraph, Relation
from envs.kg.landmarks import HeuristicCache, LandmarkTable
from envs.kg.paths import (
    AltHeuristic,
    PerimeterHeuristic,
    SearchResult,
    SearchSettings,
    astar_paths,
    bfs_paths,
    find_paths,
    link_entities,
    make_heuristic,
    rationale_ok,
    template_rationale,
)
from envs.kg.questions import Question, QuestionSettings, compose_questions

__all__ = [
    "AltHeuristic",
    "Entity",
    "HeuristicCache",
    "IndexedGraph",
    "KnowledgeGraph",
    "LandmarkTable",
    "PerimeterHeuristic",
    "Question",
    "QuestionSettings",
    "Relation",
    "SearchResult",
    "SearchSettings",
    "astar_paths",
    "bfs_paths",
    "build_builtin_kg",
    "builtin_kg",
    "builtin_questions",
    "compose_questions",
    "find_paths",
    "link_entities",
    "make_heuristic",
    "rationale_ok",
    "template_rationale",
]
