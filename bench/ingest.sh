#!/usr/bin/env bash
# Ingest throughput: assets per minute, end to end, against `vips tiffsave` on the same files.
#
#   bench/ingest.sh [--photos N] [--large N] [--gigapixel]
#     --photos N: how many 2-4 MP photos (default 1000); --large N: how many >= 40 MP masters
#     (default 10); --gigapixel: instead, the three one-gigapixel masters of bench/gigapixel.sh
#     (JPEG, PNG and TIFF, 40000x25000; made by it when missing), one batch of three.
#
# Masters are scaled from the real photos of the benchmark kit (../shared/bench, setup.sh) and
# served by a loopback HTTP origin (python3 http.server). Vitrine ingests them with
# `vitrine import FILE.csv --wait` (the CSV batch path: fetch over HTTP, sniff, decode, pyramid,
# 4 thumbnails, store, record) on a fresh embedded data dir with VITRINE_WORKERS=2. The peer is
# `vips tiffsave --tile --pyramid --compression jpeg` (256-px tiles, what a pyramid costs in
# libvips) run two files at a time from local disk. Wall time with /usr/bin/time; peak RSS is
# the largest single process (vitrine's one process; the largest vips process).
#
# Results: $BENCH_DIR/results/ingest-*/ingest.md
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
kit="$root/../shared/bench"
export BENCH_DIR="${BENCH_DIR:-${TMPDIR:-/tmp}/vitrine-bench}"
photos=1000
large=10
folders="photos large"
while [ $# -gt 0 ]; do
  case "$1" in
    --photos) photos=$2; shift ;;
    --large) large=$2; shift ;;
    --gigapixel) folders="giga"; photos=0; large=0 ;;
    *) echo "unknown option $1"; exit 2 ;;
  esac
  shift
done
command -v vips >/dev/null || { echo "vips is needed: apt-get install libvips-tools"; exit 2; }
[ -d "$BENCH_DIR/images/src" ] || bash "$kit/setup.sh" --no-validator --keep-downloads
cargo build --release --bin vitrine -p vitrine-api
vitrine="${CARGO_TARGET_DIR:-$root/target}/release/vitrine"

work="$BENCH_DIR/ingest"
mkdir -p "$work/photos" "$work/large" "$work/giga"
if [ "$folders" = giga ]; then
  [ -f "$BENCH_DIR/gigapixel/giga.tif" ] || bash bench/gigapixel.sh --quick
  for master in giga.jpg giga.png giga.tif; do
    ln -sf "$BENCH_DIR/gigapixel/$master" "$work/giga/$master"
  done
fi

# --- masters: 2-4 MP photos scaled from the kit's photos, and >= 40 MP crops of its mosaic ---
mapfile -t sources < <(find "$BENCH_DIR/downloads" "$BENCH_DIR/images/src" -iname '*.jpg' -size +300k 2>/dev/null \
  | grep -v mosaic | sort)
[ "${#sources[@]}" -gt 0 ] || { echo "no source photos under $BENCH_DIR"; exit 2; }
for ((i = 0; i < photos; i++)); do
  out="$work/photos/p$i.jpg"
  [ -s "$out" ] && continue
  src=${sources[$((i % ${#sources[@]}))]}
  # longest edge 1800-2300 px: 1.8-4.0 MP (2.0-3.3 for the 16:10 photos), a different size per copy
  vips thumbnail "$src" "$out[Q=90]" $((1800 + (i * 37) % 501))
done
mosaic="$BENCH_DIR/images/src/mosaic.jpg"
for ((i = 0; i < large; i++)); do
  out="$work/large/l$i.jpg"
  [ -s "$out" ] || vips crop "$mosaic" "$out[Q=90]" $((i * 200)) $((i * 150)) 7600 5400
done

# --- the loopback origin ---
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 -m http.server "$port" --bind 127.0.0.1 --directory "$work" >/dev/null 2>&1 &
origin_pid=$!
trap 'kill $origin_pid 2>/dev/null || true' EXIT
sleep 1

stamp=$(date -u +%Y%m%d-%H%M%S)
out="$BENCH_DIR/results/ingest-$stamp"
mkdir -p "$out"

# one run of vitrine over a folder of masters: prints "wall_s max_rss_kb"
run_vitrine() {
  local folder=$1 data="$out/data-$1"
  rm -rf "$data"
  local csv="$out/$folder.csv"
  echo "Line,ID,MediaType,Space,Origin" > "$csv"
  local n=1
  for f in "$work/$folder"/*.jpg "$work/$folder"/*.png "$work/$folder"/*.tif; do
    [ -e "$f" ] || continue
    local name=${f##*/} type=image/jpeg
    case "$name" in *.png) type=image/png ;; *.tif) type=image/tiff ;; esac
    echo "$n,${name%.*}-${name##*.},$type,1,http://127.0.0.1:$port/$folder/$name" >> "$csv"
    n=$((n + 1))
  done
  export VITRINE_DATA_DIR="$data" VITRINE_ALLOW_PRIVATE_ORIGINS=true VITRINE_WORKERS=2 \
    VITRINE_ADMIN_KEY="bench:bench-secret-0123456789abcdef" VITRINE_LOG_LEVEL=warn
  "$vitrine" admin create-customer bench >/dev/null
  # the space is created through the API of a short-lived server
  VITRINE_LISTEN=127.0.0.1:0 "$vitrine" serve >"$out/serve.log" 2>&1 &
  local pid=$!
  local url=""
  for _ in $(seq 100); do
    url=$(grep -o 'http://[0-9.:]*' "$out/serve.log" | head -1 || true)
    [ -n "$url" ] && break
    sleep 0.1
  done
  curl -s -u bench:bench-secret-0123456789abcdef "${url:-http://127.0.0.1:8080}/graphql" -H 'content-type: application/json' \
    -d '{"query":"mutation { createSpace(customer: \"bench\", input: {name: \"bench\"}) { id } }"}' >/dev/null
  kill "$pid"; wait "$pid" 2>/dev/null || true
  /usr/bin/time -f "%e %M" -o "$out/t" "$vitrine" import "$csv" --customer bench --wait >"$out/$folder.log" 2>&1
  unset VITRINE_DATA_DIR VITRINE_ALLOW_PRIVATE_ORIGINS VITRINE_WORKERS VITRINE_ADMIN_KEY VITRINE_LOG_LEVEL
  cat "$out/t"
}

# the same masters through vips, two at a time: prints "wall_s max_rss_kb"
run_vips() {
  local folder=$1
  mkdir -p "$out/vips-$folder"
  local start end
  start=$(date +%s.%N)
  find -L "$work/$folder" -name '*.jpg' -o -name '*.png' -o -name '*.tif' | xargs -P 2 -I{} sh -c \
    '/usr/bin/time -f "%M" -a -o "$0/rss" vips tiffsave "$1" "$0/$(basename "$1").tif" --tile --pyramid --compression jpeg --tile-width 256 --tile-height 256' \
    "$out/vips-$folder" {}
  end=$(date +%s.%N)
  echo "$(python3 -c "print(f'{$end - $start:.2f}')") $(sort -n "$out/vips-$folder/rss" | tail -1)"
}

{
  echo "| masters | count | vitrine wall s | vitrine assets/min | vitrine peak RSS MB | vips wall s | vips files/min | vips peak RSS MB | wall ratio |"
  echo "|---|---|---|---|---|---|---|---|---|"
  for folder in $folders; do
    count=$(find -L "$work/$folder" -name '*.jpg' -o -name '*.png' -o -name '*.tif' | wc -l)
    read -r our_wall our_rss <<< "$(run_vitrine "$folder")"
    read -r vips_wall vips_rss <<< "$(run_vips "$folder")"
    python3 - "$folder" "$count" "$our_wall" "$our_rss" "$vips_wall" "$vips_rss" <<'PY'
import sys
folder, count, ow, orss, vw, vrss = sys.argv[1], int(sys.argv[2]), *map(float, sys.argv[3:])
print(f"| {folder} | {count} | {ow:.1f} | {count / ow * 60:.0f} | {orss / 1024:.0f} | {vw:.1f} | {count / vw * 60:.0f} | {vrss / 1024:.0f} | {ow / vw:.2f} |")
PY
  done
} | tee "$out/ingest.md"
grep -h "finished:" "$out"/*.log || true
