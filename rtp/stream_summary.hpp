// A media stream's figures at its close: what the engine measured (rtp/engine.hpp) and what a
// call record keeps (actors/ua/phone.hpp, call_record::media). Plain data, no I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace sipfleet::rtp {

struct stream_summary {
  bool started = false;  // offer/answer completed and the stream ran (not just opened)
  std::uint64_t packets_sent = 0;
  std::uint64_t packets_received = 0;  // every RTP packet taken in (audio and events)
  std::int64_t lost = 0;               // RFC 3550 A.3, summed over the peer's SSRCs
  std::uint64_t expected = 0;
  std::uint64_t duplicates = 0;
  std::uint64_t reordered = 0;
  double jitter_ms = 0;                // A.8 interarrival jitter at the end (largest over SSRCs)
  std::optional<double> rtt_ms{};      // from the peer's RTCP reports, the last one
  double mos = 0;                      // G.107 E-model (rtp/emodel.hpp); 0 when nothing arrived
  std::uint64_t rtcp_sent = 0;
  std::uint64_t rtcp_received = 0;
  std::uint64_t malformed = 0;         // datagrams on the ports that were not RTP/RTCP
  std::string digits_sent{};
  std::string digits_received{};       // RFC 4733 events detected, in order
  double loss_pct() const {
    return expected == 0 ? 0.0 : 100.0 * static_cast<double>(lost < 0 ? 0 : lost) / static_cast<double>(expected);
  }
};

}  // namespace sipfleet::rtp
