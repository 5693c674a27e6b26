#!/usr/bin/env bash
# Latency of GET /api/v1/search on a generated data set: a common and a rare word, anonymous and as an analyst, the
# first page, a later page and filtered; then again after 100,000 engagements that do not match are inserted
# (newer than every other row, and without ANALYZE: the worst case for a newest-first order and the generic-plan
# trap of prepared full-text statements; BENCH_INSERT=0 skips it). For the plans, enable auto_explain on the
# database (docs/benchmarks.md, "Search"). Prints Markdown: the median, p95 and slowest of ROUNDS sequential requests each (after
# one warm-up request), timed by curl.
#
#   cargo build --release && bench/search.sh [ROUNDS]
#
# Uses BENCH_DB (default hamkori_bench_engagements; make it with bench/engagements.sh, or
#   hamkori generate --organizations 2000 --agencies 300 --engagements 1000000 --seed 1).
# The 100,000 extra rows stay (a second run adds another 100,000); only loopback is used; the server stops by itself.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-20}
. bench/lib.sh
bench_serve search 18083
bench_tokens

# A common word (a summary of one engagement in seven: "насилия" in "Профилактика насилия в семье") and a rare one
# (the number of one generated engagement, in its title).
common=насилие
rare=$(q "SELECT substring(title FROM '№ ([0-9]+)') FROM engagements WHERE title LIKE 'Общественные слушания № %' AND visibility = 'public' ORDER BY id LIMIT 1")
enc() { python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1]))' "$1"; }

run() { # name path token
  local header=()
  [ -n "$3" ] && header=(-H "Authorization: Bearer $3")
  curl -sf "${header[@]}" "$base$2" >/dev/null || { echo "| $1 | failed: $2 | | |"; return; }
  for _ in $(seq "$rounds"); do
    curl -sf -o /dev/null -w '%{time_total}\n' "${header[@]}" "$base$2"
  done | sort -n | awk -v n="$1" '{t[NR]=$1} END {p=int(NR*0.95+0.999); if (p>NR) p=NR;
    printf "| %s | %.1f ms | %.1f ms | %.1f ms |\n", n, t[int((NR+1)/2)]*1000, t[p]*1000, t[NR]*1000}'
}

table() {
  echo "$(q "SELECT count(*) FROM engagements") engagements, $(q "SELECT count(*) FROM search_entries") search rows; $rounds sequential requests per row after a warm-up"
  echo
  echo "| request | p50 | p95 | slowest |"
  echo "|---|---|---|---|"
  local second
  second=$(curl -sf "$base/search?q=$(enc $common)" | python3 -c 'import json,sys; print(json.load(sys.stdin)["next_cursor"])')
  for who in anonymous analyst; do
    token=""; [ "$who" = analyst ] && token=$analyst
    run "$who: common word ($common)" "/search?q=$(enc $common)" "$token"
    run "$who: common word, second page" "/search?q=$(enc $common)&cursor=$second" "$token"
    run "$who: common word, type=submission" "/search?q=$(enc 'предложение')&type=submission" "$token"
    run "$who: common word, region TJ-SU, 2020" "/search?q=$(enc $common)&region_code=TJ-SU&from=2020-01-01&to=2020-12-31" "$token"
    run "$who: rare word ($rare)" "/search?q=$rare" "$token"
    run "$who: two words, one rare" "/search?q=$(enc "слушания $rare")" "$token"
    run "$who: no match (кенгуру)" "/search?q=$(enc кенгуру)" "$token"
  done
  echo
}

table
[ "${BENCH_INSERT:-1}" = 1 ] || exit 0
echo "Inserting 100,000 engagements that do not match (no ANALYZE afterwards)…"
start=$(date +%s.%N)
# A hearing is indexed when its `hearings` row is written, so both rows are inserted.
q "WITH e AS (
     INSERT INTO engagements (id, kind, title, summary, status, starts_on, region_code, visibility)
     SELECT md5('nomatch:' || g || ':' || clock_timestamp())::uuid, 'hearing', 'Отчёт о работе ' || g,
            'Без совпадений ' || g, 'held', date '2027-01-01' + (g % 300), 'TJ-DU', 'public'
     FROM generate_series(1, 100000) AS g
     RETURNING id)
   INSERT INTO hearings (id, location) SELECT id, 'Душанбе' FROM e" >/dev/null
echo "(took $(echo "$(date +%s.%N) - $start" | bc) s, search rows kept by the triggers)"
echo
table
