// One stream of the media engine: its packets in and out (see engine_stream.hpp).
#include "rtp/engine_stream.hpp"

#include <arpa/inet.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "rtp/emodel.hpp"

namespace sipfleet::rtp::detail {

using std::chrono::duration_cast;
using std::chrono::microseconds;

// The NTP time of now (RFC 3550 §4) from the system clock.
std::uint64_t ntp_now() {
  const auto since_epoch = std::chrono::system_clock::now().time_since_epoch();
  const auto us = duration_cast<microseconds>(since_epoch).count();
  const std::uint64_t seconds = static_cast<std::uint64_t>(us / 1'000'000) + 2'208'988'800ULL;
  const std::uint64_t fraction = (static_cast<std::uint64_t>(us % 1'000'000) << 32) / 1'000'000;
  return (seconds << 32) | fraction;
}

bool to_sockaddr(std::string_view host, std::uint16_t port, sockaddr_storage& out, socklen_t& len) {
  std::memset(&out, 0, sizeof out);
  const std::string h(host);
  if (h.find(':') != std::string::npos) {
    auto* a = reinterpret_cast<sockaddr_in6*>(&out);
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(port);
    if (::inet_pton(AF_INET6, h.c_str(), &a->sin6_addr) != 1) return false;
    len = sizeof(sockaddr_in6);
    return true;
  }
  auto* a = reinterpret_cast<sockaddr_in*>(&out);
  a->sin_family = AF_INET;
  a->sin_port = htons(port);
  if (::inet_pton(AF_INET, h.c_str(), &a->sin_addr) != 1) return false;
  len = sizeof(sockaddr_in);
  return true;
}

std::uint16_t port_of(const sockaddr_storage& a) {
  return a.ss_family == AF_INET6 ? ntohs(reinterpret_cast<const sockaddr_in6&>(a).sin6_port)
                                 : ntohs(reinterpret_cast<const sockaddr_in&>(a).sin_port);
}
void set_port(sockaddr_storage& a, std::uint16_t port) {
  if (a.ss_family == AF_INET6)
    reinterpret_cast<sockaddr_in6&>(a).sin6_port = htons(port);
  else
    reinterpret_cast<sockaddr_in&>(a).sin_port = htons(port);
}
bool same_address(const sockaddr_storage& a, const sockaddr_storage& b) {
  if (a.ss_family != b.ss_family) return false;
  if (a.ss_family == AF_INET6) {
    const auto& x = reinterpret_cast<const sockaddr_in6&>(a);
    const auto& y = reinterpret_cast<const sockaddr_in6&>(b);
    return x.sin6_port == y.sin6_port && std::memcmp(&x.sin6_addr, &y.sin6_addr, sizeof x.sin6_addr) == 0;
  }
  const auto& x = reinterpret_cast<const sockaddr_in&>(a);
  const auto& y = reinterpret_cast<const sockaddr_in&>(b);
  return x.sin_port == y.sin_port && x.sin_addr.s_addr == y.sin_addr.s_addr;
}

int bound_socket(const sockaddr_storage& addr, socklen_t len, bool timestamps) {
  // Blocking on purpose: io_uring completes a receive on an O_NONBLOCK socket with -EAGAIN
  // instead of waiting for data; it never blocks the worker either way.
  const int fd = ::socket(addr.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  const int on = 1;
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&addr), len) != 0 ||
      (timestamps && ::setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on) != 0)) {
    const int err = errno;
    ::close(fd);
    errno = err;
    return -1;
  }
  return fd;
}

void received_totals::add(const receiver_stats& s) {
  lost += s.lost();
  expected += static_cast<std::uint64_t>(std::max<std::int64_t>(0, s.expected()));
  duplicates += s.duplicates();
  reordered += s.reordered();
  jitter_units = std::max(jitter_units, s.jitter());
}

std::size_t build_rtp(stream_slot& s, const shared_audio& audio, clock::time_point now) {
  const std::uint32_t samples = s.params.ptime_ms * (clock_rate / 1000);
  std::size_t payload_len = 0;
  header h;
  // DTMF: an event in progress, or the next digit once the gap after the last one is over.
  if (s.event_at >= s.event_packets.size() && !s.digits.empty() && s.params.event_payload_type &&
      now >= s.gap_until) {
    const char digit = s.digits.front();
    s.digits.pop_front();
    s.event_packets = digit_packets(*event_of_digit(digit), dtmf_units, static_cast<std::uint16_t>(samples));
    s.event_at = 0;
    s.digits_sent.push_back(digit);
  }
  if (s.event_at < s.event_packets.size()) {
    h = s.tx->next(now, samples);
    if (s.event_at == 0) {
      s.event_timestamp = h.timestamp;
      h.marker = true;  // RFC 4733 §2.5.1.3: the first packet of an event
    } else {
      h.marker = false;
    }
    h.timestamp = s.event_timestamp;
    h.payload_type = *s.params.event_payload_type;
    write_event(s.event_packets[s.event_at], std::span<std::uint8_t>(s.out).subspan(fixed_header_size));
    payload_len = 4;
    if (++s.event_at == s.event_packets.size()) s.gap_until = now + std::chrono::milliseconds(dtmf_gap_ms);
  } else {
    h = s.tx->next(now, samples);
    h.payload_type = s.params.payload_type;
    const auto& loop = s.params.codec == codec::pcma ? audio.pcma : audio.pcmu;
    payload_len = std::min<std::size_t>(samples, max_payload);
    auto* out = s.out.data() + fixed_header_size;
    for (std::size_t k = 0; k < payload_len;) {
      const std::size_t n = std::min(payload_len - k, loop.size() - s.audio_pos);
      std::memcpy(out + k, loop.data() + s.audio_pos, n);
      k += n;
      s.audio_pos = (s.audio_pos + n) % loop.size();
    }
  }
  write_header(h, s.out);
  s.tx->count_payload(payload_len);
  ++s.packets_sent;
  return fixed_header_size + payload_len;
}

std::size_t build_rtcp(stream_slot& s, rtcp_report& r, clock::time_point now) {
  // r's block vector keeps its capacity: no allocation
  r.blocks.clear();
  r.sender.reset();
  r.ssrc = s.ssrc;
  if (s.tx && s.packets_sent > 0) {
    sender_info si;
    si.ntp = ntp_now();
    si.rtp_timestamp = s.tx->timestamp_at(now);  // the data packets' clock (RFC 3550 §6.4.1)
    si.packets = static_cast<std::uint32_t>(s.tx->packets());
    si.octets = static_cast<std::uint32_t>(s.tx->octets());
    r.sender = si;
  }
  if (s.have_peer_ssrc) {
    std::uint32_t dlsr = 0;
    if (s.last_sr_middle != 0)
      dlsr = static_cast<std::uint32_t>(std::chrono::duration<double>(now - s.last_sr_arrival).count() * 65536.0);
    r.blocks.push_back(block_from(s.rx, s.peer_ssrc, s.last_sr_middle, dlsr));
  }
  char cname[32];
  std::snprintf(cname, sizeof cname, "sipfleet-%08x", s.ssrc);
  const std::size_t n = write_compound(r, cname, s.rtcp_out);
  if (n > 0) ++s.rtcp_sent;
  return n;
}

bool take_rtp(stream_slot& s, std::span<const std::uint8_t> bytes, const sockaddr_storage& from, clock::time_point now) {
  const parse_result p = parse(bytes);
  if (!p.ok) {
    ++s.malformed;
    return false;
  }
  ++s.packets_received;
  const header& h = p.packet.h;
  const auto arrival = static_cast<std::uint32_t>(duration_cast<microseconds>(now - s.epoch).count() *
                                                  clock_rate / 1'000'000);
  if (!s.params.receive && s.started) {
    // We said we do not receive (RFC 3264 §5.1: sendonly or inactive): no digits, no address
    // learnt. What the peer's source still sends goes into its statistics: a packet sent
    // before the peer knew (in flight as the hold took effect) would otherwise count as lost
    // (A.3) after resume; a peer that ignores the hold has its packets counted as they came.
    if (s.have_peer_ssrc && h.ssrc == s.peer_ssrc) s.rx.on_packet(h.sequence, h.timestamp, arrival);
    return true;
  }
  if (!s.have_peer_ssrc || h.ssrc != s.peer_ssrc) {
    if (s.have_peer_ssrc) s.rx_done.add(s.rx);
    s.rx = receiver_stats{};
    s.detector = event_detector{};  // a new source's events have timestamps of their own
    s.have_peer_ssrc = true;
    s.peer_ssrc = h.ssrc;
  }
  s.rx.on_packet(h.sequence, h.timestamp, arrival);
  if (s.params.event_payload_type && h.payload_type == *s.params.event_payload_type) {
    if (const auto e = parse_event(p.packet.payload))
      if (const auto digit = s.detector.on_packet(h.timestamp, *e)) s.digits_received.push_back(*digit);
  }
  // Symmetric RTP: answer where the peer really sends from (NAT, or a peer whose SDP
  // address is not where it sends from).
  if (!s.learned || !same_address(from, s.dest)) {
    if (from.ss_family == s.dest.ss_family || s.dest_len == 0) {
      s.dest = from;
      s.dest_len = from.ss_family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
      if (!s.rtcp_learned) {
        s.rtcp_dest = s.dest;
        set_port(s.rtcp_dest, static_cast<std::uint16_t>(port_of(s.dest) + 1));
      }
    }
    s.learned = true;
  }
  return true;
}

bool take_rtcp(stream_slot& s, std::span<const std::uint8_t> bytes, const sockaddr_storage& from, clock::time_point now) {
  // Nothing allocated on a worker: malloc's lock is the process's (one arena), and whoever
  // holds it (a heap trim, say) would hold up the packets.
  struct visit {
    stream_slot& s;
    clock::time_point now;
    std::uint32_t arrival_middle;
  } v{s, now, ntp_middle(ntp_now())};
  const auto error = visit_compound(bytes, &v, [](void* context, std::uint32_t, const sender_info* sender,
                                                  std::span<const report_block> blocks) {
    auto& c = *static_cast<visit*>(context);
    if (sender != nullptr) {
      c.s.last_sr_middle = ntp_middle(sender->ntp);
      c.s.last_sr_arrival = c.now;
    }
    for (const auto& b : blocks)
      if (b.ssrc == c.s.ssrc)
        if (const auto rtt = round_trip_seconds(c.arrival_middle, b)) c.s.rtt_ms = *rtt * 1000.0;
  });
  if (!error.empty()) {
    ++s.malformed;
    return false;
  }
  ++s.rtcp_received;
  if (from.ss_family == s.dest.ss_family) {
    s.rtcp_dest = from;
    s.rtcp_learned = true;
  }
  return true;
}

stream_summary summarize(const stream_slot& slot) {
  const stream_slot* s = &slot;
  stream_summary out;
  received_totals t = s->rx_done;
  if (s->have_peer_ssrc) t.add(s->rx);
  out.started = s->started;
  out.packets_sent = s->packets_sent;
  out.packets_received = s->packets_received;
  out.lost = t.lost;
  out.expected = t.expected;
  out.duplicates = t.duplicates;
  out.reordered = t.reordered;
  out.jitter_ms = t.jitter_units * 1000.0 / clock_rate;
  out.rtt_ms = s->rtt_ms;
  out.rtcp_sent = s->rtcp_sent;
  out.rtcp_received = s->rtcp_received;
  out.malformed = s->malformed;
  out.digits_sent = s->digits_sent;
  out.digits_received = s->digits_received;
  if (t.expected > 0) {
    // One-way delay: half the RTT when RTCP measured it, plus what a receiver's jitter buffer
    // adds (twice the jitter) and the packet time (G.107's Ta, simplified; rtp/emodel.hpp).
    emodel_input in;
    in.delay_ms = s->rtt_ms.value_or(0) / 2 + 2 * out.jitter_ms + s->params.ptime_ms;
    in.loss_pct = out.loss_pct();
    out.mos = mos(in);
  }
  return out;
}

}  // namespace sipfleet::rtp::detail
