"""Parsing of the attacker's ``<think>…</think><answer>…</answer>`` output.

See ``docs/papers.md#magic-episode``.

* ``is_well_formatted``: exactly one of each tag, and the whole trimmed text matches
  ``^<think>…</think>\\s*<answer>…</answer>$`` (MAGIC's ``format_reward_func``).
* ``extract_answer``: the text inside ``<answer>``; without tags, the whole output with
  every ``<think>…</think>`` removed (MAGIC's fallback). The defender only ever sees this,
  so the attacker's reasoning stays private.
"""

from __future__ import annotations

import re

_FORMAT = re.compile(r"^<think>.*?</think>\s*<answer>.*?</answer>$", re.DOTALL)
_ANSWER = re.compile(r"<answer>(.*?)</answer>", re.DOTALL)
_THINK = re.compile(r"<think>.*?(</think>|$)", re.DOTALL)
_TAGS = ("<think>", "</think>", "<answer>", "</answer>")


def is_well_formatted(text: str) -> bool:
    stripped = text.strip()
    if not stripped or any(stripped.count(tag) != 1 for tag in _TAGS):
        return False
    return _FORMAT.match(stripped) is not None


def extract_answer(text: str) -> str:
    # Think blocks go first: a think that mentions "<answer>" must not leak into the answer.
    without_think = _THINK.sub("", text)
    match = _ANSWER.search(without_think)
    if match:
        return match.group(1).strip()
    for tag in _TAGS:
        without_think = without_think.replace(tag, "")
    return without_think.strip()


def format_attack(think: str, answer: str) -> str:
    """The well-formed attacker output for a reasoning trace and a rewritten prompt."""
    return f"<think>{think}</think>\n<answer>{answer}</answer>"
