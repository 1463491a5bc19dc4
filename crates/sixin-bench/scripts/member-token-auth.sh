#!/usr/bin/env bash
# GET /v1/unread with a session token vs an app-signed member token, wrk at 64 connections.
set -euo pipefail
BIN=${BIN:-target/release/sixin}
D=$(mktemp -d); PORT=${PORT:-18130}
export SIXIN_LIMITS__ARGON2_MEMORY_KIB=1024 SIXIN_LIMITS__ARGON2_ITERATIONS=1 SIXIN_LOG__FILTER=warn
export SIXIN_DATABASE_URL=sqlite://$D/sixin.db
KEY=$($BIN app create bench --json | python3 -c 'import json,sys;d=json.load(sys.stdin);print(d["app_key"],d["app_secret"])')
read -r APP_KEY APP_SECRET <<<"$KEY"
$BIN app set-member-tokens "$APP_KEY" provision >/dev/null
$BIN member create --app "$APP_KEY" --username alice --password secret-pw >/dev/null
$BIN serve --listen 127.0.0.1:$PORT 2>"$D/log" & PID=$!
trap 'kill $PID 2>/dev/null; rm -rf "$D"' EXIT
for _ in $(seq 1 50); do curl -sf http://127.0.0.1:$PORT/healthz >/dev/null && break; sleep 0.1; done
SESSION=$(curl -sf -XPOST http://127.0.0.1:$PORT/v1/sessions -H 'content-type: application/json' \
  -d "{\"app_key\":\"$APP_KEY\",\"username\":\"alice\",\"password\":\"secret-pw\"}" | python3 -c 'import json,sys;print(json.load(sys.stdin)["token"])')
SIGNED=$(python3 - "$APP_KEY" "$APP_SECRET" <<'PY'
import base64, hashlib, hmac, json, sys, time
b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
key, secret = sys.argv[1], sys.argv[2]
header = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
now = int(time.time())
claims = b64(json.dumps({"iss": key, "sub": "user-42", "iat": now, "exp": now + 3600}).encode())
signature = hmac.new(secret.encode(), f"{header}.{claims}".encode(), hashlib.sha256).digest()
print(f"{header}.{claims}.{b64(signature)}")
PY
)
curl -sf http://127.0.0.1:$PORT/v1/unread -H "authorization: Bearer $SIGNED" >/dev/null
for round in 1 2; do
  for kind in session signed; do
    TOKEN=$SESSION; [ $kind = signed ] && TOKEN=$SIGNED
    printf '%s round %s: ' $kind $round
    wrk -t2 -c64 -d5s -H "Authorization: Bearer $TOKEN" http://127.0.0.1:$PORT/v1/unread | grep -E 'Requests/sec|Non-2xx' | tr '\n' ' '
    echo
  done
done
