"""``arena kale ...``: KALE's pipeline from the shell (synthesis, KA training, evaluation).

* ``arena kale synth --kg builtin --out runs/k1/data.jsonl``: one JSONL row per
  multi-hop question (:mod:`arena.train.kale_data`).
* ``arena kale train --model hf:tiny --loss ka --data runs/k1/data.jsonl --out runs/k1``:
  the shared single-hop start, then one fine-tuning arm per ``--loss`` (comma list:
  ``sft,ka`` runs both) and seed (:mod:`arena.train.kale`). The same ``--out`` resumes.
* ``arena kale experiment --out runs/k1``: synth (if the data file is missing), both
  arms, eval.
* ``arena kale eval runs/k1``: the SFT vs KA table, ``report.md`` and the claim records
  that ``arena theory check --run runs/k1`` reads (:mod:`arena.train.kale_eval`).

See ``docs/kale.md``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from arena.console import console

kale_app = typer.Typer(
    help="KALE: knowledge-graph path synthesis, knowledge-aware fine-tuning, evaluation.",
    no_args_is_help=True,
)


def _ints(text: str, flag: str) -> tuple[int, ...]:
    from envs.errors import ArenaError

    try:
        values = tuple(int(x) for x in text.split(",") if x.strip())
    except ValueError as exc:
        raise ArenaError(
            f"{flag} {text!r} is not a comma list of integers.", f"pass e.g. {flag} 0,1,2."
        ) from exc
    return values


def _synth(kg: str, out: Path, questions: int, seed: int, id_holdout: float) -> None:
    from arena.train.kale_data import kg_questions, load_kg, synthesize, write_rows

    graph = load_kg(kg)
    rows, dropped = synthesize(
        graph, kg_questions(graph, kg, questions, seed), id_holdout=id_holdout, seed=seed
    )
    write_rows(rows, out)
    splits = {s: sum(r.split == s for r in rows) for s in ("train", "test-id", "test-ood")}
    console.print(
        f"Wrote {len(rows)} questions to [bold]{out}[/bold] ({splits}); "
        f"{dropped} dropped by the rationale filter."
    )


@kale_app.command("synth")
def synth(
    out: Annotated[Path, typer.Option(help="Data file to write (JSONL).")] = Path(
        "runs/kale/data.jsonl"
    ),
    kg: Annotated[str, typer.Option(help="'builtin' or a triple file (TSV/CSV/JSONL).")] = (
        "builtin"
    ),
    questions: Annotated[int, typer.Option(help="Multi-hop questions to compose.")] = 400,
    seed: Annotated[int, typer.Option(help="Seed of the question walks and the ID hold-out.")] = 0,
    id_holdout: Annotated[
        float, typer.Option(help="Share of seen-composition questions held out as test-id.")
    ] = 0.2,
) -> None:
    """KI data synthesis: questions, gold paths, template rationales, single-hop probes."""
    _synth(kg, out, questions, seed, id_holdout)


def _train(**kwargs: Any) -> dict[str, Any]:
    from arena.cli_train import training_progress
    from arena.train.kale import MANIFEST, KaleConfig, train_kale

    config = KaleConfig(**kwargs)
    with training_progress("kale", Path(config.out), MANIFEST, None) as progress:
        manifest = train_kale(config, progress)
    pre = manifest["pretrain"]
    console.print(
        f"KALE run {manifest['status']} in [bold]{config.out}[/bold]: start after {pre['steps']} "
        f"single-hop steps, probe accuracy {pre['probe_accuracy']:.2f} ({pre['stopped_by']}); "
        f"arms {', '.join(sorted(manifest['units']))}. Next: arena kale eval {config.out}"
    )
    return manifest


_LOSS_HELP = "Arms, comma-separated: sft, ka, ka-only (default sft,ka: both, to compare)."


def _train_options(
    data: str,
    out: str,
    model: str,
    loss: str,
    seeds: str,
    kl_direction: str,
    teacher: str,
    ce_weight: float,
    kl_weight: float,
    rationale_ce_weight: float,
    max_questions: int,
    max_hops: int,
    pretrain_steps: int,
    finetune_steps: int,
    replay: bool,
    save_models: bool,
    restart: bool,
    max_new_tokens: int = 24,
) -> dict[str, Any]:
    return dict(
        data=data,
        out=out,
        model=model,
        losses=tuple(x.strip() for x in loss.split(",") if x.strip()),
        seeds=_ints(seeds, "--seeds"),
        kl_direction=kl_direction,
        teacher=teacher,
        ce_weight=ce_weight,
        kl_weight=kl_weight,
        rationale_ce_weight=rationale_ce_weight,
        max_questions=max_questions,
        max_hops=max_hops,
        pretrain_steps=pretrain_steps,
        finetune_steps=finetune_steps,
        replay=replay,
        save_models=save_models,
        restart=restart,
        max_new_tokens=max_new_tokens,
    )


Data = Annotated[str, typer.Option(help="Data file from `arena kale synth`.")]
Model = Annotated[str, typer.Option(help="Base model: hf:tiny or hf:PATH.")]
Seeds = Annotated[str, typer.Option(help="Fine-tuning seeds, comma-separated.")]
Direction = Annotated[str, typer.Option(help="reverse = KL(p‖q) (paper), forward = KL(q‖p).")]
Teacher = Annotated[str, typer.Option(help="self (same weights, detached) or frozen (start).")]
CeW = Annotated[float, typer.Option(help="Weight of CE(y|x).")]
KlW = Annotated[float, typer.Option(help="Weight of the KL term (separate, not 1-λ).")]
RceW = Annotated[float, typer.Option(help="Weight of CE(y|x,r) (teaches reading r).")]
MaxQ = Annotated[int, typer.Option(help="Questions in the sub-KG slice.")]
MaxH = Annotated[int, typer.Option(help="Longest question kept (hops).")]
PreSteps = Annotated[int, typer.Option(help="Cap on single-hop pre-training steps.")]
FtSteps = Annotated[int, typer.Option(help="Fine-tuning steps per arm and seed.")]
Replay = Annotated[bool, typer.Option(help="Replay the probes while fine-tuning.")]
Save = Annotated[bool, typer.Option(help="Save each arm's model under OUT/models.")]
Restart = Annotated[bool, typer.Option(help="Delete OUT's run outputs and start over.")]
MaxNew = Annotated[int, typer.Option(help="Greedy tokens per answer in evaluation.")]


@kale_app.command("train")
def train(
    data: Data = "runs/kale/data.jsonl",
    out: Annotated[str, typer.Option(help="Run folder; the same folder resumes.")] = "runs/kale",
    model: Model = "hf:tiny",
    loss: Annotated[str, typer.Option(help=_LOSS_HELP)] = "sft,ka",
    seeds: Seeds = "0,1,2",
    kl_direction: Direction = "reverse",
    teacher: Teacher = "self",
    ce_weight: CeW = 1.0,
    kl_weight: KlW = 1.0,
    rationale_ce_weight: RceW = 1.0,
    max_questions: MaxQ = 24,
    max_hops: MaxH = 3,
    pretrain_steps: PreSteps = 150,
    finetune_steps: FtSteps = 30,
    replay: Replay = True,
    save_models: Save = True,
    restart: Restart = False,
    max_new_tokens: MaxNew = 24,
) -> None:
    """Shared single-hop start, then SFT / KA fine-tuning arms (TRL) from it."""
    _train(
        **_train_options(
            data,
            out,
            model,
            loss,
            seeds,
            kl_direction,
            teacher,
            ce_weight,
            kl_weight,
            rationale_ce_weight,
            max_questions,
            max_hops,
            pretrain_steps,
            finetune_steps,
            replay,
            save_models,
            restart,
            max_new_tokens,
        )
    )


def _print_eval(run: Path) -> None:
    from rich.table import Table

    from arena.train.kale_eval import COLUMNS, table_rows, verdict_line, write_outputs

    table, checks, text = write_outputs(run)
    view = Table(title=f"KALE on {run}: correct/n = rate [95% interval], questions x seeds")
    for name in ("method", "seeds", *COLUMNS):
        view.add_column(name)
    for row in table_rows(table):
        view.add_row(*row)
    console.print(view)
    for claim_id, result in checks.items():
        console.print(f"[bold]{claim_id}[/bold]: {verdict_line(result)}")
    console.print(text)
    console.print(
        f"Wrote {run}/report.md and {run}/claim_records/ "
        f"(check them: arena theory check --run {run})"
    )


@kale_app.command("eval")
def eval_(
    run: Annotated[Path, typer.Argument(help="Run folder of `arena kale train`.")],
) -> None:
    """SFT vs KA table (accuracy ID/OOD, known&incorrect), report.md, claim records."""
    _print_eval(run)


@kale_app.command("experiment")
def experiment(
    out: Annotated[str, typer.Option(help="Run folder; the same folder resumes.")] = "runs/kale",
    kg: Annotated[str, typer.Option(help="'builtin' or a triple file.")] = "builtin",
    model: Model = "hf:tiny",
    seeds: Seeds = "0,1,2",
    kl_direction: Direction = "reverse",
    teacher: Teacher = "self",
    ce_weight: CeW = 1.0,
    kl_weight: KlW = 1.0,
    rationale_ce_weight: RceW = 1.0,
    max_questions: MaxQ = 24,
    max_hops: MaxH = 3,
    pretrain_steps: PreSteps = 150,
    finetune_steps: FtSteps = 30,
    replay: Replay = True,
    save_models: Save = True,
    restart: Restart = False,
) -> None:
    """Both arms end to end: synth (unless OUT/data.jsonl exists), SFT and KA, eval."""
    data = Path(out) / "data.jsonl"
    if restart or not data.is_file():
        if restart:
            import shutil

            shutil.rmtree(out, ignore_errors=True)
        _synth(kg, data, 400, 0, 0.2)
    _train(
        **_train_options(
            str(data),
            out,
            model,
            "sft,ka",
            seeds,
            kl_direction,
            teacher,
            ce_weight,
            kl_weight,
            rationale_ce_weight,
            max_questions,
            max_hops,
            pretrain_steps,
            finetune_steps,
            replay,
            save_models,
            False,
        )
    )
    _print_eval(Path(out))
