#!/usr/bin/env bash
# Drift benchmark: Evidently's DataDriftPreset and watchdog side by side (same invocation,
# alternating, fresh processes, medians of 3), then watchdog alone on a 100M-row table with a
# cold page cache. Raw runs: bench/drift/results.jsonl.
#   bench/drift/run.sh            (from the repository root)
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PY:-.venv/bin/python}
bench/drift/setup.sh
export PYTHONPATH=$PWD
$PY bench/drift/compare.py --sizes 100000x20,1000000x100 --runs 3
$PY bench/drift/compare.py --big 100000000 --runs 3
