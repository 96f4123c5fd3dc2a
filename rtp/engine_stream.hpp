// One stream of the media engine (engine.hpp): its state and what goes into and comes out of
// its packets, apart from how packets move (rtp/engine_worker.cpp: rings, pacing, threads).
//
//   build_rtp / build_rtcp   the next packet into the slot's output buffer (RTP header, G.711
//                            audio or an RFC 4733 event; SR/RR + SDES, RFC 3550 §6.4)
//   take_rtp / take_rtcp     a received datagram: statistics per peer SSRC (A.1/A.3/A.8), DTMF
//                            detection, the RTT (§6.4.1), symmetric RTP (RFC 4961)
//   summarize                the figures at the stream's close, MOS from rtp/emodel.hpp
// Nothing here allocates once a stream runs (malloc has one arena and one lock here).
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "rtp/engine.hpp"
#include "rtp/packet.hpp"
#include "rtp/receiver_stats.hpp"
#include "rtp/rtcp.hpp"
#include "rtp/stream.hpp"
#include "rtp/telephone_event.hpp"

namespace sipfleet::rtp::detail {

using clock = std::chrono::steady_clock;

inline constexpr std::uint32_t clock_rate = 8000;
inline constexpr std::size_t max_payload = 480;  // 60 ms of G.711
inline constexpr std::uint16_t dtmf_units = 800;  // 100 ms events (RFC 4733 §2.5.1.2 lets us choose)
inline constexpr int dtmf_gap_ms = 100;
inline constexpr std::uint32_t no_schedule = UINT32_MAX;

// The NTP time of now (RFC 3550 §4) from the system clock.
std::uint64_t ntp_now();

// Socket addresses: an IP literal and port to a sockaddr (false: not an IP literal), the port
// of one, a new port, equality of address and port; a UDP socket bound to an address (with
// `timestamps`, each datagram carries the kernel's arrival time: SO_TIMESTAMPNS).
bool to_sockaddr(std::string_view host, std::uint16_t port, sockaddr_storage& out, socklen_t& len);
std::uint16_t port_of(const sockaddr_storage& a);
void set_port(sockaddr_storage& a, std::uint16_t port);
bool same_address(const sockaddr_storage& a, const sockaddr_storage& b);
int bound_socket(const sockaddr_storage& addr, socklen_t len, bool timestamps);

// The looped audio source, encoded once for both G.711 laws.
struct shared_audio {
  std::vector<std::uint8_t> pcmu, pcma;
};

// A stream's receiving side per peer SSRC: a new SSRC (a peer that restarts its stream, or
// plays several files) starts new A.1 statistics; the old ones are added up.
struct received_totals {
  std::int64_t lost = 0;
  std::uint64_t expected = 0;
  std::uint64_t duplicates = 0;
  std::uint64_t reordered = 0;
  double jitter_units = 0;
  void add(const receiver_stats& s);
};

struct stream_slot {
  std::uint32_t gen = 0;  // the stream's generation; bumped at every open
  bool in_use = false;    // between open and the last completion after close
  bool started = false;
  bool closing = false;
  bool fds_closed = true;
  int rtp_fd = -1;
  int rtcp_fd = -1;
  int fixed = -1;  // the sockets' entries in the ring's fixed-file table (rtp, rtp + 1), or -1
  std::uint16_t port = 0;
  std::uint64_t tag = 0;  // the opener's name for the stream (engine::open)
  int inflight = 0;       // operations in the ring for this slot
  bool rtp_armed = false, rtcp_armed = false, send_busy = false, rtcp_busy = false;
  bool polled = false;      // a receive-poll entry for the RTP socket is in the heap
  bool rtp_failed = false;  // the RTP socket's read ended with an error: not read again
  std::uint8_t read_count = 0;  // datagrams taken by the RTP read in the ring

  stream_params params{};
  sockaddr_storage dest{}, rtcp_dest{};
  socklen_t dest_len = 0;
  bool learned = false, rtcp_learned = false;
  clock::time_point epoch{};
  std::uint32_t ssrc = 0;
  std::optional<send_stream> tx{};
  std::size_t audio_pos = 0;
  std::uint32_t sched = 0;  // bumped when the sending schedule changes: older heap entries are void
  std::uint32_t scheduled = no_schedule;  // the sched value of the RTP schedule in the heap
  bool first_start = false;               // started, RTCP not scheduled yet

  // DTMF being sent
  std::deque<char> digits{};
  std::vector<event_payload> event_packets{};
  std::size_t event_at = 0;
  std::uint32_t event_timestamp = 0;
  clock::time_point gap_until{};
  std::string digits_sent{};

  // receiving
  bool have_peer_ssrc = false;
  std::uint32_t peer_ssrc = 0;
  receiver_stats rx{};
  received_totals rx_done{};
  event_detector detector{};
  std::string digits_received{};
  std::uint64_t packets_received = 0, packets_sent = 0, rtcp_sent = 0, rtcp_received = 0, malformed = 0;
  std::uint32_t last_sr_middle = 0;
  clock::time_point last_sr_arrival{};
  std::optional<double> rtt_ms{};

  // buffers in the ring: untouched while their operation is in flight
  std::array<std::uint8_t, fixed_header_size + max_payload> out{};
  std::array<std::uint8_t, 512> rtcp_out{};
  sockaddr_storage out_name{}, rtcp_out_name{};
};

// The stream's next RTP packet (audio, or the current DTMF event's next packet) into s.out;
// returns its length.
std::size_t build_rtp(stream_slot& s, const shared_audio& audio, clock::time_point now);
// An RTCP compound (SR when the stream has sent, else RR; a block about the peer; SDES CNAME)
// into s.rtcp_out, `scratch`'s capacity reused; returns its length, 0 for none.
std::size_t build_rtcp(stream_slot& s, rtcp_report& scratch, clock::time_point now);
// A datagram from `from` on the RTP / RTCP port; false when it is not RTP / RTCP (counted in
// s.malformed).
bool take_rtp(stream_slot& s, std::span<const std::uint8_t> bytes, const sockaddr_storage& from, clock::time_point now);
bool take_rtcp(stream_slot& s, std::span<const std::uint8_t> bytes, const sockaddr_storage& from, clock::time_point now);
// The stream's figures now.
stream_summary summarize(const stream_slot& s);

}  // namespace sipfleet::rtp::detail
