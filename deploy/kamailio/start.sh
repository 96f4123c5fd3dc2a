#!/usr/bin/env bash
# Start the sipfleet test Kamailio on 127.0.0.1:PORT (UDP and TCP) in the background.
#
#   deploy/kamailio/start.sh --port PORT [--dir DIR] [--children N] [--tcp-children N]
#                            [--shm MB] [--pkg MB] [--debug LEVEL] [--define NAME]...
#
# Runtime files (pid/pgid file, runtime dir for sockets, kamailio.log) go to DIR
# (default: a new mktemp -d). On success prints DIR on stdout and exits 0; on
# failure prints the log tail on stderr and exits non-zero (nothing left running).
# Stop with: deploy/kamailio/stop.sh DIR
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CFG="${KAMAILIO_CFG:-$HERE/kamailio.cfg}"
KAMAILIO="${KAMAILIO:-$(command -v kamailio || echo /usr/sbin/kamailio)}"
MODULES="${KAMAILIO_MODULES:-/usr/lib/x86_64-linux-gnu/kamailio/modules}"
ADDR=127.0.0.1
# Debian's python3 starts in 80 ms; a pyenv shim first in PATH can take 0.5 s
PYTHON="${PYTHON:-$( [[ -x /usr/bin/python3 ]] && echo /usr/bin/python3 || command -v python3 )}"

PORT="" DIR="" CHILDREN=4 TCP_CHILDREN="" SHM=256 PKG=16 DEBUG=1 WAIT=15
DEFINES=()

usage() { sed -n '2,11p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2; }

while [[ $# -gt 0 ]]; do
  case "$1" in
    --port) PORT="$2"; shift 2 ;;
    --dir) DIR="$2"; shift 2 ;;
    --children) CHILDREN="$2"; shift 2 ;;
    --tcp-children) TCP_CHILDREN="$2"; shift 2 ;;
    --shm) SHM="$2"; shift 2 ;;
    --pkg) PKG="$2"; shift 2 ;;
    --debug) DEBUG="$2"; shift 2 ;;
    --define) DEFINES+=("$2"); shift 2 ;;
    --wait) WAIT="$2"; shift 2 ;;
    -h|--help) usage ;;
    *) echo "start.sh: unknown argument: $1" >&2; usage ;;
  esac
done

[[ "$PORT" =~ ^[0-9]+$ ]] && (( PORT > 0 && PORT < 65536 )) || { echo "start.sh: --port PORT is required (1-65535)" >&2; exit 2; }
[[ "$CHILDREN" =~ ^[0-9]+$ ]] || { echo "start.sh: bad --children" >&2; exit 2; }
[[ -z "$TCP_CHILDREN" ]] && TCP_CHILDREN="$CHILDREN"
[[ -x "$KAMAILIO" ]] || { echo "start.sh: kamailio not found (apt-get install kamailio)" >&2; exit 1; }

if [[ -z "$DIR" ]]; then
  DIR="$(mktemp -d "${TMPDIR:-/tmp}/sipfleet-kamailio.XXXXXX")"
  touch "$DIR/.created-by-start-sh"   # stop.sh --clean may delete it
else
  mkdir -p "$DIR"
fi
DIR="$(cd "$DIR" && pwd)"
mkdir -p "$DIR/run"
LOG="$DIR/kamailio.log"
PIDFILE="$DIR/kamailio.pid"
PGIDFILE="$DIR/kamailio.pgid"

if [[ -s "$PIDFILE" ]] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
  echo "start.sh: an instance already runs with DIR=$DIR (pid $(cat "$PIDFILE"))" >&2
  exit 1
fi
rm -f "$PIDFILE" "$PGIDFILE"

ARGS=(-f "$CFG" -L "$MODULES" -Y "$DIR/run" -w "$DIR"
      -P "$PIDFILE"
      -m "$SHM" -M "$PKG" -n "$CHILDREN" -N "$TCP_CHILDREN"
      -a no --debug="$DEBUG" -E
      -l "udp:$ADDR:$PORT" -l "tcp:$ADDR:$PORT"
      -A "TCP_CHILDREN=$TCP_CHILDREN")
for d in "${DEFINES[@]}"; do ARGS+=(-A "$d"); done

# 0. the port must be free (another instance on it would answer our readiness probe)
port_users() { ss -Hlnup "sport = :$PORT" 2>/dev/null; ss -Hlntp "sport = :$PORT" 2>/dev/null; }
if [[ -n "$(port_users)" ]]; then
  echo "start.sh: port $PORT is already in use on UDP or TCP:" >&2
  port_users >&2
  exit 1
fi

# 1. syntax check of the configuration
if ! "$KAMAILIO" -c "${ARGS[@]}" >"$DIR/check.log" 2>&1; then
  echo "start.sh: configuration check failed ($CFG):" >&2
  tail -n 30 "$DIR/check.log" >&2
  exit 1
fi

# 2. start: -DD keeps the creator process in front (no daemonize), setsid puts it in
#    its own session/process group so stop.sh can kill the whole group.
{
  echo "=== $(date -Is) start: $KAMAILIO ${ARGS[*]}"
} >>"$LOG"
setsid "$KAMAILIO" -DD "${ARGS[@]}" </dev/null >>"$LOG" 2>&1 &
LAUNCHER=$!

fail() {
  echo "start.sh: $1" >&2
  echo "--- tail of $LOG ---" >&2
  tail -n 40 "$LOG" >&2 || true
  "$HERE/stop.sh" "$DIR" >/dev/null 2>&1 || true
  kill -TERM "$LAUNCHER" 2>/dev/null || true
  exit 1
}

# 3. wait until it answers an OPTIONS over UDP with 200 and accepts TCP
probe() {
  "$PYTHON" - "$ADDR" "$PORT" <<'PY'
import socket, sys, random
host, port = sys.argv[1], int(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind((host, 0)); s.settimeout(0.3)
lp = s.getsockname()[1]; tag = random.randrange(1 << 30)
msg = (f"OPTIONS sip:{host}:{port} SIP/2.0\r\n"
       f"Via: SIP/2.0/UDP {host}:{lp};branch=z9hG4bK-probe{tag};rport\r\n"
       f"Max-Forwards: 70\r\nFrom: <sip:probe@{host}>;tag={tag}\r\nTo: <sip:{host}:{port}>\r\n"
       f"Call-ID: probe-{tag}@{host}\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n")
s.sendto(msg.encode(), (host, port))
try:
    data = s.recv(65535).decode(errors="replace")
except OSError:
    sys.exit(1)
if not data.startswith("SIP/2.0 200"):
    sys.exit(1)
t = socket.create_connection((host, port), timeout=0.5); t.close()
PY
}

deadline=$(( $(date +%s) + WAIT ))
while :; do
  if ! kill -0 "$LAUNCHER" 2>/dev/null; then
    fail "kamailio exited during startup (port $PORT busy?)"
  fi
  if probe 2>/dev/null; then
    # the answer must come from our process (it holds the socket), not from a
    # process that took the port in the meantime
    owners="$(port_users)"   # (not piped into grep -q: pipefail + SIGPIPE)
    if [[ "$owners" == *"pid=$LAUNCHER,"* ]]; then break; fi
    kill -0 "$LAUNCHER" 2>/dev/null || fail "kamailio exited during startup (port $PORT busy?)"
  fi
  (( $(date +%s) < deadline )) || fail "kamailio did not answer OPTIONS on $ADDR:$PORT within ${WAIT}s"
  sleep 0.2
done

# the -P pid file is written by kamailio itself; make sure it is there
# kamailio writes the -P pid file itself; the launcher pid is the same process (setsid
# execs it, -DD keeps it in front)
echo "$LAUNCHER" >"$PIDFILE"
PGID="$(ps -o pgid= -p "$LAUNCHER" 2>/dev/null | tr -dc '0-9' || true)"
echo "${PGID:-$LAUNCHER}" >"$PGIDFILE"
echo "$PORT" >"$DIR/port"
echo "$DIR"
