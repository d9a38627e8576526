#!/usr/bin/env python3
"""How often W3's renders could reuse a decoded tile, by decoded-tile cache size.

  python3 bench/w3_tile_reuse.py

Rebuilds the kit's W3 regions (../shared/bench/gen_workloads.py, seed 42, the 4 masters' sizes),
plans each request as imaging::plan does (the smallest level that still covers the output,
256-px tiles) and replays the tiles each request needs through an LRU of N tiles. Prints the
hit rate for the first 2,500 requests (about one 20 s run) and for all 5,000.
"""
import math
import os
import random
import sys
from collections import OrderedDict

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "shared", "bench"))
import gen_workloads as kit  # noqa: E402

DIMS = {"eveningglow": (2560, 1600), "ladybird": (2560, 1600),
        "elephants": (5640, 3172), "mosaic": (10240, 8000)}
TILE = 256


def regions():
    # generate() draws W1's and W2's shuffles from the same generator before W3's regions
    rng = random.Random(42)
    w1 = []
    for ident, (w, h) in DIMS.items():
        w1 += kit.osd_tiles(ident, w, h, TILE, kit.default_scale_factors(w, h, TILE))
    rng.shuffle(w1)
    w2 = kit.w2_thumbs(DIMS) * 50
    rng.shuffle(w2)
    return kit.w3_regions(DIMS, 5000, rng)


def levels(width, height):
    out = [(width, height)]
    while max(out[-1]) > TILE:
        w, h = out[-1]
        out.append(((w + 1) // 2, (h + 1) // 2))
    return out


def tiles(path):
    ident, region, size, _, _ = path.split("/")
    x, y, rw, rh = map(int, region.split(","))
    if size.startswith("!"):
        box = int(size[1:].split(",")[0])
        factor = min(box / rw, box / rh)
        ow, oh = max(1, round(rw * factor)), max(1, round(rh * factor))
    else:
        ow = int(size[:-1])
        oh = max(1, round(rh * ow / rw))
    pyramid = levels(*DIMS[ident])
    level = next((l for l in reversed(range(len(pyramid)))
                  if rw / 2 ** l >= ow and rh / 2 ** l >= oh), 0)
    scale = 2 ** level
    lw, lh = pyramid[level]
    left, top = x // scale, y // scale
    right, bottom = min(math.ceil((x + rw) / scale), lw), min(math.ceil((y + rh) / scale), lh)
    across = math.ceil(lw / TILE)
    return [(ident, level, row * across + column)
            for row in range(top // TILE, (bottom - 1) // TILE + 1)
            for column in range(left // TILE, (right - 1) // TILE + 1)]


def main():
    needed = [tiles(path) for path in regions()]
    total = sum(map(len, needed))
    distinct = len({tile for request in needed for tile in request})
    print(f"{len(needed)} requests, {total / len(needed):.1f} tiles a request, {distinct} distinct tiles")
    for first in (2500, 5000):
        sequence = [tile for request in needed[:first] for tile in request]
        for capacity in (128, 330, 680, 1300, 2600):
            lru, hits = OrderedDict(), 0
            for tile in sequence:
                if tile in lru:
                    hits += 1
                    lru.move_to_end(tile)
                else:
                    lru[tile] = True
                    if len(lru) > capacity:
                        lru.popitem(last=False)
            print(f"first {first} requests, {capacity} tiles ({capacity * TILE * TILE * 3 / 2**20:.0f} MiB RGB): "
                  f"hit rate {hits / len(sequence):.0%}")


if __name__ == "__main__":
    main()
