// What a sending stream keeps between packets (RFC 3550 §5.1): its SSRC, the next sequence
// number (random start, +1 per packet, wrapping), the RTP timestamp (random start, advancing
// with the sampling clock: 8,000 per second for G.711, also while nothing is sent), and the
// marker bit on the first packet of a talk-spurt (after silence, hold or the start).
//
// Hold and resume keep the stream: the sequence number goes on from where it stopped (no gap,
// so the receiver counts no loss) and the timestamp jumps by the time that passed (§5.1: "the
// timestamp ... increments monotonically and linearly in time"), with the marker set.
#pragma once

#include <chrono>
#include <cstdint>

#include "rtp/packet.hpp"

namespace sipfleet::rtp {

class send_stream {
 public:
  using clock = std::chrono::steady_clock;

  // Random starting values come from the caller (RFC 3550 §5.1: sequence and timestamp start
  // random), so the stream is deterministic under test.
  send_stream(std::uint32_t ssrc, std::uint16_t first_sequence, std::uint32_t first_timestamp,
              std::uint8_t payload_type, std::uint32_t clock_rate = 8000);

  // The header of the packet that carries `samples` samples starting at `now`; call once per
  // packet sent. The first packet, and the first after pause(), has the marker set.
  header next(clock::time_point now, std::uint32_t samples);
  // The RTP timestamp that corresponds to `now` on this stream's clock (the last packet's
  // timestamp plus the time since), for an RTCP sender report (RFC 3550 §6.4.1). 0 before
  // the first packet.
  std::uint32_t timestamp_at(clock::time_point now) const;
  // Not sending for a while (hold, silence): the next packet starts a talk-spurt.
  void pause() { spurt_start_ = true; }

  std::uint64_t packets() const { return packets_; }
  std::uint64_t octets() const { return octets_; }
  void count_payload(std::size_t bytes) { octets_ += bytes; }

 private:
  std::uint32_t ssrc_;
  std::uint16_t sequence_;
  std::uint32_t timestamp_;
  std::uint8_t payload_type_;
  std::uint32_t clock_rate_;
  bool started_ = false;
  bool spurt_start_ = true;
  clock::time_point last_time_{};
  std::uint32_t last_samples_ = 0;
  std::uint64_t packets_ = 0;
  std::uint64_t octets_ = 0;
};

}  // namespace sipfleet::rtp
