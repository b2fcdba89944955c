"""Knowledge graphs for KALE: graphs, the built-in KG, loaders, questions, path search.

:mod:`.graph` (networkx-backed :class:`KnowledgeGraph`), :mod:`.builtin` (the shipped
KG, generated in code), :mod:`.loaders` (triple files), :mod:`.questions` (multi-hop
questions and the split by unseen composition), :mod:`.paths` (entity linking, ALT A*,
rationales). Parts reconstruct ``kale_ds.md``: see each module for what is a setting.
"""

from envs.kg.builtin import build_builtin_kg, builtin_kg, builtin_questions
from envs.kg.graph import Entity, IndexedGraph, KnowledgeGraph, Relation
from envs.kg.paths import (
    AltHeuristic,
    SearchResult,
    SearchSettings,
    astar_paths,
    bfs_paths,
    find_paths,
    link_entities,
    rationale_ok,
    template_rationale,
)
from envs.kg.questions import Question, QuestionSettings, compose_questions

__all__ = [
    "AltHeuristic",
    "Entity",
    "IndexedGraph",
    "KnowledgeGraph",
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
    "rationale_ok",
    "template_rationale",
]
