#!/usr/bin/env bash
# Rate and memory of GET /api/v1/export/open-data.zip on a generated data set: the download's time, its size
# zipped and of CSV (unzipped), the rate of CSV per second, and the server's resident memory sampled every 0.2 s
# before, during and after. Prints one Markdown row per round.
#
#   cargo build --release && bench/open_data.sh [ROUNDS]
#
# Uses BENCH_DB (default hamkori_bench_engagements; make it with bench/engagements.sh, or
#   hamkori generate --organizations 2000 --agencies 300 --engagements 1000000 --seed 1).
# Only loopback is used; the server stops by itself.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
. bench/lib.sh
bench_serve open-data 18084
work=$(mktemp -d)
trap 'bench_stop; rm -rf "$work"' EXIT
rss() { awk '/VmRSS/ {printf "%.0f", $2 / 1024}' "/proc/$server/status"; }

echo "$(psql "$pg/$db" -Atc "SELECT count(*) FROM engagements") engagements"
echo
echo "| round | time | zipped | CSV | CSV per second | resident memory before / max during / after |"
echo "|---|---|---|---|---|---|"
for round in $(seq "$rounds"); do
  before=$(rss)
  ( while sleep 0.2; do rss; echo; done ) >"$work/rss" &
  sampler=$!
  seconds=$(curl -sf -o "$work/package.zip" -w '%{time_total}' "http://127.0.0.1:$port/api/v1/export/open-data.zip")
  kill $sampler
  after=$(rss)
  peak=$(sort -n "$work/rss" | tail -1)
  zipped=$(stat -c %s "$work/package.zip")
  csv=$(python3 -c 'import sys, zipfile; print(sum(i.file_size for i in zipfile.ZipFile(sys.argv[1]).infolist() if i.filename.endswith(".csv")))' "$work/package.zip")
  awk -v r="$round" -v t="$seconds" -v z="$zipped" -v c="$csv" -v b="$before" -v p="$peak" -v a="$after" \
    'BEGIN { printf "| %d | %.1f s | %.1f MB | %.1f MB | **%.1f MB/s** | %d / %d / %d MiB |\n", r, t, z / 1e6, c / 1e6, c / 1e6 / t, b, p, a }'
done
