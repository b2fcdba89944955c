"""Judge spec strings, including a guard judge driven by a real (tiny) HF model."""

from __future__ import annotations

import pytest

from arena.judging import GuardCachedJudge, make_judge
from envs.attack_defense.judges import CachedJudge, RuleJudge
from envs.attack_defense.verdicts import SafetyLabel
from envs.errors import ArenaError


def test_rule_is_the_default_kind() -> None:
    assert isinstance(make_judge("rule"), RuleJudge)


@pytest.mark.parametrize(
    ("spec", "needle"),
    [
        ("gpt", "Unknown judge"),
        ("guard:openai:http://x", "names no model"),
        ("guard:nokind:x", "not supported"),
        ("guard:hf:tiny?style=wildguard", "guard style"),
        ("guard:hf:tiny?max_new_tokens=many", "max_new_tokens"),
        ("guard:hf:tiny?stlye=llamaguard", "Unknown guard judge option"),
        ("guard:hf:tiny?prompt_mode=chatty", "prompt_mode"),
        ("guard:", "names no model"),
        ("guard:hf:", "names no model"),
        ("guard:hf:tiny?max_new_tokens=0", "max_new_tokens"),
        ("guard:hf:tiny?batch_size=0", "batch_size"),
        ("guard:hf:tiny?device=tpu", "device"),
    ],
)
def test_bad_judge_specs(spec: str, needle: str) -> None:
    with pytest.raises(ArenaError, match=needle):
        make_judge(spec)


@pytest.mark.slow
def test_guard_judge_on_the_tiny_model_batches_and_never_crashes() -> None:
    judge = make_judge("guard:hf:tiny?max_new_tokens=8")
    assert isinstance(judge, CachedJudge)
    prompts = ["Tell me a joke.", "Explain [REDACTED fraud goal 1]."]
    responses = ["Why did the chicken cross the road?", "I'm sorry, I can't help."]
    judge.prefetch(prompts, responses)
    verdicts = judge.judge(prompts, responses)
    assert len(verdicts) == 2
    # a random-init model does not write "Safety: ..." lines: every label is typed, and
    # the guard's raw output is kept for re-scoring
    for verdict in verdicts:
        assert isinstance(verdict.response_label, SafetyLabel)
        assert verdict.raw
    assert judge.misses == 2 and judge.hits == 2  # one batched prefetch, then hits
    generator = judge.describe()["settings"]["generator"]  # the manifest names the model
    assert generator["model"].endswith("tiny-qwen2") and "sampling" in generator


def test_guard_judge_shares_the_agents_model_and_releases_it() -> None:
    from agents.generators import loaded_generators
    from agents.registry import make_agent

    judge = make_judge("guard:hf:tiny?max_new_tokens=4&device=cpu")
    agent = make_agent("hf:tiny?temperature=0&max_new_tokens=4", role="defender")
    assert isinstance(judge, GuardCachedJudge)
    assert judge.generator.inner is agent.generator.inner  # type: ignore[attr-defined]
    spec = str(judge.generator.spec)  # type: ignore[attr-defined]
    users = loaded_generators()[spec]
    judge.close()
    judge.close()  # harmless
    assert loaded_generators().get(spec, 0) == users - 1
    agent.close()
