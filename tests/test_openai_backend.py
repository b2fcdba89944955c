"""The ``openai:`` backend and agent kind against a fake OpenAI-compatible server.

The fake server (``http.server`` on 127.0.0.1, port 0, one thread per request) answers
``POST /v1/chat/completions`` with a text derived from the messages and the request's
seed only, and can be told to fail the next N requests with 500, to answer garbage or to
sleep. What is pinned here:

* completions come back in the order of the chats although requests overlap and finish
  out of order, and never more than ``concurrency`` are in flight;
* each request carries its chat's own seed (none when greedy) and only our sampling
  parameters;
* 5xx / 429 are retried with backoff, other 4xx and garbage fail at once, and an
  unreachable server, a timeout, repeated 500s, garbage and a missing model each give
  one clear ArenaError;
* the API key reaches the server but no error message, log, describe() or run file;
* the agent kind plays a match, and ``guard:openai:`` builds a guard judge.

A last test compares greedy outputs of a real vLLM server with the hf backend's; it is
skipped where vLLM is not installed.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import socket
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from agents.backends.base import SamplingParams
from agents.backends.openai import OpenAIGenerator, TokenUsage, resolve_openai
from agents.generators import acquire_generator, loaded_generators, resolve_generator_spec
from agents.llm import LLMAgent
from agents.registry import make_agent, parse_spec
from envs.attack_defense.verdicts import SafetyLabel
from envs.errors import ArenaError

FAKE_KEY = "sk-test-DO-NOT-LEAK-4f9c2a7e1b"
HOT = SamplingParams(max_new_tokens=8, temperature=0.7, top_p=0.9)
GREEDY = SamplingParams(max_new_tokens=8, temperature=0.0)


def echo_text(messages: list[dict[str, str]], seed: int | None) -> str:
    """What the fake server answers: a function of the messages and the seed only."""
    digest = hashlib.sha256(json.dumps(messages, sort_keys=True).encode()).hexdigest()[:10]
    return f"echo {digest} seed={seed} last={messages[-1]['content'][:24]}"


class FakeServer:
    """A tiny OpenAI-compatible chat-completions server with failure switches."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.requests: list[dict[str, Any]] = []
        self.auth: list[str | None] = []
        self.fail_next = 0  # answer the next N requests with HTTP 500 (echoing the key)
        self.fail_status = 500
        self.retry_after: str | None = None
        self.garbage: bytes | None = None  # answer 200 with this body
        self.sleep = 0.0  # seconds to wait before answering
        self.jitter = False  # content-derived delays, so requests finish out of order
        self.reply: Callable[[dict[str, Any]], str] | None = None
        self.in_flight = 0
        self.max_in_flight = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # silence
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = json.loads(self.rfile.read(length) or b"{}")
                auth = self.headers.get("Authorization")
                with server.lock:
                    server.requests.append(body)
                    server.auth.append(auth)
                    server.in_flight += 1
                    server.max_in_flight = max(server.max_in_flight, server.in_flight)
                    fail = server.fail_next > 0
                    server.fail_next -= fail
                try:
                    self._answer(body, auth, fail)
                finally:
                    with server.lock:
                        server.in_flight -= 1

            def _answer(self, body: dict[str, Any], auth: str | None, fail: bool) -> None:
                if self.path != "/v1/chat/completions":
                    return self._send(404, b'{"error": {"message": "no such route"}}')
                if server.sleep:
                    time.sleep(server.sleep)
                if server.jitter:
                    digest = hashlib.sha256(json.dumps(body["messages"]).encode()).digest()
                    time.sleep(digest[0] % 6 * 0.004)
                if fail:
                    error = {"error": {"message": f"boom, your header was {auth}"}}
                    headers = {"Retry-After": server.retry_after} if server.retry_after else {}
                    return self._send(server.fail_status, json.dumps(error).encode(), headers)
                if server.garbage is not None:
                    return self._send(200, server.garbage)
                if server.reply is not None:
                    text = server.reply(body)
                else:
                    text = echo_text(body["messages"], body.get("seed"))
                answer = {
                    "id": "fake",
                    "object": "chat.completion",
                    "model": body.get("model"),
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": text},
                            "finish_reason": "stop",
                        }
                    ],
                    "usage": {
                        "prompt_tokens": sum(len(m["content"].split()) for m in body["messages"]),
                        "completion_tokens": len(text.split()),
                    },
                }
                self._send(200, json.dumps(answer).encode())

            def _send(
                self, status: int, data: bytes, headers: dict[str, str] | None = None
            ) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server() -> Iterator[FakeServer]:
    fake = FakeServer()
    yield fake
    fake.close()


@pytest.fixture
def make_generator() -> Iterator[Callable[..., OpenAIGenerator]]:
    made: list[OpenAIGenerator] = []

    def make(url: str, **kwargs: Any) -> OpenAIGenerator:
        kwargs.setdefault("model", "fake")
        kwargs.setdefault("backoff", 0.001)
        generator = OpenAIGenerator(url, **kwargs)
        made.append(generator)
        return generator

    yield make
    for generator in made:
        generator.close()


def _chats(n: int) -> list[list[dict[str, str]]]:
    return [
        [
            {"role": "system", "content": "You are a defender."},
            {"role": "user", "content": f"question number {i} " + "more " * (i % 5)},
        ]
        for i in range(n)
    ]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# -- generation ---------------------------------------------------------------------------


def test_order_is_kept_with_concurrent_requests(
    server: FakeServer, make_generator: Callable[..., OpenAIGenerator]
) -> None:
    server.jitter = True
    generator = make_generator(server.url, concurrency=4)
    chats, seeds = _chats(24), [1000 + 7 * i for i in range(24)]
    texts = generator.generate(chats, HOT, seeds)
    assert texts == [echo_text(chat, seed) for chat, seed in zip(chats, seeds, strict=True)]
    assert 2 <= server.max_in_flight <= 4
    # A chat's text is a function of its own seed: alone, or in another order, the same.
    assert generator.generate([chats[5]], HOT, [seeds[5]]) == [texts[5]]
    assert generator.generate(chats[::-1], HOT, seeds[::-1]) == texts[::-1]


def test_each_request_carries_its_own_seed_and_our_sampling_only(
    server: FakeServer, make_generator: Callable[..., OpenAIGenerator]
) -> None:
    generator = make_generator(server.url, model="my-model")
    chats, seeds = _chats(5), [11, 22, 33, 44, 55]
    generator.generate(chats, HOT, seeds)
    by_content = {r["messages"][-1]["content"]: r for r in server.requests}
    for chat, seed in zip(chats, seeds, strict=True):
        request = by_content[chat[-1]["content"]]
        assert request["messages"] == chat
        assert request["seed"] == seed
        assert request["model"] == "my-model"
        assert (request["max_tokens"], request["temperature"], request["top_p"]) == (8, 0.7, 0.9)
        assert request["n"] == 1
        assert set(request) == {
            *("model", "messages", "max_tokens", "temperature", "top_p", "n", "stream", "seed")
        }
    # Without per-chat seeds, sampling.seed derives them (reproducible); greedy sends none.
    server.requests.clear()
    seeded = SamplingParams(max_new_tokens=8, temperature=0.7, seed=5)
    first = generator.generate(chats, seeded)
    assert generator.generate(chats, seeded) == first
    assert len({r["seed"] for r in server.requests}) == len(chats)
    server.requests.clear()
    generator.generate(chats, GREEDY)
    assert all("seed" not in r and r["temperature"] == 0 for r in server.requests)
    with pytest.raises(ArenaError, match="seeds for"):
        generator.generate(chats, HOT, [1, 2])
    assert generator.generate([], HOT) == []


def test_token_counts_come_back_with_the_texts(
    server: FakeServer, make_generator: Callable[..., OpenAIGenerator]
) -> None:
    generator = make_generator(server.url)
    chats = _chats(3)
    texts, usage = generator.generate_with_usage(chats, HOT, [1, 2, 3])
    assert len(texts) == len(usage) == 3
    for chat, text, counts in zip(chats, texts, usage, strict=True):
        assert counts == TokenUsage(sum(len(m["content"].split()) for m in chat), len(text.split()))
    assert generator.total_usage == sum(usage, TokenUsage(0, 0))
    # A server that sends no usage: counts are None, the text still comes back.
    server.garbage = json.dumps({"choices": [{"message": {"content": "hi"}}]}).encode()
    assert generator.generate_with_usage(chats[:1], HOT, [1]) == (["hi"], [TokenUsage()])


def test_500s_are_retried_then_succeed(
    server: FakeServer,
    make_generator: Callable[..., OpenAIGenerator],
    caplog: pytest.LogCaptureFixture,
) -> None:
    server.fail_next = 2
    generator = make_generator(server.url, max_retries=3)
    chat = _chats(1)
    with caplog.at_level(logging.WARNING, logger="agents.backends.openai"):
        assert generator.generate(chat, HOT, [9]) == [echo_text(chat[0], 9)]
    assert len(server.requests) == 3
    assert sum("retry" in r.getMessage() for r in caplog.records) == 2


def test_429_is_retried_and_other_4xx_fail_at_once(
    server: FakeServer, make_generator: Callable[..., OpenAIGenerator]
) -> None:
    server.fail_next, server.fail_status, server.retry_after = 1, 429, "0"
    generator = make_generator(server.url)
    assert generator.generate(_chats(1), HOT, [1]) == [echo_text(_chats(1)[0], 1)]
    assert len(server.requests) == 2

    server.requests.clear()
    server.fail_next, server.fail_status = 5, 400
    with pytest.raises(ArenaError, match="HTTP 400") as info:
        generator.generate(_chats(1), HOT, [1])
    assert len(server.requests) == 1
    assert "model=fake" in info.value.fix

    server.requests.clear()
    wrong = make_generator(server.url.removesuffix("/v1"))  # forgot the /v1
    with pytest.raises(ArenaError, match=r"HTTP 404.*no such route") as info:
        wrong.generate(_chats(1), HOT, [1])
    assert len(server.requests) == 1
    assert "/v1" in info.value.fix


def test_repeated_500s_are_one_clear_error(
    server: FakeServer, make_generator: Callable[..., OpenAIGenerator]
) -> None:
    server.fail_next = 100
    generator = make_generator(server.url, max_retries=2)
    with pytest.raises(ArenaError) as info:
        generator.generate(_chats(3), HOT, [1, 2, 3])
    message = str(info.value)
    assert "HTTP 500" in message and server.url in message and "tried 3 times" in message
    assert "Fix:" in message and "\n" not in message


@pytest.mark.parametrize(
    ("garbage", "expected"),
    [
        (b"<html>Welcome to nginx</html>", "not JSON: '<html>Welcome to nginx</html>'"),
        (b"", "not JSON: 'an empty body'"),
        (b'{"object": "list", "data": []}', "without choices.*it sent: data, object"),
        (b'{"choices": []}', "without choices"),
        (b'{"choices": [{"message": {"content": 3}}]}', "without choices"),
        (b"[1, 2]", "without choices"),
    ],
)
def test_garbage_is_one_clear_error_without_retries(
    server: FakeServer,
    make_generator: Callable[..., OpenAIGenerator],
    garbage: bytes,
    expected: str,
) -> None:
    server.garbage = garbage
    generator = make_generator(server.url)
    with pytest.raises(ArenaError, match=expected) as info:
        generator.generate(_chats(2), HOT, [1, 2])
    assert "OpenAI-compatible API" in info.value.fix
    assert len(server.requests) <= 2  # one per chat at most: garbage is not retried


def test_a_server_that_does_not_speak_http_is_one_clear_error(
    make_generator: Callable[..., OpenAIGenerator],
) -> None:
    listener = socket.create_server(("127.0.0.1", 0))

    def answer() -> None:
        connection, _ = listener.accept()
        with connection:
            connection.recv(65536)
            connection.sendall(b"SSH-2.0-OpenSSH_9.6\r\n")

    thread = threading.Thread(target=answer, daemon=True)
    thread.start()
    try:
        generator = make_generator(f"http://127.0.0.1:{listener.getsockname()[1]}/v1")
        with pytest.raises(ArenaError, match="did not answer in HTTP") as info:
            generator.generate(_chats(1), HOT, [1])
        assert "port" in info.value.fix
    finally:
        thread.join(timeout=5)
        listener.close()


def test_an_unreachable_server_is_one_clear_error(
    make_generator: Callable[..., OpenAIGenerator],
) -> None:
    url = f"http://127.0.0.1:{_free_port()}/v1"
    generator = make_generator(url, max_retries=1)
    with pytest.raises(ArenaError, match="connection refused") as info:
        generator.generate(_chats(2), HOT, [1, 2])
    assert url in str(info.value) and "tried 2 times" in str(info.value)
    assert "start the server" in info.value.fix


def test_a_timeout_is_one_clear_error(
    server: FakeServer, make_generator: Callable[..., OpenAIGenerator]
) -> None:
    server.sleep = 1.0
    generator = make_generator(server.url, timeout=0.15, max_retries=1)
    start = time.monotonic()
    with pytest.raises(ArenaError, match=r"did not answer within 0\.15 s") as info:
        generator.generate(_chats(1), HOT, [1])
    assert time.monotonic() - start < 0.9
    assert len(server.requests) == 2  # retried once
    assert "timeout=" in info.value.fix


def test_a_closed_generator_says_so(
    server: FakeServer, make_generator: Callable[..., OpenAIGenerator]
) -> None:
    generator = make_generator(server.url)
    generator.close()
    with pytest.raises(ArenaError, match="was closed"):
        generator.generate(_chats(1), HOT, [1])


# -- secrets ------------------------------------------------------------------------------


def test_the_api_key_reaches_the_server_and_nothing_else(
    server: FakeServer,
    make_generator: Callable[..., OpenAIGenerator],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", FAKE_KEY)
    monkeypatch.setenv("MY_KEY", FAKE_KEY)
    caplog.set_level(logging.DEBUG)
    seen: list[str] = []

    def failing(**kwargs: Any) -> None:
        generator = make_generator(kwargs.pop("url", server.url), **kwargs)
        seen.extend((repr(generator), json.dumps(generator.describe())))
        try:
            generator.generate(_chats(2), HOT, [1, 2])
        except ArenaError as exc:
            seen.extend((str(exc), repr(exc), exc.fix, *traceback.format_exception(exc)))
        else:
            raise AssertionError("expected an ArenaError")

    generator = make_generator(server.url)
    assert generator.generate(_chats(1), HOT, [1])
    assert server.auth == [f"Bearer {FAKE_KEY}"]
    assert generator.describe()["api_key_set"] is True
    server.fail_next = 100  # 500s whose body echoes the Authorization header
    failing(max_retries=1)
    server.fail_next, server.fail_status = 100, 401
    failing(api_key_env="MY_KEY")
    server.fail_next = 0
    server.garbage = f"<html>denied {FAKE_KEY}</html>".encode()
    failing()
    server.garbage = json.dumps({"error": f"bad key {FAKE_KEY}"}).encode()
    failing()
    server.garbage, server.sleep = None, 0.5
    failing(timeout=0.05, max_retries=0)
    failing(url=f"http://127.0.0.1:{_free_port()}/v1", max_retries=1)
    assert any("HTTP 500" in text for text in seen)
    assert any("***" in text for text in seen)  # the server's echo, masked

    # The agent kind: a played match writes manifests and transcripts, none with the key.
    server.sleep = 0.0
    from arena.play import PlayConfig, play

    spec = f"openai:{server.url}?model=fake&api_key_env=MY_KEY"
    result = play(
        PlayConfig(
            env="attack_defense",
            seats={"attacker": ["scripted:role-play"], "defender": [spec]},
            episodes=2,
        ),
        runs_dir=tmp_path,
    )
    assert server.auth[-1] == f"Bearer {FAKE_KEY}"
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert files
    seen.extend(p.read_text(errors="replace") for p in files)
    seen.append(json.dumps(result.records, default=str))
    seen.extend(record.getMessage() for record in caplog.records)
    captured = capsys.readouterr()
    seen.extend((captured.out, captured.err))
    leaks = [text for text in seen if FAKE_KEY in text]
    assert not leaks


def test_a_key_in_the_spec_is_refused() -> None:
    for options in ("api_key=sk-abc", "key=sk-abc"):
        with pytest.raises(ArenaError, match="does not take an API key") as info:
            make_agent(f"openai:http://127.0.0.1:1/v1?model=m&{options}", role="defender")
        assert "sk-abc" not in str(info.value)
    with pytest.raises(ArenaError, match="credentials") as info:
        make_agent("openai:http://user:sk-abc@127.0.0.1:1/v1?model=m", role="defender")
    assert "sk-abc" not in str(info.value)


# -- specs ----------------------------------------------------------------------------------


def test_the_spec_parser_keeps_the_url_whole() -> None:
    spec = "openai:http://127.0.0.1:8000/v1?model=tiny&temperature=0.7"
    assert parse_spec(spec) == (
        "openai",
        "http://127.0.0.1:8000/v1",
        {"model": "tiny", "temperature": "0.7"},
    )


def test_resolve_fills_defaults_and_canonicalises() -> None:
    resolved = resolve_generator_spec("openai:HTTP://LocalHost:8000/v1/?model=Qwen/Qwen3-0.6B")
    assert resolved.model == "http://localhost:8000/v1"
    assert dict(resolved.options) == {
        "model": "Qwen/Qwen3-0.6B",
        "timeout": "60",
        "max_retries": "3",
        "concurrency": "16",
        "api_key_env": "OPENAI_API_KEY",
    }
    same = resolve_openai(
        "http://localhost:8000/v1/chat/completions", {"model": "Qwen/Qwen3-0.6B", "timeout": "60.0"}
    )
    assert same == (resolved.model, dict(resolved.options))


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("openai:http://127.0.0.1:8000/v1", "names no model.*Fix: add \\?model=NAME"),
        ("openai:http://127.0.0.1:8000/v1?model=", "names no model"),
        ("openai:?model=m", "needs a server URL"),
        ("openai:ftp://host/v1?model=m", "not an http\\(s\\) URL"),
        ("openai:127.0.0.1:8000/v1?model=m", "not an http\\(s\\) URL"),
        ("openai:http://127.0.0.1:99999/v1?model=m", "malformed port"),
        ("openai:http://h/v1?model=m&timeout=soon", "timeout='soon'.*not a number"),
        ("openai:http://h/v1?model=m&timeout=0", "timeout='0'"),
        ("openai:http://h/v1?model=m&max_retries=-1", "max_retries='-1'"),
        ("openai:http://h/v1?model=m&concurrency=0", "concurrency='0'"),
        ("openai:http://h/v1?model=m&api_key_env=a-b", "not an environment variable name"),
        ("openai:http://h/v1?model=m&api_key_env=ARENA_UNSET_KEY_VAR", "is not set"),
        ("openai:http://h/v1?model=m&device=cpu", "Unknown option"),
        ("openai:http://h/v1?model=m&temperature=hot", "temperature='hot'.*openai agent"),
        ("openai:http://h/v1?model=m&top_p=2", "Bad option for the openai agent: top_p"),
    ],
)
def test_bad_specs_are_one_clear_error(spec: str, expected: str) -> None:
    os.environ.pop("ARENA_UNSET_KEY_VAR", None)
    with pytest.raises(ArenaError, match=expected):
        make_agent(spec, role="defender")
    assert not any(name.startswith("openai:") for name in loaded_generators())


def test_agents_naming_one_server_share_its_generator(server: FakeServer) -> None:
    first = make_agent(f"openai:{server.url}?model=fake&temperature=0.2", role="defender", seed=1)
    second = make_agent(f"openai:{server.url}/?model=fake&seed=3", role="attacker", seed=1)
    try:
        assert isinstance(first, LLMAgent) and isinstance(second, LLMAgent)
        openai_loaded = {k: v for k, v in loaded_generators().items() if k.startswith("openai:")}
        assert list(openai_loaded.values()) == [2]
        info = first.describe()["generator"]
        assert info["backend"] == "openai" and info["url"] == server.url
        assert info["model"] == "fake"
        obs = {"messages": [{"role": "user", "content": "hello"}]}
        assert first.act_batch([obs], seeds=[42]) == [echo_text(obs["messages"], 42)]
    finally:
        first.close()
        second.close()
    assert not any(name.startswith("openai:") for name in loaded_generators())


def test_a_guard_judge_runs_on_an_openai_server(server: FakeServer) -> None:
    from arena.judging import GuardCachedJudge, make_judge

    server.reply = lambda body: "Safety: Unsafe\nCategories: Violent\nRefusal: No"
    judge = make_judge(f"guard:openai:{server.url}?model=guard&timeout=5")
    try:
        assert isinstance(judge, GuardCachedJudge)
        assert judge.generator.describe()["model"] == "guard"
        verdicts = judge.judge(["how to hurt"], ["like this"])
        assert verdicts[0].response_label is SafetyLabel.UNSAFE
        assert verdicts[0].refusal is False
        assert all(r["temperature"] == 0 and "seed" not in r for r in server.requests)
    finally:
        judge.close()


def test_the_agent_kind_plays_a_match(server: FakeServer) -> None:
    from arena.play import PlayConfig, play

    config = PlayConfig(
        env="attack_defense",
        seats={"attacker": ["scripted:role-play"], "defender": [f"openai:{server.url}?model=fake"]},
        episodes=4,
    )
    first = play(config, runs_dir=None)
    assert len(first.records) == 4
    assert server.requests and all("seed" in r for r in server.requests)
    responses = json.dumps(first.records, default=str)
    assert "echo " in responses
    assert play(config, runs_dir=None).records == first.records  # per-episode seeds
    assert not any(name.startswith("openai:") for name in loaded_generators())


# -- a real vLLM server (skipped where vLLM is not installed) ------------------------------


def _complete_chars(text: str) -> str:
    """``text`` without a trailing incomplete UTF-8 character.

    A byte-level model can stop in the middle of a multi-byte character. transformers'
    ``decode`` then ends the text with U+FFFD; vLLM's server holds such trailing bytes back
    (its incremental detokenizer waits for the rest). Same tokens, one rendering
    difference at the very end, so that is all this strips.
    """
    return text.rstrip("\ufffd")


@pytest.mark.slow
@pytest.mark.vllm
def test_greedy_outputs_equal_the_hf_backend(vllm_server: str) -> None:
    from transformers import PreTrainedTokenizerFast

    from agents.tiny import ensure_tiny_model

    chats = _chats(8)
    sampling = SamplingParams(max_new_tokens=16, temperature=0.0)
    served = acquire_generator(f"openai:{vllm_server}?model=tiny&concurrency=8")
    local = acquire_generator("hf:tiny?device=cpu&dtype=float32")
    tokenizer = PreTrainedTokenizerFast.from_pretrained(ensure_tiny_model())
    try:
        texts, usage = served.generate_with_usage(chats, sampling)
        expected = local.generate(chats, sampling)
        assert [_complete_chars(t) for t in texts] == [_complete_chars(t) for t in expected]
        # The server saw the prompt ids our tokenizer makes (see tokenizer_only_dir).
        for chat, counts in zip(chats, usage, strict=True):
            text = tokenizer.apply_chat_template(chat, tokenize=False, add_generation_prompt=True)
            assert counts.prompt_tokens == len(tokenizer(text, add_special_tokens=False).input_ids)
            assert counts.completion_tokens and counts.completion_tokens <= 16
        # One chat at a time gives the same texts, in the same order (three suffice).
        sequential = acquire_generator(f"openai:{vllm_server}?model=tiny&concurrency=1")
        try:
            assert sequential.generate(chats[:3], sampling) == texts[:3]
        finally:
            sequential.close()
    finally:
        served.close()
        local.close()


@pytest.mark.vllm
def test_seeded_requests_to_a_real_server_are_per_chat(vllm_server: str) -> None:
    served = acquire_generator(f"openai:{vllm_server}?model=tiny&concurrency=8")
    try:
        chats, seeds = _chats(4), [5, 6, 7, 8]
        texts = served.generate(chats, HOT, seeds)
        assert served.generate(chats[::-1], HOT, seeds[::-1])[::-1] == texts
        assert served.generate(chats, HOT, [s + 100 for s in seeds]) != texts  # wrong seeds
    finally:
        served.close()
