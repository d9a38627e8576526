# Shared by the bench scripts: sourced, not run. Needs $vitrine (the binary) and $work (a
# scratch folder) set by the caller, or $root and $kit for kit_and_release.

BENCH_KEY="bench:bench-secret-0123456789"

# kit_and_release: the kit's images (set up on first use) and a release build; sets vitrine
kit_and_release() {
  [ -d "$BENCH_DIR/images/src" ] || bash "$kit/setup.sh" --no-validator
  cargo build --release --bin vitrine -p vitrine-api
  vitrine="${CARGO_TARGET_DIR:-$root/target}/release/vitrine"
}

# pyramid_against_vips SOURCE SCRATCH RUNS: times imaging's build_pyramid example (from
# $target) and `vips tiffsave --pyramid` on SOURCE, 256-px JPEG tiles at Q75, RUNS times each
# (/usr/bin/time); prints the medians: "our_wall our_rss_mb vips_wall vips_rss_mb wall_ratio"
pyramid_against_vips() {
  local src=$1 scratch=$2 runs=$3 ours=() theirs=() our_wall our_rss vips_wall vips_rss
  median() { printf '%s\n' "$@" | sort -n -k1,1 | sed -n "$(( ($# + 1) / 2 ))p"; }
  for _ in $(seq 1 "$runs"); do
    # with one allocator arena, as the server's build process runs
    MALLOC_ARENA_MAX=1 /usr/bin/time -f "%e %M" -o "$scratch/t" "$target/examples/build_pyramid" \
      "$src" "$scratch/out.tif" 256 75 2> /dev/null
    ours+=("$(cat "$scratch/t")")
    /usr/bin/time -f "%e %M" -o "$scratch/t" vips tiffsave "$src" "$scratch/out-vips.tif" --tile --pyramid \
      --compression jpeg --tile-width 256 --tile-height 256
    theirs+=("$(cat "$scratch/t")")
  done
  rm -f "$scratch/out.tif" "$scratch/out-vips.tif" "$scratch/t"
  read -r our_wall our_rss <<< "$(median "${ours[@]}")"
  read -r vips_wall vips_rss <<< "$(median "${theirs[@]}")"
  echo "$our_wall $((our_rss / 1024)) $vips_wall $((vips_rss / 1024)) $(python3 -c "print(f'{$our_wall/$vips_wall:.2f}')")"
}

# book_pages FOLDER PAGES WIDTH HEIGHT: one small PNG per page, p1.png ... pN.png
book_pages() {
  python3 - "$@" <<'PY'
import struct, sys, zlib
folder, pages, w, h = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
def png(seed):
    raw = b"".join(b"\0" + bytes(v for x in range(w) for v in ((x * 5 + seed) % 256, y * 4 % 256, seed % 256)) for y in range(h))
    chunk = lambda t, d: struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
for n in range(1, pages + 1):
    open(f"{folder}/p{n}.png", "wb").write(png(n))
PY
}

# free_port: a free loopback port
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# launch DATA_DIR PORT [NAME=VALUE ...]: a release server on 127.0.0.1:PORT over DATA_DIR with
# the bench admin key and the settings given, logging to DATA_DIR.log; sets launched_pid once
# it answers /healthz
launch() {
  local data=$1 port=$2
  shift 2
  mkdir -p "$data"
  env VITRINE_DATA_DIR="$data" VITRINE_LISTEN="127.0.0.1:$port" VITRINE_ADMIN_KEY="$BENCH_KEY" \
    VITRINE_LOG_LEVEL=warn "$@" "$vitrine" serve >>"$data.log" 2>&1 &
  launched_pid=$!
  for _ in $(seq 1 300); do
    curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && return 0
    kill -0 "$launched_pid" 2>/dev/null || break
    sleep 0.05
  done
  echo "server on port $port did not start"; tail -20 "$data.log"; exit 1
}

# start_vitrine: a release server on a free loopback port over $work/data; sets port, base,
# server_pid
start_vitrine() {
  port=$(free_port)
  base="http://127.0.0.1:$port"
  launch "$work/data" "$port" VITRINE_IMPORT_ROOTS="$work/masters" VITRINE_WORKERS=2
  server_pid=$launched_pid
}

# start_moto LOG: moto_server (PyPI moto[server]) on a free loopback port with the bucket
# `vitrine`, its access log in LOG; sets s3_endpoint, moto_pid
start_moto() {
  command -v moto_server >/dev/null || python3 -m pip install --quiet 'moto[server]' \
    || python3 -m pip install --quiet --break-system-packages 'moto[server]'
  local s3_port
  s3_port=$(free_port)
  s3_endpoint="http://127.0.0.1:$s3_port"
  moto_server -H 127.0.0.1 -p "$s3_port" >"$1" 2>&1 &
  moto_pid=$!
  for _ in $(seq 1 100); do
    curl -sf -X PUT "$s3_endpoint/vitrine" >/dev/null && return 0
    sleep 0.1
  done
  echo "moto_server did not start"; cat "$1"; exit 1
}

# the settings that put a node's store in moto's bucket `vitrine`, under `objects`
s3_settings() {
  echo VITRINE_STORAGE_URL=s3://vitrine/objects VITRINE_STORAGE_S3_ENDPOINT="$s3_endpoint" \
    VITRINE_STORAGE_S3_REGION=us-east-1 VITRINE_STORAGE_S3_ACCESS_KEY_ID=bench \
    VITRINE_STORAGE_S3_SECRET_ACCESS_KEY=bench-secret
}

stop_vitrine() { kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; }

# gql: POST the GraphQL request on stdin as the bench admin
gql() {
  curl -sf -u "$BENCH_KEY" -H 'content-type: application/json' "$base/graphql" --data @-
}

# register_kit_masters: customer bench, space 1, and the kit's four masters in it, each READY,
# on the server at $base
register_kit_masters() {
  echo '{"query":"mutation { createCustomer(input: {name: \"bench\"}) { name } }"}' | gql >/dev/null
  echo '{"query":"mutation { createSpace(customer: \"bench\", input: {name: \"masters\"}) { id } }"}' | gql >/dev/null
  for id in eveningglow ladybird elephants mosaic; do
    python3 -c 'import json,sys; print(json.dumps({"query": "mutation($o: String!, $i: String!) { registerAsset(customer: \"bench\", space: 1, wait: true, input: {id: $i, mediaType: \"image/jpeg\", origin: $o}) { status } }", "variables": {"i": sys.argv[1], "o": sys.argv[2]}}))' \
      "$id" "file://$BENCH_DIR/images/src/$id.jpg" | gql | grep -q READY || { echo "$id did not become READY at $base"; exit 1; }
  done
}

# register_book PAGES TEMPLATE: customer bench, space 1, pages p00001... of book b1 (string1)
# numbered by number1, from $work/masters, in one batch; then the named query `book`
register_book() {
  local pages=$1 template=$2 batch state
  echo '{"query":"mutation { createCustomer(input: {name: \"bench\"}) { name } }"}' | gql >/dev/null
  echo '{"query":"mutation { createSpace(customer: \"bench\", input: {name: \"books\"}) { id } }"}' | gql >/dev/null
  batch=$(python3 - "$work/masters" "$pages" <<'PY' | gql | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["createBatch"]["id"])'
import json, pathlib, sys
folder, pages = sys.argv[1], int(sys.argv[2])
members = [{"space": 1, "id": f"p{n:05}", "mediaType": "image/png", "string1": "b1", "number1": n,
            "origin": pathlib.Path(f"{folder}/p{n}.png").as_uri()} for n in range(pages, 0, -1)]
print(json.dumps({"query": "mutation($m: [BatchMemberInput!]!) { createBatch(customer: \"bench\", members: $m) { id } }",
                  "variables": {"m": members}}))
PY
)
  echo "batch $batch: waiting for $pages pages"
  while :; do
    state=$(echo "{\"query\":\"{ batch(customer: \\\"bench\\\", id: $batch) { completed errors finished } }\"}" | gql)
    python3 -c 'import json,sys; b=json.loads(sys.argv[1])["data"]["batch"]; sys.exit(0 if b["finished"] else 1)' "$state" && break
    sleep 1
  done
  echo "$state"
  python3 -c 'import json,sys; print(json.dumps({"query": "mutation($t: String!) { createNamedQuery(customer: \"bench\", input: {name: \"book\", template: $t}) { name } }", "variables": {"t": sys.argv[1]}}))' "$template" | gql >/dev/null
}

# summary FILE: p50 p99 count of the milliseconds in FILE, one per line
summary() {
  python3 - "$1" <<'PY'
import statistics, sys
values = sorted(float(line) for line in open(sys.argv[1]) if line.strip())
p = lambda q: values[min(len(values) - 1, int(q * len(values)))]
print(f"{statistics.median(values):.2f} {p(0.99):.2f} {len(values)}")
PY
}

# static_tile_paths OUT: the kit's mosaic as plain tile files (`vips dzsave`, 256 px, Q75, made
# once under $BENCH_DIR/static) and 2,000 of them from the levels a viewer asks for (1/64 of
# the size and up), shuffled (seed 42): OUT/static-paths.txt lists the files,
# OUT/iiif-paths.txt the IIIF requests for the same tiles of /iiif/3/bench/1/mosaic; sets tiles
static_tile_paths() {
  local master="$BENCH_DIR/images/src/mosaic.jpg"
  tiles="$BENCH_DIR/static/mosaic"
  if [ ! -d "${tiles}_files" ]; then
    mkdir -p "$BENCH_DIR/static"
    vips dzsave "$master" "$tiles" --tile-size 256 --overlap 0 --suffix '.jpg[Q=75]'
  fi
  python3 - "$master" "${tiles}_files" "$1" <<'PY'
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
}

# start_lighttpd OUT: lighttpd (one process, no access log) serving the tiles of
# static_tile_paths as plain files on a free loopback port; sets lighttpd_pid, lighttpd_url
start_lighttpd() {
  local out=$1 port
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
  lighttpd_url="http://127.0.0.1:$port"
  for _ in $(seq 1 100); do
    curl -sf -o /dev/null "$lighttpd_url$(head -n 1 "$out/static-paths.txt")" && return 0
    sleep 0.05
  done
  echo "lighttpd did not start"; cat "$out/lighttpd.error.log"; exit 1
}

stop_lighttpd() { kill "$lighttpd_pid" 2>/dev/null || true; wait "$lighttpd_pid" 2>/dev/null || true; }

# static_row NAME PID URL PATHS SECONDS: wrk -t1 -c4 over the paths (a 3 s warm-up, then
# SECONDS), printed as a row of | name | req/s | CPU µs/req | p50 ms | p99 ms | errors | avg KiB |
static_row() {
  local name=$1 pid=$2 url=$3 paths=$4 seconds=$5 before after line
  cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
  wrk -t1 -c4 -d3s --timeout 30s -s "$kit/wrk_paths.lua" "$url" -- "$paths" >/dev/null
  before=$(cpu_ticks "$pid")
  line=$(wrk -t1 -c4 -d"${seconds}s" --timeout 30s --latency -s "$kit/wrk_paths.lua" "$url" -- "$paths" \
    | grep '^WRKJSON' | sed 's/^WRKJSON //')
  after=$(cpu_ticks "$pid")
  python3 - "$name" "$line" "$before" "$after" "$(getconf CLK_TCK)" <<'PY'
import json, sys
name, line, before, after, tick = sys.argv[1], json.loads(sys.argv[2]), *map(int, sys.argv[3:])
errors = sum(line[k] for k in ("err_connect", "err_read", "err_write", "err_status", "err_timeout"))
cpu_us = (after - before) / tick * 1e6 / max(line["requests"], 1)
print(f'| {name} | {line["rps"]:.0f} | {cpu_us:.1f} | {line["lat_p50_us"] / 1000:.2f} | {line["lat_p99_us"] / 1000:.2f} | {errors} | {line["bytes"] / max(line["requests"], 1) / 1024:.1f} |')
PY
}
