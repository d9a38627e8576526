#!/usr/bin/env bash
# Measures Vitrine against IIPImage (peer A) and iiif-processor/sharp (peer B) in one run on the
# same masters, with the kit in ../shared/bench (see its README): serving (viewer tiles W1,
# thumbnails W2, arbitrary regions W3), ingest (pyramid build against vips tiffsave), and the
# static-file limit (lighttpd serving the same kind of tiles as plain files).
#
#   bench/run.sh [--quick] [--tile-size N]
#     --quick: 10 s runs, one repeat; --tile-size: Vitrine's pyramid tiles and the W1 requests
#     (default 256, the kit's tile size)
#
# Results: $BENCH_DIR/results/ (results.md from bench.py, pyramid.md and static.md from this
# script).
# Everything listens on 127.0.0.1 only; wrk sends load to 127.0.0.1 only.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
kit="$root/../shared/bench"
export BENCH_DIR="${BENCH_DIR:-${TMPDIR:-/tmp}/vitrine-bench}"
. bench/lib.sh
quick=false
tile_size=256
codec="zune-jpeg decoding, mozjpeg encoding"
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=true ;;
    --tile-size) tile_size=$2; shift ;;
    *) echo "unknown option $1"; exit 2 ;;
  esac
  shift
done

[ -d "$BENCH_DIR/images/src" ] || bash "$kit/setup.sh" --no-validator
cargo build --release --bin vitrine -p vitrine-api
cargo build --release -p vitrine-imaging --example build_pyramid
target="${CARGO_TARGET_DIR:-$root/target}/release"

# --- ingest: our pyramid build against vips on the same masters (Q75, 256-px tiles, as vips) ---
stamp=$(date -u +%Y%m%d-%H%M%S)
out="$BENCH_DIR/results/vitrine-$stamp"
mkdir -p "$out"
{
  echo "| image | size | vitrine wall s | vitrine max RSS MB | vips wall s | vips max RSS MB | wall ratio |"
  echo "|---|---|---|---|---|---|---|"
  for id in eveningglow ladybird elephants mosaic; do
    src="$BENCH_DIR/images/src/$id.jpg"
    size="$(vipsheader -f width "$src")x$(vipsheader -f height "$src")"
    read -r our_wall our_rss vips_wall vips_rss ratio <<< "$(pyramid_against_vips "$src" "$out" 3)"
    echo "| $id | $size | $our_wall | $our_rss | $vips_wall | $vips_rss | $ratio |"
  done
} | tee "$out/pyramid.md"

# --- serving: start Vitrine on the masters and register them ---
data="$BENCH_DIR/vitrine"
rm -rf "$data" && mkdir -p "$data"
key="bench:bench-secret-0123456789"
VITRINE_DATA_DIR="$data" VITRINE_TILE_SIZE="$tile_size" VITRINE_LISTEN=127.0.0.1:8083 VITRINE_ADMIN_KEY="$key" VITRINE_LOG_LEVEL=warn \
  VITRINE_IMPORT_ROOTS="$BENCH_DIR/images/src" "$target/vitrine" serve > "$data/serve.out" 2> "$data/serve.err" &
echo $! > "$data/vitrine.pid"
trap 'kill "$(cat "$data/vitrine.pid")" 2>/dev/null || true; bash "$kit/peers.sh" stop || true' EXIT
for _ in $(seq 1 100); do grep -q "^listening on" "$data/serve.out" 2>/dev/null && break; sleep 0.1; done
gql() {
  curl -sS -u "$key" -H 'content-type: application/json' http://127.0.0.1:8083/graphql \
    --data "$(python3 -c 'import json,sys; print(json.dumps({"query": sys.argv[1]}))' "$1")"; echo
}
gql 'mutation { createCustomer(input: {name: "bench"}) { name } }'
gql 'mutation { createSpace(customer: "bench", input: {name: "masters"}) { id } }'
for id in eveningglow ladybird elephants mosaic; do
  gql "mutation { registerAsset(customer: \"bench\", space: 1, wait: true, input: {id: \"$id\", mediaType: \"image/jpeg\",
    origin: \"file://$BENCH_DIR/images/src/$id.jpg\"}) { id status width height } }"
done
cat > "$data/peer.json" <<JSON
{"vitrine": {"desc": "Vitrine $(git rev-parse --short HEAD) release build, $codec, SQLite + folder storage, $tile_size-px tiles, render cache on",
             "base": "http://127.0.0.1:8083", "prefix": "/iiif/3/bench/1/", "api": 3, "pidfile": "$data/vitrine.pid"}}
JSON

bash "$kit/peers.sh" start A B
if $quick; then
  python3 "$kit/bench.py" --peers-file "$data/peer.json" --peers vitrine,iipsrv,iiif-processor --conns 4 --duration 10 --tile-size "$tile_size" --out "$out"
else
  python3 "$kit/bench.py" --peers-file "$data/peer.json" --peers vitrine,iipsrv,iiif-processor --conns 4 --repeat 2 --tile-size "$tile_size" --out "$out"
fi

# --- the static-file limit: lighttpd serving the same kind of tiles as plain files (the kit's
# mosaic through `vips dzsave`), with W1 and W2 of this run and Vitrine on the very same tiles
# set against it ---
if command -v lighttpd > /dev/null; then
  if $quick; then seconds=10; else seconds=20; fi
  static_tile_paths "$out"
  start_lighttpd "$out"
  static_row "lighttpd, tiles as files" "$lighttpd_pid" "$lighttpd_url" "$out/static-paths.txt" "$seconds" > "$out/static-rows.txt"
  stop_lighttpd
  static_row "Vitrine, the same tiles by IIIF" "$(cat "$data/vitrine.pid")" http://127.0.0.1:8083 \
    "$out/iiif-paths.txt" "$seconds" >> "$out/static-rows.txt"
  python3 - "$out" <<'PY' | tee "$out/static.md"
import json, statistics, sys
out = sys.argv[1]
rows = [line.split("|") for line in open(f"{out}/static-rows.txt") if line.strip()]
limit, same = float(rows[0][2]), float(rows[1][2])
runs = json.load(open(f"{out}/results.json"))["peers"]["vitrine"]["runs"]
rps = lambda workload: statistics.mean(r["rps"] for r in runs if r["workload"].lower() == workload)
print("## The static-file limit\n")
print("wrk -t1 -c4 after a 3 s warm-up: 2,000 shuffled tiles of the mosaic, served as files by lighttpd")
print("and as IIIF tile requests by Vitrine; W1 and W2 are this run's.\n")
print("| server | req/s | CPU µs/req | p50 ms | p99 ms | errors | avg KiB |")
print("|---|---|---|---|---|---|---|")
print("".join(open(f"{out}/static-rows.txt")), end="")
print()
print(f"Against the static-file limit ({limit:.0f} req/s): the same tiles {same / limit:.2f}x, "
      f"W1 {rps('w1') / limit:.2f}x, W2 {rps('w2') / limit:.2f}x.")
PY
else
  echo "no lighttpd (apt-get install lighttpd): the static-file limit is left out"
fi
echo "results: $out/results.md, $out/pyramid.md and $out/static.md"
