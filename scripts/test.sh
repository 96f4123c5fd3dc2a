#!/usr/bin/env bash
# The test command: installs what is missing, builds with ASan+UBSan, fuzzes the SIP parser for
# a bounded time (when clang is there), and runs every test through CTest.
#   scripts/test.sh                 everything
#   FUZZ_SECONDS=0 scripts/test.sh  skip the fuzz run
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh

jobs=${JOBS:-2}
build=${BUILD_DIR:-build/asan}
fuzz_seconds=${FUZZ_SECONDS:-30}

cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DSIPFLEET_SANITIZE=ON \
  -DSIPFLEET_BENCH=OFF >/dev/null
cmake --build "$build" -j "$jobs"

if [ "$fuzz_seconds" != 0 ] && command -v clang++ >/dev/null; then
  bash scripts/fuzz.sh "$fuzz_seconds"
fi

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
cd "$build"
ctest --output-on-failure -j "$jobs"
