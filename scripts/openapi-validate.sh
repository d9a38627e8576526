#!/usr/bin/env bash
# Validates the REST API's OpenAPI description (/api/openapi.json, generated from the handlers)
# against the OpenAPI specification with PyPI openapi-spec-validator, on a real `vitrine serve`.
# Exit status: 0 when the description is valid. Needs: python3, curl.
# Usage: scripts/openapi-validate.sh [path-to-vitrine-binary]
set -euo pipefail
cd "$(dirname "$0")/.."

binary="${1:-${CARGO_TARGET_DIR:-target}/debug/vitrine}"
venv="${VITRINE_VALIDATOR_VENV:-$HOME/.cache/vitrine-venv}"
[ -x "$binary" ] || { echo "no vitrine binary at $binary (cargo build --bin vitrine)"; exit 2; }

[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -c 'import openapi_spec_validator' 2> /dev/null \
  || "$venv/bin/pip" install --quiet openapi-spec-validator==0.9.0

work=$(mktemp -d)
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -rf "$work"' EXIT
VITRINE_DATA_DIR="$work/data" VITRINE_LISTEN=127.0.0.1:0 VITRINE_LOG_LEVEL=warn \
  VITRINE_ADMIN_KEY="openapi:openapi-secret-0123456789" \
  "$binary" serve > "$work/serve.out" 2> "$work/serve.err" &
server=$!
for _ in $(seq 1 100); do grep -q "^listening on" "$work/serve.out" 2>/dev/null && break; sleep 0.1; done
base=$(sed -n 's/^listening on //p' "$work/serve.out")
[ -n "$base" ] || { cat "$work/serve.err"; echo "vitrine did not start"; exit 2; }

curl -sSf "$base/api/openapi.json" -o "$work/openapi.json"
"$venv/bin/python" - "$work/openapi.json" <<'PY'
import json, sys
from openapi_spec_validator import validate
document = json.load(open(sys.argv[1]))
validate(document)
operations = sum(len(item) for item in document["paths"].values())
print(f"OpenAPI {document['openapi']}: valid, {len(document['paths'])} paths, {operations} operations")
PY
