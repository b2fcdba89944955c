"""OpenAI-compatible chat-completions backend: vLLM's server, SGLang, hosted APIs.

``openai:URL?model=NAME&...`` sends each chat of a ``generate`` call as its own
``POST {URL}/chat/completions`` request (``n=1``), several at a time, and returns the
completions in the order of the chats. Only the standard library is used
(``urllib.request`` + a thread pool), so the backend adds no dependency.

Why it looks the way it does:

* **One request per chat, each with its own seed.** The request carries the chat's
  per-chat seed (``seed``; :class:`~agents.backends.base.TextGenerator`), so a sampled
  text depends on its chat, the sampling parameters and that seed only, never on which
  chats share the call: the server sees each chat alone. Greedy requests send no seed.
  Whether a server honours ``seed`` is the server's business (vLLM does; hosted APIs
  promise "best effort").
* **Sampling is ours.** Requests carry ``temperature``, ``top_p`` and ``max_tokens``
  from :class:`~agents.backends.base.SamplingParams` and nothing else. A server may add
  its own defaults for what the request leaves out (vLLM reads the model's
  ``generation_config.json`` for ``top_k`` or ``repetition_penalty`` unless started with
  ``--generation-config vllm``); start it that way to get the distribution the other
  backends sample.
* **Concurrency limit.** A generator owns one thread pool of ``concurrency`` workers
  (default 16); every agent or judge sharing it (:mod:`agents.generators`) shares that
  limit, so a server never sees more than ``concurrency`` requests from one process
  for one spec.
* **Retries with backoff.** Connection errors, timeouts, HTTP 429 and 5xx are retried up
  to ``max_retries`` times, waiting ``backoff * 2**attempt`` seconds (capped at
  :data:`MAX_BACKOFF_S`, or the server's ``Retry-After`` when it sends one) times a
  jitter factor in [1, 1.5). The jitter is derived from the request's seed and the
  attempt number (:func:`envs.seeding.uniform`), so concurrent retries spread out while
  no global random stream is touched. Other 4xx answers, and answers that are not a
  chat completion (garbage), fail at once: asking again would not help.
* **Secrets stay secret.** The API key is read from the environment variable
  ``api_key_env`` names (default ``OPENAI_API_KEY``) when the generator is built and
  sent as ``Authorization: Bearer``. It is never accepted in a spec, never logged, never
  in :meth:`OpenAIGenerator.describe`, and any text of the server's that we quote in an
  error has it masked. ``user:password@`` in the URL is refused for the same reason.
* **Token counts.** :meth:`OpenAIGenerator.generate_with_usage` returns each chat's
  ``usage`` (prompt and completion tokens) next to its text, and
  :attr:`OpenAIGenerator.total_usage` sums them over the generator's life. ``generate``
  is ``generate_with_usage`` without the counts, so the TextGenerator interface is
  unchanged. (Returned per call rather than kept as a "last call" attribute: a
  generator is shared between agents and judges, possibly across threads.)
* **Clear errors.** An unreachable server, a timeout, repeated 5xx, a 4xx and an answer
  that is not a chat completion each raise one :class:`~envs.errors.ArenaError` naming
  the URL and the fix.

``timeout`` bounds connecting and each wait for the server's answer (urllib's socket
timeout), in seconds. Requests to a loopback host (``127.0.0.1``, ``localhost``, ``::1``)
bypass any ``http_proxy`` from the environment; other hosts use it as urllib does.
"""

from __future__ import annotations

import http.client
import json
import logging
import os
import re
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from email.message import Message
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from agents.backends.base import Chat, SamplingParams, TextGenerator, TokenUsage, chat_seeds
from envs.errors import ArenaError
from envs.seeding import sub_seed, uniform

logger = logging.getLogger(__name__)

OPTIONS = ("model", "timeout", "max_retries", "concurrency", "api_key_env")
DEFAULT_TIMEOUT_S = 60.0
DEFAULT_MAX_RETRIES = 3
DEFAULT_CONCURRENCY = 16
DEFAULT_API_KEY_ENV = "OPENAI_API_KEY"
DEFAULT_BACKOFF_S = 0.5
MAX_BACKOFF_S = 30.0
#: How much of a server's answer an error message quotes.
SNIPPET_CHARS = 200

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_LOOPBACK = {"localhost", "127.0.0.1", "::1"}
_START_SERVER = (
    "start the server (e.g. `python -m vllm.entrypoints.openai.api_server --model "
    "MODEL --port 8000`) or fix the URL and port"
)


class _Secret:
    """Holds the API key; its repr never shows it (tracebacks, debuggers, vars dumps)."""

    __slots__ = ("value",)

    def __init__(self, value: str | None) -> None:
        self.value = value

    def __repr__(self) -> str:
        return "<hidden>" if self.value else "<none>"


class _Retryable(Exception):
    """A failed attempt worth repeating; ``error`` is what to raise if none is left."""

    def __init__(self, error: ArenaError, retry_after: float | None = None) -> None:
        super().__init__(error.message)
        self.error = error
        self.retry_after = retry_after


# -- spec options ----------------------------------------------------------------------


def canonical_url(url: str) -> str:
    """``url`` checked and canonical: http(s), a host, no credentials/query, no final /."""
    raw = url.strip()
    fix = "write openai:http://HOST:PORT/v1?model=NAME, e.g. openai:http://127.0.0.1:8000/v1?model=tiny."
    if not raw:
        raise ArenaError("The openai generator needs a server URL: openai: names none.", fix)
    parts = urlsplit(raw)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise ArenaError(
            f"The openai generator's URL {raw!r} is not an http(s) URL with a host.", fix
        )
    if parts.username is not None or parts.password is not None:
        # Do not echo the URL: its user:password part may be a secret.
        raise ArenaError(
            "The openai generator's URL carries credentials (user:password@host).",
            f"remove them and put the API key in an environment variable (default "
            f"{DEFAULT_API_KEY_ENV}, or name another with ?api_key_env=NAME).",
        )
    if parts.query or parts.fragment:
        raise ArenaError(f"The openai generator's URL {raw!r} has a query or fragment.", fix)
    try:
        _ = parts.port  # a malformed port raises ValueError
    except ValueError:
        raise ArenaError(f"The openai generator's URL {raw!r} has a malformed port.", fix) from None
    netloc = parts.netloc.lower()
    path = parts.path.rstrip("/")
    if path.endswith("/chat/completions"):  # the endpoint itself: accept it, keep the base
        path = path.removesuffix("/chat/completions")
    return urlunsplit((parts.scheme.lower(), netloc, path, "", ""))


def _number(options: Mapping[str, str], name: str, default: float, minimum: float) -> float:
    raw = options.get(name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    if not value >= minimum or value == float("inf"):
        raise ArenaError(
            f"Option {name}={raw!r} of the openai generator is not a number >= {minimum:g}.",
            f"write e.g. ?{name}={default:g}.",
        )
    return value


def _whole(options: Mapping[str, str], name: str, default: int, minimum: int) -> int:
    raw = options.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = minimum - 1
    if value < minimum:
        raise ArenaError(
            f"Option {name}={raw!r} of the openai generator is not a whole number >= {minimum}.",
            f"write e.g. ?{name}={default}.",
        )
    return value


def resolve_openai(url: str, options: Mapping[str, str]) -> tuple[str, dict[str, str]]:
    """Canonical ``openai`` identity: the URL and every loader option, defaults filled in.

    Cheap and offline: nothing is contacted. An ``api_key_env`` given explicitly must
    name a set variable (the default may be unset: local servers need no key).
    """
    base = canonical_url(url)
    model = options.get("model", "").strip()
    if not model:
        raise ArenaError(
            f"The openai generator for {base} names no model.",
            "add ?model=NAME (the name the server serves, e.g. what GET /v1/models lists).",
        )
    timeout = _number(options, "timeout", DEFAULT_TIMEOUT_S, 0.001)
    max_retries = _whole(options, "max_retries", DEFAULT_MAX_RETRIES, 0)
    concurrency = _whole(options, "concurrency", DEFAULT_CONCURRENCY, 1)
    key_env = options.get("api_key_env", DEFAULT_API_KEY_ENV).strip()
    if not _ENV_NAME.match(key_env):
        raise ArenaError(
            f"Option api_key_env={key_env!r} of the openai generator is not an environment "
            "variable name.",
            "name the variable that holds the key, e.g. ?api_key_env=OPENAI_API_KEY (the key "
            "itself never goes in a spec).",
        )
    if "api_key_env" in options and not os.environ.get(key_env):
        raise ArenaError(
            f"The environment variable {key_env} (api_key_env of the openai generator) is not set.",
            f"export {key_env}=... before running, or drop ?api_key_env for a server "
            "without a key.",
        )
    return base, {
        "model": model,
        "timeout": f"{timeout:g}",
        "max_retries": str(max_retries),
        "concurrency": str(concurrency),
        "api_key_env": key_env,
    }


# -- the generator ---------------------------------------------------------------------


class OpenAIGenerator(TextGenerator):
    """Chat completions from an OpenAI-compatible server at ``url`` (``.../v1``)."""

    def __init__(
        self,
        url: str,
        *,
        model: str,
        timeout: float = DEFAULT_TIMEOUT_S,
        max_retries: int = DEFAULT_MAX_RETRIES,
        concurrency: int = DEFAULT_CONCURRENCY,
        api_key_env: str = DEFAULT_API_KEY_ENV,
        backoff: float = DEFAULT_BACKOFF_S,
    ) -> None:
        base, options = resolve_openai(
            url,
            {
                "model": model,
                "timeout": str(timeout),
                "max_retries": str(max_retries),
                "concurrency": str(concurrency),
            },
        )
        if not _ENV_NAME.match(api_key_env):
            raise ArenaError(
                f"api_key_env={api_key_env!r} is not an environment variable name.",
                "name the variable that holds the key, e.g. OPENAI_API_KEY.",
            )
        if not (backoff >= 0):
            raise ArenaError(f"backoff must be >= 0 seconds, got {backoff!r}.", "pass e.g. 0.5.")
        self.url = base
        self.endpoint = f"{base}/chat/completions"
        self.model = options["model"]
        self.timeout = float(options["timeout"])
        self.max_retries = int(options["max_retries"])
        self.concurrency = int(options["concurrency"])
        self.api_key_env = api_key_env
        self.backoff = float(backoff)
        self._key = _Secret(os.environ.get(api_key_env) or None)
        host = (urlsplit(base).hostname or "").lower()
        handlers: list[urllib.request.BaseHandler] = []
        if host in _LOOPBACK or host.startswith("127."):
            handlers.append(urllib.request.ProxyHandler({}))
        self._opener = urllib.request.build_opener(*handlers)
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()
        self._closed = False
        self._total = TokenUsage(0, 0)

    def __repr__(self) -> str:
        return f"OpenAIGenerator({self.url!r}, model={self.model!r})"

    # -- generation -------------------------------------------------------------------

    def generate(
        self,
        chats: Sequence[Chat],
        sampling: SamplingParams,
        seeds: Sequence[int] | None = None,
    ) -> list[str]:
        texts, _ = self.generate_with_usage(chats, sampling, seeds)
        return texts

    def generate_with_usage(
        self,
        chats: Sequence[Chat],
        sampling: SamplingParams,
        seeds: Sequence[int] | None = None,
    ) -> tuple[list[str], list[TokenUsage]]:
        """:meth:`generate` plus each chat's token counts (``usage`` of its response)."""
        if not chats:
            return [], []
        if self._closed:
            raise ArenaError(f"The openai generator for {self.url} was closed.", "build a new one.")
        if sampling.greedy:
            if seeds is not None:
                chat_seeds(len(chats), sampling, seeds)  # still check them
            row_seeds: list[int | None] = [None] * len(chats)
        else:
            row_seeds = list(chat_seeds(len(chats), sampling, seeds))
        pool = self._executor()
        futures: list[Future[tuple[str, TokenUsage]]] = [
            pool.submit(self._complete, index, chat, sampling, seed)
            for index, (chat, seed) in enumerate(zip(chats, row_seeds, strict=True))
        ]
        done, pending = wait(futures, return_when=FIRST_EXCEPTION)
        if pending:  # one failed: do not start the rest, report the first failure in order
            for future in pending:
                future.cancel()
            for future in futures:
                if future in done and future.exception() is not None:
                    future.result()  # raises it
        results = [future.result() for future in futures]
        usages = [usage for _, usage in results]
        with self._lock:
            for usage in usages:
                self._total = self._total + usage
        return [text for text, _ in results], usages

    @property
    def total_usage(self) -> TokenUsage:
        """Tokens counted over every completion this generator returned so far."""
        with self._lock:
            return self._total

    def _executor(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(
                    max_workers=self.concurrency, thread_name_prefix="arena-openai"
                )
            return self._pool

    def payload(self, chat: Chat, sampling: SamplingParams, seed: int | None) -> dict[str, Any]:
        """The JSON body of one chat's request."""
        body: dict[str, Any] = {
            "model": self.model,
            "messages": [{"role": str(m["role"]), "content": str(m["content"])} for m in chat],
            "max_tokens": sampling.max_new_tokens,
            "temperature": sampling.temperature,
            "top_p": sampling.top_p,
            "n": 1,
            "stream": False,
        }
        if seed is not None:
            body["seed"] = seed
        return body

    def _complete(
        self, index: int, chat: Chat, sampling: SamplingParams, seed: int | None
    ) -> tuple[str, TokenUsage]:
        data = json.dumps(self.payload(chat, sampling, seed)).encode("utf-8")
        jitter_seed = sub_seed(seed if seed is not None else index, "openai-retry")
        attempts = self.max_retries + 1
        for attempt in range(attempts):
            try:
                return self._parse(self._post(data))
            except _Retryable as failure:
                if attempt + 1 >= attempts:
                    raise self._exhausted(failure.error, attempts) from None
                delay = min(self.backoff * 2**attempt, MAX_BACKOFF_S)
                if failure.retry_after is not None:
                    delay = min(max(delay, failure.retry_after), MAX_BACKOFF_S)
                delay *= 1.0 + 0.5 * uniform(sub_seed(jitter_seed, attempt))
                logger.warning(
                    "openai backend: %s; retry %d of %d in %.2f s",
                    failure.error.message,
                    attempt + 1,
                    self.max_retries,
                    delay,
                )
                time.sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    def _exhausted(self, error: ArenaError, attempts: int) -> ArenaError:
        tries = "once" if attempts == 1 else f"{attempts} times"
        return ArenaError(f"{error.message} (tried {tries})", error.fix)

    def _post(self, data: bytes) -> bytes:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self._key.value:
            headers["Authorization"] = f"Bearer {self._key.value}"
        request = urllib.request.Request(self.endpoint, data=data, headers=headers, method="POST")
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                return bytes(response.read())
        except urllib.error.HTTPError as exc:
            body = self._read_error_body(exc)
            raise self._http_error(exc.code, exc.reason, body, exc.headers) from None
        except urllib.error.URLError as exc:
            raise self._connection_error(exc.reason) from None
        except http.client.HTTPException as exc:  # not HTTP at all (wrong port?)
            raise ArenaError(
                f"The server at {self.url} did not answer in HTTP ({type(exc).__name__}).",
                "check the URL's scheme and port: it must be the OpenAI-compatible API's.",
            ) from None
        except OSError as exc:  # a timeout or a reset while reading the answer
            raise self._connection_error(exc) from None

    @staticmethod
    def _read_error_body(exc: urllib.error.HTTPError) -> str:
        try:
            return exc.read().decode("utf-8", "replace")
        except Exception:  # a broken error body must not hide the status
            return ""
        finally:
            exc.close()

    def _connection_error(self, reason: object) -> _Retryable:
        if isinstance(reason, TimeoutError):  # socket.timeout is TimeoutError
            return _Retryable(
                ArenaError(
                    f"The OpenAI-compatible server at {self.url} did not answer within "
                    f"{self.timeout:g} s.",
                    "check that the server is up and not overloaded, lower ?concurrency=, "
                    "or raise ?timeout= (seconds).",
                )
            )
        if isinstance(reason, ConnectionRefusedError):
            what = "connection refused"
        elif isinstance(reason, socket.gaierror):
            what = "unknown host"
        else:
            what = self._redact(str(reason)) or type(reason).__name__
        return _Retryable(
            ArenaError(
                f"Could not reach the OpenAI-compatible server at {self.url}: {what}.",
                f"{_START_SERVER}.",
            )
        )

    def _http_error(self, status: int, reason: str, body: str, headers: Message) -> Exception:
        detail = self._server_message(body)
        said = f": {detail}" if detail else ""
        message = (
            f"The OpenAI-compatible server at {self.url} answered HTTP {status} {reason}{said}"
        )
        if status == 429 or status >= 500:
            fix = (
                "the server is overloaded: lower ?concurrency=, or retry later."
                if status == 429
                else "check the server's log; raise ?max_retries= if the failures are transient."
            )
            return _Retryable(ArenaError(message, fix), _retry_after(headers))
        if status in (401, 403):
            fix = (
                f"put a valid API key in the environment variable {self.api_key_env} "
                "(or name another with ?api_key_env=NAME)."
            )
        elif status == 404:
            fix = (
                f"check the URL (it should end in /v1: requests go to {self.endpoint}) and "
                f"that the server serves ?model={self.model} (see GET /v1/models)."
            )
        else:
            fix = f"check ?model={self.model} and the sampling options against the server's API."
        return ArenaError(message, fix)

    def _server_message(self, body: str) -> str:
        """The server's error text: ``error.message`` of a JSON body, else its start."""
        text = body.strip()
        try:
            parsed = json.loads(text)
        except ValueError:
            parsed = None
        if isinstance(parsed, dict):
            error = parsed.get("error", parsed.get("detail", parsed.get("message")))
            if isinstance(error, dict):
                error = error.get("message", error)
            if error is not None:
                text = error if isinstance(error, str) else json.dumps(error)
        text = " ".join(text.split())
        if len(text) > SNIPPET_CHARS:
            text = text[:SNIPPET_CHARS] + "..."
        return self._redact(text)

    def _parse(self, raw: bytes) -> tuple[str, TokenUsage]:
        garbage_fix = (
            f"check that {self.url} is an OpenAI-compatible API (the base URL, usually ending "
            "in /v1, of vLLM's or SGLang's server or a hosted API)."
        )
        text = raw.decode("utf-8", "replace")
        try:
            body = json.loads(text)
        except ValueError:
            snippet = self._redact(" ".join(text.split())[:SNIPPET_CHARS]) or "an empty body"
            raise ArenaError(
                f"The server at {self.url} answered with something that is not JSON: {snippet!r}.",
                garbage_fix,
            ) from None
        try:
            content = body["choices"][0]["message"]["content"]
        except (KeyError, IndexError, TypeError):
            content = ...
        if content is not None and not isinstance(content, str):
            keys = ", ".join(sorted(body)) if isinstance(body, dict) else type(body).__name__
            raise ArenaError(
                f"The server at {self.url} answered JSON without choices[0].message.content "
                f"(it sent: {self._redact(keys)}).",
                garbage_fix,
            )
        usage = body.get("usage") if isinstance(body, dict) else None
        usage = usage if isinstance(usage, dict) else {}
        return content or "", TokenUsage(
            _count(usage.get("prompt_tokens")), _count(usage.get("completion_tokens"))
        )

    def _redact(self, text: str) -> str:
        key = self._key.value
        if key and key in text:
            text = text.replace(key, "***")
        return text

    # -- bookkeeping --------------------------------------------------------------------

    def describe(self) -> dict[str, Any]:
        """URL, model and loader settings; the key's variable *name* only, never the key."""
        return {
            "backend": "openai",
            "url": self.url,
            "model": self.model,
            "timeout": self.timeout,
            "max_retries": self.max_retries,
            "concurrency": self.concurrency,
            "api_key_env": self.api_key_env,
            "api_key_set": self._key.value is not None,
        }

    def close(self) -> None:
        """Stop the worker threads (requests in flight finish first)."""
        self._closed = True
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _retry_after(headers: Message | None) -> float | None:
    raw = headers.get("Retry-After") if headers is not None else None
    try:
        return max(0.0, float(raw)) if raw is not None else None
    except ValueError:  # an HTTP date: ignore it, use our own backoff
        return None


def make_openai_generator(url: str, options: Mapping[str, str]) -> OpenAIGenerator:
    """The registry's factory: ``options`` are :func:`resolve_openai`'s."""
    return OpenAIGenerator(
        url,
        model=options["model"],
        timeout=float(options.get("timeout", DEFAULT_TIMEOUT_S)),
        max_retries=int(options.get("max_retries", DEFAULT_MAX_RETRIES)),
        concurrency=int(options.get("concurrency", DEFAULT_CONCURRENCY)),
        api_key_env=options.get("api_key_env", DEFAULT_API_KEY_ENV),
    )


def register() -> None:
    """Register the ``openai`` generator kind (done on import; calling again is harmless)."""
    from agents.generators import register_generator_kind

    register_generator_kind(
        "openai",
        make_openai_generator,
        options=OPTIONS,
        resolve=resolve_openai,
        help="OpenAI-compatible server (vLLM, SGLang, hosted): openai:URL?model=NAME; "
        "loader options model, timeout, max_retries, concurrency, api_key_env",
    )


register()
