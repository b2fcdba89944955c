#!/usr/bin/env bash
# GPU check for an H100/H200 machine (issue 9): a ~200M-parameter model built from config
# on the GPU, a few MAGIC co-evolution steps in bf16, and generation paths compared on the
# same prompts (plain HF generate, transformers' continuous batching, our hf: backend, and
# our vllm: backend where vLLM imports), printing tokens/s, step time and the ratios to
# plain generate (goal >= 10x). See benchmarks/gpu_check.py for what is measured.
#
# Where it runs: a machine with torch and transformers installed but not TRL or vLLM.
# Missing pure-Python packages (trl, datasets, dill, multiprocess, pettingzoo, gymnasium,
# farama-notifications, orjson) are installed from wheels carried in $WHEELS (default
# ./.whl) into a private folder on PYTHONPATH, never into the system's site-packages.
#
# Usage:  bash benchmarks/gpu_check.sh [--dry-run] [gpu_check.py options...]
#   --dry-run   no GPU needed: the same logic at toy sizes on the CPU (what CI checks)
# Environment: PYTHON (default python3), WHEELS (default .whl), SITE (default a temp dir).
set -euo pipefail
cd "$(dirname "$0")/.."
python="${PYTHON:-python3}"
wheels="${WHEELS:-.whl}"
dry_run=0
for arg in "$@"; do
    if [ "$arg" = "--dry-run" ]; then dry_run=1; fi
done

# Only missing imports trigger an install: a complete environment is left as it is.
missing="$("$python" - <<'EOF'
import importlib.util
needed = ["trl", "datasets", "dill", "multiprocess", "pettingzoo", "gymnasium", "orjson"]
print(" ".join(n for n in needed if importlib.util.find_spec(n) is None))
EOF
)"
if [ -n "$missing" ]; then
    if ! ls "$wheels"/*.whl >/dev/null 2>&1; then
        echo "gpu_check: missing Python packages ($missing) and no wheels in $wheels/." >&2
        echo "fix: pip download them as wheels into $wheels/ (see docs/backends.md) or pip install them." >&2
        exit 2
    fi
    site="${SITE:-$(mktemp -d -t arena-site-XXXXXX)}"
    echo "gpu_check: installing carried wheels for: $missing (into $site)"
    "$python" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir \
        --upgrade --target "$site" "$wheels"/*.whl
    export PYTHONPATH="$site${PYTHONPATH:+:$PYTHONPATH}"
fi

if [ "$dry_run" = 0 ]; then
    if ! "$python" -c 'import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)'; then
        echo "gpu_check: torch sees no CUDA device; run with --dry-run to check the logic on a CPU." >&2
        exit 2
    fi
    command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi --query-gpu=name,memory.total --format=csv,noheader
fi
export HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false PYTHONUNBUFFERED=1
export ARENA_HOME="${ARENA_HOME:-$(mktemp -d -t arena-home-XXXXXX)}"
exec "$python" benchmarks/gpu_check.py "$@"
