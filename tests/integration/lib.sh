# shellcheck shell=bash disable=SC2034
# Shell helpers shared by sipfleet integration tests (bash). Source it:
#   source "$(dirname "$0")/lib.sh"
#   lib_init                      # temp dir $LIB_TMP, cleanup trap (EXIT/INT/TERM)
#   alloc_port KPORT              # KPORT=a UDP+TCP port free on 127.0.0.1 (never twice)
#   kamailio_start "$KPORT"       # deploy/kamailio/start.sh; sets KAMAILIO_DIR
#   check "name" some_command ... # counts passes/failures
#   lib_summary                   # prints "N passed, M failed", returns non-zero on failure
# Only 127.0.0.1 is used. Everything started through these helpers (Kamailio, background
# processes given to lib_track_pid / sipp_bg) is stopped by the trap, even on failure.

LIB_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$LIB_DIR/../.." && pwd)"
SIPP_SCEN="$REPO_ROOT/tests/sipp"
KAMAILIO_START="$REPO_ROOT/deploy/kamailio/start.sh"
KAMAILIO_STOP="$REPO_ROOT/deploy/kamailio/stop.sh"
LOCAL_IP=127.0.0.1
# Debian's python3 starts in 80 ms; a pyenv shim first in PATH can take 0.5 s
PYTHON="${PYTHON:-$( [[ -x /usr/bin/python3 ]] && echo /usr/bin/python3 || command -v python3 )}"

LIB_PASSED=0
LIB_FAILED=0
LIB_PIDS=()
LIB_KAMAILIO_DIRS=()
LIB_USED_PORTS=" "
LIB_TMP=""
LIB_KEEP_TMP="${LIB_KEEP_TMP:-0}"   # 1: keep $LIB_TMP (logs) after the run; kept anyway on failure

log() { echo "[$(date +%T)] $*" >&2; }

# ---- setup / cleanup ---------------------------------------------------------------
lib_init() {
  LIB_TMP="$(mktemp -d "${TMPDIR:-/tmp}/sipfleet-it.XXXXXX")"
  trap lib_cleanup EXIT
  trap 'log "interrupted"; exit 130' INT TERM
}

lib_track_pid() { LIB_PIDS+=("$1"); }

lib_cleanup() {
  local rc=$?
  local pid d
  for pid in "${LIB_PIDS[@]}"; do
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null
      for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -KILL "$pid" 2>/dev/null
    fi
    wait "$pid" 2>/dev/null
  done
  LIB_PIDS=()
  for d in "${LIB_KAMAILIO_DIRS[@]}"; do
    "$KAMAILIO_STOP" "$d" >/dev/null 2>&1 || log "warning: stop.sh $d failed"
  done
  LIB_KAMAILIO_DIRS=()
  if [[ -n "$LIB_TMP" && -d "$LIB_TMP" ]]; then
    # keep the Kamailio logs and SIPp traces when something failed
    if [[ "$LIB_KEEP_TMP" == 1 || $LIB_FAILED -gt 0 ]]; then
      log "logs kept in $LIB_TMP (kamailio-*/kamailio.log, sipp-*/)"
    else
      rm -rf "$LIB_TMP"
    fi
  fi
  return $rc
}

# ---- ports -------------------------------------------------------------------------
# alloc_port VAR: sets VAR to a port P on 127.0.0.1 that is free for UDP and TCP (and
# P+2 too, so it can also serve as a SIPp -mp media port, which binds P and P+2). Ports
# already handed out by alloc_port in this shell are never handed out again.
# (free_port prints one instead, but from $(...) it cannot remember what it gave.)
alloc_port() {
  local __var="$1" __ap_p
  for _ in $(seq 1 50); do
    __ap_p="$("$PYTHON" - <<'PY'
import socket
for _ in range(100):
    t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    t.bind(("127.0.0.1", 0))
    port = t.getsockname()[1]
    socks = [t]
    ok = port + 2 < 65536
    for (kind, pp) in ((socket.SOCK_DGRAM, port), (socket.SOCK_DGRAM, port + 2), (socket.SOCK_STREAM, port + 2)):
        if not ok: break
        s = socket.socket(socket.AF_INET, kind)
        try:
            s.bind(("127.0.0.1", pp)); socks.append(s)
        except OSError:
            ok = False; s.close()
    for s in socks: s.close()
    if ok:
        print(port); break
PY
)"
    [[ -n "$__ap_p" ]] || continue
    if [[ "$LIB_USED_PORTS" != *" $__ap_p "* && "$LIB_USED_PORTS" != *" $((__ap_p+2)) "* && "$LIB_USED_PORTS" != *" $((__ap_p-2)) "* ]]; then
      LIB_USED_PORTS+="$__ap_p $((__ap_p+2)) "
      printf -v "$__var" '%s' "$__ap_p"
      return 0
    fi
  done
  log "alloc_port: no free port found"
  return 1
}
free_port() { local p; alloc_port p && echo "$p"; }

# wait_for_port PORT [udp|tcp] [TIMEOUT_S=10]: wait until something listens on 127.0.0.1:PORT
wait_for_port() {
  local port="$1" proto="${2:-udp}" timeout="${3:-10}" flag
  [[ "$proto" == tcp ]] && flag=-ltn || flag=-lun
  local deadline=$(( $(date +%s) + timeout ))
  while ! ss -H "$flag" "src 127.0.0.1:$port" 2>/dev/null | grep -q .; do
    (( $(date +%s) < deadline )) || { log "wait_for_port: nothing on $proto 127.0.0.1:$port after ${timeout}s"; return 1; }
    sleep 0.1
  done
}

# api_port_of FILE PID: waits (up to 10 s, while PID lives) for the line sipfleet prints when it
# serves the API ("API on http://127.0.0.1:PORT/v1/") in FILE; prints PORT, or fails.
api_port_of() {
  local file="$1" pid="$2" port
  for _ in $(seq 1 100); do
    port=$(sed -n 's|.*API on http://127.0.0.1:\([0-9]*\)/v1/.*|\1|p' "$file" 2>/dev/null | head -1)
    [[ -n "$port" ]] && { echo "$port"; return 0; }
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  log "no API address in $file: $(head -c 500 "$file" 2>/dev/null)"
  return 1
}

# ---- Kamailio ----------------------------------------------------------------------
# kamailio_start PORT [start.sh options...]: starts it, sets KAMAILIO_DIR and KAMAILIO_PORT
kamailio_start() {
  local port="$1"; shift
  local dir="$LIB_TMP/kamailio-$port"
  LIB_KAMAILIO_DIRS+=("$dir")   # registered first: cleaned even if start fails half-way
  if ! "$KAMAILIO_START" --port "$port" --dir "$dir" "$@" >/dev/null; then
    log "kamailio_start: start.sh failed on port $port"
    return 1
  fi
  KAMAILIO_DIR="$dir"
  KAMAILIO_PORT="$port"
}

# lib_start_kamailio [start.sh options...]: a free port in KPORT and Kamailio started there,
# or the test ends at once with a FAIL (every test then needs it)
lib_start_kamailio() {
  alloc_port KPORT
  kamailio_start "$KPORT" "$@" || { fail "Kamailio starts"; lib_summary; exit 1; }
}

# kamailio_stop [DIR]: stops one instance (default: the last started)
kamailio_stop() {
  local dir="${1:-$KAMAILIO_DIR}" d keep=()
  "$KAMAILIO_STOP" "$dir" || return 1
  for d in "${LIB_KAMAILIO_DIRS[@]}"; do [[ "$d" == "$dir" ]] || keep+=("$d"); done
  LIB_KAMAILIO_DIRS=("${keep[@]}")
}

# ---- SIPp --------------------------------------------------------------------------
# users_csv FIRST LAST [DOMAIN] > file : SIPp injection file, see tests/sipp/users.csv.sh
users_csv() { "$SIPP_SCEN/users.csv.sh" "$@"; }

# sipp_run NAME [sipp args...]: run SIPp in the foreground, bounded (-timeout 20s
# -timeout_error unless SIPP_TIMEOUT is set), local 127.0.0.1 with fresh ports (-p, -mp)
# unless given. Traces go to $LIB_TMP/sipp-NAME/. Returns SIPp's exit code
# (0 all calls successful, 1 some failed, 97/99/255 errors or timeout).
# _sipp_prepare NAME [sipp args...]: the work dir and the -p/-mp ports not given; sets
# _SIPP_WD and _SIPP_EXTRA for sipp_run and sipp_bg.
_sipp_prepare() {
  local name="$1"; shift
  _SIPP_WD="$LIB_TMP/sipp-$name"
  mkdir -p "$_SIPP_WD"
  _SIPP_EXTRA=()
  local p
  if [[ " $* " != *" -p "* ]]; then alloc_port p || return 1; _SIPP_EXTRA+=(-p "$p"); fi
  if [[ " $* " != *" -mp "* ]]; then alloc_port p || return 1; _SIPP_EXTRA+=(-mp "$p"); fi
}

# _sipp_exec [sipp args...]: runs SIPp in $_SIPP_WD, bounded, with the traces the helpers read.
_sipp_exec() {
  cd "$_SIPP_WD" && exec sipp "$@" -i "$LOCAL_IP" "${_SIPP_EXTRA[@]}" \
      -timeout "${SIPP_TIMEOUT:-20s}" -timeout_error -nostdin \
      -trace_screen -trace_err -trace_msg >"$_SIPP_WD/stdout" 2>"$_SIPP_WD/stderr"
}

sipp_run() {
  local name="$1"; shift
  _sipp_prepare "$name" "$@" || return 1
  ( _sipp_exec "$@" )
  local rc=$?
  # 1 = some calls failed (the caller judges); >1 = SIPp error or global timeout
  (( rc <= 1 )) || log "sipp $name exited $rc (traces: $_SIPP_WD)"
  return $rc
}

# sipp_bg NAME [sipp args...]: like sipp_run but in the background; sets SIPP_BG_PID
sipp_bg() {
  local name="$1"; shift
  _sipp_prepare "$name" "$@" || return 1
  ( _sipp_exec "$@" ) &
  SIPP_BG_PID=$!
  lib_track_pid "$SIPP_BG_PID"
}

# sipp_wait PID: wait for a background SIPp, return its exit code
sipp_wait() { wait "$1"; }

# sipp_count NAME "Successful call"|"Failed call": cumulative counter from the final screen
sipp_count() {
  local f
  f="$(ls "$LIB_TMP/sipp-$1"/*_screen.log 2>/dev/null | head -n1)"
  [[ -n "$f" ]] || { echo 0; return; }
  grep -E "^ +$2 " "$f" | tail -n1 | awk -F'|' '{gsub(/ /,"",$3); print $3}'
}

# sipp_received NAME 'SIP/2.0 404': how many messages starting with that text SIPp received
sipp_received() {
  local f
  f="$(ls "$LIB_TMP/sipp-$1"/*_messages.log 2>/dev/null | head -n1)"
  [[ -n "$f" ]] || { echo 0; return; }
  grep -c "^$2" "$f"
}

# uas_register USER PROXY_PORT UAS_PORT [DOMAIN]: register USER (password pw{USER}) at the
# Kamailio with Contact 127.0.0.1:UAS_PORT, using the UAS's own port, so that a SIPp UAS
# started afterwards with -p UAS_PORT receives USER's calls (UDP).
uas_register() {
  local user="$1" kport="$2" uport="$3" domain="${4:-sipfleet.test}"
  users_csv "$user" "$user" "$domain" >"$LIB_TMP/uas-$user.csv"
  sipp_run "uas-register-$user" "$LOCAL_IP:$kport" -sf "$SIPP_SCEN/register_auth.xml" \
    -inf "$LIB_TMP/uas-$user.csv" -m 1 -p "$uport"
}

# ---- results -----------------------------------------------------------------------
pass() { LIB_PASSED=$((LIB_PASSED + 1)); echo "PASS: $*"; }
fail() { LIB_FAILED=$((LIB_FAILED + 1)); echo "FAIL: $*"; }

# expect NAME ACTUAL WANTED: PASS when equal, else FAIL showing both
expect() { if [[ "$2" == "$3" ]]; then pass "$1"; else fail "$1 (got '$2', wanted '$3')"; fi; }

# json FILE EXPR: prints a Python expression over the JSON file read as `r` (a report, say)
json() { "$PYTHON" -c "import json,sys; r=json.load(open(sys.argv[1])); print($2)" "$1"; }

# check NAME CMD...: runs CMD, PASS when it exits 0
check() {
  local name="$1"; shift
  local t0=$EPOCHREALTIME
  if "$@"; then
    pass "$name ($(_lib_elapsed "$t0") s)"
  else
    fail "$name ($(_lib_elapsed "$t0") s)"
  fi
}
_lib_elapsed() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'; }

# lib_summary: prints "N passed, M failed"; returns 1 if anything failed or nothing ran
lib_summary() {
  echo "$LIB_PASSED passed, $LIB_FAILED failed"
  [[ $LIB_FAILED -eq 0 && $LIB_PASSED -gt 0 ]]
}
