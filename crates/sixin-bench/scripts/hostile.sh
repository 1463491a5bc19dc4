#!/usr/bin/env bash
# Hostile input stays harmless (issue 12): a release `sixin serve` on a fresh SQLite database
# with every default (limits and argon2 included), then `sixin-bench --scenario hostile`:
# 10,000 registrations from one IP, 100,000 messages from one member and 1,000 guesses of one
# password, with /healthz and bystanders' sends measured before and during the floods.
# Extra arguments go to sixin-bench (e.g. --json).
set -euo pipefail
T=${CARGO_TARGET_DIR:-target}/release
D=$(mktemp -d); PORT=${PORT:-18140}
export SIXIN_DATABASE_URL=sqlite://$D/sixin.db SIXIN_LOG__FILTER=warn
KEY=$("$T/sixin" app create bench --json | python3 -c 'import json,sys;print(json.load(sys.stdin)["app_key"])')
"$T/sixin" serve --listen 127.0.0.1:$PORT 2>"$D/log" & PID=$!
trap 'kill $PID 2>/dev/null; rm -rf "$D"' EXIT
for _ in $(seq 1 50); do curl -sf http://127.0.0.1:$PORT/healthz >/dev/null && break; sleep 0.1; done
"$T/sixin-bench" --log warn --url http://127.0.0.1:$PORT --app-key "$KEY" --scenario hostile \
  --pid $PID "$@"
