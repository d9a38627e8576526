#!/usr/bin/env bash
# Serving from S3 against serving from a folder, in one run: three release servers over the
# kit's four masters (../shared/bench), one storing in a folder, two in a bucket of moto_server
# (PyPI moto[server]) on loopback, the second of those with a 256 MiB tile disk cache
# (VITRINE_TILE_DISK_CACHE_BYTES), measured with the kit's bench.py on W1 (viewer tiles) and
# W3 (arbitrary regions), the servers taking turns. As the limit line, wrk asks moto itself for
# one stored tile's byte range: the most S3 GETs a second this S3 server answers here.
#
#   bench/s3.sh [--quick] [--cold N]
#     --quick: 10 s runs, one repeat (default 20 s, two repeats)
#     --cold N: first requests timed one at a time on freshly started servers (default 400)
#
# Before the load, both servers are restarted (no layout cached, nothing in any cache) and the
# first N W1 tiles are requested one at a time: the cold-tile latency, and the number of
# requests moto received per tile (from its access log).
#
# Results: $BENCH_DIR/results/s3-*/s3.md and results.md (bench.py's tables).
# Everything listens on 127.0.0.1 only; wrk sends load to 127.0.0.1 only.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
kit="$root/../shared/bench"
export BENCH_DIR="${BENCH_DIR:-${TMPDIR:-/tmp}/vitrine-bench}"
quick=false
cold=400
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=true ;;
    --cold) cold=$2; shift ;;
    *) echo "unknown option $1"; exit 2 ;;
  esac
  shift
done

source bench/lib.sh
kit_and_release

work="$BENCH_DIR/s3"
rm -rf "$work" && mkdir -p "$work"
out="$BENCH_DIR/results/s3-$(date -u +%Y%m%d-%H%M%S)"
mkdir -p "$out"
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; }
trap cleanup EXIT

start_moto "$work/moto.log"
pids+=("$moto_pid")
# shellcheck disable=SC2207
s3_env=($(s3_settings))
common=(VITRINE_IMPORT_ROOTS="$BENCH_DIR/images/src" VITRINE_WORKERS=1)
names=(folder s3 s3-cached)
declare -A ports settings
settings[folder]=""
settings[s3]="${s3_env[*]}"
# the same bucket, under a prefix of its own
settings[s3-cached]="${s3_env[*]} VITRINE_STORAGE_URL=s3://vitrine/cached VITRINE_TILE_DISK_CACHE_BYTES=268435456"
for name in "${names[@]}"; do ports[$name]=$(free_port); done
start_all() {
  for name in "${names[@]}"; do
    # shellcheck disable=SC2086
    launch "$work/$name" "${ports[$name]}" "${common[@]}" ${settings[$name]}
    echo "$launched_pid" > "$work/$name.pid"
    pids+=("$launched_pid")
  done
}
stop_all() {
  for name in "${names[@]}"; do
    pid=$(cat "$work/$name.pid")
    kill "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
  done
}
start_all
for port in "${ports[@]}"; do
  base="http://127.0.0.1:$port"
  register_kit_masters
done
echo "objects in the bucket: $(curl -s "$s3_endpoint/vitrine?list-type=2" | grep -o '<Key>' | wc -l)"

python3 "$kit/gen_workloads.py" --out "$work/paths" --prefix /iiif/3/bench/1/ --api 3 >/dev/null

# cold tiles: fresh processes, the first $cold W1 paths one at a time on each server
stop_all
start_all
python3 - "$work" "$cold" "${ports[folder]}" "${ports[s3]}" "${ports[s3-cached]}" <<'PY2'
import http.client, json, re, statistics, sys, time
work, count = sys.argv[1], int(sys.argv[2])
servers = {"folder": (int(sys.argv[3]), None), "s3": (int(sys.argv[4]), "objects"), "s3-cached": (int(sys.argv[5]), "cached")}
paths = [line.strip() for line in open(f"{work}/paths/w1.txt") if line.strip()][:count]
def moto_requests(prefix):
    return sum(1 for line in open(f"{work}/moto.log") if re.search(rf'"(GET|HEAD) /vitrine/{prefix}/', line))
figures = {}
for name, (port, prefix) in servers.items():
    connection = http.client.HTTPConnection("127.0.0.1", port)
    before = moto_requests(prefix) if prefix else 0
    first_per_image, times = {}, []
    for path in paths:
        start = time.perf_counter()
        connection.request("GET", path)
        response = connection.getresponse()
        response.read()
        elapsed = (time.perf_counter() - start) * 1000
        assert response.status == 200, (name, path, response.status)
        first_per_image.setdefault(path.split("/")[5], elapsed)
        times.append(elapsed)
    time.sleep(0.5)
    times.sort()
    figures[name] = {"p50": statistics.median(times), "p99": times[min(len(times) - 1, int(0.99 * len(times)))],
                     "first": statistics.median(first_per_image.values()), "tiles": len(times),
                     "requests": moto_requests(prefix) - before if prefix else None}
json.dump(figures, open(f"{work}/cold.json", "w"))
PY2

# the limit line: moto answering one stored tile's byte range, as a node asks for it
pyramid=$(curl -s "$s3_endpoint/vitrine?list-type=2&prefix=objects/" | grep -o '<Key>[^<]*pyramid[^<]*</Key>' | head -n 1 | sed 's/<[^>]*>//g')
echo "/vitrine/$pyramid" > "$work/moto-path.txt"
wrk -t1 -c4 -d10s --latency -H 'Range: bytes=4096-20479' -s "$kit/wrk_paths.lua" "$s3_endpoint" -- "$work/moto-path.txt" \
  | grep '^WRKJSON' | sed 's/^WRKJSON //' > "$work/moto-limit.json"

commit=$(git rev-parse --short HEAD)
cat > "$work/peers.json" <<JSON
{"vitrine-folder": {"desc": "Vitrine $commit release, SQLite + folder storage",
   "base": "http://127.0.0.1:${ports[folder]}", "prefix": "/iiif/3/bench/1/", "api": 3, "pidfile": "$work/folder.pid"},
 "vitrine-s3": {"desc": "Vitrine $commit release, SQLite + S3 storage (moto_server on loopback)",
   "base": "http://127.0.0.1:${ports[s3]}", "prefix": "/iiif/3/bench/1/", "api": 3, "pidfile": "$work/s3.pid"},
 "vitrine-s3-cached": {"desc": "Vitrine $commit release, SQLite + S3 storage + 256 MiB tile disk cache",
   "base": "http://127.0.0.1:${ports[s3-cached]}", "prefix": "/iiif/3/bench/1/", "api": 3, "pidfile": "$work/s3-cached.pid"}}
JSON
if $quick; then
  runs=(--duration 10)
else
  runs=(--duration 20 --repeat 2)
fi
python3 "$kit/bench.py" --peers-file "$work/peers.json" --peers vitrine-folder,vitrine-s3,vitrine-s3-cached --workloads w1,w3 \
  --conns 4 "${runs[@]}" --out "$out"

python3 - "$work" "$out" "$cold" <<'PY' | tee "$out/s3.md"
import json, platform, subprocess, sys, time
work, out, count = sys.argv[1], sys.argv[2], sys.argv[3]
cold = json.load(open(f"{work}/cold.json"))
results = json.load(open(f"{out}/results.json"))
print(f"# Serving from S3 (moto_server on loopback) against a folder, same run")
print()
print(f"Machine: {subprocess.check_output(['nproc']).decode().strip()} cores, {platform.machine()}, "
      f"{time.strftime('%Y-%m-%d', time.gmtime())}. Command: bench/s3.sh")
print()
print(f"Cold tiles: freshly started servers, the first {count} W1 tiles one at a time; store requests "
      "counted in moto's access log.")
print()
print("| store | cold tile p50 ms | p99 ms | first tile of an image, median ms | S3 requests | per tile |")
print("|---|---|---|---|---|---|")
for name, f in cold.items():
    requests, per = (f["requests"], f"{f['requests'] / f['tiles']:.2f}") if f["requests"] is not None else ("-", "-")
    print(f"| {name} | {f['p50']:.2f} | {f['p99']:.2f} | {f['first']:.2f} | {requests} | {per} |")
print()
limit = json.load(open(f"{work}/moto-limit.json"))
print(f"Limit line: moto_server alone answers {limit['rps']:.0f} ranged GETs/s of one stored tile "
      f"(wrk -t1 -c4, p50 {limit['lat_p50_us'] / 1000:.2f} ms).")
print()
print("Under load (bench.py, wrk -t1 -c4; the runs of each workload averaged; CPU is the server's per request):")
print()
peers = {"folder": "vitrine-folder", "S3": "vitrine-s3", "S3 + disk cache": "vitrine-s3-cached"}
def pick(peer, workload, key, scale=1.0):
    values = [r[key] * scale for r in results["peers"][peer]["runs"] if r["workload"] == workload and r.get(key) is not None]
    return sum(values) / len(values) if values else float("nan")
print("| workload | store | req/s | / folder | / moto limit | p50 ms | p99 ms | CPU ms/req | peak RSS MB | errors |")
print("|---|---|---|---|---|---|---|---|---|---|")
for workload in ("w1", "w3"):
    folder = pick("vitrine-folder", workload, "rps")
    for label, peer in peers.items():
        rps = pick(peer, workload, "rps")
        errors = sum(r["errors"] for r in results["peers"][peer]["runs"] if r["workload"] == workload)
        print(f"| {workload.upper()} | {label} | {rps:.0f} | {rps / folder:.2f} | {rps / limit['rps']:.2f} | "
              f"{pick(peer, workload, 'lat_p50_us', 1e-3):.2f} | {pick(peer, workload, 'lat_p99_us', 1e-3):.2f} | "
              f"{pick(peer, workload, 'server_cpu_ms_per_req'):.2f} | {pick(peer, workload, 'rss_peak_mb'):.0f} | {errors} |")
PY
echo "results: $out/s3.md and $out/results.md"
