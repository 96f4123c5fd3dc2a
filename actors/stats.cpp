// Run statistics (see stats.hpp).
#include "actors/stats.hpp"

#include <algorithm>
#include <cmath>

namespace sipfleet::actors {

void run_stats::add_setup_ms(double ms) {
  std::lock_guard lock(setup_mutex_);
  setup_ms_.push_back(ms);
}

percentiles run_stats::setup_ms() const {
  std::vector<double> v;
  {
    std::lock_guard lock(setup_mutex_);
    v = setup_ms_;
  }
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

std::map<int, std::uint64_t> run_stats::snapshot(const code_table& t) {
  std::map<int, std::uint64_t> out;
  for (std::size_t i = 0; i < t.size(); ++i) {
    const auto n = t[i].load(std::memory_order_relaxed);
    if (n != 0) out[static_cast<int>(i)] = n;
  }
  return out;
}

}  // namespace sipfleet::actors
