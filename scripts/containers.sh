#!/usr/bin/env bash
# The containers of deploy/, really built and run on a machine with no Docker engine and no
# registry (issue 6): podman (Debian's, with runc) builds the images from a Debian 12 base made
# here with debootstrap, docker-compose runs deploy/compose.yaml against podman's API socket,
# sipfleet places a short call load through the Kamailio container, and Prometheus's HTTP API
# must show that it scraped sipfleet. Then everything is torn down. Not part of scripts/test.sh:
# the first run takes a while (debootstrap ~1 min, the sipfleet build ~15-30 min on one core at
# nice 19); later runs reuse the base image and podman's layer cache.
#
#   scripts/containers.sh                 build, run, check, tear down (exit 0 when Prometheus has the metric)
#   KEEP=1 scripts/containers.sh          leave the stack running; stop it with: scripts/containers.sh down
#   scripts/containers.sh build           only make the base image and build the images
#
# Environment: JOBS (compile jobs in the sipfleet build, default 1), CHECK_METRIC (the series
# Prometheus must hold, default sipfleet_calls_total), WORK (state folder, default
# build/containers), MIRROR (Debian mirror for debootstrap, default the one apt uses here).
#
# Networking: the build's apt reaches the Debian mirror as apt on this machine does; the stack
# uses the host's network with every service on 127.0.0.1 (ports picked free), nothing else.
# Grafana is not started: its image comes from a registry (compose profile `grafana`).
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"

jobs="${JOBS:-1}"
metric="${CHECK_METRIC:-sipfleet_calls_total}"
work="$(mkdir -p "${WORK:-build/containers}" && cd "${WORK:-build/containers}" && pwd)"
project=sipfleet-containers
base_image=localhost/debian:bookworm
action="${1:-all}"

log() { echo "containers.sh: $*" >&2; }
die() { log "$*"; exit 1; }
[[ "$(id -u)" == 0 ]] || die "needs root (debootstrap, rootful podman with host networking)"

# -- 1. the tools (Debian packages, only those missing); crun fails on this hybrid-cgroup machine: runc
missing=()
for p in podman runc debootstrap docker-compose curl; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if (( ${#missing[@]} )); then
  log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  # docker-compose without its recommends (they would pull in the Docker engine)
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# podman's settings for this machine: runc, and ulimits no higher than root's hard limits here
hard_nofile="$(ulimit -Hn)"; [[ "$hard_nofile" == unlimited ]] && hard_nofile=1048576
nofile=$(( hard_nofile < 65536 ? hard_nofile : 65536 ))
cat >"$work/containers.conf" <<EOF
[containers]
default_ulimits=["nofile=$nofile:$nofile","nproc=4096:4096"]
[engine]
runtime="runc"
EOF
export CONTAINERS_CONF="$work/containers.conf"

sock="$work/podman.sock"
service_pid=""
compose() {
  DOCKER_HOST="unix://$sock" docker-compose -p "$project" -f "$root/deploy/compose.yaml" "$@"
}
start_service() {
  [[ -n "$service_pid" ]] && return
  rm -f "$sock"
  podman system service --time=0 "unix://$sock" >"$work/podman-service.log" 2>&1 &
  service_pid=$!
  for _ in $(seq 1 50); do [[ -S "$sock" ]] && return; sleep 0.1; done
  die "podman system service did not open $sock (see $work/podman-service.log)"
}
stop_service() {
  if [[ -n "$service_pid" ]]; then kill "$service_pid" 2>/dev/null || true; wait "$service_pid" 2>/dev/null || true; fi
  service_pid=""
}

# The settings compose reads: free ports on 127.0.0.1, the token file, Prometheus's config with
# the API port, and the short load.
write_settings() {
  free_port() {  # a port free on TCP and UDP, outside the RTP range the phones use
    local p
    for _ in $(seq 1 200); do
      p=$(( 40000 + RANDOM % 10000 ))
      if [[ -z "$(ss -Htuln "sport = :$p")" ]] && ! grep -qx "$p" "$work/ports" 2>/dev/null; then
        echo "$p" >>"$work/ports"; echo "$p"; return
      fi
    done
    die "no free port found"
  }
  : >"$work/ports"
  cat >"$work/env" <<EOF
KAMAILIO_PORT=$(free_port)
SIPFLEET_API_PORT=$(free_port)
PROMETHEUS_PORT=$(free_port)
SIPFLEET_API_TOKEN_FILE=$work/secrets/api-token
PROMETHEUS_CONFIG_DIR=$work/prometheus
SIPFLEET_SCENARIO=$work/scenario.yaml
EOF
  # The token: readable by the containers' users, guarded by its 0700 folder.
  install -d -m 0700 "$work/secrets"
  head -c 24 /dev/urandom | base64 >"$work/secrets/api-token"
  chmod 0644 "$work/secrets/api-token"
  # shellcheck disable=SC1091
  source "$work/env"
  install -d -m 0755 "$work/prometheus"
  cp deploy/prometheus/prometheus.yml deploy/prometheus/rules.yml "$work/prometheus/"
  sed -i "s/127\.0\.0\.1:8080/127.0.0.1:$SIPFLEET_API_PORT/" "$work/prometheus/prometheus.yml"
  chmod 0644 "$work/prometheus/"*.yml
  # 20 phones, 45 calls at 3/s held 2 s: ~20 s of load, four or more scrapes at 5 s.
  cat >"$work/scenario.yaml" <<'EOF'
users: 1000-1019
password: "pw{user}"
domain: sipfleet.test
register-rate: 20
calls: 45
call-rate: 3
hold: 2s
max-concurrent: 20
max-failed-pct: 100
EOF
  chmod 0644 "$work/scenario.yaml"
}
load_settings() {
  [[ -f "$work/env" ]] || die "no $work/env: nothing was started"
  set -a; source "$work/env"; set +a
}

down() {
  load_settings
  start_service
  compose --profile grafana down --volumes --remove-orphans --timeout 20 >&2 || true
  stop_service
  rm -rf "$work/secrets"
}

if [[ "$action" == down ]]; then down; exit 0; fi

# -- 2. the base image: Debian 12 minbase by debootstrap, imported into podman
if ! podman image exists "$base_image"; then
  apt_uris() { cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null | grep -v "^[[:space:]]*#" || true; }
  mirror="${MIRROR:-$(apt_uris | grep -oE 'https?://[^ ]+/debian/?( |$)' | head -n1 | tr -d ' ' || true)}"
  mirror="${mirror:-http://deb.debian.org/debian}"; mirror="${mirror%/}"
  security="$(apt_uris | grep -oE 'https?://[^ ]+/debian-security/?' | head -n1 || true)"
  security="${security:-${mirror}-security}"; security="${security%/}"
  rootfs="$work/rootfs"
  rm -rf "$rootfs"
  log "debootstrap --variant=minbase bookworm from $mirror (about a minute)"
  timeout 900 debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 \
    || { tail -n 20 "$work/debootstrap.log" >&2; die "debootstrap failed (log: $work/debootstrap.log)"; }
  cat >"$rootfs/etc/apt/sources.list" <<EOF
deb $mirror bookworm main
deb $mirror bookworm-updates main
deb $security bookworm-security main
EOF
  rm -rf "$rootfs/var/cache/apt/archives/"*.deb "$rootfs/var/lib/apt/lists/"*
  tar -C "$rootfs" --numeric-owner -c . | podman import --change 'CMD ["/bin/bash"]' - "$base_image" >>"$work/debootstrap.log" 2>&1
  rm -rf "$rootfs"
  log "base image $base_image made"
fi

# -- 3. the images (nice 19, JOBS=1 by default: other work shares this machine)
build() {
  local name="$1"; shift
  local short="${name##*/}"
  local blog="$work/build-${short%%:*}.log"
  log "building $name (log: $blog)"
  if ! timeout 5400 nice -n 19 podman build --pull=never --network=host \
        --build-arg DEBIAN_IMAGE="$base_image" -t "$name" "$@" >"$blog" 2>&1; then
    tail -n 30 "$blog" >&2
    die "building $name failed (log: $blog)"
  fi
}
build localhost/sipfleet-kamailio:latest -f deploy/docker/kamailio.Dockerfile deploy
build localhost/sipfleet-prometheus:latest -f deploy/docker/prometheus.Dockerfile deploy
build localhost/sipfleet:latest -f deploy/docker/Dockerfile --ignorefile deploy/docker/Dockerfile.dockerignore \
  --build-arg JOBS="$jobs" .
grep -h "^runtime packages:" "$work/build-sipfleet.log" | tail -n1 >&2 || true
podman images --format '{{.Repository}}:{{.Tag}} {{.Size}}' | grep -E 'sipfleet|debian' >&2
[[ "$action" == build ]] && exit 0

# -- 4. the stack: kamailio and prometheus, then sipfleet with its short load
write_settings
set -a; source "$work/env"; set +a
start_service
cleanup() {
  local rc=$?
  if [[ "${KEEP:-0}" == 1 && $rc == 0 ]]; then
    stop_service  # the containers run on without the API service; `down` starts another
    log "left running (KEEP=1): Prometheus http://127.0.0.1:$PROMETHEUS_PORT; stop with: scripts/containers.sh down"
    return
  fi
  compose --profile grafana down --volumes --remove-orphans --timeout 20 >/dev/null 2>&1 || true
  stop_service
  rm -rf "$work/secrets"
}
trap cleanup EXIT
compose down --volumes --remove-orphans --timeout 10 >/dev/null 2>&1 || true

log "starting kamailio (127.0.0.1:$KAMAILIO_PORT) and prometheus (127.0.0.1:$PROMETHEUS_PORT)"
compose up -d --no-build kamailio prometheus >&2
wait_for() {  # SECONDS WHAT COMMAND...
  local seconds="$1" what="$2"; shift 2
  local deadline=$(( $(date +%s) + seconds ))
  until "$@" >/dev/null 2>&1; do
    (( $(date +%s) < deadline )) || { log "timed out after ${seconds}s waiting for $what"; return 1; }
    sleep 1
  done
}
kamailio_ready() { compose logs kamailio 2>/dev/null | grep -q "answers on 127.0.0.1:$KAMAILIO_PORT"; }
wait_for 60 "kamailio" kamailio_ready || { compose logs kamailio >&2; exit 1; }
prom="http://127.0.0.1:$PROMETHEUS_PORT"
wait_for 60 "prometheus" curl -fsS "$prom/-/ready" || { compose logs prometheus >&2; exit 1; }

log "starting sipfleet (API 127.0.0.1:$SIPFLEET_API_PORT): 20 phones, 45 calls at 3/s"
compose up -d --no-build --no-deps sipfleet >&2
api_up() {
  printf 'Authorization: Bearer %s\n' "$(cat "$SIPFLEET_API_TOKEN_FILE")" |
    curl -fsS -H @- "http://127.0.0.1:$SIPFLEET_API_PORT/v1/health"
}
wait_for 30 "sipfleet's API" api_up || { compose logs sipfleet >&2; exit 1; }
no_auth="$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$SIPFLEET_API_PORT/metrics" || true)"
log "sipfleet's API answers; /metrics without the token: HTTP $no_auth"

# -- 5. Prometheus scrapes sipfleet while the run goes on (every 5 s)
query() { curl -fsS -G "$prom/api/v1/query" --data-urlencode "query=$1"; }
has_data() {  # has_data JSON: a successful query with at least one series
  python3 -c 'import json,sys; r=json.load(sys.stdin); sys.exit(0 if r["status"]=="success" and r["data"]["result"] else 1)'
}
prom_has() { query "$1" | has_data; }
scraped=0
if wait_for 60 "Prometheus to hold $metric" prom_has "$metric"; then scraped=1; fi
echo "during the run, $metric: $(query "$metric")"

# the run ends by itself (45 calls)
cid="$(compose ps -q sipfleet)"
sipfleet_ended() { [[ "$(podman inspect -f '{{.State.Running}}' "$cid")" == false ]]; }
wait_for 120 "the sipfleet run to end" sipfleet_ended || true
log "sipfleet exited with status $(podman inspect -f '{{.State.ExitCode}}' "$cid"); its summary:"
podman logs "$cid" 2>/dev/null | tail -n 14 >&2

# Once the target is gone its series are stale: read the last scraped values over 5 minutes.
echo "max_over_time(up{job=\"sipfleet\"}[5m]): $(query 'max_over_time(up{job="sipfleet"}[5m])')"
echo "sipfleet_ series scraped: $(query 'count(last_over_time({__name__=~"sipfleet_.+"}[5m]))')"
echo "last scraped sum($metric): $(query "sum(last_over_time(${metric}[5m]))")"
if [[ $scraped == 1 ]]; then
  echo "containers.sh: ok - Prometheus (container) scraped sipfleet (container) during a load through Kamailio (container): $metric present"
else
  echo "containers.sh: FAIL - Prometheus held no $metric while sipfleet ran"
  exit 1
fi
