#!/usr/bin/env bash
# The drift benchmark's peer: bench/.venv-evidently (evidently 0.7.x; pandas<3, which
# Evidently 0.7 needs). Idempotent; run from anywhere.
set -euo pipefail
cd "$(dirname "$0")/../.."
EV=bench/.venv-evidently
if [ -x "$EV/bin/python" ] && "$EV/bin/python" -c "import evidently.presets" 2>/dev/null; then
  exit 0
fi
python3 -m venv "$EV"
"$EV/bin/pip" install -q "evidently==0.7.*" "pandas<3"
echo "peer venv ready: $EV"
