// What a receiver knows of one RTP stream (RFC 3550 appendix A): sequence-number validation
// (A.1: a source is valid after MIN_SEQUENTIAL packets in sequence; a jump of more than
// MAX_DROPOUT restarts it after two packets in sequence), the extended highest sequence number
// (A.1, wrap-around counted in `cycles`), packets expected and lost (A.3, with the fraction
// lost since the last report), and interarrival jitter (A.8). On top of the RFC: duplicates
// (a sequence number seen in the last 1,024) and reordered packets (older than the highest
// seen, not a duplicate), and the count of every packet received, probation included.
#pragma once

#include <bitset>
#include <cstdint>

namespace sipfleet::rtp {

class receiver_stats {
 public:
  static constexpr int min_sequential = 2;
  static constexpr std::uint32_t max_dropout = 3000;
  static constexpr std::uint32_t max_misorder = 100;

  // One packet: its sequence number and RTP timestamp, and its arrival time in the same
  // units as the timestamp (clock rate: 8,000 per second for G.711). Returns false when A.1
  // does not count it (probation, or a jump not yet confirmed).
  bool on_packet(std::uint16_t sequence, std::uint32_t rtp_timestamp, std::uint32_t arrival);

  std::uint64_t packets() const { return packets_; }        // every packet given
  std::uint64_t counted() const { return received_; }       // A.1's "received"
  std::uint64_t duplicates() const { return duplicates_; }
  std::uint64_t reordered() const { return reordered_; }
  std::uint32_t extended_max() const { return cycles_ + max_seq_; }
  std::int64_t expected() const;                            // A.3
  std::int64_t lost() const;                                // A.3, duplicates not counted as received
  double jitter() const { return jitter_; }                 // A.8, timestamp units
  // A.3: the fraction lost since the last call, as RTCP's 8-bit fixed point (lost/expected*256).
  std::uint8_t fraction_lost_since_last();

 private:
  void init_seq(std::uint16_t seq);
  bool update_seq(std::uint16_t seq);
  bool seen(std::uint16_t seq) const;
  void mark(std::uint16_t seq);

  bool started_ = false;
  std::uint16_t max_seq_ = 0;
  std::uint32_t cycles_ = 0;
  std::uint32_t base_seq_ = 0;
  std::uint32_t bad_seq_ = 0;
  int probation_ = 0;
  std::uint64_t received_ = 0;
  std::uint64_t expected_prior_ = 0;
  std::uint64_t received_prior_ = 0;
  std::uint64_t packets_ = 0;
  std::uint64_t duplicates_ = 0;
  std::uint64_t reordered_ = 0;
  bool have_transit_ = false;
  std::uint32_t transit_ = 0;  // arrival - RTP timestamp, modulo 2^32 (A.8)
  double jitter_ = 0;
  std::bitset<1024> window_;  // sequence numbers seen, by seq % 1024, near max_seq_
  std::uint16_t window_top_ = 0;
};

}  // namespace sipfleet::rtp
