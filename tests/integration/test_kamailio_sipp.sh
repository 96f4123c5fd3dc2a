#!/usr/bin/env bash
# Smoke test of deploy/kamailio (the Kamailio every integration test and the demo use),
# with SIPp only:
#   1. 20 users REGISTER with digest (401 then 200)
#   2. an INVITE to an unregistered user gets 404 (after the 407 challenge)
#   3. a SIPp UAS registered as a user receives 10 calls from a SIPp UAC through Kamailio
#   4. a REGISTER with a wrong password gets 403 Forbidden
#   also: OPTIONS to the server gets 200, malformed requests get 400, TCP registration.
# Prints "N passed, M failed"; exit status non-zero on any failure. Leaves no process behind.
# LIB_KEEP_TMP=1 keeps the Kamailio log and SIPp traces.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

for tool in kamailio sipp python3 ss; do
  command -v "$tool" >/dev/null || { echo "missing $tool"; echo "0 passed, 1 failed"; exit 1; }
done

lib_init
alloc_port KPORT || { echo "0 passed, 1 failed"; exit 1; }
K="$LOCAL_IP:$KPORT"

if kamailio_start "$KPORT" --children 2; then
  pass "kamailio starts on $K"
else
  fail "kamailio starts on $K"
  tail -n 20 "$LIB_TMP/kamailio-$KPORT/kamailio.log" 2>/dev/null
  lib_summary; exit 1
fi

# 0. OPTIONS to the server itself
check "OPTIONS to the server -> 200" sipp_run options "$K" -sf "$SIPP_SCEN/options.xml" -m 1

# 1. 20 users register with digest
users_csv 7000 7019 >"$LIB_TMP/users.csv"
t1() {
  sipp_run register "$K" -sf "$SIPP_SCEN/register_auth.xml" -inf "$LIB_TMP/users.csv" -m 20 -r 100 &&
    [[ "$(sipp_count register 'Successful call')" == 20 ]]
}
check "20 users REGISTER with digest (401 -> 200)" t1

# 1b. the same over TCP
users_csv 7100 7104 >"$LIB_TMP/users-tcp.csv"
t1b() {
  sipp_run register-tcp "$K" -t t1 -sf "$SIPP_SCEN/register_auth.xml" -inf "$LIB_TMP/users-tcp.csv" -m 5 -r 50 &&
    [[ "$(sipp_count register-tcp 'Successful call')" == 5 ]]
}
check "5 users REGISTER over TCP" t1b

# 2. INVITE to an unregistered user -> 404 (the call counts as failed in SIPp: exit 1)
users_csv 7000 7000 >"$LIB_TMP/caller.csv"
t2() {
  sipp_run invite-404 "$K" -sf "$SIPP_SCEN/uac_auth.xml" -inf "$LIB_TMP/caller.csv" -s 7999 -m 1 \
    -default_behaviors all,-bye
  local rc=$?
  [[ $rc -eq 1 ]] && [[ "$(sipp_received invite-404 'SIP/2.0 407')" -ge 1 ]] &&
    [[ "$(sipp_received invite-404 'SIP/2.0 404')" -ge 1 ]] &&
    [[ "$(sipp_count invite-404 'Failed call')" == 1 ]]
}
check "INVITE to an unregistered user -> 407, then 404" t2

# 3. UAS registered as 7050 (its own port), 10 calls from a UAC (user 7000) through Kamailio
t3() {
  local uport
  alloc_port uport || return 1
  uas_register 7050 "$KPORT" "$uport" || return 1
  sipp_bg uas -sf "$SIPP_SCEN/uas.xml" -p "$uport" -m 10
  local uas_pid=$SIPP_BG_PID
  wait_for_port "$uport" udp 5 || return 1
  sipp_run uac "$K" -sf "$SIPP_SCEN/uac_auth.xml" -inf "$LIB_TMP/caller.csv" -s 7050 -m 10 -r 10 -d 100 \
    -default_behaviors all,-bye
  local uac_rc=$?
  sipp_wait "$uas_pid"
  local uas_rc=$?
  echo "   uac: rc=$uac_rc successful=$(sipp_count uac 'Successful call') failed=$(sipp_count uac 'Failed call');" \
       "uas: rc=$uas_rc successful=$(sipp_count uas 'Successful call') failed=$(sipp_count uas 'Failed call')"
  [[ $uac_rc -eq 0 && $uas_rc -eq 0 ]] &&
    [[ "$(sipp_count uac 'Successful call')" == 10 && "$(sipp_count uas 'Successful call')" == 10 ]]
}
check "registered SIPp UAS gets 10 calls from SIPp UAC through Kamailio" t3

# 4. wrong password -> 401 then 403 (kamailio.cfg: -2 "invalid password" -> 403)
check "REGISTER with a wrong password -> 403" \
  sipp_run wrong-password "$K" -sf "$SIPP_SCEN/register_wrong_password.xml" -s 7060 -m 1

# 5. malformed requests -> 400
check "INVITE with 'CSeq: abc INVITE' -> 400" \
  sipp_run malformed-cseq "$K" -sf "$SIPP_SCEN/malformed_request.xml" -s 7000 -m 1
check "OPTIONS with Content-Length > body (UDP) -> 400" \
  sipp_run malformed-cl "$K" -sf "$SIPP_SCEN/malformed_content_length.xml" -s 7000 -m 1

# stop: nothing of this instance may be left
t_stop() {
  local dir="$KAMAILIO_DIR" pid
  pid="$(cat "$dir/kamailio.pid" 2>/dev/null)"
  kamailio_stop "$dir" || return 1
  [[ -n "$pid" ]] && ! kill -0 "$pid" 2>/dev/null && ! pgrep -g "$pid" >/dev/null 2>&1
}
check "kamailio stops, no process left" t_stop

lib_summary
