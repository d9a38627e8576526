#!/usr/bin/env bash
# Runs the official IIIF Image API validator (PyPI iiif-validator) against a real
# `vitrine serve`: Image API 3.0 and 2.x at level 2, then the optional features.
# Exit status: 0 when every test passes. Needs: python3, libmagic1, curl.
# Usage: scripts/iiif-validate.sh [path-to-vitrine-binary]
set -euo pipefail
cd "$(dirname "$0")/.."

binary="${1:-${CARGO_TARGET_DIR:-target}/debug/vitrine}"
image="../shared/conformance/67352ccc-d1b0-11e1-89ae-279075081939.png"
identifier="67352ccc-d1b0-11e1-89ae-279075081939"
venv="${VITRINE_VALIDATOR_VENV:-$HOME/.cache/vitrine-venv}"
[ -x "$binary" ] || { echo "no vitrine binary at $binary (cargo build --bin vitrine)"; exit 2; }
[ -f "$image" ] || { echo "the validator's test image is missing: $image"; exit 2; }

if [ ! -x "$venv/bin/iiif-validate.py" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet iiif-validator==1.0.5
fi

work=$(mktemp -d)
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -rf "$work"' EXIT
mkdir -p "$work/masters"
cp "$image" "$work/masters/"
key="validator:validator-secret-0123456789"
VITRINE_DATA_DIR="$work/data" VITRINE_LISTEN=127.0.0.1:0 VITRINE_ADMIN_KEY="$key" \
  VITRINE_IMPORT_ROOTS="$work/masters" VITRINE_LOG_LEVEL=warn \
  "$binary" serve > "$work/serve.out" 2> "$work/serve.err" &
server=$!
for _ in $(seq 1 100); do grep -q "^listening on" "$work/serve.out" 2>/dev/null && break; sleep 0.1; done
base=$(sed -n 's/^listening on //p' "$work/serve.out")
[ -n "$base" ] || { cat "$work/serve.err"; echo "vitrine did not start"; exit 2; }
address=${base#http://}

gql() {
  curl -sS -u "$key" -H 'content-type: application/json' "$base/graphql" \
    --data "$(python3 -c 'import json,sys; print(json.dumps({"query": sys.argv[1]}))' "$1")"
}
gql 'mutation { createCustomer(input: {name: "validator"}) { name } }' > /dev/null
gql 'mutation { createSpace(customer: "validator", input: {name: "conformance"}) { id } }' > /dev/null
status=$(gql "mutation { registerAsset(customer: \"validator\", space: 1, wait: true, input: {id: \"$identifier\",
  mediaType: \"image/png\", origin: \"file://$work/masters/$identifier.png\"}) { status error } }")
echo "$status" | grep -q '"READY"' || { echo "registration failed: $status"; exit 2; }

optional=(format_gif format_tif linkheader_canonical linkheader_profile rot_full_non90 rot_mirror rot_mirror_180 rot_region_non90 size_up)
failures=0
run() {
  local label=$1; shift
  local output
  output=$("$venv/bin/iiif-validate.py" -s "$address" -i "$identifier" "$@" 2>&1) || true
  local summary
  summary=$(echo "$output" | grep -E "^Done \([0-9]+ tests, [0-9]+ failures\)" || echo "Done (0 tests, 1 failures)")
  echo "$label: $summary"
  if ! echo "$summary" | grep -q ", 0 failures)"; then
    echo "$output" | grep -v " PASS$"
    failures=$((failures + 1))
  fi
}
run "Image API 3.0 level 2" -p iiif/3/validator/1 --version=3.0 --level=2
run "Image API 2.x level 2" -p iiif/2/validator/1 --version=2.0 --level=2
optional_args=()
for test in "${optional[@]}"; do optional_args+=(--test "$test"); done
run "Image API 3.0 optional" -p iiif/3/validator/1 --version=3.0 --level=2 "${optional_args[@]}"
run "Image API 2.x optional" -p iiif/2/validator/1 --version=2.0 --level=2 "${optional_args[@]}"
[ "$failures" -eq 0 ] || { echo "the IIIF validator found failures"; exit 1; }
echo "IIIF validator: every suite passed"
