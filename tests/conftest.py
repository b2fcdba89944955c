"""Suite-wide settings: offline, one torch thread, a private ARENA_HOME, GPU skips."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable

import pytest

# Session fixtures for the vLLM tests (one engine, one server; skipped without vLLM).
from vllm_server import vllm_engine, vllm_server  # noqa: F401

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# The tiny model is built once per test session here, never in the user's cache.
os.environ["ARENA_HOME"] = tempfile.mkdtemp(prefix="arena-home-")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    try:
        import torch

        has_cuda = torch.cuda.is_available()
    except ImportError:  # pragma: no cover - torch is a core dependency
        has_cuda = False
    skip_gpu = pytest.mark.skip(reason="needs a CUDA device")
    for item in items:
        if "gpu" in item.keywords and not has_cuda:
            item.add_marker(skip_gpu)


@pytest.fixture(autouse=True, scope="session")
def _one_torch_thread() -> None:
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:  # pragma: no cover
        pass


CliRunner = Callable[[list[str]], tuple[int, str, str]]


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> CliRunner:
    """Run ``arena ARGS`` in-process: returns (exit code, stdout, stderr)."""
    from arena.cli import main

    def run(args: list[str]) -> tuple[int, str, str]:
        capsys.readouterr()
        with pytest.raises(SystemExit) as exit_info:
            main(args)
            raise SystemExit(0)
        captured = capsys.readouterr()
        return int(exit_info.value.code or 0), captured.out, captured.err

    return run
