#!/usr/bin/env bash
# sipfleet phones with SIPp as an independent peer, through a real Kamailio:
#   1. a SIPp UAC calls sipfleet phones and the phones answer;
#   2. sipfleet phones call a SIPp UAS and every call completes;
#   3. SIPp sends a malformed request straight to a phone, gets 400, and the phone goes on
#      answering calls.
#   test_sipp_interop.sh SIPFLEET_BINARY
set -u
source "$(dirname "$0")/lib.sh"
bin=$1
lib_init
lib_start_kamailio


# sipfleet phones 6800-6804 stay registered (answering calls) on a known port for 25 s.
alloc_port PHONE_PORT
report="$LIB_TMP/phones.json"
# They ring 50 ms before answering, as a phone does: with no delay the 180 and the 200 leave
# together and Kamailio's parallel children may relay the 180 last, which uac_auth.xml takes
# for a call still ringing (it then waits for a 200 that came already, until the run ends).
"$bin" run --api off --proxy "127.0.0.1:$KPORT" --users 6800-6804 --sip-port "$PHONE_PORT" --calls 0 --duration 25s \
  --answer-delay 50ms --report "$report" >"$LIB_TMP/phones.out" 2>&1 &
phones_pid=$!
lib_track_pid "$phones_pid"
# Calls start once every phone is registered (the status line says so), not after a guess: on a
# loaded machine (an ASan build, tests in parallel) registering can take longer than a sleep.
for _ in $(seq 1 150); do
  grep -q "phones 5/5 registered" "$LIB_TMP/phones.out" && break
  sleep 0.1
done
expect "the five phones register" "$(grep -c "phones 5/5 registered" "$LIB_TMP/phones.out" | awk '{print ($1 > 0)}')" 1

# 1. A SIPp UAC (user 7001, digest through Kamailio) calls phone 6800 ten times.
users_csv 7001 7001 > "$LIB_TMP/caller.csv"
sipp_run uac "127.0.0.1:$KPORT" -sf "$SIPP_SCEN/uac_auth.xml" -inf "$LIB_TMP/caller.csv" -s 6800 \
  -m 10 -l 1 -r 5 -d 200 -default_behaviors all,-bye
expect "SIPp UAC -> sipfleet phone: SIPp exits 0" "$?" 0
expect "SIPp UAC -> sipfleet phone: 10 successful calls" "$(sipp_count uac 'Successful call')" 10

# 3. A malformed request straight to phone 6801 gets 400 ...
sipp_run malformed "127.0.0.1:$PHONE_PORT" -sf "$SIPP_SCEN/malformed_request.xml" -s 6801 -m 1
expect "malformed request -> 400 from the phone" "$?" 0
# ... and the phone still answers calls.
sipp_run after "127.0.0.1:$KPORT" -sf "$SIPP_SCEN/uac_auth.xml" -inf "$LIB_TMP/caller.csv" -s 6801 \
  -m 3 -l 1 -r 5 -d 100 -default_behaviors all,-bye
expect "the phone answers calls after the malformed request" "$(sipp_count after 'Successful call')" 3

wait "$phones_pid"
expect "the registered phones' run exits 0" "$?" 0
expect "the phones counted the calls they received" "$(json "$report" 'r["calls"]["received"]')" 13
# The malformed INVITE and SIPp's ACK for the 400 (which repeats the bad CSeq).
expect "the phones counted the malformed messages" "$(json "$report" 'r["sip"]["parse_errors"]')" 2

# 2. A SIPp UAS registered as 7100; sipfleet phones call it.
alloc_port UAS_PORT
uas_register 7100 "$KPORT" "$UAS_PORT" || fail "the SIPp UAS registers"
sipp_bg uas -sf "$SIPP_SCEN/uas.xml" -p "$UAS_PORT" -m 10
uas_pid=$SIPP_BG_PID
report="$LIB_TMP/callers.json"
"$bin" run --api off --proxy "127.0.0.1:$KPORT" --users 6900-6904 --callees 7100 --calls 10 --call-rate 5 \
  --hold 200ms --max-concurrent 2 --quiet --report "$report" >"$LIB_TMP/callers.out" 2>&1
expect "sipfleet phones -> SIPp UAS: the run exits 0" "$?" 0
expect "sipfleet phones -> SIPp UAS: 10 calls answered" "$(json "$report" 'r["calls"]["answered"]')" 10
sipp_wait "$uas_pid"
expect "sipfleet phones -> SIPp UAS: SIPp saw 10 successful calls" "$(sipp_count uas 'Successful call')" 10

kamailio_stop
lib_summary
