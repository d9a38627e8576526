#!/usr/bin/env bash
# Two nodes under mixed load: two release `vitrine serve` processes over one PostgreSQL database
# (a fresh one on the machine's server, dropped at the end) and one bucket of moto_server (PyPI
# moto[server]) on loopback, each with one worker, loaded for 60 s at once with
#   tiles          the kit's W1 viewer tiles of its four masters            -> node A
#   info.json      of every image                                           -> node B
#   manifests      single-page manifests and the book's named-query manifest -> node B
#   Content Search over the book and over single pages (OCR imported via B) -> node A
#   GraphQL        a listing of the space's assets (first 50, with a count)  -> node B
# while a batch of 120 new 2048x1536 JPEGs, registered through node A, is processed by both.
# Each node's RSS is sampled every second.
#
#   bench/nodes.sh [--seconds N] [--pages N]
#     --seconds N: length of the load (default 60); --pages N: pages of the book (default 100)
#
# Needs the kit's images (../shared/bench/setup.sh), wrk, psql and PostgreSQL on 127.0.0.1:5432
# (VITRINE_BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/test, names the server
# and the database to create the bench's own from).
# Results: $BENCH_DIR/results/nodes-*/nodes.md. Everything stays on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
kit="$root/../shared/bench"
export BENCH_DIR="${BENCH_DIR:-${TMPDIR:-/tmp}/vitrine-bench}"
seconds=60
pages=100
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds=$2; shift ;;
    --pages) pages=$2; shift ;;
    *) echo "unknown option $1"; exit 2 ;;
  esac
  shift
done

source bench/lib.sh
kit_and_release

work="$BENCH_DIR/nodes"
rm -rf "$work" && mkdir -p "$work/masters" "$work/batch" "$work/alto" "$work/paths" "$work/load"
out="$BENCH_DIR/results/nodes-$(date -u +%Y%m%d-%H%M%S)"
mkdir -p "$out"

server_url="${VITRINE_BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}"
database="vitrine_bench_$$"
psql "$server_url" -qc "create database $database"
database_url="${server_url%/*}/$database"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done; done
  psql "$server_url" -qc "drop database if exists $database with (force)" || true
}
trap cleanup EXIT INT TERM

start_moto "$work/moto.log"
pids+=("$moto_pid")
# shellcheck disable=SC2207
s3_env=($(s3_settings))
shared=(VITRINE_DATABASE_URL="$database_url" VITRINE_JWT_SECRET=bench-signing-secret-0123456789abcdef
  VITRINE_IMPORT_ROOTS="$BENCH_DIR/images/src,$work/masters,$work/batch" VITRINE_WORKERS=1 "${s3_env[@]}")
port_a=$(free_port)
port_b=$(free_port)
launch "$work/node-a" "$port_a" "${shared[@]}"
pid_a=$launched_pid
pids+=("$pid_a")
launch "$work/node-b" "$port_b" "${shared[@]}"
pid_b=$launched_pid
pids+=("$pid_b")
a="http://127.0.0.1:$port_a"
b="http://127.0.0.1:$port_b"

# the book (its named query `book`) and the kit's four masters, through node A
base=$a
book_pages "$work/masters" "$pages" 300 400
register_book "$pages" "space=p1&s1=p2&canvas=n1"
for id in eveningglow ladybird elephants mosaic; do
  python3 -c 'import json,sys; print(json.dumps({"query": "mutation($o: String!, $i: String!) { registerAsset(customer: \"bench\", space: 1, wait: true, input: {id: $i, mediaType: \"image/jpeg\", origin: $o}) { status } }", "variables": {"i": sys.argv[1], "o": sys.argv[2]}}))' \
    "$id" "file://$BENCH_DIR/images/src/$id.jpg" | gql | grep -q READY || { echo "$id did not become READY"; exit 1; }
done

# OCR for every page, imported through node B; searched on node A
base=$b
python3 - "$work" "$pages" <<'PY'
import random, sys
work, pages = sys.argv[1], int(sys.argv[2])
random.seed(3)
vocabulary = [f"w{n:03}" for n in range(400)]
for n in range(1, pages + 1):
    words = random.choices(vocabulary, weights=[1 / (r + 1) for r in range(len(vocabulary))], k=120)
    strings = "".join(f'<String CONTENT="{word}" HPOS="{(i % 12) * 50}" VPOS="{(i // 12) * 40}" WIDTH="45" HEIGHT="30"/><SP/>'
                      for i, word in enumerate(words))
    open(f"{work}/alto/p{n}.xml", "w").write(
        '<?xml version="1.0" encoding="UTF-8"?><alto xmlns="http://www.loc.gov/standards/alto/ns-v4#">'
        f'<Layout><Page WIDTH="600" HEIGHT="800"><PrintSpace><TextBlock><TextLine>{strings}'
        '</TextLine></TextBlock></PrintSpace></Page></Layout></alto>')
PY
for n in $(seq 1 "$pages"); do
  python3 -c 'import json,sys; print(json.dumps({"query": "mutation($a: String!, $c: String!) { importAnnotations(customer: \"bench\", space: 1, asset: $a, format: ALTO, content: $c) { count } }", "variables": {"a": sys.argv[1], "c": open(sys.argv[2]).read()}}))' \
    "$(printf 'p%05d' "$n")" "$work/alto/p$n.xml" | gql >/dev/null
done

# the request lists
python3 "$kit/gen_workloads.py" --out "$work/paths/kit" --prefix /iiif/3/bench/1/ --api 3 >/dev/null
python3 - "$work/paths" "$pages" <<'PY'
import json, random, sys
folder, pages = sys.argv[1], int(sys.argv[2])
random.seed(5)
ids = ["eveningglow", "ladybird", "elephants", "mosaic"] + [f"p{n:05}" for n in range(1, pages + 1)]
def write(name, paths):
    random.shuffle(paths)
    open(f"{folder}/{name}.txt", "w").write("\n".join(paths) + "\n")
write("info", [f"/iiif/3/bench/1/{i}/info.json" for i in ids] * 5)
write("manifests", [f"/iiif/manifest/3/bench/1/p{n:05}" for n in range(1, pages + 1)]
      + ["/iiif/query/3/bench/book/1/b1"] * 20)
words = [f"w{n:03}" for n in range(400)]
write("search", [f"/iiif/search/2/bench/query/book/1/b1?q={random.choice(words)}" for _ in range(200)]
      + [f"/iiif/search/2/bench/1/p{random.randint(1, pages):05}?q={random.choice(words)}" for _ in range(200)])
json.dump({"query": "query { space(customer: \"bench\", id: 1) { assets(first: 50) { totalCount nodes { id status width height } } } }"},
          open(f"{folder}/listing.json", "w"))
PY
export BENCH_AUTHORIZATION="Basic $(printf '%s' "$BENCH_KEY" | base64 -w0)"
curl -sf -H "authorization: $BENCH_AUTHORIZATION" -H 'content-type: application/json' "$b/graphql" \
  --data @"$work/paths/listing.json" | grep -q totalCount || { echo "the listing query fails"; exit 1; }
for list in kit/w1 info manifests search; do
  first=$(head -n 1 "$work/paths/$list.txt")
  curl -sf -o /dev/null "$a$first" || { echo "$first fails"; exit 1; }
done

# the batch: 120 crops of the mosaic, registered through node A when the load starts
for n in $(seq 0 119); do
  vips crop "$BENCH_DIR/images/src/mosaic.jpg" "$work/batch/c$n.jpg[Q=90]" $(((n % 8) * 1024)) $(((n / 8) * 400)) 2048 1536
done
batch_body=$(python3 - "$work/batch" <<'PY'
import json, pathlib, sys
members = [{"space": 1, "id": f"c{n:03}", "mediaType": "image/jpeg", "origin": pathlib.Path(f"{sys.argv[1]}/c{n}.jpg").as_uri()}
           for n in range(120)]
print(json.dumps({"query": "mutation($m: [BatchMemberInput!]!) { createBatch(customer: \"bench\", members: $m) { id } }",
                  "variables": {"m": members}}))
PY
)

# the load
sample() {
  local started=$SECONDS
  while [ $((SECONDS - started)) -le $((seconds + 2)) ]; do
    echo "$((SECONDS - started)) $(ps -o rss= -p "$pid_a" | tr -d ' ') $(ps -o rss= -p "$pid_b" | tr -d ' ')" >> "$work/rss.txt"
    sleep 1
  done
}
sample &
loads=($!)
load() { # NAME NODE_URL CONNECTIONS SCRIPT ARG
  wrk -t1 -c"$3" -d"${seconds}s" --timeout 30s --latency -s "$4" "$2" -- "$5" > "$work/load/$1.out" 2>&1
}
load tiles "$a" 2 "$kit/wrk_paths.lua" "$work/paths/kit/w1.txt" &
loads+=($!)
load info "$b" 1 "$kit/wrk_paths.lua" "$work/paths/info.txt" &
loads+=($!)
load manifests "$b" 1 "$kit/wrk_paths.lua" "$work/paths/manifests.txt" &
loads+=($!)
load search "$a" 1 "$kit/wrk_paths.lua" "$work/paths/search.txt" &
loads+=($!)
load graphql "$b/graphql" 1 "$root/bench/graphql.lua" "$work/paths/listing.json" &
loads+=($!)
base=$a
batch_started=$SECONDS
batch=$(echo "$batch_body" | gql | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["createBatch"]["id"])')
wait_batch() {
  while :; do
    state=$(echo "{\"query\":\"{ batch(customer: \\\"bench\\\", id: $batch) { count completed errors finished } }\"}" | gql)
    python3 -c 'import json,sys; b=json.loads(sys.argv[1])["data"]["batch"]; sys.exit(0 if b["finished"] else 1)' "$state" && break
    [ $((SECONDS - batch_started)) -lt 600 ] || { echo "the batch did not finish: $state"; exit 1; }
    sleep 1
  done
  echo "$state $((SECONDS - batch_started))" > "$work/batch.txt"
}
wait_batch
for job in "${loads[@]}"; do wait "$job"; done

python3 - "$work" "$out" "$seconds" "$pages" <<'PY' | tee "$out/nodes.md"
import json, platform, re, subprocess, sys, time
work, out, seconds, pages = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
print(f"# Two nodes over PostgreSQL and S3 (moto_server), {seconds} s of mixed load")
print()
print(f"Machine: {subprocess.check_output(['nproc']).decode().strip()} cores, {platform.machine()}, "
      f"{time.strftime('%Y-%m-%d', time.gmtime())}. Command: bench/nodes.sh --seconds {seconds} --pages {pages}. "
      "Release builds, one worker per node, all loads at once (wrk -t1).")
print()
print("| route | node | connections | requests | req/s | p50 ms | p99 ms | max ms | errors |")
print("|---|---|---|---|---|---|---|---|---|")
total_errors = 0
for name, node, conns in (("tiles", "A", 2), ("info", "B", 1), ("manifests", "B", 1), ("search", "A", 1), ("graphql", "B", 1)):
    text = open(f"{work}/load/{name}.out").read()
    m = re.search(r"^WRKJSON (.*)$", text, re.M)
    if not m:
        raise SystemExit(f"{name}: wrk failed: {text[-400:]}")
    r = json.loads(m.group(1))
    errors = r["err_connect"] + r["err_read"] + r["err_write"] + r["err_status"] + r["err_timeout"] + r.get("err_graphql", 0)
    total_errors += errors
    label = {"tiles": "W1 tiles", "info": "info.json", "manifests": "manifests (page + named query)",
             "search": "Content Search 2", "graphql": "GraphQL asset listing"}[name]
    print(f"| {label} | {node} | {conns} | {r['requests']} | {r['rps']:.0f} | {r['lat_p50_us'] / 1000:.2f} | "
          f"{r['lat_p99_us'] / 1000:.2f} | {r['lat_max_us'] / 1000:.1f} | {errors} |")
print()
state, elapsed = open(f"{work}/batch.txt").read().rsplit(" ", 1)
batch = json.loads(state)["data"]["batch"]
print(f"Batch of {batch['count']} JPEGs (2048x1536) through node A during the load: {batch['completed']} completed, "
      f"{batch['errors']} errors, finished after {int(elapsed)} s.")
print()
rows = [tuple(int(v) for v in line.split()) for line in open(f"{work}/rss.txt") if len(line.split()) == 3]
def at(second, column):
    return min(rows, key=lambda row: abs(row[0] - second))[column] // 1024
marks = [10, seconds // 4, seconds // 2, 3 * seconds // 4, seconds]
print("| RSS MB at second | " + " | ".join(str(m) for m in marks) + " | peak |")
print("|---|" + "---|" * (len(marks) + 1))
for column, node in ((1, "A"), (2, "B")):
    print(f"| node {node} | " + " | ".join(str(at(m, column)) for m in marks) + f" | {max(r[column] for r in rows) // 1024} |")
print()
print(f"Errors over all routes: {total_errors}.")
PY
echo "results: $out/nodes.md"
