#!/usr/bin/env bash
# Issue 16's first figure: a 10,000-row roster imported over HTTP (curl, multipart, a fresh
# SQLite database each round, audit rows included) against openpyxl merely reading the same
# file (read-only mode, every cell touched), alternated in one run.
#   pip install openpyxl          # or: apt-get install python3-openpyxl
#   cargo build --release --bin streetplanner
#   benches/import.sh             # ROWS (default 10000), ROUNDS (3), PROFILE (release), PORT
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS=${ROWS:-10000}
ROUNDS=${ROUNDS:-3}
PROFILE=${PROFILE:-release}
BIN=${BIN:-target/$PROFILE/streetplanner}
PORT=${PORT:-28680}
python3 -c 'import openpyxl' 2>/dev/null || { echo "openpyxl is not installed (pip install openpyxl)" >&2; exit 1; }
DIR=$(mktemp -d)
PID=""
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null; rm -rf "$DIR"; }
trap cleanup EXIT
"$BIN" bench import-roster --rows "$ROWS" --write "$DIR/roster.xlsx"
echo "roster: $ROWS rows, $(( $(stat -c %s "$DIR/roster.xlsx") / 1024 )) KiB"
export STREETPLANNER_ADMIN_PASSWORD=bench-password-123 \
  STREETPLANNER_JWT_SECRET=bench-secret-bench-secret-bench-secret-00 RUST_LOG=warn
QUERY='mutation($f: Upload!) { importRoster(file: $f) { rowsRead created updated unchanged errors { code message } } }'
for round in $(seq 1 "$ROUNDS"); do
  # openpyxl, the tool a clerk's IT colleague would script: read every cell, nothing else.
  py=$(python3 - "$DIR/roster.xlsx" <<'PY'
import sys, time
t = time.perf_counter()
import openpyxl
wb = openpyxl.load_workbook(sys.argv[1], read_only=True)
n = sum(1 for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for _ in row)
print(f"{time.perf_counter() - t:.3f}")
PY
)
  # The service on a fresh database: start, sign in, then time the upload alone.
  rm -rf "$DIR/data"
  STREETPLANNER_DATA_DIR=$DIR/data STREETPLANNER_BIND=127.0.0.1:$PORT "$BIN" serve >/dev/null 2>&1 &
  PID=$!
  for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done
  TOKEN=$(curl -sf "http://127.0.0.1:$PORT/graphql" -H 'content-type: application/json' \
    -d '{"query":"mutation { login(input: {username: \"admin\", password: \"bench-password-123\"}) { token } }"}' \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["login"]["token"])')
  ops=$(python3 -c 'import json,sys; print(json.dumps({"query": sys.argv[1], "variables": {"f": None}}))' "$QUERY")
  out=$(curl -s -o "$DIR/reply.json" -w '%{time_total}' "http://127.0.0.1:$PORT/graphql" \
    -H "authorization: Bearer $TOKEN" -F "operations=$ops" -F 'map={"0":["variables.f"]}' \
    -F "0=@$DIR/roster.xlsx;type=application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
  python3 - "$DIR/reply.json" "$ROWS" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
rep = (r.get("data") or {}).get("importRoster")
if not rep or rep["errors"] or rep["created"] != int(sys.argv[2]):
    sys.exit(f"unexpected reply: {json.dumps(r, ensure_ascii=False)[:400]}")
PY
  kill "$PID"; wait "$PID" 2>/dev/null || true; PID=""
  python3 -c 'import sys; a, b = float(sys.argv[1]), float(sys.argv[2]); print(f"round {sys.argv[3]}: import over HTTP {a*1000:.0f} ms, openpyxl read {b*1000:.0f} ms, ratio {a/b:.2f}x")' "$out" "$py" "$round"
done
