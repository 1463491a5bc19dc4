#!/usr/bin/env bash
# Send throughput with a 10,000-word list against none, in one run (issue 12), release build on
# SQLite: sixin-bench --scenario words at concurrency 64. Then the matcher's build time as the
# server logged it.
set -euo pipefail
BIN=${BIN:-target/release/sixin}
BENCH=${BENCH:-target/release/sixin-bench}
SECS=${SECS:-10}
ROUNDS=${ROUNDS:-2}
D=$(mktemp -d); PORT=${PORT:-18140}
export SIXIN_LIMITS__ARGON2_MEMORY_KIB=1024 SIXIN_LIMITS__ARGON2_ITERATIONS=1
export SIXIN_DATABASE_URL=sqlite://$D/sixin.db SIXIN_LOG__FILTER=sixin_core=info,warn
KEY=$($BIN app create bench --json | python3 -c 'import json,sys;d=json.load(sys.stdin);print(d["app_key"],d["app_secret"])')
read -r APP_KEY APP_SECRET <<<"$KEY"
# The bench's members register, log in and send from one IP as fast as they can: lift the
# app's per-IP and send limits, which are not what is measured here.
$BIN app set-limits --app "$APP_KEY" --json '{"registrations_per_ip": {"per": 1000000, "burst": 1000000}, "logins_per_ip": {"per": 1000000, "burst": 1000000}, "sends": {"per": 1000000, "burst": 1000000}}' >/dev/null
$BIN serve --listen 127.0.0.1:$PORT 2>"$D/log" & PID=$!
trap 'kill $PID 2>/dev/null; rm -rf "$D"' EXIT
for _ in $(seq 1 50); do curl -sf http://127.0.0.1:$PORT/healthz >/dev/null && break; sleep 0.1; done
$BENCH --url http://127.0.0.1:$PORT --app-key "$APP_KEY" --app-secret "$APP_SECRET" \
  --scenario words --words 10000 --concurrency 64 --duration-secs "$SECS" --rounds "${ROUNDS:-2}" \
  --log warn "$@"
grep -o 'word list of app [^"]*duration_ms=[0-9]*\|duration_ms=[0-9]*.*word list of app.*' "$D/log" || grep 'word list' "$D/log" || true
