#!/usr/bin/env bash
# Named-query manifest build time: p50/p99 of building a 1,000-canvas manifest over HTTP.
#
#   bench/presentation.sh [--pages N] [--requests N] [--restarts N]
#     --pages N: canvases in the manifest (default 1000); --requests N: timed warm requests
#     (default 300); --restarts N: fresh server processes for the cold figure (default 9).
#
# Registers N small PNG pages of one book (string1 = the book, number1 = the page) through one
# GraphQL batch on a fresh embedded data dir (release build, SQLite), then creates the named
# query `book` = `space=p1&s1=p2&canvas=n1&behavior=paged` and times
#   cold: the first request to /iiif/query/3/bench/book/1/b1 after each server start: read
#         from the database, written as JSON, hashed for the ETag;
#   cached: repeated requests on one keep-alive connection: still read from the database on
#         every request (so always current), but the written document comes from the cache of
#         written documents, found by a digest of what was read;
#   304:  repeated requests with If-None-Match (the same work, no body sent).
# Timing is client-side wall time per request (python http.client on loopback).
#
# Results: $BENCH_DIR/results/presentation-*/presentation.md
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
export BENCH_DIR="${BENCH_DIR:-${TMPDIR:-/tmp}/vitrine-bench}"
pages=1000
requests=300
restarts=9
while [ $# -gt 0 ]; do
  case "$1" in
    --pages) pages=$2; shift ;;
    --requests) requests=$2; shift ;;
    --restarts) restarts=$2; shift ;;
    *) echo "unknown option $1"; exit 2 ;;
  esac
  shift
done
cargo build --release --bin vitrine -p vitrine-api
vitrine="${CARGO_TARGET_DIR:-$root/target}/release/vitrine"

work="$BENCH_DIR/presentation"
rm -rf "$work"
mkdir -p "$work/masters" "$work/data"
results="$BENCH_DIR/results/presentation-$(date +%Y%m%d-%H%M%S)"
mkdir -p "$results"

# one small PNG per page (the manifest's cost does not depend on the image size)
python3 - "$work/masters" "$pages" <<'PY'
import struct, sys, zlib
folder, pages = sys.argv[1], int(sys.argv[2])
w, h = 48, 64
def png(seed):
    raw = b"".join(b"\0" + bytes(v for x in range(w) for v in ((x * 5 + seed) % 256, y * 4 % 256, seed % 256)) for y in range(h))
    chunk = lambda t, d: struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
for n in range(1, pages + 1):
    open(f"{folder}/p{n}.png", "wb").write(png(n))
PY

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
export VITRINE_DATA_DIR="$work/data" VITRINE_LISTEN="127.0.0.1:$port" VITRINE_IMPORT_ROOTS="$work/masters"
export VITRINE_ADMIN_KEY="bench:bench-secret-0123456789" VITRINE_WORKERS=2 VITRINE_LOG_LEVEL=warn
server_pid=
start_server() {
  "$vitrine" serve >>"$work/server.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 200); do
    curl -sf "$base/healthz" >/dev/null && return 0
    sleep 0.05
  done
  echo "server did not start"; cat "$work/server.log"; exit 1
}
stop_server() { kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; }
trap stop_server EXIT
start_server

gql() {
  curl -sf -u bench:bench-secret-0123456789 -H 'content-type: application/json' "$base/graphql" --data @-
}
echo '{"query":"mutation { createCustomer(input: {name: \"bench\"}) { name } }"}' | gql >/dev/null
echo '{"query":"mutation { createSpace(customer: \"bench\", input: {name: \"books\"}) { id } }"}' | gql >/dev/null
batch=$(python3 - "$work/masters" "$pages" <<'PY' | gql | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["createBatch"]["id"])'
import json, pathlib, sys
folder, pages = sys.argv[1], int(sys.argv[2])
members = [{"space": 1, "id": f"b1-{n:05}", "mediaType": "image/png", "string1": "b1", "number1": n,
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
echo '{"query":"mutation { createNamedQuery(customer: \"bench\", input: {name: \"book\", template: \"space=p1&s1=p2&canvas=n1&behavior=paged\"}) { name } }"}' | gql >/dev/null

path="/iiif/query/3/bench/book/1/b1"
timer() {  # timer MODE COUNT: per-request milliseconds, one per line
  python3 - "$port" "$path" "$1" "$2" <<'PY'
import http.client, json, sys, time
port, path, mode, count = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
connection = http.client.HTTPConnection("127.0.0.1", port)
def get(headers):
    start = time.perf_counter()
    connection.request("GET", path, headers=headers)
    response = connection.getresponse()
    body = response.read()
    return (time.perf_counter() - start) * 1000, response, body
elapsed, response, body = get({})
assert response.status == 200, (response.status, body[:200])
canvases = len(json.loads(body)["items"])
assert canvases > 0
if mode == "first":
    print(f"{elapsed:.3f}")
else:
    headers = {"If-None-Match": response.getheader("ETag")} if mode == "304" else {}
    for _ in range(count):
        elapsed, response, _ = get(headers)
        assert response.status == (304 if mode == "304" else 200)
        print(f"{elapsed:.3f}")
print(f"# canvases {canvases} bytes {len(body)}", file=sys.stderr)
PY
}
summary() {  # summary FILE: p50 p99
  python3 - "$1" <<'PY'
import statistics, sys
values = sorted(float(line) for line in open(sys.argv[1]) if line.strip())
p = lambda q: values[min(len(values) - 1, int(q * len(values)))]
print(f"{statistics.median(values):.2f} {p(0.99):.2f} {len(values)}")
PY
}

timer warm "$requests" >"$results/warm.txt" 2>"$results/shape.txt"
timer 304 "$requests" >"$results/304.txt" 2>/dev/null
: >"$results/cold.txt"
for _ in $(seq 1 "$restarts"); do
  stop_server
  start_server
  timer first 1 >>"$results/cold.txt" 2>/dev/null
done
rss_kb=$(ps -o rss= -p "$server_pid" | tr -d ' ')

read -r cold50 cold99 coldn < <(summary "$results/cold.txt")
read -r warm50 warm99 warmn < <(summary "$results/warm.txt")
read -r nm50 nm99 nmn < <(summary "$results/304.txt")
{
  echo "# Named-query manifest: $pages canvases ($(cat "$results/shape.txt" | tr -d '#'))"
  echo
  echo "Machine: $(nproc) cores, $(uname -m), $(date -u +%Y-%m-%d). Command: bench/presentation.sh --pages $pages --requests $requests --restarts $restarts"
  echo
  echo "| request | p50 ms | p99 ms | samples |"
  echo "|---|---|---|---|"
  echo "| cold: first request after a server start | $cold50 | $cold99 | $coldn |"
  echo "| cached: repeated request (read from the database, written text reused) | $warm50 | $warm99 | $warmn |"
  echo "| revalidation: If-None-Match, 304 | $nm50 | $nm99 | $nmn |"
  echo
  echo "Server RSS after the last cold request: $((rss_kb / 1024)) MB"
} | tee "$results/presentation.md"
