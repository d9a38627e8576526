# Shared by the bench scripts that work on a book of small pages: sourced, not run.
# Needs $vitrine (the binary) and $work (a scratch folder) set by the caller.

BENCH_KEY="bench:bench-secret-0123456789"

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

# start_vitrine: a release server on a free loopback port over $work/data; sets port, base,
# server_pid
start_vitrine() {
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  base="http://127.0.0.1:$port"
  VITRINE_DATA_DIR="$work/data" VITRINE_LISTEN="127.0.0.1:$port" VITRINE_IMPORT_ROOTS="$work/masters" \
    VITRINE_ADMIN_KEY="$BENCH_KEY" VITRINE_WORKERS=2 VITRINE_LOG_LEVEL=warn \
    "$vitrine" serve >>"$work/server.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 200); do
    curl -sf "$base/healthz" >/dev/null && return 0
    sleep 0.05
  done
  echo "server did not start"; cat "$work/server.log"; exit 1
}

stop_vitrine() { kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; }

# gql: POST the GraphQL request on stdin as the bench admin
gql() {
  curl -sf -u "$BENCH_KEY" -H 'content-type: application/json' "$base/graphql" --data @-
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
