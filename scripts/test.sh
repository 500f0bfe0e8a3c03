#!/usr/bin/env bash
# The whole test suite, from a fresh clone: set up both environments, train the model, run pytest.
# Prints how long each step took. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHONPATH="$PWD"

now() { date +%s; }
t0=$(now)
bash scripts/setup.sh
t1=$(now)
.venv/bin/python -m core.train
t2=$(now)
status=0
.venv/bin/python -m pytest "$@" || status=$?
t3=$(now)
echo "timing: set-up $((t1 - t0)) s, training $((t2 - t1)) s, tests $((t3 - t2)) s"
exit "$status"
