#!/usr/bin/env bash
# Metrics as operators see them: a real Prometheus (Debian's package, on a free port, its data
# in a temporary directory) scrapes a running `sipfleet run` during a short call load through
# a real Kamailio. Then:
#   - promtool check metrics finds nothing to lint in a real scrape;
#   - every PromQL expression of the Grafana dashboard (deploy/grafana/dashboards/*.json) and
#     every recording rule (deploy/prometheus/rules.yml) is evaluated through Prometheus's HTTP
#     API and must return data: none empty, none an error.
#   test_prometheus.sh SIPFLEET_BINARY
set -u
source "$(dirname "$0")/lib.sh"
bin=$1
lib_init
lib_start_kamailio
alloc_port PPORT

# 1. A load long enough to be scraped and rated: 30 s of calls at 10/s, answered, 1 s each.
"$bin" run --api 127.0.0.1:0 --proxy "127.0.0.1:$KPORT" --users 8000-8039 --register-rate 200 --calls 300 \
  --call-rate 10 --hold 1s --max-concurrent 30 --rtp-ports 44000-44999 --quiet >"$LIB_TMP/run.out" 2>"$LIB_TMP/run.err" &
run_pid=$!
lib_track_pid "$run_pid"
api_port=$(api_port_of "$LIB_TMP/run.err" "$run_pid")
check "sipfleet run serves /metrics" test -n "$api_port"

# 2. promtool on a real scrape.
sleep 3
curl -s "http://127.0.0.1:$api_port/metrics" >"$LIB_TMP/scrape.txt"
check "a scrape has the call metrics" grep -q '^sipfleet_calls_total{direction="outgoing",result="answered"}' "$LIB_TMP/scrape.txt"
check "promtool check metrics: no lint findings" bash -c "promtool check metrics <'$LIB_TMP/scrape.txt' >'$LIB_TMP/lint.txt' 2>&1"
cat "$LIB_TMP/lint.txt"

# 3. Prometheus scrapes it every second, with the project's recording rules.
rules="$REPO_ROOT/deploy/prometheus/rules.yml"
cat >"$LIB_TMP/prometheus.yml" <<YML
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files: ["$rules"]
scrape_configs:
  - job_name: sipfleet
    static_configs:
      - targets: ["127.0.0.1:$api_port"]
YML
[[ -f "$rules" ]] || sed -i '/^rule_files/d' "$LIB_TMP/prometheus.yml"
prometheus --config.file="$LIB_TMP/prometheus.yml" --storage.tsdb.path="$LIB_TMP/tsdb" \
  --web.listen-address="127.0.0.1:$PPORT" >"$LIB_TMP/prometheus.log" 2>&1 &
lib_track_pid $!
wait_for_port "$PPORT" tcp 20 || fail "Prometheus listens"

# 4. After 20 s of load (while the run still goes on), every dashboard expression has data.
sleep 20
"$PYTHON" - "$PPORT" "$REPO_ROOT" >"$LIB_TMP/exprs.out" 2>&1 <<'PY'
import glob, json, re, sys, urllib.parse, urllib.request
port, root = sys.argv[1], sys.argv[2]

def query(expr):
    url = "http://127.0.0.1:%s/api/v1/query?%s" % (port, urllib.parse.urlencode({"query": expr}))
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return json.load(r)
    except urllib.error.HTTPError as e:
        return json.load(e)

exprs = []
for path in sorted(glob.glob(root + "/deploy/grafana/dashboards/*.json")):
    def walk(panels):
        for p in panels:
            for t in p.get("targets", []):
                if t.get("expr"):
                    exprs.append((p.get("title", "?"), t["expr"]))
            walk(p.get("panels", []))
    walk(json.load(open(path)).get("panels", []))
try:
    import yaml
    for g in yaml.safe_load(open(root + "/deploy/prometheus/rules.yml"))["groups"]:
        for r in g["rules"]:
            exprs.append(("rule " + r.get("record", r.get("alert", "?")), r["expr"]))
            if "record" in r:
                exprs.append(("recorded " + r["record"], r["record"]))
except (ImportError, FileNotFoundError):
    pass
failed = 0
for title, expr in exprs:
    # Grafana's own variables, as Grafana would fill them in for a short range.
    e = re.sub(r"\$__rate_interval|\$__interval|\$__range", "1m", expr)
    got = query(e)
    ok = got.get("status") == "success" and len(got["data"]["result"]) > 0
    print(("ok    " if ok else "FAIL  ") + "%s: %s%s" % (title, e, "" if ok else "  -> " + json.dumps(got)[:300]))
    failed += not ok
print("%d expressions, %d without data" % (len(exprs), failed))
sys.exit(1 if failed or not exprs else 0)
PY
status=$?
cat "$LIB_TMP/exprs.out"
check "every dashboard and rule expression returns data through Prometheus" test "$status" -eq 0
up=$(curl -s "http://127.0.0.1:$PPORT/api/v1/query?query=up%7Bjob%3D%22sipfleet%22%7D" | "$PYTHON" -c 'import json,sys; print(json.load(sys.stdin)["data"]["result"][0]["value"][1])')
check "Prometheus scraped sipfleet (up == 1)" test "$up" = 1
wait "$run_pid"
check "the run ends by itself, every call answered (exit 0)" test $? -eq 0
lib_summary
