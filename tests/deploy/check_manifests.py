"""Static checks of deploy/: the Grafana dashboard, the Prometheus rules, the Kubernetes manifests,
the compose file and the Dockerfiles. Run by tests/deploy/check_deploy.sh, which also runs promtool.

    check_manifests.py REPO_ROOT OPTIONS_FILE EXPR_RULES_OUT

OPTIONS_FILE holds the long option names `sipfleet run` accepts, one a line. EXPR_RULES_OUT is
written: every PromQL expression of the dashboard as a recording rule, for `promtool check rules`
to parse. Prints one line per check ("ok - ..." or "FAIL - ..."); exits 1 when one failed.
"""
import ipaddress
import json
import os
import re
import sys

import yaml

ROOT, OPTIONS_FILE, EXPR_RULES_OUT = sys.argv[1:4]
DEPLOY = os.path.join(ROOT, "deploy")
failures = 0


def check(ok, what, detail=""):
    global failures
    if ok:
        print(f"ok - {what}")
    else:
        failures += 1
        print(f"FAIL - {what}" + (f": {detail}" if detail else ""))
    return ok


def load_yaml_docs(path):
    with open(path) as f:
        return [d for d in yaml.safe_load_all(f) if d is not None]


# -- the metrics sipfleet exports (issue 6's list, plus sipfleet_calls_attempted_total and
# sipfleet_rtp_packets_expected_total, which app/metrics.cpp also exports: attempts counted when
# the INVITE starts, and loss's denominator): name -> {label: allowed values, or None for any}
METRICS = {
    "sipfleet_calls_attempted_total": {},
    "sipfleet_rtp_packets_expected_total": {},
    "sipfleet_phones": {"state": {"registered", "unregistered", "failed"}},
    "sipfleet_registrations_total": {"result": {"success", "failure"}},
    "sipfleet_calls_total": {"direction": {"outgoing", "incoming"},
                             "result": {"answered", "failed", "cancelled"}},
    "sipfleet_calls_active": {},
    "sipfleet_sip_requests_total": {"method": None, "direction": {"in", "out"}},
    "sipfleet_sip_responses_total": {"code": None, "method": None, "direction": {"in", "out"}},
    "sipfleet_sip_retransmissions_total": {},
    "sipfleet_sip_parse_errors_total": {},
    "sipfleet_rtp_packets_sent_total": {},
    "sipfleet_rtp_packets_received_total": {},
    "sipfleet_rtp_packets_lost_total": {},
    "sipfleet_rtp_streams_active": {},
}
HISTOGRAMS = ["sipfleet_call_setup_seconds", "sipfleet_call_duration_seconds",
              "sipfleet_rtp_jitter_seconds", "sipfleet_call_mos"]
for h in HISTOGRAMS:
    METRICS[h + "_bucket"] = {"le": None}
    METRICS[h + "_sum"] = {}
    METRICS[h + "_count"] = {}
TARGET_LABELS = {"job": None, "instance": None}

# Each of them is a name the C++ side really exports: quoted in its sources.
sources = ""
for d in ("app", "actors", "control_api"):
    for dirpath, _, files in os.walk(os.path.join(ROOT, d)):
        for f in files:
            if f.endswith((".cpp", ".hpp")):
                sources += open(os.path.join(dirpath, f), errors="replace").read()
bases = sorted({re.sub(r'_(bucket|sum|count)$', '', m) if re.sub(r'_(bucket|sum|count)$', '', m) in HISTOGRAMS else m
                for m in METRICS})
not_exported = [m for m in bases if f'"{m}"' not in sources]
check(not not_exported, f"the {len(bases)} metric names the dashboard and rules may use are in the C++ sources",
      f"not found: {not_exported}")

PROMQL_WORDS = {
    # aggregations, keywords, operators spelled as words
    "sum", "min", "max", "avg", "count", "stddev", "stdvar", "topk", "bottomk", "quantile",
    "count_values", "group", "by", "without", "on", "ignoring", "group_left", "group_right",
    "bool", "and", "or", "unless", "offset", "atan2",
    # functions used in dashboards and rules
    "rate", "irate", "increase", "delta", "idelta", "deriv", "histogram_quantile", "vector",
    "scalar", "abs", "ceil", "floor", "round", "clamp", "clamp_min", "clamp_max", "absent",
    "label_replace", "label_join", "time", "timestamp", "sum_over_time", "avg_over_time",
    "max_over_time", "min_over_time", "count_over_time", "last_over_time", "resets", "changes",
    "sort", "sort_desc", "sqrt", "exp", "ln", "log2", "log10", "predict_linear",
    "inf", "nan",
}


def check_promql(expr, where, recorded=frozenset()):
    """Every metric an expression names is one sipfleet exports (or a recording rule of
    rules.yml), with known label names and values. Returns the metric names used."""
    problems, used = [], set()
    # label matchers: metric{label op "value", ...}
    for metric, matchers in re.findall(r'([a-zA-Z_:][\w:]*)\s*\{([^}]*)\}', expr):
        labels = METRICS.get(metric)
        if labels is None:
            continue  # reported below as an unknown name (or a recorded series)
        for name, op, value in re.findall(r'(\w+)\s*(=~|!~|!=|=)\s*"([^"]*)"', matchers):
            allowed = {**labels, **TARGET_LABELS}
            if name not in allowed:
                problems.append(f"{metric} has no label '{name}'")
            elif op == "=" and allowed[name] is not None and value not in allowed[name]:
                problems.append(f"{metric}{{{name}=\"{value}\"}}: '{value}' is not one of {sorted(allowed[name])}")
    # by (...) over one metric: the grouping labels must be the metric's
    for grouping, metric in re.findall(
            r'\bby\s*\(([^)]*)\)\s*\(\s*(?:(?:rate|irate|increase|delta)\s*\(\s*)?([a-zA-Z_:][\w:]*)', expr):
        labels = METRICS.get(metric)
        if labels is None:
            continue
        for name in re.findall(r'\w+', grouping):
            if name not in labels and name not in TARGET_LABELS:
                problems.append(f"sum by ({name}) over {metric}, which has no label '{name}'")
    # every remaining identifier: a PromQL word or a known series
    bare = re.sub(r'"[^"]*"', '""', expr)
    bare = re.sub(r'\{[^}]*\}', '', bare)
    bare = re.sub(r'\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)', r'\1', bare)
    bare = re.sub(r'\[[^\]]*\]', '', bare)
    for tok in re.findall(r'(?<![\w.])([a-zA-Z_:][\w:]*)', bare):
        if tok in PROMQL_WORDS:
            continue
        if tok in METRICS or tok in recorded:
            used.add(tok)
        else:
            problems.append(f"unknown series or word '{tok}'")
    if "$" in expr:
        problems.append("a Grafana variable in the expression (Prometheus alone cannot evaluate it)")
    check(not problems, f"{where}: series, labels and values are sipfleet's", "; ".join(problems) + f" in: {expr}")
    return used


# -- sipfleet run's options
with open(OPTIONS_FILE) as f:
    RUN_OPTIONS = {line.strip() for line in f if line.strip()}
SCENARIO_KEYS = RUN_OPTIONS - {"help", "config"}
check(len(RUN_OPTIONS) > 20 and {"calls", "proxy", "api"} <= RUN_OPTIONS,
      f"sipfleet run options read ({len(RUN_OPTIONS)})", ",".join(sorted(RUN_OPTIONS)))


def check_scenario(text, where):
    try:
        scenario = yaml.safe_load(text)
    except yaml.YAMLError as e:
        check(False, f"{where} parses as YAML", str(e))
        return {}
    if not check(isinstance(scenario, dict) and scenario, f"{where} is a mapping of option: value"):
        return {}
    unknown = sorted(set(scenario) - SCENARIO_KEYS)
    check(not unknown, f"{where}: every key is a `sipfleet run` option", f"unknown: {unknown}")
    nested = [k for k, v in scenario.items() if isinstance(v, (dict, list))]
    check(not nested, f"{where}: every value is a single value", f"not scalar: {nested}")
    return scenario


def is_ip_port(text):
    m = re.fullmatch(r'\[([0-9a-fA-F:.]+)\]:(\d+)|([0-9.]+):(\d+)', str(text))
    if not m:
        return False
    host, port = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return 0 < int(port) < 65536


# ---------------------------------------------------------------------------------------------
# Prometheus: config facts and the metric names of the recording rules
prom = yaml.safe_load(open(os.path.join(DEPLOY, "prometheus", "prometheus.yml")))
check(prom.get("global", {}).get("scrape_interval") == "5s", "prometheus.yml: scrape_interval is 5s")
jobs = {j.get("job_name"): j for j in prom.get("scrape_configs", [])}
job = jobs.get("sipfleet", {})
check(bool(job), "prometheus.yml: a scrape job `sipfleet`")
check(job.get("metrics_path", "/metrics") == "/metrics", "prometheus.yml: sipfleet's path is /metrics")
auth = job.get("authorization", {}) or {}
check(bool(auth.get("credentials_file") or job.get("bearer_token_file")),
      "prometheus.yml: the API token is read from a file (authorization.credentials_file)")
check("rules.yml" in prom.get("rule_files", []), "prometheus.yml: loads rules.yml")

rules = yaml.safe_load(open(os.path.join(DEPLOY, "prometheus", "rules.yml")))
recorded = {r["record"] for g in rules["groups"] for r in g["rules"] if "record" in r}
for r in (r for g in rules["groups"] for r in g["rules"]):
    check_promql(str(r["expr"]), f"rules.yml {r.get('record', r.get('alert'))}", frozenset(recorded))
rule_text = " ".join(recorded)
for word, what in [("attempted", "call attempt rate"), ("answered", "answer rate"), ("asr", "ASR"),
                   ("p50", "setup time p50"), ("p95", "setup time p95"), ("p99", "setup time p99")]:
    check(word in rule_text, f"rules.yml records the {what}")

# ---------------------------------------------------------------------------------------------
# Grafana dashboard
dash_path = os.path.join(DEPLOY, "grafana", "dashboards", "sipfleet.json")
try:
    dash = json.load(open(dash_path))
    check(True, "dashboard: sipfleet.json parses as JSON")
except ValueError as e:
    check(False, "dashboard: sipfleet.json parses as JSON", str(e))
    dash = {"panels": []}
check(dash.get("schemaVersion", 0) >= 36, "dashboard: schemaVersion >= 36", str(dash.get("schemaVersion")))
variables = {v.get("name"): v for v in dash.get("templating", {}).get("list", [])}
dsvar = variables.get("datasource", {})
check(dsvar.get("type") == "datasource" and dsvar.get("query") == "prometheus",
      "dashboard: variable `datasource` of type datasource, query prometheus")

panels = []
for p in dash.get("panels", []):
    panels.append(p)
    panels.extend(p.get("panels", []))  # panels inside collapsed rows
panels = [p for p in panels if p.get("type") != "row"]
ids = [p.get("id") for p in panels]
check(len(ids) == len(set(ids)) and None not in ids, "dashboard: panel ids are unique")


def uses_variable(ds):
    return isinstance(ds, dict) and ds.get("uid") == "${datasource}" or ds in ("${datasource}", "$datasource")


bad_ds = [p.get("title") for p in panels if not uses_variable(p.get("datasource"))]
check(not bad_ds, f"dashboard: every panel's datasource is ${{datasource}} ({len(panels)} panels)", f"{bad_ds}")
bad_targets, exprs, used = [], [], set()
for p in panels:
    targets = p.get("targets", [])
    if not targets:
        bad_targets.append(f"{p.get('title')}: no target")
    for t in targets:
        if not str(t.get("expr", "")).strip():
            bad_targets.append(f"{p.get('title')} {t.get('refId')}: no expr")
            continue
        if "datasource" in t and not uses_variable(t["datasource"]):
            bad_targets.append(f"{p.get('title')} {t.get('refId')}: datasource is not ${{datasource}}")
        exprs.append((p.get("title"), t.get("refId"), t["expr"]))
check(not bad_targets, f"dashboard: every target has an expr ({len(exprs)} targets)", "; ".join(bad_targets))
for title, ref, expr in exprs:
    used |= check_promql(expr, f"dashboard '{title}' {ref}")

required = {
    "registered phones": "sipfleet_phones", "call attempts and answers": "sipfleet_calls_total",
    "active calls": "sipfleet_calls_active", "setup time": "sipfleet_call_setup_seconds_bucket",
    "responses by code": "sipfleet_sip_responses_total",
    "retransmissions": "sipfleet_sip_retransmissions_total",
    "RTP packets sent": "sipfleet_rtp_packets_sent_total",
    "RTP packets received": "sipfleet_rtp_packets_received_total",
    "RTP loss": "sipfleet_rtp_packets_lost_total", "jitter": "sipfleet_rtp_jitter_seconds_bucket",
    "MOS": "sipfleet_call_mos_bucket",
}
missing = [what for what, metric in required.items() if metric not in used]
check(not missing, "dashboard: shows every figure of issue 6", f"missing: {missing}")
for q in ("0.5", "0.95", "0.99"):
    check(any(f"histogram_quantile({q}" in e and "sipfleet_call_setup_seconds_bucket" in e for _, _, e in exprs),
          f"dashboard: setup time quantile {q} from the histogram")

with open(EXPR_RULES_OUT, "w") as f:
    yaml.safe_dump({"groups": [{"name": "dashboard", "rules": [
        {"record": f"dashboard:expr:{i}", "expr": e} for i, (_, _, e) in enumerate(exprs)]}]}, f)

# Grafana provisioning
ds_prov = yaml.safe_load(open(os.path.join(DEPLOY, "grafana", "provisioning", "datasources", "prometheus.yml")))
check(any(d.get("type") == "prometheus" for d in ds_prov.get("datasources", [])),
      "grafana provisioning: a Prometheus datasource")
db_prov = yaml.safe_load(open(os.path.join(DEPLOY, "grafana", "provisioning", "dashboards", "sipfleet.yml")))
provider_paths = [p.get("options", {}).get("path") for p in db_prov.get("providers", [])]
check(bool(provider_paths) and all(provider_paths), "grafana provisioning: a dashboard provider with a path")

# ---------------------------------------------------------------------------------------------
# Dockerfiles (what the manifests rely on)
dockerfile = open(os.path.join(DEPLOY, "docker", "Dockerfile")).read()
stages = re.findall(r'^FROM\s+(\S+)', dockerfile, re.M)
check(len(stages) >= 2 and "ARG DEBIAN_IMAGE=debian:bookworm" in dockerfile,
      "Dockerfile: multi-stage on Debian 12 (bookworm)", f"{stages}")
for flag in ("-DCMAKE_BUILD_TYPE=Release", "-DSIPFLEET_TESTS=OFF", "-DSIPFLEET_BENCH=OFF", "--target sipfleet",
             '-j"${JOBS}"', "ARG JOBS=2"):
    check(flag in dockerfile, f"Dockerfile: build uses {flag}")
final = dockerfile[dockerfile.rindex("\nFROM "):]
user = re.findall(r'^USER\s+(\S+)', final, re.M)
check(bool(user) and user[-1].split(":")[0] not in ("0", "root"), "Dockerfile: the runtime stage runs as non-root",
      f"{user}")
check(re.search(r'^EXPOSE\s+8080', final, re.M) is not None, "Dockerfile: EXPOSE 8080 (API and /metrics)")
check(re.search(r'^ENTRYPOINT\s+.*sipfleet', final, re.M) is not None, "Dockerfile: ENTRYPOINT runs sipfleet")
image_uid = user[-1].split(":")[0] if user else ""
image_bins = set(re.findall(r'^COPY\s+.*\s/usr/local/bin/(\S+)$', final, re.M))
for src in re.findall(r'^COPY\s+(?!--from)(\S+)\s', dockerfile, re.M):
    check(src == "." or os.path.exists(os.path.join(ROOT, src)), f"Dockerfile: COPY source {src} exists")
for name in ("kamailio.Dockerfile", "prometheus.Dockerfile"):
    text = open(os.path.join(DEPLOY, "docker", name)).read()
    for src in re.findall(r'^COPY\s+(?!--from)(\S+)\s', text, re.M):
        check(os.path.exists(os.path.join(DEPLOY, src)), f"{name}: COPY source {src} exists (context deploy/)")
    user = re.findall(r'^USER\s+(\S+)', text, re.M)
    check(bool(user) and user[-1] not in ("0", "root"), f"{name}: runs as non-root")

# ---------------------------------------------------------------------------------------------
# Kubernetes manifests
kdir = os.path.join(DEPLOY, "kubernetes")
kfiles = sorted(f for f in os.listdir(kdir) if f.endswith((".yaml", ".yml")))
docs = []
for name in kfiles:
    try:
        for d in load_yaml_docs(os.path.join(kdir, name)):
            docs.append((name, d))
    except yaml.YAMLError as e:
        check(False, f"kubernetes/{name} parses", str(e))
kust = [d for _, d in docs if d.get("kind") == "Kustomization"]
if kust:
    listed = set(kust[0].get("resources", []))
    check(listed == set(kfiles) - {"kustomization.yaml"}, "kubernetes: kustomization lists every manifest",
          f"listed {sorted(listed)}, present {kfiles}")
objects = [(n, d) for n, d in docs if d.get("kind") != "Kustomization"]
check(all(d.get("apiVersion") and d.get("kind") and d.get("metadata", {}).get("name") for _, d in objects),
      "kubernetes: every object has apiVersion, kind and metadata.name")
configmaps = {d["metadata"]["name"]: d for _, d in objects if d["kind"] == "ConfigMap"}
workloads = [d for _, d in objects if d["kind"] in ("Deployment", "StatefulSet")]
services = [d for _, d in objects if d["kind"] == "Service"]
check(len(workloads) >= 1, "kubernetes: a Deployment or StatefulSet")
check(len(services) >= 1, "kubernetes: a Service")


def port_number(container, port):
    """A probe's or Service's port (number or name) as the container's port number, or None."""
    for p in container.get("ports", []):
        if port == p.get("containerPort") or port == p.get("name"):
            return p.get("containerPort")
    return None


api_ports = {}  # workload name -> API port
for w in workloads:
    wname = w["metadata"]["name"]
    spec = w["spec"]
    tmpl = spec["template"]
    pod_labels = tmpl.get("metadata", {}).get("labels", {})
    sel = spec.get("selector", {}).get("matchLabels", {})
    check(bool(sel) and all(pod_labels.get(k) == v for k, v in sel.items()),
          f"{wname}: the selector matches the pod's labels")
    pod = tmpl["spec"]
    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    for c in pod.get("containers", []):
        cname = f"{wname}/{c.get('name')}"
        image = c.get("image", "")
        tag = image.rsplit("/", 1)[-1]
        check(bool(image) and (":" in tag or "@" in image) and not tag.endswith(":latest"),
              f"{cname}: image named with a tag ({image})")
        ports = [p.get("containerPort") for p in c.get("ports", [])]
        check(bool(ports) and all(isinstance(p, int) for p in ports), f"{cname}: containerPorts declared {ports}")
        args = [str(a) for a in c.get("command", []) + c.get("args", [])]
        check(bool(args) and args[0] in ("run", "serve"), f"{cname}: runs `sipfleet run` or `serve`", f"{args}")
        opts = [a[2:].split("=")[0] for a in args if a.startswith("--")]
        unknown = [o for o in opts if o not in RUN_OPTIONS]
        check(not unknown, f"{cname}: every argument is a `sipfleet run` option", f"unknown: {unknown}")
        env = {e["name"]: e for e in c.get("env", [])}
        for ref in re.findall(r'\$\((\w+)\)', " ".join(args)):
            check(ref in env, f"{cname}: $({ref}) in the arguments is an env variable of the container")

        def arg(name):
            return args[args.index(name) + 1] if name in args and args.index(name) + 1 < len(args) else None

        api = arg("--api") or "127.0.0.1:8080"
        api_port = int(api.rsplit(":", 1)[1]) if ":" in api else None
        api_ports[wname] = api_port
        check(api_port in ports, f"{cname}: the API port ({api}) is a containerPort {ports}")
        host = api.rsplit(":", 1)[0].strip("[]")
        if host not in ("127.0.0.1", "::1", "localhost"):
            tok = env.get("SIPFLEET_API_TOKEN", {})
            check("--api-token" not in args and "valueFrom" in tok and "secretKeyRef" in tok["valueFrom"],
                  f"{cname}: the API beyond loopback takes its token from a Secret (SIPFLEET_API_TOKEN)")
        for kind in ("livenessProbe", "readinessProbe"):
            probe = c.get(kind)
            if not check(probe is not None, f"{cname}: {kind} present"):
                continue
            if "httpGet" in probe:
                ok = probe["httpGet"].get("path") == "/v1/health" and \
                    port_number(c, probe["httpGet"].get("port")) == api_port
                check(ok, f"{cname}: {kind} GETs /v1/health on the API port {api_port}", f"{probe}")
            elif "exec" in probe:
                cmd = [str(x) for x in probe["exec"].get("command", [])]
                urls = [m for x in cmd for m in re.findall(r'http://(?:127\.0\.0\.1|localhost):(\d+)(/\S*)', x)]
                ok = any(int(p) == api_port and path == "/v1/health" for p, path in urls)
                check(ok, f"{cname}: {kind} GETs /v1/health on the API port {api_port}", f"{cmd}")
                tool = os.path.basename(cmd[0]) if cmd else ""
                check(tool in image_bins or tool in ("curl", "sh", "wget"),
                      f"{cname}: {kind} runs {tool}, which the image installs", f"image has {sorted(image_bins)}")
            else:
                check(False, f"{cname}: {kind} is an HTTP GET of /v1/health", f"{probe}")
        run_as = (c.get("securityContext", {}).get("runAsUser")
                  or pod.get("securityContext", {}).get("runAsUser"))
        check(run_as is None or str(run_as) == image_uid, f"{cname}: runAsUser matches the image's USER ({image_uid})")
        mounts = c.get("volumeMounts", [])
        for m in mounts:
            check(m["name"] in volumes, f"{cname}: volumeMount {m['name']} names a volume of the pod")
        for v in volumes.values():
            if "configMap" in v:
                check(v["configMap"]["name"] in configmaps,
                      f"{wname}: volume {v['name']} refers to ConfigMap {v['configMap']['name']}, which exists")
        config = arg("--config")
        if config:
            found = None
            for m in mounts:
                mp = m["mountPath"].rstrip("/") + "/"
                v = volumes.get(m["name"], {})
                if config.startswith(mp) and "configMap" in v:
                    key = config[len(mp):]
                    items = {i["path"]: i["key"] for i in v["configMap"].get("items", [])}
                    key = items.get(key, key) if items else key
                    cm = configmaps.get(v["configMap"]["name"], {})
                    found = (v["configMap"]["name"], key, cm.get("data", {}).get(key))
            if check(found is not None and found[2] is not None,
                     f"{cname}: --config {config} is a key of a mounted ConfigMap", f"{found}"):
                scenario = check_scenario(found[2], f"ConfigMap {found[0]} {found[1]}")
                if "proxy" in scenario:
                    check(is_ip_port(scenario["proxy"]),
                          f"ConfigMap {found[0]}: proxy is IP:PORT (sipfleet does not look names up)",
                          str(scenario["proxy"]))

for s in services:
    sname = s["metadata"]["name"]
    sel = s["spec"].get("selector", {})
    matched = [w for w in workloads
               if sel and all(w["spec"]["template"]["metadata"].get("labels", {}).get(k) == v for k, v in sel.items())]
    if not check(bool(matched), f"Service {sname}: its selector matches a workload's pods"):
        continue
    w = matched[0]
    containers = w["spec"]["template"]["spec"]["containers"]
    sports = s["spec"].get("ports", [])
    for p in sports:
        target = p.get("targetPort", p.get("port"))
        nums = [port_number(c, target) for c in containers]
        check(any(n is not None for n in nums),
              f"Service {sname}: port {p.get('port')} targets a containerPort ({target})")
    ann = s["metadata"].get("annotations", {})
    check(ann.get("prometheus.io/scrape") == "true", f"Service {sname}: prometheus.io/scrape is \"true\"")
    check(ann.get("prometheus.io/path", "/metrics") == "/metrics", f"Service {sname}: prometheus.io/path is /metrics")
    scrape_port = ann.get("prometheus.io/port")
    check(scrape_port is not None and int(scrape_port) == api_ports.get(w["metadata"]["name"]),
          f"Service {sname}: prometheus.io/port is the API port", f"{scrape_port}")

# ---------------------------------------------------------------------------------------------
# compose.yaml
compose_path = os.path.join(DEPLOY, "compose.yaml")
compose_text = open(compose_path).read()


def expand(text):
    """Compose interpolation with the defaults: ${X:-d} -> d, ${X:?msg} / ${X} -> a placeholder."""
    text = re.sub(r'\$\{\w+:?-([^}]*)\}', r'\1', text)
    return re.sub(r'\$\{(\w+)(:?\?[^}]*)?\}', r'<\1>', text)


compose = yaml.safe_load(expand(compose_text))
svcs = compose.get("services", {})
check({"kamailio", "sipfleet", "prometheus", "grafana"} <= set(svcs),
      "compose: services kamailio, sipfleet, prometheus, grafana", f"{sorted(svcs)}")
for name, svc in svcs.items():
    check(bool(svc.get("image")), f"compose {name}: image named ({svc.get('image')})")
    build = svc.get("build")
    if build:
        ctx = os.path.normpath(os.path.join(DEPLOY, build.get("context", ".")))
        check(os.path.isfile(os.path.join(ctx, build.get("dockerfile", "Dockerfile"))),
              f"compose {name}: the Dockerfile it builds exists")
    for vol in svc.get("volumes", []):
        src = vol.split(":")[0]
        if src.startswith("."):
            check(os.path.exists(os.path.join(DEPLOY, src)), f"compose {name}: volume source {src} exists")
check("grafana" in svcs.get("grafana", {}).get("profiles", []), "compose: grafana only under the `grafana` profile")
for name in ("kamailio", "sipfleet", "prometheus"):
    check(not svcs.get(name, {}).get("profiles"), f"compose: {name} starts without a profile")

prom_svc = svcs.get("prometheus", {})
check(any(v.split(":")[0] == "./prometheus" and v.split(":")[1] == "/etc/prometheus" for v in prom_svc.get("volumes", [])),
      "compose prometheus: mounts deploy/prometheus at /etc/prometheus")
graf = svcs.get("grafana", {})
gmounts = {v.split(":")[1]: v.split(":")[0] for v in graf.get("volumes", [])}
check(gmounts.get("/etc/grafana/provisioning") == "./grafana/provisioning",
      "compose grafana: mounts the provisioning files")
check(all(gmounts.get(p) == "./grafana/dashboards" for p in provider_paths),
      "compose grafana: the dashboards are mounted where the provider reads them", f"{provider_paths} vs {gmounts}")
check("PROMETHEUS_URL" in graf.get("environment", {}) and "${PROMETHEUS_URL}" in open(
    os.path.join(DEPLOY, "grafana", "provisioning", "datasources", "prometheus.yml")).read(),
      "compose grafana: sets the PROMETHEUS_URL the datasource reads")

sf = svcs.get("sipfleet", {})
cmd = [str(a) for a in sf.get("command", [])]
check(bool(cmd) and cmd[0] in ("run", "serve"), "compose sipfleet: runs `sipfleet run` or `serve`", f"{cmd}")
unknown = [a[2:] for a in cmd if a.startswith("--") and a[2:] not in RUN_OPTIONS]
check(not unknown, "compose sipfleet: every argument is a `sipfleet run` option", f"unknown: {unknown}")
if "--config" in cmd:
    target = cmd[cmd.index("--config") + 1]
    srcs = [v.split(":")[0] for v in sf.get("volumes", []) if v.split(":")[1] == target]
    if check(bool(srcs) and os.path.isfile(os.path.join(DEPLOY, srcs[0])),
             f"compose sipfleet: --config {target} is a mounted file"):
        check_scenario(open(os.path.join(DEPLOY, srcs[0])).read(), f"compose scenario {srcs[0]}")
secret_path = auth.get("credentials_file", "")
token_file_env = sf.get("environment", {}).get("SIPFLEET_API_TOKEN_FILE")
for name in ("sipfleet", "prometheus"):
    sec = svcs.get(name, {}).get("secrets", [])
    names = [s if isinstance(s, str) else s.get("target", s.get("source")) for s in sec]
    check(any(f"/run/secrets/{n}" in (secret_path, token_file_env) for n in names),
          f"compose {name}: gets the API token secret where it reads it", f"{names}")
check(token_file_env == secret_path, "compose: sipfleet and Prometheus read the same token file",
      f"{token_file_env} vs {secret_path}")

print(f"check_manifests: {'FAILED' if failures else 'all passed'} ({failures} failed)")
sys.exit(1 if failures else 0)
