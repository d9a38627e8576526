#!/usr/bin/env bash
# The static-file limit for tiles: the same 2,000 tiles of the kit's mosaic (256 px, Q75, in a
# shuffled order), served as plain files by lighttpd (`vips dzsave`) and as IIIF tile requests
# by Vitrine, one after the other with the same wrk load. A stored tile is a byte range of the
# pyramid, so this is how close a tile request comes to serving a file.
#
#   bench/static.sh [SECONDS]        default 20 s per server after a 3 s warm-up, 4 connections
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
master="$BENCH_DIR/images/src/mosaic.jpg"
tiles="$BENCH_DIR/static/mosaic"
if [ ! -d "${tiles}_files" ]; then
  mkdir -p "$BENCH_DIR/static"
  vips dzsave "$master" "$tiles" --tile-size 256 --overlap 0 --suffix '.jpg[Q=75]'
fi

# 2,000 tiles of the levels a viewer asks for (1/64 of the size and up), shuffled (seed 42):
# one list of file paths, one of the IIIF requests for the same tiles
python3 - "$master" "${tiles}_files" "$out" <<'PY'
import os, random, subprocess, sys
master, files, out = sys.argv[1:]
width, height = (int(subprocess.check_output(["vipsheader", "-f", f, master])) for f in ("width", "height"))
deepest = max(int(level) for level in os.listdir(files) if level.isdigit())
tiles = []
for level in range(deepest - 6, deepest + 1):
    scale = 2 ** (deepest - level)
    for name in os.listdir(f"{files}/{level}"):
        x, y = (int(v) for v in name[:-4].split("_"))
        tiles.append((level, x, y, scale))
random.Random(42).shuffle(tiles)
tiles = tiles[:2000]
prefix = os.path.basename(files)
with open(f"{out}/static-paths.txt", "w") as static, open(f"{out}/iiif-paths.txt", "w") as iiif:
    for level, x, y, scale in tiles:
        static.write(f"/{prefix}/{level}/{x}_{y}.jpg\n")
        span = 256 * scale
        left, top = x * span, y * span
        w, h = min(span, width - left), min(span, height - top)
        iiif.write(f"/iiif/3/bench/1/mosaic/{left},{top},{w},{h}/{-(-w // scale)},/0/default.jpg\n")
PY

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# measure NAME PID BASE PATHS: warm-up, then the timed run; appends a row to rows.txt
measure() {
  local name=$1 pid=$2 url=$3 paths=$4 before after line
  wrk -t1 -c4 -d3s --timeout 30s -s "$kit/wrk_paths.lua" "$url" -- "$paths" >/dev/null
  before=$(cpu_ticks "$pid")
  line=$(wrk -t1 -c4 -d"${seconds}s" --timeout 30s --latency -s "$kit/wrk_paths.lua" "$url" -- "$paths" \
    | grep '^WRKJSON' | sed 's/^WRKJSON //')
  after=$(cpu_ticks "$pid")
  python3 - "$name" "$line" "$before" "$after" "$(getconf CLK_TCK)" >> "$out/rows.txt" <<'PY'
import json, sys
name, line, before, after, tick = sys.argv[1], json.loads(sys.argv[2]), *map(int, sys.argv[3:])
errors = sum(line[k] for k in ("err_connect", "err_read", "err_write", "err_status", "err_timeout"))
cpu_us = (after - before) / tick * 1e6 / max(line["requests"], 1)
print(f'| {name} | {line["rps"]:.0f} | {cpu_us:.1f} | {line["lat_p50_us"] / 1000:.2f} | {line["lat_p99_us"] / 1000:.2f} | {errors} | {line["bytes"] / max(line["requests"], 1) / 1024:.1f} |')
PY
}

# lighttpd: one process, no access log, the dzsave folder as its document root
port=$(free_port)
cat > "$out/lighttpd.conf" <<CONF
server.document-root = "$(dirname "$tiles")"
server.bind = "127.0.0.1"
server.port = $port
server.errorlog = "$out/lighttpd.error.log"
mimetype.assign = (".jpg" => "image/jpeg")
CONF
lighttpd -D -f "$out/lighttpd.conf" &
lighttpd_pid=$!
for _ in $(seq 1 100); do curl -sf -o /dev/null "http://127.0.0.1:$port$(head -n 1 "$out/static-paths.txt")" && break; sleep 0.05; done
measure "lighttpd, tiles as files" "$lighttpd_pid" "http://127.0.0.1:$port" "$out/static-paths.txt"
kill "$lighttpd_pid"; wait "$lighttpd_pid" 2>/dev/null || true

# Vitrine: the kit's masters registered on a fresh embedded server, the same tiles by IIIF
port=$(free_port)
base="http://127.0.0.1:$port"
launch "$work/data" "$port" VITRINE_IMPORT_ROOTS="$BENCH_DIR/images/src"
server_pid=$launched_pid
register_kit_masters
curl -sf -o /dev/null "$base$(head -n 1 "$out/iiif-paths.txt")" || { echo "Vitrine does not answer the tile paths"; exit 1; }
measure "Vitrine $(git rev-parse --short HEAD), IIIF tiles" "$server_pid" "$base" "$out/iiif-paths.txt"
stop_vitrine

{
  echo "wrk -t1 -c4, ${seconds} s after a 3 s warm-up; the same 2,000 mosaic tiles in the same order"
  echo "(lighttpd's are vips's Q75 JPEGs, Vitrine's its pyramid's at jpeg_quality)."
  echo
  echo "| server | req/s | CPU µs/req | p50 ms | p99 ms | errors | avg KiB |"
  echo "|---|---|---|---|---|---|---|"
  cat "$out/rows.txt"
  echo
  python3 - "$out/rows.txt" <<'PY'
import sys
rows = [line.split("|") for line in open(sys.argv[1]) if line.strip()]
static, vitrine = float(rows[0][2]), float(rows[1][2])
print(f"Vitrine / static files: {vitrine / static:.2f}x the req/s")
PY
} | tee "$out/static.md"
echo "results: $out/static.md"
