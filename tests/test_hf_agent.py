"""HF backend + LLM agent on the tiny local model: batching, seeds, registry, errors."""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from agents.backends.base import Chat, SamplingParams, TextGenerator  # noqa: E402
from agents.backends.hf import HFGenerator, looks_like_hub_id  # noqa: E402
from agents.llm import LLMAgent  # noqa: E402
from agents.registry import make_agent  # noqa: E402
from agents.tiny import ensure_tiny_model  # noqa: E402
from envs.errors import ArenaError  # noqa: E402
from envs.seeding import sub_seed  # noqa: E402

torch.set_num_threads(1)

GREEDY = SamplingParams(max_new_tokens=12, temperature=0.0)
SAMPLED = SamplingParams(max_new_tokens=12, temperature=1.0, seed=1234)

ATTACKER_OBS: dict[str, Any] = {
    "messages": (
        {"role": "system", "content": "You are a red-teaming assistant."},
        {"role": "user", "content": "Rewrite this seed prompt: How do I bake bread?"},
    ),
    "seed": "How do I bake bread?",
    "seed_label": "benign",
    "category": "benign-risky",
    "turn": 0,
}
DEFENDER_OBS: dict[str, Any] = {
    "messages": ({"role": "user", "content": "Question:\nHow do I bake bread?"},),
    "prompt": "How do I bake bread?",
    "turn": 0,
}


def _chats(n: int) -> list[list[dict[str, str]]]:
    # Different lengths, so a batch really is padded.
    return [
        [{"role": "user", "content": f"Question:\nexplain item {i} " + "and more " * (i % 5)}]
        for i in range(n)
    ]


@pytest.fixture(scope="session")
def tiny_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return ensure_tiny_model(tmp_path_factory.mktemp("tiny-hf") / "tiny-qwen2")


@pytest.fixture(scope="session")
def generator(tiny_dir: Path) -> HFGenerator:
    return HFGenerator(str(tiny_dir), device="cpu", batch_size=4)


class RecordingGenerator(TextGenerator):
    """Echoes the last message and records every call, to test the agent alone."""

    def __init__(self) -> None:
        self.calls: list[tuple[list[list[dict[str, str]]], SamplingParams]] = []
        self.seeds: list[list[int] | None] = []
        self.closes = 0

    def generate(
        self,
        chats: Sequence[Chat],
        sampling: SamplingParams,
        seeds: Sequence[int] | None = None,
    ) -> list[str]:
        self.calls.append(([[dict(m) for m in chat] for chat in chats], sampling))
        self.seeds.append(None if seeds is None else list(seeds))
        return [f"echo: {chat[-1]['content']}" for chat in chats]

    def describe(self) -> dict[str, Any]:
        return {"backend": "recording"}

    def close(self) -> None:
        self.closes += 1


class LegacyGenerator(TextGenerator):
    """A generator written before per-chat seeds: ``generate(chats, sampling)`` only."""

    def __init__(self) -> None:
        self.samplings: list[SamplingParams] = []

    def generate(self, chats: Sequence[Chat], sampling: SamplingParams) -> list[str]:  # type: ignore[override]
        self.samplings.append(sampling)
        return ["legacy"] * len(chats)

    def describe(self) -> dict[str, Any]:
        return {"backend": "legacy"}


# -- the backend ---------------------------------------------------------------------


def test_greedy_is_deterministic_and_batching_does_not_change_it(generator: HFGenerator) -> None:
    chats = _chats(10)  # batch_size=4: three padded, length-sorted chunks
    batched = generator.generate(chats, GREEDY)
    assert all(isinstance(text, str) and text for text in batched)
    assert generator.generate(chats, GREEDY) == batched
    assert [generator.generate([chat], GREEDY)[0] for chat in chats] == batched
    assert len(set(batched)) > 1  # prompts matter


def test_seeded_sampling_is_reproducible_and_leaves_global_rng_alone(
    generator: HFGenerator,
) -> None:
    chats = _chats(6)
    torch.manual_seed(99)
    expected_next = torch.rand(3)
    torch.manual_seed(99)
    first = generator.generate(chats, SAMPLED)
    assert torch.equal(torch.rand(3), expected_next)
    assert generator.generate(chats, SAMPLED) == first
    other_seed = SamplingParams(max_new_tokens=12, temperature=1.0, seed=4321)
    assert generator.generate(chats, other_seed) != first
    assert generator.generate(chats, GREEDY) != first


def test_checkpoint_sampling_defaults_are_ignored(
    generator: HFGenerator, tiny_dir: Path, tmp_path: Path
) -> None:
    # A checkpoint whose generation_config would change both sampling (top_k=1, min_p)
    # and greedy decoding (repetition and n-gram penalties): SamplingParams alone decide.
    copy = Path(shutil.copytree(tiny_dir, tmp_path / "with-defaults"))
    config = json.loads((copy / "generation_config.json").read_text())
    config.update(do_sample=True, top_k=1, temperature=0.3, max_new_tokens=2, min_p=0.5)
    config.update(repetition_penalty=5.0, no_repeat_ngram_size=1)
    (copy / "generation_config.json").write_text(json.dumps(config))
    other = HFGenerator(str(copy), device="cpu", batch_size=4)
    chats = _chats(4)
    assert other.generate(chats, SAMPLED) == generator.generate(chats, SAMPLED)
    assert other.generate(chats, GREEDY) == generator.generate(chats, GREEDY)


def test_sampling_is_not_truncated_to_the_global_top_k(generator: HFGenerator) -> None:
    # transformers samples from the top 50 tokens unless told otherwise; SamplingParams
    # means the full distribution. At a huge temperature it is near uniform over 512
    # tokens, so 128 one-token draws show far more than 50 distinct texts.
    chats = [[{"role": "user", "content": "hi"}]] * 128
    hot = SamplingParams(max_new_tokens=1, temperature=100.0, seed=0)
    assert len(set(generator.generate(chats, hot))) > 60


def test_empty_batch_and_render(generator: HFGenerator) -> None:
    assert generator.generate([], GREEDY) == []
    prompt = generator.render([{"role": "user", "content": "hi"}])
    assert prompt.endswith("<|im_start|>assistant\n")
    with pytest.raises(ArenaError, match="rejected a chat"):
        generator.render([{"role": "tool", "content": "x"}])


def test_describe_names_the_model_and_hashes_its_weights(
    generator: HFGenerator, tiny_dir: Path
) -> None:
    info = generator.describe()
    assert info["model"] == str(tiny_dir)
    expected = hashlib.sha256((tiny_dir / "model.safetensors").read_bytes()).hexdigest()
    assert info["weights_sha256"] == expected
    assert (info["dtype"], info["device"], info["backend"]) == ("float32", "cpu", "hf")


def test_a_closed_generator_says_so(tiny_dir: Path) -> None:
    closed = HFGenerator(str(tiny_dir), device="cpu")
    agent = LLMAgent(closed, sampling=GREEDY)
    agent.close()
    with pytest.raises(ArenaError, match="closed"):
        agent.act(DEFENDER_OBS)


def test_a_missing_path_is_one_clear_error(tmp_path: Path) -> None:
    missing = tmp_path / "no" / "such" / "model"
    with pytest.raises(ArenaError) as info:
        HFGenerator(str(missing), device="cpu")
    assert str(missing) in str(info.value)
    assert "arena tiny build" in info.value.fix and "hf:tiny" in info.value.fix


def test_a_directory_without_config_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(ArenaError, match=r"no config\.json"):
        HFGenerator(str(tmp_path), device="cpu")


def test_an_uncached_hub_id_offline_is_one_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ArenaError, match="arena-test-owner/no-such-model-xyz") as info:
        HFGenerator("arena-test-owner/no-such-model-xyz", device="cpu")
    assert "offline" in info.value.message


@pytest.fixture
def online(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """Pretend the Hub may be contacted (the probe itself is replaced in each test)."""
    import huggingface_hub.constants

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
    return monkeypatch


def test_a_hub_id_that_does_not_exist_fails_fast(online: pytest.MonkeyPatch) -> None:
    import huggingface_hub
    from huggingface_hub.errors import RepositoryNotFoundError

    def not_found(repo_id: str, **_: object) -> None:
        response = SimpleNamespace(headers={}, request=None)
        raise RepositoryNotFoundError(f"404 {repo_id}", response=response)  # type: ignore[arg-type]

    online.setattr(huggingface_hub, "model_info", not_found)
    with pytest.raises(ArenaError, match="arena-test-owner/typo") as info:
        HFGenerator("arena-test-owner/typo", device="cpu")
    assert "spelling" in info.value.fix


def test_a_hub_id_without_network_fails_fast(online: pytest.MonkeyPatch) -> None:
    import huggingface_hub

    def no_network(repo_id: str, **_: object) -> None:
        raise OSError("[Errno -2] Name or service not known")

    online.setattr(huggingface_hub, "model_info", no_network)
    with pytest.raises(ArenaError, match="Could not reach") as info:
        HFGenerator("arena-test-owner/some-model", device="cpu")
    assert "arena-test-owner/some-model" in info.value.message
    assert "Name or service not known" in info.value.message


def test_hub_ids_are_told_apart_from_paths() -> None:
    assert looks_like_hub_id("Qwen/Qwen3-0.6B")
    for path in ("runs/a/checkpoint-3", "/abs/model", "./model", "model", "../x/y", "~/m"):
        assert not looks_like_hub_id(path), path


def test_bad_device_dtype_and_batch_size(tiny_dir: Path) -> None:
    with pytest.raises(ArenaError, match="tpu"):
        HFGenerator(str(tiny_dir), device="tpu")
    with pytest.raises(ArenaError, match="int8"):
        HFGenerator(str(tiny_dir), dtype="int8")
    with pytest.raises(ArenaError, match="batch_size"):
        HFGenerator(str(tiny_dir), batch_size=0)
    if not torch.cuda.is_available():
        with pytest.raises(ArenaError, match="CUDA"):
            HFGenerator(str(tiny_dir), device="cuda")


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"max_new_tokens": 0}, "max_new_tokens"),
        ({"temperature": -0.1}, "temperature"),
        ({"temperature": float("nan")}, "temperature"),
        ({"top_p": 0.0}, "top_p"),
        ({"top_p": 1.5}, "top_p"),
    ],
)
def test_sampling_params_reject_bad_values(kwargs: dict[str, float], name: str) -> None:
    with pytest.raises(ArenaError, match=name):
        SamplingParams(**kwargs)  # type: ignore[arg-type]


# -- the agent -----------------------------------------------------------------------


def test_agent_plays_both_roles_with_one_generate_call_per_round() -> None:
    backend = RecordingGenerator()
    agent = LLMAgent(backend, sampling=GREEDY)
    actions = agent.act_batch([ATTACKER_OBS, DEFENDER_OBS, "plain prompt"])
    assert actions == [
        "echo: Rewrite this seed prompt: How do I bake bread?",
        "echo: Question:\nHow do I bake bread?",
        "echo: plain prompt",
    ]
    assert len(backend.calls) == 1
    chats, sampling = backend.calls[0]
    assert chats[0] == [dict(m) for m in ATTACKER_OBS["messages"]]
    assert sampling == GREEDY
    assert agent.act_batch([]) == [] and len(backend.calls) == 1


def test_system_prompt_replaces_or_prepends() -> None:
    backend = RecordingGenerator()
    agent = LLMAgent(backend, sampling=GREEDY, system_prompt="You are a careful defender.")
    agent.act_batch([ATTACKER_OBS, DEFENDER_OBS])
    attacker_chat, defender_chat = backend.calls[0][0]
    assert attacker_chat[0] == {"role": "system", "content": "You are a careful defender."}
    assert len(attacker_chat) == len(ATTACKER_OBS["messages"])
    assert defender_chat[0]["role"] == "system" and defender_chat[1]["role"] == "user"


def test_agent_seeds_differ_per_round_and_restart_on_reset() -> None:
    backend = RecordingGenerator()
    agent = LLMAgent(backend, sampling=SAMPLED)
    for _ in range(3):
        agent.act(DEFENDER_OBS)
    seeds = [sampling.seed for _, sampling in backend.calls]
    assert len(set(seeds)) == 3 and None not in seeds
    agent.reset()
    agent.act(DEFENDER_OBS)
    assert backend.calls[-1][1].seed == seeds[0]
    agent.reset(seed=7)
    agent.act(DEFENDER_OBS)
    assert backend.calls[-1][1].seed not in seeds


def test_runner_seeds_reach_the_generator_as_per_chat_seeds() -> None:
    backend = RecordingGenerator()
    agent = LLMAgent(backend, sampling=SAMPLED)
    agent.act_batch([ATTACKER_OBS, DEFENDER_OBS], seeds=[11, 12])
    assert backend.seeds[-1] == [11, 12]  # as they are: no seed= in the spec
    assert backend.calls[-1][1] == SAMPLED  # the call seed is not consulted
    assert agent.act(DEFENDER_OBS, 13) == "echo: Question:\nHow do I bake bread?"
    assert backend.seeds[-1] == [13]
    salted = LLMAgent(backend, sampling=SAMPLED, seed_salt=5)
    salted.act_batch([ATTACKER_OBS, DEFENDER_OBS], seeds=[11, 12])
    assert backend.seeds[-1] == [sub_seed(11, 5), sub_seed(12, 5)]
    with pytest.raises(ArenaError, match="1 seeds for 2 observations"):
        agent.act_batch([ATTACKER_OBS, DEFENDER_OBS], seeds=[1])
    # outside a match: the call-counter fallback, no per-chat seeds
    agent.act_batch([ATTACKER_OBS])
    assert backend.seeds[-1] is None and backend.calls[-1][1].seed is not None


def test_a_legacy_generator_still_plays_with_one_seed_per_call() -> None:
    backend = LegacyGenerator()
    agent = LLMAgent(backend, sampling=SAMPLED)
    assert agent.act_batch([DEFENDER_OBS, DEFENDER_OBS], seeds=[1, 2]) == ["legacy"] * 2
    agent.act_batch([DEFENDER_OBS, DEFENDER_OBS], seeds=[1, 2])
    agent.act_batch([DEFENDER_OBS, DEFENDER_OBS], seeds=[1, 3])
    seeds = [sampling.seed for sampling in backend.samplings]
    assert seeds[0] == seeds[1] != seeds[2] and None not in seeds
    assert agent.describe()["per_chat_seeds"] is False


def test_the_parser_maps_text_to_actions() -> None:
    def first_word_length(text: str, observation: Any) -> int:
        return len(text.split()[0]) + int(observation.get("turn", 0))

    backend = RecordingGenerator()
    agent = LLMAgent(backend, sampling=GREEDY, parser=first_word_length)
    assert agent.act_batch([ATTACKER_OBS, DEFENDER_OBS]) == [5, 5]
    assert agent.describe()["parser"].endswith("first_word_length")
    assert LLMAgent(backend, sampling=GREEDY).describe()["parser"] is None


def test_only_sampling_agents_ask_for_seeds() -> None:
    assert LLMAgent(RecordingGenerator(), sampling=SAMPLED).stochastic
    assert not LLMAgent(RecordingGenerator(), sampling=GREEDY).stochastic


def test_closing_an_agent_twice_closes_its_generator_once() -> None:
    backend = RecordingGenerator()
    agent = LLMAgent(backend, sampling=GREEDY)
    agent.close()
    agent.close()
    assert backend.closes == 1


def test_agent_rejects_observations_without_messages() -> None:
    agent = LLMAgent(RecordingGenerator(), sampling=GREEDY)
    with pytest.raises(ArenaError, match="messages"):
        agent.act({"prompt": "no chat here"})


def test_llm_agent_on_the_tiny_model(generator: HFGenerator) -> None:
    agent = LLMAgent(generator, sampling=SAMPLED)
    actions = agent.act_batch([ATTACKER_OBS, DEFENDER_OBS])
    assert len(actions) == 2 and all(isinstance(a, str) for a in actions)
    agent.reset()
    assert agent.act_batch([ATTACKER_OBS, DEFENDER_OBS]) == actions
    assert agent.describe()["generator"]["backend"] == "hf"


# -- the registry --------------------------------------------------------------------


def test_make_agent_builds_an_hf_defender(tiny_dir: Path) -> None:
    spec = f"hf:{tiny_dir}?max_new_tokens=8&temperature=0&device=cpu&system=Be%20safe"
    agent = make_agent(spec, role="defender", seed=3)
    assert isinstance(agent, LLMAgent) and agent.spec == spec
    assert agent.sampling == SamplingParams(max_new_tokens=8, temperature=0.0, seed=3)
    assert agent.system_prompt == "Be safe"
    action = agent.act(DEFENDER_OBS)
    assert isinstance(action, str)
    described = agent.describe()
    assert described["spec"] == spec and described["generator"]["model"] == str(tiny_dir)


def test_option_seed_overrides_the_arena_seed(tiny_dir: Path) -> None:
    agent = make_agent(f"hf:{tiny_dir}?seed=11&device=cpu", role="attacker", seed=3)
    assert isinstance(agent, LLMAgent) and agent.sampling.seed == 11


def test_hf_tiny_builds_the_default_model_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ARENA_HOME", str(tmp_path))
    agent = make_agent("hf:tiny?max_new_tokens=4&device=cpu", role="attacker")
    assert isinstance(agent.act(ATTACKER_OBS), str)
    assert (tmp_path / "models" / "tiny-qwen2" / "model.safetensors").is_file()


@pytest.mark.parametrize(
    ("options", "name"),
    [
        ("temperature=hot", "temperature"),
        ("top_p=2", "top_p"),
        ("max_new_tokens=0", "max_new_tokens"),
        ("max_new_tokens=1.5", "max_new_tokens"),
        ("seed=abc", "seed"),
        ("device=tpu", "device"),
        ("dtype=int8", "dtype"),
        ("batch_size=0", "batch_size"),
        ("engine=turbo", "engine"),
        ("colour=blue", "colour"),
    ],
)
def test_bad_options_name_the_option(tiny_dir: Path, options: str, name: str) -> None:
    with pytest.raises(ArenaError, match=name):
        make_agent(f"hf:{tiny_dir}?{options}", role="defender")


def test_make_agent_with_a_missing_path_names_it(tmp_path: Path) -> None:
    missing = tmp_path / "gone"
    with pytest.raises(ArenaError, match="gone") as info:
        make_agent(f"hf:{missing}", role="defender")
    assert "arena tiny build" in str(info.value)
    with pytest.raises(ArenaError, match="hf:tiny"):
        make_agent("hf:", role="defender")


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_on_a_gpu_auto_picks_cuda_and_bfloat16(tiny_dir: Path) -> None:
    gpu = HFGenerator(str(tiny_dir), device="auto", dtype="auto", batch_size=4)
    info = gpu.describe()
    assert info["device"] == "cuda"
    assert info["dtype"] == ("bfloat16" if torch.cuda.is_bf16_supported() else "float32")
    chats = _chats(6)
    cuda_state = torch.cuda.get_rng_state()
    first = gpu.generate(chats, SAMPLED)
    assert torch.equal(torch.cuda.get_rng_state(), cuda_state)
    assert gpu.generate(chats, SAMPLED) == first
    assert all(isinstance(text, str) for text in gpu.generate(chats, GREEDY))
    gpu.close()
    with pytest.raises(ArenaError, match="closed"):
        gpu.generate(chats, GREEDY)


def test_token_counts_match_the_prompts_and_the_generated_tokens(generator: HFGenerator) -> None:
    """Every backend returns token counts: prompts as tokenized, completions without the
    padding of rows that stopped early (a count of the padded width would be wrong)."""
    from agents.backends.hf import _generated_counts

    chats = [[{"role": "user", "content": "hi " * n}] for n in (1, 5, 9)]
    texts, usages = generator.generate_with_usage(chats, SAMPLED)
    assert texts == generator.generate(chats, SAMPLED)
    for chat, usage in zip(chats, usages, strict=True):
        rendered = generator.tokenizer(generator.render(chat), add_special_tokens=False)
        assert usage.prompt_tokens == len(rendered.input_ids)
        assert usage.completion_tokens is not None
        assert 1 <= usage.completion_tokens <= SAMPLED.max_new_tokens
    eos, pad = 7, 0
    rows = [[5, 6, eos, pad, pad], [5, 6, 8, 9, 4], [eos, pad, pad, pad, pad]]
    assert _generated_counts(rows, [eos]) == [3, 5, 1]
    assert generator.generate_with_usage([], SAMPLED) == ([], [])


# -- the continuous-batching engine ----------------------------------------------------


def test_continuous_engine_gives_plain_greedy_text_and_counts(
    tiny_dir: Path, generator: HFGenerator
) -> None:
    """engine=continuous (transformers' generate_batch) answers greedy requests with the
    plain engine's text and token counts, in input order; sampled requests keep the plain
    engine's per-chat seeded draws. Runs on the CPU with a cache sized to the request."""
    continuous = HFGenerator(str(tiny_dir), device="cpu", batch_size=4, engine="continuous")
    assert continuous.describe()["engine"] == "continuous"
    chats = _chats(5)
    texts, usages = continuous.generate_with_usage(chats, GREEDY)
    plain_texts, plain_usages = generator.generate_with_usage(chats, GREEDY)
    assert texts == plain_texts
    assert usages == plain_usages
    assert continuous.generate(chats[::-1], GREEDY) == plain_texts[::-1]  # order kept
    assert continuous.generate(chats, SAMPLED) == generator.generate(chats, SAMPLED)


def test_continuous_engine_failures_are_one_clear_error(
    tiny_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    continuous = HFGenerator(str(tiny_dir), device="cpu", engine="continuous")

    def failing(inputs: list[list[int]], **_: Any) -> dict[str, Any]:
        return {f"req_{i}": SimpleNamespace(error="out of blocks") for i in range(len(inputs))}

    monkeypatch.setattr(continuous.model, "generate_batch", failing)
    with pytest.raises(ArenaError, match="out of blocks") as info:
        continuous.generate(_chats(2), GREEDY)
    assert "engine=plain" in str(info.value)
    with pytest.raises(ArenaError, match="engine"):
        HFGenerator(str(tiny_dir), engine="turbo")


def test_engine_is_a_loader_option_outside_the_default_identity() -> None:
    from agents.generators import resolve_generator_spec

    assert "engine" not in resolve_generator_spec("hf:tiny").options
    assert resolve_generator_spec("hf:tiny?engine=continuous").options["engine"] == "continuous"
