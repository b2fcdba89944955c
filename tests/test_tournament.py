"""Tournaments: cells, the store, incremental agents, failures, replay and imports."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest

from agents.base import Agent
from agents.registry import register_agent_kind
from arena import store as store_module
from arena.match import Job, play_episodes, play_jobs
from arena.play import PlayConfig, play
from arena.replay import import_play_run, replay
from arena.store import Store
from arena.tournament import (
    TournamentSpec,
    add_agents,
    cell_samples,
    create,
    load_spec,
    run_tournament,
    split_specs,
)
from envs import load_game
from envs.errors import ArenaError

ATTACKERS = ["scripted:role-play", "scripted:base64"]
DEFENDERS = ["scripted:keyword-filter"]


def _hashes(folder: Path) -> dict[tuple[str, ...], str]:
    """(agents per seat, episode seed) -> transcript hash: comparable across stores."""
    out = {}
    with Store(folder / "store.sqlite", create=False) as store:
        cells = {info["cell_id"]: info for info in store.cells()}
        for ep in store.iter_episodes():
            seats = cells[ep.cell_id]["seats"]
            key = (*(seats[s]["spec"] for s in sorted(seats)), str(ep.episode_seed))
            assert key not in out, "an episode is stored twice"
            out[key] = ep.transcript_sha256 if ep.status == "ok" else f"failed:{ep.error}"
    return out


def _tournament(folder: Path, **kw: Any) -> Path:
    kw.setdefault("env", "attack_defense")
    kw.setdefault("seats", {"attacker": list(ATTACKERS), "defender": list(DEFENDERS)})
    kw.setdefault("episodes", 12)
    kw.setdefault("batch_size", 5)
    create(folder, TournamentSpec(**kw))
    return folder


def test_split_specs_keeps_commas_inside_options() -> None:
    assert split_specs("scripted:a,hf:tiny?x=1,2&y=3, tabular:nash") == [
        "scripted:a",
        "hf:tiny?x=1,2&y=3",
        "tabular:nash",
    ]


def test_cross_play_fills_every_cell_once_and_resumes_with_nothing_to_do(tmp_path: Path) -> None:
    folder = _tournament(tmp_path / "t")
    first = run_tournament(folder)
    assert (first.played, first.failed, first.cells) == (24, 0, 2)
    again = run_tournament(folder)
    assert again.played == 0 and again.skipped_cells == 2
    _, game, cells = cell_samples(folder)
    assert [c.n for c in cells] == [12, 12]
    assert {tuple(c.matchup.values()) for c in cells} == {
        (a, d) for a in ATTACKERS for d in DEFENDERS
    }
    assert set(cells[0].metrics) == {"attack_success", "over_refusal"}
    assert cells[0].rewards.shape == (12, len(game.seats))


def test_adding_an_agent_plays_only_its_cells_and_equals_a_fresh_tournament(
    tmp_path: Path,
) -> None:
    folder = _tournament(tmp_path / "inc")
    run_tournament(folder)
    add_agents(folder, {"defender": ["scripted:decode-then-filter"]})
    added = run_tournament(folder)
    assert added.played == 24 and added.skipped_cells == 2
    fresh = _tournament(
        tmp_path / "fresh",
        seats={"attacker": ATTACKERS, "defender": [*DEFENDERS, "scripted:decode-then-filter"]},
        batch_size=64,
    )
    run_tournament(fresh)
    assert _hashes(folder) == _hashes(fresh)


def test_games_of_different_cells_share_one_call_per_agent_and_round() -> None:
    calls: list[int] = []

    class Counting(Agent):
        stochastic = False

        def act_batch(self, observations: list[Any], seeds: Any = None) -> list[Any]:
            calls.append(len(observations))
            return [0] * len(observations)

    game = load_game("strategy_game")
    config = game.config({})
    defender = Counting()
    attackers = [Counting(), Counting()]
    jobs = [
        Job((a, s), s, {"attacker": attacker, "defender": defender})
        for a, attacker in enumerate(attackers)
        for s in range(8)
    ]
    results = list(
        play_jobs(lambda: game.make_env(config, None), jobs, batch_size=16, parallel=True)
    )
    assert len(results) == 16
    # one round: each attacker once (8 games each), the shared defender once (16 games)
    assert sorted(calls) == [8, 8, 16]


def test_transcripts_do_not_depend_on_the_other_games_in_flight() -> None:
    from agents.registry import make_agent

    game = load_game("attack_defense")
    config = game.config({})
    env = game.make_env(config, None)
    spaces = {s: env.action_space(s) for s in game.seats}
    make = {s: (lambda spec, s=s: make_agent(spec, role=s, action_space=spaces[s])) for s in spaces}
    a1, a2 = make["attacker"]("scripted:random"), make["attacker"]("scripted:role-play")
    defender = make["defender"]("scripted:keyword-filter")
    from arena.judging import make_judge

    judge = make_judge("rule")

    def factory() -> Any:
        return game.make_env(config, judge)

    alone = [
        r.record for r in play_episodes(factory, {"attacker": a1, "defender": defender}, range(10))
    ]
    mixed = play_jobs(
        factory,
        [
            Job((k, s), s, {"attacker": agent, "defender": defender})
            for s in range(10)
            for k, agent in enumerate((a1, a2))
        ],
        batch_size=7,
    )
    together = {r.index: r.record for r in mixed}
    assert [together[(0, s)] for s in range(10)] == alone


class _Boom(Agent):
    stochastic = False

    def act_batch(self, observations: list[Any], seeds: Any = None) -> list[Any]:
        raise RuntimeError("weights on fire")


class _Sleepy(Agent):
    stochastic = False

    def act_batch(self, observations: list[Any], seeds: Any = None) -> list[Any]:
        time.sleep(3)
        return ["x"] * len(observations)


register_agent_kind("testboom", lambda arg, ctx: _Boom(), "raises")
register_agent_kind("testsleepy", lambda arg, ctx: _Sleepy(), "hangs")


def test_an_agent_that_raises_or_hangs_fails_its_episodes_and_the_tournament_goes_on(
    tmp_path: Path,
) -> None:
    folder = _tournament(
        tmp_path / "fail",
        seats={
            "attacker": ["scripted:role-play"],
            "defender": [*DEFENDERS, "testboom:x", "testsleepy:x"],
        },
        episodes=6,
        agent_timeout=0.3,
    )
    result = run_tournament(folder)
    _, _, cells = cell_samples(folder)
    by_defender = {c.matchup["defender"]: c for c in cells}
    assert by_defender["scripted:keyword-filter"].n == 6
    boom = by_defender["testboom:x"]
    assert boom.n == 0 and boom.failed == 6
    assert "raised RuntimeError: weights on fire" in boom.failures[0][1]
    sleepy = by_defender["testsleepy:x"]
    assert "timed out after 0.3 s" in sleepy.failures[0][1]
    # the games in flight when it timed out failed; its later games were never played
    # (it was disabled) and are left missing, so they are not stored as failures
    assert 1 <= sleepy.failed < 6 and sleepy.n == 0
    assert result.played == 6 + 6 + sleepy.failed and result.failed == 6 + sleepy.failed
    # a resume plays the missing ones (and the hang fails them again); recorded failures
    # are kept, not replayed, unless asked
    again = run_tournament(folder)
    assert again.played == 6 - sleepy.failed
    assert run_tournament(folder).played == 0


def test_a_judge_returning_garbage_fails_the_episode_with_the_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from arena import executors as executors_module
    from arena.judging import make_judge

    class Garbage:
        def __init__(self) -> None:
            self.inner = make_judge("rule")

        def judge(self, prompts: list[str], responses: list[str]) -> list[Any]:
            return ["not a verdict"] * len(prompts)

        def describe(self) -> dict[str, Any]:
            return {"name": "garbage"}

    monkeypatch.setattr(executors_module, "make_judge", lambda spec: Garbage())
    folder = _tournament(tmp_path / "judge", episodes=4)
    result = run_tournament(folder)
    assert result.played == 8 and result.failed == 8
    _, _, cells = cell_samples(folder)
    assert "move failed" in cells[0].failures[0][1]


def _tabular_file(path: Path, probs: list[float]) -> str:
    path.write_text(json.dumps({"strategy": probs}))
    return f"tabular:{path}"


def test_a_vanished_or_changed_checkpoint_is_one_clear_error(tmp_path: Path) -> None:
    game = load_game("strategy_game")
    n = game.make_env(game.config({}), None).action_space("attacker").n
    checkpoint = tmp_path / "attacker.json"
    spec = _tabular_file(checkpoint, [1.0] + [0.0] * (n - 1))
    folder = tmp_path / "t"
    create(
        folder,
        TournamentSpec(
            env="strategy_game",
            seats={"attacker": [spec], "defender": ["tabular:uniform"]},
            episodes=5,
        ),
    )
    run_tournament(folder)
    checkpoint.unlink()
    add_agents(folder, {"defender": ["tabular:nash"]})
    with pytest.raises(ArenaError, match=r"no longer be loaded.*restore it.*--drop '?attacker="):
        run_tournament(folder)
    _tabular_file(checkpoint, [0.0, 1.0] + [0.0] * (n - 2))
    with pytest.raises(ArenaError, match="changed since it joined"):
        run_tournament(folder)
    assert load_spec(folder).seats["defender"] == ["tabular:uniform", "tabular:nash"]


def test_replay_reproduces_the_stored_transcript_and_catches_a_changed_one(
    tmp_path: Path,
) -> None:
    folder = _tournament(tmp_path / "r", episodes=3)
    run_tournament(folder)
    result = replay(folder, 1, 2)
    assert result.identical and result.episode_seed == 2
    with sqlite3.connect(folder / "store.sqlite") as db:
        db.execute("UPDATE episodes SET transcript_sha256='0' WHERE cell_id=1 AND episode=2")
    assert not replay(folder, 1, 2).identical


def test_store_schema_versions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "s.sqlite"
    Store(path).close()
    with sqlite3.connect(path) as db:
        db.execute("UPDATE meta SET value='99' WHERE key='schema_version'")
    with pytest.raises(ArenaError, match="newer Arena"):
        Store(path)
    with sqlite3.connect(path) as db:
        db.execute("UPDATE meta SET value='0' WHERE key='schema_version'")
    with pytest.raises(ArenaError, match="cannot migrate"):
        Store(path)
    migrated: list[int] = []
    monkeypatch.setitem(store_module.MIGRATIONS, 0, lambda db: migrated.append(0))
    with Store(path) as store:
        assert store.schema_version == store_module.SCHEMA_VERSION and migrated == [0]
    other = tmp_path / "other.sqlite"
    with sqlite3.connect(other) as db:
        db.execute("CREATE TABLE t (x)")
    with pytest.raises(ArenaError, match="not an Arena result store"):
        Store(other)


def test_a_play_run_imported_into_the_store_is_not_played_again(tmp_path: Path) -> None:
    result = play(
        PlayConfig(
            env="attack_defense",
            seats={"attacker": list(ATTACKERS), "defender": list(DEFENDERS)},
            episodes=6,
            seed=3,
        ),
        runs_dir=tmp_path / "runs",
        run_name="p",
    )
    assert result.run_dir is not None
    folder = _tournament(tmp_path / "t", episodes=6, seed=3)
    with Store(folder / "store.sqlite") as store:
        assert import_play_run(store, result.run_dir) == 12
    assert run_tournament(folder).played == 0
    assert replay(folder, 1, 0).identical


def test_export_to_pandas_and_parquet(tmp_path: Path) -> None:
    pd = pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")
    folder = _tournament(tmp_path / "x", episodes=4)
    run_tournament(folder)
    with Store(folder / "store.sqlite") as store:
        frame = store.to_pandas()
        out = store.to_parquet(tmp_path / "x.parquet")
    assert len(frame) == 8 and set(frame["status"]) == {"ok"}
    back = pd.read_parquet(out)
    assert list(back["episode_seed"]) == list(frame["episode_seed"])
    assert {"reward_attacker", "metric_attack_success", "agent_defender"} <= set(back.columns)


def test_bad_tournament_input_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ArenaError, match="not symmetric"):
        create(
            tmp_path / "a",
            TournamentSpec(env="attack_defense", seats={"players": ATTACKERS}, mode="round-robin"),
        )
    with pytest.raises(ArenaError, match="No agent for the defender seat"):
        create(tmp_path / "b", TournamentSpec(env="attack_defense", seats={"attacker": ATTACKERS}))
    with pytest.raises(ArenaError, match="--episodes must be at least 1"):
        create(
            tmp_path / "c",
            TournamentSpec(
                env="attack_defense",
                seats={"attacker": ATTACKERS, "defender": DEFENDERS},
                episodes=0,
            ),
        )
    folder = _tournament(tmp_path / "d")
    assert _tournament(folder) == folder  # the same definition again: it continues
    with pytest.raises(ArenaError, match="already holds a different tournament"):
        _tournament(folder, episodes=99)
    with pytest.raises(ArenaError, match="not in the defender roster"):
        add_agents(folder, {}, {"defender": ["scripted:nobody"]})
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def _pure(tmp: Path, name: str, probs: list[float]) -> str:
    return _tabular_file(tmp / f"{name}.json", probs)


def test_adaptive_sampling_resolves_with_fewer_episodes_and_resumes_identically(
    tmp_path: Path,
) -> None:
    players = [
        _pure(tmp_path, "cooperate", [1.0, 0.0]),
        _pure(tmp_path, "defect", [0.0, 1.0]),
        _pure(tmp_path, "coin", [0.5, 0.5]),
    ]

    def new(name: str) -> Path:
        folder = tmp_path / name
        create(
            folder,
            TournamentSpec(
                env="matrix_game",
                env_config={"game": "prisoners_dilemma"},
                seats={"players": players},
                mode="round-robin",
                episodes=1000,
                adaptive=True,
                min_episodes=8,
                batch_size=16,
            ),
        )
        return folder

    whole = run_tournament(new("whole"))
    assert whole.resolved is True
    assert whole.played < 9 * 1000 / 5  # far below the uniform cap
    _, _, cells = cell_samples(tmp_path / "whole")
    # the coin-flipper's cells are noisy, the pure ones are not: they get the episodes
    noisy = [
        c.n for c in cells if players[2] in c.matchup.values() and len(set(c.matchup.values())) == 2
    ]
    pure = [c.n for c in cells if players[2] not in c.matchup.values()]
    assert min(noisy) > max(pure)
    split = new("split")
    first = run_tournament(split, max_episodes=100)
    assert first.played == 100 and first.resolved is False
    rest = run_tournament(split)
    assert rest.resolved is True
    assert _hashes(split) == _hashes(tmp_path / "whole")


def test_a_schema_1_store_is_migrated_in_place(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    Store(path).close()
    with sqlite3.connect(path) as db:  # what schema 1 looked like: no plans table
        db.execute("DROP TABLE plans")
        db.execute("UPDATE meta SET value='1' WHERE key='schema_version'")
    with Store(path) as store:
        assert store.schema_version == 2
        store.write_plan(1, [(1, 0)])
        assert store.last_plan() == (1, [(1, 0)])


def test_imported_episodes_outside_the_tournaments_seeds_do_not_count(tmp_path: Path) -> None:
    result = play(
        PlayConfig(
            env="attack_defense",
            seats={"attacker": ATTACKERS[:1], "defender": list(DEFENDERS)},
            episodes=6,
            first_episode=10,  # seeds 10..15: not episodes 0..5 of the tournament below
        ),
        runs_dir=tmp_path / "runs",
        run_name="late",
    )
    assert result.run_dir is not None
    folder = _tournament(
        tmp_path / "t", seats={"attacker": ATTACKERS[:1], "defender": DEFENDERS}, episodes=6
    )
    with Store(folder / "store.sqlite") as store:
        assert import_play_run(store, result.run_dir) == 6
        assert import_play_run(store, result.run_dir) == 0  # nothing new the second time
    assert run_tournament(folder).played == 6
    _, _, cells = cell_samples(folder)
    assert [c.n for c in cells] == [6] and list(cells[0].episodes) == list(range(6))
