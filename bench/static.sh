#!/usr/bin/env bash
# The static-file limit for tiles: the same 2,000 tiles of the kit's mosaic (256 px, Q75, in a
# shuffled order), served as plain files by lighttpd (`vips dzsave`) and as IIIF tile requests
# by Vitrine, one after the other with the same wrk load. A stored tile is a byte range of the
# pyramid, so this is how close a tile request comes to serving a file.
#
#   bench/static.sh [SECONDS]        default 20 s per server after a 3 s warm-up, 4 connections
#
# The kit's W1 (every viewer tile of its four images, edge tiles and `full` levels included) is
# measured on the same server right after, so W1 too is set against the static-file limit of
# the same run.
#
# Results: $BENCH_DIR/results/static-TIMESTAMP/static.md. Everything listens on 127.0.0.1 only.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
kit="$root/../shared/bench"
export BENCH_DIR="${BENCH_DIR:-${TMPDIR:-/tmp}/vitrine-bench}"
. bench/lib.sh
seconds=${1:-20}
command -v lighttpd >/dev/null && command -v wrk >/dev/null && command -v vips >/dev/null \
  || { echo "needs lighttpd, wrk and vips (apt-get install lighttpd wrk libvips-tools)"; exit 2; }

kit_and_release
out="$BENCH_DIR/results/static-$(date -u +%Y%m%d-%H%M%S)"
mkdir -p "$out"
work="$out"
static_tile_paths "$out"

start_lighttpd "$out"
static_row "lighttpd, tiles as files" "$lighttpd_pid" "$lighttpd_url" "$out/static-paths.txt" "$seconds" >> "$out/rows.txt"
stop_lighttpd

# Vitrine: the kit's masters registered on a fresh embedded server, the same tiles by IIIF
port=$(free_port)
base="http://127.0.0.1:$port"
launch "$work/data" "$port" VITRINE_IMPORT_ROOTS="$BENCH_DIR/images/src"
server_pid=$launched_pid
register_kit_masters
curl -sf -o /dev/null "$base$(head -n 1 "$out/iiif-paths.txt")" || { echo "Vitrine does not answer the tile paths"; exit 1; }
static_row "Vitrine $(git rev-parse --short HEAD), IIIF tiles" "$server_pid" "$base" "$out/iiif-paths.txt" "$seconds" >> "$out/rows.txt"
python3 "$kit/gen_workloads.py" --out "$out/workloads" --prefix /iiif/3/bench/1/ --api 3 > /dev/null
static_row "Vitrine $(git rev-parse --short HEAD), the kit's W1" "$server_pid" "$base" "$out/workloads/w1.txt" "$seconds" >> "$out/rows.txt"
stop_vitrine

{
  echo "wrk -t1 -c4, ${seconds} s after a 3 s warm-up; the same 2,000 mosaic tiles in the same order"
  echo "(lighttpd's are vips's Q75 JPEGs, Vitrine's its pyramid's at jpeg_quality), then the kit's W1 on the same server."
  echo
  echo "| server | req/s | CPU µs/req | p50 ms | p99 ms | errors | avg KiB |"
  echo "|---|---|---|---|---|---|---|"
  cat "$out/rows.txt"
  echo
  python3 - "$out/rows.txt" <<'PY'
import sys
rows = [line.split("|") for line in open(sys.argv[1]) if line.strip()]
static, tiles, w1 = (float(row[2]) for row in rows[:3])
print(f"Against the static files: the same tiles {tiles / static:.2f}x the req/s, W1 {w1 / static:.2f}x")
PY
} | tee "$out/static.md"
echo "results: $out/static.md"
