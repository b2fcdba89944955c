"""A tournament killed with SIGKILL anywhere resumes with nothing lost or played twice.

Each child process runs a tournament and kills itself at a chosen point: after the
N-th buffered episode (rows not yet written are lost), or inside the k-th batched write
after the rows were inserted but before COMMIT (the transaction must roll back). The
resumed store must equal an uninterrupted run's, episode for episode.
"""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from arena.store import Store
from arena.tournament import TournamentSpec, create, run_tournament

pytestmark = pytest.mark.slow

CHILD = textwrap.dedent(
    """
    import os, signal, sys
    from arena import store as store_module
    from arena.store import Store
    from arena.tournament import run_tournament

    folder, mode, point = sys.argv[1], sys.argv[2], int(sys.argv[3])
    store_module.FLUSH_ROWS = 7  # many small transactions: many places to die in
    calls = {"add": 0, "commit": 0}

    class DyingConnection:
        def __init__(self, db):
            self._db = db
        def __getattr__(self, name):
            return getattr(self._db, name)
        def execute(self, sql, *args):
            if mode == "commit" and sql == "COMMIT":
                calls["commit"] += 1
                if calls["commit"] == point:
                    os.kill(os.getpid(), signal.SIGKILL)
            return self._db.execute(sql, *args)

    original_init = Store.__init__
    def init(self, *a, **k):
        original_init(self, *a, **k)
        self.db = DyingConnection(self.db)
    Store.__init__ = init

    original_add = Store.add
    def add(self, *a, **k):
        calls["add"] += 1
        if mode == "add" and calls["add"] == point:
            os.kill(os.getpid(), signal.SIGKILL)
        return original_add(self, *a, **k)
    Store.add = add

    run_tournament(folder)
    """
)

SEATS = {
    "attacker": ["scripted:role-play", "scripted:random"],
    "defender": ["scripted:keyword-filter", "scripted:decode-then-filter"],
}
EPISODES = 15


def _contents(folder: Path) -> dict[tuple[int, int], tuple[str, str]]:
    with Store(folder / "store.sqlite", create=False) as store:
        rows = [
            (ep.cell_id, ep.episode_seed, ep.status, ep.transcript_sha256)
            for ep in store.iter_episodes()
        ]
    out = {(c, s): (status, digest) for c, s, status, digest in rows}
    assert len(out) == len(rows), "an episode was stored twice"
    return out


def _new(folder: Path) -> Path:
    create(
        folder, TournamentSpec(env="attack_defense", seats=SEATS, episodes=EPISODES, batch_size=4)
    )
    return folder


def test_twenty_random_kill_points_lose_nothing_and_duplicate_nothing(tmp_path: Path) -> None:
    reference = _new(tmp_path / "reference")
    run_tournament(reference)
    expected = _contents(reference)
    total = 4 * EPISODES
    assert len(expected) == total
    rng = random.Random(20261130)
    points = [("add", rng.randint(1, total)) for _ in range(12)]
    points += [("commit", rng.randint(2, total // 7)) for _ in range(8)]
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    killed = 0
    for number, (mode, point) in enumerate(points):
        folder = _new(tmp_path / f"k{number}")
        child = subprocess.run(
            [sys.executable, str(script), str(folder), mode, str(point)],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if child.returncode == -signal.SIGKILL:
            killed += 1
            if (folder / "store.sqlite").exists():
                assert len(_contents(folder)) < total, f"{mode} {point}: killed but complete?"
        else:
            assert child.returncode == 0, child.stderr
        resumed = run_tournament(folder)
        assert resumed.failed == 0
        assert _contents(folder) == expected, f"kill at {mode} {point}"
    assert killed >= 15, "most kill points must really kill the run"


def test_two_tournaments_write_to_different_stores_at_once(tmp_path: Path) -> None:
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    folders = [_new(tmp_path / "a"), _new(tmp_path / "b")]
    children = [
        subprocess.Popen(
            [sys.executable, str(script), str(folder), "none", "0"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for folder in folders
    ]
    for child in children:
        _, err = child.communicate(timeout=120)
        assert child.returncode == 0, err.decode()
    assert _contents(folders[0]) == _contents(folders[1])
    assert len(_contents(folders[0])) == 4 * EPISODES
