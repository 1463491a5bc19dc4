# Shared by the bench scripts (source it): a bench app with the limits that a saturating load
# from one IP would hit lifted, and waiting for a server to answer. Uses $BIN and the
# environment's SIXIN_DATABASE_URL.

# Registrations and logins per IP and the sends bucket: every bench request comes from
# 127.0.0.1, and these are not what is measured.
LIFTED_LIMITS='{"registrations_per_ip": {"per": 1000000, "burst": 1000000}, "logins_per_ip": {"per": 1000000, "burst": 1000000}, "sends": {"per": 1000000, "burst": 1000000}}'

# Creates an app named bench with those limits lifted; prints its key.
bench_app() {
  local key
  # `|| return 1`: a command substitution does not inherit `set -e`.
  key=$($BIN app create bench --json | python3 -c 'import json,sys;print(json.load(sys.stdin)["app_key"])') || return 1
  $BIN app set-limits --app "$key" --json "$LIFTED_LIMITS" >/dev/null || return 1
  echo "$key"
}

# Waits until the server on 127.0.0.1:PORT answers /healthz, at most TENTHS tenths of a second.
wait_healthy() { # PORT [TENTHS, default 100]
  for _ in $(seq 1 "${2:-100}"); do
    curl -sf "http://127.0.0.1:$1/healthz" >/dev/null && return 0
    sleep 0.1
  done
  echo "no answer from 127.0.0.1:$1/healthz" >&2
  return 1
}
