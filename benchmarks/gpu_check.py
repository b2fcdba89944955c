"""GPU check (issue 9): a ~200M model from config, co-evolution steps in bf16, and generation
paths compared on the same prompts. Run it through ``benchmarks/gpu_check.sh`` on an
H100/H200 machine; ``--dry-run`` runs the same logic on the CPU at toy sizes (CI tests it).

What it does, in order, printing one line per result:

1. **Model.** A random-init Qwen2 of about ``--hidden``/``--layers`` size (default ~200M
   parameters) with the tiny model's tokenizer (``agents.tiny``), built on the device
   and saved with ``save_pretrained`` (safetensors), so every path below loads the same
   checkpoint as ``hf:DIR``.
2. **Co-evolution.** ``--coevo-steps`` GRPO steps of MAGIC (``arena.train.magic``) with
   both seats on that model, in bf16 on the GPU; prints the median step time (after the
   first step, which pays for lazy initialisation).
3. **Generation.** ``--batch`` chats x ``--new-tokens`` tokens, greedy, the same prompt ids
   for every path, each timed after one warm-up call; tokens/s counts the tokens each path
   actually generated (a random model may stop early at EOS):

   * ``plain``: ``model.generate`` on the left-padded batch (the baseline);
   * ``continuous``: transformers' continuous batching, ``model.generate_batch`` (paged
     attention), where this transformers has it;
   * ``arena-hf``: our ``hf:`` backend (:class:`agents.backends.hf.HFGenerator`, bf16),
     plain engine (padded ``generate`` batches of ``--batch``);
   * ``arena-hf-continuous``: the same backend with ``engine=continuous`` (greedy
     requests go through ``generate_batch``): our backend's best GPU path without vLLM;
   * ``arena-vllm``: our ``vllm:`` backend, only where vLLM imports.

   Each line gives the ratio to ``plain``; the goal is >= 10x for the best path
   (``GOAL``). The greedy texts of every path are compared with ``plain``'s (agreement in
   percent: bf16 kernels differ, so a few divergent rows are expected).

Nothing here is hard-coded: every figure is measured in this process. ``--json PATH``
also writes the results as JSON.
"""

from __future__ import annotations

import argparse
import inspect
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

GOAL = 10.0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dry-run", action="store_true", help="CPU, toy sizes: logic only")
    parser.add_argument("--hidden", type=int, default=1024)
    parser.add_argument("--layers", type=int, default=14)
    parser.add_argument("--batch", type=int, default=128, help="chats per generation call")
    parser.add_argument("--new-tokens", type=int, default=256)
    parser.add_argument("--coevo-steps", type=int, default=4, help="GRPO steps (0: skip)")
    parser.add_argument("--group-size", type=int, default=8)
    parser.add_argument("--seeds-per-step", type=int, default=8)
    parser.add_argument("--json", type=Path, default=None, help="also write results here")
    parser.add_argument("--out", type=Path, default=None, help="work folder (default: temp)")
    args = parser.parse_args(argv)
    if args.dry_run:  # same code paths, sizes a 2-core CPU runs in seconds
        args.hidden, args.layers = 64, 2
        args.batch, args.new_tokens = 4, 8
        args.coevo_steps = min(args.coevo_steps, 2)
        args.group_size, args.seeds_per_step = 2, 1
    return args


def build_model(directory: Path, hidden: int, layers: int, device: str, dtype: Any) -> int:
    """A random-init Qwen2 with the tiny tokenizer, built on ``device``; returns its size."""
    import torch
    from transformers import (
        AutoConfig,
        AutoModelForCausalLM,
        PreTrainedTokenizerFast,
        Qwen2Config,
    )

    from agents.tiny import ensure_tiny_model

    tiny = ensure_tiny_model()
    tokenizer = PreTrainedTokenizerFast.from_pretrained(tiny)
    tiny_config = AutoConfig.from_pretrained(tiny)
    heads = max(1, hidden // 64)
    config = Qwen2Config(
        vocab_size=tiny_config.vocab_size,
        hidden_size=hidden,
        intermediate_size=4 * hidden,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        num_key_value_heads=max(1, heads // 4),
        max_position_embeddings=4096,
        tie_word_embeddings=False,
        bos_token_id=tiny_config.bos_token_id,
        eos_token_id=tiny_config.eos_token_id,
        pad_token_id=tiny_config.pad_token_id,
    )
    torch.manual_seed(0)
    with torch.device(device):
        model = AutoModelForCausalLM.from_config(config, dtype=dtype)
    model.save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    (directory / "generation_config.json").write_text(
        json.dumps({"eos_token_id": tokenizer.eos_token_id, "pad_token_id": tokenizer.pad_token_id})
    )
    size = sum(p.numel() for p in model.parameters())
    del model
    return int(size)


def coevolution(model_dir: Path, work: Path, args: argparse.Namespace, gpu: bool) -> list[float]:
    """``args.coevo_steps`` MAGIC GRPO steps (defender phase first); seconds per step."""
    from arena.train.config import MagicConfig
    from arena.train.magic import MagicTrainer

    spec = f"hf:{model_dir}"
    config = MagicConfig(
        out=str(work / "magic"),
        attacker=spec,
        defender=spec,
        steps=args.coevo_steps,
        switch_every=max(1, args.coevo_steps // 2),
        group_size=args.group_size,
        seeds_per_step=args.seeds_per_step,
        max_new_tokens=min(128, args.new_tokens),
        defender_max_new_tokens=min(128, args.new_tokens),
        sft_steps=0,
        eval_seeds=0,
        bf16=gpu,
    )
    trainer = MagicTrainer(config)
    trainer.run()
    return list(trainer.step_seconds)


def prompts(tokenizer: Any, count: int) -> list[list[dict[str, str]]]:
    """``count`` chats of varied length, like a round of the attack-defense game."""
    return [
        [
            {"role": "system", "content": "You are a careful assistant."},
            {"role": "user", "content": f"Question {i}: explain the plan " + "step " * (i % 7)},
        ]
        for i in range(count)
    ]


def timed(call: Callable[[], list[list[int]]]) -> tuple[float, list[list[int]]]:
    """Seconds of ``call`` after one warm-up call (CUDA synchronised), and its token ids."""
    import torch

    call()
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    start = time.perf_counter()
    ids = call()
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    return time.perf_counter() - start, ids


def generation_paths(
    model_dir: Path, args: argparse.Namespace, device: str, dtype: Any
) -> dict[str, Any]:
    """Every path's tokens/s on the same prompt ids (module docstring)."""
    import torch
    from transformers import AutoModelForCausalLM, GenerationConfig, PreTrainedTokenizerFast

    from agents.backends.base import SamplingParams

    tokenizer = PreTrainedTokenizerFast.from_pretrained(model_dir, padding_side="left")
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=dtype).to(device).eval()
    chats = prompts(tokenizer, args.batch)
    texts = [
        tokenizer.apply_chat_template(c, tokenize=False, add_generation_prompt=True) for c in chats
    ]
    ids = [tokenizer(t, add_special_tokens=False).input_ids for t in texts]
    eos, pad = tokenizer.eos_token_id, tokenizer.pad_token_id
    n = args.new_tokens

    def cut(row: list[int]) -> list[int]:
        row = [t for t in row if t != pad]
        return row[: row.index(eos) + 1] if eos in row else row

    def plain() -> list[list[int]]:
        batch = tokenizer.pad({"input_ids": ids}, return_tensors="pt").to(device)
        with torch.inference_mode():
            out = model.generate(
                **batch, max_new_tokens=n, do_sample=False, pad_token_id=pad, eos_token_id=eos
            )
        return [cut(row) for row in out[:, batch["input_ids"].shape[1] :].tolist()]

    results: dict[str, Any] = {}
    paths: dict[str, Callable[[], list[list[int]]]] = {"plain": plain}
    if device != "cuda":
        results["continuous"] = {"skipped": "paged attention is a GPU path (on a CPU it polls)"}
    elif hasattr(model, "generate_batch"):
        config = GenerationConfig(
            max_new_tokens=n, do_sample=False, eos_token_id=eos, pad_token_id=pad
        )

        def continuous() -> list[list[int]]:
            kwargs: dict[str, Any] = {"generation_config": config}
            if "progress_bar" in inspect.signature(model.generate_batch).parameters:
                kwargs["progress_bar"] = False
            with torch.inference_mode():
                out = model.generate_batch(ids, **kwargs)
            return [cut(list(o.generated_tokens)) for o in out.values()]

        paths["continuous"] = continuous
    else:
        results["continuous"] = {"skipped": "this transformers has no generate_batch"}

    greedy = SamplingParams(max_new_tokens=n, temperature=0.0)

    def backend_path(spec: str) -> Callable[[], list[list[int]]]:
        from agents.generators import acquire_generator

        handle = acquire_generator(spec)

        def call() -> list[list[int]]:
            return [
                tokenizer(t, add_special_tokens=False).input_ids
                for t in handle.generate(chats, greedy)
            ]

        return call

    hf_dtype = "bfloat16" if device == "cuda" else "float32"
    hf_spec = f"hf:{model_dir}?device={device}&dtype={hf_dtype}&batch_size={args.batch}"
    paths["arena-hf"] = backend_path(hf_spec)
    paths["arena-hf-continuous"] = backend_path(hf_spec + "&engine=continuous")
    from agents.backends.vllm import vllm_available

    if vllm_available():
        paths["arena-vllm"] = backend_path(f"vllm:{model_dir}?dtype={hf_dtype}")
    else:
        results["arena-vllm"] = {"skipped": "vLLM is not installed here"}

    reference: list[list[int]] | None = None
    for name, call in paths.items():
        try:
            seconds, out = timed(call)
        except Exception as exc:  # one path failing must not hide the others' figures
            results[name] = {"failed": f"{type(exc).__name__}: {str(exc).splitlines()[0][:160]}"}
            print(f"generation {name:>19}: FAILED {results[name]['failed']}", flush=True)
            continue
        tokens = sum(len(row) for row in _retokenized(tokenizer, out))
        entry: dict[str, Any] = {
            "seconds": seconds,
            "tokens": tokens,
            "tokens_per_s": tokens / seconds,
        }
        if reference is None:
            reference = out
        entry["same_as_plain_pct"] = 100.0 * _agreement(tokenizer, out, reference)
        results[name] = entry
    base = results["plain"].get("tokens_per_s")
    for name, entry in results.items():
        if "tokens_per_s" in entry and base:
            entry["ratio_vs_plain"] = entry["tokens_per_s"] / base
            print(
                f"generation {name:>19}: {entry['tokens_per_s']:10.0f} tok/s  "
                f"({entry['tokens']} tokens in {entry['seconds']:.2f} s)  "
                f"{entry['ratio_vs_plain']:5.2f}x plain  same text as plain: "
                f"{entry['same_as_plain_pct']:.0f}%",
                flush=True,
            )
        elif "skipped" in entry:
            print(f"generation {name:>19}: skipped ({entry['skipped']})", flush=True)
    return results


def _retokenized(tokenizer: Any, out: list[list[int]]) -> list[list[int]]:
    """Rows in one unit for every path: the decoded text encoded again (special tokens
    dropped), since the backends return text and its ids may split differently."""
    texts = tokenizer.batch_decode(out, skip_special_tokens=True)
    return [tokenizer(t, add_special_tokens=False).input_ids for t in texts]


def _agreement(tokenizer: Any, out: list[list[int]], reference: list[list[int]]) -> float:
    """Share of rows whose decoded text equals the reference's."""
    a = tokenizer.batch_decode(out, skip_special_tokens=True)
    b = tokenizer.batch_decode(reference, skip_special_tokens=True)
    return sum(x == y for x, y in zip(a, b, strict=True)) / max(1, len(b))


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    import torch

    gpu = torch.cuda.is_available() and not args.dry_run
    if not gpu and not args.dry_run:
        print("gpu_check: no CUDA device; run with --dry-run to check the logic on a CPU.")
        return 2
    torch.set_num_threads(1 if not gpu else torch.get_num_threads())
    device = "cuda" if gpu else "cpu"
    dtype = torch.bfloat16 if gpu else torch.float32
    report: dict[str, Any] = {"device": torch.cuda.get_device_name() if gpu else "cpu (dry run)"}
    report["torch"] = torch.__version__
    import transformers

    report["transformers"] = transformers.__version__
    print(
        f"gpu_check on {report['device']}: torch {torch.__version__}, "
        f"transformers {transformers.__version__}"
    )
    with tempfile.TemporaryDirectory(prefix="arena-gpu-check-") as tmp:
        work = args.out or Path(tmp)
        model_dir = work / "model"
        start = time.perf_counter()
        size = build_model(model_dir, args.hidden, args.layers, device, dtype)
        report["parameters"] = size
        print(f"model: {size / 1e6:.1f}M parameters built in {time.perf_counter() - start:.1f} s")
        if args.coevo_steps > 0:
            steps = coevolution(model_dir, work, args, gpu)
            timed_steps = steps[1:] if len(steps) > 1 else steps
            report["coevolution"] = {"steps": len(steps), "step_seconds": steps}
            if timed_steps:
                median = statistics.median(timed_steps)
                report["coevolution"]["median_step_s"] = median
                print(
                    f"co-evolution: {len(steps)} GRPO steps, median {median:.2f} s/step "
                    "(after the first)"
                )
            if gpu:
                peak = torch.cuda.max_memory_allocated() / 2**30
                report["coevolution"]["peak_gib"] = peak
                print(f"co-evolution: peak GPU memory {peak:.1f} GiB")
        report["generation"] = generation_paths(model_dir, args, device, dtype)
    ratios = [
        e["ratio_vs_plain"]
        for k, e in report["generation"].items()
        if k != "plain" and "ratio_vs_plain" in e
    ]
    best = max(ratios, default=0.0)
    report["best_ratio"] = best
    verdict = "met" if best >= GOAL else "NOT met"
    print(f"best generation path: {best:.2f}x plain generate (goal >= {GOAL:g}x: {verdict})")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
