"""The GPU check script without a GPU: its shell syntax, its guards and its dry-run logic.

``benchmarks/gpu_check.sh`` is meant for an H100/H200 machine; CI has none, so what can be
checked on a CPU is: the shell parses; it refuses to run (exit 2, one line saying why)
without a GPU unless ``--dry-run``, and without its packages and no wheels; and the
Python half runs end to end at toy sizes (model from config, generation paths on the
same prompts, ratios vs plain generate) and reports what it measured.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "gpu_check.sh"
sys.path.insert(0, str(ROOT / "benchmarks"))


def test_the_shell_script_parses() -> None:
    bash = shutil.which("bash")
    assert bash is not None
    result = subprocess.run([bash, "-n", str(SCRIPT)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_a_shell_syntax_error_would_be_caught(tmp_path: Path) -> None:
    """The check above is not vacuous: a broken copy of the script fails ``bash -n``."""
    broken = tmp_path / "broken.sh"
    broken.write_text(SCRIPT.read_text().replace("fi\n", "", 1))
    result = subprocess.run(["bash", "-n", str(broken)], capture_output=True, text=True)
    assert result.returncode != 0


def _run_script(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(SCRIPT), *args],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHON": sys.executable, "ARENA_HOME": str(tmp_path), **env},
        timeout=120,
    )


@pytest.mark.slow
@pytest.mark.skipif(__import__("torch").cuda.is_available(), reason="checks the no-GPU refusal")
def test_without_a_gpu_the_script_refuses_unless_dry_run(tmp_path: Path) -> None:
    result = _run_script(tmp_path)
    assert result.returncode == 2
    assert "no CUDA device" in result.stderr and "--dry-run" in result.stderr


def test_missing_packages_without_wheels_is_one_clear_error(tmp_path: Path) -> None:
    fake = tmp_path / "python"
    # A python that lacks every package the check needs: find_spec always says None.
    fake.write_text(
        "#!/usr/bin/env bash\n"
        f'if [ "$1" = "-" ]; then echo "trl datasets"; exit 0; fi\nexec {sys.executable} "$@"\n'
    )
    fake.chmod(0o755)
    result = _run_script(tmp_path, "--dry-run", PYTHON=str(fake), WHEELS=str(tmp_path / "none"))
    assert result.returncode == 2
    assert "missing Python packages (trl datasets)" in result.stderr
    assert "fix:" in result.stderr


@pytest.mark.slow
def test_the_dry_run_measures_every_cpu_path(tmp_path: Path) -> None:
    import gpu_check

    out = tmp_path / "report.json"
    code = gpu_check.main(["--dry-run", "--coevo-steps", "0", "--json", str(out)])
    assert code == 0
    report = json.loads(out.read_text())
    assert report["device"] == "cpu (dry run)"
    assert 0 < report["parameters"] < 1_000_000
    generation = report["generation"]
    plain, ours = generation["plain"], generation["arena-hf"]
    assert plain["tokens"] > 0 and plain["ratio_vs_plain"] == pytest.approx(1.0)
    assert ours["tokens_per_s"] > 0 and ours["ratio_vs_plain"] > 0
    # Greedy decoding of the same model on the same prompts: the same texts.
    assert ours["same_as_plain_pct"] == 100.0
    assert generation["arena-hf-continuous"]["same_as_plain_pct"] == 100.0
    assert "skipped" in generation["continuous"]
    assert report["best_ratio"] == max(
        e["ratio_vs_plain"] for k, e in generation.items() if k != "plain" and "ratio_vs_plain" in e
    )


def test_agreement_counts_divergent_rows() -> None:
    """The text-agreement figure drops when a path's output differs (a wrong variant)."""
    import gpu_check
    from transformers import PreTrainedTokenizerFast

    from agents.tiny import ensure_tiny_model

    tokenizer = PreTrainedTokenizerFast.from_pretrained(ensure_tiny_model())
    reference = [tokenizer("hello world").input_ids, tokenizer("plan step").input_ids]
    assert gpu_check._agreement(tokenizer, reference, reference) == 1.0
    changed = [reference[0], tokenizer("plan stop").input_ids]
    assert gpu_check._agreement(tokenizer, changed, reference) == 0.5
