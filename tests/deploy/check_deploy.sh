#!/usr/bin/env bash
# Fast checks of deploy/ (no containers, no network, a few seconds): the Prometheus config and
# rules through promtool (syntax, the full check with a token file, the rules' unit tests), the
# Grafana dashboard (datasource variable, every expr parsed by promtool, only sipfleet's metric
# names and labels), the Kubernetes manifests (images, ports, probes, the ConfigMap, the Secret),
# compose.yaml and the Dockerfiles, and the shell scripts' syntax. One line per check.
#   tests/deploy/check_deploy.sh [SIPFLEET_BINARY]
# With the binary, scenario keys are checked against `sipfleet run --help`; without it, against
# app/run_settings.cpp. Exit status 0 when every check passed, 1 otherwise.
# scripts/containers.sh is the slow check that builds and runs the containers.
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
sipfleet="${1:-}"
tmp="$(mktemp -d "${TMPDIR:-/tmp}/check_deploy.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
failed=0

# step DESCRIPTION COMMAND...: runs the command, prints ok/FAIL and, on failure, its output
step() {
  local what="$1"; shift
  local out
  if out="$("$@" 2>&1)"; then
    echo "ok - $what"
  else
    echo "FAIL - $what"
    sed 's/^/    /' <<<"$out"
    failed=1
  fi
}

# Debian's python3 has python3-yaml (scripts/install-deps.sh); another python3 first in PATH
# may not.
python=""
for p in /usr/bin/python3 python3; do
  if "$p" -c 'import yaml' 2>/dev/null; then python="$p"; break; fi
done
if [[ -z "$python" ]]; then
  echo "FAIL - python3 with PyYAML (apt-get install python3-yaml, or scripts/install-deps.sh)"
  exit 1
fi
if ! command -v promtool >/dev/null; then
  echo "FAIL - promtool (apt-get install prometheus, or scripts/install-deps.sh)"
  exit 1
fi

# -- Prometheus
prom="$root/deploy/prometheus"
step "promtool check config --syntax-only deploy/prometheus/prometheus.yml" \
  promtool check config --syntax-only "$prom/prometheus.yml"
# The full check opens the token file; point it at a scratch one in a copy of the folder.
mkdir -p "$tmp/prometheus"
cp "$prom"/*.yml "$tmp/prometheus/"
echo "check-deploy-token" >"$tmp/token"
sed -i "s#credentials_file: .*#credentials_file: $tmp/token#" "$tmp/prometheus/prometheus.yml"
step "promtool check config deploy/prometheus/prometheus.yml (rule files loaded, token file read)" \
  promtool check config "$tmp/prometheus/prometheus.yml"
step "promtool check rules deploy/prometheus/rules.yml" promtool check rules "$prom/rules.yml"
step "promtool test rules tests/deploy/rules_test.yml (attempts, answers, ASR, setup quantiles)" \
  bash -c 'cd "$1" && promtool test rules rules_test.yml' _ "$here"

# -- sipfleet run's option names
options="$tmp/options"
if [[ -n "$sipfleet" && -x "$sipfleet" ]]; then
  "$sipfleet" run --help | sed -nE 's/^ +(-[a-zA-Z],)?--([a-z][a-z0-9-]*).*/\2/p' >"$options"
  echo "ok - option names read from $sipfleet run --help"
else
  "$python" - "$root/app/run_settings.cpp" >"$options" <<'PY'
import re, sys
src = open(sys.argv[1]).read()
block = src[src.index("run_option_defaults() {"):]
block = block[:block.index("};")]
print("\n".join(["help", "config"] + re.findall(r'\{"([a-z][a-z0-9-]*)",', block)))
PY
  echo "ok - option names read from app/run_settings.cpp (no binary given)"
fi

# -- dashboard, provisioning, Kubernetes, compose, Dockerfiles
if "$python" "$here/check_manifests.py" "$root" "$options" "$tmp/dashboard_rules.yml"; then :; else failed=1; fi
if [[ -s "$tmp/dashboard_rules.yml" ]]; then
  step "every dashboard expr parses (promtool check rules, each as a recording rule)" \
    promtool check rules "$tmp/dashboard_rules.yml"
fi

# -- compose, through docker-compose when it is installed (scripts/containers.sh installs it)
if command -v docker-compose >/dev/null; then
  step "docker-compose config accepts deploy/compose.yaml" \
    env SIPFLEET_API_TOKEN_FILE="$tmp/token" docker-compose -f "$root/deploy/compose.yaml" config -q
else
  echo "ok - docker-compose config (skipped: docker-compose is not installed)"
fi

# -- shell scripts parse
for f in deploy/docker/kamailio-entrypoint.sh scripts/containers.sh tests/deploy/check_deploy.sh; do
  step "bash -n $f" bash -n "$root/$f"
done
for f in deploy/docker/entrypoint.sh deploy/docker/health.sh; do
  step "sh -n $f" sh -n "$root/$f"
  step "$f is executable" test -x "$root/$f"
done
step "deploy/docker/kamailio-entrypoint.sh is executable" test -x "$root/deploy/docker/kamailio-entrypoint.sh"

if [[ $failed == 0 ]]; then
  echo "check_deploy: every check passed"
else
  echo "check_deploy: FAILED"
fi
exit "$failed"
