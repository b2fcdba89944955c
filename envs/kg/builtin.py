"""The shipped knowledge graph, generated deterministically in code (no data file).

A fictional world so that no model has seen it in pre-training: ~300 entities —
countries, cities, languages, organisations, people, books — and 8 relation types with
their inverses (16 labelled edge kinds), every entity with aliases (a short name, a
lower-case form, "the ..."). ``kale_ds.md`` C.1 suggests ~40 entities and 6 relations;
the issue asks for a few hundred entities, so the sizes are settings of
:func:`build_builtin_kg`. Names come from syllables drawn by a seeded RNG and are made
unique, so alias matching is unambiguous.
"""

from __future__ import annotations

import random
from functools import lru_cache

from envs.kg.graph import KnowledgeGraph
from envs.kg.questions import Question, QuestionSettings, compose_questions

_SYLLABLES = (
    "ka", "lo", "mir", "ta", "ven", "dra", "sol", "bre", "ni", "qua", "zer", "ol", "pra",
    "fen", "dul", "mar", "ist", "ro", "vak", "elo", "tun", "sha", "gri", "bel",
)  # fmt: skip

# relation id: (label, inverse id, inverse label, phrase, sentence, inv phrase, inv sentence)
RELATIONS: dict[str, tuple[str, str, str, str, str, str, str]] = {
    "capital_of": (
        "capital of", "has_capital", "has capital",
        "the country whose capital is {x}", "{h} is the capital of {t}",
        "the capital of {x}", "the capital of {h} is {t}",
    ),
    "located_in": (
        "located in", "contains", "contains",
        "the country where {x} lies", "{h} is located in {t}",
        "a city in {x}", "{h} contains {t}",
    ),
    "born_in": (
        "born in", "birthplace_of", "birthplace of",
        "the birthplace of {x}", "{h} was born in {t}",
        "a person born in {x}", "{h} is the birthplace of {t}",
    ),
    "spouse": (
        "spouse", "spouse", "spouse",
        "the spouse of {x}", "{h} is married to {t}", "", "",
    ),
    "author_of": (
        "author of", "written_by", "written by",
        "a book written by {x}", "{h} wrote {t}",
        "the author of {x}", "{h} was written by {t}",
    ),
    "member_of": (
        "member of", "has_member", "has member",
        "the organisation {x} belongs to", "{h} is a member of {t}",
        "a member of {x}", "{t} is a member of {h}",
    ),
    "headquartered_in": (
        "headquartered in", "headquarters_of", "headquarters of",
        "the city where {x} has its headquarters", "{h} is headquartered in {t}",
        "an organisation headquartered in {x}", "{t} is headquartered in {h}",
    ),
    "official_language": (
        "official language", "language_of", "language of",
        "the official language of {x}", "the official language of {h} is {t}",
        "a country speaking {x}", "{h} is spoken in {t}",
    ),
}  # fmt: skip


def _namer(rng: random.Random) -> object:
    used: set[str] = set()

    def name(parts: int) -> str:
        while True:
            text = "".join(rng.choice(_SYLLABLES) for _ in range(parts)).capitalize()
            if text not in used:
                used.add(text)
                return text

    return name


def build_builtin_kg(
    *,
    countries: int = 12,
    cities_per_country: int = 5,
    languages: int = 8,
    organisations: int = 16,
    people: int = 120,
    books: int = 90,
    seed: int = 7,
) -> KnowledgeGraph:
    """The built-in KG; the same arguments give the same graph on every machine."""
    rng = random.Random(seed)
    name = _namer(rng)
    kg = KnowledgeGraph(name="builtin")
    for rid, (label, inv, inv_label, phrase, sentence, iphrase, isentence) in RELATIONS.items():
        kg.add_relation(rid, label, inv, inv_label, phrase, sentence, iphrase, isentence)

    def entity(prefix: str, k: int, label: str, kind: str, extra: tuple[str, ...]) -> str:
        eid = f"{prefix}{k}"
        kg.add_entity(eid, label, (label.lower(), *extra), kind)
        return eid

    langs = [
        entity("L", k, f"{name(2)}ish", "language", ())  # type: ignore[operator]
        for k in range(languages)
    ]
    country_ids: list[str] = []
    city_ids: list[str] = []
    for k in range(countries):
        base = name(2)  # type: ignore[operator]
        c = entity("C", k, f"{base}ia", "country", (f"the Republic of {base}ia", base.upper()))
        country_ids.append(c)
        kg.add_triple(c, "official_language", langs[k % languages])
        for j in range(cities_per_country):
            city_name = name(2)  # type: ignore[operator]
            city = entity("T", len(city_ids), city_name, "city", (f"{city_name} City",))
            city_ids.append(city)
            kg.add_triple(city, "located_in", c)
            if j == 0:
                kg.add_triple(city, "capital_of", c)
    org_ids = []
    for k in range(organisations):
        label = f"{name(2)} Society"  # type: ignore[operator]
        org = entity("O", k, label, "organisation", (f"the {label}",))
        org_ids.append(org)
        kg.add_triple(org, "headquartered_in", rng.choice(city_ids))
    person_ids = []
    for k in range(people):
        first, last = name(2), name(3)  # type: ignore[operator]
        person = entity("P", k, f"{first} {last}", "person", (last,) if k % 3 else ())
        person_ids.append(person)
        kg.add_triple(person, "born_in", rng.choice(city_ids))
        kg.add_triple(person, "member_of", rng.choice(org_ids))
    shuffled = person_ids[:]
    rng.shuffle(shuffled)
    for a, b in zip(shuffled[0:40:2], shuffled[1:40:2], strict=True):
        kg.add_triple(a, "spouse", b)
    for k in range(books):
        title = f"The {name(2)} {rng.choice(('Chronicle', 'Atlas', 'Letters', 'Song'))}"  # type: ignore[operator]
        book = entity("B", k, title, "book", ())
        kg.add_triple(rng.choice(person_ids), "author_of", book)
    return kg


@lru_cache(maxsize=4)
def builtin_kg(seed: int = 7) -> KnowledgeGraph:
    """The default built-in KG (cached: it is read-only by convention)."""
    return build_builtin_kg(seed=seed)


@lru_cache(maxsize=8)
def builtin_questions(
    seed: int = 0, count: int = 400, test_fraction: float = 0.25
) -> tuple[Question, ...]:
    """The built-in KG's multi-hop questions (2-4 hops), split by composition."""
    kg = builtin_kg()
    settings = QuestionSettings(count=count, seed=seed, test_fraction=test_fraction)
    return tuple(compose_questions(kg, settings))
