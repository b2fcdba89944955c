"""Reading and writing Gambit's strategic-game ``.nfg`` format (version 1, R or D).

So that researchers can move games between Arena, Gambit and the many published game
collections, :func:`read_nfg` accepts both forms Gambit documents
(https://gambitproject.readthedocs.io, "Game representation formats"):

* the *payoff* form: header, then a flat list of payoffs, all players' payoffs for one
  pure profile after another;
* the *outcome* form: header, a braced list of outcomes ``{ "name" p1, p2, ... }``, then
  one outcome index per pure profile (``0`` is the null outcome paying everyone zero).

In both, profiles are listed with player 1's strategy changing fastest. The header is
``NFG 1 R|D "title" { "player" ... }`` followed by either strategy counts ``{ 3 2 }``
or nested strategy labels ``{ { "a" "b" } { "c" } }``, and an optional comment string.
Labels are double-quoted; ``\\"`` inside a label is a literal quote (a backslash before
any other character is kept, as Gambit's own lexer does). Numbers may be integers,
decimals (with an optional exponent) or rationals ``a/b``; they are read exactly and
rounded once to float64.

Errors raise :class:`NFGFormatError` naming the line (and the source file).
:func:`write_nfg` writes the payoff form with strategy labels (or, on request, the
outcome form) and round-trips through :func:`read_nfg` exactly: numbers are written as
integers when integral and otherwise as Python's shortest repr, which Gambit parses.
The comment field is read but not kept (a :class:`NormalFormGame` has only a title).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Literal

import numpy as np

from theory.errors import InvalidGameError, NFGFormatError
from theory.games import NormalFormGame

__all__ = ["NFGFormatError", "format_nfg", "read_nfg", "write_nfg"]

_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?(?:/\d+)?$")


@dataclass(frozen=True)
class _Token:
    kind: Literal["number", "text", "symbol", "{", "}", ",", "eof"]
    value: str
    line: int


def _describe(token: _Token) -> str:
    if token.kind == "eof":
        return "end of file"
    if token.kind == "text":
        return f'the label "{token.value}"'
    return f"{token.value!r}"


def _tokenize(text: str, source: str) -> list[_Token]:
    tokens: list[_Token] = []
    i, line, size = 0, 1, len(text)
    while i < size:
        c = text[i]
        if c == "\n":
            line += 1
            i += 1
        elif c.isspace():
            i += 1
        elif c in "{},":
            tokens.append(_Token(c, c, line))  # type: ignore[arg-type]
            i += 1
        elif c == '"':
            start_line = line
            i += 1
            chars: list[str] = []
            while True:
                if i >= size:
                    raise NFGFormatError(
                        f"{source}: line {start_line}: a quoted label starting here is never "
                        'closed. Fix: end it with a double quote (write \\" for a quote inside).'
                    )
                c = text[i]
                if c == "\\" and i + 1 < size and text[i + 1] == '"':
                    chars.append('"')
                    i += 2
                    continue
                if c == '"':
                    i += 1
                    break
                if c == "\n":
                    line += 1
                chars.append(c)
                i += 1
            tokens.append(_Token("text", "".join(chars), start_line))
        else:
            start = i
            while i < size and not text[i].isspace() and text[i] not in '{},"':
                i += 1
            word = text[start:i]
            kind: Literal["number", "symbol"] = "number" if _NUMBER.match(word) else "symbol"
            tokens.append(_Token(kind, word, line))
    tokens.append(_Token("eof", "", line))
    return tokens


class _Parser:
    def __init__(self, text: str, source: str) -> None:
        self.source = source
        self.tokens = _tokenize(text, source)
        self.pos = 0

    @property
    def current(self) -> _Token:
        return self.tokens[self.pos]

    def advance(self) -> _Token:
        token = self.tokens[self.pos]
        if token.kind != "eof":
            self.pos += 1
        return token

    def error(self, message: str, token: _Token | None = None) -> NFGFormatError:
        token = token or self.current
        return NFGFormatError(f"{self.source}: line {token.line}: {message}")

    def expect(self, kind: str, what: str) -> _Token:
        token = self.current
        if token.kind != kind:
            raise self.error(f"expected {what}, found {_describe(token)}.")
        return self.advance()

    def number(self, what: str) -> Fraction:
        token = self.expect("number", what)
        try:
            value = Fraction(token.value)
        except (ValueError, ZeroDivisionError) as exc:
            raise self.error(f"{token.value!r} is not a valid number ({exc}).", token) from exc
        return value

    def integer(self, what: str) -> tuple[int, _Token]:
        token = self.current
        value = self.number(what)
        if value.denominator != 1:
            raise self.error(f"expected {what} (a whole number), found {token.value!r}.", token)
        return int(value), token

    def header(self) -> tuple[str, list[str], list[list[str]]]:
        token = self.current
        if token.kind != "symbol" or token.value != "NFG":
            raise self.error(
                f"expected the file type 'NFG' at the start, found {_describe(token)}. "
                "Fix: a Gambit strategic game file starts with 'NFG 1 R \"title\"'."
            )
        self.advance()
        token = self.current
        if token.kind != "number" or token.value != "1":
            raise self.error(f"only NFG version 1 is supported, found {_describe(token)}.")
        self.advance()
        token = self.current
        if token.kind != "symbol" or token.value not in ("R", "D"):
            raise self.error(f"expected the data type R or D, found {_describe(token)}.")
        self.advance()
        title = self.expect("text", "the quoted game title").value
        self.expect("{", "'{' opening the list of player names")
        players: list[str] = []
        while self.current.kind == "text":
            players.append(self.advance().value)
        self.expect("}", "a quoted player name or '}' closing the player list")
        if not players:
            raise self.error("the player list is empty; a game needs at least one player.")
        strategies = self.strategies(players)
        if self.current.kind == "text":  # optional comment
            self.advance()
        return title, players, strategies

    def strategies(self, players: list[str]) -> list[list[str]]:
        self.expect("{", "'{' opening the strategy list")
        out: list[list[str]] = []
        if self.current.kind == "{":
            for player in players:
                self.expect("{", f"'{{' opening the strategy labels of {player!r}")
                labels: list[str] = []
                while self.current.kind == "text":
                    labels.append(self.advance().value)
                self.expect("}", f"a quoted strategy label or '}}' for {player!r}")
                if not labels:
                    raise self.error(f"player {player!r} has no strategies.")
                out.append(labels)
        else:
            for player in players:
                count, token = self.integer(f"the number of strategies of {player!r}")
                if count < 1:
                    raise self.error(f"player {player!r} must have at least one strategy.", token)
                out.append([str(k + 1) for k in range(count)])
        self.expect("}", "'}' closing the strategy list (one entry per player)")
        return out

    def payoff_body(self, n_players: int, n_profiles: int) -> list[Fraction]:
        values = []
        for k in range(n_profiles * n_players):
            profile, player = divmod(k, n_players)
            values.append(self.number(f"payoff {player + 1} of profile {profile + 1}"))
        return values

    def outcome_body(self, n_players: int, n_profiles: int) -> list[Fraction]:
        self.expect("{", "'{' opening the outcome list")
        outcomes: list[list[Fraction]] = [[Fraction(0)] * n_players]  # outcome 0: null
        while self.current.kind == "{":
            self.advance()
            self.expect("text", "the quoted outcome name")
            payoffs = []
            for player in range(n_players):
                payoffs.append(self.number(f"payoff {player + 1} of outcome {len(outcomes)}"))
                if self.current.kind == ",":
                    self.advance()
            self.expect("}", f"'}}' closing outcome {len(outcomes)} ({n_players} payoffs)")
            outcomes.append(payoffs)
        self.expect("}", "'{' opening an outcome or '}' closing the outcome list")
        values: list[Fraction] = []
        for profile in range(n_profiles):
            index, token = self.integer(f"the outcome index of profile {profile + 1}")
            if not 0 <= index < len(outcomes):
                raise self.error(
                    f"outcome index {index} does not exist; the file defines outcomes "
                    f"1..{len(outcomes) - 1} (0 is the null outcome).",
                    token,
                )
            values.extend(outcomes[index])
        return values


def _source_text(source: str | Path) -> tuple[str, str]:
    if isinstance(source, str) and re.match(r"\s*NFG\s", source):
        return source, "<nfg text>"
    path = Path(source)
    try:
        return path.read_text(encoding="utf-8"), str(path)
    except OSError as exc:
        raise NFGFormatError(
            f"cannot read {path}: {exc.strerror or exc}. Fix: check the file path."
        ) from exc
    except UnicodeDecodeError as exc:
        raise NFGFormatError(f"{path} is not a UTF-8 text file ({exc.reason}).") from exc


def read_nfg(source: str | Path) -> NormalFormGame:
    """Parse a Gambit ``.nfg`` game from a path, or from the text itself.

    A ``str`` that starts with ``NFG`` and whitespace is taken as file contents;
    anything else is a path. Raises :class:`NFGFormatError` naming the line.
    """
    text, name = _source_text(source)
    parser = _Parser(text, name)
    title, players, strategies = parser.header()
    shape = tuple(len(s) for s in strategies)
    n_players, n_profiles = len(players), math.prod(shape)
    if parser.current.kind == "{":
        values = parser.outcome_body(n_players, n_profiles)
    elif parser.current.kind == "number":
        values = parser.payoff_body(n_players, n_profiles)
    else:
        raise parser.error(
            f"expected the payoffs (numbers) or an outcome list ('{{'), found "
            f"{_describe(parser.current)}."
        )
    if parser.current.kind != "eof":
        expected = n_profiles * n_players
        raise parser.error(
            f"unexpected {_describe(parser.current)} after the last entry; a game with "
            f"strategy counts {list(shape)} has {n_profiles} profiles "
            f"({expected} payoffs in the payoff form)."
        )
    flat = np.array([float(v) for v in values], dtype=np.float64).reshape(n_profiles, n_players)
    payoffs = np.stack([flat[:, i].reshape(shape, order="F") for i in range(n_players)])
    try:
        return NormalFormGame(payoffs, tuple(players), tuple(map(tuple, strategies)), title)
    except InvalidGameError as exc:
        raise NFGFormatError(f"{name}: {exc}") from exc


def _quote(label: str) -> str:
    if label.endswith("\\"):
        raise NFGFormatError(
            f"the label {label!r} ends with a backslash, which the .nfg format cannot "
            "represent (it would escape the closing quote). Fix: rename it."
        )
    return '"' + label.replace('"', '\\"') + '"'


def _number(value: float) -> str:
    if value.is_integer() and abs(value) < 2**53:
        return str(int(value))
    return repr(float(value))


def format_nfg(game: NormalFormGame, *, form: Literal["payoff", "outcome"] = "payoff") -> str:
    """The ``.nfg`` text of ``game`` (see :func:`write_nfg`)."""
    n = game.num_players
    lines = [
        f"NFG 1 R {_quote(game.title)} {{ {' '.join(_quote(p) for p in game.players)} }}",
        "{",
        *(f"{{ {' '.join(_quote(s) for s in strategies)} }}" for strategies in game.strategies),
        "}",
        '""',
        "",
    ]
    flat = np.stack(
        [game.payoffs[i].reshape(-1, order="F") for i in range(n)], axis=1
    )  # (profiles, players), player 1 fastest
    if form == "payoff":
        lines.extend(" ".join(_number(float(v)) for v in row) for row in flat)
    elif form == "outcome":
        index: dict[tuple[float, ...], int] = {}
        for row in flat:
            index.setdefault(tuple(float(v) for v in row), len(index) + 1)
        lines.append("{")
        lines.extend(f'{{ "" {", ".join(_number(v) for v in payoffs)} }}' for payoffs in index)
        lines.append("}")
        lines.append(" ".join(str(index[tuple(float(v) for v in row)]) for row in flat))
    else:
        raise InvalidGameError(f"unknown .nfg form {form!r}; use 'payoff' or 'outcome'.")
    return "\n".join(lines) + "\n"


def write_nfg(
    game: NormalFormGame,
    path: str | Path,
    *,
    form: Literal["payoff", "outcome"] = "payoff",
) -> None:
    """Save ``game`` as a Gambit ``.nfg`` file in the payoff (default) or outcome form."""
    Path(path).write_text(format_nfg(game, form=form), encoding="utf-8")
