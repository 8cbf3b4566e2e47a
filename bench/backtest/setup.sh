#!/usr/bin/env bash
# The backtest benchmark's peers, each in its own venv (their pins conflict with
# watchdog's and with each other's): bench/.venv-evidently (evidently 0.7.x, built by
# bench/drift/setup.sh) and bench/.venv-nannyml (nannyml from PyPI), each with duckdb
# (watchdog's version) to read the benchmark's file. Idempotent; run from anywhere.
set -euo pipefail
cd "$(dirname "$0")/../.."
DUCKDB=$(grep '^duckdb==' requirements.lock)
bash bench/drift/setup.sh
NM=bench/.venv-nannyml
if ! { [ -x "$NM/bin/python" ] && "$NM/bin/python" -c "import nannyml, statsmodels" 2>/dev/null; }; then
  python3 -m venv "$NM"
  # nannyml 0.13 imports statsmodels without declaring it
  "$NM/bin/pip" install -q nannyml statsmodels
fi
for venv in bench/.venv-evidently "$NM"; do
  "$venv/bin/python" -c "import duckdb" 2>/dev/null || "$venv/bin/pip" install -q "$DUCKDB"
done
echo "peer venvs ready: bench/.venv-evidently $NM"
