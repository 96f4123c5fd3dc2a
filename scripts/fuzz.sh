#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan + UBSan) and fuzzes what the network controls:
# the SIP parser (most of the time), SDP offer/answer and digest challenges, each for a bounded
# time and seeded from tests/data. Exits non-zero on a finding.
#   scripts/fuzz.sh [SECONDS]     total seconds, default 30
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-30}
build=${FUZZ_BUILD_DIR:-build/fuzz}

if ! command -v clang++ >/dev/null; then
  echo "fuzz: clang++ not found, skipping (scripts/install-deps.sh installs it)" >&2
  exit 0
fi

CXX=clang++ cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DSIPFLEET_FUZZ=ON -DSIPFLEET_SANITIZE=ON -DSIPFLEET_TESTS=OFF -DSIPFLEET_BENCH=OFF >/dev/null
cmake --build "$build" -j "${JOBS:-2}" --target fuzz_sip_parser fuzz_sdp fuzz_digest

run() {  # run TARGET SECONDS SEED_GLOB...
  local target=$1 secs=$2
  shift 2
  local corpus="$build/corpus/$target"
  mkdir -p "$corpus" "$build/findings"
  for seed in "$@"; do cp -n "$seed" "$corpus/" 2>/dev/null || true; done
  echo "fuzz: $target for ${secs}s" >&2
  if ! "$build/tests/fuzz/$target" "$corpus" -max_total_time="$secs" -max_len=8192 \
      -artifact_prefix="$build/findings/$target-" -print_final_stats=1 2>"$build/$target.log"; then
    tail -n 60 "$build/$target.log" >&2
    echo "fuzz: $target FAILED, the input is in $build/findings/" >&2
    exit 1
  fi
  grep -E '^stat::number_of_executed_units' "$build/$target.log" >&2 || true
}

share=$((seconds / 6 > 0 ? seconds / 6 : 1))
run fuzz_sip_parser $((seconds - 2 * share)) tests/data/rfc4475/*.dat
run fuzz_sdp "$share" tests/data/sdp/*.sdp
run fuzz_digest "$share" tests/data/digest/*.txt
