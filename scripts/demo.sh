#!/usr/bin/env bash
# The main job: installs what is missing, builds Release, starts a real Kamailio on
# 127.0.0.1 (deploy/kamailio), and runs `sipfleet run` with 1,000 phones registering and a
# few hundred calls among them, with the live status line and the final report. Kamailio is
# stopped at the end, also on Ctrl-C.
#   scripts/demo.sh                       the defaults below
#   scripts/demo.sh --calls 1000 --call-rate 50   any other `sipfleet run` options
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
build=${BUILD_DIR:-build/release}
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DSIPFLEET_TESTS=OFF -DSIPFLEET_BENCH=OFF >/dev/null
cmake --build "$build" -j "${JOBS:-2}" --target sipfleet

port=$(python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
dir=$(bash deploy/kamailio/start.sh --port "$port")
trap 'bash deploy/kamailio/stop.sh "$dir" --clean >/dev/null 2>&1 || true' EXIT
echo "demo: Kamailio on 127.0.0.1:$port (runtime files in $dir)" >&2

report="$build/sipfleet-report.json"
set +e
"$build/app/sipfleet" run --proxy "127.0.0.1:$port" --domain sipfleet.test --users 1000-1999 \
  --password 'pw{user}' --register-rate 500 --calls 300 --call-rate 30 --hold 2s \
  --max-concurrent 100 --report "$report" "$@"
status=$?
set -e
echo "demo: JSON report in $report" >&2
exit $status
