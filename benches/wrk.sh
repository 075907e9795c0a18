#!/usr/bin/env bash
# The issue-16 figures with a standard load generator (wrk), each pair in one run, alternated.
#   apt-get install -y wrk        # wrk 4.1 (Debian); or: cargo install oha
#   cargo build --release --bin streetplanner --example stock_hello
#   benches/wrk.sh 3      # streets in the generated data set (3 = Binjiang, 200 = Hangzhou)
# Env: SECONDS_EACH (default 5), CONNECTIONS (16), ROUNDS (2), DATABASE_URL (else SQLite).
set -euo pipefail
cd "$(dirname "$0")/.."
STREETS=${1:-3}
SECS=${SECONDS_EACH:-5}
CONN=${CONNECTIONS:-16}
ROUNDS=${ROUNDS:-2}
PROFILE=${PROFILE:-release}
BIN=${BIN:-target/$PROFILE/streetplanner}
STOCK=${STOCK:-target/$PROFILE/examples/stock_hello}
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 1; }
DIR=$(mktemp -d)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$DIR"; }
trap cleanup EXIT
export STREETPLANNER_DATA_DIR=$DIR STREETPLANNER_ADMIN_PASSWORD=bench-password-123 \
  STREETPLANNER_JWT_SECRET=bench-secret-bench-secret-bench-secret-00 RUST_LOG=warn
for p in ${PORT:-28580} ${STOCK_PORT:-28590}; do
  ! (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null || { echo "port $p is taken (set PORT / STOCK_PORT)" >&2; exit 1; }
done
TOKEN=$("$BIN" bench generate --streets "$STREETS" 2>/dev/null | tail -1)
STREETPLANNER_BIND=127.0.0.1:${PORT:-28580} "$BIN" serve >/dev/null 2>&1 & PIDS+=($!)
"$STOCK" 127.0.0.1:${STOCK_PORT:-28590} 2>/dev/null & PIDS+=($!)
for _ in $(seq 1 100); do curl -sf http://127.0.0.1:${PORT:-28580}/healthz >/dev/null && break; sleep 0.1; done
YEAR=$(date -u +%Y)
DASH=$(python3 -c 'import json,sys; print(json.dumps({"query": open("fixtures/dashboards/district.graphql").read(), "variables": {"from": sys.argv[1] + "-01-01", "to": sys.argv[1] + "-12-31"}}))' "$YEAR")
# Every endpoint answers 200 without errors before it is measured.
check() {
  local out
  out=$(curl -s "$1" -H 'content-type: application/json' ${3:+-H "authorization: Bearer $3"} -d "$2")
  case "$out" in *'"errors"'*|'') echo "bad answer from $1: ${out:0:300}" >&2; exit 1;; esac
}
check http://127.0.0.1:${STOCK_PORT:-28590}/graphql '{"query":"{ hello }"}'
check http://127.0.0.1:${PORT:-28580}/graphql '{"query":"{ __typename }"}'
check http://127.0.0.1:${PORT:-28580}/graphql "$DASH" "$TOKEN"
# One request alone (no concurrency): the dashboard's latency, 200 times.
alone() {
  python3 - "$DASH" "$TOKEN" "${PORT:-28580}" <<'PY'
import json, sys, time, http.client
body, token = sys.argv[1].encode(), sys.argv[2]
c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[3]))
ts = []
for i in range(201):
    t = time.perf_counter()
    c.request("POST", "/graphql", body, {"content-type": "application/json", "authorization": "Bearer " + token})
    r = c.getresponse(); r.read()
    if i: ts.append((time.perf_counter() - t) * 1000)
ts.sort()
print(f"dashboard alone: p50 {ts[len(ts)//2]:.2f} ms, p99 {ts[int(len(ts)*0.99)]:.2f} ms")
PY
}
run() { # name url body [token]
  printf '%-22s ' "$1"
  BODY=$3 TOKEN=${4:-} wrk -t1 -c"$CONN" -d"${SECS}s" -s fixtures/bench/post.lua "$2" | tail -1
}
echo "streets: $STREETS, wrk -t1 -c$CONN -d${SECS}s, $ROUNDS rounds"
for r in $(seq 1 "$ROUNDS"); do
  echo "-- round $r"
  run "stock { hello }" http://127.0.0.1:${STOCK_PORT:-28590}/graphql '{"query":"{ hello }"}'
  run "anonymous __typename" http://127.0.0.1:${PORT:-28580}/graphql '{"query":"{ __typename }"}'
  run "signed-in __typename" http://127.0.0.1:${PORT:-28580}/graphql '{"query":"{ __typename }"}' "$TOKEN"
  run "district dashboard" http://127.0.0.1:${PORT:-28580}/graphql "$DASH" "$TOKEN"
done
alone
