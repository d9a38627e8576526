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

source bench/lib.sh
# one small PNG per page (the manifest's cost does not depend on the image size)
book_pages "$work/masters" "$pages" 48 64
start_server() { start_vitrine; }
stop_server() { stop_vitrine; }
trap stop_server EXIT
start_server
register_book "$pages" "space=p1&s1=p2&canvas=n1&behavior=paged"

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
