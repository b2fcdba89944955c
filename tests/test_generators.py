"""The generator registry and per-chat seeded sampling on the tiny model.

What is pinned here:

* a sampled completion is a function of (chat, sampling parameters, its seed) only: the
  same for any backend ``batch_size``, any number of chats per call, any order;
* the same holds one level up, for :class:`LLMAgent` given the runner's seeds;
* the comparisons can fail: other seeds, or the old shared-stream sampling, change texts;
* one model is loaded once per process for an attacker, a defender and a guard judge
  naming it, and it is closed only when its last user is.
"""

from __future__ import annotations

import random
import shutil
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, cast

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

import agents.backends.hf as hf_backend  # noqa: E402
import agents.generators as generators  # noqa: E402
from agents.backends.base import Chat, SamplingParams, TextGenerator, chat_seeds  # noqa: E402
from agents.backends.hf import HFGenerator, SeededSampler, sample_tokens  # noqa: E402
from agents.generators import (  # noqa: E402
    SharedGenerator,
    acquire_generator,
    loaded_generators,
    register_generator_kind,
    release_generator,
    resolve_generator_spec,
)
from agents.llm import LLMAgent  # noqa: E402
from agents.registry import make_agent  # noqa: E402
from agents.tiny import ensure_tiny_model  # noqa: E402
from arena.judging import GuardCachedJudge, make_judge  # noqa: E402
from envs.errors import ArenaError  # noqa: E402
from envs.seeding import draw_seed, sub_seed  # noqa: E402

torch.set_num_threads(1)

HOT = SamplingParams(max_new_tokens=8, temperature=0.7)
NUCLEUS = SamplingParams(max_new_tokens=8, temperature=0.7, top_p=0.9)
N_CHATS = 16


def _chats(n: int = N_CHATS) -> list[list[dict[str, str]]]:
    # Lengths differ, so every batch of several chats is left-padded.
    return [
        [{"role": "user", "content": f"Question:\nexplain item {i} " + "and more " * (i % 7)}]
        for i in range(n)
    ]


def _seeds(n: int = N_CHATS) -> list[int]:
    return [draw_seed(0, episode, "defender", 0) for episode in range(n)]


@pytest.fixture(scope="module")
def by_batch_size() -> Iterator[dict[int, SharedGenerator]]:
    """hf:tiny at three backend batch sizes (three instances: loader options differ)."""
    handles = {bs: acquire_generator(f"hf:tiny?device=cpu&batch_size={bs}") for bs in (1, 7, 64)}
    yield handles
    for handle in handles.values():
        handle.close()


# -- batch invariance of the backend ---------------------------------------------------


@pytest.mark.parametrize("sampling", [HOT, NUCLEUS], ids=["temperature", "top_p"])
def test_sampled_text_does_not_depend_on_the_batch(
    by_batch_size: dict[int, SharedGenerator], sampling: SamplingParams
) -> None:
    chats, seeds = _chats(), _seeds()
    reference = by_batch_size[64].generate(chats, sampling, seeds)
    assert len(set(reference)) > N_CHATS // 2  # real, varied samples
    # the backend's own batch size (1: every chat alone, unpadded)
    assert by_batch_size[1].generate(chats, sampling, seeds) == reference
    for bs in (7, 64):
        generator = by_batch_size[bs]
        assert generator.generate(chats, sampling, seeds) == reference, bs
        # the order the chats come in
        order = list(range(N_CHATS))
        random.Random(bs).shuffle(order)
        shuffled = generator.generate(
            [chats[i] for i in order], sampling, [seeds[i] for i in order]
        )
        assert [shuffled[order.index(i)] for i in range(N_CHATS)] == reference, bs
        # how many chats a call carries (1, 5, 5, 5)
        chunked = [
            text
            for start, stop in ((0, 1), (1, 6), (6, 11), (11, N_CHATS))
            for text in generator.generate(chats[start:stop], sampling, seeds[start:stop])
        ]
        assert chunked == reference, bs


def test_other_seeds_give_other_text(by_batch_size: dict[int, SharedGenerator]) -> None:
    # The wrong variant the tests above must be able to catch: a seed is not ignored.
    chats, seeds = _chats(), _seeds()
    generator = by_batch_size[7]
    reference = generator.generate(chats, HOT, seeds)
    shifted = generator.generate(chats, HOT, [sub_seed(seed, 1) for seed in seeds])
    assert sum(a != b for a, b in zip(reference, shifted, strict=True)) > N_CHATS // 2


def test_a_shared_random_stream_is_not_batch_invariant(
    by_batch_size: dict[int, SharedGenerator],
) -> None:
    # What sampling looked like before per-chat seeds: transformers' own sampler drawing
    # every row from torch's one global stream. The same chats at another batch size
    # then get other text, which is the failure the invariance test guards against.
    generator = cast(HFGenerator, by_batch_size[64].inner)
    chats = _chats()
    encoded = generator.tokenizer(
        [generator.render(chat) for chat in chats], add_special_tokens=False
    ).input_ids

    def shared_stream(batch_size: int) -> list[str]:
        torch.manual_seed(0)
        texts: list[str] = []
        for start in range(0, N_CHATS, batch_size):
            batch = generator.tokenizer.pad(
                {"input_ids": encoded[start : start + batch_size]}, return_tensors="pt"
            )
            out = generator.model.generate(
                **batch,
                do_sample=True,
                temperature=0.7,
                top_k=0,
                max_new_tokens=8,
                pad_token_id=generator.tokenizer.pad_token_id,
            )
            texts += generator.tokenizer.batch_decode(
                out[:, batch["input_ids"].shape[1] :], skip_special_tokens=True
            )
        return texts

    assert shared_stream(1) != shared_stream(7)


def test_a_call_seed_derives_one_seed_per_chat_index(
    by_batch_size: dict[int, SharedGenerator],
) -> None:
    # Callers that pass no per-chat seeds keep SamplingParams.seed: chat i samples from
    # sub_seed(seed, i). Reproducible and batch-size free, but tied to the chat's index.
    chats = _chats(6)
    seeded = SamplingParams(max_new_tokens=8, temperature=0.7, seed=5)
    expected = by_batch_size[64].generate(chats, HOT, [sub_seed(5, i) for i in range(6)])
    assert by_batch_size[1].generate(chats, seeded) == expected
    assert by_batch_size[7].generate(chats[1:], seeded) != expected[1:]  # index-bound
    assert chat_seeds(3, seeded) == [sub_seed(5, i) for i in range(3)]


def test_unseeded_calls_follow_torchs_global_seed(
    by_batch_size: dict[int, SharedGenerator],
) -> None:
    chats = _chats(4)
    torch.manual_seed(3)
    first = by_batch_size[7].generate(chats, HOT)
    torch.manual_seed(3)
    assert by_batch_size[7].generate(chats, HOT) == first


def test_greedy_needs_no_seeds_and_ignores_them(by_batch_size: dict[int, SharedGenerator]) -> None:
    greedy = SamplingParams(max_new_tokens=8, temperature=0.0)
    chats = _chats(5)
    plain = by_batch_size[7].generate(chats, greedy)
    assert by_batch_size[1].generate(chats, greedy, _seeds(5)) == plain


@pytest.mark.parametrize(
    ("seeds", "needle"),
    [([1, 2], "2 seeds for 3 chats"), ([1, -2, 3], "non-negative"), ([1, True, 3], "integer")],
)
def test_bad_per_chat_seeds(seeds: list[Any], needle: str) -> None:
    with pytest.raises(ArenaError, match=needle):
        chat_seeds(3, HOT, seeds)


def test_the_sampler_picks_by_inverse_cdf_in_vocabulary_order() -> None:
    scores = torch.log(torch.tensor([[0.5, 0.3, 0.2], [0.5, 0.3, 0.2]]))
    # temperature 1: CDF 0.5, 0.8, 1.0 in vocabulary order
    picks = sample_tokens(scores, torch.tensor([0.49, 0.51]), 1.0, 1.0).tolist()
    assert picks == [0, 1]
    assert sample_tokens(scores, torch.tensor([0.79, 0.81]), 1.0, 1.0).tolist() == [1, 2]
    # top_p=0.75 keeps {0, 1}: the mass before token 2 (0.8) has reached it
    assert sample_tokens(scores, torch.tensor([0.99, 0.0]), 1.0, 0.75).tolist() == [1, 0]
    # a finished row of -inf scores does not crash and yields a valid id
    dead = torch.full((1, 3), float("-inf"))
    assert 0 <= int(sample_tokens(dead, torch.tensor([0.5]), 1.0, 1.0)[0]) < 3
    sampler = SeededSampler([1, 2], temperature=1.0, top_p=1.0, prompt_length=4)
    out = sampler(torch.zeros((2, 6), dtype=torch.long), scores)
    assert torch.isfinite(out).sum(dim=-1).tolist() == [1, 1]
    assert sampler.draws(2) == SeededSampler(
        [1, 2], temperature=1.0, top_p=1.0, prompt_length=9
    ).draws(2)


# -- batch invariance of the agent -----------------------------------------------------


def _observations(n: int = N_CHATS) -> list[dict[str, Any]]:
    return [{"messages": chat} for chat in _chats(n)]


def test_llm_agent_with_runner_seeds_is_batch_invariant() -> None:
    base = "hf:tiny?temperature=0.7&max_new_tokens=8&device=cpu"
    n = 8
    observations, seeds = _observations(n), _seeds(n)
    agents = [make_agent(f"{base}&batch_size={bs}", role="defender", seed=9) for bs in (1, 7, 64)]
    try:
        reference = agents[2].act_batch(observations, seeds)
        for agent in agents:
            assert agent.act_batch(observations, seeds) == reference
            order = list(reversed(range(n)))
            backwards = agent.act_batch([observations[i] for i in order], [seeds[i] for i in order])
            assert backwards[::-1] == reference
            assert [
                agent.act(obs, seed) for obs, seed in zip(observations[:4], seeds[:4], strict=True)
            ] == (reference[:4])
        # the agent's fallback seed is not used when the runner gives seeds
        other = make_agent(f"{base}&batch_size=7", role="defender", seed=10)
        assert other.act_batch(observations, seeds) == reference
        other.close()
        # seed= in the spec salts the runner's seeds: different, and reproducible
        salted = make_agent(f"{base}&seed=5", role="defender", seed=9)
        assert isinstance(salted, LLMAgent) and salted.seed_salt == 5
        texts = salted.act_batch(observations, seeds)
        assert sum(a != b for a, b in zip(texts, reference, strict=True)) > n // 2
        assert salted.act_batch(observations[::-1], seeds[::-1])[::-1] == texts
        salted.close()
    finally:
        for agent in agents:
            agent.close()


# -- the registry ----------------------------------------------------------------------


@pytest.fixture
def fresh_tiny_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private ARENA_HOME holding a copy of the tiny model: a key no other test holds."""
    built = ensure_tiny_model()
    target = tmp_path / "models" / "tiny-qwen2"
    shutil.copytree(built, target)
    monkeypatch.setenv("ARENA_HOME", str(tmp_path))
    return target


@pytest.fixture
def load_counter(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Records the model of every HFGenerator built through the registry."""
    loads: list[str] = []

    class CountingHFGenerator(HFGenerator):
        def __init__(self, model: str, **kwargs: Any) -> None:
            loads.append(model)
            super().__init__(model, **kwargs)

    monkeypatch.setattr(hf_backend, "HFGenerator", CountingHFGenerator)
    return loads


def test_attacker_defender_and_guard_share_one_model(
    fresh_tiny_home: Path, load_counter: list[str]
) -> None:
    attacker = make_agent("hf:tiny?temperature=0.7&max_new_tokens=4", role="attacker", seed=1)
    defender = make_agent("hf:tiny?temperature=0&device=cpu", role="defender", seed=2)
    judge = make_judge("guard:hf:tiny?max_new_tokens=4")
    assert load_counter == [str(fresh_tiny_home)]
    assert isinstance(attacker, LLMAgent) and isinstance(defender, LLMAgent)
    assert isinstance(judge, GuardCachedJudge)
    shared = attacker.generator
    assert isinstance(shared, SharedGenerator)
    assert shared.inner is defender.generator.inner is judge.generator.inner  # type: ignore[attr-defined]
    assert loaded_generators()[str(shared.spec)] == 3
    assert isinstance(attacker.act({"messages": _chats(1)[0]}, 7), str)
    assert judge.describe()["settings"]["generator"]["model"] == str(fresh_tiny_home)

    inner = cast(HFGenerator, shared.inner)
    attacker.close()
    attacker.close()  # harmless
    defender.close()
    assert inner.model is not None  # the judge still uses it
    assert len(judge.judge(["hi"], ["hello"])) == 1
    judge.close()
    assert inner.model is None  # last user gone: closed
    assert str(shared.spec) not in loaded_generators()
    with pytest.raises(ArenaError, match="closed"):
        defender.act({"messages": _chats(1)[0]})
    # a later user loads it afresh
    again = acquire_generator("hf:tiny")
    assert again.inner is not inner and len(load_counter) == 2
    release_generator(again)


def test_different_loader_options_are_different_instances(
    fresh_tiny_home: Path, load_counter: list[str]
) -> None:
    a = acquire_generator("hf:tiny?batch_size=4&device=cpu")
    b = acquire_generator(f"hf:{fresh_tiny_home}?device=cpu&batch_size=4&dtype=float32")
    c = acquire_generator("hf:tiny?batch_size=8&device=cpu")
    try:
        assert a.inner is b.inner and c.inner is not a.inner
        assert len(load_counter) == 2
        assert a.describe()["batch_size"] == 4 and c.describe()["batch_size"] == 8
    finally:
        for handle in (a, b, c):
            handle.close()


def test_refcounted_close_with_a_registered_kind(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(generators, "_KINDS", dict(generators._KINDS))
    built: list[FakeGenerator] = []

    class FakeGenerator(TextGenerator):
        def __init__(self, model: str, options: Mapping[str, str]) -> None:
            self.model, self.options, self.closed = model, dict(options), 0
            built.append(self)

        def generate(
            self,
            chats: Sequence[Chat],
            sampling: SamplingParams,
            seeds: Sequence[int] | None = None,
        ) -> list[str]:
            return [f"{self.model}:{seed}" for seed in chat_seeds(len(chats), sampling, seeds)]

        def describe(self) -> dict[str, Any]:
            return {"backend": "fake", "model": self.model}

        def close(self) -> None:
            self.closed += 1

    def resolve(model: str, options: Mapping[str, str]) -> tuple[str, dict[str, str]]:
        return model.lower(), {"size": options.get("size", "1")}

    register_generator_kind("fake", FakeGenerator, options=("size",), resolve=resolve)
    first = acquire_generator("fake:Model")
    second = acquire_generator("fake:MODEL?size=1")  # the same, once resolved
    third = acquire_generator("fake:model?size=2")
    assert len(built) == 2 and first.inner is second.inner
    assert first.generate([[]], HOT, [7]) == ["model:7"]
    assert str(first.spec) == "fake:model?size=1"
    first.close()
    first.close()
    assert built[0].closed == 0  # second still holds it
    with pytest.raises(ArenaError, match="closed"):
        first.generate([[]], HOT, [7])
    assert second.generate([[]], HOT, [8]) == ["model:8"]
    second.close()
    third.close()
    assert [g.closed for g in built] == [1, 1]
    with pytest.raises(ArenaError, match="Unknown option"):
        acquire_generator("fake:model?colour=red")


@pytest.mark.parametrize(
    ("spec", "needle"),
    [
        ("nope:model", "not supported"),
        ("tiny", "no kind"),
        ("hf:", "needs a model"),
        ("hf:tiny?temperature=0.7", "Unknown option"),
        ("hf:tiny?device=tpu", "device"),
        ("hf:tiny?dtype=int8", "dtype"),
        ("hf:tiny?batch_size=0", "batch_size"),
        ("hf:tiny?batch_size=many", "batch_size"),
    ],
)
def test_bad_generator_specs_are_one_clear_error(spec: str, needle: str) -> None:
    with pytest.raises(ArenaError, match=needle) as info:
        acquire_generator(spec)
    assert info.value.fix


def test_resolving_fills_in_the_loader_defaults() -> None:
    resolved = resolve_generator_spec("hf:tiny")
    assert resolved.model == str(ensure_tiny_model())
    expected_device = "cuda" if torch.cuda.is_available() else "cpu"
    assert resolved.options["device"] == expected_device
    assert resolved.options["batch_size"] == "32"
