"""``arena sweep rapo``: the run folder, its records, the claims bridge, bad input."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from analysis.claims_bridge import claims_for_run
from arena.sweep import KIND, SweepConfig, prefill_text, run_rapo_sweep
from envs.errors import ArenaError
from theory.claims import CheckResult

if TYPE_CHECKING:
    from conftest import CliRunner

SMALL = SweepConfig(model="hf:tiny", ks=(0, 2), ts=(0, 3), trials=2, seed=7, max_new_tokens=8)
KEYS = {"k", "t", "refused", "seed_id", "strategy"}


@pytest.fixture(scope="module")
def sweep_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sweep") / "r-sweep"
    run_rapo_sweep(SMALL, out)
    return out


def _records(run: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in (run / "records.jsonl").read_text().splitlines()]


def test_sweep_writes_a_valid_run_folder(sweep_dir: Path) -> None:
    manifest = json.loads((sweep_dir / "manifest.json").read_text())
    assert manifest["kind"] == KIND
    assert manifest["model"] == "hf:tiny"
    assert manifest["weights_sha256"]
    assert (manifest["ks"], manifest["ts"], manifest["trials"], manifest["seed"]) == (
        [0, 2], [0, 3], 2, 7,
    )  # fmt: skip
    records = _records(sweep_dir)
    assert len(records) == 2 * 2 * 2 == manifest["n_records"]
    for record in records:
        assert set(record) == KEYS
        assert isinstance(record["refused"], bool)
        assert record["k"] in (0, 2) and record["t"] in (0, 3)
        assert str(record["seed_id"]).startswith("harmful")
        strategy = str(record["strategy"])
        assert (strategy == "no-revision") if record["k"] == 0 else len(strategy.split("+")) == 2
    assert not list(sweep_dir.parent.glob(".*.partial"))


def test_claims_bridge_reads_the_sweep(sweep_dir: Path) -> None:
    rows = dict(claims_for_run(sweep_dir))
    result = rows["rapo.thm3.1"]
    assert isinstance(result, CheckResult)
    assert result.evidence["n"] == len(_records(sweep_dir))
    assert isinstance(rows["rapo.thm3.1.general"], CheckResult)
    assert isinstance(rows["magic.thm3.2"], str)


def test_sweep_is_reproducible(sweep_dir: Path, tmp_path: Path) -> None:
    again = run_rapo_sweep(SMALL, tmp_path / "again")
    assert again.records == _records(sweep_dir)


def test_prefill_reaches_the_rendered_prompt() -> None:
    from agents.generators import acquire_generator
    from arena.sweep import _prefilled_generate

    handle = acquire_generator("hf:tiny")
    try:
        generate, mode = _prefilled_generate(handle)
        assert mode == "rendered"
        view = generate.__self__  # type: ignore[attr-defined]
        chat = [
            {"role": "user", "content": "hi"},
            {"role": "assistant", "content": prefill_text(2)},
        ]
        text = view.render(chat)
        assert text.endswith(prefill_text(2)) and text.count("<|im_start|>assistant") == 1
        assert handle.inner.render(chat[:1]) + prefill_text(2) == text
    finally:
        handle.close()


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--ks", "0,-1"], "--ks has negative values"),
        (["--trials", "0"], "--trials must be at least 1"),
        (["--ks", "0,x"], "--ks '0,x' is not"),
        (["--model", "hf:/no/such/model/dir"], "error:"),
    ],
)
def test_bad_input_is_one_clear_line(
    args: list[str], needle: str, tmp_path: Path, cli: CliRunner
) -> None:
    out = tmp_path / "bad"
    code, _, err = cli(["sweep", "rapo", "--out", str(out), "--trials", "1", *args])
    err = err.strip()
    assert code == 2
    assert needle in err
    assert err.startswith("error:") and "Traceback" not in err
    assert len(err.splitlines()) == 1
    assert not out.exists()


def test_config_validation_raises_arena_error() -> None:
    with pytest.raises(ArenaError, match="only"):
        SweepConfig(ks=(0, 99)).validate()
