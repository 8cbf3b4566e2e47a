#!/usr/bin/env bash
# Peer environments for the contract benchmark (git-ignored, under bench/.venv-*):
#   bench/.venv-soda4  soda-duckdb + soda-postgres 4.28 (Soda Core 4: data contracts)
#   bench/.venv-soda   soda-core-duckdb + soda-core-postgres 3.5.6 (they pin duckdb<1.1)
#   bench/.venv-ibis   pandera 0.35 + ibis-framework[duckdb,postgres] 12
# Idempotent: an environment that imports already is left alone. Run from anywhere.
set -euo pipefail
cd "$(dirname "$0")/../.."
make_venv() {  # name, import test, packages...
  local dir=bench/.venv-$1 test=$2; shift 2
  if [ -x "$dir/bin/python" ] && "$dir/bin/python" -c "$test" 2>/dev/null; then return; fi
  python3 -m venv "$dir"
  "$dir/bin/pip" install -q "$@"
}
make_venv soda "import soda.scan, soda.data_sources.duckdb_data_source, soda.data_sources.postgres_data_source" \
  "soda-core-duckdb==3.5.6" "soda-core-postgres==3.5.6"
make_venv soda4 "import soda_core.contracts.api.verify_api, soda_duckdb, soda_postgres" \
  "soda-duckdb==4.28.0" "soda-postgres==4.28.0"
make_venv ibis "import pandera.ibis, ibis; ibis.duckdb; ibis.postgres" \
  "pandera==0.35.0" "ibis-framework[duckdb,postgres]==12.0.0"
echo "peer venvs ready: bench/.venv-soda4 bench/.venv-soda bench/.venv-ibis"
