#!/usr/bin/env bash
# Issue 11's figure for call records: a 20 s PostgreSQL outage under load, and how many
# call-record writes and call rows are lost.
#
#   scripts/outage_figure.sh [--stop-during-outage] [BIN]
#
# BIN (default target/release/frontdesk) serves gather-mode calls against PostgreSQL reached
# through a TCP relay (socat); `BIN call` keeps 8 calls in progress (4 caller scripts). 5 s in,
# the relay is killed (every connection cut, new ones refused); it comes back 20 s later and
# the load stops 10 s after that. With --stop-during-outage the load stops 10 s into the outage,
# the server gets SIGTERM 2 s later, and it is started again (same spill directory) when the
# database is back.
#
# Prints: calls the server started, calls with no call row, calls with no outcome, call-record
# writes the server logged as lost (each write it gave up on, and the totals it gave up on at
# once), and what it spilled. Needs PostgreSQL on 127.0.0.1:5432 with a database `test`
# (scripts/services.sh) and socat. KEEP=1 keeps the logs and the tables.
set -euo pipefail

STOP=0
if [ "${1:-}" = "--stop-during-outage" ]; then STOP=1; shift; fi
BIN=$(realpath "${1:-target/release/frontdesk}")
ROOT=$(cd "$(dirname "$0")/.." && pwd)
RELAY_PORT=${RELAY_PORT:-15433}
PORT=${PORT:-18282}
WORK=$(mktemp -d)
SCHEMA="fd_outage_$$"
export TWILIO_AUTH_TOKEN=outage-figure-token
PSQL=(psql -qAt -h 127.0.0.1 -U postgres -d test)
export PGOPTIONS="-c client_min_messages=warning"
URL="postgres://postgres@127.0.0.1:$RELAY_PORT/test?options=-c%20search_path%3D$SCHEMA"
SPILL=()
if "$BIN" serve --help | grep -q -- --spill-dir; then SPILL=(--spill-dir "$WORK/spill"); fi

relay_pid=""
server_pid=""
load_pid=""
relay_up() {
  setsid socat "TCP-LISTEN:$RELAY_PORT,bind=127.0.0.1,fork,reuseaddr" TCP:127.0.0.1:5432 &
  relay_pid=$!
  sleep 0.3
}
# Kills the relay's process group: the listener and every forwarded connection.
relay_down() {
  [ -n "$relay_pid" ] && kill -TERM -- "-$relay_pid" 2>/dev/null || true
  wait "$relay_pid" 2>/dev/null || true
  relay_pid=""
}
server_up() {
  (cd "$ROOT" && exec "$BIN" --database "$URL" serve --listen "127.0.0.1:$PORT" \
    --now 2026-06-01T09:12 --drain-seconds 5 "${SPILL[@]}" -v) >>"$WORK/serve.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 100); do
    curl -sf "127.0.0.1:$PORT/health" >/dev/null && return
    sleep 0.1
  done
  echo "the server did not start; see $WORK/serve.log" >&2
  exit 1
}
server_down() {
  kill -TERM "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
}
cleanup() {
  [ -n "$load_pid" ] && kill "$load_pid" 2>/dev/null || true
  [ -n "$server_pid" ] && server_down
  relay_down
  if [ -n "${KEEP:-}" ]; then
    echo "logs kept in $WORK, tables in schema $SCHEMA"
  else
    "${PSQL[@]}" -c "DROP SCHEMA IF EXISTS $SCHEMA CASCADE" || true
    rm -rf "$WORK"
  fi
}
trap cleanup EXIT

"${PSQL[@]}" -c "CREATE SCHEMA $SCHEMA"
relay_up
server_up

T="$ROOT/tests/transcripts"
"$BIN" call --server "http://127.0.0.1:$PORT" --calls 1000000 --concurrency 8 \
  --script "$T/booking_basic.yaml" --script "$T/booking_all_in_one.yaml" \
  --script "$T/faq_fee.yaml" --script "$T/faq_hours_saturday.yaml" >"$WORK/load.log" 2>&1 &
load_pid=$!

sleep 5
echo "database cut"
relay_down
if [ "$STOP" = 1 ]; then
  sleep 10
  kill -TERM "$load_pid" 2>/dev/null || true
  wait "$load_pid" 2>/dev/null || true
  load_pid=""
  sleep 2
  echo "server stopped (SIGTERM) during the outage"
  server_down
  sleep 8
  relay_up
  echo "database back; server started again"
  server_up
else
  sleep 20
  relay_up
  echo "database back"
  sleep 10
  kill -TERM "$load_pid" 2>/dev/null || true
  wait "$load_pid" 2>/dev/null || true
  load_pid=""
fi

# Let the server write what it holds, then stop it (a graceful stop flushes).
for _ in $(seq 600); do
  pending=$(curl -s "127.0.0.1:$PORT/health/detailed" | sed -n 's/.*"records_pending":\([0-9]*\).*/\1/p')
  [ "${pending:-0}" = 0 ] && break
  sleep 0.1
done
sleep 1
server_down

log=$(sed 's/\x1b\[[0-9;]*m//g' "$WORK/serve.log")
started=$(grep "call started" <<<"$log" | grep -o 'call_id=[^ ]*' | sort -u | wc -l)
per_write=$(grep "could not write to the call record\|a record was lost\|a call-record write is lost" <<<"$log" | grep -vc "already recorded" || true)
# A batch whose commit reached the database but whose answer was cut off is retried: its turns
# are refused as already there (not lost), and its events are written twice.
again=$(grep -c "already recorded" <<<"$log" || true)
spilled=$(awk '/in the spill file/ && match($0, /writes=[0-9]+/) { s += substr($0, RSTART + 7, RLENGTH - 7) } END { print s + 0 }' <<<"$log")
totals=$(awk 'match($0, /(lost|dropped)=[0-9]+/) { split(substr($0, RSTART, RLENGTH), kv, "="); s += kv[2] } END { print s + 0 }' <<<"$log")
rows=$("${PSQL[@]}" -c "SELECT count(*) FROM $SCHEMA.calls")
open=$("${PSQL[@]}" -c "SELECT count(*) FROM $SCHEMA.calls WHERE outcome IS NULL")
turns=$("${PSQL[@]}" -c "SELECT count(*) FROM $SCHEMA.call_turns")
events=$("${PSQL[@]}" -c "SELECT count(*) FROM $SCHEMA.call_events")

echo "calls started: $started; call rows: $rows; calls with no call row: $((started - rows))"
echo "call rows with no outcome: $open (the load is stopped mid-call: up to 8 are the calls it left)"
echo "turn rows: $turns; event rows: $events"
echo "call-record writes logged as lost: $((per_write + totals)) ($per_write one by one, $totals in totals)"
echo "spilled when the server stopped: $spilled; turns refused as already written (a commit cut off, retried): $again"
if [ -d "$WORK/spill" ]; then
  echo "left in the spill directory: $(ls "$WORK/spill" | grep -v lock | tr '\n' ' ')"
fi
