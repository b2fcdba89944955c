"""The LM decide/sample policy: masks, the per-component split, and a tiny end-to-end run."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from arena.ds import llm
from arena.ds import llm_train as lt
from arena.ds.config import LLMSettings, RunConfig
from envs.errors import ArenaError


@pytest.fixture(scope="module")
def tiny() -> tuple[Any, llm.Vocab]:
    model, vocab, _ = llm.load_model("hf:tiny")
    return model, vocab


def test_play_masks_count_sampling_and_decision_tokens(tiny: tuple[Any, llm.Vocab]) -> None:
    model, vocab = tiny
    rng = np.random.default_rng(0)
    ep = llm.play(
        (model, model), vocab, rng, llm.problems(rng, 12, 1, "+"), length=3, k_max=3, rho=0.8
    )
    attempts = ep.sample_mask.sum(dim=1).numpy() / 3
    decisions = ep.decision_mask.sum(dim=1).numpy()
    assert np.all(attempts == np.round(attempts)) and np.all((attempts >= 1) & (attempts <= 3))
    # one decision per attempt except a forced final one
    assert np.all(decisions == np.where(attempts == 3, 2, attempts))
    assert not (ep.sample_mask & ep.decision_mask).any()
    sampled = ep.ids[ep.sample_mask]
    assert bool(torch.isin(sampled, vocab.digits).all())
    assert bool(torch.isin(ep.ids[ep.decision_mask], vocab.decisions).all())


def test_teacher_demonstrations_are_right_at_the_given_rate(tiny: tuple[Any, llm.Vocab]) -> None:
    model, vocab = tiny
    rng = np.random.default_rng(1)
    perfect = llm.play(
        (model, model),
        vocab,
        rng,
        llm.problems(rng, 40, 1, "+"),
        length=3,
        k_max=2,
        rho=1.0,
        expert=1.0,
    )
    assert perfect.first_correct.all() and perfect.reward.all()
    wrong = llm.play(
        (model, model),
        vocab,
        rng,
        llm.problems(rng, 40, 1, "+"),
        length=3,
        k_max=2,
        rho=1.0,
        expert=0.0,
    )
    assert not wrong.first_correct.any() and not wrong.reward.any()


def test_accounting_gives_the_plain_update_and_splits_the_gradient(
    tiny: tuple[Any, llm.Vocab],
) -> None:
    base, vocab = tiny
    rng = np.random.default_rng(2)
    ep = llm.play(
        (base, base),
        vocab,
        rng,
        llm.problems(rng, 8, 1, "+"),
        length=3,
        k_max=2,
        rho=0.8,
        expert=0.7,
    )
    updated = []
    norms: dict[str, float] = {}
    for accounting in (False, True):
        model = copy.deepcopy(base)
        opt = torch.optim.SGD(model.parameters(), lr=0.1)
        loss_s, loss_d = lt.component_loss(lt.losses(model, None, ep, vocab, "sft"), 0.0)
        norms = lt.step(model, opt, loss_s, loss_d, accounting=accounting) or norms
        updated.append(torch.cat([p.detach().flatten() for p in model.parameters()]))
    assert torch.allclose(updated[0], updated[1], atol=1e-6)
    assert norms["grad_norm_sample"] > 0 and norms["grad_norm_decision"] > 0
    # the split is by position: the decision part alone differs from the whole
    model = copy.deepcopy(base)
    terms = lt.losses(model, None, ep, vocab, "sft")
    whole, part = lt.grad_norms(model, [terms["signal_S"] + terms["signal_D"], terms["signal_D"]])
    assert abs(whole - part) > 1e-3


def test_kl_terms_vanish_against_itself_and_grow_with_distance(
    tiny: tuple[Any, llm.Vocab],
) -> None:
    base, vocab = tiny
    rng = np.random.default_rng(3)
    ep = llm.play(
        (base, base), vocab, rng, llm.problems(rng, 8, 1, "+"), length=3, k_max=2, rho=0.8
    )
    same = lt.losses(base, base, ep, vocab, "rl", beta=0.1)
    assert abs(same["kl_S"].item()) < 1e-6 and abs(same["kl_D"].item()) < 1e-6
    other = copy.deepcopy(base)
    with torch.no_grad():
        for p in other.parameters():
            p.add_(0.05 * torch.randn_like(p))
    for estimator in ("exact", "k3"):
        moved = lt.losses(base, other, ep, vocab, "rl", beta=0.1, kl_estimator=estimator)
        assert moved["kl_S"].item() > 0 and moved["kl_D"].item() >= 0


def test_account_every_splits_only_on_its_steps(tiny: tuple[Any, llm.Vocab]) -> None:
    from arena.ds.llm_run import _train

    model, vocab = tiny
    model = copy.deepcopy(model)
    rows: list[dict[str, float]] = []
    settings = LLMSettings(batch=2, account_every=2)
    _train(
        model,
        None,
        "sft",
        vocab,
        settings,
        np.random.default_rng(5),
        3,
        expert=0.9,
        on_step=lambda i, row: rows.append(row),
    )
    assert ["grad_norm_sample" in row for row in rows] == [True, False, True]


def test_bad_model_folder_is_one_line_error(tmp_path: Path) -> None:
    with pytest.raises(ArenaError, match="does not exist"):
        llm.load_model(f"hf:{tmp_path / 'nope'}")
    with pytest.raises(ArenaError, match="widest answer"):
        RunConfig(policy="hf:tiny", llm=LLMSettings(length=1))


@pytest.mark.slow
def test_tiny_end_to_end_run_writes_records_and_report(tmp_path: Path) -> None:
    from analysis.ds_report import render_ds_report
    from arena.ds.experiment import run

    settings = LLMSettings(steps=1, warmup_steps=1, batch=2, eval_episodes=4, lengths=(3, 4, 5))
    out = run(RunConfig(policy="hf:tiny", train=("rl", "sft"), llm=settings), tmp_path / "d2")
    results = json.loads((out / "results.json").read_text())
    assert {r["method"] for r in results["summary"]} == {"rl", "sft"}
    assert [r["L"] for r in results["attribution"]["by_length"]] == [3, 4, 5]
    assert (out / "claim_records" / "ds.t2.jsonl").exists()
    header = (out / "metrics.csv").read_text().splitlines()[0]
    assert "grad_norm_sample" in header and "grad_norm_decision" in header
    paths = render_ds_report(out)
    assert paths[0].name == "report.md" and "ds.t2" in paths[0].read_text()


def test_the_config_keeps_only_the_chosen_policys_settings() -> None:
    """An hf run's manifest once showed the unused tabular "length": 8 beside its 3."""
    hf = RunConfig(policy="hf:tiny").to_dict()
    assert hf["llm"]["length"] == LLMSettings().length and "tabular" not in hf
    assert "llm" not in RunConfig(policy="tabular").to_dict()


def test_help_states_the_defaults_runs_use(cli: Any) -> None:
    from arena.ds.config import TabularSettings

    code, out, _ = cli(["ds", "run", "--help"])
    text = " ".join(out.replace("│", " ").split())
    tab, lm = TabularSettings(), LLMSettings()
    assert code == 0
    assert f"L (tabular {tab.length}, hf {lm.length})" in text
    assert f"(tabular {tab.steps}, hf {lm.steps})" in text
