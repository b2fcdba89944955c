"""Session fixtures for the vLLM tests: one engine and one OpenAI-compatible server.

Starting vLLM costs about 30 s (engine) and 35 s (server) on a CPU, so each is started
at most once per test run and shared by every test that asks for it; both skip cleanly,
with the reason, where ``import vllm`` fails (the suite then still passes). Registered in
``tests/conftest.py`` (``pytest_plugins``-style import), so test modules just name the
fixture.

* ``vllm_engine``: a shared :data:`ENGINE_SPEC` generator handle (the in-process backend).
* ``vllm_server``: vLLM's OpenAI-compatible server on the tiny model, on 127.0.0.1 and a
  free port, started as a child process and stopped by its PID (SIGTERM, then SIGKILL
  after 30 s); its URL (``http://127.0.0.1:PORT/v1``) is the fixture's value and it
  serves the model as ``tiny``.

The CPU build reads ``VLLM_CPU_KVCACHE_SPACE`` (GiB of KV cache; 1 is plenty for the
tiny model) and must not contact the Hub (``HF_HUB_OFFLINE=1``).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

VLLM_ENV = {"HF_HUB_OFFLINE": "1", "VLLM_CPU_KVCACHE_SPACE": "1"}
#: The session engine. Eager: no compilation at start-up (about 90 s saved on a cold
#: cache on a busy 2-core machine); these tests check results, not decoding speed. Tests
#: that want to share it (agents, judges) name this spec's model and loader options.
ENGINE_OPTIONS = "enforce_eager=true"
ENGINE_SPEC = f"vllm:tiny?{ENGINE_OPTIONS}"
SERVER_READY_S = 180.0


def skip_without_vllm() -> None:
    """Skip the calling test or fixture, with the reason, where vLLM is not installed."""
    try:
        import vllm  # noqa: F401
    except Exception as exc:  # ImportError, or a broken install (a bad torch build)
        pytest.skip(
            f"vLLM is not installed or does not import here ({type(exc).__name__}: "
            f"{str(exc)[:120]}); install arena-safety[vllm-cpu]"
        )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def tokenizer_only_dir(model: str | Path, out: Path) -> Path:
    """A copy of ``model``'s tokenizer files alone, for the server's ``--tokenizer``.

    Why: the server loads its tokenizer with ``AutoTokenizer``, which, next to a Qwen2
    ``config.json``, swaps in Qwen2's tokenizer class; that class splits the tiny model's
    text differently from the ``PreTrainedTokenizerFast`` the hf and vllm backends use
    (other prompt ids, so other greedy texts). Without a ``config.json`` beside them,
    ``AutoTokenizer`` builds the tokenizer the files describe.
    """
    out.mkdir(parents=True, exist_ok=True)
    for path in Path(model).iterdir():
        if path.name.startswith(("tokenizer", "special_tokens", "chat_template")):
            shutil.copy(path, out / path.name)
    return out


def server_command(
    model: str,
    port: int,
    dtype: str = "float32",
    *,
    eager: bool = True,
    tokenizer: Path | None = None,
) -> list[str]:
    """vLLM's OpenAI server (``vllm serve`` fails for the distribution named vllm-cpu).

    ``dtype`` float32 by default: the CPU build would otherwise downcast the float32 tiny
    model to bfloat16, and its greedy texts would then differ from ``hf:tiny``'s.
    ``eager`` skips compilation at start-up (see :data:`ENGINE_OPTIONS`); a benchmark
    wants it off. ``tokenizer``: see :func:`tokenizer_only_dir`.
    """
    return [
        sys.executable,
        "-m",
        "vllm.entrypoints.openai.api_server",
        "--model",
        model,
        "--served-model-name",
        "tiny",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--generation-config",
        "vllm",  # no sampling defaults from the checkpoint: ours only
        "--dtype",
        dtype,
        "--load-format",
        "safetensors",
        "--max-model-len",
        "2048",
        "--seed",
        "0",
        *(["--enforce-eager"] if eager else []),
        *(["--tokenizer", str(tokenizer)] if tokenizer is not None else []),
    ]


def stop(process: subprocess.Popen[Any]) -> None:
    """SIGTERM by PID (vLLM's server shuts down cleanly on it), SIGKILL if it hangs."""
    if process.poll() is not None:
        return
    os.kill(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.kill(process.pid, signal.SIGKILL)
        process.wait()


@pytest.fixture(scope="session")
def vllm_engine() -> Iterator[Any]:
    """One ``vllm:tiny`` generator handle for the whole run (closed at its end)."""
    skip_without_vllm()
    for name, value in VLLM_ENV.items():
        os.environ.setdefault(name, value)
    from agents.generators import acquire_generator

    handle = acquire_generator(ENGINE_SPEC)
    try:
        yield handle
    finally:
        handle.close()


@pytest.fixture(scope="session")
def vllm_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """vLLM's OpenAI-compatible server on the tiny model, started once, stopped by PID."""
    skip_without_vllm()
    from agents.tiny import ensure_tiny_model

    model = str(ensure_tiny_model())
    port = free_port()
    env = {**os.environ, **VLLM_ENV}
    folder = tmp_path_factory.mktemp("vllm")
    command = server_command(model, port, tokenizer=tokenizer_only_dir(model, folder / "tok"))
    # A file, not a pipe: nobody reads the server's chatter, and a full pipe blocks it.
    log_path = folder / "server.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/v1"
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        deadline = time.monotonic() + SERVER_READY_S
        while True:
            if process.poll() is not None:
                tail = log_path.read_text(errors="replace")[-2000:]
                pytest.fail(f"vLLM's server exited with {process.returncode}: {tail}")
            try:
                with opener.open(f"{url}/models", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"vLLM's server was not ready within {SERVER_READY_S:g} s")
            time.sleep(0.5)
        yield url
    finally:
        stop(process)
