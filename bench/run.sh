#!/usr/bin/env bash
# Benchmarks the API against Postgres itself on the same data and prints the ratios.
#
#   cargo build --release && bench/run.sh [ROWS] [SECONDS]
#
# Loads ROWS synthetic organisations (default 200000) with `hamkori generate` into a fresh database, starts the
# release server, and runs wrk (Debian package `wrk`) against a keyset list page and a get-by-id, then pgbench
# with the SQL those endpoints issue. Only loopback is used; everything stops by itself.
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${1:-200000}
secs=${2:-10}
pg=${BENCH_PG:-postgres://postgres@127.0.0.1:5432}
db=hamkori_bench
port=18080
bin=target/release/hamkori
command -v wrk >/dev/null || { echo "install wrk (apt-get install wrk)"; exit 2; }
[ -x "$bin" ] || { echo "build first: cargo build --release"; exit 2; }

psql "$pg/postgres" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)"
"$bin" generate --database-url "$pg/$db" --organizations "$rows" --agencies 500 >/dev/null 2>&1
psql "$pg/$db" -qc "VACUUM ANALYZE"
DATABASE_URL="$pg/$db" BIND="127.0.0.1:$port" JWT_SECRET=bench-secret-bench-secret-bench-secret RUST_LOG=warn \
  "$bin" serve >/tmp/hamkori-bench.log 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null' EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.1; done

id=$(psql "$pg/$db" -Atc "SELECT id FROM organizations ORDER BY name LIMIT 1 OFFSET $((rows / 2))")
name=$(psql "$pg/$db" -Atc "SELECT name FROM organizations WHERE id = '$id'")
cursor=$(python3 -c "import base64,json,sys;print(base64.urlsafe_b64encode(json.dumps({'s':'name','k':sys.argv[1],'i':sys.argv[2]}).encode()).decode().rstrip('='))" "$name" "$id")
cols="id, name, short_name, kind, registration_number, registered_on, region_code, settlement, sphere_codes, website, email, phone, description, status, created_at, updated_at, version"

rps() { wrk -t2 -c8 -d"${secs}s" "$1" | awk '/Requests\/sec/ {print int($2)}'; }
tps() {
  printf '%s\n' "$1" >/tmp/hamkori-bench.sql
  pgbench -n -M prepared -c8 -j2 -T"$secs" -f /tmp/hamkori-bench.sql "$pg/$db" 2>/dev/null | awk '/^tps/ {print int($3)}'
}

list_api=$(rps "http://127.0.0.1:$port/api/v1/organizations?limit=50&cursor=$cursor")
list_pg=$(tps "SELECT $cols FROM organizations WHERE (organizations.name, organizations.id) > ('$name', '$id') ORDER BY organizations.name ASC, organizations.id ASC LIMIT 51;")
get_api=$(rps "http://127.0.0.1:$port/api/v1/organizations/$id")
get_pg=$(tps "SELECT $cols FROM organizations WHERE id = '$id';")
rss=$(ps -o rss= -p $server | awk '{print int($1/1024)}')

printf '%-32s %10s %10s %7s\n' "endpoint ($rows rows)" "API rps" "pg tps" "ratio"
printf '%-32s %10s %10s %7s\n' "keyset page of 50 (mid-list)" "$list_api" "$list_pg" "$(python3 -c "print(round($list_api/$list_pg,2))")"
printf '%-32s %10s %10s %7s\n' "get by id" "$get_api" "$get_pg" "$(python3 -c "print(round($get_api/$get_pg,2))")"
echo "server resident memory after load: ${rss} MiB"
psql "$pg/postgres" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)"
