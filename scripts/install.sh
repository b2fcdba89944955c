#!/usr/bin/env bash
# Installs Arena into ./.venv (or $ARENA_VENV) with its dev tools, offline-capable:
# torch is pinned to the CPU build through constraints.txt (override with
# ARENA_TORCH="torch==X" on a GPU machine), everything else comes from PyPI.
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
  "${pip[@]}" install -q "$torch_spec"
fi
"${pip[@]}" install -q -c constraints.txt -e ".[dev]"
echo "Arena installed in $venv ($("$venv/bin/python" -c 'import torch; print("torch", torch.__version__)'))"
