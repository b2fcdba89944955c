"""``theory.Game``: the façade delegates to the solvers and reads payoff files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import theory
from theory import Game, NormalFormGame, read_game
from theory.errors import InvalidGameError, NFGFormatError, UnsupportedGameError

DATA = Path(__file__).parent / "data"
RPS = np.array([[0, -1, 1], [1, 0, -1], [-1, 1, 0]], dtype=float)
PD_A = np.array([[3, 0], [5, 1]], dtype=float)  # prisoner's dilemma: cooperate, defect
UNIFORM = [np.full(3, 1 / 3), np.full(3, 1 / 3)]
ROCK = [[1, 0, 0], [1, 0, 0]]


def test_the_package_exports_the_facade() -> None:
    assert theory.Game is Game and theory.NormalFormGame is NormalFormGame
    with pytest.raises(AttributeError):
        _ = theory.nothing_here


def test_one_matrix_is_zero_sum_two_are_a_bimatrix() -> None:
    zero_sum = Game(RPS)
    assert zero_sum.is_zero_sum() and np.array_equal(zero_sum.payoffs[1], -RPS)
    pd = Game(PD_A, PD_A.T, players=("row", "col"), strategies=(("C", "D"), ("C", "D")))
    assert not pd.is_zero_sum() and pd.is_symmetric()
    assert pd.players == ("row", "col") and pd.strategies[1] == ("C", "D")
    assert pd.num_players == 2 and pd.num_strategies == (2, 2)
    three = Game(np.zeros((3, 2, 2, 2)))
    assert three.num_players == 3
    wrapped = Game(pd.normal_form)
    assert wrapped.normal_form is pd.normal_form
    assert "2 players, 2x2" in repr(pd)


def test_bad_constructions_raise() -> None:
    with pytest.raises(InvalidGameError):
        Game(np.zeros((2, 2, 2)), np.zeros((2, 2)))
    with pytest.raises(InvalidGameError):
        Game(PD_A, np.zeros((3, 2)))
    with pytest.raises(InvalidGameError):
        Game(Game(PD_A).normal_form, PD_A)


def test_solve_exploitability_and_best_response() -> None:
    rps = Game(RPS)
    (eq,) = rps.solve().equilibria
    assert np.allclose(eq.strategies, 1 / 3)
    assert rps.exploitability(eq.strategies) <= 1e-9 and rps.is_equilibrium(eq.strategies)
    assert rps.nash_conv(UNIFORM) == pytest.approx(0.0, abs=1e-12)
    # wrong variant: both playing rock is exploitable (paper beats rock by 1)
    assert rps.exploitability(ROCK) == pytest.approx(1.0)
    assert not rps.is_equilibrium(ROCK)
    assert np.allclose(rps.deviation_gains(ROCK), [1.0, 1.0])
    assert np.array_equal(rps.best_response(ROCK, 1), [0, 1, 0])
    assert np.allclose(rps.expected_payoffs(ROCK), [0.0, 0.0])
    pd = Game(PD_A, PD_A.T)
    result = pd.solve("support")
    assert result.method == "support"
    assert [np.argmax(s) for s in result.equilibria[0].strategies] == [1, 1]
    assert pd.exploitability([[1, 0], [1, 0]]) > 0  # mutual cooperation is not a Nash
    with pytest.raises(UnsupportedGameError):
        pd.solve("lp")


def test_stackelberg_and_spne() -> None:
    # Commitment game (von Stengel & Zamir): committing to mix beats the Nash payoff.
    A = np.array([[2, 4], [1, 3]], dtype=float)
    B = np.array([[1, 0], [0, 1]], dtype=float)
    game = Game(A, B)
    nash_value = game.expected_payoffs(game.solve().equilibria[0].strategies)[0]
    commitment = game.stackelberg()
    assert commitment.leader_value > nash_value + 0.4
    assert commitment.follower_action == 1
    sequential = game.spne()
    # pure commitment to the dominated bottom row already beats the Nash payoff 2
    assert sequential.leader_action == 1 and sequential.leader_value == pytest.approx(3.0)
    assert sequential.leader_value < commitment.leader_value  # mixing commits better
    column_leads = game.spne(leader=1)
    assert column_leads.leader_value == pytest.approx(1.0)  # B's best outcome, row replies
    assert game.leader_follower(1).players == game.players[::-1]
    with pytest.raises(InvalidGameError):
        game.leader_follower(2)


def test_dynamics_converge_in_rps() -> None:
    rps = Game(RPS)
    assert rps.fictitious_play(500).final_exploitability < 0.05
    rm = rps.dynamics("regret-matching", iterations=500, plus=True)
    assert rm.final_exploitability < 0.05
    assert rps.dynamics("psro").profile is not None
    replicator = rps.dynamics("replicator", initial=[[0.5, 0.3, 0.2], [0.3, 0.3, 0.4]], t_max=5)
    # wrong variant: replicator dynamics cycle in RPS; it does not reach the equilibrium
    assert replicator.exploitability[-1] > 0.01
    with pytest.raises(InvalidGameError, match="unknown dynamics"):
        rps.dynamics("gradient")  # type: ignore[arg-type]


def test_nash_averaging_and_alpha_rank() -> None:
    # agent 3 is a copy of agent 1: Nash averaging gives it the same rating
    copies = np.array([[0, -1, 1, 0], [1, 0, -1, 1], [-1, 1, 0, -1], [0, -1, 1, 0]], dtype=float)
    names = ("rock", "paper", "scissors", "rock2")
    ratings = Game(copies, strategies=(names, names)).nash_averaging()
    assert ratings.labels == names and np.allclose(ratings.ratings, 0.0, atol=1e-8)
    dominated = Game(np.array([[0, 1], [-1, 0]], dtype=float))
    assert dominated.nash_averaging().ratings[1] < 0
    ranks = dominated.alpha_rank(single_population=True)
    assert ranks.ranking()[0][0] == "1" and ranks.stationary.max() > 0.9
    with pytest.raises(UnsupportedGameError):
        Game(PD_A, PD_A).alpha_rank(single_population=True)  # B != A.T: not symmetric
    with pytest.raises(UnsupportedGameError):
        Game(PD_A, PD_A.T).nash_averaging()  # not zero-sum


def test_from_file_reads_nfg_csv_and_npy(tmp_path: Path) -> None:
    nfg = Game.from_file(DATA / "battle_of_sexes.nfg")
    assert nfg.players == ("Alice", "Bob") and len(nfg.solve().equilibria) == 3
    labelled = tmp_path / "rps.csv"
    labelled.write_text(
        "# rock-paper-scissors\n,R,P,S\nR,0,-1,1\nP,1,0,-1\n\nS,-1,1,0\n", encoding="utf-8"
    )
    game = Game.from_file(labelled)
    assert game.strategies == (("R", "P", "S"), ("R", "P", "S")) and game.is_zero_sum()
    assert np.array_equal(game.payoffs[0], RPS)
    plain_a, plain_b = tmp_path / "a.csv", tmp_path / "b.csv"
    plain_a.write_text("3,0\n5,1\n", encoding="utf-8")
    plain_b.write_text("C,D\n3,5\n0,1\n", encoding="utf-8")
    pd = Game.from_file(plain_a, plain_b)
    assert np.array_equal(pd.payoffs, np.stack([PD_A, PD_A.T]))
    assert pd.strategies == (("1", "2"), ("C", "D"))
    np.save(tmp_path / "m.npy", RPS)
    np.save(tmp_path / "bi.npy", np.stack([PD_A, PD_A.T]))
    np.save(tmp_path / "three.npy", np.zeros((3, 2, 2, 2)))
    assert Game.from_file(tmp_path / "m.npy").is_zero_sum()
    assert np.array_equal(Game.from_file(tmp_path / "bi.npy").payoffs[1], PD_A.T)
    assert Game.from_file(tmp_path / "three.npy").num_players == 3
    np.save(tmp_path / "b.npy", PD_A.T)
    np.save(tmp_path / "a.npy", PD_A)
    assert Game.from_file(tmp_path / "a.npy", tmp_path / "b.npy").payoffs.shape == (2, 2, 2)


BAD_CSV = {
    "word": ("1,2\n3,x\n", "line 2, column 2: 'x' is not a number"),
    "ragged": ("1,2\n\n3,4,5\n", "line 3: 3 payoffs, but the first row has 2"),
    "empty": ("# nothing\n\n", "no payoffs found"),
    "header_only": ("a,b\n", "only a header row"),
    "header_width": ("a,b,c,d\n1,2\n", "the header names 4 columns"),
    "infinite": ("1,inf\n", "line 1, column 2: 'inf' is not a finite payoff"),
    "mixed_labels": ("1,2\nx,3\n", "line 2, column 1: 'x' is not a number"),
}


@pytest.mark.parametrize("case", sorted(BAD_CSV))
def test_malformed_csv_names_the_line(case: str, tmp_path: Path) -> None:
    text, message = BAD_CSV[case]
    path = tmp_path / f"{case}.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InvalidGameError) as info:
        read_game(path)
    assert str(info.value).startswith(str(path)) and message in str(info.value)
    assert "\n" not in str(info.value)


def test_malformed_files_of_other_kinds(tmp_path: Path) -> None:
    (tmp_path / "g.txt").write_text("1,2\n", encoding="utf-8")
    with pytest.raises(InvalidGameError, match="unknown game file type"):
        read_game(tmp_path / "g.txt")
    (tmp_path / "junk.npy").write_bytes(b"not numpy")
    with pytest.raises(InvalidGameError, match=r"not a readable \.npy"):
        read_game(tmp_path / "junk.npy")
    np.save(tmp_path / "cube.npy", np.zeros((3, 2, 2)))
    with pytest.raises(InvalidGameError, match=r"cube\.npy"):
        read_game(tmp_path / "cube.npy")
    np.save(tmp_path / "text.npy", np.array(["a", "b"]))
    with pytest.raises(InvalidGameError, match="must hold numbers"):
        read_game(tmp_path / "text.npy")
    (tmp_path / "a.csv").write_text("1,2\n", encoding="utf-8")
    (tmp_path / "b.csv").write_text("1,2\n3,4\n", encoding="utf-8")
    with pytest.raises(InvalidGameError, match="do not match"):
        read_game(tmp_path / "a.csv", tmp_path / "b.csv")
    with pytest.raises(InvalidGameError, match=r"must be a \.csv"):
        read_game(tmp_path / "a.csv", tmp_path / "junk.npy")
    with pytest.raises(InvalidGameError, match="cannot read"):
        read_game(tmp_path / "missing.csv")
    with pytest.raises(NFGFormatError):
        read_game(DATA / "malformed.nfg")
