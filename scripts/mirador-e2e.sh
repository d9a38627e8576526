#!/usr/bin/env bash
# First, with no server and no browser: every GraphQL document the portal sends (the graphql`...`
# literals in portal/*.js) parses and validates against schema.graphql, and no gql( or upload(
# call is given a plain string (tests/e2e/portal-documents.mjs, graphql-js). Then Mirador 4 in
# headless Chromium against a real `vitrine serve`: opens a named-query manifest, draws its
# tiles, and finds an OCR word through its search panel (tests/e2e/mirador.mjs); then meets a
# restricted book: degraded image, clickthrough in the access window, full-resolution tiles
# after it (tests/e2e/mirador-auth.mjs); then every flow of the portal, with axe-core on every
# page and screenshots at 1366 and 390 px in tests/e2e/screenshots (tests/e2e/portal.mjs).
# Needs: node and npm, Debian's chromium (or CHROMIUM=/path/to/chrome).
# Usage: scripts/mirador-e2e.sh [path-to-vitrine-binary]
set -euo pipefail
cd "$(dirname "$0")/.."

binary="${1:-${CARGO_TARGET_DIR:-target}/debug/vitrine}"
[ -x "$binary" ] || { echo "no vitrine binary at $binary (cargo build --bin vitrine)"; exit 2; }
binary=$(cd "$(dirname "$binary")" && pwd)/$(basename "$binary")
command -v "${CHROMIUM:-chromium}" > /dev/null || { echo "no chromium (apt-get install chromium)"; exit 2; }

cd tests/e2e
if [ ! -d node_modules/mirador ] || [ ! -d node_modules/playwright-core ] || [ ! -d node_modules/axe-core ] \
   || [ ! -d node_modules/graphql ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
export CHROMIUM="$(command -v "${CHROMIUM:-chromium}")"
node portal-documents.mjs
node mirador.mjs "$binary"
node mirador-auth.mjs "$binary"
node portal.mjs "$binary"
