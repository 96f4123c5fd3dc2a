#!/usr/bin/env bash
# `sipfleet run` as a load tester uses it, through a real Kamailio: the JSON report's fields,
# the status line, exit codes for success, a missed threshold and a usage error, a YAML config
# with a flag overriding it, and Ctrl-C (SIGINT) hanging up, unregistering and reporting.
#   test_run_cli.sh SIPFLEET_BINARY
set -u
source "$(dirname "$0")/lib.sh"
bin=$1
lib_init
lib_start_kamailio


# 1. A registration and call run that meets every threshold.
report="$LIB_TMP/run.json"
"$bin" run --api off --proxy "127.0.0.1:$KPORT" --users 6000-6099 --register-rate 500 --calls 50 --call-rate 25 \
  --hold 300ms --max-concurrent 20 --report "$report" >"$LIB_TMP/run.out" 2>"$LIB_TMP/run.err"
expect "a clean run exits 0" "$?" 0
expect "report: phones.total" "$(json "$report" 'r["phones"]["total"]')" 100
expect "report: phones.registered" "$(json "$report" 'r["phones"]["registered"]')" 100
expect "report: registrations.succeeded" "$(json "$report" 'r["registrations"]["succeeded"]')" 100
expect "report: registrations.by_code 200" "$(json "$report" 'r["registrations"]["by_code"]["200"]')" 100
expect "report: calls.attempted" "$(json "$report" 'r["calls"]["attempted"]')" 50
expect "report: calls.answered" "$(json "$report" 'r["calls"]["answered"]')" 50
expect "report: calls.failed" "$(json "$report" 'r["calls"]["failed"]')" 0
expect "report: calls.by_code 200" "$(json "$report" 'r["calls"]["by_code"]["200"]')" 50
expect "report: setup p50 <= p95 <= p99, all > 0" \
  "$(json "$report" '0 < r["calls"]["setup_ms"]["p50"] <= r["calls"]["setup_ms"]["p95"] <= r["calls"]["setup_ms"]["p99"]')" True
expect "report: sip.retransmissions is a count" "$(json "$report" 'type(r["sip"]["retransmissions"]).__name__')" int
expect "report: duration_s > 0" "$(json "$report" 'r["duration_s"] > 0')" True
check "a status line a second on stderr" grep -qE "phones [0-9]+/100 registered" "$LIB_TMP/run.err"
check "the summary table on stdout" grep -q "50 attempted, 50 answered, 0 failed" "$LIB_TMP/run.out"

# 1b. --hold 0: calls are hung up as soon as they are answered (and the run ends).
report="$LIB_TMP/hold0.json"
timeout 60 "$bin" run --api off --proxy "127.0.0.1:$KPORT" --users 6500-6519 --calls 20 --call-rate 20 --hold 0 --quiet \
  --report "$report" >/dev/null 2>&1
expect "--hold 0: the run ends and exits 0" "$?" 0
expect "--hold 0: every call answered" "$(json "$report" 'r["calls"]["answered"]')" 20

# 2. --quiet: no status line.
"$bin" run --api off --proxy "127.0.0.1:$KPORT" --users 6100-6109 --quiet >/dev/null 2>"$LIB_TMP/quiet.err"
expect "--quiet exits 0" "$?" 0
check "--quiet prints no status line" bash -c "! grep -q 'registered |' '$LIB_TMP/quiet.err'"

# 3. A wrong password: registrations fail with the registrar's code, exit 1.
report="$LIB_TMP/badpw.json"
"$bin" run --api off --proxy "127.0.0.1:$KPORT" --users 6200-6204 --password 'nope{user}' --quiet --report "$report" \
  >/dev/null 2>"$LIB_TMP/badpw.err"
expect "failed registrations exit 1" "$?" 1
expect "report: no phone registered" "$(json "$report" 'r["phones"]["registered"]')" 0
expect "report: the registrar's code is counted" "$(json "$report" 'sum(r["registrations"]["by_code"].get(c, 0) for c in ("401", "403")) >= 5')" True

# 4. A YAML config, with a flag winning over the file.
cat >"$LIB_TMP/run.yaml" <<YAML
proxy: 127.0.0.1:$KPORT
users: 6300-6319
calls: 40
call-rate: 40
hold: 100ms
YAML
report="$LIB_TMP/yaml.json"
"$bin" run --api off --config "$LIB_TMP/run.yaml" --calls 10 --quiet --report "$report" >/dev/null 2>&1
expect "a YAML run exits 0" "$?" 0
expect "YAML: users from the file" "$(json "$report" 'r["phones"]["total"]')" 20
expect "YAML: --calls overrides the file" "$(json "$report" 'r["calls"]["attempted"]')" 10

# 5. SIGINT stops placing calls, hangs up, unregisters and still reports.
report="$LIB_TMP/sigint.json"
"$bin" run --api 127.0.0.1:0 --proxy "127.0.0.1:$KPORT" --users 6400-6439 --calls 100000 --call-rate 20 --hold 30s \
  --report "$report" >"$LIB_TMP/sigint.out" 2>&1 &
pid=$!
lib_track_pid "$pid"
sleep 3
# 5a. While it runs, the API shows it (what a script or Grafana would read).
api_port=$(api_port_of "$LIB_TMP/sigint.out" "$pid")
check "run serves the API (--api 127.0.0.1:0)" test -n "$api_port"
api_get() { "$PYTHON" -c "import json,sys,urllib.request; r=json.load(urllib.request.urlopen('http://127.0.0.1:$api_port'+sys.argv[1])); print($2)" "$1"; }
expect "API during the run: /v1/stats counts the calls placed" "$(api_get /v1/stats 'r["calls"]["attempted"] > 0')" True
expect "API during the run: the campaign is 1, placing" "$(api_get /v1/campaigns/1 'r["placing"] and r["started"] > 0')" True
expect "API during the run: 40 phones registered" "$(api_get '/v1/phones?state=registered' 'r["total"]')" 40
kill -INT "$pid"
t0=$SECONDS
wait "$pid"
status=$?
expect "SIGINT: the run ends within 20 s" "$(( SECONDS - t0 <= 20 ))" 1
expect "SIGINT: exit status 0 (thresholds met for what ran)" "$status" 0
expect "SIGINT: report says interrupted" "$(json "$report" 'r["interrupted"]')" True
expect "SIGINT: calls were placed and none failed" "$(json "$report" 'r["calls"]["attempted"] > 0 and r["calls"]["failed"] == 0')" True
check "SIGINT: every phone unregistered (Kamailio holds no contact)" \
  bash -c "! grep -q 'some phones did not unregister' '$LIB_TMP/sigint.out'"

kamailio_stop
lib_summary
