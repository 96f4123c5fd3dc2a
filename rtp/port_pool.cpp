// RTP port allocation (see port_pool.hpp).
#include "rtp/port_pool.hpp"

#include <algorithm>

namespace sipfleet::rtp {

port_pool::port_pool(std::uint16_t first, std::uint16_t last, clock::duration rest)
    : first_(static_cast<std::uint16_t>(first + (first & 1))), capacity_(0), rest_(rest) {
  // Even ports p with p + 1 <= last: the RTCP port must fit too.
  for (std::uint32_t p = first_; p + 1 <= last; p += 2) ++capacity_;
  taken_.assign(capacity_, false);
  free_.reserve(capacity_);
  // Handed out lowest first: the free list is used from its back.
  for (std::size_t i = capacity_; i-- > 0;) free_.push_back(static_cast<std::uint16_t>(first_ + 2 * i));
}

std::optional<std::uint16_t> port_pool::take(clock::time_point now) {
  while (!resting_.empty() && now - resting_.front().first >= rest_) {
    free_.push_back(resting_.front().second);
    resting_.pop_front();
  }
  if (free_.empty()) return std::nullopt;
  const std::uint16_t port = free_.back();
  free_.pop_back();
  taken_[(port - first_) / 2u] = true;
  ++in_use_;
  return port;
}

void port_pool::give_back(std::uint16_t port, clock::time_point now) {
  if (port < first_ || (port - first_) % 2 != 0) return;
  const std::size_t i = (port - first_) / 2u;
  if (i >= capacity_ || !taken_[i]) return;  // not ours, or given back twice
  taken_[i] = false;
  --in_use_;
  resting_.emplace_back(now, port);
}

}  // namespace sipfleet::rtp
