// RFC 3550 appendix A.1, A.3 and A.8 (see receiver_stats.hpp).
#include "rtp/receiver_stats.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>

namespace sipfleet::rtp {
namespace {
constexpr std::uint32_t seq_mod = 1u << 16;
}  // namespace

void receiver_stats::init_seq(std::uint16_t seq) {
  base_seq_ = seq;
  max_seq_ = seq;
  bad_seq_ = seq_mod + 1;  // so seq == bad_seq_ is false
  cycles_ = 0;
  received_ = 0;
  received_prior_ = 0;
  expected_prior_ = 0;
  window_.reset();
  window_top_ = seq;
}

// A.1, as the RFC writes it.
bool receiver_stats::update_seq(std::uint16_t seq) {
  const auto udelta = static_cast<std::uint16_t>(seq - max_seq_);
  if (probation_ > 0) {
    if (seq == static_cast<std::uint16_t>(max_seq_ + 1)) {
      --probation_;
      max_seq_ = seq;
      if (probation_ == 0) {
        init_seq(seq);
        ++received_;
        return true;
      }
    } else {
      probation_ = min_sequential - 1;
      max_seq_ = seq;
    }
    return false;
  }
  if (udelta < max_dropout) {
    if (seq < max_seq_) cycles_ += seq_mod;  // wrapped
    max_seq_ = seq;
  } else if (udelta <= seq_mod - max_misorder) {
    // A very large jump: restart when the next packet follows it (the other side restarted).
    if (seq == bad_seq_) {
      init_seq(seq);
    } else {
      bad_seq_ = (std::uint32_t{seq} + 1) & (seq_mod - 1);
      return false;
    }
  }
  // else: a duplicate or a reordered packet, counted as received (A.1)
  ++received_;
  return true;
}

bool receiver_stats::seen(std::uint16_t seq) const {
  const auto behind = static_cast<std::uint16_t>(window_top_ - seq);
  if (behind >= window_.size()) return false;  // too old (or ahead): not tracked
  return window_.test(seq % window_.size());
}

void receiver_stats::mark(std::uint16_t seq) {
  const auto ahead = static_cast<std::uint16_t>(seq - window_top_);
  if (ahead != 0 && ahead < seq_mod / 2) {
    // Moving the window forward: forget the slots it passes.
    if (ahead >= window_.size()) {
      window_.reset();
    } else {
      for (std::uint16_t s = static_cast<std::uint16_t>(window_top_ + 1); s != seq; ++s)
        window_.reset(s % window_.size());
    }
    window_top_ = seq;
  }
  window_.set(seq % window_.size());
}

bool receiver_stats::on_packet(std::uint16_t sequence, std::uint32_t rtp_timestamp, std::uint32_t arrival) {
  ++packets_;
  if (!started_) {
    started_ = true;
    init_seq(sequence);
    max_seq_ = static_cast<std::uint16_t>(sequence - 1);
    probation_ = min_sequential;
  }
  const bool duplicate = probation_ == 0 && seen(sequence);
  const bool older = probation_ == 0 && static_cast<std::uint16_t>(max_seq_ - sequence) != 0 &&
                     static_cast<std::uint16_t>(max_seq_ - sequence) < max_misorder;
  const bool counted = update_seq(sequence);
  if (!counted) return false;
  if (duplicate) {
    ++duplicates_;
    return true;  // a copy says nothing new about timing
  }
  if (older) ++reordered_;
  mark(sequence);
  // A.8: J += (|D| - J) / 16, D the change in transit time between consecutive packets. In
  // 32-bit arithmetic as A.8 does it: the RTP timestamp starts at a random value and wraps
  // (a call of 10 s spans 80,000 units, so 1 stream in ~50,000 sees it), and the differences
  // stay right across the wrap. (Computed in 64 bits, the wrap was a D of 2^32: a jitter of
  // hours, decaying to ~400 ms 3.5 s later, and a MOS of 1; seen in bench_media runs.)
  const auto transit = static_cast<std::uint32_t>(arrival - rtp_timestamp);
  if (have_transit_) {
    const double d = std::abs(static_cast<double>(static_cast<std::int32_t>(transit - transit_)));
    jitter_ += (d - jitter_) / 16.0;
  }
  transit_ = transit;
  have_transit_ = true;
  return true;
}

std::int64_t receiver_stats::expected() const {
  if (!started_ || probation_ > 0) return 0;
  return static_cast<std::int64_t>(extended_max()) - static_cast<std::int64_t>(base_seq_) + 1;
}

std::int64_t receiver_stats::lost() const {
  return expected() - static_cast<std::int64_t>(received_ - duplicates_);
}

std::uint8_t receiver_stats::fraction_lost_since_last() {
  const auto expected_now = static_cast<std::uint64_t>(std::max<std::int64_t>(expected(), 0));
  const std::int64_t expected_interval = static_cast<std::int64_t>(expected_now - expected_prior_);
  const std::int64_t received_interval = static_cast<std::int64_t>(received_ - received_prior_);
  expected_prior_ = expected_now;
  received_prior_ = received_;
  const std::int64_t lost_interval = expected_interval - received_interval;
  if (expected_interval == 0 || lost_interval <= 0) return 0;
  return static_cast<std::uint8_t>(std::min<std::int64_t>(255, (lost_interval << 8) / expected_interval));
}

}  // namespace sipfleet::rtp
