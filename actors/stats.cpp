// Run statistics (see stats.hpp).
#include "actors/stats.hpp"

#include <algorithm>
#include <cmath>

namespace sipfleet::actors {

void run_stats::add_setup_ms(double ms) {
  setup_seconds.observe(ms / 1000.0);
  std::lock_guard lock(setup_mutex_);
  setup_ms_.push_back(ms);
}

namespace {
// Nearest-rank percentiles of a copy.
percentiles nearest_rank(std::vector<double> v) {
  if (v.empty()) return {};
  std::sort(v.begin(), v.end());
  // Nearest-rank percentile.
  const auto rank = [&](double p) {
    const auto n = static_cast<double>(v.size());
    auto i = static_cast<std::size_t>(std::ceil(p / 100.0 * n));
    if (i > 0) --i;
    return v[std::min(i, v.size() - 1)];
  };
  return {rank(50), rank(95), rank(99)};
}
}  // namespace

percentiles run_stats::setup_ms() const {
  std::lock_guard lock(setup_mutex_);
  return nearest_rank(setup_ms_);
}

void run_stats::add_media(const ua::media_stats& m) {
  if (m.expected > 0) {
    jitter_seconds.observe(m.jitter_ms / 1000.0);
    mos.observe(m.mos);
  }
  std::lock_guard lock(setup_mutex_);
  auto& t = media_;
  ++t.streams;
  t.packets_sent += m.packets_sent;
  t.packets_received += m.packets_received;
  t.lost += m.lost;
  t.expected += m.expected;
  t.duplicates += m.duplicates;
  t.digits_sent += m.digits_sent.size();
  t.digits_received += m.digits_received.size();
  if (m.expected > 0) {
    jitter_ms_.push_back(m.jitter_ms);
    mos_sum_ += m.mos;
    t.mos_min = t.mos_streams == 0 ? m.mos : std::min(t.mos_min, m.mos);
    ++t.mos_streams;
  }
}

double run_stats::media_loss_pct() const {
  std::lock_guard lock(setup_mutex_);
  return media_.loss_pct();
}

run_stats::media_totals run_stats::media() const {
  std::lock_guard lock(setup_mutex_);
  media_totals t = media_;
  t.jitter_ms = nearest_rank(jitter_ms_);
  t.mos_avg = t.mos_streams == 0 ? 0 : mos_sum_ / static_cast<double>(t.mos_streams);
  return t;
}

std::map<int, std::uint64_t> run_stats::snapshot(const code_table& t) {
  std::map<int, std::uint64_t> out;
  for (std::size_t i = 0; i < t.size(); ++i) {
    const auto n = t[i].load(std::memory_order_relaxed);
    if (n != 0) out[static_cast<int>(i)] = n;
  }
  return out;
}

}  // namespace sipfleet::actors
