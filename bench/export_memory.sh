#!/usr/bin/env bash
# Resident memory of five parallel anonymous NDJSON exports of monitoring visits with large findings.
# Usage: bench/export_memory.sh [postgres-server-url] (default postgres://postgres@127.0.0.1:5432)
# Needs a release build (cargo build --release; CARGO_TARGET_DIR is honoured).
set -euo pipefail
SERVER=${1:-postgres://postgres@127.0.0.1:5432}
DB=hamkori_export_bench
URL="$SERVER/$DB"
BIN=${CARGO_TARGET_DIR:-target}/release/hamkori
PORT=${PORT:-18089}
VISITS=${VISITS:-400}
psql "$SERVER/postgres" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)"
"$BIN" migrate --database-url "$URL" >/dev/null 2>&1
# Visits with two findings of ~300 kB each (Cyrillic, 2 bytes a letter): ~600 kB a visit, ~240 MB in all.
psql "$URL" -q <<SQL
INSERT INTO agencies (id, name, level, kind) VALUES ('00000000-0000-7000-8000-000000000001', 'МВД', 'national', 'ministry');
INSERT INTO facilities (id, name, facility_type, operating_agency_id) VALUES
  ('00000000-0000-7000-8000-000000000002', 'ИВС', 'temporary_detention', '00000000-0000-7000-8000-000000000001');
INSERT INTO engagements (id, kind, title, status, starts_on, visibility)
  SELECT ('00000000-0000-7000-9000-' || lpad(g::text, 12, '0'))::uuid, 'monitoring_visit', 'Визит ' || g, 'completed',
         date '2025-01-01' + g, 'public' FROM generate_series(1, $VISITS) g;
INSERT INTO monitoring_visits (id, facility_id, announced)
  SELECT ('00000000-0000-7000-9000-' || lpad(g::text, 12, '0'))::uuid, '00000000-0000-7000-8000-000000000002', false
  FROM generate_series(1, $VISITS) g;
INSERT INTO visit_findings (visit_id, position, category, severity, description, confidential)
  SELECT ('00000000-0000-7000-9000-' || lpad(g::text, 12, '0'))::uuid, p, 'conditions', 'serious',
         repeat('Нет света в камере ' || g || '. ', 6000), false
  FROM generate_series(1, $VISITS) g, generate_series(0, 1) p;
SQL
DATABASE_URL="$URL" BIND="127.0.0.1:$PORT" JWT_SECRET=bench-secret-of-at-least-32-bytes-long RUST_LOG=warn \
  "$BIN" serve >/tmp/hamkori-bench.log 2>&1 &
PID=$!
trap 'kill $PID' EXIT
until curl -fs "http://127.0.0.1:$PORT/readyz" >/dev/null; do sleep 0.2; done
curl -fs "http://127.0.0.1:$PORT/api/v1/monitoring-visits?limit=1" >/dev/null
rss() { awk '/VmRSS/ {print $2}' /proc/$PID/status; }
hwm() { awk '/VmHWM/ {print $2}' /proc/$PID/status; }
BEFORE=$(rss)
CURLS=()
for i in 1 2 3 4 5; do
  curl -fs -o /tmp/export-$i.ndjson "http://127.0.0.1:$PORT/api/v1/monitoring-visits?format=ndjson" &
  CURLS+=($!)
done
PEAK=$BEFORE
running() { for c in "${CURLS[@]}"; do kill -0 "$c" 2>/dev/null && return 0; done; return 1; }
while running; do
  NOW=$(rss); [ "$NOW" -gt "$PEAK" ] && PEAK=$NOW
  sleep 0.05
done
sleep 1
AFTER=$(rss)
echo "rows per export: $(wc -l < /tmp/export-1.ndjson), bytes per export: $(stat -c %s /tmp/export-1.ndjson)"
echo "RSS before: $((BEFORE / 1024)) MiB, peak (sampled every 50 ms): $((PEAK / 1024)) MiB, after: $((AFTER / 1024)) MiB, VmHWM: $(($(hwm) / 1024)) MiB"
echo "growth at peak: $(((PEAK - BEFORE) / 1024)) MiB"
sleep 30
echo "30 s later: $(($(rss) / 1024)) MiB"
psql "$SERVER/postgres" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" || true
