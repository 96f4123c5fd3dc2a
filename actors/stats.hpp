// Run statistics shared by every phone actor: lock-free counters on the per-message path, one
// short lock per finished call for the setup-time samples. The run report, the status line
// (and later /metrics) read from here.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <vector>

#include "actors/ua/phone.hpp"

namespace sipfleet::actors {

struct percentiles {
  double p50 = 0;
  double p95 = 0;
  double p99 = 0;
};

class run_stats {
 public:
  static constexpr int k_codes = 700;

  std::atomic<std::int64_t> phones_total{0};
  std::atomic<std::int64_t> phones_registered{0};  // gauge
  std::atomic<std::int64_t> phones_failed{0};      // gauge: last registration attempt failed
  std::atomic<std::uint64_t> registrations_succeeded{0};
  std::atomic<std::uint64_t> registrations_failed{0};
  std::atomic<std::uint64_t> unregistrations{0};
  std::atomic<std::uint64_t> calls_attempted{0};
  std::atomic<std::uint64_t> calls_answered{0};
  std::atomic<std::uint64_t> calls_failed{0};
  std::atomic<std::uint64_t> calls_completed{0};  // outgoing calls that ended, any outcome
  std::atomic<std::int64_t> calls_active{0};      // outgoing calls in progress
  std::atomic<std::uint64_t> calls_received{0};
  std::atomic<std::uint64_t> retransmissions{0};
  std::atomic<std::uint64_t> parse_errors{0};
  std::atomic<std::uint64_t> unroutable{0};   // messages for no known phone
  std::atomic<std::uint64_t> send_errors{0};  // sends that failed (bad address, TCP write error)
  std::atomic<std::uint64_t> phone_restarts{0};
  std::atomic<std::uint64_t> media_open_failures{0};  // calls that got no RTP port/socket

  void count_registration_code(int code) { bump(registration_codes_, code); }
  void count_call_code(int code) { bump(call_codes_, code); }
  void add_setup_ms(double ms);

  std::map<int, std::uint64_t> registration_codes() const { return snapshot(registration_codes_); }
  std::map<int, std::uint64_t> call_codes() const { return snapshot(call_codes_); }
  percentiles setup_ms() const;

  // Media: one stream per call end, added when the call ends (its record's figures).
  struct media_totals {
    std::uint64_t streams = 0;
    std::uint64_t packets_sent = 0;
    std::uint64_t packets_received = 0;
    std::int64_t lost = 0;
    std::uint64_t expected = 0;
    std::uint64_t duplicates = 0;
    std::uint64_t digits_sent = 0;
    std::uint64_t digits_received = 0;
    percentiles jitter_ms{};
    double mos_avg = 0;  // over the streams that received something
    double mos_min = 0;
    std::uint64_t mos_streams = 0;
    double loss_pct() const {  // lost of expected, RFC 3550 A.3
      return expected == 0 ? 0.0 : 100.0 * static_cast<double>(lost < 0 ? 0 : lost) / static_cast<double>(expected);
    }
  };
  void add_media(const ua::media_stats& m);
  media_totals media() const;
  // The loss percentage alone (the status line, once a second: no percentiles sorted).
  double media_loss_pct() const;

 private:
  using code_table = std::array<std::atomic<std::uint64_t>, k_codes>;
  static void bump(code_table& t, int code) {
    if (code >= 0 && code < k_codes) t[static_cast<std::size_t>(code)].fetch_add(1, std::memory_order_relaxed);
  }
  static std::map<int, std::uint64_t> snapshot(const code_table& t);

  code_table registration_codes_{};
  code_table call_codes_{};
  mutable std::mutex setup_mutex_;
  std::vector<double> setup_ms_;
  media_totals media_{};
  std::vector<double> jitter_ms_;  // one per stream that received something
  double mos_sum_ = 0;
};

}  // namespace sipfleet::actors
