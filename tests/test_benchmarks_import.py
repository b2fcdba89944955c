"""Every benchmark script still imports against the code it measures.

Why: benchmarks are run by hand, not by the suite, so a rename inside the package (a
helper moved to another module) silently breaks them until someone needs a figure. This
loads each ``benchmarks/*.py`` as a module (``__name__`` is not ``"__main__"``, so nothing
is measured), restoring the environment and ``sys.path`` the scripts adjust at import.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import pytest

BENCHMARKS = sorted((Path(__file__).resolve().parents[1] / "benchmarks").glob("*.py"))


def test_there_are_benchmarks() -> None:
    assert len(BENCHMARKS) >= 5, BENCHMARKS


@pytest.mark.parametrize("script", BENCHMARKS, ids=lambda path: path.name)
def test_benchmark_imports(script: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # monkeypatch restores os.environ and sys.path, which the scripts change at import.
    monkeypatch.setattr(os, "environ", os.environ.copy())
    monkeypatch.setattr(sys, "path", list(sys.path))
    spec = importlib.util.spec_from_file_location(f"_benchmark_{script.stem}", script)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)  # dataclasses look it up there
    spec.loader.exec_module(module)
    assert callable(getattr(module, "main", None)), f"{script.name} has no main()"
