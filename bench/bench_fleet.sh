#!/usr/bin/env bash
# sipfleet against SIPp through one Kamailio on this machine, in the same run (issue 3).
#
#   bench/bench_fleet.sh            # builds build/release, prints the figures (about 8 min)
#
# 1. Registration: 10,000 phones register (digest) through Kamailio at each offered rate of
#    REG_RATES: sipfleet (`sipfleet run --calls 0`) and SIPp (register_auth.xml, one SIPp
#    "call" per registration). Figures: registrations/s achieved, CPU seconds per 1,000
#    registrations, RSS per idle registered phone (sipfleet only).
# 2. Calls (1 ms hold: see HOLD_MS) at increasing rates (CALL_RATES): sipfleet phones call each other
#    (it plays caller and callee); SIPp uac_auth.xml calls a SIPp uas.xml registered in the
#    same Kamailio (CPU of both SIPp processes counted). Figures per rate: failures, setup
#    time, CPU per call; then the highest rate with < 1% failures for each tool.
#
# SIPp's scenarios here carry no RTP, so sipfleet runs with --media off in both parts: the same
# SIP work on both sides (bench/bench_media.sh compares media with SIPp's rtp_stream).
# REG_RATES=none or CALL_RATES=none skips that part.
# Everything runs on 127.0.0.1, bounded in calls and time. Kamailio's own CPU is not counted
# for either tool (it is shown apart); the machine's cores are shared by the three.
# Settings (environment): REG_PHONES=10000 REG_RATES="1000 2000 5000" REG_REPEAT=3 IDLE_SECONDS=9 IDLE_SAMPLE=6.5
# CALL_PHONES=1000 CALL_RATES="50 100 200 400 800 1600" CALL_SECONDS=8 CALL_MAX=6000
# MAX_CONCURRENT=500 KAM_CHILDREN=8 KAM_SHM=1024 KAM_PKG=32 BUILD=1 (0: use the existing
# build/release/app/sipfleet) KEEP=0 (1: keep logs, reports and SIPp traces in the temp dir).
set -u
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/.." && pwd)"
# shellcheck source=tests/integration/lib.sh
source "$REPO/tests/integration/lib.sh"

REG_PHONES="${REG_PHONES:-10000}"
REG_RATES="${REG_RATES:-1000 2000 5000}"
[[ "$REG_RATES" == none ]] && REG_RATES=""
REG_REPEAT="${REG_REPEAT:-3}"  # registration runs per rate and tool; the CPU figure is their median
IDLE_SECONDS="${IDLE_SECONDS:-9}"
# When the idle RSS is sampled: after Timer K (T4 = 5 s, RFC 3261 §17.1.2.2) has closed the
# last REGISTER transaction, so the process holds registered phones and nothing else.
IDLE_SAMPLE="${IDLE_SAMPLE:-6.5}"
CALL_PHONES="${CALL_PHONES:-1000}"
CALL_RATES="${CALL_RATES:-50 100 200 400 800 1600}"
[[ "$CALL_RATES" == none ]] && CALL_RATES=""
CALL_SECONDS="${CALL_SECONDS:-8}"
CALL_MAX="${CALL_MAX:-6000}"
MAX_CONCURRENT="${MAX_CONCURRENT:-500}"
KAM_CHILDREN="${KAM_CHILDREN:-8}"
KAM_SHM="${KAM_SHM:-1024}"
KAM_PKG="${KAM_PKG:-32}"
BUILD="${BUILD:-1}"
# shellcheck disable=SC2034  # read by lib.sh
LIB_KEEP_TMP="${KEEP:-0}"
BASELINE_PHONES=100
# "0 s hold": sipfleet's --hold 0 keeps a call up until hung up (it never ends by itself), so
# both tools hang up 1 ms after the answer
HOLD_MS=1
BIN="$REPO/build/release/app/sipfleet"
TIME=/usr/bin/time
CLK_TCK="$(getconf CLK_TCK)"

die() { log "bench_fleet: $*"; exit 1; }
for tool in sipp kamailio "$TIME" timeout; do
  command -v "$tool" >/dev/null || die "$tool not found (apt-get install sip-tester kamailio time coreutils)"
done

# ---- build -------------------------------------------------------------------------
if [[ "$BUILD" == 1 ]]; then
  log "building Release (build/release) ..."
  (cd "$REPO" && cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release -DSIPFLEET_TESTS=OFF \
     -DSIPFLEET_BENCH=ON >/dev/null && cmake --build build/release -j2 --target sipfleet >/dev/null) \
    || die "the Release build failed"
fi
[[ -x "$BIN" ]] || die "$BIN missing (BUILD=1 builds it)"

lib_init
T="$LIB_TMP"
alloc_port KPORT
kamailio_start "$KPORT" --children "$KAM_CHILDREN" --shm "$KAM_SHM" --pkg "$KAM_PKG" || die "Kamailio did not start"
KAM_PGID="$(tr -dc '0-9' <"$KAMAILIO_DIR/kamailio.pgid")"
log "Kamailio on 127.0.0.1:$KPORT (children $KAM_CHILDREN, shm $KAM_SHM MB), work dir $T"

# ---- helpers -----------------------------------------------------------------------
calc() { awk "BEGIN { printf \"$1\", $2 }"; }   # calc FORMAT EXPR
# the user+system seconds /usr/bin/time wrote with -f '%e %U %S %M' (last line; a line
# "Command terminated by signal" may come first)
time_cpu() { tail -n1 "$1" | awk '{ printf "%.3f", $2 + $3 }'; }
time_wall() { tail -n1 "$1" | awk '{ printf "%.3f", $1 }'; }
# Kamailio's CPU seconds so far (every process of its group)
kam_cpu() {
  local p total=0 t
  for p in $(pgrep -g "$KAM_PGID"); do
    t="$(awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$p/stat" 2>/dev/null)" || continue
    total=$((total + ${t:-0}))
  done
  calc "%.2f" "$total / $CLK_TCK"
}
vmrss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null; }
# the pid of the program that /usr/bin/time (pid $1) runs
child_of() { local c=""; for _ in $(seq 50); do c="$(pgrep -P "$1" | head -n1)"; [[ -n "$c" ]] && break; sleep 0.02; done; echo "$c"; }
# sipp's stat file column (cumulative) by name, last line
sipp_stat() {
  local f; f="$(ls "$1"/*_.csv 2>/dev/null | head -n1)"
  [[ -n "$f" ]] || { echo 0; return; }
  awk -F';' -v col="$2" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == col) c = i; next } END { print (c ? $c : 0) + 0 }' "$f"
}
# calls SIPp started per second: the median of its per-second statistics lines while it was
# still creating calls (the first and last such lines, partial seconds, left out), so that a
# call waiting for its -recv_timeout at the end does not lower the figure
sipp_created_rate() {
  local f; f="$(ls "$1"/*_.csv 2>/dev/null | head -n1)"
  [[ -n "$f" ]] || { echo 0; return; }
  awk -F';' 'NR == 1 { for (i = 1; i <= NF; i++) { if ($i == "OutgoingCall(P)") c = i; if ($i == "ElapsedTime(P)") e = i }; next }
    $c > 0 { split($e, t, ":"); s = t[1] * 3600 + t[2] * 60 + t[3]; if (s > 0) v[n++] = $c / s }
    END { if (n > 2) { m = 0; for (i = 1; i < n - 1; i++) w[m++] = v[i] } else { m = n; for (i = 0; i < n; i++) w[i] = v[i] }
          if (m == 0) { print 0; exit }
          for (i = 0; i < m; i++) for (j = i + 1; j < m; j++) if (w[j] < w[i]) { x = w[i]; w[i] = w[j]; w[j] = x }
          printf "%.0f", (m % 2) ? w[int(m / 2)] : (w[m / 2 - 1] + w[m / 2]) / 2 }' "$f"
}
# sipp_start DIR [args]: SIPp under /usr/bin/time in DIR, bounded by the caller's -m/-timeout;
# statistics (-trace_stat every second, -trace_screen at the end) and errors only, so that
# tracing costs it nothing per message. Sets SIPP_TIME_PID.
sipp_start() {
  local dir="$1"; shift
  mkdir -p "$dir"
  ( cd "$dir" && exec "$TIME" -f '%e %U %S %M' -o "$dir/time" sipp "$@" -i "$LOCAL_IP" -nostdin \
      -trace_stat -fd 1 -trace_screen -trace_err >"$dir/stdout" 2>"$dir/stderr" ) &
  SIPP_TIME_PID=$!
  lib_track_pid "$SIPP_TIME_PID"
}

# ---- 1. registration ---------------------------------------------------------------
# fleet_reg NAME USERS RATE: sipfleet registers USERS, stays registered IDLE_SECONDS, then
# unregisters. Samples VmRSS IDLE_SAMPLE s after every phone registered. Writes $T/NAME.{json,time,err,rss}.
fleet_reg() {
  local name="$1" users="$2" rate="$3" total="$4"
  local k0; k0="$(kam_cpu)"
  timeout -s INT 180 "$TIME" -f '%e %U %S %M' -o "$T/$name.time" "$BIN" run --api off --media off --proxy "127.0.0.1:$KPORT" \
    --users "$users" --register-rate "$rate" --expires 3600 --calls 0 --duration "${IDLE_SECONDS}s" \
    --report "$T/$name.json" >"$T/$name.out" 2>"$T/$name.err" &
  local tpid=$! pid rss=""
  lib_track_pid "$tpid"
  pid="$(child_of "$(child_of "$tpid")")"   # timeout -> time -> sipfleet
  for _ in $(seq 1 1200); do
    grep -q "phones $total/$total registered" "$T/$name.err" 2>/dev/null && break
    kill -0 "$tpid" 2>/dev/null || break
    sleep 0.1
  done
  sleep "$IDLE_SAMPLE"
  [[ -n "$pid" ]] && rss="$(vmrss_kb "$pid")"
  echo "${rss:-0}" >"$T/$name.rss"
  wait "$tpid"
  local rc=$?
  echo "$(calc "%.2f" "$(kam_cpu) - $k0")" >"$T/$name.kam"
  if [[ $rc -ne 0 || ! -s "$T/$name.json" ]]; then
    log "sipfleet $name exited $rc; stderr tail:"; tail -n5 "$T/$name.err" >&2
  fi
  return 0
}
# registration-phase CPU of a fleet_reg run: the whole process (/usr/bin/time) less the idle
# and shutdown phases of the report. Start-up (creating the phones) is included.
# (The report's process.cpu_registration_s is not used: see README.md.)
fleet_reg_cpu() {
  calc "%.3f" "$(time_cpu "$T/$1.time") - $(json "$T/$1.json" 'r["process"]["cpu_calls_s"] + r["process"]["cpu_shutdown_s"]')"
}

declare -A R_FA R_FCPU R_FRET R_FOK R_SA R_SCPU R_SRET R_SOK R_FKAM R_SKAM R_RSSI R_RSSM R_FIDLE

base_rss="" base_max="" base_cpu=""
if [[ -n "$REG_RATES" ]]; then
  log "sipfleet baseline: $BASELINE_PHONES phones"
  fleet_reg base "100000-$((100000 + BASELINE_PHONES - 1))" "${REG_RATES%% *}" "$BASELINE_PHONES"
  base_rss="$(cat "$T/base.rss")"
  base_max="$(json "$T/base.json" 'r["process"]["max_rss_kb"]')"
  base_cpu="$(fleet_reg_cpu base)"
fi

# median of the numbers given (the CPU figures of the REG_REPEAT runs: one run on this VM
# varies by up to ~25%, for both tools)
median() { printf '%s\n' "$@" | sort -g | awk '{ v[n++] = $1 } END { if (n == 0) exit; print (n % 2) ? v[int(n / 2)] : (v[n / 2 - 1] + v[n / 2]) / 2 }'; }
declare -A R_FCPU_ALL R_SCPU_ALL

i=0
for rep in $(seq 1 "$REG_REPEAT"); do
for rate in $REG_RATES; do
  i=$((i + 1))
  log "registration at $rate/s (run $rep of $REG_REPEAT): sipfleet, $REG_PHONES phones"
  fleet_reg "reg$rate" "100000-$((100000 + REG_PHONES - 1))" "$rate" "$REG_PHONES"
  j="$T/reg$rate.json"
  if [[ -s "$j" ]]; then
    R_FOK[$rate]="$(json "$j" 'r["registrations"]["succeeded"]')"
    R_FA[$rate]="$(calc "%.0f" "${R_FOK[$rate]} / $(json "$j" 'r["phases"]["registration_s"]')")"
    R_FCPU_ALL[$rate]+=" $(calc "%.3f" "$(fleet_reg_cpu "reg$rate") * 1000 / $REG_PHONES")"
    R_FRET[$rate]="$(json "$j" 'r["sip"]["retransmissions"]')"
    R_FIDLE[$rate]="$(json "$j" 'round(r["process"]["cpu_calls_s"] / r["phases"]["calls_s"], 3)')"
    R_RSSI[$rate]="$(calc "%.2f" "($(cat "$T/reg$rate.rss") - $base_rss) / ($REG_PHONES - $BASELINE_PHONES)")"
    R_RSSM[$rate]="$(calc "%.2f" "($(json "$j" 'r["process"]["max_rss_kb"]') - $base_max) / ($REG_PHONES - $BASELINE_PHONES)")"
    R_FKAM[$rate]="$(cat "$T/reg$rate.kam")"
  fi

  log "registration at $rate/s: SIPp, $REG_PHONES users"
  first=$((400000 + (i - 1) * REG_PHONES)) # fresh users each time: Kamailio inserts, as for sipfleet
  users_csv "$first" "$((first + REG_PHONES - 1))" >"$T/sipp-reg$rate.csv"
  alloc_port P; alloc_port MP
  k0="$(kam_cpu)"
  sipp_start "$T/sipp-reg$rate" "127.0.0.1:$KPORT" -sf "$SIPP_SCEN/register_auth.xml" -inf "$T/sipp-reg$rate.csv" \
    -m "$REG_PHONES" -r "$rate" -l 5000 -p "$P" -mp "$MP" -timeout 120s -timeout_error
  wait "$SIPP_TIME_PID"
  R_SKAM[$rate]="$(calc "%.2f" "$(kam_cpu) - $k0")"
  d="$T/sipp-reg$rate"
  R_SOK[$rate]="$(sipp_stat "$d" "SuccessfulCall(C)")"
  R_SA[$rate]="$(calc "%.0f" "${R_SOK[$rate]} / $(time_wall "$d/time")")"
  R_SCPU_ALL[$rate]+=" $(calc "%.3f" "$(time_cpu "$d/time") * 1000 / $REG_PHONES")"
  R_SRET[$rate]="$(sipp_stat "$d" "Retransmissions(C)")"
done
done
for rate in $REG_RATES; do
  # shellcheck disable=SC2086  # the lists are words on purpose
  R_FCPU[$rate]="$(median ${R_FCPU_ALL[$rate]:-})"
  # shellcheck disable=SC2086
  R_SCPU[$rate]="$(median ${R_SCPU_ALL[$rate]:-})"
done

# ---- 2. calls ----------------------------------------------------------------------
declare -A C_N C_FOK C_FP C_FRATE C_FSET C_FCPU C_FRET C_SOK C_SP C_SRATE C_SCPU C_SRET C_FKAM C_SKAM
f_best="none" s_best="none" f_done=0 s_done=0
if [[ -n "$CALL_RATES" ]]; then
alloc_port UAS_PORT
UAS_USER=299999
uas_register "$UAS_USER" "$KPORT" "$UAS_PORT" || die "the SIPp UAS did not register"
users_csv 300000 $((300000 + CALL_MAX - 1)) >"$T/callers.csv"
# SIPp's uas.xml, but the ACK may come after the BYE: Kamailio's parallel children can swap
# them when the caller hangs up 1 ms after its ACK (uas.xml would abort the call and count the
# late ACK as a new incoming call). sipfleet's phones absorb that ACK (RFC 6026 Accepted state).
sed 's|<recv request="ACK" rtd="true" crlf="true"/>|<recv request="ACK" optional="global" rtd="true" crlf="true"/>|' \
  "$SIPP_SCEN/uas.xml" >"$T/uas.xml"
grep -q 'request="ACK" optional="global"' "$T/uas.xml" || die "could not derive the UAS scenario from uas.xml"
fi
ok_at() {  # ok_at FAIL_PCT ACHIEVED RATE: < 1% failed and >= 90% of the offered rate achieved
  awk -v f="$1" -v a="$2" -v r="$3" 'BEGIN { exit !(f < 1 && a >= 0.9 * r) }'
}
for rate in $CALL_RATES; do
  (( f_done && s_done )) && break
  n=$((rate * CALL_SECONDS)); (( n > CALL_MAX )) && n=$CALL_MAX; (( n < 200 )) && n=200
  C_N[$rate]=$n
  bound=$((n / rate + 30))
  if (( ! f_done )); then
    log "calls at $rate/s: sipfleet, $n calls among $CALL_PHONES phones"
    k0="$(kam_cpu)"
    timeout -s INT $((bound + 60)) "$BIN" run --api off --media off --proxy "127.0.0.1:$KPORT" \
      --users "200000-$((200000 + CALL_PHONES - 1))" --register-rate 2000 --calls "$n" --call-rate "$rate" \
      --hold "${HOLD_MS}ms" --max-concurrent "$MAX_CONCURRENT" --max-failed-pct 100 --quiet --report "$T/calls$rate.json" \
      >"$T/calls$rate.out" 2>"$T/calls$rate.err"
    rc=$?
    C_FKAM[$rate]="$(calc "%.2f" "$(kam_cpu) - $k0")"
    j="$T/calls$rate.json"
    if [[ -s "$j" ]]; then
      C_FOK[$rate]="$(json "$j" 'r["calls"]["answered"]')"
      C_FP[$rate]="$(calc "%.2f" "100 * ($n - ${C_FOK[$rate]}) / $n")"
      C_FRATE[$rate]="$(json "$j" 'round(r["calls"]["attempted"] / r["phases"]["calls_s"])')"
      C_FSET[$rate]="$(json "$j" '"%.1f/%.1f" % (r["calls"]["setup_ms"]["p50"], r["calls"]["setup_ms"]["p99"])')"
      C_FCPU[$rate]="$(calc "%.3f" "1000 * $(json "$j" 'r["process"]["cpu_calls_s"]') / $n")"
      C_FRET[$rate]="$(json "$j" 'r["sip"]["retransmissions"]')"
      if ok_at "${C_FP[$rate]}" "${C_FRATE[$rate]}" "$rate"; then f_best=$rate; else f_done=1; fi
    else
      log "sipfleet calls at $rate/s exited $rc without a report; stderr tail:"; tail -n5 "$T/calls$rate.err" >&2
      f_done=1
    fi
  fi
  if (( ! s_done )); then
    log "calls at $rate/s: SIPp UAC -> Kamailio -> SIPp UAS, $n calls"
    alloc_port MP1; alloc_port P2; alloc_port MP2
    k0="$(kam_cpu)"
    # -m 2n: a stray ACK (after a reordered BYE) counts as an incoming call; stopped below
    sipp_start "$T/sipp-uas$rate" -sf "$T/uas.xml" -p "$UAS_PORT" -mp "$MP1" -m "$((2 * n))" \
      -timeout "$((bound + 30))s"
    uas=$SIPP_TIME_PID
    sleep 0.3
    sipp_start "$T/sipp-uac$rate" "127.0.0.1:$KPORT" -sf "$SIPP_SCEN/uac_auth.xml" -inf "$T/callers.csv" \
      -s "$UAS_USER" -m "$n" -r "$rate" -l "$MAX_CONCURRENT" -d "$HOLD_MS" -default_behaviors all,-bye -p "$P2" -mp "$MP2" \
      -recv_timeout 10000 -timeout "${bound}s" -timeout_error
    wait "$SIPP_TIME_PID"
    # the UAS's last call ends 0.5 s (timewait) after the UAC's; then stop it (it writes its stats)
    sleep 1
    if kill -0 "$uas" 2>/dev/null; then
      c="$(pgrep -P "$uas")"; [[ -n "$c" ]] && kill -TERM "$c"
    fi
    wait "$uas"
    C_SKAM[$rate]="$(calc "%.2f" "$(kam_cpu) - $k0")"
    d="$T/sipp-uac$rate"
    C_SOK[$rate]="$(sipp_stat "$d" "SuccessfulCall(C)")"  # (the screen log is empty after -timeout)
    C_SP[$rate]="$(calc "%.2f" "100 * ($n - ${C_SOK[$rate]}) / $n")"
    C_SRATE[$rate]="$(sipp_created_rate "$d")"
    C_SCPU[$rate]="$(calc "%.3f" "1000 * ($(time_cpu "$d/time") + $(time_cpu "$T/sipp-uas$rate/time")) / $n")"
    C_SRET[$rate]="$(( $(sipp_stat "$d" "Retransmissions(C)") + $(sipp_stat "$T/sipp-uas$rate" "Retransmissions(C)") ))"
    if ok_at "${C_SP[$rate]}" "${C_SRATE[$rate]}" "$rate"; then s_best=$rate; else s_done=1; fi
  fi
done

# ---- report ------------------------------------------------------------------------
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b + 0 == 0) print "-"; else printf "%.2fx", a / b }'; }
v() { [[ -n "${1:-}" ]] && echo "$1" || echo "-"; }
echo
echo "sipfleet vs SIPp through one Kamailio 5.6 on 127.0.0.1 ($(nproc) cores shared by all; Kamailio"
echo "$KAM_CHILDREN UDP children). CPU = user + system seconds of the tool's own processes; Kamailio's"
echo "CPU is not counted for either tool (shown apart). $(date -u +%FT%TZ), $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null)"
echo
for rate in $REG_RATES; do
  printf '%-44s %12s %12s %8s\n' "registrations ($REG_PHONES phones), offered $rate/s" sipfleet SIPp "ratio"
  printf '  %-42s %12s %12s\n' "registered" "$(v "${R_FOK[$rate]:-}")" "$(v "${R_SOK[$rate]:-}")"
  printf '  %-42s %12s %12s %8s\n' "rate achieved (reg/s)" "$(v "${R_FA[$rate]:-}")" "$(v "${R_SA[$rate]:-}")" \
    "$(ratio "${R_FA[$rate]:-}" "${R_SA[$rate]:-}")"
  printf '  %-42s %12s %12s %8s\n' "CPU s per 1,000 registrations (median)" "$(v "${R_FCPU[$rate]:-}")" "$(v "${R_SCPU[$rate]:-}")" \
    "$(ratio "${R_FCPU[$rate]:-}" "${R_SCPU[$rate]:-}")"
  printf '  %-42s %12s %12s\n' "  each run" "$(echo ${R_FCPU_ALL[$rate]:-} | tr ' ' '/')" "$(echo ${R_SCPU_ALL[$rate]:-} | tr ' ' '/')"
  printf '  %-42s %12s %12s\n' "retransmissions sent" "$(v "${R_FRET[$rate]:-}")" "$(v "${R_SRET[$rate]:-}")"
  printf '  %-42s %12s %12s\n' "(Kamailio CPU s during the run)" "$(v "${R_FKAM[$rate]:-}")" "$(v "${R_SKAM[$rate]:-}")"
  printf '  %-42s %12s %12s\n' "RSS per idle registered phone (VmRSS) KiB" "$(v "${R_RSSI[$rate]:-}")" "n/a"
  printf '  %-42s %12s %12s\n' "RSS per phone (peak, max_rss) KiB" "$(v "${R_RSSM[$rate]:-}")" "n/a"
  printf '  %-42s %12s %12s\n' "CPU while idle registered (cores)" "$(v "${R_FIDLE[$rate]:-}")" "n/a"
  echo
done
[[ -n "$REG_RATES" ]] && echo "  sipfleet $BASELINE_PHONES-phone baseline: VmRSS $base_rss KiB, max_rss $base_max KiB, registration-phase CPU $base_cpu s"
echo "  (RSS per phone = (10k run - $BASELINE_PHONES-phone run) / $((REG_PHONES - BASELINE_PHONES)); sipfleet CPU per 1,000 includes its start-up)"
echo
if [[ -n "$CALL_RATES" ]]; then
echo "calls, ${HOLD_MS} ms hold (sipfleet: $CALL_PHONES phones call each other; SIPp: uac_auth.xml -> Kamailio -> one uas.xml user)"
printf '  %6s %5s | %-9s %6s %7s %13s %8s %6s | %-9s %6s %7s %8s %6s | %6s\n' \
  "rate/s" calls "sipfleet" "fail%" "reached" "setup p50/p99" "CPU ms" "retr" "SIPp" "fail%" "reached" "CPU ms" "retr" "ratio"
for rate in $CALL_RATES; do
  [[ -n "${C_N[$rate]:-}" ]] || continue
  printf '  %6s %5s | %-9s %6s %7s %13s %8s %6s | %-9s %6s %7s %8s %6s | %6s\n' "$rate" "${C_N[$rate]}" \
    "$(v "${C_FOK[$rate]:-}") ok" "$(v "${C_FP[$rate]:-}")" "$(v "${C_FRATE[$rate]:-}")" "$(v "${C_FSET[$rate]:-}")" \
    "$(v "${C_FCPU[$rate]:-}")" "$(v "${C_FRET[$rate]:-}")" \
    "$(v "${C_SOK[$rate]:-}") ok" "$(v "${C_SP[$rate]:-}")" "$(v "${C_SRATE[$rate]:-}")" "$(v "${C_SCPU[$rate]:-}")" \
    "$(v "${C_SRET[$rate]:-}")" "$(ratio "${C_FCPU[$rate]:-}" "${C_SCPU[$rate]:-}")"
done
echo "  (CPU ms = CPU per call of caller + callee side: sipfleet's calls phase; SIPp UAC + UAS whole processes."
echo "   fail% = calls not answered (sipfleet) / not successful (SIPp) of those asked; reached = calls started/s."
echo "   Kamailio CPU s per rate, sipfleet | SIPp:$(for r in $CALL_RATES; do [[ -n "${C_N[$r]:-}" ]] && printf ' %s: %s|%s' "$r" "$(v "${C_FKAM[$r]:-}")" "$(v "${C_SKAM[$r]:-}")"; done))"
echo "highest rate with < 1% failures (and >= 90% of the rate reached): sipfleet $f_best/s, SIPp $s_best/s" \
  "(rates tried: $CALL_RATES)"
echo
fi
echo "targets: CPU per registration and per call <= SIPp's; <= 4 KiB RSS per idle registered phone"
