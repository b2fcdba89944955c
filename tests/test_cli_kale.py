"""``arena kale synth/train/eval`` end to end on a very small setting, and resume."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from conftest import CliRunner

pytest.importorskip("trl")


def test_synth_writes_rows_and_train_names_a_bad_line(cli: CliRunner, tmp_path: Path) -> None:
    data = tmp_path / "data.jsonl"
    code, out, _ = cli(["kale", "synth", "--kg", "builtin", "--out", str(data)])
    assert code == 0, out
    lines = data.read_text().splitlines()
    assert len(lines) == 400 and "Wrote 400 questions" in out
    row = json.loads(lines[0])
    assert {"id", "question", "answer", "hops", "split", "path", "rationale", "probes"} <= set(row)
    bad = tmp_path / "bad.jsonl"
    bad.write_text(lines[0] + "\n" + lines[1].replace('"hops": ', '"hops": -') + "\n")
    code, out, err = cli(["kale", "train", "--data", str(bad), "--out", str(tmp_path / "r")])
    assert code == 2
    assert "line 2" in out + err and "'hops'" in out + err
    assert not (tmp_path / "r").exists()  # nothing half-written


@pytest.mark.parametrize(
    ("flag", "value", "fix"),
    [
        ("--max-questions", "0", "--max-questions 24"),
        ("--finetune-steps", "-1", "--finetune-steps 30"),
        ("--pretrain-steps", "-1", "--pretrain-steps 150"),
        ("--kl-weight", "-1", "--kl-weight 1.0"),
        ("--teacher", "oracle", "--teacher self"),
    ],
)
def test_train_flag_errors_name_the_flag_and_a_value(
    cli: CliRunner, tmp_path: Path, flag: str, value: str, fix: str
) -> None:
    args = ["kale", "train", "--data", str(tmp_path / "d.jsonl"), "--out", str(tmp_path / "r")]
    code, out, err = cli([*args, flag, value])
    assert code == 2
    line = out + err
    assert f"{flag} must" in line or f"{flag} {value!r}" in line, line
    assert f"Fix: pass e.g. {fix}" in line or f"Fix: pass {fix}" in line, line
    assert "fix it" not in line


def test_train_runs_both_arms_by_default(
    cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """So that `arena kale eval` has SFT and KA to compare."""
    import arena.train.kale as kale

    seen: list[tuple[str, ...]] = []

    def fake(config: kale.KaleConfig, progress: object = None) -> dict[str, object]:
        seen.append(config.losses)
        pre = {"steps": 0, "probe_accuracy": 0.0, "stopped_by": "step cap"}
        return {"status": "completed", "pretrain": pre, "units": {}}

    monkeypatch.setattr(kale, "train_kale", fake)
    code, out, err = cli(["kale", "train", "--out", str(tmp_path / "r")])
    assert code == 0, out + err
    assert seen == [("sft", "ka")]


def test_synth_reads_a_triple_file(cli: CliRunner, tmp_path: Path) -> None:
    triples = tmp_path / "kg.tsv"
    rows = ["head\trelation\ttail"]
    for k in range(30):
        rows += [f"p{k}\tborn_in\tc{k % 6}", f"c{k % 6}\tlocated_in\tn{k % 3}"]
    triples.write_text("\n".join(rows) + "\n")
    out_file = tmp_path / "d.jsonl"
    code, out, _ = cli(
        ["kale", "synth", "--kg", str(triples), "--questions", "20", "--out", str(out_file)]
    )
    assert code == 0, out
    records = [json.loads(x) for x in out_file.read_text().splitlines()]
    assert records and all(r["hops"] >= 2 and len(r["probes"]) == r["hops"] for r in records)


@pytest.mark.slow
def test_train_eval_and_theory_check_end_to_end_with_resume(cli: CliRunner, tmp_path: Path) -> None:
    data = tmp_path / "data.jsonl"
    assert cli(["kale", "synth", "--out", str(data)])[0] == 0
    run = tmp_path / "k1"
    small = [
        "--data",
        str(data),
        "--out",
        str(run),
        "--seeds",
        "0",
        "--max-questions",
        "8",
        "--pretrain-steps",
        "2",
        "--finetune-steps",
        "1",
        "--max-new-tokens",
        "16",
        "--no-save-models",
    ]
    code, out, err = cli(["kale", "train", "--loss", "sft", *small])
    assert code == 0, out + err
    assert (run / "results" / "sft-seed0.jsonl").is_file()
    # a second invocation on the same --out adds the KA arm from the same start
    start = (run / "start" / "model.safetensors").stat().st_mtime_ns
    code, out, err = cli(["kale", "train", "--loss", "sft,ka", *small])
    assert code == 0, out + err
    assert (run / "start" / "model.safetensors").stat().st_mtime_ns == start
    manifest = json.loads((run / "kale.json").read_text())
    assert set(manifest["units"]) == {"sft-seed0", "ka-seed0"}
    assert manifest["pretrain"]["stopped_by"] in ("target", "step cap")
    # other settings on the same folder are refused, not mixed in
    code, out, err = cli(["kale", "train", *small[:-1], "--max-hops", "2"])
    assert code == 2 and "other settings" in out + err
    code, out, _ = cli(["kale", "eval", str(run)])
    assert code == 0, out
    assert "P(wrong | known)" in out and "kale.multihop-gain" in out
    assert (run / "report.md").is_file()
    records = [
        json.loads(x)
        for x in (run / "claim_records" / "kale.known-incorrect.jsonl").read_text().splitlines()
    ]
    assert records and {r["method"] for r in records} == {"sft", "ka"}
    assert all(r["question_id"].startswith("0:") for r in records)
    code, out, _ = cli(["theory", "check", "--run", str(run)])
    assert code == 0, out
    assert "kale.multihop-gain" in out and "insufficient" in out.lower()
    assert not list(run.rglob(".*.tmp"))
