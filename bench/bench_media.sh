#!/usr/bin/env bash
# Media load (issue 4): N concurrent calls with G.711 RTP both ways, both ends sipfleet phones,
# through one Kamailio on this machine; then SIPp (UAC + UAS, rtp_stream both ways) at the same
# N, in the same run, up to the largest N it sustains.
#
#   bench/bench_media.sh            # builds build/release, prints the figures (about 6 min)
#
# Per N, in a steady window (every call up, none ending yet) of WINDOW seconds:
#   packets/s sent, from the kernel's UDP counters (/proc/net/snmp, loopback only traffic here),
#   against the N x 2 x 50/s that 20 ms packets make; UDP receive-buffer drops in the window;
#   CPU per stream (process CPU / streams), in % of a core.
# And for sipfleet, from its report (the whole run): packets lost (RFC 3550 A.3), jitter,
# pacing lateness p50/p99 (send time - due time), MOS.
# A tool "sustains" N when >= 99% of the calls completed (bench_fleet.sh's bar), it sent >= 99%
# of the packets due in the window, and (sipfleet) no datagram was dropped and none was lost.
#
# Settings (environment): NS="500 1000 2000 5000" SIPP_NS="100 250 500 1000 2000 5000" (none: skip SIPp) WINDOW=6 CALL_RATE=500
# KAM_CHILDREN=8 KAM_SHM=1024 KAM_PKG=32 BUILD=1 KEEP=0 (1: keep logs and reports)
# MEDIA_RT=10: sipfleet's --media-rt-priority (SCHED_FIFO for the media threads where allowed;
# 0: normal scheduling at --media-nice's default). The report says what applied.
# Everything runs on 127.0.0.1 and is bounded: each run has a fixed number of calls and a hold.
set -u
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/.." && pwd)"
# shellcheck source=tests/integration/lib.sh
source "$REPO/tests/integration/lib.sh"

NS="${NS:-500 1000 2000 5000}"
SIPP_NS="${SIPP_NS:-100 250 500 1000 2000 5000}"
[[ "$SIPP_NS" == none ]] && SIPP_NS=""  # SIPP_NS=none: sipfleet only
WINDOW="${WINDOW:-6}"
CALL_RATE="${CALL_RATE:-500}"
MEDIA_RT="${MEDIA_RT:-10}"
KAM_CHILDREN="${KAM_CHILDREN:-8}"
KAM_SHM="${KAM_SHM:-1024}"
KAM_PKG="${KAM_PKG:-32}"
BUILD="${BUILD:-1}"
# shellcheck disable=SC2034  # read by lib.sh
LIB_KEEP_TMP="${KEEP:-0}"
BIN="$REPO/build/release/app/sipfleet"
CLK_TCK="$(getconf CLK_TCK)"

die() { log "bench_media: $*"; exit 1; }
for tool in sipp kamailio timeout; do command -v "$tool" >/dev/null || die "$tool not found"; done
# two sockets per call end: 5,000 calls between sipfleet's own phones are 20,000 descriptors
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

if [[ "$BUILD" == 1 ]]; then
  log "building Release (build/release) ..."
  (cd "$REPO" && cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release -DSIPFLEET_TESTS=OFF \
     >/dev/null && cmake --build build/release -j2 --target sipfleet >/dev/null) || die "the Release build failed"
fi
[[ -x "$BIN" ]] || die "$BIN missing (BUILD=1 builds it)"

lib_init
T="$LIB_TMP"
alloc_port KPORT
kamailio_start "$KPORT" --children "$KAM_CHILDREN" --shm "$KAM_SHM" --pkg "$KAM_PKG" || die "Kamailio did not start"
log "Kamailio on 127.0.0.1:$KPORT, work dir $T"

calc() { awk "BEGIN { printf \"$1\", $2 }"; }
# udp COUNTER: the kernel's Udp counter (OutDatagrams, InDatagrams, RcvbufErrors, ...)
udp() { awk -v k="$1" '$1 == "Udp:" { if (!n) { for (i = 2; i <= NF; i++) c[$i] = i; n = 1 } else print $(c[k]) }' /proc/net/snmp; }
# cpu_ticks PID...: user + system clock ticks of the processes (all threads)
cpu_ticks() {
  local p t=0 v
  for p in "$@"; do
    [[ "$p" =~ ^[0-9]+$ ]] || continue
    v="$(awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$p/stat" 2>/dev/null)" || continue
    t=$((t + ${v:-0}))
  done
  echo "$t"
}
# window PIDS...: sleeps WINDOW s and prints "sent_per_s drops cpu_cores" for that window
window() {
  local o0 d0 c0 o1 d1 c1
  o0="$(udp OutDatagrams)"; d0="$(( $(udp RcvbufErrors) + $(udp InErrors) ))"; c0="$(cpu_ticks "$@")"
  sleep "$WINDOW"
  o1="$(udp OutDatagrams)"; d1="$(( $(udp RcvbufErrors) + $(udp InErrors) ))"; c1="$(cpu_ticks "$@")"
  echo "$(calc "%.0f" "($o1 - $o0) / $WINDOW") $((d1 - d0)) $(calc "%.3f" "($c1 - $c0) / $CLK_TCK / $WINDOW")"
}
# the hold that keeps every call up through the window: ramp, 2 s to settle, the window, 2 s
hold_for() { calc "%.0f" "$1 / $CALL_RATE + 4 + $WINDOW"; }

declare -A F_SCHED F_SETUP F_WORST F_WLATE F_RATE F_DROP F_CPU F_OK F_LOST F_JIT F_LATE F_MOS F_SUST S_RATE S_DROP S_CPU S_OK S_SUST
# ---- sipfleet: 2N phones, N calls among them ----------------------------------------------
base=500000
for n in $NS; do
  hold="$(hold_for "$n")"
  # 10% more phones than the calls' two ends: the campaign picks idle pairs at random, and the
  # last calls would wait for the last idle phones to be drawn
  phones=$((2 * n + n / 5))
  log "sipfleet: $n calls with media among $phones phones, hold ${hold}s"
  first=$base; base=$((base + phones))
  timeout -s INT $((hold + n / 200 + 90)) "$BIN" run --api off --proxy "127.0.0.1:$KPORT" \
    --users "$first-$((first + phones - 1))" --register-rate 2000 --calls "$n" --call-rate "$CALL_RATE" \
    --max-concurrent "$n" --hold "${hold}s" --rtp-ports 10000-59999 --media-rt-priority "$MEDIA_RT" --report "$T/f$n.json" --call-records "$T/f$n.calls" \
    >"$T/f$n.out" 2>"$T/f$n.err" &
  pid=$!
  lib_track_pid "$pid"
  # every call up: the status line (once a second) shows 2N streams, all sending (a stream is
  # open from the SDP offer; it sends once the call is answered, which can take seconds here
  # while the SCHED_FIFO media threads leave Kamailio little CPU during the ramp)
  all_up=0
  for _ in $(seq 1 $(( (n / CALL_RATE + 30) * 10 ))); do
    [[ -d "/proc/$pid" ]] || break
    if grep -q "media $((2 * n)) streams ($((2 * n)) sending)" "$T/f$n.err"; then all_up=1; break; fi
    sleep 0.1
  done
  sleep 1
  l0="$(wc -l <"$T/f$n.err")"
  rate="" drops="" cores=""
  if (( all_up )); then
    read -r rate drops cores < <(window "$(pgrep -P "$pid" | head -n1)")
  else
    log "sipfleet at N=$n: the calls were never all up at once (no window figures)"
  fi
  # pacing in the window: the status lines' per-second p99 lateness, their worst and median
  F_WLATE[$n]="$(sed -n "$((l0 + 1)),$((l0 + WINDOW))p" "$T/f$n.err" | sed -n 's/.*late p99 \([0-9.]*\) ms.*/\1/p' |
    sort -g | awk '{ v[n++] = $1 } END { if (n) printf "%.2f/%.2f", v[int(n / 2)], v[n - 1]; else print "-" }')"
  wait "$pid"
  j="$T/f$n.json"
  if [[ -s "$j" ]]; then
    F_RATE[$n]=$rate F_DROP[$n]=$drops
    [[ -n "$cores" ]] && F_CPU[$n]="$(calc "%.3f" "100 * $cores / (2 * $n)")"
    F_OK[$n]="$(json "$j" 'r["calls"]["answered"]')"
    F_LOST[$n]="$(json "$j" '"%d (%.3f%%)" % (r["media"]["lost"], r["media"]["loss_pct"])')"
    F_JIT[$n]="$(json "$j" '"%.2f/%.2f" % (r["media"]["jitter_ms"]["p50"], r["media"]["jitter_ms"]["p95"])')"
    F_LATE[$n]="$(json "$j" '"%.2f/%.2f" % (r["media"]["pacing_late_ms"]["p50"], r["media"]["pacing_late_ms"]["p99"])')"
    F_MOS[$n]="$(json "$j" '"%.2f/%.2f" % (r["media"]["mos"]["avg"], r["media"]["mos"]["min"])')"
    F_SETUP[$n]="$(json "$j" '"%.0f/%.0f" % (r["calls"]["setup_ms"]["p50"], r["calls"]["setup_ms"]["p99"])')"
    # the stream with the lowest MOS, from the call records: what brought it down
    F_WORST[$n]="$("$PYTHON" - "$T/f$n.calls" <<'PY'
import json, sys
worst = None
for line in open(sys.argv[1]):
    r = json.loads(line)
    m = r.get("media") or {}
    if "mos" in m and (worst is None or m["mos"] < worst[1]["mos"]):
        worst = (r, m)
if worst:
    r, m = worst
    rtt = m.get("rtt_ms")
    print("MOS %.2f (%s, %d of %d expected received, lost %d, jitter %.2f ms, RTT %s)" % (
        m["mos"], r["direction"], m["packets_received"], m["expected"], m["lost"], m["jitter_ms"],
        "%.2f ms" % rtt if rtt is not None else "none"))
PY
)"
    F_SCHED[$n]="$(json "$j" '("SCHED_FIFO %d (%d of %d at the end)" % (r["media"]["worker_rt_priority"], r["media"]["rt_workers"], r["media"]["workers"]) if r["media"]["worker_rt_priority"] else "nice %d" % r["media"]["worker_nice"]) + ("" if not r["media"]["rt_demotions"] else ", left SCHED_FIFO %d time(s)" % r["media"]["rt_demotions"])')"
    due=$((n * 100))
    if (( all_up )) && [[ "${F_LOST[$n]}" == "0 "* ]] && (( drops == 0 )) &&
       awk -v ok="${F_OK[$n]}" -v n="$n" -v r="$rate" -v d="$due" 'BEGIN { exit !(ok >= 0.99 * n && r >= 0.99 * d) }'; then
      F_SUST[$n]=yes
    else
      F_SUST[$n]=no
    fi
  else
    log "sipfleet at N=$n ended without a report; stderr tail:"; tail -n5 "$T/f$n.err" >&2
    F_SUST[$n]=no
  fi
done

# ---- SIPp: UAC and UAS with rtp_stream both ways ------------------------------------------
# 4 s of a 440 Hz tone, G.711 mu-law WAV, for SIPp's rtp_stream (payload type 0, 20 ms packets)
"$PYTHON" - "$T/tone.wav" <<'PY'
import math, struct, sys
def ulaw(x):
    sign = 0x80 if x < 0 else 0
    x = min(abs(x), 32635) + 0x84
    exp = next((e for e in range(7, -1, -1) if x & (0x4000 >> (7 - e))), 0)
    return ~(sign | (exp << 4) | ((x >> (exp + 3)) & 0x0F)) & 0xFF
data = bytes(ulaw(int(8000 * math.sin(2 * math.pi * 440 * i / 8000))) for i in range(32000))
fmt = struct.pack("<HHIIHH", 7, 1, 8000, 8000, 1, 8)
body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", len(data)) + data
open(sys.argv[1], "wb").write(b"RIFF" + struct.pack("<I", len(body)) + body)
PY
# the project's SIPp scenarios, with a per-call RTP port and rtp_stream after the ACK
"$PYTHON" - "$SIPP_SCEN" "$T" <<'PY'
import sys
scen, out = sys.argv[1], sys.argv[2]
uac = open(scen + "/uac_auth.xml").read().replace("[media_port]", "[rtpstream_audio_port]")
pause = "  <!-- call duration: -d on the command line -->\n  <pause/>"
assert pause in uac
uac = uac.replace(pause, '  <nop><action><exec rtp_stream="tone.wav,-1,0"/></action></nop>\n  <pause/>')
uas = open(scen + "/uas.xml").read().replace("[media_port]", "[rtpstream_audio_port]")
ack = '  <recv request="ACK" rtd="true" crlf="true"/>'
assert ack in uas
uas = uas.replace(ack, ack + '\n  <nop><action><exec rtp_stream="tone.wav,-1,0"/></action></nop>')
open(out + "/uac_rtp.xml", "w").write(uac)
open(out + "/uas_rtp.xml", "w").write(uas)
PY
alloc_port UAS_PORT
UAS_USER=299998
if [[ -n "$SIPP_NS" ]]; then
  uas_register "$UAS_USER" "$KPORT" "$UAS_PORT" || die "the SIPp UAS did not register"
fi
max_n=0; for n in $SIPP_NS; do (( n > max_n )) && max_n=$n; done
(( max_n > 0 )) && users_csv 600000 $((600000 + max_n - 1)) >"$T/callers.csv"
for n in $SIPP_NS; do
  hold="$(hold_for "$n")"
  log "SIPp: $n calls with rtp_stream both ways, hold ${hold}s"
  alloc_port MP1; alloc_port P2; alloc_port MP2
  d="$T/sipp$n"; mkdir -p "$d"; cp "$T/tone.wav" "$d/"
  ( cd "$d" && exec sipp -sf "$T/uas_rtp.xml" -i 127.0.0.1 -p "$UAS_PORT" -mp "$MP1" -m "$n" -nostdin \
      -timeout "$((hold + 40))s" -trace_screen >"$d/uas.out" 2>&1 ) &
  uas=$!; lib_track_pid "$uas"
  sleep 0.3
  ( cd "$d" && exec sipp "127.0.0.1:$KPORT" -sf "$T/uac_rtp.xml" -inf "$T/callers.csv" -s "$UAS_USER" -m "$n" \
      -r "$CALL_RATE" -l "$n" -d "$((hold * 1000))" -default_behaviors all,-bye -i 127.0.0.1 -p "$P2" -mp "$MP2" \
      -nostdin -timeout "$((hold + 30))s" -timeout_error -trace_screen -trace_stat -fd 1 >"$d/uac.out" 2>&1 ) &
  uac=$!; lib_track_pid "$uac"
  sleep "$(calc "%.1f" "$n / $CALL_RATE + 2")"
  read -r rate drops cores < <(window "$uac" "$uas")  # (the subshells exec'ed into sipp)
  wait "$uac"; rc=$?
  sleep 1; kill -TERM "$uas" 2>/dev/null; wait "$uas" 2>/dev/null
  ok="$(awk -F';' 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "SuccessfulCall(C)") c = i; next } END { print (c ? $c : 0) + 0 }' "$(ls "$d"/*_.csv | head -n1)")"
  S_RATE[$n]=$rate S_DROP[$n]=$drops S_OK[$n]=$ok
  S_CPU[$n]="$(calc "%.3f" "100 * $cores / (2 * $n)")"
  # SIPp's rtp_stream does not read what it receives (the kernel drops it: the drops column),
  # so for SIPp "sustains" asks only for the calls and the packets sent
  if awk -v ok="$ok" -v n="$n" -v r="$rate" -v d="$((n * 100))" 'BEGIN { exit !(ok >= 0.99 * n && r >= 0.99 * d) }'; then
    S_SUST[$n]=yes
  else
    S_SUST[$n]=no
    log "SIPp did not sustain N=$n (exit $rc): stopping the SIPp series"
    break
  fi
done

# ---- figures ----------------------------------------------------------------------------
v() { [[ -n "${1:-}" ]] && echo "$1" || echo "-"; }
echo
echo "Media: N concurrent G.711 calls, RTP both ways (20 ms packets: N x 100 packets/s in all), through"
echo "Kamailio on 127.0.0.1; $(nproc) cores. Window figures: ${WINDOW} s with every call up; packets/s counts"
echo "every UDP datagram sent on the machine (RTP, and the little RTCP and SIP beside it). \"late p99\": the"
echo "status line's per-second pacing p99 in the window (median/worst second); \"late ms\": the whole run,"
echo "registration and call set-up included."
printf '\n%-6s %-9s | %11s %8s %6s %9s %11s | %-16s %-11s %-11s %-11s %5s\n' "N" "tool" "packets/s" "of due" "drops" \
  "CPU/strm" "late p99" "lost" "jitter ms" "late ms" "MOS" "ok"
printf '%-6s %-9s | %11s %8s %6s %9s %11s | %-16s %-11s %-11s %-11s %5s\n' "" "" "sent" "" "" "% core" "med/max" "" \
  "p50/p95" "p50/p99" "avg/min" ""
best_f=0 best_s=0
for n in $NS; do
  printf '%-6s %-9s | %11s %8s %6s %9s %11s | %-16s %-11s %-11s %-11s %5s\n' "$n" sipfleet "$(v "${F_RATE[$n]:-}")" \
    "$( [[ -n "${F_RATE[$n]:-}" ]] && calc "%.1f%%" "100 * ${F_RATE[$n]} / ($n * 100)" || echo -)" \
    "$(v "${F_DROP[$n]:-}")" "$(v "${F_CPU[$n]:-}")" "$(v "${F_WLATE[$n]:-}")" "$(v "${F_LOST[$n]:-}")" "$(v "${F_JIT[$n]:-}")" \
    "$(v "${F_LATE[$n]:-}")" "$(v "${F_MOS[$n]:-}")" "$(v "${F_SUST[$n]:-}")"
  [[ "${F_SUST[$n]:-}" == yes ]] && best_f=$n
  if [[ -n "${S_RATE[$n]:-}" ]]; then
    printf '%-6s %-9s | %11s %8s %6s %9s %11s | %-16s %-11s %-11s %-11s %5s\n' "" SIPp "${S_RATE[$n]}" \
      "$(calc "%.1f%%" "100 * ${S_RATE[$n]} / ($n * 100)")" "${S_DROP[$n]}" "${S_CPU[$n]}" "-" \
      "(${S_OK[$n]}/$n calls)" "-" "-" "-" "${S_SUST[$n]}"
    [[ "${S_SUST[$n]}" == yes ]] && best_s=$n
  fi
done
echo
echo "largest N sustained: sipfleet $best_f, SIPp (rtp_stream) $best_s"
echo "sipfleet's media threads (asked: --media-rt-priority $MEDIA_RT):$(for n in $NS; do printf ' N=%s %s;' "$n" "$(v "${F_SCHED[$n]:-}")"; done)"
echo "sipfleet's call set-up p50/p99 ms (INVITE to 200, through the Kamailio that shares these cores):$(for n in $NS; do printf ' N=%s %s;' "$n" "$(v "${F_SETUP[$n]:-}")"; done)"
echo "sipfleet's lowest-MOS stream:$(for n in $NS; do printf ' N=%s %s;' "$n" "$(v "${F_WORST[$n]:-}")"; done)"
echo "(SIPp's rtp_stream sends but does not read its sockets: what it receives is dropped by the kernel)"
echo "targets: 2,000 calls with 0 loss and pacing p99 < 2 ms; 5,000 as the stretch"
kamailio_stop
