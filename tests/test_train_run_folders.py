"""Training run folders: a run that fails its own checks leaves nothing that blocks the
corrected command, a folder that held a run is never removed, interrupts say what was
kept, and every flag the training docs name exists. All fast: nothing here trains."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from arena.train.run_folder import undo_if_untrained
from envs.errors import ArenaError

if TYPE_CHECKING:
    from conftest import CliRunner

pytest.importorskip("trl")

ROOT = Path(__file__).resolve().parent.parent


# ---------------------------------------------------------------------------- the helper
def test_undo_removes_a_new_folder_and_only_new_entries_of_an_old_one(tmp_path: Path) -> None:
    fresh = tmp_path / "fresh"
    with pytest.raises(ArenaError), undo_if_untrained(fresh, "run.json", lambda: False):
        fresh.mkdir()
        (fresh / "run.json").write_text("{}")
        raise ArenaError("bad seeds", "fix them")
    assert not fresh.exists()

    old = tmp_path / "old"  # holds the data file, as `kale train --out runs/k1` does
    old.mkdir()
    (old / "data.jsonl").write_text("{}\n")
    with pytest.raises(KeyboardInterrupt), undo_if_untrained(old, "run.json", lambda: False):
        (old / "run.json").write_text("{}")
        (old / "results").mkdir()
        raise KeyboardInterrupt
    assert sorted(p.name for p in old.iterdir()) == ["data.jsonl"]


def test_undo_keeps_a_folder_that_held_a_run_or_has_trained(tmp_path: Path) -> None:
    held = tmp_path / "held"
    held.mkdir()
    (held / "run.json").write_text("{}")
    with pytest.raises(ArenaError), undo_if_untrained(held, "run.json", lambda: False):
        (held / "log.csv").write_text("step\n")
        raise ArenaError("x", "y")
    assert (held / "run.json").is_file() and (held / "log.csv").is_file()

    trained = tmp_path / "trained"
    with pytest.raises(ArenaError), undo_if_untrained(trained, "run.json", lambda: True):
        trained.mkdir()
        (trained / "run.json").write_text("{}")
        raise ArenaError("x", "y")
    assert (trained / "run.json").is_file()


# ---------------------------------------------------------------------------- MAGIC
def _bad_seeds(tmp_path: Path) -> Path:
    bad = tmp_path / "bad.tsv"
    bad.write_text("this is not a seed file\n\x00\x01\n")
    return bad


def test_magic_bad_seed_file_leaves_no_run_json(cli: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "mbad"
    args = ["train", "magic", "--seeds", str(_bad_seeds(tmp_path)), "--out", str(out)]
    code, stdout, stderr = cli(args)
    assert code == 2, stdout + stderr
    assert not out.exists()  # so `arena train magic --out OUT` is not "another run"


def test_magic_bad_seed_file_on_a_held_run_keeps_its_folder(tmp_path: Path) -> None:
    from arena.train.config import MagicConfig
    from arena.train.magic import train_magic

    out = tmp_path / "m"
    config = MagicConfig(out=str(out), seeds=str(_bad_seeds(tmp_path)))
    out.mkdir()
    manifest = {"recipe": "magic", "status": "running", "config": config.to_dict()}
    (out / "run.json").write_text(json.dumps({**manifest, "phases": [], "evaluations": []}))
    with pytest.raises(ArenaError):
        train_magic(config)
    assert json.loads((out / "run.json").read_text())["recipe"] == "magic"


def test_magic_refuses_a_run_that_trains_nothing(cli: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "m0"
    code, stdout, stderr = cli(
        ["train", "magic", "--steps", "0", "--sft-steps", "0", "--out", str(out)]
    )
    assert code == 2
    assert "would train nothing" in stdout + stderr and "--steps" in stdout + stderr
    assert not out.exists()


def test_magic_cli_passes_the_reward_and_switch_flags(
    cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import arena.train.magic as magic

    seen: list[Any] = []

    def fake(config: Any, progress: Any = None) -> dict[str, Any]:
        seen.append(config)
        return {"status": "completed", "phases": []}

    monkeypatch.setattr(magic, "train_magic", fake)
    flags = {
        "--r-harm": "2.0",
        "--r-ref": "0.25",
        "--r-fmt": "0.75",
        "--epsilon": "0.1",
        "--temperature": "0.7",
        "--switch-high": "0.6",
        "--switch-low": "0.4",
        "--switch-window": "5",
        "--sft-batch-size": "4",
        "--harmful-fraction": "0.4",
    }
    args = [x for pair in flags.items() for x in pair]
    code, stdout, stderr = cli(["train", "magic", *args, "--out", str(tmp_path / "m")])
    assert code == 0, stdout + stderr
    config = seen[0]
    for flag, value in flags.items():
        assert str(getattr(config, flag[2:].replace("-", "_"))) == value


# ---------------------------------------------------------------------------- RAPO
def test_rapo_target_too_long_leaves_no_run_json(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import arena.train.rapo as rapo
    from arena.train.rapo_config import RapoConfig

    # The check runs after the model loads; stage-0 evaluation is not what is tested.
    monkeypatch.setattr(rapo.RapoTrainer, "_evaluate", lambda self, stage: None)
    out = tmp_path / "r1"
    small = dict(
        out=str(out),
        complexities=(0,),
        sft_steps=2,
        steps=1,
        group_size=2,
        prompts_per_step=1,
        num_seeds=2,
        eval_seeds=2,
        probe_items=0,
    )
    with pytest.raises(ArenaError, match="No stage-1 target fits"):
        rapo.train_rapo(RapoConfig(max_new_tokens=8, **small))  # type: ignore[arg-type]
    assert not out.exists()


# ---------------------------------------------------------------------------- KALE
@pytest.fixture(scope="module")
def kale_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from arena.train.kale_data import kg_questions, load_kg, synthesize, write_rows

    graph = load_kg("builtin")
    rows, _ = synthesize(graph, kg_questions(graph, "builtin", 60, 0), id_holdout=0.2, seed=0)
    path = tmp_path_factory.mktemp("kale") / "data.jsonl"
    write_rows(rows, path)
    return path


def test_kale_no_model_leaves_only_what_was_there(
    cli: CliRunner, tmp_path: Path, kale_data: Path
) -> None:
    out = tmp_path / "k"
    out.mkdir()
    data = out / "data.jsonl"  # the data file inside OUT, as the docs' example
    data.write_text(kale_data.read_text())
    code, stdout, stderr = cli(
        ["kale", "train", "--data", str(data), "--out", str(out), "--model", f"hf:{tmp_path}"]
    )
    assert code == 2, stdout + stderr
    assert sorted(p.name for p in out.iterdir()) == ["data.jsonl"]


def test_kale_other_settings_names_the_flags_that_differ(
    cli: CliRunner, tmp_path: Path, kale_data: Path
) -> None:
    from arena.train.kale import KaleConfig, KaleRun

    out = tmp_path / "k"
    KaleRun(KaleConfig(data=str(kale_data), out=str(out)))._open()  # a run's kale.json
    code, stdout, stderr = cli(
        ["kale", "train", "--data", str(kale_data), "--out", str(out), "--max-hops", "2"]
    )
    assert code == 2
    assert "other settings" in stdout + stderr and "--max-hops" in stdout + stderr
    assert (out / "kale.json").is_file()  # a held run is never removed


# ---------------------------------------------------------------------------- interrupts
def _interrupting(write: Path | None) -> Any:
    from arena.runs import RunInterrupted

    def fake(config: Any, progress: Any = None) -> dict[str, Any]:
        if write is not None:
            write.parent.mkdir(parents=True, exist_ok=True)
            write.write_text("{}")
        raise RunInterrupted("interrupted (Ctrl-C)", 130)

    return fake


@pytest.mark.parametrize("kept", [True, False])
def test_magic_interrupt_says_progress_is_kept_only_when_it_is(
    cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kept: bool
) -> None:
    import arena.train.magic as magic

    out = tmp_path / "m"
    monkeypatch.setattr(magic, "train_magic", _interrupting(out / "run.json" if kept else None))
    code, stdout, stderr = cli(["train", "magic", "--out", str(out)])
    assert code == 130
    text = stdout + stderr
    if kept:
        assert "nothing was written" not in text
        assert f"kept in {out}" in text and "re-run the same command" in text
    else:
        assert "nothing was written" in text


def test_rapo_and_kale_interrupts_say_progress_is_kept(
    cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kale_data: Path
) -> None:
    import arena.train.kale as kale
    import arena.train.rapo as rapo

    r_out, k_out = tmp_path / "r", tmp_path / "k"
    monkeypatch.setattr(rapo, "train_rapo", _interrupting(r_out / "run.json"))
    monkeypatch.setattr(kale, "train_kale", _interrupting(k_out / "kale.json"))
    for args, out in (
        (["train", "rapo", "--out", str(r_out)], r_out),
        (["kale", "train", "--data", str(kale_data), "--out", str(k_out)], k_out),
    ):
        code, stdout, stderr = cli(args)
        assert code == 130
        assert f"kept in {out}" in stdout + stderr
        assert "nothing was written" not in stdout + stderr


def test_a_real_interrupt_before_training_removes_the_new_folder(
    cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import arena.train.magic as magic
    from arena.runs import RunInterrupted

    def interrupted(config: Any) -> Any:
        raise RunInterrupted("interrupted (Ctrl-C)", 130)

    monkeypatch.setattr(magic, "draw_seeds", interrupted)  # after run.json is written
    out = tmp_path / "m"
    code, stdout, stderr = cli(["train", "magic", "--out", str(out)])
    assert code == 130 and "nothing was written" in stdout + stderr
    assert not out.exists()


# ---------------------------------------------------------------------------- docs
def _options(path: list[str]) -> set[str]:
    from arena.cli import build_cli

    command: Any = build_cli()
    for name in path:
        command = command.commands[name]
    names = [opt for p in command.params for opt in (*p.opts, *p.secondary_opts)]
    return {name for name in names if name.startswith("--")}


#: The commands each training doc shows (its own, and those it hands checkpoints to).
DOC_COMMANDS = {
    "magic.md": [["train", "magic"], ["tournament"]],
    "rapo.md": [
        ["train", "rapo"],
        ["sweep", "rapo"],
        ["tournament"],
        ["theory", "check"],
    ],
    "kale.md": [
        ["kale", "synth"],
        ["kale", "train"],
        ["kale", "experiment"],
        ["theory", "check"],
    ],
}


@pytest.mark.parametrize("doc", sorted(DOC_COMMANDS))
def test_every_flag_a_training_doc_names_exists(doc: str) -> None:
    named = set(re.findall(r"(?<![\w-])--[a-z][a-z0-9-]*", (ROOT / "docs" / doc).read_text()))
    known = set().union(*(_options(path) for path in DOC_COMMANDS[doc]))
    assert sorted(named - known) == []
