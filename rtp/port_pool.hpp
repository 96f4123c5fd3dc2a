// RTP ports for calls from a range (`--rtp-ports A-B`): an even port for RTP and the odd one
// above it for RTCP (RFC 3550 §11). A released port rests for a while before it is handed out
// again, so that packets still in flight for the old call are not taken for the new one's.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>
#include <vector>

namespace sipfleet::rtp {

class port_pool {
 public:
  using clock = std::chrono::steady_clock;

  // Ports first..last (both included); only even ports with room for the RTCP port above.
  port_pool(std::uint16_t first, std::uint16_t last, clock::duration rest = std::chrono::seconds(2));

  std::size_t capacity() const { return capacity_; }
  std::size_t in_use() const { return in_use_; }

  // An even RTP port, or none when every port is in use or resting.
  std::optional<std::uint16_t> take(clock::time_point now);
  // Gives a port back; it can be taken again after the rest. Ports not taken are ignored.
  void give_back(std::uint16_t port, clock::time_point now);

 private:
  std::uint16_t first_;
  std::size_t capacity_;
  std::vector<std::uint16_t> free_;  // ready now
  std::deque<std::pair<clock::time_point, std::uint16_t>> resting_;  // in release order
  std::vector<bool> taken_;  // by (port - first) / 2
  std::size_t in_use_ = 0;
  clock::duration rest_;
};

}  // namespace sipfleet::rtp
