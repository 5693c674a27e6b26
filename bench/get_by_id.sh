#!/usr/bin/env bash
# Throughput of an authenticated get by id (GET /api/v1/engagements/{id} with a bearer token), the request that
# pays the per-request session check most visibly. Compare two builds by giving their binaries:
#   bench/get_by_id.sh [binary] [postgres-server-url]   (defaults: target/release/hamkori, 127.0.0.1:5432)
# Needs wrk (Debian package) and a release build. Runs ROUNDS rounds of SECONDS seconds, wrk -t2 -c8.
set -euo pipefail
BIN=${1:-${CARGO_TARGET_DIR:-target}/release/hamkori}
SERVER=${2:-postgres://postgres@127.0.0.1:5432}
DB=hamkori_get_bench
URL="$SERVER/$DB"
PORT=${PORT:-18090}
ROUNDS=${ROUNDS:-3}
SECONDS_EACH=${SECONDS_EACH:-10}
psql "$SERVER/postgres" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)"
DATABASE_URL="$URL" BIND="127.0.0.1:$PORT" JWT_SECRET=bench-secret-of-at-least-32-bytes-long RUST_LOG=warn \
  HAMKORI_DEMO=true "$BIN" serve >/tmp/hamkori-get-bench.log 2>&1 &
PID=$!
trap 'kill $PID; sleep 1; psql "$SERVER/postgres" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" || true' EXIT
until curl -fs "http://127.0.0.1:$PORT/readyz" >/dev/null; do sleep 0.2; done
TOKEN=$(curl -fs "http://127.0.0.1:$PORT/api/v1/auth/login" -H 'Content-Type: application/json' \
  -d '{"email":"admin@demo.hamkori.tj","password":"hamkori-demo-2026"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
ID=$(curl -fs "http://127.0.0.1:$PORT/api/v1/engagements?limit=1" -H "Authorization: Bearer $TOKEN" \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["items"][0]["id"])')
for round in $(seq "$ROUNDS"); do
  wrk -t2 -c8 -d"${SECONDS_EACH}s" --latency -H "Authorization: Bearer $TOKEN" \
    "http://127.0.0.1:$PORT/api/v1/engagements/$ID" | awk -v r="$round" '
      /Requests\/sec/ {rps=$2} /^ +50%/ {p50=$2} /^ +99%/ {p99=$2}
      END {printf "round %s: %s req/s, p50 %s, p99 %s\n", r, rps, p50, p99}'
done
