#!/usr/bin/env bash
# Latency of the statistics, scorecards and overlaps on a generated data set, anonymous and as an analyst,
# unfiltered and filtered by one agency. Prints a Markdown table: the median and the slowest of ROUNDS sequential
# requests each (after one warm-up request), timed by curl; first counted on every request (the server started
# with HAMKORI_STATS_FRESH_SECONDS=0), then given again from the answers kept (the default; docs/statistics.md).
#
#   cargo build --release && bench/stats.sh [ROUNDS]
#
# ONLY=pattern runs only the rows whose name matches the pattern (grep -E), e.g. ONLY='engagements|scorecard'.
#
# Uses the database bench/engagements.sh generates (BENCH_DB, default hamkori_bench_engagements; run that first,
# or generate: hamkori generate --organizations 2000 --agencies 300 --engagements 1000000 --seed 1).
# Only loopback is used; the server stops by itself.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-7}
. bench/lib.sh
HAMKORI_STATS_FRESH_SECONDS=0 bench_serve stats 18082
bench_tokens

agency=$(q "SELECT agency_id FROM engagement_parties WHERE agency_id IS NOT NULL GROUP BY 1 ORDER BY count(*) DESC LIMIT 1")
addressed=$(q "SELECT addressed_to_agency_id FROM recommendations GROUP BY 1 ORDER BY count(*) DESC LIMIT 1")
responsible=$(q "SELECT responsible_agency_id FROM consultations GROUP BY 1 ORDER BY count(*) DESC LIMIT 1")
funder=$(q "SELECT funder_agency_id FROM grants WHERE funder_agency_id IS NOT NULL GROUP BY 1 ORDER BY count(*) DESC LIMIT 1")
facility=$(q "SELECT facility_id FROM monitoring_visits GROUP BY 1 ORDER BY count(*) DESC LIMIT 1")
host=$(q "SELECT host_agency_id FROM councils WHERE host_agency_id IS NOT NULL GROUP BY 1 ORDER BY count(*) DESC LIMIT 1")
organization=$(q "SELECT organization_id FROM engagement_parties WHERE organization_id IS NOT NULL GROUP BY 1 ORDER BY count(*) DESC LIMIT 1")
engagements=$(q "SELECT count(*) FROM engagements")

# time_of NAME PATH TOKEN: "p50 | slowest" of ROUNDS requests after a warm-up, or "failed".
time_of() {
  local header=()
  [ -n "$3" ] && header=(-H "Authorization: Bearer $3")
  curl -sf "${header[@]}" "$base$2" >/dev/null || { echo "failed: $2 |"; return; }
  for _ in $(seq "$rounds"); do
    curl -sf -o /dev/null -w '%{time_total}\n' "${header[@]}" "$base$2"
  done | sort -n | awk '{t[NR]=$1} END {printf "%.1f ms | %.1f ms", t[int((NR+1)/2)]*1000, t[NR]*1000}'
}

rows=()
for who in anonymous analyst; do
  token=""; [ "$who" = analyst ] && token=$analyst
  rows+=("$who: engagements by kind|/stats/engagements?group_by=kind|$token")
  rows+=("$who: engagements of one agency by year|/stats/engagements?agency_id=$agency&group_by=year|$token")
  rows+=("$who: recommendations by agency|/stats/recommendations?group_by=agency|$token")
  rows+=("$who: recommendations to one agency by status|/stats/recommendations?addressed_to_agency_id=$addressed&group_by=status|$token")
  rows+=("$who: consultations by agency|/stats/consultations?group_by=agency|$token")
  rows+=("$who: consultations of one agency by year|/stats/consultations?responsible_agency_id=$responsible&group_by=year|$token")
  rows+=("$who: grants by currency|/stats/grants?group_by=currency|$token")
  rows+=("$who: grants of one funder by year|/stats/grants?funder_agency_id=$funder&group_by=year|$token")
  rows+=("$who: grants by funder and year|/stats/grants?group_by=funder,year|$token")
  rows+=("$who: grants received by one organisation by year|/stats/grants?recipient_organization_id=$organization&group_by=year|$token")
  # The same two questions with a filter every grant meets (amount_min=0), which the grant tallies do not hold:
  # counted from the rows, for comparison.
  rows+=("$who: grants by currency, from the rows|/stats/grants?group_by=currency&amount_min=0|$token")
  rows+=("$who: grants of one funder by year, from the rows|/stats/grants?funder_agency_id=$funder&group_by=year&amount_min=0|$token")
  rows+=("$who: monitoring by facility type|/stats/monitoring?group_by=facility_type|$token")
  rows+=("$who: monitoring of one facility by severity|/stats/monitoring?facility_id=$facility&group_by=severity|$token")
  rows+=("$who: councils by council|/stats/councils?group_by=council|$token")
  rows+=("$who: councils of one host by year|/stats/councils?host_agency_id=$host&group_by=year|$token")
  rows+=("$who: overlaps|/stats/overlaps|$token")
  rows+=("$who: agency scorecard|/agencies/$agency/scorecard|$token")
  rows+=("$who: organisation scorecard|/organizations/$organization/scorecard|$token")
done
selected=()
for row in "${rows[@]}"; do
  [ -n "${ONLY:-}" ] && ! grep -Eq "$ONLY" <<<"${row%%|*}" && continue
  selected+=("$row")
done

declare -A counted
for row in "${selected[@]}"; do
  IFS='|' read -r name path token <<<"$row"
  counted[$name]=$(time_of "$name" "$path" "$token")
done
bench_stop
bench_serve stats 18082
declare -A kept
for row in "${selected[@]}"; do
  IFS='|' read -r name path token <<<"$row"
  kept[$name]=$(time_of "$name" "$path" "$token")
done

echo "$engagements engagements; $rounds sequential requests per row after a warm-up"
echo
echo "| request | counted p50 | counted slowest | kept p50 | kept slowest |"
echo "|---|---|---|---|---|"
for row in "${selected[@]}"; do
  name=${row%%|*}
  echo "| $name | ${counted[$name]} | ${kept[$name]} |"
done
