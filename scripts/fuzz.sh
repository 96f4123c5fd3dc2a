#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan + UBSan) and fuzzes the SIP parser for a
# bounded time, seeded with the RFC 4475 torture messages. Exits non-zero on a finding.
#   scripts/fuzz.sh [SECONDS]     default 30
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
cmake --build "$build" -j "${JOBS:-2}" --target fuzz_sip_parser

corpus="$build/corpus/sip_parser"
mkdir -p "$corpus" "$build/findings"
cp -n tests/data/rfc4475/*.dat "$corpus/" 2>/dev/null || true

echo "fuzz: fuzz_sip_parser for ${seconds}s" >&2
"$build/tests/fuzz/fuzz_sip_parser" "$corpus" -max_total_time="$seconds" -max_len=8192 \
  -artifact_prefix="$build/findings/" -print_final_stats=1 2>"$build/fuzz.log" || {
  tail -n 60 "$build/fuzz.log" >&2
  echo "fuzz: FAILED, the crashing input is in $build/findings/" >&2
  exit 1
}
grep -E '^(stat::number_of_executed_units|Done)' "$build/fuzz.log" >&2 || true
