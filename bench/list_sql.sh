#!/usr/bin/env bash
# How long each list page's SQL takes in Postgres, for every filter and every kind of caller: the issue's "every list
# page's SQL ≤ 2 ms at 1M" target, checked the way it is stated (EXPLAIN ANALYZE, warm).
#
#   bench/list_sql.sh            on BENCH_DB (default hamkori_bench_engagements; make it with bench/engagements.sh)
#
# For each list × caller it asks the release server for the first page and for the fifth (following next_cursor),
# with the statements Postgres runs logged for that one request; bench/replay.py binds their parameters, and each
# statement is run under EXPLAIN (ANALYZE), a warm-up and then the fastest of three, with the settings the server's sessions use
# (`db::SESSION_SETUP`). It prints one line per request: the slowest statement's execution time, the sum over the
# request's statements, how many there were and which plan node the slowest one starts with. Lines over 2 ms are
# marked. Needs the Postgres log readable (BENCH_PG_LOG) and a release build.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
bench_serve list-sql "${BENCH_PORT:-18082}"
trap 'psql "$pg/postgres" -qAt -c "ALTER SYSTEM RESET log_min_duration_statement" -c "SELECT pg_reload_conf()" >/dev/null; bench_stop' EXIT
bench_tokens
logfile=${BENCH_PG_LOG:-$(ls /var/log/postgresql/postgresql-*-main.log 2>/dev/null | head -1 || true)}
[ -r "$logfile" ] || { echo "set BENCH_PG_LOG to the Postgres server log"; exit 2; }
# As `db::SESSION_SETUP` sets them for the server's connections.
export PGOPTIONS=${BENCH_PGOPTIONS:-"-c jit=off -c random_page_cost=1.1 -c enable_memoize=off"}

agency=$(q "SELECT agency_id FROM engagement_parties WHERE agency_id IS NOT NULL GROUP BY 1 ORDER BY count(*) DESC LIMIT 1")
org=$(q "SELECT organization_id FROM engagement_parties WHERE organization_id IS NOT NULL GROUP BY 1 ORDER BY count(*) DESC LIMIT 1")
council=$(q "SELECT council_id FROM engagements WHERE council_id IS NOT NULL GROUP BY 1 ORDER BY count(*) DESC LIMIT 1")
region=$(q "SELECT region_code FROM engagements WHERE region_code IS NOT NULL GROUP BY 1 ORDER BY count(*) DESC LIMIT 1")
sphere=$(q "SELECT s FROM (SELECT unnest(sphere_codes) s FROM engagements LIMIT 100000) x GROUP BY 1 ORDER BY count(*) DESC LIMIT 1")

# One user of each scoped role, tied to the busiest organisation, agency and council (made once).
user_token() { # email role extra-json
  curl -s "$base/users" -H "Authorization: Bearer $admin" -H 'Content-Type: application/json' \
    -d "{\"email\":\"$1\",\"display_name\":\"Bench $2\",\"role\":\"$2\",\"password\":\"bench-password-2026\"$3}" >/dev/null
  bench_token_of "$1" bench-password-2026
}
member=$(user_token bench-member@example.org ngo_member ",\"organization_id\":\"$org\"")
officer=$(user_token bench-officer@example.org agency_officer ",\"agency_id\":\"$agency\"")
secretary=$(user_token bench-secretary@example.org secretary ",\"council_ids\":[\"$council\"]")

lists=(
  "/engagements"
  "/engagements?agency_id=$agency"
  "/engagements?organization_id=$org"
  "/engagements?council_id=$council"
  "/engagements?kind=hearing"
  "/engagements?kind=monitoring_visit"
  "/engagements?region_code=$region"
  "/engagements?status=held"
  "/engagements?status=closed"
  "/engagements?from=2020-01-01&to=2020-12-31"
  "/engagements?sphere_code=$sphere"
  "/engagements?visibility=internal"
  "/hearings"
  "/meetings"
  "/consultations"
  "/monitoring-visits"
  "/grants"
  "/recommendations"
  "/submissions"
)
callers=(anonymous analyst member officer secretary)

# Runs one request with statement logging on, replays its statements under EXPLAIN and prints its line.
explain_request() { # label url token
  local auth=()
  [ -n "$3" ] && auth=(-H "Authorization: Bearer $3")
  curl -sf -o /dev/null "${auth[@]}" "$2" || { echo "$1 ${2#"$base"}: the request failed"; return; }
  psql "$pg/postgres" -qAt -c "ALTER SYSTEM SET log_min_duration_statement = 0" -c "SELECT pg_reload_conf()" >/dev/null
  sleep 0.3
  local before
  before=$(wc -l <"$logfile")
  curl -sf -o /dev/null "${auth[@]}" "$2"
  sleep 0.3
  psql "$pg/postgres" -qAt -c "ALTER SYSTEM RESET log_min_duration_statement" -c "SELECT pg_reload_conf()" >/dev/null
  tail -n +"$((before + 1))" "$logfile" >/tmp/hamkori-list-sql.log
  bench/replay.py /tmp/hamkori-list-sql.log "$db" >/tmp/hamkori-list-sql.sql 2>/dev/null
  local worst=0 sum=0 n=0 node="" line ms plan
  while IFS= read -r line; do
    case "$line" in SELECT* | WITH*) ;; *) continue ;; esac
    # A warm-up, then the fastest of three runs: the machine's other work only ever adds time.
    psql "$pg/$db" -qAt -c "EXPLAIN (ANALYZE) $line" >/dev/null
    ms=""
    for _ in 1 2 3; do
      local run
      run=$(psql "$pg/$db" -qAt -c "EXPLAIN (ANALYZE) $line")
      local t
      t=$(awk '/Execution Time/ {print $3}' <<<"$run")
      if [ -z "$ms" ] || awk -v a="$t" -v b="$ms" 'BEGIN {exit !(a < b)}'; then ms=$t plan=$run; fi
    done
    n=$((n + 1))
    sum=$(awk -v a="$sum" -v b="$ms" 'BEGIN {print a + b}')
    if awk -v a="$ms" -v b="$worst" 'BEGIN {exit !(a > b)}'; then
      worst=$ms
      node=$(grep -m1 -oE '(Index Only Scan|Index Scan|Bitmap Heap Scan|Seq Scan|Parallel Seq Scan) [^(]*' <<<"$plan" || true)
    fi
  done </tmp/hamkori-list-sql.sql
  local mark=""
  awk -v a="$worst" 'BEGIN {exit !(a > 2)}' && mark="  OVER 2 ms"
  local shown=${2#"$base"}
  printf '%-12s %-62s worst %6.3f ms  sum %6.3f ms  %d stmts  %s%s\n' "$1" "${shown%&cursor=*}" "$worst" "$sum" "$n" \
    "$node" "$mark"
}

for list in "${lists[@]}"; do
  for caller in "${callers[@]}"; do
    token=""
    [ "$caller" != anonymous ] && token=${!caller}
    url="$base$list"
    sep='?'
    case "$url" in *\?*) sep='&' ;; esac
    explain_request "$caller" "$url${sep}limit=50" "$token"
    # The fifth page, by the cursors the server hands out.
    cursor=""
    for _ in 1 2 3 4; do
      cursor=$(curl -sf ${token:+-H "Authorization: Bearer $token"} "$url${sep}limit=50${cursor:+&cursor=$cursor}" \
        | python3 -c "import json,sys; print(json.load(sys.stdin).get('next_cursor') or '')" || true)
      [ -n "$cursor" ] || break
    done
    if [ -n "$cursor" ]; then explain_request "$caller p5" "$url${sep}limit=50&cursor=$cursor" "$token"; fi
  done
done
