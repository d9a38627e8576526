#!/usr/bin/env bash
# The portal on a big space: a page of 100 assets in a 10,000-asset space, target p95 < 300 ms.
#
#   bench/portal.sh [--assets N] [--requests N] [--clicks N] [--breakdown N] [BINARY]
#     --assets N: assets in the space (default 10000, one batch: at most 10,000);
#     --requests N: timed server requests (default 200); --clicks N: "Next page" clicks in the
#     browser (default 50); --breakdown N: requests for each variant of the query that shows
#     where the server's time goes (default 50, 0 for none); BINARY: a release `vitrine`
#     (default: built here with cargo build --release).
#
# Starts a release `vitrine serve` (2 workers) on a fresh embedded data dir (SQLite) and
# registers N image assets in one GraphQL createBatch, their origins a handful of small PNGs
# under the import root (file://), string1 and number1 set; waits for the batch to finish and
# reports how long ingest took. Then bench/portal-page.mjs times
#   server: the space page's own query (portal/space.js ASSETS: totalCount, 100 nodes with
#           their thumbnails), signed in with a login token as the portal is, walking the
#           pages by `after` cursor ordered by ID (client-side wall time, Node fetch, loopback);
#   browser: sign-in in Chromium, the space page, then "Next page" clicks, each from the click
#           until the new page's rows are in the table (in-page performance.now());
#   first load: the portal's JS and CSS as the browser received them, and gzipped (the
#           viewer under portal/vendor/ excluded: it loads only on the asset view).
# Targets are reported, never asserted: the exit status is non-zero only when something failed.
# Needs: node and npm, Debian's chromium (or CHROMIUM=/path/to/chrome).
#
# Results: $BENCH_DIR/results/portal-*/portal.md (and the raw milliseconds beside it)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
export BENCH_DIR="${BENCH_DIR:-${TMPDIR:-/tmp}/vitrine-bench}"
assets=10000
requests=200
clicks=50
breakdown=50
vitrine=""
while [ $# -gt 0 ]; do
  case "$1" in
    --assets) assets=$2; shift ;;
    --requests) requests=$2; shift ;;
    --clicks) clicks=$2; shift ;;
    --breakdown) breakdown=$2; shift ;;
    -*) echo "unknown option $1"; exit 2 ;;
    *) vitrine=$1 ;;
  esac
  shift
done
if [ -z "$vitrine" ]; then
  cargo build --release --bin vitrine -p vitrine-api
  vitrine="${CARGO_TARGET_DIR:-$root/target}/release/vitrine"
fi
[ -x "$vitrine" ] || { echo "no vitrine binary at $vitrine"; exit 2; }
vitrine=$(cd "$(dirname "$vitrine")" && pwd)/$(basename "$vitrine")
command -v "${CHROMIUM:-chromium}" > /dev/null || { echo "no chromium (apt-get install chromium)"; exit 2; }
export CHROMIUM="$(command -v "${CHROMIUM:-chromium}")"
if [ ! -d tests/e2e/node_modules/playwright-core ] || [ tests/e2e/package-lock.json -nt tests/e2e/node_modules/.package-lock.json ]; then
  (cd tests/e2e && npm ci --no-audit --no-fund --loglevel=error)
fi

work="$BENCH_DIR/portal"
rm -rf "$work"
mkdir -p "$work/masters"
results="$BENCH_DIR/results/portal-$(date +%Y%m%d-%H%M%S)"
mkdir -p "$results"

load=$(cut -d' ' -f1-3 /proc/loadavg)
status=0
node bench/portal-page.mjs --binary "$vitrine" --work "$work" --results "$results" \
  --assets "$assets" --requests "$requests" --clicks "$clicks" --breakdown "$breakdown" \
  | tee "$results/run.log" || status=$?
{
  sed -n '/^# Portal/,$p' "$results/run.log"
  echo
  echo "Machine: $(nproc) cores, $(uname -m), $(date -u +%Y-%m-%d), load average at start $load."
  echo "Command: bench/portal.sh --assets $assets --requests $requests --clicks $clicks --breakdown $breakdown"
} >"$results/portal.md"
echo
echo "results: $results/portal.md"
rm -rf "$work"
exit "$status"
