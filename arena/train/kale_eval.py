"""``arena kale eval``: SFT vs KA from a run folder's per-question results.

Reads ``OUT/results/*.jsonl`` (written by :mod:`arena.train.kale`), and:

* builds the table: per method (``start`` = the shared pre-trained start, i.e. *before*
  fine-tuning; then each arm), accuracy on ``train`` (fit), ``test-id`` and
  ``test-ood`` questions, the ``known`` rate and ``P(wrong | known)`` on held-out
  questions; each cell ``k/n = rate [95% Wilson interval]`` pooled over questions ×
  seeds (the seeds share questions, so the pooled interval is somewhat narrower than a
  question-level one would be: read it as a guide, the claims below are the test);
* writes ``claim_records/kale.multihop-gain.jsonl`` and
  ``claim_records/kale.known-incorrect.jsonl``: one record per (method, seed, held-out
  question) for the ``sft`` and ``ka`` arms, ``question_id = "SEED:QID"`` so KA and
  SFT pair per seed, and ``cluster = QID``: a question's answers after several seeds are
  correlated, so the claims widen their intervals by the design effect and need 30
  distinct questions, not 30 copies (:data:`theory.claims.kale.empirical.RECORD_SCHEMA`);
* runs both claims on those records and writes ``report.md`` with the table, the
  verdicts and one sentence on whether the paper's effect shows at this scale.

Held-out = ``test-id`` + ``test-ood``: accuracy on the training questions measures fit,
not the multi-hop skill the claims are about.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from envs.errors import ArenaError

HELD_OUT = ("test-id", "test-ood")
CLAIMS = ("kale.multihop-gain", "kale.known-incorrect")
COLUMNS = ("train", "test-id", "test-ood", "known (held-out)", "P(wrong | known)")


def load_results(run: Path) -> dict[str, list[dict[str, Any]]]:
    """``method -> records`` from ``run/results`` (``start`` has seed ``None``)."""
    folder = Path(run) / "results"
    if not folder.is_dir():
        raise ArenaError(
            f"{run} has no results/ folder.", f"run `arena kale train --out {run}` first."
        )
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for path in sorted(folder.glob("*.jsonl")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ArenaError(
                    f"{path}: line {number} is not JSON ({exc.msg}).",
                    "delete that file and re-run `arena kale train`.",
                ) from exc
            method = record.get("method", "start") if path.stem != "start" else "start"
            out[method].append({**record, "method": method})
    if not out:
        raise ArenaError(f"{run}/results has no result files.", "run `arena kale train`.")
    return dict(out)


def _rate(k: int, n: int, alpha: float = 0.05) -> dict[str, Any]:
    from theory.claims.stats import wilson_bounds

    lo, hi = wilson_bounds(k, n, alpha)
    return {"k": k, "n": n, "rate": k / n if n else None, "interval": [float(lo), float(hi)]}


def summarize(results: dict[str, list[dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    """Per method: each column of :data:`COLUMNS` as ``{k, n, rate, interval}``."""
    table: dict[str, dict[str, Any]] = {}
    order = ["start", *sorted(m for m in results if m != "start")]
    for method in order:
        records = results.get(method, [])
        if not records:
            continue
        row: dict[str, Any] = {}
        for split in ("train", "test-id", "test-ood"):
            part = [r for r in records if r["split"] == split]
            row[split] = _rate(sum(bool(r["correct"]) for r in part), len(part))
        held = [r for r in records if r["split"] in HELD_OUT and r["hops"] >= 2]
        known = [r for r in held if r["known"]]
        row["known (held-out)"] = _rate(len(known), len(held))
        row["P(wrong | known)"] = _rate(sum(not r["correct"] for r in known), len(known))
        row["seeds"] = sorted({r.get("seed") for r in records if r.get("seed") is not None})
        table[method] = row
    return table


def cell(value: dict[str, Any]) -> str:
    if not value["n"]:
        return "n=0"
    lo, hi = value["interval"]
    return f"{value['k']}/{value['n']} = {value['rate']:.2f} [{lo:.2f}, {hi:.2f}]"


def claim_records(results: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    """The two claims' records: SFT and KA arms, held-out questions, paired by seed:qid."""
    rows = []
    for method in ("sft", "ka"):
        for r in results.get(method, []):
            if r["split"] not in HELD_OUT:
                continue
            rows.append(
                {
                    "method": method,
                    "hops": int(r["hops"]),
                    "correct": bool(r["correct"]),
                    "known": bool(r["known"]),
                    "split": r["split"],
                    "question_id": f"{r['seed']}:{r['question_id']}",
                    # one question after several seeds: correlated answers, one cluster
                    "cluster": str(r["question_id"]),
                }
            )
    return {
        "kale.multihop-gain": [{k: v for k, v in r.items() if k != "known"} for r in rows],
        "kale.known-incorrect": rows,
    }


def verdicts(records: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """Each claim's :class:`~theory.claims.CheckResult` on the records (or a reason)."""
    from theory.claims import get_claim

    out: dict[str, Any] = {}
    for claim_id in CLAIMS:
        rows = records.get(claim_id, [])
        out[claim_id] = get_claim(claim_id).check_empirical(rows) if rows else "no records"
    return out


def _held_out_accuracy(records: Sequence[dict[str, Any]]) -> float:
    held = [r for r in records if r["split"] in HELD_OUT and r["hops"] >= 2]
    return sum(bool(r["correct"]) for r in held) / len(held) if held else float("nan")


def conclusion(results: dict[str, list[dict[str, Any]]], checks: dict[str, Any]) -> str:
    """One honest sentence built from the verdicts and the measured accuracies."""
    if "sft" not in results or "ka" not in results:
        return "Only one arm was run: the comparison needs both --loss sft and --loss ka."
    names = {c: v if isinstance(v, str) else v.status.name for c, v in checks.items()}
    gain, known = names["kale.multihop-gain"], names["kale.known-incorrect"]
    acc = {m: _held_out_accuracy(results[m]) for m in ("sft", "ka")}
    measured = f"held-out multi-hop accuracy SFT {acc['sft']:.2f}, KA {acc['ka']:.2f}"
    if gain == "PASS" and known == "PASS":
        return (
            f"The paper's effect shows at this scale ({measured}): KA beats SFT on held-out "
            "multi-hop accuracy and lowers the known&incorrect rate, both significantly."
        )
    text = (
        f"The paper's effect is not established at this scale ({measured}; multi-hop gain: "
        f"{gain}; known&incorrect reduction: {known})."
    )
    if "INSUFFICIENT" in (gain, known):
        text += " More seeds or questions (--seeds, --max-questions) would be needed to decide."
    if max(acc.values()) < 0.5:
        text += (
            " Both arms answer most held-out multi-hop questions wrongly, so the run says more "
            "about a tiny model's composition than about KALE."
        )
    return text


def write_outputs(run: Path) -> tuple[dict[str, dict[str, Any]], dict[str, Any], str]:
    """Table data, claim verdicts and conclusion; writes claim_records/ and report.md."""
    from arena.train.kale import write_json, write_jsonl

    run = Path(run)
    results = load_results(run)
    table = summarize(results)
    records = claim_records(results)
    folder = run / "claim_records"
    folder.mkdir(exist_ok=True)
    for claim_id, rows in records.items():
        if rows:
            write_jsonl(folder / f"{claim_id}.jsonl", rows)
    checks = verdicts(records)
    text = conclusion(results, checks)
    report = markdown(run, table, checks, text)
    tmp = run / ".report.md.tmp"
    tmp.write_text(report, encoding="utf-8")
    tmp.replace(run / "report.md")
    write_json(
        run / "eval.json",
        {"table": table, "conclusion": text, "verdicts": {c: _plain(v) for c, v in checks.items()}},
    )
    return table, checks, text


def _plain(result: Any) -> Any:
    if isinstance(result, str):
        return result
    return {"status": result.status.name, "summary": result.summary}


def verdict_line(result: Any) -> str:
    if isinstance(result, str):
        return result
    return f"{result.status.name}: {result.summary}"


def markdown(run: Path, table: dict[str, dict[str, Any]], checks: dict[str, Any], text: str) -> str:
    manifest_path = run / "kale.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.is_file() else {}
    lines = [f"# KALE: SFT vs KA on {run}", ""]
    pre = manifest.get("pretrain") or {}
    if pre:
        lines += [
            f"Shared start: {pre.get('steps')} single-hop pre-training steps, probe accuracy "
            f"{pre.get('probe_accuracy', 0):.2f} (target {pre.get('target')}, stopped by "
            f"{pre.get('stopped_by')}). Slice: {manifest.get('slice', {}).get('splits')}, "
            f"{manifest.get('slice', {}).get('facts')} facts.",
            "",
        ]
    lines += [
        "Cells: correct/n = rate [95% Wilson interval], pooled over questions x seeds. "
        "`start` is the shared start before fine-tuning.",
        "",
        "| method | seeds | " + " | ".join(c.replace("|", "\\|") for c in COLUMNS) + " |",
        "|" + "---|" * (len(COLUMNS) + 2),
    ]
    for method, row in table.items():
        seeds = ",".join(str(s) for s in row["seeds"]) or "-"
        lines.append(f"| {method} | {seeds} | " + " | ".join(cell(row[c]) for c in COLUMNS) + " |")
    lines += ["", "## Claims (held-out multi-hop questions, paired by seed:question)", ""]
    for claim_id, result in checks.items():
        lines.append(f"* `{claim_id}`: {verdict_line(result)}")
    lines += ["", "## Conclusion", "", text, ""]
    return "\n".join(lines)


def table_rows(table: dict[str, dict[str, Any]]) -> Sequence[tuple[str, ...]]:
    """Plain-string rows for a rich table (method, seeds, then :data:`COLUMNS`)."""
    return [
        (method, ",".join(str(s) for s in row["seeds"]) or "-", *(cell(row[c]) for c in COLUMNS))
        for method, row in table.items()
    ]
