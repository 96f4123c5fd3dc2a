#!/usr/bin/env bash
# Kamailio in a container's foreground through deploy/kamailio/start.sh and stop.sh (unchanged):
# start.sh starts it in the background and returns once it answers; this script then streams its
# log, stops it with stop.sh on SIGTERM/SIGINT, and exits non-zero if Kamailio dies on its own.
#   kamailio-entrypoint [start.sh options...]     port: KAMAILIO_PORT (default 5060)
set -euo pipefail
here=/opt/sipfleet/kamailio
dir="${TMPDIR:-/tmp}/kamailio"
port="${KAMAILIO_PORT:-5060}"

"$here/start.sh" --port "$port" --dir "$dir" "$@" >/dev/null
pid="$(cat "$dir/kamailio.pid")"
echo "kamailio-entrypoint: Kamailio (pid $pid) answers on 127.0.0.1:$port, UDP and TCP"

tail -n +1 -F "$dir/kamailio.log" &
tail_pid=$!
stop() {
  "$here/stop.sh" "$dir" || true
  kill "$tail_pid" 2>/dev/null || true
  exit 0
}
trap stop TERM INT

# Kamailio was started by start.sh, not by this shell: watch it rather than wait for it.
while kill -0 "$pid" 2>/dev/null; do
  sleep 1 &
  wait $! || true
done
echo "kamailio-entrypoint: Kamailio exited" >&2
kill "$tail_pid" 2>/dev/null || true
exit 1
