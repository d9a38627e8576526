#!/usr/bin/env bash
# Annotation import rate and Content Search latency over a 1,000-page book of ALTO OCR.
#
#   bench/search.sh [--pages N] [--words N] [--queries N]
#     --pages N: pages of the book (default 1000); --words N: OCR words per page (default 300);
#     --queries N: timed requests per kind (default 300).
#
# On a fresh embedded data dir (release build, SQLite): registers N small PNG pages of one book
# through one GraphQL batch, writes one ALTO file per page (words drawn from a 5,000-word
# vocabulary with a Zipf-like frequency, so some words are on every page and most on few),
# then times
#   import:      importAnnotations for every page, one after another over one keep-alive
#                connection: parse, check, scale and write the word annotations;
#   searchable:  from the first import until a search finds a word of the last page, i.e. until
#                the index has caught up with every change;
#   search:      Content Search 2.0 requests over the book's named-query manifest (all pages)
#                and over single pages, for common words, rare words and two-word phrases;
#   autocomplete: Autocomplete 2.0 over the book for two- and three-letter prefixes.
# Timing is client-side wall time per request (python http.client on loopback).
#
# Results: $BENCH_DIR/results/search-*/search.md
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
export BENCH_DIR="${BENCH_DIR:-${TMPDIR:-/tmp}/vitrine-bench}"
pages=1000
words=300
queries=300
while [ $# -gt 0 ]; do
  case "$1" in
    --pages) pages=$2; shift ;;
    --words) words=$2; shift ;;
    --queries) queries=$2; shift ;;
    *) echo "unknown option $1"; exit 2 ;;
  esac
  shift
done
cargo build --release --bin vitrine -p vitrine-api
vitrine="${CARGO_TARGET_DIR:-$root/target}/release/vitrine"

work="$BENCH_DIR/search"
rm -rf "$work"
mkdir -p "$work/masters" "$work/data" "$work/alto"
results="$BENCH_DIR/results/search-$(date +%Y%m%d-%H%M%S)"
mkdir -p "$results"

source bench/lib.sh
# small PNG pages (the OCR is scaled to them) and one ALTO file per page, 20 times their size
book_pages "$work/masters" "$pages" 60 80
python3 - "$work" "$pages" "$words" <<'PY'
import random, sys
work, pages, per_page = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
w, h = 60, 80
random.seed(7)
syllables = ["ka", "lo", "mi", "ne", "ru", "sa", "te", "vo", "zi", "bra", "cle", "dro", "fen", "gal", "hor", "ist"]
vocabulary = sorted({"".join(random.choice(syllables) for _ in range(random.randint(2, 4))) for _ in range(6000)})[:5000]
random.shuffle(vocabulary)
weights = [1 / (rank + 1) for rank in range(len(vocabulary))]
open(f"{work}/vocabulary.txt", "w").write("\n".join(vocabulary))
page_w, page_h = w * 20, h * 20
for n in range(1, pages + 1):
    chosen = random.choices(vocabulary, weights, k=per_page)
    lines, x, y = [], 0, 0
    line = []
    for word in chosen:
        width = 12 * len(word)
        if x + width > page_w:
            lines.append(line); line = []; x = 0; y += 30
        line.append(f'<String CONTENT="{word}" HPOS="{x}" VPOS="{y}" WIDTH="{width}" HEIGHT="24"/><SP/>')
        x += width + 10
    lines.append(line)
    text = "".join(f"<TextLine>{''.join(line)}</TextLine>\n" for line in lines)
    open(f"{work}/alto/p{n}.xml", "w").write(
        f'<?xml version="1.0" encoding="UTF-8"?>\n<alto xmlns="http://www.loc.gov/standards/alto/ns-v4#">'
        f'<Layout><Page WIDTH="{page_w}" HEIGHT="{page_h}"><PrintSpace><TextBlock>\n{text}'
        f'</TextBlock></PrintSpace></Page></Layout></alto>\n')
    open(f"{work}/alto/p{n}.last", "w").write(chosen[-1])
PY

start_vitrine
trap stop_vitrine EXIT
register_book "$pages" "space=p1&s1=p2&canvas=n1"
cpu_before=$(awk '{print $14 + $15}' "/proc/$server_pid/stat")

python3 - "$port" "$work" "$pages" "$queries" "$results" <<'PY'
import base64, http.client, json, random, statistics, sys, time, urllib.parse
port, work, pages, queries, results = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
auth = "Basic " + base64.b64encode(b"bench:bench-secret-0123456789").decode()
connection = http.client.HTTPConnection("127.0.0.1", port)

def post(query, variables):
    connection.request("POST", "/graphql", json.dumps({"query": query, "variables": variables}),
                       {"content-type": "application/json", "authorization": auth})
    answer = json.loads(connection.getresponse().read())
    assert "errors" not in answer, answer
    return answer["data"]

def get(path):
    start = time.perf_counter()
    connection.request("GET", path)
    response = connection.getresponse()
    body = response.read()
    assert response.status == 200, (path, response.status, body[:300])
    return (time.perf_counter() - start) * 1000, json.loads(body)

importing = "mutation($a: String!, $c: String!) { importAnnotations(customer: \"bench\", space: 1, asset: $a, format: ALTO, content: $c) { count } }"
files = [open(f"{work}/alto/p{n}.xml").read() for n in range(1, pages + 1)]
total_words = 0
started = time.perf_counter()
for n, content in enumerate(files, start=1):
    total_words += post(importing, {"a": f"p{n:05}", "c": content})["importAnnotations"]["count"]
imported = time.perf_counter() - started
last = open(f"{work}/alto/p{pages}.last").read().strip()
while True:
    _, page = get(f"/iiif/search/2/bench/1/p{pages:05}?q={last}")
    if page["items"]:
        break
searchable = time.perf_counter() - started

vocabulary = open(f"{work}/vocabulary.txt").read().split()
random.seed(11)
common, rare = vocabulary[:50], vocabulary[1000:]
phrases = []
for n in random.sample(range(1, pages + 1), 50):
    text = [line.split('"')[1] for line in files[n - 1].split("<String CONTENT=")[1:]]
    i = random.randrange(len(text) - 1)
    phrases.append(f'"{text[i]} {text[i + 1]}"')

def timed(paths):
    times, hits = [], []
    for path in paths:
        elapsed, body = get(path)
        times.append(elapsed)
        hits.append(body.get("partOf", {}).get("total", len(body.get("items", []))))
    times.sort()
    return times, hits

def row(label, paths):
    times, hits = timed(paths)
    p = lambda q: times[min(len(times) - 1, int(q * len(times)))]
    return f"| {label} | {statistics.median(times):.2f} | {p(0.99):.2f} | {len(times)} | {statistics.median(hits):.0f} |"

book = "/iiif/search/2/bench/query/book/1/b1"
q = lambda text: urllib.parse.quote(text)
rows = [
    row("book, common word", [f"{book}?q={q(random.choice(common))}" for _ in range(queries)]),
    row("book, rare word", [f"{book}?q={q(random.choice(rare))}" for _ in range(queries)]),
    row("book, two-word phrase", [f"{book}?q={q(random.choice(phrases))}" for _ in range(queries)]),
    row("one page, common word", [f"/iiif/search/2/bench/1/p{random.randint(1, pages):05}?q={q(random.choice(common))}" for _ in range(queries)]),
    row("autocomplete, book, 2 letters", [f"/iiif/autocomplete/2/bench/query/book/1/b1?q={q(random.choice(vocabulary)[:2])}" for _ in range(queries)]),
    row("autocomplete, book, 3 letters", [f"/iiif/autocomplete/2/bench/query/book/1/b1?q={q(random.choice(vocabulary)[:3])}" for _ in range(queries)]),
]
json.dump({"words": total_words, "import_s": imported, "searchable_s": searchable, "rows": rows},
          open(f"{results}/figures.json", "w"))
PY
cpu_after=$(awk '{print $14 + $15}' "/proc/$server_pid/stat")
rss_kb=$(ps -o rss= -p "$server_pid" | tr -d ' ')
index_mb=$(du -sm "$work/data/index" | cut -f1)
python3 - "$results" "$pages" "$words" "$queries" "$rss_kb" "$index_mb" "$((cpu_after - cpu_before))" "$(getconf CLK_TCK)" <<'PY' | tee "$results/search.md"
import json, platform, subprocess, sys, time
results, pages, words, queries, rss_kb, index_mb, ticks, hz = sys.argv[1:9]
f = json.load(open(f"{results}/figures.json"))
print(f"# Annotation import and Content Search: {pages} ALTO pages, {f['words']:,} words")
print()
print(f"Machine: {subprocess.check_output(['nproc']).decode().strip()} cores, {platform.machine()}, {time.strftime('%Y-%m-%d', time.gmtime())}. "
      f"Command: bench/search.sh --pages {pages} --words {words} --queries {queries}")
print()
print("| stage | seconds | words/s |")
print("|---|---|---|")
print(f"| import (importAnnotations, one page after another) | {f['import_s']:.1f} | {f['words'] / f['import_s']:,.0f} |")
print(f"| searchable (import and index catch-up, until the last page's word is found) | {f['searchable_s']:.1f} | {f['words'] / f['searchable_s']:,.0f} |")
print()
print("| request | p50 ms | p99 ms | samples | median hits |")
print("|---|---|---|---|---|")
for row in f["rows"]:
    print(row)
print()
print(f"Server RSS at the end: {int(rss_kb) // 1024} MB; index on disk: {index_mb} MB; server CPU for imports and requests: {int(ticks) / int(hz):.1f} s")
PY
