#!/usr/bin/env bash
# Issue 15's send rows, one command each: a fresh server and database, the bench app's limits
# lifted, then sixin-bench --scenario send at concurrency 64 (GET /healthz, then the sends, for
# DURATION seconds each; default 10).
#   ROW=yesapi    crates/sixin-bench/scripts/sendpath.sh   # SQLite, YesApi Send, one sender, one conversation
#   ROW=pg-one    crates/sixin-bench/scripts/sendpath.sh   # PostgreSQL, native sends into one conversation
#   ROW=pg-spread crates/sixin-bench/scripts/sendpath.sh   # PostgreSQL, native sends across 64 conversations
#   ROW=sqlite-spread crates/sixin-bench/scripts/sendpath.sh  # SQLite, native, 64 conversations
# BIN and BENCH pick the binaries (default: the release build); PG the PostgreSQL server URL
# (a database is created and dropped), PG_QUERY a query string appended to its URL (e.g.
# '?options=-c%20plan_cache_mode%3Dforce_generic_plan'); extra arguments go to sixin-bench.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
BIN=${BIN:-target/release/sixin}
BENCH=${BENCH:-target/release/sixin-bench}
ROW=${ROW:-yesapi}
PORT=${PORT:-18170}
D=$(mktemp -d)
export SIXIN_LIMITS__ARGON2_MEMORY_KIB=1024 SIXIN_LIMITS__ARGON2_ITERATIONS=1 SIXIN_LOG__FILTER=warn
case "$ROW" in
  yesapi) STORE=sqlite; SEND=(--dialect yesapi --one-conversation) ;;
  sqlite-spread) STORE=sqlite; SEND=() ;;
  pg-one) STORE=postgres; SEND=(--one-conversation) ;;
  pg-spread) STORE=postgres; SEND=() ;;
  *) echo "ROW must be yesapi, sqlite-spread, pg-one or pg-spread" >&2; exit 2 ;;
esac
if [ "$STORE" = postgres ]; then
  PG=${PG:-postgres://postgres@127.0.0.1:5432}
  DBNAME=sixin_send_$$
  psql "$PG/postgres" -qc "CREATE DATABASE $DBNAME"
  export SIXIN_DATABASE_URL=$PG/$DBNAME${PG_QUERY:-}
else
  export SIXIN_DATABASE_URL=sqlite://$D/sixin.db
fi
KEY=$(bench_app)
$BIN serve --listen 127.0.0.1:$PORT 2>"$D/log" & PID=$!
cleanup() {
  kill $PID 2>/dev/null || true
  wait $PID 2>/dev/null || true
  if [ "$STORE" = postgres ]; then psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS $DBNAME" || true; fi
  rm -rf "$D"
}
trap cleanup EXIT
wait_healthy $PORT
$BENCH --url http://127.0.0.1:$PORT --app-key "$KEY" --pid $PID --log warn --concurrency 64 \
  --duration-secs "${DURATION:-10}" "${SEND[@]}" "$@"
