#!/usr/bin/env bash
# Issue 15 items 3 and 4, one command per scenario: a fresh server and database, then
# sixin-bench --scenario unread (GET /v1/unread and the list, 10,000 conversations against 10)
# or --scenario history (the newest history page, a conversation of HISTORY messages against
# one of 10,000, seeded straight into the database).
#   SCENARIO=unread  crates/sixin-bench/scripts/reads.sh
#   SCENARIO=history HISTORY=10000000 crates/sixin-bench/scripts/reads.sh
#   STORE=postgres PG=postgres://postgres@127.0.0.1:5432 SCENARIO=history crates/sixin-bench/scripts/reads.sh
# BIN and BENCH pick the binaries (default: the debug build); extra arguments go to sixin-bench.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
BIN=${BIN:-target/debug/sixin}
BENCH=${BENCH:-target/debug/sixin-bench}
SCENARIO=${SCENARIO:-unread}
STORE=${STORE:-sqlite}
HISTORY=${HISTORY:-10000000}
PORT=${PORT:-18150}
D=$(mktemp -d)
export SIXIN_LIMITS__ARGON2_MEMORY_KIB=1024 SIXIN_LIMITS__ARGON2_ITERATIONS=1 SIXIN_LOG__FILTER=warn
if [ "$STORE" = postgres ]; then
  PG=${PG:-postgres://postgres@127.0.0.1:5432}
  DBNAME=sixin_reads_$$
  psql "$PG/postgres" -qc "CREATE DATABASE $DBNAME"
  export SIXIN_DATABASE_URL=$PG/$DBNAME
  SEED=(--seed-postgres "$SIXIN_DATABASE_URL")
else
  export SIXIN_DATABASE_URL=sqlite://$D/sixin.db
  SEED=(--seed-sqlite "$D/sixin.db")
fi
KEY=$(bench_app)
$BIN serve --listen 127.0.0.1:$PORT 2>"$D/log" & PID=$!
cleanup() {
  kill $PID 2>/dev/null || true
  wait $PID 2>/dev/null || true
  if [ "$STORE" = postgres ] && [ -z "${KEEP_DB:-}" ]; then psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS $DBNAME" || true; fi
  rm -rf "$D"
}
trap cleanup EXIT
wait_healthy $PORT
ARGS=(--url http://127.0.0.1:$PORT --app-key "$KEY" --scenario "$SCENARIO" --log warn)
if [ "$SCENARIO" = history ]; then ARGS+=(--history-messages "$HISTORY" "${SEED[@]}"); fi
# unread on PostgreSQL: ANALYZE after the setup (what autovacuum would do within a minute).
if [ "$SCENARIO" = unread ] && [ "$STORE" = postgres ]; then ARGS+=("${SEED[@]}"); fi
$BENCH "${ARGS[@]}" "$@"
