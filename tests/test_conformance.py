"""PettingZoo conformance of every registered environment.

One module, parametrized over :data:`envs.ENVIRONMENTS`, in the shape of PettingZoo's own
``test/pytest_runner_test.py`` (which runs ``api_test``, ``parallel_api_test``,
``seed_test``, ``render_test`` and ``max_cycles_test`` over ``all_environments``). An
environment registered later is picked up automatically. Where a check does not apply to
an environment, the test is *skipped with the reason* (``-ra`` lists it), never passed
silently.

Game-specific behaviour (payoffs, judges, multi-turn options) is tested in each
environment's own test module; here every environment is built with its defaults, as
``envs.load_environment`` (the CLI's path) gives it.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from types import ModuleType
from typing import Any

import pytest
from pettingzoo.test import (
    api_test,
    max_cycles_test,
    parallel_api_test,
    parallel_seed_test,
    render_test,
    seed_test,
)

import envs

# Enough cycles to play several whole episodes of every current game (each lasts a few
# moves by default) while keeping this module to a few seconds.
NUM_CYCLES = 100
SEED_CYCLES = 50

ENV_NAMES = sorted(envs.ENVIRONMENTS)


@pytest.fixture(params=ENV_NAMES)
def name(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def module(name: str) -> ModuleType:
    return envs.load_environment(name)


def _accepts(fn: Callable[..., Any], parameter: str) -> bool:
    """Whether ``fn`` (a function or a class) names ``parameter`` in its signature.

    ``**kwargs`` alone does not count: the module's ``env``/``parallel_env`` commonly
    forward ``**kwargs`` to ``raw_env``, which is checked separately.
    """
    try:
        return parameter in inspect.signature(fn).parameters
    except (TypeError, ValueError):  # pragma: no cover - builtins without signatures
        return False


# --------------------------------------------------------------------------- registry


def test_registry_is_not_empty() -> None:
    assert ENV_NAMES, "envs.ENVIRONMENTS is empty: nothing would be conformance-tested"


def test_module_convention(name: str, module: ModuleType) -> None:
    """``<name>`` module exposes ``env`` and ``raw_env``; its metadata names it ``<name>``."""
    assert callable(getattr(module, "env", None)), f"{module.__name__} has no env()"
    assert hasattr(module, "raw_env"), f"{module.__name__} has no raw_env"
    aec = module.env()
    # PettingZoo's runner asserts str(env) == the module's base name; str() of a wrapped
    # env shows the wrapper, so compare the unwrapped env and the metadata.
    assert aec.metadata.get("name") == name
    assert str(aec.unwrapped) == name
    if hasattr(module, "parallel_env"):
        assert module.parallel_env().metadata.get("name") == name
    aec.close()


# --------------------------------------------------------------------------- AEC API


def test_api(module: ModuleType) -> None:
    api_test(module.env(), num_cycles=NUM_CYCLES)


def test_seed(module: ModuleType) -> None:
    seed_test(module.env, num_cycles=SEED_CYCLES)


# --------------------------------------------------------------------------- parallel API


def test_parallel_api(name: str, module: ModuleType) -> None:
    if not hasattr(module, "parallel_env"):
        parallelizable = module.env().metadata.get("is_parallelizable", False)
        pytest.skip(
            f"{name} has no parallel_env (sequential game; is_parallelizable={parallelizable})"
        )
    parallel_api_test(module.parallel_env(), num_cycles=NUM_CYCLES)


def test_parallel_seed(name: str, module: ModuleType) -> None:
    if not hasattr(module, "parallel_env"):
        pytest.skip(f"{name} has no parallel_env, so there is no parallel seeding to test")
    parallel_seed_test(module.parallel_env, num_cycles=SEED_CYCLES)


# --------------------------------------------------------------------------- rendering


def test_render(name: str, module: ModuleType) -> None:
    # PettingZoo's render_test builds env_fn(render_mode="human") once just to read the
    # metadata, then for every declared mode plays a few moves and checks render(): an
    # "rgb_array" must be an HxWx3 uint8 image, "ansi" must return a str, and "human"
    # must return None (it draws / prints itself). Text games therefore declare "ansi"
    # (render() returns the text) and "human" (render() prints that text), as
    # PettingZoo's classic text games print in "human" mode. So every environment that
    # renders must accept render_mode="human"; no mode is filtered out here.
    render_modes = module.env().metadata.get("render_modes") or []
    if not render_modes:
        pytest.skip(f"{name} declares no render_modes in its metadata")
    render_test(module.env)


# --------------------------------------------------------------------------- max_cycles


def test_max_cycles(name: str, module: ModuleType) -> None:
    # max_cycles_test(mod) builds mod.parallel_env(max_cycles=4) and mod.env(max_cycles=4),
    # and checks the parallel episode lasts exactly 4 steps and each AEC agent acts
    # 4 times (+1 dead step). It applies where the module takes max_cycles=.
    constructors = [getattr(module, attr, None) for attr in ("env", "parallel_env", "raw_env")]
    if not any(fn is not None and _accepts(fn, "max_cycles") for fn in constructors):
        pytest.skip(f"{name} takes no max_cycles= (no env/parallel_env/raw_env parameter)")
    if not hasattr(module, "parallel_env"):
        pytest.skip(f"{name} takes max_cycles= but max_cycles_test needs a parallel_env")
    max_cycles_test(module)
