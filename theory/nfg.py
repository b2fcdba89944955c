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
decimals (with an optional exponent) or rationals ``a/b`` of integers; each is rounded
once, correctly, to float64, and one outside the float64 range is an error. A UTF-8
byte-order mark at the start is ignored.

Errors raise :class:`NFGFormatError` naming the line (and the source file).
:func:`write_nfg` writes the payoff form with strategy labels (or, on request, the
outcome form) and round-trips through :func:`read_nfg` exactly: numbers are written as
integers when integral and otherwise as Python's shortest repr, which Gambit parses.
The comment field is read but not kept (a :class:`NormalFormGame` has only a title).
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path
from typing import Literal, NamedTuple

import numpy as np
from numpy.typing import NDArray

from theory.errors import InvalidGameError, NFGFormatError
from theory.games import NormalFormGame

__all__ = ["NFGFormatError", "format_nfg", "read_nfg", "write_nfg"]

# A number: a decimal with optional exponent, or a rational of two integers.
_NUMBER_BODY = r"[+-]?(?:\d+/\d+|(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)"
_NUMBER = re.compile(_NUMBER_BODY)
_INTEGER = re.compile(r"[+-]?\d+")
# A character outside decimal numbers. Over this alphabet (no "_", letters, "/" or
# spaces inside a token) float() accepts exactly the decimals of _NUMBER_BODY, so a
# body free of these characters can be handed to float() token by token.
_NOT_DECIMAL = re.compile(r"[^0-9+\-.eE ]")
# One token; anything else between tokens is whitespace. A label is double-quoted; a
# backslash before a quote escapes it, before anything else it is kept (Gambit's lexer).
# A lone '"' is the start of a label that is never closed. No groups, so findall
# returns the token strings themselves in one C call.
_SCAN = re.compile(r'"(?:[^"\\]|\\"|\\(?!"))*"|[{},]|[^\s{},"]+|"')
# Longest token shown in an error message.
_SHOW = 40


class _Token(NamedTuple):
    kind: Literal["number", "text", "symbol", "{", "}", ",", "eof"]
    value: str
    position: int  # in the token list; its line is found only for error messages


def _show(value: str) -> str:
    return repr(value if len(value) <= _SHOW else value[: _SHOW - 3] + "...")


def _describe(token: _Token) -> str:
    if token.kind == "eof":
        return "end of file"
    if token.kind == "text":
        return f'the label "{token.value}"'
    return _show(token.value)


def _parse_number(word: str) -> float:
    """The float64 nearest to the number ``word`` (which matches ``_NUMBER``).

    Decimals go through :func:`float`, which rounds correctly and handles any exponent
    at once (``1e99999999999`` is ``inf``, not a huge exact integer); rationals are
    divided exactly. Raises ``ValueError`` with the reason when the value is not a
    finite float64.
    """
    if "/" in word:
        numerator, denominator = word.split("/")
        try:
            value = float(Fraction(int(numerator), int(denominator)))
        except ZeroDivisionError:
            raise ValueError("division by zero") from None
        except OverflowError:
            value = math.inf
        except ValueError:  # int() refuses more than sys.get_int_max_str_digits() digits
            raise ValueError("too many digits") from None
    else:
        value = float(word)
    if not math.isfinite(value):
        raise ValueError("outside the range of a float64, about +-1.8e308")
    return value


class _Parser:
    """Recursive-descent parser over the raw token strings of ``text``.

    Tokens are kept as the strings ``_SCAN`` found and classified when the parser looks
    at them, so a body of millions of payoffs costs one ``findall`` and one bulk
    conversion (:meth:`numbers`) rather than an object per token.
    """

    def __init__(self, text: str, source: str) -> None:
        self.text = text
        self.source = source
        self.raw: list[str] = _SCAN.findall(text)
        self.pos = 0
        if '"' in self.raw:
            token = _Token("text", '"', self.raw.index('"'))
            raise self.error(
                "a quoted label starting here is never closed. Fix: end it with a double "
                'quote (write \\" for a quote inside).',
                token,
            )

    def line(self, index: int) -> int:
        """Line of token ``index`` (scans the text again: only used for errors)."""
        if index >= len(self.raw):
            offset = len(self.text)
        else:
            match = next(itertools.islice(_SCAN.finditer(self.text), index, None))
            offset = match.start()
        return self.text.count("\n", 0, offset) + 1

    @property
    def current(self) -> _Token:
        return self.token(self.pos)

    def token(self, index: int) -> _Token:
        if index >= len(self.raw):
            return _Token("eof", "", index)
        word = self.raw[index]
        if word[0] == '"':
            return _Token("text", word[1:-1].replace('\\"', '"'), index)
        if word in ("{", "}", ","):
            return _Token(word, word, index)  # type: ignore[arg-type]
        return _Token("number" if _NUMBER.fullmatch(word) else "symbol", word, index)

    def remaining(self) -> int:
        """Tokens left before the end of the file."""
        return len(self.raw) - self.pos

    def advance(self) -> _Token:
        token = self.current
        if token.kind != "eof":
            self.pos += 1
        return token

    def error(self, message: str, token: _Token | None = None) -> NFGFormatError:
        token = token or self.current
        return NFGFormatError(f"{self.source}: line {self.line(token.position)}: {message}")

    def expect(self, kind: str, what: str) -> _Token:
        token = self.current
        if token.kind != kind:
            raise self.error(f"expected {what}, found {_describe(token)}.")
        return self.advance()

    def number(self, what: str) -> float:
        token = self.expect("number", what)
        try:
            return _parse_number(token.value)
        except ValueError as exc:
            raise self.error(f"{_show(token.value)} is not a valid number ({exc}).", token) from exc

    def integer(self, what: str) -> tuple[int, _Token]:
        token = self.current
        if token.kind == "number" and _INTEGER.fullmatch(token.value):
            try:
                count = int(token.value)
            except ValueError as exc:  # more digits than int() converts
                raise self.error(
                    f"{_show(token.value)} is not a valid number (too many digits)."
                ) from exc
            self.advance()
            return count, token
        value = self.number(what)
        if not value.is_integer():
            raise self.error(
                f"expected {what} (a whole number), found {_show(token.value)}.", token
            )
        return int(value), token

    def numbers(self, count: int, name: Callable[[int], str]) -> NDArray[np.float64]:
        """The next ``count`` tokens as numbers; ``name(k)`` names the ``k``-th in errors.

        Fast path for large bodies (a 1000x1000 game has two million payoffs): one
        regex search checks that the tokens use only the characters of decimals, and
        :func:`float` converts them; rationals, and the token an error is about, are read
        one by one.
        """
        first = self.pos
        words = self.raw[first : first + count]
        out = np.empty(count)
        skip = 0
        if len(words) == count and not _NOT_DECIMAL.search(" ".join(words)):
            try:
                out = np.fromiter(map(float, words), dtype=np.float64, count=count)
            except ValueError:  # e.g. "1e" or "+-1": the slow path names the token
                out = np.full(count, np.nan)
            bad = np.flatnonzero(~np.isfinite(out))
            if len(bad) == 0:
                self.pos = first + count
                return out
            skip = int(bad[0])  # the slow path below reports this token
        self.pos = first + skip
        for k in range(skip, count):
            out[k] = self.number(name(k))
        return out

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
        opening = self.expect("{", "'{' opening the strategy list")
        counts: list[int] = []
        labels: list[list[str]] = []
        if self.current.kind == "{":
            for player in players:
                self.expect("{", f"'{{' opening the strategy labels of {player!r}")
                names: list[str] = []
                while self.current.kind == "text":
                    names.append(self.advance().value)
                self.expect("}", f"a quoted strategy label or '}}' for {player!r}")
                if not names:
                    raise self.error(f"player {player!r} has no strategies.")
                labels.append(names)
                counts.append(len(names))
        else:
            for player in players:
                count, token = self.integer(f"the number of strategies of {player!r}")
                if count < 1:
                    raise self.error(f"player {player!r} must have at least one strategy.", token)
                counts.append(count)
        self.expect("}", "'}' closing the strategy list (one entry per player)")
        # Every profile needs at least one token (a payoff or an outcome index), so more
        # profiles than tokens left means the counts are wrong; checking it here, before
        # building labels or arrays, keeps a count like 3000000000 from exhausting memory.
        profiles = math.prod(counts)
        if profiles > self.remaining():
            raise self.error(
                f"the strategy counts {counts} give {profiles:,} pure profiles, but only "
                f"{self.remaining():,} entries follow. Fix: correct the strategy counts.",
                opening,
            )
        return labels or [[str(k + 1) for k in range(count)] for count in counts]

    def payoff_body(self, n_players: int, n_profiles: int) -> NDArray[np.float64]:
        return self.numbers(
            n_profiles * n_players,
            lambda k: f"payoff {k % n_players + 1} of profile {k // n_players + 1}",
        )

    def outcome_body(self, n_players: int, n_profiles: int) -> NDArray[np.float64]:
        self.expect("{", "'{' opening the outcome list")
        outcomes: list[list[float]] = [[0.0] * n_players]  # outcome 0: null
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
        first = self.pos
        indices = self.numbers(n_profiles, lambda k: f"the outcome index of profile {k + 1}")
        bad = np.flatnonzero(
            (indices != np.floor(indices)) | (indices < 0) | (indices >= len(outcomes))
        )
        if len(bad):
            token = self.token(first + int(bad[0]))
            raise self.error(
                f"outcome index {token.value[:_SHOW]} of profile {int(bad[0]) + 1} does not "
                f"exist; the file defines outcomes 1..{len(outcomes) - 1} (0 is the null "
                "outcome).",
                token,
            )
        table = np.array(outcomes, dtype=np.float64)
        return table[indices.astype(np.intp)].reshape(-1)


def _source_text(source: str | Path) -> tuple[str, str]:
    if isinstance(source, str) and re.match(r"\ufeff?\s*NFG\s", source):
        return source.removeprefix("\ufeff"), "<nfg text>"
    path = Path(source)
    try:
        # utf-8-sig: files saved by Windows editors start with a byte-order mark.
        return path.read_text(encoding="utf-8-sig"), str(path)
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
    flat = values.reshape(n_profiles, n_players)
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
