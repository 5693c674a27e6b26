#!/usr/bin/env bash
# Measures the server's resident memory under a flood of logins: before, at the peak, and 30 s after.
#
#   cargo build --release && bench/login_memory.sh [CONCURRENT] [SETTLE_SECONDS]
#
# Starts the release server on a fresh database, sends CONCURRENT (default 200) simultaneous
# `POST /api/v1/auth/login` with random unknown emails (curl --parallel), and reads VmRSS and VmHWM (the peak)
# from /proc/PID/status. Prints the answers by status too: with two password verifiers, most of a flood gets
# 503 + Retry-After. Only loopback is used; the server stops by itself. BENCH_PG names the Postgres server
# (default postgres://postgres@127.0.0.1:5432), HAMKORI_BIN the binary (default target/release/hamkori, or under
# CARGO_TARGET_DIR).
set -euo pipefail
cd "$(dirname "$0")/.."
concurrent=${1:-200}
settle=${2:-30}
pg=${BENCH_PG:-postgres://postgres@127.0.0.1:5432}
db=hamkori_bench_login
port=18081
bin=${HAMKORI_BIN:-${CARGO_TARGET_DIR:-target}/release/hamkori}
[ -x "$bin" ] || { echo "build first: cargo build --release"; exit 2; }

psql "$pg/postgres" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)"
DATABASE_URL="$pg/$db" BIND="127.0.0.1:$port" JWT_SECRET=bench-secret-bench-secret-bench-secret RUST_LOG=error \
  "$bin" serve >/tmp/hamkori-bench-login.log 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; psql "$pg/postgres" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)"' EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.1; done
rss() { awk -v k="$1:" '$1 == k {print int($2 / 1024)}' "/proc/$server/status"; }

# One warm-up login, so that "before" includes the pool's connections and the first hash's arena.
curl -s -o /dev/null -H 'Content-Type: application/json' \
  -d '{"email":"warm@example.tj","password":"warm-up"}' "http://127.0.0.1:$port/api/v1/auth/login"
sleep 1
before=$(rss VmRSS)
config=$(mktemp)
for i in $(seq "$concurrent"); do
  printf 'next\nurl = "http://127.0.0.1:%s/api/v1/auth/login"\nheader = "Content-Type: application/json"\n' "$port"
  printf 'data = "{\\"email\\":\\"%s@example.tj\\",\\"password\\":\\"guess-%s\\"}"\noutput = "/dev/null"\n' \
    "$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n')" "$i"
  printf 'write-out = "%%{http_code}\\n"\n'
done >"$config"
start=$(date +%s.%N)
statuses=$(curl -s --parallel --parallel-immediate --parallel-max "$concurrent" -K "$config" | sort | uniq -c | awk '{printf "%s×%s ", $1, $2}')
elapsed=$(python3 -c "import time;print(round(time.time()-$start,1))")
rm -f "$config"
peak=$(rss VmHWM)
right_after=$(rss VmRSS)
sleep "$settle"
after=$(rss VmRSS)
echo "$concurrent concurrent logins in ${elapsed}s: $statuses"
echo "RSS MiB: before $before, peak $peak, right after $right_after, ${settle}s after $after"
