# Shared by the bench scripts (sourced, not run): the release server on the generated database, and tokens.
#
#   bench_serve NAME PORT   migrates BENCH_DB, starts target/release/hamkori (log /tmp/hamkori-bench-NAME.log)
#                           with a bench admin on BENCH_PORT (default PORT), waits until it is ready, and stops it
#                           when the script exits (a script with more to clean sets its own trap, calling
#                           bench_stop). Sets pg, db, port, bin, server and base.
#   bench_tokens            signs in the bench admin and a bench analyst (made once): sets admin and analyst.
#   q SQL                   one value from BENCH_DB.
#
# BENCH_PG (default postgres://postgres@127.0.0.1:5432), BENCH_DB (default hamkori_bench_engagements; make it with
# bench/engagements.sh, or hamkori generate --organizations 2000 --agencies 300 --engagements 1000000 --seed 1),
# BENCH_BIN (default target/release/hamkori). Only loopback is used.
pg=${BENCH_PG:-postgres://postgres@127.0.0.1:5432}
db=${BENCH_DB:-hamkori_bench_engagements}
bin=${BENCH_BIN:-target/release/hamkori}
bench_admin_email=bench-admin@example.org
bench_admin_password=bench-admin-password-2026

bench_serve() {
  port=${BENCH_PORT:-$2}
  [ -x "$bin" ] || { echo "build first: cargo build --release"; exit 2; }
  "$bin" migrate --database-url "$pg/$db" >/dev/null 2>&1
  # As the Dockerfile runs it (docs/operations.md, "Memory").
  MIMALLOC_PURGE_DELAY=${MIMALLOC_PURGE_DELAY:-0} \
  DATABASE_URL="$pg/$db" BIND="127.0.0.1:$port" JWT_SECRET=bench-secret-bench-secret-bench-secret RUST_LOG=warn \
    HAMKORI_ADMIN_EMAIL=$bench_admin_email HAMKORI_ADMIN_PASSWORD=$bench_admin_password \
    "$bin" serve >"/tmp/hamkori-bench-$1.log" 2>&1 &
  server=$!
  trap bench_stop EXIT
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.1; done
  base="http://127.0.0.1:$port/api/v1"
}

bench_stop() {
  kill "$server" 2>/dev/null
  wait "$server" 2>/dev/null || true
}

bench_token_of() {
  curl -fs "$base/auth/login" -H 'Content-Type: application/json' -d "{\"email\":\"$1\",\"password\":\"$2\"}" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])'
}

bench_tokens() {
  admin=$(bench_token_of "$bench_admin_email" "$bench_admin_password")
  curl -s "$base/users" -H "Authorization: Bearer $admin" -H 'Content-Type: application/json' \
    -d '{"email":"bench-analyst@example.org","display_name":"Bench analyst","role":"analyst","password":"bench-analyst-password-2026"}' >/dev/null
  analyst=$(bench_token_of bench-analyst@example.org bench-analyst-password-2026)
}

q() { psql "$pg/$db" -Atc "$1"; }
