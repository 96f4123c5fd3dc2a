#!/usr/bin/env bash
# Media interop with SIPp (Debian's sip-tester) as an independent peer, through a real Kamailio:
#   1. sipfleet phones call a SIPp UAS that echoes RTP (-rtp_echo): each phone gets its own
#      stream back, every packet, in order;
#   2. a SIPp UAC plays G.711 A-law and RFC 2833 DTMF from the pcaps in /usr/share/sip-tester
#      to a sipfleet phone: the phone measures the stream and hears the digits 1, 5, #.
#   test_sipp_media.sh SIPFLEET_BINARY
set -u
source "$(dirname "$0")/lib.sh"
bin=$1
lib_init
lib_start_kamailio

# records FILE EXPR: EXPR over the list `rs` of call records (JSON Lines)
records() { "$PYTHON" -c "import json,sys; rs=[json.loads(l) for l in open(sys.argv[1])]; print($2)" "$1"; }

# 1. A SIPp UAS registered as 7200 echoes RTP on its media port; phones call it 3 times, 2 s each.
alloc_port UAS_PORT
alloc_port UAS_MEDIA
uas_register 7200 "$KPORT" "$UAS_PORT" || fail "the SIPp UAS registers"
sipp_bg echo -sf "$SIPP_SCEN/uas.xml" -p "$UAS_PORT" -mp "$UAS_MEDIA" -rtp_echo -m 3
uas_pid=$SIPP_BG_PID
report="$LIB_TMP/echo.json"
calls="$LIB_TMP/echo.jsonl"
"$bin" run --api off --proxy "127.0.0.1:$KPORT" --users 6950-6951 --callees 7200 --calls 3 --call-rate 2 \
  --hold 2s --max-concurrent 1 --quiet --report "$report" --call-records "$calls" >"$LIB_TMP/echo.out" 2>&1
expect "phones -> SIPp rtp_echo UAS: the run exits 0" "$?" 0
expect "phones -> SIPp rtp_echo UAS: 3 calls answered" "$(json "$report" 'r["calls"]["answered"]')" 3
sipp_wait "$uas_pid"
expect "each call sent 2 s of packets (90-110)" \
  "$(records "$calls" 'all(90 <= c["media"]["packets_sent"] <= 110 for c in rs)')" True
# the echo of every packet comes back but for the one in flight at the hang-up
expect "each phone got its own stream back" \
  "$(records "$calls" 'all(c["media"]["packets_sent"] - 1 <= c["media"]["packets_received"] <= c["media"]["packets_sent"] for c in rs)')" True
expect "no echoed packet lost or out of order" \
  "$(records "$calls" 'all(c["media"]["lost"] == 0 and c["media"]["reordered"] == 0 for c in rs)')" True
expect "the echoed stream scores as clean G.711 (MOS >= 4.2)" \
  "$(records "$calls" 'all(c["media"]["mos"] >= 4.2 for c in rs)')" True

# 2. Phone 6960 stays registered; a SIPp UAC (user 7201) plays the pcaps to it.
alloc_port PHONE_PORT
report="$LIB_TMP/heard.json"
calls="$LIB_TMP/heard.jsonl"
"$bin" run --api off --proxy "127.0.0.1:$KPORT" --users 6960 --sip-port "$PHONE_PORT" --calls 0 --duration 20s \
  --answer-delay 50ms --report "$report" --call-records "$calls" >"$LIB_TMP/heard.out" 2>&1 &
phone_pid=$!
lib_track_pid "$phone_pid"
for _ in $(seq 1 150); do
  grep -q "phones 1/1 registered" "$LIB_TMP/heard.out" && break
  sleep 0.1
done
users_csv 7201 7201 > "$LIB_TMP/caller.csv"
alloc_port UAC_MEDIA
sipp_run pcap "127.0.0.1:$KPORT" -sf "$SIPP_SCEN/uac_pcap.xml" -inf "$LIB_TMP/caller.csv" -s 6960 \
  -mp "$UAC_MEDIA" -m 1 -l 1 -default_behaviors all,-bye
expect "SIPp UAC playing pcaps -> phone: SIPp exits 0" "$?" 0
wait "$phone_pid"
expect "the phone's run exits 0" "$?" 0
expect "the phone answered one call" "$(records "$calls" 'len(rs)')" 1
# What the pcaps hold, worked out from the files: SIPp plays g711a.pcap (30 ms packets) until the
# next play starts, 5 s later; the three DTMF files are cuts of one capture with one SSRC, so
# their sequence numbers jump from file to file (RFC 3550 A.3 counts the jumps as lost), and
# each repeats its end packet with the same sequence number (duplicates).
pcap_facts() {
  "$PYTHON" - "$@" <<'PY'
import struct, sys
seqs = []
for name in sys.argv[1:]:
    d = open("/usr/share/sip-tester/" + name, "rb").read()
    off = 24
    while off + 16 <= len(d):
        incl = struct.unpack("<I", d[off + 8:off + 12])[0]
        pkt = d[off + 16:off + 16 + incl]
        off += 16 + incl
        ihl = (pkt[14] & 15) * 4
        rtp = pkt[14 + ihl + 8:]
        seqs.append(struct.unpack(">H", rtp[2:4])[0])
print(len(seqs), max(seqs) - min(seqs) + 1 - len(set(seqs)), len(seqs) - len(set(seqs)))
PY
}
read -r dtmf_packets dtmf_lost dtmf_dups < <(pcap_facts dtmf_2833_1.pcap dtmf_2833_5.pcap dtmf_2833_pound.pcap)
expect "the phone received 5 s of the A-law stream (30 ms packets) and every DTMF packet" \
  "$(records "$calls" "150 + $dtmf_packets <= rs[0]['media']['packets_received'] <= 236 + $dtmf_packets")" True
expect "the A-law stream lost nothing; the DTMF files' sequence jumps count as lost ($dtmf_lost)" \
  "$(records "$calls" 'rs[0]["media"]["lost"]')" "$dtmf_lost"
expect "the DTMF files' repeated end packets count as duplicates ($dtmf_dups)" \
  "$(records "$calls" 'rs[0]["media"]["duplicates"]')" "$dtmf_dups"
expect "the phone heard the digits 1, 5, #" "$(records "$calls" 'rs[0]["media"]["dtmf_received"]')" "15#"
expect "the report counts 3 digits heard" "$(json "$report" 'r["media"]["dtmf"]["received"]')" 3

kamailio_stop
lib_summary
