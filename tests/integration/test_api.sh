#!/usr/bin/env bash
# The control API end to end: `sipfleet serve` on a free port beside a real Kamailio, driven by
# Python scripts written the way users write them (tests/integration/api_client.py):
#   - test_api_scenario.py: phones, register, call, ring, answer, DTMF, hold, resume, transfer,
#     hang up, events and call records;
#   - test_api_bad_input.py (a second server, with a token): every kind of bad request gets
#     the right 4xx, 100 concurrent clients, and the server goes on serving;
#   - the start-up refusals: a non-loopback address without a token, an address in use.
#   test_api.sh SIPFLEET_BINARY
set -u
source "$(dirname "$0")/lib.sh"
bin=$1
lib_init
lib_start_kamailio

# serve_bg NAME [flags...]: starts `sipfleet serve` on a free API port; sets API_PORT.
serve_bg() {
  local name=$1; shift
  local err="$LIB_TMP/$name.err"
  "$bin" serve --proxy "127.0.0.1:$KPORT" --api 127.0.0.1:0 --rtp-ports 40000-40999 "$@" 2>"$err" &
  lib_track_pid $!
  SERVE_PID=$!
  API_PORT=$(api_port_of "$err" "$SERVE_PID")
}

cd "$(dirname "$0")" || exit 1

# 1. The scenario.
if serve_bg scenario; then
  if "$PYTHON" test_api_scenario.py 127.0.0.1 "$API_PORT" >"$LIB_TMP/scenario.out" 2>&1; then
    pass "REST scenario: phones, call, answer, DTMF, hold, resume, transfer, hang up, events, records"
  else
    fail "REST scenario"; cat "$LIB_TMP/scenario.out"
  fi
  grep -c "^ok" "$LIB_TMP/scenario.out" | sed 's/^/  scenario checks passed: /'
  kill -TERM "$SERVE_PID"; wait "$SERVE_PID"
  check "serve stops cleanly on SIGTERM (exit 0)" test $? -eq 0
else
  fail "serve starts"
fi

# 2. Bad input, with a token from the environment (never printed).
token="t0k-$RANDOM$RANDOM"
if SIPFLEET_API_TOKEN="$token" serve_bg bad --api-events-queue 16 --register-rate 1000 --media off; then
  if "$PYTHON" test_api_bad_input.py 127.0.0.1 "$API_PORT" "$token" >"$LIB_TMP/bad.out" 2>&1; then
    pass "bad input: right 4xx for each, 100 concurrent clients, still serving"
  else
    fail "bad input"; cat "$LIB_TMP/bad.out"
  fi
  check "the token is never printed" bash -c "! grep -q '$token' '$LIB_TMP/bad.err'"
  kill -TERM "$SERVE_PID"; wait "$SERVE_PID" 2>/dev/null
else
  fail "serve with a token starts"
fi

# 3. Start-up refusals.
"$bin" serve --proxy "127.0.0.1:$KPORT" --api 0.0.0.0:0 >/dev/null 2>"$LIB_TMP/open.err"
check "a non-loopback address without a token: exit 2" test $? -eq 2
check "  ... saying why" grep -q "needs a token" "$LIB_TMP/open.err"
alloc_port BUSY
"$PYTHON" -c "import socket,time,sys; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('127.0.0.1', int(sys.argv[1]))); s.listen(); time.sleep(5)" "$BUSY" &
holder=$!
sleep 0.3
"$bin" serve --proxy "127.0.0.1:$KPORT" --api "127.0.0.1:$BUSY" >/dev/null 2>"$LIB_TMP/busy.err"
check "an API address in use: exit 2" test $? -eq 2
check "  ... naming it" grep -q "cannot listen on 127.0.0.1:$BUSY" "$LIB_TMP/busy.err"
"$bin" run --proxy "127.0.0.1:$KPORT" --users 7000-7001 --api "127.0.0.1:$BUSY" >/dev/null 2>"$LIB_TMP/run-busy.err"
check "run with --api in use: exit 2" test $? -eq 2
kill "$holder" 2>/dev/null; wait "$holder" 2>/dev/null
lib_summary
