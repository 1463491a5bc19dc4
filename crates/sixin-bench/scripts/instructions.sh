#!/usr/bin/env bash
# CPU instructions per send, counted by callgrind (they repeat where wall time does not): the
# server runs under `valgrind --tool=callgrind` twice, each time on a fresh database, and
# sixin-bench sends LOW and then HIGH messages at concurrency 1 with no /healthz phase; the two
# runs differ only in HIGH − LOW sends, so (instructions(HIGH) − instructions(LOW)) / (HIGH −
# LOW) is the server's instructions per send (every thread of the sixin process: HTTP, core,
# store, SQLite; not the PostgreSQL server's own processes).
#   crates/sixin-bench/scripts/instructions.sh                       # SQLite, native sends
#   STORE=postgres crates/sixin-bench/scripts/instructions.sh        # PostgreSQL
#   DIALECT=yesapi crates/sixin-bench/scripts/instructions.sh        # YesApi's Send
# BIN and BENCH pick the binaries (default: the release build); LOW and HIGH (default 100, 1100);
# CONCURRENCY the workers (default 1: every send its own SQLite commit; at 64 commits are shared).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
BIN=${BIN:-target/release/sixin}
BENCH=${BENCH:-target/release/sixin-bench}
STORE=${STORE:-sqlite}
DIALECT=${DIALECT:-native}
LOW=${LOW:-100}
HIGH=${HIGH:-1100}
PORT=${PORT:-18180}
# COUNTER=task-clock: CPU time instead (`perf stat -e task-clock`, a software counter that works
# in this VM; wall-clock dependent, so use many sends, e.g. CONCURRENCY=64 LOW=1000 HIGH=41000);
# COUNTER=context-switches: the server's thread switches per send (also a software counter).
COUNTER=${COUNTER:-callgrind}
PG=${PG:-postgres://postgres@127.0.0.1:5432}
export SIXIN_LIMITS__ARGON2_MEMORY_KIB=1024 SIXIN_LIMITS__ARGON2_ITERATIONS=1 SIXIN_LOG__FILTER=warn
D=$(mktemp -d)
if [ -n "${KEEP:-}" ]; then echo "callgrind files in $D" >&2; else trap 'rm -rf "$D"' EXIT; fi

# Instructions the server executed while LOW or HIGH sends were made.
count() {
  local n=$1 db
  if [ "$STORE" = postgres ]; then
    db=sixin_instr_$$_$n
    psql "$PG/postgres" -qc "CREATE DATABASE $db"
    export SIXIN_DATABASE_URL=$PG/$db
  else
    export SIXIN_DATABASE_URL=sqlite://$D/s$n.db
  fi
  local key
  key=$(bench_app)
  if [ "$COUNTER" != callgrind ]; then
    perf stat -e "$COUNTER" -x, -o "$D/cg.$n" $BIN serve --listen 127.0.0.1:$PORT 2>"$D/vg.$n" &
  else
    valgrind --tool=callgrind --callgrind-out-file="$D/cg.$n" \
      $BIN serve --listen 127.0.0.1:$PORT 2>"$D/vg.$n" &
  fi
  local pid=$!
  wait_healthy $PORT 600
  $BENCH --url http://127.0.0.1:$PORT --app-key "$key" --log warn --concurrency "${CONCURRENCY:-1}" --skip-healthz \
    --dialect "$DIALECT" --requests-per-level "$n" --duration-secs 600 >"$D/bench.$n"
  # The server itself gets the TERM (under perf it is perf's child; perf then writes its count).
  if [ "$COUNTER" != callgrind ]; then pkill -TERM -P $pid; else kill -TERM $pid; fi
  wait $pid || true
  if [ "$STORE" = postgres ]; then psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS $db"; fi
  grep -q " $n  *0 " "$D/bench.$n" || { echo "the $n sends did not all succeed:" >&2; cat "$D/bench.$n" >&2; exit 1; }
  if [ "$COUNTER" = task-clock ]; then
    # perf's CSV line: CPU milliseconds of every thread, as microseconds.
    grep task-clock "$D/cg.$n" | awk -F, '{printf "%d\n", $1 * 1000}'
  elif [ "$COUNTER" != callgrind ]; then
    grep "$COUNTER" "$D/cg.$n" | awk -F, '{printf "%d\n", $1}'
  else
    # callgrind's `summary:` line: the instructions (Ir) of every thread.
    grep '^summary:' "$D/cg.$n" | awk '{print $2}'
  fi
}
lo=$(count "$LOW")
hi=$(count "$HIGH")
python3 - "$lo" "$hi" "$LOW" "$HIGH" "$STORE" "$DIALECT" "$COUNTER" <<'PY'
import sys
lo, hi, nlo, nhi = map(int, sys.argv[1:5])
unit = {"task-clock": "µs of CPU", "callgrind": "instructions"}.get(sys.argv[7], sys.argv[7])
print(f"{sys.argv[5]} {sys.argv[6]}: {lo:,} {unit} with {nlo} sends, {hi:,} with {nhi}: "
      f"{(hi - lo) / (nhi - nlo):,.1f} per send")
PY
