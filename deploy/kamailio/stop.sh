#!/usr/bin/env bash
# Stop the Kamailio started by start.sh with runtime dir DIR:
#   deploy/kamailio/stop.sh DIR [--clean]
# Sends TERM to the main process, waits up to 5 s, then KILLs its whole process group
# (kamailio children included). Exit 0 when nothing of it is left running.
# --clean: afterwards delete DIR (log included), but only a DIR that start.sh created
# itself (no --dir given); otherwise DIR is kept.
set -uo pipefail
DIR="${1:?usage: stop.sh DIR [--clean]}"
CLEAN=0
[[ "${2:-}" == --clean ]] && CLEAN=1
PIDFILE="$DIR/kamailio.pid"
PGIDFILE="$DIR/kamailio.pgid"

clean_dir() {
  if [[ $CLEAN == 1 && -f "$DIR/.created-by-start-sh" ]]; then rm -rf "$DIR"; fi
}

PID=""; PGID=""
[[ -s "$PIDFILE" ]] && PID="$(tr -dc '0-9' <"$PIDFILE")"
[[ -s "$PGIDFILE" ]] && PGID="$(tr -dc '0-9' <"$PGIDFILE")"
[[ -z "$PGID" && -n "$PID" ]] && PGID="$PID"
if [[ -z "$PID" && -z "$PGID" ]]; then
  echo "stop.sh: no pid file in $DIR (not running?)" >&2
  clean_dir
  exit 0
fi

# only act on kamailio processes (the pid may have been reused)
is_kamailio() { [[ -n "$1" ]] && [[ "$(cat /proc/"$1"/comm 2>/dev/null)" == kamailio* ]]; }
group_alive() { [[ -n "$PGID" ]] && pgrep -g "$PGID" -x kamailio >/dev/null 2>&1; }

if is_kamailio "$PID"; then
  kill -TERM "$PID" 2>/dev/null
fi
for _ in $(seq 1 50); do
  if ! is_kamailio "$PID" && ! group_alive; then break; fi
  sleep 0.1
done
if group_alive; then
  kill -KILL -- "-$PGID" 2>/dev/null
fi
if is_kamailio "$PID"; then kill -KILL "$PID" 2>/dev/null; fi
for _ in $(seq 1 20); do
  group_alive || is_kamailio "$PID" || break
  sleep 0.1
done
if group_alive || is_kamailio "$PID"; then
  echo "stop.sh: kamailio (pid $PID, group $PGID) still alive" >&2
  exit 1
fi
rm -f "$PIDFILE" "$PGIDFILE"
clean_dir
exit 0
