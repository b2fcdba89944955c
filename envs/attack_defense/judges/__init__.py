"""Judges: label the attack prompt and the defender's response, in batches.

One interface, :class:`Judge`: ``judge(prompts, responses) -> list[Verdict]`` (one
verdict per pair, in order) and ``describe()`` (the dict a run manifest records).
Batching is the contract because a guard model on a GPU is only fast on a batch.

* :class:`RuleJudge` — the offline default. No model: the prompt is unsafe iff one of
  its decodings (:func:`~envs.attack_defense.codecs.decode_candidates`: plain, base64,
  Caesar-3, Atbash, Morse) contains the shipped seeds' harm marker ``REDACTED``; the
  response is a refusal iff it matches a refusal phrase (:data:`REFUSAL_PHRASES`) near its
  start, and unsafe iff it is not a refusal and one of its decodings carries the marker
  (a complying defender echoes the request). It is exact for the shipped placeholder
  seeds, which is all it claims; it runs at microseconds per pair so environment
  benchmarks measure the environment, not the judge.
* :class:`GuardJudge` — any guard model behind a ``generate(chats) -> list[str]``
  callable, Qwen3Guard-Gen style (``Safety: Safe|Unsafe|Controversial``,
  ``Categories: ...``, ``Refusal: Yes|No``) or Llama-Guard style (``safe`` /
  ``unsafe`` + ``S1,S2``). All chats of one ``judge()`` call go to ``generate`` in ONE
  call. Parsing never raises: output that cannot be read gives
  ``SafetyLabel.UNPARSABLE`` / ``refusal=None``, and how those count is the reward's
  explicit :class:`~envs.attack_defense.verdicts.JudgeSettings`.
* :class:`CachedJudge` — memoises any judge per (prompt, response); ``prefetch`` judges
  every uncached pair of a lock-step round in one batched inner call.
"""

from envs.attack_defense.judges.base import Chat, Generator, Judge
from envs.attack_defense.judges.cache import CachedJudge
from envs.attack_defense.judges.guard import (
    LLAMAGUARD_CATEGORIES,
    QWEN3GUARD_CATEGORIES,
    GuardJudge,
    GuardOutput,
    GuardStyle,
    PromptMode,
    format_guard_output,
    format_llamaguard_output,
    llamaguard_instruction,
    moderation_chat,
    parse_guard_output,
    parse_llamaguard_output,
    qwen3guard_instruction,
)
from envs.attack_defense.judges.rule import (
    HARM_MARKER,
    REFUSAL_PHRASES,
    RuleJudge,
    is_refusal,
    marker_reading,
)

__all__ = [
    "HARM_MARKER",
    "LLAMAGUARD_CATEGORIES",
    "QWEN3GUARD_CATEGORIES",
    "REFUSAL_PHRASES",
    "CachedJudge",
    "Chat",
    "Generator",
    "GuardJudge",
    "GuardOutput",
    "GuardStyle",
    "Judge",
    "PromptMode",
    "RuleJudge",
    "format_guard_output",
    "format_llamaguard_output",
    "is_refusal",
    "llamaguard_instruction",
    "marker_reading",
    "moderation_chat",
    "parse_guard_output",
    "parse_llamaguard_output",
    "qwen3guard_instruction",
]
