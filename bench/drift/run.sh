#!/usr/bin/env bash
# Drift benchmark: Evidently's DataDriftPreset against watchdog on the same data, then
# watchdog alone on a 100M-row DuckDB table. Results: one JSON line each, in bench/drift/results.jsonl.
#   bench/drift/run.sh            (from the repository root, with the project venv active or PY set)
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PY:-.venv/bin/python}
EV=bench/.venv-evidently
if [ ! -x "$EV/bin/python" ]; then
  python3 -m venv "$EV"
  "$EV/bin/pip" install -q "evidently==0.7.*" "pandas<3"   # Evidently 0.7 does not import under pandas 3
fi
OUT=bench/drift/results.jsonl
export PYTHONPATH=$PWD
for size in "100000 20" "1000000 20" "1000000 100"; do
  set -- $size
  $PY bench/drift/bench_watchdog.py --rows "$1" --cols "$2" --exact | tee -a "$OUT"
  "$EV/bin/python" bench/drift/bench_evidently.py --rows "$1" --cols "$2" | tee -a "$OUT"
done
$PY bench/drift/bench_watchdog.py --big 100000000 --cols 10 | tee -a "$OUT"
