"""KALE KA fine-tuning: the loss against a direct formula (and wrong variants), the
teacher's stop-gradient, data synthesis and validation, a tiny TRL run that resumes."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch

from arena.train.kale_data import (
    answer_matches,
    load_kg,
    load_rows,
    slice_rows,
    synthesize,
    write_rows,
)
from arena.train.kale_loss import (
    IGNORE,
    Direction,
    KALossSettings,
    ka_objective,
    token_kl,
)
from envs.errors import ArenaError, DatasetError

pytest.importorskip("trl")


# ----------------------------------------------------------------------------- the loss
def _direct_kl(student: list[float], teacher: list[float], direction: str) -> float:
    """KL over one position's vocabulary, from the textbook definition (plain Python)."""

    def softmax(z: list[float]) -> list[float]:
        m = max(z)
        e = [math.exp(v - m) for v in z]
        return [v / sum(e) for v in e]

    p, q = softmax(student), softmax(teacher)
    if direction == "reverse":  # KL(p_theta || q): the student first
        return sum(pi * (math.log(pi) - math.log(qi)) for pi, qi in zip(p, q, strict=True))
    return sum(qi * (math.log(qi) - math.log(pi)) for pi, qi in zip(p, q, strict=True))


def _hand_logits() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Batch 2, length 4, vocab 5; answers are the last 2 tokens of each row."""
    gen = torch.Generator().manual_seed(3)
    student = torch.randn(2, 4, 5, generator=gen) * 2
    teacher = torch.randn(2, 4, 5, generator=gen) * 2
    labels = torch.tensor([[IGNORE, IGNORE, 1, 4], [IGNORE, IGNORE, 0, 2]])
    return student, teacher, labels


@pytest.mark.parametrize("direction", ["reverse", "forward"])
def test_kl_term_matches_the_direct_formula(direction: Direction) -> None:
    student, teacher, labels = _hand_logits()
    settings = KALossSettings(loss="ka-only", kl_direction=direction, rationale_ce_weight=0.0)
    got = ka_objective(settings, student, labels, teacher, labels).kl
    # answer tokens are predicted by positions 1 and 2 (shifted by one)
    rows = [(b, t) for b in range(2) for t in (1, 2)]
    want = sum(
        _direct_kl(student[b, t].tolist(), teacher[b, t].tolist(), direction) for b, t in rows
    ) / len(rows)
    assert got == pytest.approx(want, rel=1e-5)
    other: Direction = "forward" if direction == "reverse" else "reverse"
    wrong = sum(
        _direct_kl(student[b, t].tolist(), teacher[b, t].tolist(), other) for b, t in rows
    ) / len(rows)
    assert abs(got - wrong) > 1e-3, "the check must tell the two directions apart"


def test_full_objective_is_the_weighted_sum_of_its_terms() -> None:
    student, teacher, labels = _hand_logits()
    settings = KALossSettings(loss="ka", ce_weight=0.7, kl_weight=0.2, rationale_ce_weight=0.5)
    parts = ka_objective(settings, student, labels, teacher, labels)
    tokens = labels[:, 2:].reshape(-1)
    ce = torch.nn.functional.cross_entropy(student[:, 1:3].reshape(-1, 5), tokens)
    rce = torch.nn.functional.cross_entropy(teacher[:, 1:3].reshape(-1, 5), tokens)
    want = 0.7 * float(ce) + 0.2 * parts.kl + 0.5 * float(rce)
    assert float(parts.total) == pytest.approx(want, rel=1e-5)
    sft = ka_objective(KALossSettings(loss="sft"), student, labels)
    assert float(sft.total) == pytest.approx(float(ce), rel=1e-6)
    assert sft.kl == 0.0 and sft.rationale_ce == 0.0


def test_teacher_gets_no_gradient_from_the_kl_and_the_undetached_variant_fails() -> None:
    student, teacher, labels = _hand_logits()
    student.requires_grad_(True)
    teacher.requires_grad_(True)
    settings = KALossSettings(loss="ka-only", rationale_ce_weight=0.0)
    ka_objective(settings, student, labels, teacher, labels).total.backward()
    assert student.grad is not None and student.grad.abs().sum() > 0
    assert teacher.grad is None or teacher.grad.abs().sum() == 0
    # wrong variant: KL without the stop-gradient pushes gradient into the teacher
    t2 = teacher.detach().clone().requires_grad_(True)
    s2, _ = answer_pair(student.detach(), t2, labels)
    token_kl(s2, _, "reverse", detach_teacher=False).mean().backward()
    assert t2.grad is not None and t2.grad.abs().sum() > 0


def answer_pair(
    student: torch.Tensor, teacher: torch.Tensor, labels: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    from arena.train.kale_loss import answer_logits

    return answer_logits(student, labels)[0], answer_logits(teacher, labels)[0]


def test_misaligned_answer_tokens_and_bad_settings_are_refused() -> None:
    student, teacher, labels = _hand_logits()
    shifted = labels.clone()
    shifted[0, 3] = 2
    with pytest.raises(ValueError, match="differ"):
        ka_objective(KALossSettings(), student, labels, teacher, shifted)
    for bad in (
        {"loss": "dpo"},
        {"kl_direction": "sideways"},
        {"teacher": "oracle"},
        {"kl_weight": -1.0},
    ):
        with pytest.raises(ArenaError):
            KALossSettings(**bad)


@pytest.mark.slow
def test_frozen_teacher_in_the_trainer_gets_no_gradient(tmp_path: Path) -> None:
    """One real KnowledgeAwareTrainer step: the student moves, the frozen copy does not."""
    from datasets import Dataset
    from trl import SFTConfig

    from agents.tiny import ensure_tiny_model
    from arena.train.kale import example, load_model
    from arena.train.kale_loss import KnowledgeAwareTrainer, PairCollator

    model, tok = load_model(ensure_tiny_model())
    teacher, _ = load_model(ensure_tiny_model())
    before = {n: p.detach().clone() for n, p in teacher.named_parameters()}
    start = {n: p.detach().clone() for n, p in model.named_parameters()}
    rows = [
        example(
            tok,
            "What is the capital of Kalia?",
            "Lomir",
            "Lomir is the capital of Kalia; so the answer is Lomir.",
        )
    ] * 2
    args = SFTConfig(
        output_dir=str(tmp_path / "t"),
        max_steps=1,
        per_device_train_batch_size=2,
        learning_rate=1e-2,
        report_to=[],
        save_strategy="no",
        disable_tqdm=True,
        bf16=False,
        max_length=None,
        remove_unused_columns=False,
        use_cpu=True,
        dataset_kwargs={"skip_prepare_dataset": True},
    )
    trainer = KnowledgeAwareTrainer(
        model=model,
        args=args,
        train_dataset=Dataset.from_list(rows),
        data_collator=PairCollator(tok.pad_token_id),
        processing_class=tok,
        ka_settings=KALossSettings(loss="ka", teacher="frozen"),
        teacher_model=teacher,
    )
    trainer.train()
    assert all(p.grad is None for p in teacher.parameters())
    assert all(torch.equal(before[n], p) for n, p in teacher.named_parameters())
    assert any(not torch.equal(start[n], p) for n, p in model.named_parameters())
    logged = [e for e in trainer.state.log_history if "kl" in e]
    assert logged and logged[0]["kl"] >= 0.0


# ----------------------------------------------------------------------------- the data
@pytest.fixture(scope="module")
def rows() -> list:
    from arena.train.kale_data import kg_questions

    kg = load_kg("builtin")
    out, dropped = synthesize(kg, kg_questions(kg, "builtin", 400, 0))
    assert dropped == 0
    return out


def test_synthesized_rows_have_paths_rationales_probes_and_splits(rows: list) -> None:
    splits = {r.split for r in rows}
    assert splits == {"train", "test-id", "test-ood"}
    for r in rows[:50]:
        assert len(r.path) == r.hops == len(r.probes)
        assert r.path[0][0] and r.path[-1][2]
        assert r.answer in r.rationale
        assert all(p.triple == t for p, t in zip(r.probes, r.path, strict=True))
    # ood questions use a relation chain no train question uses
    chains: dict[str, set[tuple[str, ...]]] = {r.split: set() for r in rows}
    for r in rows:
        chains[r.split].add(tuple(t[1] for t in r.path))
    assert not chains["test-ood"] & chains["train"]


def test_probe_asks_in_the_direction_with_one_answer(rows: list) -> None:
    kg = load_kg("builtin")
    for r in rows[:80]:
        for p in r.probes:
            head, rel, tail = p.triple
            if len(kg.follow(head, rel)) == 1:
                assert kg.label(tail) == p.answer
            else:
                assert kg.label(head) == p.answer


def test_answer_matching_is_exact_after_normalisation() -> None:
    assert answer_matches("  the Republic of Kalia. ", ("Kalia", "the Republic of Kalia"))
    assert not answer_matches("Kalia City", ("Kalia",))
    assert not answer_matches("", ("",))


def test_slice_shares_facts_and_keeps_every_split(rows: list) -> None:
    small = slice_rows(rows, 24, 3, 0)
    assert len(small) == 24 and {r.split for r in small} == {"train", "test-id", "test-ood"}
    assert max(r.hops for r in small) <= 3
    facts = {t for r in small for t in r.path}
    assert len(facts) < sum(r.hops for r in small)  # questions share facts


def test_malformed_data_file_names_the_line(tmp_path: Path, rows: list) -> None:
    path = tmp_path / "d.jsonl"
    write_rows(rows[:3], path)
    assert len(load_rows(path)) == 3
    lines = path.read_text().splitlines()
    broken = json.loads(lines[1])
    del broken["probes"]
    path.write_text("\n".join([lines[0], json.dumps(broken), lines[2]]) + "\n")
    with pytest.raises(DatasetError, match=r"line 2: missing 'probes'"):
        load_rows(path)
    path.write_text(lines[0] + "\n{not json\n")
    with pytest.raises(DatasetError, match="line 2: not valid JSON"):
        load_rows(path)
    bad_split = json.loads(lines[0])
    bad_split["split"] = "dev"
    path.write_text(json.dumps(bad_split) + "\n")
    with pytest.raises(DatasetError, match="line 1: 'split'"):
        load_rows(path)


# ----------------------------------------------------------------------------- the eval
def _fake_run(tmp_path: Path, ka_right: bool) -> Path:
    """40 held-out 2-hop questions, 1 seed: one arm always right, the other always wrong,
    every question known."""
    from arena.train.kale import write_jsonl

    results = tmp_path / "results"
    results.mkdir(parents=True)
    for method in ("sft", "ka"):
        right = ka_right == (method == "ka")
        records = [
            {
                "method": method,
                "seed": 0,
                "question_id": f"q{k}",
                "hops": 2,
                "known": True,
                "split": "test-ood" if k % 2 else "test-id",
                "correct": right,
                "output": "x",
                "probes_correct": [True, True],
            }
            for k in range(40)
        ]
        write_jsonl(results / f"{method}-seed0.jsonl", records)
    return tmp_path


@pytest.mark.parametrize("ka_right", [True, False])
def test_eval_pairs_by_seed_and_question_and_the_verdict_follows_the_data(
    tmp_path: Path, ka_right: bool
) -> None:
    from arena.train.kale_eval import write_outputs

    run = _fake_run(tmp_path, ka_right)
    table, checks, text = write_outputs(run)
    gain = checks["kale.multihop-gain"]
    assert gain.evidence["pairing"] == "paired by question_id"
    assert table["ka"]["P(wrong | known)"]["rate"] == (0.0 if ka_right else 1.0)
    assert table["sft"]["known (held-out)"]["n"] == 40
    # the wrong variant (KA worse) must not pass
    assert gain.status.name == ("PASS" if ka_right else "FAIL")
    assert ("effect shows at this scale" in text) == ka_right
    lines = (run / "claim_records" / "kale.multihop-gain.jsonl").read_text().splitlines()
    assert json.loads(lines[0])["question_id"] == "0:q0" and len(lines) == 80
