#!/usr/bin/env bash
# Database bytes per message as the database grows, pruning on (issue 13): a fresh SQLite
# database filled with FIRST texts, and another filled with SENDS texts, each by 64 workers
# sending to their own partner (128 members), release build, default settings (events.max_replay
# 10,000 per member; pruning every minute). After the big fill the script waits for one more
# pruning pass. Bytes are the pages in use (page_count - freelist_count) * page_size, all
# tables and indexes, read with Python's sqlite3 after a WAL checkpoint; the file size is shown
# too (SQLite reuses freed pages but does not shrink the file without VACUUM).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
BIN=${BIN:-target/release/sixin}
BENCH=${BENCH:-target/release/sixin-bench}
FIRST=${FIRST:-10000}
SENDS=${SENDS:-1000000}
PORT=${PORT:-18150}
export SIXIN_LIMITS__ARGON2_MEMORY_KIB=1024 SIXIN_LIMITS__ARGON2_ITERATIONS=1
export SIXIN_LOG__FILTER=warn

measure() { # db, sends
  python3 - "$1" "$2" <<'PY'
import sqlite3, sys, os
db, sends = sys.argv[1], int(sys.argv[2])
c = sqlite3.connect(db)
c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
q = lambda s: c.execute(s).fetchone()[0]
pages, free, size = q("PRAGMA page_count"), q("PRAGMA freelist_count"), q("PRAGMA page_size")
used = (pages - free) * size
msgs = q("SELECT count(*) FROM messages")
events = q("SELECT count(*) FROM events")
print(f"sends={sends} messages={msgs} events={events} used_bytes={used} "
      f"file_bytes={os.path.getsize(db)} bytes_per_message={used / msgs:.1f}")
PY
}

run() { # sends, wait-for-prune
  local D; D=$(mktemp -d)
  export SIXIN_DATABASE_URL=sqlite://$D/sixin.db
  local KEY; KEY=$(bench_app)
  $BIN serve --listen 127.0.0.1:$PORT 2>"$D/log" & local PID=$!
  wait_healthy $PORT
  $BENCH --url http://127.0.0.1:$PORT --app-key "$KEY" --scenario fill --messages "$1" --text-bytes "${TEXT_BYTES:-0}" \
    --concurrency 64 --duration-secs 600 --log warn
  if [ "$2" = yes ]; then sleep 65; fi
  kill $PID; wait $PID || true
  measure "$D/sixin.db" "$1"
  rm -rf "$D"
}

run "$FIRST" no
run "$SENDS" yes
