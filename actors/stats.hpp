// Run statistics shared by every phone actor: lock-free counters on the per-message path, one
// short lock per finished call for the setup-time samples. The run report, the status line
// (and later /metrics) read from here.
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <vector>

#include "actors/ua/phone.hpp"

namespace sipfleet::actors {

// A histogram with fixed buckets, lock-free on the observing side; read as Prometheus's
// cumulative buckets at scrape time (app/metrics.cpp).
class bucket_histogram {
 public:
  explicit bucket_histogram(std::vector<double> upper_bounds)
      : bounds_(std::move(upper_bounds)), counts_(bounds_.size() + 1) {}
  void observe(double v) {
    const auto it = std::lower_bound(bounds_.begin(), bounds_.end(), v);
    counts_[static_cast<std::size_t>(it - bounds_.begin())].fetch_add(1, std::memory_order_relaxed);
    sum_.fetch_add(v, std::memory_order_relaxed);
  }
  struct reading {
    std::vector<double> upper_bounds;     // the last bucket (+Inf) is implied
    std::vector<std::uint64_t> cumulative;  // one per bound, then +Inf (= count)
    double sum = 0;
  };
  reading read() const {
    reading r{.upper_bounds = bounds_, .cumulative = {}, .sum = sum_.load(std::memory_order_relaxed)};
    std::uint64_t total = 0;
    for (const auto& c : counts_) r.cumulative.push_back(total += c.load(std::memory_order_relaxed));
    return r;
  }

 private:
  std::vector<double> bounds_;
  std::vector<std::atomic<std::uint64_t>> counts_;
  std::atomic<double> sum_{0};
};

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
  std::atomic<std::uint64_t> calls_cancelled{0};      // outgoing calls we ended before an answer
  std::atomic<std::uint64_t> incoming_answered{0};
  std::atomic<std::uint64_t> incoming_cancelled{0};   // the caller gave up (487)
  std::atomic<std::uint64_t> incoming_failed{0};      // rejected, busy, do-not-disturb, ...

  // For Prometheus (app/metrics.cpp), in base units.
  bucket_histogram setup_seconds{{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}};
  bucket_histogram duration_seconds{{1, 5, 10, 30, 60, 120, 300, 600, 1800, 3600}};
  bucket_histogram jitter_seconds{{0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1}};
  bucket_histogram mos{{1, 2, 2.5, 3, 3.5, 3.8, 4, 4.2, 4.3, 4.4, 4.5}};

  // SIP messages by method and direction (and responses by code): one atomic each, no label
  // map on the message path.
  static constexpr std::size_t k_methods = 15;  // sip::method's values
  void count_sip(bool outgoing, int code, sip::method m) {
    const auto mi = static_cast<std::size_t>(m) % k_methods;
    const std::size_t d = outgoing ? 1 : 0;
    if (code == 0) {
      sip_requests_[mi][d].fetch_add(1, std::memory_order_relaxed);
    } else if (code >= 100 && code < k_codes) {
      sip_responses_[static_cast<std::size_t>(code)][mi][d].fetch_add(1, std::memory_order_relaxed);
    }
  }
  std::uint64_t sip_requests(sip::method m, bool outgoing) const {
    return sip_requests_[static_cast<std::size_t>(m) % k_methods][outgoing ? 1 : 0].load(std::memory_order_relaxed);
  }
  std::uint64_t sip_responses(int code, sip::method m, bool outgoing) const {
    if (code < 0 || code >= k_codes) return 0;
    return sip_responses_[static_cast<std::size_t>(code)][static_cast<std::size_t>(m) % k_methods][outgoing ? 1 : 0]
        .load(std::memory_order_relaxed);
  }

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

  std::array<std::array<std::atomic<std::uint64_t>, 2>, k_methods> sip_requests_{};
  std::array<std::array<std::array<std::atomic<std::uint64_t>, 2>, k_methods>, k_codes> sip_responses_{};
  code_table registration_codes_{};
  code_table call_codes_{};
  mutable std::mutex setup_mutex_;
  std::vector<double> setup_ms_;
  media_totals media_{};
  std::vector<double> jitter_ms_;  // one per stream that received something
  double mos_sum_ = 0;
};

}  // namespace sipfleet::actors
