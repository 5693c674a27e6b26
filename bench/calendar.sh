#!/usr/bin/env bash
# Latency of GET /api/v1/calendar.ics on a generated data set: the default window, a calendar year, one kind, a
# region, the busiest agency and the busiest organisation, anonymous and as an analyst. Prints a Markdown table:
# the events and bytes of each feed, and the median, p95 and slowest of ROUNDS sequential requests (after one
# warm-up request), timed by curl.
#
#   cargo build --release && bench/calendar.sh [ROUNDS]
#
# Uses BENCH_DB (default hamkori_bench_engagements; make it with bench/engagements.sh, or
#   hamkori generate --organizations 2000 --agencies 300 --engagements 1000000 --seed 1).
# Only loopback is used; the server stops by itself.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-20}
. bench/lib.sh
bench_serve calendar 18085
bench_tokens
# The actors with the most engagements (the party timeline holds each actor's engagements once).
agency=$(q "SELECT t.actor_id FROM engagement_timeline t JOIN agencies a ON a.id = t.actor_id GROUP BY 1 ORDER BY count(*) DESC LIMIT 1")
organization=$(q "SELECT t.actor_id FROM engagement_timeline t JOIN organizations o ON o.id = t.actor_id GROUP BY 1 ORDER BY count(*) DESC LIMIT 1")
region=$(q "SELECT region_code FROM engagements WHERE region_code IS NOT NULL AND region_code LIKE '%-%' GROUP BY 1 ORDER BY count(*) DESC LIMIT 1")
year=$(date +%Y)
feed=$(mktemp)
trap 'bench_stop; rm -f "$feed"' EXIT

run() { # name path token
  local header=()
  [ -n "$3" ] && header=(-H "Authorization: Bearer $3")
  curl -sf "${header[@]}" -o "$feed" "$base$2" || { echo "| $1 | failed: $2 | | | | |"; return; }
  local events bytes
  events=$(grep -c '^BEGIN:VEVENT' "$feed" || true)
  bytes=$(wc -c <"$feed")
  for _ in $(seq "$rounds"); do
    curl -sf -o /dev/null -w '%{time_total}\n' "${header[@]}" "$base$2"
  done | sort -n | awk -v n="$1" -v e="$events" -v b="$bytes" '{t[NR]=$1} END {p=int(NR*0.95+0.999); if (p>NR) p=NR;
    printf "| %s | %d | %d kB | %.1f ms | %.1f ms | %.1f ms |\n", n, e, b/1000, t[int((NR+1)/2)]*1000, t[p]*1000, t[NR]*1000}'
}

echo "$(q "SELECT count(*) FROM engagements") engagements; $rounds sequential requests per row after a warm-up"
echo
echo "| request | events | size | p50 | p95 | slowest |"
echo "|---|---|---|---|---|---|"
for who in anonymous analyst; do
  token=""; [ "$who" = analyst ] && token=$analyst
  run "$who: default window" "/calendar.ics" "$token"
  run "$who: the year $year" "/calendar.ics?from=$year-01-01&to=$year-12-31" "$token"
  run "$who: consultations, two years" "/calendar.ics?kind=consultation&from=$year-01-01&to=$((year + 1))-12-31" "$token"
  run "$who: region $region" "/calendar.ics?region_code=$region" "$token"
  run "$who: the busiest agency" "/calendar.ics?agency_id=$agency" "$token"
  run "$who: the busiest organisation" "/calendar.ics?organization_id=$organization" "$token"
done
