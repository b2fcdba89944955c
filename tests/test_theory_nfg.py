"""Gambit .nfg reading (payoff and outcome forms) and writing (exact round trips)."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from theory.games import NormalFormGame
from theory.nfg import NFGFormatError, format_nfg, read_nfg, write_nfg

DATA = Path(__file__).parent / "data"

# Gambit's documentation example (e02.nfg), in both forms.
SELTEN_PAYOFF = """NFG 1 R "Selten (IJGT, 75), Figure 2, normal form"
{ "Player 1" "Player 2" } { 3 2 }

1 1 0 2 0 2 1 1 0 3 2 0
"""
SELTEN_OUTCOME = """NFG 1 R "Selten (IJGT, 75), Figure 2, normal form" { "Player 1" "Player 2" }

{
{ "1" "2" "3" }
{ "1" "2" }
}

{
{ "" 1, 1 }
{ "" 0, 2 }
{ "" 0, 2 }
{ "" 1, 1 }
{ "" 0, 3 }
{ "" 2, 0 }
}
1 2 3 4 5 6
"""


def test_payoff_form_orders_profiles_with_player_one_fastest() -> None:
    game = read_nfg(SELTEN_PAYOFF)
    assert game.title == "Selten (IJGT, 75), Figure 2, normal form"
    assert game.players == ("Player 1", "Player 2")
    assert game.strategies == (("1", "2", "3"), ("1", "2"))
    A, B = game.bimatrix()
    assert A.tolist() == [[1, 1], [0, 0], [0, 2]]
    assert B.tolist() == [[1, 1], [2, 3], [2, 0]]


def test_outcome_form_reads_the_same_game() -> None:
    assert read_nfg(SELTEN_OUTCOME) == read_nfg(SELTEN_PAYOFF)


def test_outcome_zero_is_the_null_outcome_and_commas_are_optional() -> None:
    text = 'NFG 1 R "g" { "a" "b" } { 2 1 }\n{ { "win" 3 -3 } }\n1 0\n'
    game = read_nfg(text)
    assert game.payoffs[:, :, 0].tolist() == [[3, 0], [-3, 0]]


def test_numbers_rationals_decimals_exponents() -> None:
    text = 'NFG 1 D "n" { "a" "b" } { 2 1 }\n1/3 -2.5 .25 1e3\n'
    game = read_nfg(text)
    assert game.payoffs[0, :, 0].tolist() == [1 / 3, 0.25]
    assert game.payoffs[1, :, 0].tolist() == [-2.5, 1000.0]


def test_quoted_labels_with_escaped_quotes_and_spaces() -> None:
    text = (
        'NFG 1 R "A \\"quoted\\" title" { "Player \\"one\\"" "two words" }\n'
        '{ { "x y" "\\"z\\"" } { "only" } }\n"a comment"\n1 2 3 4\n'
    )
    game = read_nfg(text)
    assert game.title == 'A "quoted" title'
    assert game.players == ('Player "one"', "two words")
    assert game.strategies == (("x y", '"z"'), ("only",))


def test_three_player_file_and_n_player_order() -> None:
    game = read_nfg(DATA / "three_player.nfg")
    assert game.num_strategies == (2, 2, 2)
    assert game.title == 'Three-player coordination, "all or nothing"'
    assert game.payoffs[:, 0, 0, 0].tolist() == [1, 1, 1]
    assert game.payoffs[:, 1, 1, 1].tolist() == [2, 2, 2]
    assert np.count_nonzero(game.payoffs) == 6


@pytest.mark.parametrize(
    "name", ["matching_pennies", "battle_of_sexes", "degenerate", "shapley", "three_player"]
)
def test_sample_files_parse_and_round_trip(name: str, tmp_path: Path) -> None:
    game = read_nfg(DATA / f"{name}.nfg")
    for form in ("payoff", "outcome"):
        path = tmp_path / f"{name}-{form}.nfg"
        write_nfg(game, path, form=form)
        assert read_nfg(path) == game


labels = st.text(
    alphabet=st.characters(exclude_categories=["Cs"], exclude_characters="\\"), max_size=6
)


@settings(max_examples=40, deadline=None)
@given(
    st.tuples(st.integers(1, 3), st.integers(1, 3), st.integers(1, 2)).flatmap(
        lambda shape: arrays(
            np.float64,
            (len(shape), *shape),
            elements=st.floats(-1e6, 1e6, allow_nan=False, allow_subnormal=False),
        )
    ),
    labels,
    st.sampled_from(["payoff", "outcome"]),
)
def test_property_write_read_round_trip_is_exact(
    payoffs: np.ndarray, title: str, form: str
) -> None:
    names = tuple(f'p "{k}"' for k in range(payoffs.shape[0]))
    game = NormalFormGame(payoffs, players=names, title=title)
    assert read_nfg(format_nfg(game, form=form)) == game  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ('EFG 2 R "x" { "a" }', 1, "'NFG'"),
        ('NFG 2 R "x" { "a" } { 1 }\n1', 1, "version 1"),
        ('NFG 1 Q "x" { "a" } { 1 }\n1', 1, "R or D"),
        ('NFG 1 R "x" { "a" "b" } { 2 2 }\n1 2 3 4\n5 6 x 8\n', 3, "found 'x'"),
        ('NFG 1 R "x" { "a" "b" } { 2 2 }\n1 2 3 4\n5 6 7\n', 4, "end of file"),
        ('NFG 1 R "x" { "a" "b" } { 2 1 }\n1 2\n3 4\n5\n', 4, "after the last entry"),
        ('NFG 1 R "x" { "a" "b" }\n{ 2 }\n1 2', 2, "number of strategies"),
        ('NFG 1 R "x" { "a" }\n{ 2 }\n1 "open', 3, "never closed"),
        ('NFG 1 R "x" { "a" "b" } { 1 1 }\n{ { "" 1 2 } }\n\n2\n', 4, "outcome index 2"),
        ('NFG 1 R "x" { "a" "b" } { 1 1 }\n{ { "" 1 } }\n1\n', 2, "payoff 2 of outcome 1"),
        ('NFG 1 R "x" { "a" } { 0 }\n', 1, "at least one strategy"),
        ('NFG 1 R "x" { "a" } { 1 }\n1/0\n', 2, "not a valid number"),
    ],
)
def test_malformed_files_name_the_line(text: str, line: int, fragment: str, tmp_path: Path) -> None:
    path = tmp_path / "game.nfg"
    path.write_text(text)
    with pytest.raises(NFGFormatError) as info:
        read_nfg(path)
    message = str(info.value)
    assert f"game.nfg: line {line}:" in message
    assert fragment in message


def test_malformed_sample_file_names_file_and_line() -> None:
    with pytest.raises(NFGFormatError, match=r"malformed\.nfg: line 4: .*found 'x'"):
        read_nfg(DATA / "malformed.nfg")


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(NFGFormatError, match="cannot read"):
        read_nfg(tmp_path / "missing.nfg")


def test_label_ending_in_backslash_cannot_be_written() -> None:
    game = NormalFormGame.zero_sum([[1]], players=("a\\", "b"))
    with pytest.raises(NFGFormatError, match="backslash"):
        format_nfg(game)


def test_written_numbers_are_gambit_style() -> None:
    game = NormalFormGame.zero_sum([[1.0, 0.5], [-2.0, 1e-7]])
    text = format_nfg(game)
    assert "1 -1" in text and "0.5 -0.5" in text and "1e-07" in text


# Malformed numbers and counts that used to raise OverflowError / MemoryError or hang.
BAD_INPUTS = {
    "float_overflow": ('NFG 1 R "x" { "a" "b" } { 1 1 }\n1\n1e400\n', 3, "'1e400'"),
    "long_integer": ('NFG 1 R "x" { "a" "b" } { 1 1 }\n1\n' + "9" * 400 + "\n", 3, "'999"),
    "huge_exponent": ('NFG 1 R "x" { "a" "b" } { 1 1 }\n1\n1e99999999999\n', 3, "float64"),
    "huge_rational": ('NFG 1 R "x" { "a" "b" } { 1 1 }\n1\n' + "9" * 400 + "/7\n", 3, "float64"),
    "huge_count": ('NFG 1 R "x" { "a" "b" }\n{ 3000000000 2 }\n1 2 3 4\n', 2, "3000000000"),
    "many_digits_count": ('NFG 1 R "x" { "a" }\n{ ' + "9" * 5000 + " }\n1\n", 2, "digits"),
    "bom_then_error": ('\ufeffNFG 1 R "x" { "a" } { 1 }\nfoo\n', 2, "found 'foo'"),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_out_of_range_inputs_name_the_line(case: str, tmp_path: Path) -> None:
    text, line, fragment = BAD_INPUTS[case]
    path = tmp_path / "bad.nfg"
    path.write_text(text, encoding="utf-8")
    start = time.perf_counter()
    with pytest.raises(NFGFormatError) as info:
        read_nfg(path)
    # a hang guard, not a speed goal: `1e99999999999` once made Fraction run for minutes
    assert time.perf_counter() - start < 20.0
    message = str(info.value)
    assert f"bad.nfg: line {line}:" in message and fragment in message
    assert "\ufeff" not in message and len(message) < 400


def test_utf8_byte_order_mark_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "bom.nfg"
    path.write_bytes(b"\xef\xbb\xbf" + SELTEN_PAYOFF.encode())
    assert read_nfg(path) == read_nfg(SELTEN_PAYOFF)
    assert read_nfg("\ufeff" + SELTEN_PAYOFF) == read_nfg(SELTEN_PAYOFF)


def test_large_file_reads_exactly() -> None:
    # Speed (300x300 in ~0.07 s, 1000x1000 in ~0.85 s) is measured, not asserted here.
    rng = np.random.default_rng(0)
    game = NormalFormGame.from_bimatrix(rng.normal(size=(300, 300)), rng.normal(size=(300, 300)))
    assert read_nfg(format_nfg(game)) == game


def test_fast_path_falls_back_for_rationals_and_bad_tokens() -> None:
    text = 'NFG 1 R "x" { "a" "b" } { 2 1 }\n1/3 0.1 -2e-3 +4.\n'
    assert read_nfg(text).payoffs[:, :, 0].tolist() == [[1 / 3, -2e-3], [0.1, 4.0]]
    for token in ("1e", "+-1", "1_0", "nan", "inf"):
        with pytest.raises(NFGFormatError, match="line 2: expected payoff 2 of profile 2"):
            read_nfg(f'NFG 1 R "x" {{ "a" "b" }} {{ 2 1 }}\n1 2 3 {token}\n')
