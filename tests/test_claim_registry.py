"""Your own claims: ``register_claim``, the ``arena.claims`` entry points, and the worked
example of ``docs/claims.md#your-own-claims``, run from the page itself.

Every test starts from an empty registry and no installed entry points (both restored
afterwards), so nothing registered here leaks into the other claim tests.
"""

from __future__ import annotations

import importlib.metadata
import re
import sys
import types
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import theory.claims as claims_pkg
from arena.cli import _run as run_cli
from theory.claims import (
    ENTRY_POINT_GROUP,
    CheckResult,
    Claim,
    ClaimPluginError,
    ClaimRegistrationError,
    Source,
    Status,
    UnknownClaimError,
    all_claims,
    get_claim,
    register_claim,
    registered_claims,
    registry,
    run_claim_checks,
    unregister_claim,
)
from theory.claims.base import require_instances, skipped, verdict
from theory.errors import TheoryError

DOC = Path(__file__).resolve().parent.parent / "docs" / "claims.md"
EXAMPLE_ID = "mine.coordination.payoff-dominant"
WRONG_ID = "mine.symmetric.payoff-dominant"


def doc_blocks() -> list[str]:
    """The fenced python blocks of the "Your own claims" section, in order."""
    text = DOC.read_text(encoding="utf-8")
    section = text.split("## Your own claims", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, flags=re.S)


EntryPoints = list[importlib.metadata.EntryPoint]


@pytest.fixture(autouse=True)
def clean_registry(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[EntryPoints]]:
    """An empty registry and a controllable list of installed entry points."""
    installed: list[EntryPoints] = [[]]
    calls: list[str] = []

    def fake_entry_points(*, group: str) -> EntryPoints:
        calls.append(group)
        return list(installed[0]) if group == ENTRY_POINT_GROUP else []

    monkeypatch.setattr(registry, "_REGISTRY", {})
    monkeypatch.setattr(registry, "_entry_points_loaded", False)
    monkeypatch.setattr(importlib.metadata, "entry_points", fake_entry_points)
    fake_entry_points.calls = calls  # type: ignore[attr-defined]
    yield installed


@pytest.fixture
def no_builtins(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hide the papers' claims, so a run covers only registered ones (fast)."""
    monkeypatch.setattr(claims_pkg, "builtin_claims", list)
    monkeypatch.setattr(registry, "builtin_claims", list)


def example_module(monkeypatch: pytest.MonkeyPatch, name: str = "my_claims") -> types.ModuleType:
    """The doc's ``my_claims.py`` as an importable module (its register_claim line runs)."""
    module = types.ModuleType(name)
    monkeypatch.setitem(sys.modules, name, module)
    exec(compile(doc_blocks()[0], f"{DOC}:{name}", "exec"), module.__dict__)
    return module


def wrong_variant(module: types.ModuleType) -> type[Claim]:
    namespace = dict(module.__dict__)
    exec(compile(doc_blocks()[1], f"{DOC}:wrong", "exec"), namespace)
    cls: type[Claim] = namespace["PayoffDominantIsNashAnyGame"]
    return cls


def entry(name: str, value: str) -> importlib.metadata.EntryPoint:
    return importlib.metadata.EntryPoint(name=name, value=value, group=ENTRY_POINT_GROUP)


class Toy(Claim):
    """A minimal claim whose verdicts are set by ``ok``."""

    id = "mine.toy"
    paper = "tests"
    statement = "toy"
    assumptions = ()
    reconstructed = False
    source = Source("extension", "tests")

    def __init__(self, ok: bool = True, claim_id: str = "mine.toy") -> None:
        self.ok = ok
        self.id = claim_id

    def check_symbolic(self) -> CheckResult:
        return verdict(self.ok, "toy symbolic", {})

    def check_numeric(self, rng: np.random.Generator, n: int) -> CheckResult:
        require_instances(n, self.id)
        return verdict(self.ok, f"toy numeric n={n}", {"n": n})

    def check_empirical(
        self, records: Sequence[Mapping[str, Any]], tol: float = 0.05, alpha: float = 0.05
    ) -> CheckResult:
        return skipped("no records")


# --- the worked example ------------------------------------------------------------------


def test_doc_has_the_example_its_wrong_variant_and_the_script() -> None:
    blocks = doc_blocks()
    assert len(blocks) == 3
    assert "register_claim(PayoffDominantIsNash)" in blocks[0]
    assert "run_claim_checks" in blocks[2]
    assert '"arena.claims"' in DOC.read_text(encoding="utf-8")


def test_worked_example_registers_and_its_checks_pass(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    example_module(monkeypatch)
    claim = get_claim(EXAMPLE_ID)
    assert [c.id for c in registered_claims()] == [EXAMPLE_ID]
    assert claim.check_symbolic().status is Status.PASS
    numeric = claim.check_numeric(np.random.default_rng(0), 300)
    assert numeric.status is Status.PASS, numeric
    assert "300/300" in numeric.summary
    assert claim.check_empirical([]).status is Status.SKIPPED
    assert "payoff-dominant" in claim.describe()


def test_wrong_variant_of_the_example_fails_both_checks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    wrong = wrong_variant(example_module(monkeypatch))()
    symbolic = wrong.check_symbolic()
    assert symbolic.status is Status.FAIL and "failed" in symbolic.summary
    numeric = wrong.check_numeric(np.random.default_rng(0), 200)
    assert numeric.status is Status.FAIL and "failed: instance" in numeric.summary
    A = np.array(numeric.evidence["A"])
    i, _ = numeric.evidence["profile"]
    assert A[1 - i, i] > A[i, i]  # a real profitable deviation: a counterexample


def test_example_and_wrong_variant_through_run_claim_checks(
    monkeypatch: pytest.MonkeyPatch, no_builtins: None
) -> None:
    module = example_module(monkeypatch)
    register_claim(wrong_variant(module))
    rows = {r.claim: r for r in run_claim_checks(seed=0, n=100)}
    assert list(rows) == [EXAMPLE_ID, WRONG_ID]
    good, bad = rows[EXAMPLE_ID], rows[WRONG_ID]
    assert (good.symbolic, good.numeric, good.empirical) == ("pass", "pass", "skipped")
    assert (bad.symbolic, bad.numeric) == ("fail", "fail")
    assert bad.evidence.startswith("symbolic: ") and "numeric: failed" in bad.evidence


def test_the_docs_script_prints_the_registered_claims_rows(
    monkeypatch: pytest.MonkeyPatch, no_builtins: None, capsys: pytest.CaptureFixture[str]
) -> None:
    example_module(monkeypatch)
    script = doc_blocks()[2].replace("n=200", "n=20")
    exec(compile(script, f"{DOC}:script", "exec"), {"__name__": "__main__"})
    assert capsys.readouterr().out.split()[:3] == [EXAMPLE_ID, "pass", "pass"]


@pytest.mark.slow
def test_registered_claims_come_after_the_papers_claims() -> None:
    papers = [c.id for c in all_claims()]
    register_claim(Toy)
    assert [c.id for c in all_claims()] == [*papers, "mine.toy"]
    rows = run_claim_checks(seed=0, n=1)
    assert [r.claim for r in rows] == [*papers, "mine.toy"]
    assert all(r.symbolic == "pass" and r.numeric == "pass" for r in rows)


def test_arena_theory_check_lists_registered_claims(
    no_builtins: None, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    register_claim(Toy)
    assert run_cli(["theory", "check", "--json", "--n", "3"]) == 0
    (item,) = json.loads(capsys.readouterr().out)
    assert item["claim"] == "mine.toy" and item["numeric"] == "pass"
    assert item["source"]["kind"] == "extension"


# --- register_claim ----------------------------------------------------------------------


def test_register_takes_a_class_an_instance_or_a_factory(no_builtins: None) -> None:
    assert register_claim(Toy).id == "mine.toy"
    instance = Toy(claim_id="mine.instance")
    register_claim(instance)
    register_claim(lambda: Toy(claim_id="mine.factory"))
    listed = registered_claims()
    assert [c.id for c in listed] == ["mine.toy", "mine.instance", "mine.factory"]
    assert listed[1] is instance  # an instance is listed as is
    assert registered_claims()[0] is not listed[0]  # a class gives fresh instances
    assert get_claim("mine.factory").id == "mine.factory"


def test_duplicate_id_is_rejected_unless_replace(no_builtins: None) -> None:
    register_claim(Toy)
    with pytest.raises(ClaimRegistrationError, match="replace=True") as info:
        register_claim(Toy(ok=False))
    assert isinstance(info.value, TheoryError)
    assert "'mine.toy' is already registered (code)" in str(info.value)
    assert "\n" not in str(info.value)
    register_claim(Toy(ok=False), replace=True)
    assert [r.symbolic for r in run_claim_checks(n=1)] == ["fail"]


def test_replaced_instance_of_the_same_class_is_not_served_from_the_symbolic_cache(
    no_builtins: None,
) -> None:
    register_claim(Toy(ok=True))
    assert run_claim_checks(n=1)[0].symbolic == "pass"
    register_claim(Toy(ok=False), replace=True)
    assert run_claim_checks(n=1)[0].symbolic == "fail"


def test_builtin_ids_cannot_be_taken_even_with_replace() -> None:
    with pytest.raises(ClaimRegistrationError, match="built-in claim's id"):
        register_claim(Toy(claim_id="magic.thm3.2"), replace=True)
    assert get_claim("magic.thm3.2").paper.startswith("MAGIC")


@pytest.mark.parametrize(
    ("obj", "message"),
    [
        (42, "is of type int, not a claim"),
        (lambda: "nope", "returned a str, not a Claim"),
        (lambda: 1 / 0, "failed to build a claim: ZeroDivisionError"),
        (lambda: Toy(claim_id=""), "without an id"),
    ],
)
def test_things_that_are_not_claims_are_rejected(obj: Any, message: str) -> None:
    with pytest.raises(ClaimRegistrationError, match=message):
        register_claim(obj)
    assert registered_claims() == []


def test_unregister(no_builtins: None) -> None:
    register_claim(Toy)
    unregister_claim("mine.toy")
    assert all_claims() == []
    with pytest.raises(ClaimRegistrationError, match="no registered claim has id"):
        unregister_claim("mine.toy")
    with pytest.raises(UnknownClaimError, match=r"mine\.toy"):
        get_claim("mine.toy")


# --- entry points ------------------------------------------------------------------------


def test_entry_point_claim_is_listed_and_loaded_once(
    monkeypatch: pytest.MonkeyPatch, clean_registry: list[EntryPoints], no_builtins: None
) -> None:
    example_module(monkeypatch)
    monkeypatch.setattr(registry, "_REGISTRY", {})  # as if only installed, not registered
    clean_registry[0] = [entry(EXAMPLE_ID, "my_claims:PayoffDominantIsNash")]
    assert [c.id for c in all_claims()] == [EXAMPLE_ID]
    assert run_claim_checks(n=10)[0].numeric == "pass"
    get_claim(EXAMPLE_ID)
    calls = importlib.metadata.entry_points.calls  # type: ignore[attr-defined]
    assert calls == [ENTRY_POINT_GROUP]
    # a script may override an installed plug-in's claim in code
    register_claim(Toy(ok=False, claim_id=EXAMPLE_ID))
    assert get_claim(EXAMPLE_ID).check_symbolic().status is Status.FAIL


def test_code_registration_wins_over_a_later_loaded_entry_point(
    monkeypatch: pytest.MonkeyPatch, clean_registry: list[EntryPoints], no_builtins: None
) -> None:
    example_module(monkeypatch)  # registers the example in code
    clean_registry[0] = [entry(EXAMPLE_ID, "my_claims:PayoffDominantIsNash")]
    assert [c.id for c in all_claims()] == [EXAMPLE_ID]
    assert registry._REGISTRY[EXAMPLE_ID].origin == "code"


@pytest.mark.parametrize(
    ("value", "detail"),
    [
        ("arena_no_such_plugin.claims:Mine", "failed to load: ModuleNotFoundError"),
        ("math:pi", "is of type float, not a claim"),
        ("math:sqrt", "failed to build a claim: TypeError"),
    ],
)
def test_broken_entry_point_is_one_clear_error_every_time(
    clean_registry: list[EntryPoints], value: str, detail: str
) -> None:
    clean_registry[0] = [entry("mine.broken", value)]
    for _ in range(2):  # not silently dropped after the first failure
        with pytest.raises(ClaimPluginError) as info:
            all_claims()
        message = str(info.value)
        assert f"entry point mine.broken = {value}" in message
        assert detail in message
        assert "Fix: correct or uninstall the package that registers it" in message
        assert ENTRY_POINT_GROUP in message and "\n" not in message
    assert not registry._entry_points_loaded


def test_broken_entry_point_is_one_line_from_the_cli(
    clean_registry: list[EntryPoints], capsys: pytest.CaptureFixture[str]
) -> None:
    clean_registry[0] = [entry("mine.broken", "arena_no_such_plugin:Mine")]
    assert run_cli(["theory", "check", "--n", "1"]) == 2
    err = capsys.readouterr().err.strip()
    assert "mine.broken = arena_no_such_plugin:Mine" in err and "Fix:" in err
    assert len(err.splitlines()) == 1


def test_entry_points_that_clash_are_errors(
    monkeypatch: pytest.MonkeyPatch, clean_registry: list[EntryPoints]
) -> None:
    plugin = types.ModuleType("arena_test_plugin")
    plugin.Toy = Toy  # type: ignore[attr-defined]
    plugin.magic = lambda: Toy(claim_id="magic.thm3.2")  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "arena_test_plugin", plugin)
    clean_registry[0] = [entry("a", "arena_test_plugin:Toy"), entry("b", "arena_test_plugin:Toy")]
    with pytest.raises(ClaimPluginError, match=r"given by two arena\.claims entry points"):
        all_claims()
    clean_registry[0] = [entry("m", "arena_test_plugin:magic")]
    with pytest.raises(ClaimPluginError, match="built-in claim's id"):
        all_claims()
    assert registry._REGISTRY == {}  # all or nothing


def test_arena_theory_check_imports_a_script_that_registers_claims(
    tmp_path: Path, no_builtins: None, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    script = tmp_path / "my_claims.py"
    script.write_text(doc_blocks()[0], encoding="utf-8")
    try:
        assert run_cli(["theory", "check", "--json", "--n", "5", "--import", str(script)]) == 0
    finally:
        sys.modules.pop("my_claims", None)
    (item,) = json.loads(capsys.readouterr().out)
    assert (item["claim"], item["symbolic"], item["numeric"]) == (EXAMPLE_ID, "pass", "pass")
    assert run_cli(["theory", "check", "--import", str(tmp_path / "missing.py")]) == 2
    err = capsys.readouterr().err
    assert "missing.py" in err and "Fix:" in err and len(err.strip().splitlines()) == 1
