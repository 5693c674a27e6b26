#!/usr/bin/env bash
# Benchmarks the engagement endpoints on a generated data set and prints requests/s, p50 and p99.
#
#   cargo build --release && bench/engagements.sh [ENGAGEMENTS] [SECONDS]
#
# Generates ENGAGEMENTS (default 1000000) engagements of every kind with 2,000 organisations and 300 agencies
# (`hamkori generate --seed 1`) into a fresh database, starts the release server, and runs wrk (Debian package
# `wrk`) for: the first page of the busiest agency's engagements, a deep page of it via next_cursor,
# `GET /hearings?limit=50`, and `GET /engagements/{id}`, all anonymous; then, as a reference for the machine,
# pgbench (Postgres' own client) running a primary-key select. Set KEEP_DB=1 to reuse a database generated before.
# Only loopback is used; the server stops by itself.
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
DATABASE_URL="$pg/$db" BIND="127.0.0.1:$port" JWT_SECRET=bench-secret-bench-secret-bench-secret RUST_LOG=warn \
  "$bin" serve >/tmp/hamkori-bench-engagements.log 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null' EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.1; done

base="http://127.0.0.1:$port/api/v1"
agency=$(psql "$pg/$db" -Atc "SELECT agency_id FROM engagement_parties WHERE agency_id IS NOT NULL GROUP BY 1 ORDER BY count(*) DESC LIMIT 1")
id=$(psql "$pg/$db" -Atc "SELECT id FROM engagements WHERE visibility = 'public' AND kind = 'hearing' ORDER BY starts_on DESC, id DESC LIMIT 1 OFFSET 1000")
# Twenty pages deep into the agency's list, following next_cursor.
cursor=""
for _ in $(seq 20); do
  cursor=$(curl -sf "$base/engagements?agency_id=$agency&limit=50${cursor:+&cursor=$cursor}" \
    | python3 -c "import json,sys; print(json.load(sys.stdin)['next_cursor'] or '')")
done

measure() {
  wrk -t2 -c8 -d"${secs}s" --latency "$2" | awk -v name="$1" '
    /Requests\/sec/ {rps=int($2)} / 50%/ {p50=$2} / 99%/ {p99=$2}
    END {printf "%-44s %8s %10s %10s\n", name, rps, p50, p99}'
}
printf '%-44s %8s %10s %10s\n' "endpoint ($rows engagements)" "rps" "p50" "p99"
measure "agency's engagements, first page" "$base/engagements?agency_id=$agency&limit=50"
measure "agency's engagements, page 21 (next_cursor)" "$base/engagements?agency_id=$agency&limit=50&cursor=$cursor"
measure "GET /hearings?limit=50" "$base/hearings?limit=50"
measure "GET /engagements/{id}" "$base/engagements/$id"
echo "server resident memory after load: $(ps -o rss= -p $server | awk '{print int($1/1024)}') MiB"
# A lean reference for judging the machine: Postgres alone answering a primary-key select, with the same client count.
printf 'SELECT id, title FROM engagements WHERE id = %s;\n' "'$id'" >/tmp/hamkori-bench-reference.sql
reference=$(pgbench -n -M prepared -c8 -j2 -T"$secs" -f /tmp/hamkori-bench-reference.sql "$pg/$db" 2>/dev/null \
  | awk '/^tps/ {print int($3)}')
echo "reference: pgbench of a primary-key select (-c8 -j2, ${secs} s): $reference tps"
