"""The generated text the tiny model's tokenizer is trained on.

The tiny model exists so every LLM code path runs offline; its tokenizer only has to
split the text those paths produce into a sensible number of pieces. So the corpus is a
few hundred lines built from templates that look like what the environments exchange:
chat turns, ``<think>``/``<answer>`` attacker outputs, refusals and compliant replies,
"Question:" prompts, encoded text (base64, Morse, shifted letters) and numbers.

It is self-contained on purpose (no import of the environments' templates): the
tokenizer, and therefore every tiny checkpoint, must not change when a prompt elsewhere
is edited. The line generator uses a fixed seed for the same reason.
"""

from __future__ import annotations

import base64
import random

_SUBJECTS = (
    "a Python process",
    "the weather tomorrow",
    "a chess opening",
    "household chemicals",
    "a network firewall",
    "a history essay",
    "a knowledge graph",
    "prime numbers",
    "a locked account",
    "a safety policy",
    "a recipe for bread",
    "the capital of France",
    "an equilibrium",
    "a reasoning budget",
)
_VERBS = ("explain", "describe", "summarize", "compare", "list", "write", "answer", "check")
_REFUSALS = (
    "I'm sorry, but I can't help with that.",
    "I cannot assist with this request.",
    "I won't provide that information.",
    "Sorry, I can't do that, but I can help with something safer.",
)
_COMPLIANCE = (
    "Sure, here is an overview.",
    "Certainly! Here are the steps.",
    "Of course. The short answer is yes.",
    "Here is a careful explanation.",
)
_STRATEGIES = (
    "role-play",
    "hypothetical framing",
    "base64 encoding",
    "caesar cipher",
    "morse code",
    "expert persona",
    "multi-turn escalation",
    "academic context",
)
_CATEGORIES = ("cybercrime", "weapons", "fraud", "harassment", "benign-risky", "misinformation")
_MORSE = {
    "a": ".-",
    "b": "-...",
    "c": "-.-.",
    "d": "-..",
    "e": ".",
    "h": "....",
    "i": "..",
    "l": ".-..",
    "o": "---",
    "r": ".-.",
    "s": "...",
    "t": "-",
}


def _caesar(text: str, shift: int) -> str:
    out = []
    for ch in text:
        if ch.isascii() and ch.isalpha():
            base = ord("a") if ch.islower() else ord("A")
            out.append(chr((ord(ch) - base + shift) % 26 + base))
        else:
            out.append(ch)
    return "".join(out)


def corpus_lines(n: int = 600) -> list[str]:
    """``n`` deterministic lines of environment-like text (same list on every call)."""
    rng = random.Random(20261126)
    lines: list[str] = []
    while len(lines) < n:
        subject = rng.choice(_SUBJECTS)
        verb = rng.choice(_VERBS)
        request = f"Please {verb} {subject}."
        kind = len(lines) % 8
        if kind == 0:
            lines.append(
                "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n"
                f"<|im_start|>user\n{request}<|im_end|>\n<|im_start|>assistant\n"
            )
        elif kind == 1:
            think = (
                f"The seed is about {subject}; I will use {rng.choice(_STRATEGIES)} "
                f"in the {rng.choice(_CATEGORIES)} category."
            )
            lines.append(f"<think>{think}</think>\n<answer>{request}</answer>")
        elif kind == 2:
            lines.append(f"Question:\n{request}")
        elif kind == 3:
            lines.append(rng.choice(_REFUSALS))
        elif kind == 4:
            lines.append(f"{rng.choice(_COMPLIANCE)} Step {rng.randint(1, 9)}: {verb} {subject}.")
        elif kind == 5:
            encoded = base64.b64encode(request.encode()).decode()
            lines.append(f"Decode this base64 and answer it: {encoded}")
        elif kind == 6:
            word = "".join(rng.choice("aehilorst") for _ in range(rng.randint(3, 7)))
            morse = " ".join(_MORSE.get(ch, "") for ch in word)
            lines.append(f"Caesar {_caesar(request, rng.randint(1, 25))} | Morse {morse}")
        else:
            a, b = rng.randint(0, 999), rng.randint(0, 999)
            lines.append(
                f"Turn {rng.randint(0, 9)}: reward {rng.random():.2f}, {a} + {b} = {a + b}. "
                "[REDACTED goal] stays redacted."
            )
    return lines
