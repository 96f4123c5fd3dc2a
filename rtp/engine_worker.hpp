// A worker of the media engine (engine.hpp): one thread with its own io_uring, moving the
// packets of the streams it was given. rtp/engine.cpp spreads streams over the workers and
// adds up their figures; what happens to a stream's packets is here (and, for the packets'
// contents, in engine_stream.hpp).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>
#include <vector>

#include "rtp/engine.hpp"
#include "rtp/engine_stream.hpp"

namespace sipfleet::rtp::detail {

// Lateness in 25 µs buckets up to 50 ms, and one for the rest.
struct lateness_histogram {
  static constexpr std::size_t buckets = 2001;
  static constexpr double bucket_ms = late_bucket_ms;
  std::vector<std::uint64_t> counts = std::vector<std::uint64_t>(buckets, 0);
  std::uint64_t samples = 0;
  double max_ms = 0;
  void add(double ms) {
    const auto b = ms <= 0 ? std::size_t{0} : std::min(buckets - 1, static_cast<std::size_t>(ms / bucket_ms));
    ++counts[b];
    ++samples;
    max_ms = std::max(max_ms, ms);
  }
};

class worker {
 public:
  // `release_port` gets a closed stream's port back; `heard` is told each digit detected
  // (the stream's tag, the digit). Throws std::runtime_error when the ring cannot be made.
  worker(unsigned index, const engine_options& options, const shared_audio& audio,
         std::function<void(std::uint16_t)> release_port, std::function<void(std::uint64_t, char)> heard);
  ~worker();
  worker(const worker&) = delete;
  worker& operator=(const worker&) = delete;

  // From any thread. A stream is (slot i, generation): a closed stream's calls are ignored.
  stream_handle open(int rtp_fd, int rtcp_fd, std::uint16_t port, std::uint64_t tag);
  void start(std::uint32_t i, std::uint32_t gen, const stream_params& p);
  void send_digits(std::uint32_t i, std::uint32_t gen, std::string_view digits);
  stream_summary close(std::uint32_t i, std::uint32_t gen);
  void add_totals(engine_totals& t, std::vector<std::uint64_t>& late) const;

 private:
  class impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace sipfleet::rtp::detail
