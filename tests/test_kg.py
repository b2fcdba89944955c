"""Knowledge graphs, loaders, questions and ALT path search (envs.kg)."""

from __future__ import annotations

import random
from pathlib import Path

import networkx as nx
import pytest

from envs.errors import DatasetError
from envs.kg import (
    AltHeuristic,
    IndexedGraph,
    SearchSettings,
    astar_paths,
    bfs_paths,
    builtin_kg,
    builtin_questions,
    find_paths,
    link_entities,
    rationale_ok,
    template_rationale,
)
from envs.kg.loaders import load_triples
from envs.kg.paths import HeuristicKind, UnknownRule, bounded_bfs


def random_graph(n: int, p: float, seed: int) -> IndexedGraph:
    g = nx.gnp_random_graph(n, p, seed=seed)
    out: list[list[tuple[int, int]]] = [[] for _ in range(n)]
    for u, v in g.edges():
        out[u].append((0, v))
        out[v].append((0, u))
    return IndexedGraph.from_lists([f"E{i}" for i in range(n)], ["r"], out)


def test_builtin_kg_shape() -> None:
    kg = builtin_kg()
    assert 200 <= len(kg.entities) <= 500
    assert len({r.split("_")[0] for r in kg.relations}) >= 6
    for head, relation, tail in list(kg.triples())[:200]:
        inverse = kg.relations[relation].inverse
        assert inverse and (inverse, head) in kg.out_edges(tail)
    assert all(len(e.aliases) >= 2 for e in kg.entities.values())
    assert builtin_kg() is builtin_kg()


def test_builtin_questions_and_split() -> None:
    kg = builtin_kg()
    questions = builtin_questions()
    assert len(questions) >= 200
    assert {q.hops for q in questions} == {2, 3, 4}
    train = {q.chain for q in questions if q.split == "train"}
    test = {q.chain for q in questions if q.split == "test"}
    assert test and not train & test
    train_relations = {r for c in train for r in c}
    assert all(r in train_relations for c in test for r in c)
    for q in questions[:50]:
        assert q.answer in q.choices and len(q.choices) == 4
        assert [t[1] for t in q.path] == list(q.chain)
        assert q.start in link_entities(q.text, kg)
    assert [q.to_dict() for q in builtin_questions()] == [q.to_dict() for q in questions]


def test_loaders_formats(tmp_path: Path) -> None:
    (tmp_path / "t.tsv").write_text("head\trelation\ttail\nQ1\tP19\tQ2\nQ2\tP17\tQ3\n")
    (tmp_path / "t.csv").write_text("head,relation,tail,head_label\nQ1,P19,Q2,Ada\n")
    (tmp_path / "t.jsonl").write_text('{"head": "Q1", "relation": "P19", "tail": "Q2"}\n')
    (tmp_path / "labels.tsv").write_text("id\tlabel\taliases\nQ1\tAda Lovelace\tAda|Lovelace\n")
    kg = load_triples(tmp_path / "t.tsv", labels=tmp_path / "labels.tsv")
    assert kg.label("Q1") == "Ada Lovelace" and "Lovelace" in kg.entities["Q1"].aliases
    assert ("~P19", "Q1") in kg.out_edges("Q2")
    assert link_entities("Where was Lovelace born?", kg) == ["Q1"]
    assert load_triples(tmp_path / "t.csv").label("Q1") == "Ada"
    assert load_triples(tmp_path / "t.jsonl", add_inverse=False).num_edges == 1


@pytest.mark.parametrize(
    ("name", "text", "where"),
    [
        ("bad.tsv", "head\trelation\ttail\nQ1\tP1\n", "row 2, column 'tail'"),
        ("bad.csv", "head,relation,tail\nQ1,,Q2\n", "row 2, column 'relation'"),
        ("bad.jsonl", '{"head": "Q1", "relation": "P1", "tail": "Q2"}\n{"head": 3}\n', "row 2"),
        ("bad2.jsonl", '{"head": "Q1", "relation": "P1"}\n', "row 1, column 'tail'"),
        ("bad3.jsonl", "not json\n", "row 1, column '*'"),
    ],
)
def test_loader_errors_name_file_row_column(
    tmp_path: Path, name: str, text: str, where: str
) -> None:
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(DatasetError) as info:
        load_triples(path)
    assert name in str(info.value) and where in str(info.value)


@pytest.mark.parametrize(
    ("name", "text", "found"),
    [
        ("spo.csv", "subject,predicate,object\nQ1,born_in,Q2\n", "subject,predicate,object"),
        ("short.tsv", "head\trelation\nQ1\tP1\n", "head,relation"),
        ("spo.jsonl", '{"subject": "Q1", "predicate": "P1", "object": "Q2"}\n', "subject,"),
    ],
)
def test_a_wrong_header_is_a_header_error_not_a_row_error(
    tmp_path: Path, name: str, text: str, found: str
) -> None:
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(DatasetError) as info:
        load_triples(path)
    message = str(info.value)
    assert name in message and "must be head,relation,tail; found " + found in message
    assert "row 2" not in message


def test_a_wrong_labels_header_is_a_header_error(tmp_path: Path) -> None:
    (tmp_path / "t.csv").write_text("head,relation,tail\nQ1,P1,Q2\n")
    (tmp_path / "labels.csv").write_text("entity,name\nQ1,Ada\n")
    with pytest.raises(DatasetError, match="header must be id,label; found entity,name"):
        load_triples(tmp_path / "t.csv", labels=tmp_path / "labels.csv")


def test_a_byte_order_mark_does_not_hide_the_head_column(tmp_path: Path) -> None:
    (tmp_path / "bom.csv").write_text("\ufeffhead,relation,tail\nQ1,P1,Q2\n", encoding="utf-8")
    assert load_triples(tmp_path / "bom.csv", add_inverse=False).num_edges == 1


def _admissibility_violations(settings: SearchSettings) -> int:
    violations = 0
    for seed in range(6):
        graph = random_graph(60, 0.05, seed)
        rng = random.Random(seed)
        for target in rng.sample(range(len(graph)), 5):
            h = AltHeuristic(graph, target, settings)
            true, _ = bounded_bfs(graph.pred, target, len(graph))  # dist(e, target)
            violations += sum(h(e) > d for e, d in true.items())
    return violations


@pytest.mark.parametrize("heuristic", ["paper", "symmetric"])
@pytest.mark.parametrize("unknown", ["skip", "clamp"])
def test_alt_heuristic_is_admissible(heuristic: HeuristicKind, unknown: UnknownRule) -> None:
    settings = SearchSettings(
        anchors=4,
        anchor_hops=2,
        bound=2,
        heuristic=heuristic,
        unknown=unknown,
    )
    assert _admissibility_violations(settings) == 0


def test_admissibility_check_catches_inadmissible_variant() -> None:
    bad = SearchSettings(anchors=4, anchor_hops=2, bound=2, unknown="zero")
    assert _admissibility_violations(bad) > 0


@pytest.mark.parametrize("heuristic", ["paper", "symmetric", "none"])
def test_astar_finds_all_bfs_shortest_paths(heuristic: HeuristicKind) -> None:
    for seed in range(5):
        graph = random_graph(80, 0.04, seed)
        nxg = graph.to_networkx()
        rng = random.Random(seed)
        for _ in range(6):
            s, t = rng.sample(range(len(graph)), 2)
            if not nx.has_path(nxg, s, t) or nx.shortest_path_length(nxg, s, t) > 4:
                continue
            expected = sorted(tuple(p) for p in nx.all_shortest_paths(nxg, s, t))
            settings = SearchSettings(
                max_hops=len(expected[0]) - 1,
                num_paths=1000,
                heuristic=heuristic,
                bound=3,
                seed=seed,
            )
            found = sorted(p.nodes for p in astar_paths(graph, s, t, settings).paths)
            assert found == expected
            assert sorted(p.nodes for p in bfs_paths(graph, s, t, settings).paths) == expected


def test_top_n_paths_sorted_and_hubs_skipped() -> None:
    # 0 - hub - 9 is the only 2-hop route; other routes take 3 hops.
    out: list[list[tuple[int, int]]] = [[] for _ in range(10)]

    def link(u: int, v: int) -> None:
        out[u].append((0, v))
        out[v].append((0, u))

    for k in range(1, 9):
        link(5, k) if k != 5 else None
    link(0, 5)
    link(5, 9)
    link(0, 1)
    link(1, 2)
    link(2, 9)
    graph = IndexedGraph.from_lists([f"E{i}" for i in range(10)], ["r"], out)
    open_search = astar_paths(graph, 0, 9, SearchSettings(max_hops=4, num_paths=3))
    hops = [p.hops for p in open_search.paths]
    assert hops == sorted(hops) and hops[0] == 2
    capped = astar_paths(graph, 0, 9, SearchSettings(max_hops=4, num_paths=3, hub_degree=5))
    assert [p.nodes for p in capped.paths] == [(0, 1, 2, 9)]


def test_find_paths_and_rationale_filter() -> None:
    kg = builtin_kg()
    q = builtin_questions()[0]
    paths = find_paths(kg, q.start, q.answer, SearchSettings(max_hops=4, hub_degree=50))
    assert paths and len(paths[0]) <= q.hops
    triples = paths[0]
    rationale = template_rationale(kg, triples, q.answer)
    allowed = {x for t in triples for x in (t[0], t[2])}
    assert kg.label(q.answer) in rationale
    assert rationale_ok(kg, rationale, q.answer, allowed)
    assert not rationale_ok(kg, "No idea.", q.answer, allowed)
    stranger = next(e for e in sorted(kg.entities) if e not in allowed)
    assert not rationale_ok(kg, f"{rationale} Also {kg.label(stranger)}.", q.answer, allowed)
