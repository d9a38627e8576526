#!/usr/bin/env bash
# Pyramid builds of very large masters against `vips tiffsave --tile --pyramid` on the same
# files: wall time and peak RSS (GNU time), median of three runs each.
#
#   bench/gigapixel.sh [--quick]
#     --quick: one run each instead of three
#
# The masters are made from the kit's 10240x8000 mosaic (../shared/bench, built by its setup.sh)
# with vips: a 4x4 grid of it cut to 40000x25000 (one gigapixel) as a baseline JPEG (Q85), as a
# PNG, as a deflate-compressed striped TIFF and as a JPEG 2000 of 1024-px tiles (vips jp2ksave,
# Q40; about 100 s to make), and the mosaic itself doubled (20480x16000, 328 megapixels) as a
# JPEG. Both tools write 256-px JPEG tiles at Q75; Vitrine runs with one allocator arena, as the
# server's build process does. Results go to
# $BENCH_DIR/results/gigapixel-*.md; the masters stay in $BENCH_DIR/gigapixel for the next run.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
kit="$root/../shared/bench"
export BENCH_DIR="${BENCH_DIR:-${TMPDIR:-/tmp}/vitrine-bench}"
. bench/lib.sh
runs=3
[ "${1:-}" = "--quick" ] && runs=1

[ -f "$BENCH_DIR/images/src/mosaic.jpg" ] || bash "$kit/setup.sh" --no-validator
cargo build --release -p vitrine-imaging --example build_pyramid
target="${CARGO_TARGET_DIR:-$root/target}/release"

work="$BENCH_DIR/gigapixel"
mkdir -p "$work"
mosaic="$BENCH_DIR/images/src/mosaic.jpg"
if [ ! -f "$work/giga.jpg" ]; then
  echo "making the masters (a few minutes)"
  vips arrayjoin "$(printf "$mosaic %.0s" $(seq 1 16))" "$work/grid.v" --across 4
  vips extract_area "$work/grid.v" "$work/giga.jpg[Q=85]" 0 0 40000 25000
  rm -f "$work/grid.v"
  vips arrayjoin "$mosaic $mosaic $mosaic $mosaic" "$work/double.jpg[Q=85]" --across 2
fi
[ -f "$work/giga.png" ] || vips copy "$work/giga.jpg" "$work/giga.png[compression=1]"
[ -f "$work/giga.tif" ] || vips copy "$work/giga.jpg" "$work/giga.tif[compression=deflate]"
[ -f "$work/giga-tiled.jp2" ] || vips jp2ksave "$work/giga.jpg" "$work/giga-tiled.jp2" \
  --tile-width 1024 --tile-height 1024 --Q 40

stamp=$(date -u +%Y%m%d-%H%M%S)
mkdir -p "$BENCH_DIR/results"
report="$BENCH_DIR/results/gigapixel-$stamp.md"
{
  echo "| master | size | file MB | vitrine wall s | vitrine peak RSS MB | vips wall s | vips peak RSS MB | wall ratio |"
  echo "|---|---|---|---|---|---|---|---|"
  for master in double.jpg giga.jpg giga.png giga.tif giga-tiled.jp2; do
    src="$work/$master"
    size="$(vipsheader -f width "$src")x$(vipsheader -f height "$src")"
    read -r our_wall our_rss vips_wall vips_rss ratio <<< "$(pyramid_against_vips "$src" "$work" "$runs")"
    echo "| $master | $size | $(( $(stat -c %s "$src") / 1048576 )) | $our_wall | $our_rss | $vips_wall | $vips_rss | $ratio |"
  done
} | tee "$report"
