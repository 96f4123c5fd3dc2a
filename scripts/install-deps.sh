#!/usr/bin/env bash
# Installs the Debian packages sipfleet needs, and only those that are missing.
# Idempotent and quiet when everything is already there.
#   scripts/install-deps.sh            build + test dependencies
set -euo pipefail

packages=(
  # build
  cmake ninja-build g++ pkg-config ccache
  # libraries
  libssl-dev doctest-dev libcli11-dev libcaf-dev libboost1.81-dev libboost-json1.81-dev
  libspdlog-dev libyaml-cpp-dev liburing-dev prometheus-cpp-dev
  # real peers for the integration tests (Prometheus scrapes /metrics; promtool lints it)
  kamailio sip-tester prometheus
  # tests/deploy reads the Kubernetes manifests and compose.yaml as YAML
  python3-yaml
  # the parser fuzz target (libFuzzer ships with clang's runtime)
  clang libclang-rt-14-dev
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "install-deps: installing ${missing[*]}" >&2
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq >/dev/null
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done" >&2
