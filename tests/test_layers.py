"""The import contract between the layers: each layer may only import the ones below it.

    theory   (pure maths)          -> no torch, transformers, envs, agents, arena, analysis
    envs     (games, judges, data) -> no agents, arena, analysis
    agents   (policies, backends)  -> no arena, analysis
    analysis (reports over runs)   -> no arena, except arena.store and arena.results: the
                                      read side of a tournament folder, which itself
                                      imports nothing of the runner, agents or CLI
    arena    (runner, CLI)         -> no analysis, except arena/cli*.py: the CLI is the
                                      composition root that wires reports into commands

Two independent checks, because each misses what the other sees:

* **runtime**: every module of a layer is imported in a *fresh* interpreter
  (``sys.executable -c``), so what this test process already imported hides nothing, and
  ``sys.modules`` is then inspected. This catches transitive imports (a third-party
  module or a sibling that pulls in a forbidden layer).
* **static**: every ``.py`` file of a layer is parsed with :mod:`ast` and every import is
  checked, including imports inside functions and under ``if TYPE_CHECKING:`` (a lazy
  import escapes the runtime check until the function runs; a type-only import is still
  a dependency on the higher layer), and ``importlib.import_module("...")`` /
  ``__import__("...")`` with a literal name. Names computed at run time (e.g. a registry
  dict of module paths) are beyond a static check.

The last tests run both checkers on a throw-away package that breaks the contract, to
prove they report violations rather than pass vacuously.
"""

from __future__ import annotations

import ast
import fnmatch
import json
import os
import subprocess
import sys
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Rule:
    """``package`` must not import any of ``forbidden`` (top-level names).

    Files whose name matches one of ``exempt`` (glob, e.g. ``cli*.py``) are skipped.
    """

    package: str
    forbidden: frozenset[str]
    exempt: tuple[str, ...] = ()
    allowed: frozenset[str] = frozenset()  # whole module names that may be imported

    def __str__(self) -> str:
        return self.package


RULES = [
    Rule("theory", frozenset({"torch", "transformers", "envs", "agents", "arena", "analysis"})),
    Rule("envs", frozenset({"agents", "arena", "analysis"})),
    Rule("agents", frozenset({"arena", "analysis"})),
    Rule("analysis", frozenset({"arena"}), allowed=frozenset({"arena.store", "arena.results"})),
    Rule("arena", frozenset({"analysis"}), exempt=("cli*.py",)),
]


# --------------------------------------------------------------------------- static check


@dataclass(frozen=True)
class Violation:
    path: Path
    line: int
    imported: str

    def __str__(self) -> str:
        try:
            shown = self.path.relative_to(ROOT)
        except ValueError:
            shown = self.path
        return f"{shown}:{self.line}: imports {self.imported}"


def _dotted_name(path: Path, root: Path) -> tuple[list[str], bool]:
    """The module's dotted parts relative to ``root``, and whether it is a package."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        return parts[:-1], True
    return parts, False


def imported_names(tree: ast.AST, parts: list[str], is_package: bool) -> Iterator[tuple[int, str]]:
    """Every absolute module name ``tree`` imports, with its line (anywhere in the file)."""
    package = parts if is_package else parts[:-1]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            yield node.lineno, module
        elif isinstance(node, ast.Call) and node.args:
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            first = node.args[0]
            if (
                name in ("import_module", "__import__")
                and isinstance(first, ast.Constant)
                and isinstance(first.value, str)
                and not first.value.startswith(".")
            ):
                yield node.lineno, first.value


def static_violations(package_dir: Path, rule: Rule) -> list[Violation]:
    """Imports of a forbidden layer in any ``.py`` file under ``package_dir``."""
    root = package_dir.parent
    found = []
    for path in sorted(package_dir.rglob("*.py")):
        if "__pycache__" in path.parts or any(fnmatch.fnmatch(path.name, p) for p in rule.exempt):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        parts, is_package = _dotted_name(path, root)
        for line, name in imported_names(tree, parts, is_package):
            if name in rule.allowed:
                continue
            if name.split(".")[0] in rule.forbidden:
                found.append(Violation(path, line, name))
    return found


@pytest.mark.parametrize("rule", RULES, ids=str)
def test_static_imports_respect_layers(rule: Rule) -> None:
    package_dir = ROOT / rule.package
    assert (package_dir / "__init__.py").is_file(), f"no package at {package_dir}"
    violations = static_violations(package_dir, rule)
    assert not violations, f"{rule.package} must not import {sorted(rule.forbidden)}:\n" + (
        "\n".join(map(str, violations))
    )


# --------------------------------------------------------------------------- runtime check

# Imports every module of a package in turn (skipping __main__ and exempt files) and
# reports, per module, the forbidden top-level packages that first appeared in
# sys.modules while importing it. A module that cannot be imported because a third-party
# dependency is missing (an optional extra) is listed apart; any other error fails.
_RUNTIME_PROBE = r"""
import fnmatch, importlib, json, pkgutil, sys
package, forbidden, exempt = sys.argv[1], set(json.loads(sys.argv[2])), json.loads(sys.argv[3])
allowed = set(json.loads(sys.argv[4]))
allowed |= {name.rsplit(".", 1)[0] for name in allowed}  # their parent packages
ours = {"theory", "envs", "agents", "arena", "analysis", package}

def loaded():
    return {name.split(".")[0] for name in sys.modules if name not in allowed} & forbidden

report, missing = {}, {}
startup = loaded()
if startup:
    report["<interpreter startup>"] = sorted(startup)

def load(name):
    before = loaded()
    try:
        importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if (exc.name or "").split(".")[0] in ours:
            raise
        missing[name] = exc.name
    new = loaded() - before
    if new:
        report[name] = sorted(new)

load(package)
for info in pkgutil.walk_packages(sys.modules[package].__path__, package + "."):
    leaf = info.name.rsplit(".", 1)[-1]
    if leaf == "__main__" or any(fnmatch.fnmatch(leaf + ".py", p) for p in exempt):
        continue
    load(info.name)
print(json.dumps({"violations": report, "missing": missing}))
"""


def runtime_report(rule: Rule, extra_path: Path | None = None) -> dict[str, dict[str, object]]:
    """Run the probe for ``rule`` in a fresh interpreter (optionally with ``extra_path``)."""
    env = dict(os.environ)
    paths = [str(p) for p in (extra_path, ROOT) if p is not None]
    env["PYTHONPATH"] = os.pathsep.join([*paths, env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            _RUNTIME_PROBE,
            rule.package,
            json.dumps(sorted(rule.forbidden)),
            json.dumps(list(rule.exempt)),
            json.dumps(sorted(rule.allowed)),
        ],
        cwd=extra_path or ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, f"importing {rule.package} failed:\n{result.stderr}"
    report: dict[str, dict[str, object]] = json.loads(result.stdout.strip().splitlines()[-1])
    return report


@pytest.mark.parametrize("rule", RULES, ids=str)
def test_runtime_imports_respect_layers(rule: Rule) -> None:
    report = runtime_report(rule)
    if report["missing"]:
        # Not a layer violation, but these modules were not import-checked (the static
        # check above still covers their source).
        warnings.warn(
            f"{rule.package}: not imported (missing optional dependency): {report['missing']}",
            stacklevel=1,
        )
    violations = report["violations"]
    assert not violations, (
        f"{rule.package} must not import {sorted(rule.forbidden)}; importing these modules "
        f"loaded forbidden packages: {violations}"
    )


# --------------------------------------------------------------------------- the checkers


@pytest.fixture
def broken_package(tmp_path: Path) -> Path:
    """A package ``layerprobe`` that breaks a ``no envs, no arena`` rule in several ways."""
    pkg = tmp_path / "layerprobe"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text('"""A clean package root."""\n')
    (pkg / "clean.py").write_text(
        "from __future__ import annotations\n"
        "import json\n"
        "from . import sub\n"  # relative imports resolve inside layerprobe: allowed
        "from .sub import deep\n"
    )
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "sub" / "deep.py").write_text("import os\nfrom .. import clean\n")
    (pkg / "eager.py").write_text("import envs.errors\n")  # line 1: a top-level import
    (pkg / "lazy.py").write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    from arena import match\n"  # line 3: type-only
        "def run():\n"
        "    from arena.cli import main\n"  # line 5: inside a function
        "    import importlib\n"
        "    return importlib.import_module('envs.seeding')\n"  # line 7: dynamic
    )
    (pkg / "cli_root.py").write_text("import arena\n")  # exempt below
    return pkg


PROBE_RULE = Rule("layerprobe", frozenset({"envs", "arena"}), exempt=("cli*.py",))


def test_static_checker_reports_each_violation(broken_package: Path) -> None:
    found = {
        (v.path.relative_to(broken_package).as_posix(), v.line, v.imported)
        for v in static_violations(broken_package, PROBE_RULE)
    }
    assert found == {
        ("eager.py", 1, "envs.errors"),
        ("lazy.py", 3, "arena"),
        ("lazy.py", 5, "arena.cli"),
        ("lazy.py", 7, "envs.seeding"),
    }


def test_static_checker_resolves_relative_imports(tmp_path: Path) -> None:
    # Inside a package named like a forbidden layer, "from . import x" is that package.
    pkg = tmp_path / "envs_like"
    (pkg / "inner").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "inner" / "__init__.py").write_text("from .. import x\nfrom ..y import z\n")
    (pkg / "inner" / "m.py").write_text("from . import a\nfrom .b import c\n")
    tree = ast.parse((pkg / "inner" / "m.py").read_text())
    assert [n for _, n in imported_names(tree, ["envs_like", "inner", "m"], False)] == [
        "envs_like.inner",
        "envs_like.inner.b",
    ]
    tree = ast.parse((pkg / "inner" / "__init__.py").read_text())
    assert [n for _, n in imported_names(tree, ["envs_like", "inner"], True)] == [
        "envs_like",
        "envs_like.y",
    ]
    assert static_violations(pkg, Rule("envs_like", frozenset({"envs_like2", "y"}))) == []


def test_runtime_checker_reports_violations(broken_package: Path) -> None:
    report = runtime_report(PROBE_RULE, extra_path=broken_package.parent)
    # lazy.py's imports only run when run() is called (the static check's job), and
    # cli_root.py is exempt: only the eager import shows.
    assert report == {"violations": {"layerprobe.eager": ["envs"]}, "missing": {}}


def test_allowed_modules_pass_and_their_siblings_do_not(tmp_path: Path) -> None:
    pkg = tmp_path / "readerprobe"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "reads.py").write_text("import arena.store\n")
    (pkg / "runs.py").write_text("from arena import match\n")
    rule = Rule("readerprobe", frozenset({"arena"}), allowed=frozenset({"arena.store"}))
    found = {(v.path.name, v.imported) for v in static_violations(pkg, rule)}
    assert found == {("runs.py", "arena")}
    report = runtime_report(rule, extra_path=tmp_path)
    assert set(report["violations"]) == {"readerprobe.runs"}
