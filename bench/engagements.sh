#!/usr/bin/env bash
# Benchmarks the engagement endpoints on a generated data set and prints requests/s, p50 and p99.
#
#   cargo build --release && bench/engagements.sh [ENGAGEMENTS] [SECONDS]
#
# Generates ENGAGEMENTS (default 1000000) engagements of every kind with 2,000 organisations and 300 agencies
# (`hamkori generate --seed 1`) into a fresh database, starts the release server, and runs wrk (Debian package
# `wrk`) for: the first page of the busiest agency's engagements, a deep page of it via next_cursor,
# `GET /hearings?limit=50`, `GET /engagements/{id}` and `GET /hearings/{id}`, all anonymous, and `POST /hearings` as
# an admin. Beside each, pgbench (Postgres' own client, the same 8 clients) replays the statements that one such
# request issued, captured from the Postgres log (bench/replay.py; a create's in a transaction that rolls back), so
# the table compares the API with Postgres running exactly its SQL. Then, as a reference for the machine, pgbench of a primary-key select.
# A run at 1,000,000 after one at 10,000 adds the 1M/10k latency ratio; WRITE_DOCS=1 adds the table to
# docs/benchmarks.md. Set KEEP_DB=1 to reuse a database generated before. Needs the Postgres log readable
# (BENCH_PG_LOG, default /var/log/postgresql/postgresql-*-main.log) and superuser rights (ALTER SYSTEM, to log the
# statements of one request). Only loopback is used; the server stops by itself.
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${1:-1000000}
secs=${2:-10}
pg=${BENCH_PG:-postgres://postgres@127.0.0.1:5432}
db=${BENCH_DB:-hamkori_bench_engagements}
port=18081
bin=target/release/hamkori
command -v wrk >/dev/null || { echo "install wrk (apt-get install wrk)"; exit 2; }
[ -x "$bin" ] || { echo "build first: cargo build --release"; exit 2; }

if [ -z "${KEEP_DB:-}" ]; then
  psql "$pg/postgres" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)"
  start=$(date +%s)
  "$bin" generate --database-url "$pg/$db" --organizations 2000 --agencies 300 --engagements "$rows" --seed 1 >/dev/null 2>&1
  echo "generated $rows engagements in $(( $(date +%s) - start )) s"
  psql "$pg/$db" -qc "VACUUM ANALYZE"
else
  "$bin" migrate --database-url "$pg/$db" >/dev/null 2>&1
fi
. bench/lib.sh
bench_serve engagements "$port"
# Statement logging is turned on only around one request; an interrupted run still turns it off.
trap 'psql "$pg/postgres" -qAt -c "ALTER SYSTEM RESET log_min_duration_statement" -c "SELECT pg_reload_conf()" >/dev/null; bench_stop' EXIT
bench_tokens
logfile=${BENCH_PG_LOG:-$(ls /var/log/postgresql/postgresql-*-main.log 2>/dev/null | head -1)}
[ -r "$logfile" ] || { echo "set BENCH_PG_LOG to the Postgres server log"; exit 2; }

agency=$(q "SELECT agency_id FROM engagement_parties WHERE agency_id IS NOT NULL GROUP BY 1 ORDER BY count(*) DESC LIMIT 1")
org=$(q "SELECT organization_id FROM engagement_parties WHERE organization_id IS NOT NULL GROUP BY 1 ORDER BY count(*) DESC LIMIT 1")
id=$(q "SELECT id FROM engagements WHERE visibility = 'public' AND kind = 'hearing' ORDER BY starts_on DESC, id DESC LIMIT 1 OFFSET 1000")
# Twenty pages deep into the agency's list, following next_cursor.
cursor=""
for _ in $(seq 20); do
  cursor=$(curl -sf "$base/engagements?agency_id=$agency&limit=50${cursor:+&cursor=$cursor}" \
    | python3 -c "import json,sys; print(json.load(sys.stdin)['next_cursor'] or '')")
done
body="{\"title\":\"Слушания (нагрузка)\",\"starts_on\":\"2027-03-01\",\"organizer_ids\":[\"$org\"],\"invited_agencies\":[{\"agency_id\":\"$agency\"}]}"
cat >/tmp/hamkori-bench-create.lua <<LUA
wrk.method = "POST"
wrk.body = '$body'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $admin"
LUA

# One request (GET, or POST with the bench body as the admin) after a warm-up, with every statement Postgres runs for
# it logged; bench/replay.py turns them into a pgbench script with their parameters bound. Sets statements.
capture() { # name url [post]
  local req=(curl -sf -o /dev/null "$2")
  [ "${3:-}" = post ] && req=(curl -sf -o /dev/null -X POST -H 'Content-Type: application/json' \
    -H "Authorization: Bearer $admin" -d "$body" "$2")
  "${req[@]}"
  psql "$pg/postgres" -qAt -c "ALTER SYSTEM SET log_min_duration_statement = 0" -c "SELECT pg_reload_conf()" >/dev/null
  sleep 0.3
  local before
  before=$(wc -l <"$logfile")
  "${req[@]}"
  sleep 0.3
  psql "$pg/postgres" -qAt -c "ALTER SYSTEM RESET log_min_duration_statement" -c "SELECT pg_reload_conf()" >/dev/null
  tail -n +"$((before + 1))" "$logfile" >"/tmp/hamkori-bench-$1.log"
  # A create's statements are replayed in a transaction that rolls back, so that the replay keeps no rows.
  statements=$(bench/replay.py "/tmp/hamkori-bench-$1.log" "$db" ${3:+rollback} 2>&1 >"/tmp/hamkori-bench-$1.sql")
}

results=/tmp/hamkori-bench-engagements-$rows.tsv
: >"$results"
# wrk against the server and pgbench (-M prepared, the same clients) replaying the same request's statements.
measure() { # name url [post]
  capture "$1" "$2" "${3:-}"
  local wrk_args=(-t2 -c8 -d"${secs}s" --latency)
  [ "${3:-}" = post ] && wrk_args+=(-s /tmp/hamkori-bench-create.lua)
  local api tps
  api=$(wrk "${wrk_args[@]}" "$2" | awk '/Requests\/sec/ {rps=int($2)} / 50%/ {p50=$2} / 99%/ {p99=$2}
    END {print rps, p50, p99}')
  tps=$(pgbench -n -M prepared -c8 -j2 -T"$secs" -f "/tmp/hamkori-bench-$1.sql" "$pg/$db" 2>/dev/null \
    | awk '/^tps/ {print int($3)}')
  printf '%s\t%s\t%s\t%s\n' "$1" "$statements" "$api" "$tps" >>"$results"
}
measure "agency page" "$base/engagements?agency_id=$agency&limit=50"
measure "agency page 21" "$base/engagements?agency_id=$agency&limit=50&cursor=$cursor"
measure "hearings" "$base/hearings?limit=50"
measure "get" "$base/engagements/$id"
measure "get hearing" "$base/hearings/$id"
measure "create" "$base/hearings" post
# The hearings the create load made (dated after every generated one, so first in the agency's list) would slow the
# next run's list pages on a kept database: they go.
q "DELETE FROM engagements WHERE title = 'Слушания (нагрузка)'" >/dev/null
memory=$(ps -o rss= -p "$server" | awk '{print int($1/1024)}')
# A lean reference for judging the machine: Postgres alone answering a primary-key select, with the same client count.
printf 'SELECT id, title FROM engagements WHERE id = %s;\n' "'$id'" >/tmp/hamkori-bench-reference.sql
reference=$(pgbench -n -M prepared -c8 -j2 -T"$secs" -f /tmp/hamkori-bench-reference.sql "$pg/$db" 2>/dev/null \
  | awk '/^tps/ {print int($3)}')

# The table; with the results of a run at 10,000 engagements beside it, the latency ratio too.
small=/tmp/hamkori-bench-engagements-10000.tsv
table=$(python3 - "$results" "$small" "$rows" <<'PY'
import sys, os
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])]
small = {}
if sys.argv[3] != "10000" and os.path.exists(sys.argv[2]):
    small = {l.split("\t")[0]: l.rstrip("\n").split("\t") for l in open(sys.argv[2])}
names = {"agency page": "`GET /engagements?agency_id=…&limit=50`, the busiest agency, first page",
         "agency page 21": "the same, page 21 via `next_cursor`", "hearings": "`GET /hearings?limit=50`",
         "get": "`GET /engagements/{id}`", "get hearing": "`GET /hearings/{id}`", "create": "`POST /hearings` (admin, with audit; replayed with ROLLBACK)"}
def ms(t):
    return float(t[:-2]) if t.endswith("ms") else float(t[:-2]) / 1000 if t.endswith("us") else float(t[:-1]) * 1000
head = "| request | statements | API rps | pgbench tps (same statements) | API / pgbench | p50 | p99 |"
if small:
    head += " p50 at 10,000 | ratio |"
print(head)
print("|" + "---|" * (head.count("|") - 1))
for name, n, api, tps in rows:
    rps, p50, p99 = api.split()
    line = f"| {names[name]} | {n} | {rps} | {tps} | {int(rps) / max(int(tps), 1):.2f} | {p50} | {p99} |"
    if small:
        other = small.get(name)
        line += f" {other[2].split()[1]} | {ms(p50) / ms(other[2].split()[1]):.2f} |" if other else " | |"
    print(line)
PY
)
summary="$rows engagements, wrk -t2 -c8 and pgbench -M prepared -c8 -j2, $secs s each; server memory after the load: $memory MiB; lean reference (pgbench of a primary-key select): $reference tps"
echo "$summary"
echo
echo "$table"
if [ "${WRITE_DOCS:-}" = 1 ]; then
  # A new section at the top of docs/benchmarks.md, with the command that made it.
  python3 - "$summary" "$table" "bench/engagements.sh $rows $secs" <<'PY'
import sys, datetime
summary, table, command = sys.argv[1:]
path = "docs/benchmarks.md"
text = open(path).read()
at = text.index("\n## ")
section = (f"\n## {datetime.date.today()}: the engagement endpoints, API against Postgres (`{command}`)\n\n"
           f"{summary}.\n\n{table}\n")
open(path, "w").write(text[:at] + section.rstrip("\n") + "\n" + text[at:])
PY
fi
