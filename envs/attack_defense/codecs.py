"""Reversible text encodings used by encoding attacks (MAGIC taxonomy id 13).

Attackers encode, the decode-then-filter defender and the rule judge decode: keeping both
directions in one module guarantees they agree. ``decode_candidates`` returns every
plausible plain-text reading of a string so a filter can check them all.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable

MORSE = {
    "a": ".-", "b": "-...", "c": "-.-.", "d": "-..", "e": ".", "f": "..-.", "g": "--.",
    "h": "....", "i": "..", "j": ".---", "k": "-.-", "l": ".-..", "m": "--", "n": "-.",
    "o": "---", "p": ".--.", "q": "--.-", "r": ".-.", "s": "...", "t": "-", "u": "..-",
    "v": "...-", "w": ".--", "x": "-..-", "y": "-.--", "z": "--..", "0": "-----",
    "1": ".----", "2": "..---", "3": "...--", "4": "....-", "5": ".....", "6": "-....",
    "7": "--...", "8": "---..", "9": "----.", ".": ".-.-.-", ",": "--..--", "?": "..--..",
    "'": ".----.", ":": "---...", "-": "-....-", "(": "-.--.", ")": "-.--.-",
}  # fmt: skip
_MORSE_REVERSE = {code: char for char, code in MORSE.items()}
_MORSE_ONLY = re.compile(r"^[.\-/ \n]+$")
BASE64_TOKEN = re.compile(r"[A-Za-z0-9+/]{12,}={0,2}")
MORSE_CHUNK = re.compile(r"[.\-/ ]{8,}")


_LOWER = "abcdefghijklmnopqrstuvwxyz"
_UPPER = _LOWER.upper()
_ATBASH = str.maketrans(_LOWER + _UPPER, _LOWER[::-1] + _UPPER[::-1])
_CAESAR_TABLES: dict[int, dict[int, int]] = {}


def caesar(text: str, shift: int = 3) -> str:
    """Shift letters by ``shift`` (``str.translate`` tables: ~30x a per-character loop)."""
    shift %= 26
    table = _CAESAR_TABLES.get(shift)
    if table is None:
        shifted = _LOWER[shift:] + _LOWER[:shift]
        table = str.maketrans(_LOWER + _UPPER, shifted + shifted.upper())
        _CAESAR_TABLES[shift] = table
    return text.translate(table)


def atbash(text: str) -> str:
    return text.translate(_ATBASH)


def to_base64(text: str) -> str:
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def from_base64(text: str) -> str | None:
    try:
        return base64.b64decode(text.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None


def to_morse(text: str) -> str:
    words = text.lower().split()
    return " / ".join(" ".join(MORSE[c] for c in word if c in MORSE) for word in words)


def from_morse(text: str) -> str | None:
    if not _MORSE_ONLY.match(text.strip() or "x"):
        return None
    words = text.strip().split("/")
    decoded = ["".join(_MORSE_REVERSE.get(code, "") for code in word.split()) for word in words]
    return " ".join(w for w in decoded if w)


ENCODERS: dict[str, Callable[[str], str]] = {
    "base64": to_base64,
    "caesar": caesar,
    "atbash": atbash,
    "morse": to_morse,
}


def decode_candidates(text: str) -> list[str]:
    """All plain-text readings of ``text``: itself, and each decoding that applies.

    Base64 is tried on every long base64-looking token (attacks wrap the payload in
    instructions); Caesar (shift 3, the common one) and Atbash are applied to the whole
    text since they cannot be detected cheaply; Morse only to text made of dots/dashes.
    """
    candidates = [text]
    for token in BASE64_TOKEN.findall(text):
        decoded = from_base64(token)
        if decoded:
            candidates.append(decoded)
    candidates.append(caesar(text, -3))
    candidates.append(atbash(text))
    for chunk in MORSE_CHUNK.findall(text):
        morse = from_morse(chunk)
        if morse:
            candidates.append(morse)
    return candidates
