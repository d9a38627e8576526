#!/usr/bin/env bash
# Memory of the serving path against IIPImage (peer A) in one run, with the kit in
# ../shared/bench: Vitrine's RSS right after ingesting the kit's four masters (and 5 s later,
# once freed memory could have gone back), then W1-W3 with each server's peak RSS, req/s and
# CPU per request; Vitrine twice, at its default caches and with its caches at IIPImage's
# budget (10 MB of decoded tiles, no render cache).
#
#   bench/memory.sh [--quick] [--env NAME=VALUE]...
#     --quick: 10 s runs at 4 connections, W3 only
#     --env: an environment variable for both Vitrine servers (MALLOC_ARENA_MAX=2, say)
#
# Results: $BENCH_DIR/results/memory-TIMESTAMP/ (memory.md, and bench.py's results.md per
# configuration). Everything listens on 127.0.0.1 only.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
kit="$root/../shared/bench"
export BENCH_DIR="${BENCH_DIR:-${TMPDIR:-/tmp}/vitrine-bench}"
. bench/lib.sh
quick=false
extra_env=()
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=true ;;
    --env) extra_env+=("$2"); shift ;;
    *) echo "unknown option $1"; exit 2 ;;
  esac
  shift
done

kit_and_release
out="$BENCH_DIR/results/memory-$(date -u +%Y%m%d-%H%M%S)"
mkdir -p "$out"
bash "$kit/peers.sh" start A
trap 'stop_vitrine; bash "$kit/peers.sh" stop || true' EXIT

rss_mb() { awk '/^VmRSS/ { printf "%d", $2 / 1024 }' "/proc/$1/status"; }

# serve NAME [NAME=VALUE ...]: a fresh server over the four masters, then the workloads
serve() {
  local name=$1
  shift
  work="$out/$name"
  mkdir -p "$work"
  port=$(free_port)
  base="http://127.0.0.1:$port"
  launch "$work/data" "$port" VITRINE_IMPORT_ROOTS="$BENCH_DIR/images/src" ${extra_env[@]+"${extra_env[@]}"} "$@"
  server_pid=$launched_pid
  register_kit_masters
  local ingested settled
  ingested=$(rss_mb "$server_pid")
  sleep 5
  settled=$(rss_mb "$server_pid")
  echo "$name: RSS after ingest $ingested MB, 5 s later $settled MB"
  echo "$ingested $settled" > "$work/ingest-rss"
  echo "$server_pid" > "$work/pid"
  cat > "$work/peer.json" <<JSON
{"vitrine-$name": {"desc": "Vitrine $(git rev-parse --short HEAD) release, $name caches", "base": "$base",
  "prefix": "/iiif/3/bench/1/", "api": 3, "pidfile": "$work/pid"}}
JSON
  local peers="vitrine-$name"
  [ "$name" = "default" ] && peers="$peers,iipsrv"
  if $quick; then
    python3 "$kit/bench.py" --peers-file "$work/peer.json" --peers "$peers" --workloads w3 --conns 4 \
      --duration 10 --out "$work/results"
  else
    python3 "$kit/bench.py" --peers-file "$work/peer.json" --peers "$peers" --conns 4 --out "$work/results"
  fi
  stop_vitrine
}

serve default
serve equal VITRINE_DECODED_TILE_CACHE_BYTES=10485760 VITRINE_RENDER_CACHE_BYTES=0

{
  echo "| configuration | RSS after ingest MB | 5 s later MB |"
  echo "|---|---|---|"
  for name in default equal; do
    read -r a b < "$out/$name/ingest-rss"
    echo "| Vitrine, $name caches | $a | $b |"
  done
  echo
  for name in default equal; do
    echo "### $name"
    cat "$out/$name/results/results.md"
    echo
  done
} | tee "$out/memory.md"
echo "results: $out/memory.md"
