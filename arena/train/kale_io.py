"""KALE's prompts, training examples, model I/O, greedy evaluation and atomic writes.

Split out of :mod:`arena.train.kale` (the run itself) so each module stays small. The
prompt layout is a reconstruction: the student sees ``Q: {question}\nA:``, the teacher
``Q: {question}\nFacts: {rationale}\nA:`` (the paper's ``[x; r; y]`` order), and both
end in the same answer tokens, which :func:`arena.train.kale_loss.ka_objective` checks.
"""

from __future__ import annotations

import json
import os
import random
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from arena.train.kale_data import KaleRow, Probe, answer_matches
from arena.train.kale_settings import IGNORE
from envs.errors import ArenaError


# ----------------------------------------------------------------------------- prompts
def student_prompt(question: str) -> str:
    """``x``: the question alone (plain text: 8 tokens shorter than a chat turn)."""
    return f"Q: {question}\nA:"


def teacher_prompt(question: str, rationale: str) -> str:
    """``(x, r)``: the question, then the rationale (the paper's ``[x; r; y]``)."""
    return f"Q: {question}\nFacts: {rationale}\nA:"


def encode(tokenizer: Any, prompt: str, answer: str) -> tuple[list[int], list[int]]:
    """``(input_ids, labels)``: labels are ``IGNORE`` except the answer and end token."""
    p = tokenizer(prompt, add_special_tokens=False)["input_ids"]
    a = tokenizer(" " + answer, add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
    return p + a, [IGNORE] * len(p) + a


def example(tokenizer: Any, question: str, answer: str, rationale: str) -> dict[str, list[int]]:
    ids, labels = encode(tokenizer, student_prompt(question), answer)
    t_ids, t_labels = encode(tokenizer, teacher_prompt(question, rationale), answer)
    return {
        "input_ids": ids,
        "labels": labels,
        "teacher_input_ids": t_ids,
        "teacher_labels": t_labels,
    }


def distinct_probes(rows: Sequence[KaleRow]) -> list[Probe]:
    """Each fact's probe once (rows sharing a triple share its probe)."""
    seen: dict[tuple[str, str, str], Probe] = {}
    for row in rows:
        for probe in row.probes:
            seen.setdefault(probe.triple, probe)
    return list(seen.values())


def probe_context(rows: Sequence[KaleRow]) -> dict[tuple[str, str, str], str]:
    """A rationale that contains each fact (the first row's), for in-context examples."""
    out: dict[tuple[str, str, str], str] = {}
    for row in rows:
        for probe in row.probes:
            out.setdefault(probe.triple, row.rationale)
    return out


def pretrain_examples(
    tokenizer: Any, rows: Sequence[KaleRow], context_fraction: float, seed: int
) -> list[dict[str, list[int]]]:
    """Single-hop rows for the start: every probe, and ``context_fraction`` of them again
    with a rationale in context (teacher layout as the student's input)."""
    probes = distinct_probes(rows)
    context = probe_context(rows)
    with_context = set(
        random.Random(seed).sample(range(len(probes)), round(context_fraction * len(probes)))
    )
    out = []
    for k, probe in enumerate(probes):
        out.append(example(tokenizer, probe.question, probe.answer, context[probe.triple]))
        if k in with_context:
            ids, labels = encode(
                tokenizer, teacher_prompt(probe.question, context[probe.triple]), probe.answer
            )
            out.append(
                {
                    "input_ids": ids,
                    "labels": labels,
                    "teacher_input_ids": ids,
                    "teacher_labels": labels,
                }
            )
    return out


def finetune_examples(
    tokenizer: Any, rows: Sequence[KaleRow], replay: bool
) -> list[dict[str, list[int]]]:
    """Multi-hop training rows (with rationale) plus, with ``replay``, every probe."""
    out = [
        example(tokenizer, r.question, r.answer, r.rationale) for r in rows if r.split == "train"
    ]
    if replay:
        context = probe_context(rows)
        out += [
            example(tokenizer, p.question, p.answer, context[p.triple])
            for p in distinct_probes(rows)
        ]
    return out


# ----------------------------------------------------------------------------- models
def load_model(directory: Path) -> tuple[Any, Any]:
    """A causal LM and its tokenizer from a local directory (float32, CPU-friendly)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, PreTrainedTokenizerFast

    from agents.backends.hf import checkpoint_errors

    with checkpoint_errors(str(directory), Path(directory)):  # a damaged file: one line
        if (directory / "tokenizer.json").is_file():
            tokenizer = PreTrainedTokenizerFast.from_pretrained(directory, padding_side="left")
        else:
            tokenizer = AutoTokenizer.from_pretrained(directory, padding_side="left")
        model = AutoModelForCausalLM.from_pretrained(directory, dtype=torch.float32)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return model, tokenizer


def save_model(model: Any, tokenizer: Any, target: Path) -> None:
    """save_pretrained into a temporary folder, then one rename."""
    tmp = target.with_name(f".{target.name}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    model.save_pretrained(tmp, safe_serialization=True)
    tokenizer.save_pretrained(tmp)
    shutil.rmtree(target, ignore_errors=True)
    os.replace(tmp, target)


def generate_answers(
    model: Any, tokenizer: Any, questions: Sequence[str], max_new_tokens: int, batch: int = 64
) -> list[str]:
    """Greedy answers (first line of the completion) to plain ``Q:/A:`` prompts."""
    import torch

    was_training = model.training
    model.eval()
    out: list[str] = []
    try:
        with torch.no_grad():
            for start in range(0, len(questions), batch):
                prompts = [student_prompt(q) for q in questions[start : start + batch]]
                enc = tokenizer(
                    prompts, return_tensors="pt", padding=True, add_special_tokens=False
                ).to(model.device)
                gen = model.generate(
                    **enc,
                    max_new_tokens=max_new_tokens,
                    do_sample=False,
                    eos_token_id=tokenizer.eos_token_id,
                    pad_token_id=tokenizer.pad_token_id,
                )
                texts = tokenizer.batch_decode(
                    gen[:, enc["input_ids"].shape[1] :], skip_special_tokens=True
                )
                out += [t.strip().split("\n")[0].strip() for t in texts]
    finally:
        if was_training:
            model.train()
    return out


def evaluate(
    model: Any, tokenizer: Any, rows: Sequence[KaleRow], max_new_tokens: int
) -> list[dict[str, Any]]:
    """One record per question: its answer, ``correct``, each probe and ``known``."""
    probes = distinct_probes(rows)
    probe_out = generate_answers(model, tokenizer, [p.question for p in probes], max_new_tokens)
    probe_ok = {
        p.triple: answer_matches(text, p.aliases) for p, text in zip(probes, probe_out, strict=True)
    }
    answers = generate_answers(model, tokenizer, [r.question for r in rows], max_new_tokens)
    records = []
    for row, text in zip(rows, answers, strict=True):
        probe_results = [probe_ok[p.triple] for p in row.probes]
        records.append(
            {
                "question_id": row.id,
                "split": row.split,
                "hops": row.hops,
                "output": text,
                "correct": answer_matches(text, row.aliases),
                "probes_correct": probe_results,
                "known": all(probe_results),
            }
        )
    return records


def probe_accuracy(model: Any, tokenizer: Any, rows: Sequence[KaleRow], max_new: int) -> float:
    probes = distinct_probes(rows)
    outs = generate_answers(model, tokenizer, [p.question for p in probes], max_new)
    hits = sum(answer_matches(t, p.aliases) for p, t in zip(probes, outs, strict=True))
    return hits / max(1, len(probes))


# ----------------------------------------------------------------------------- files
def write_json(path: Path, data: Any) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(data, indent=2, default=str) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def write_jsonl(path: Path, records: Sequence[dict[str, Any]]) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record) + "\n")
    os.replace(tmp, path)


def resolve_model(spec: str) -> Path:
    """``hf:tiny`` / ``hf:PATH`` / a path → a local model directory."""
    from arena.train.magic import resolve_spec

    if not spec.startswith("hf:"):
        raise ArenaError(f"--model {spec!r} is not an hf: spec.", "pass hf:tiny or hf:PATH.")
    return resolve_spec(spec)
