// A sending stream's RTP header state (see stream.hpp).
#include "rtp/stream.hpp"

#include <algorithm>

namespace sipfleet::rtp {

send_stream::send_stream(std::uint32_t ssrc, std::uint16_t first_sequence, std::uint32_t first_timestamp,
                         std::uint8_t payload_type, std::uint32_t clock_rate)
    : ssrc_(ssrc),
      sequence_(first_sequence),
      timestamp_(first_timestamp),
      payload_type_(payload_type),
      clock_rate_(clock_rate == 0 ? 8000 : clock_rate) {}

header send_stream::next(clock::time_point now, std::uint32_t samples) {
  if (started_) {
    if (spurt_start_) {
      // After a pause the timestamp follows the clock: the samples not sent are time too.
      const auto elapsed = std::chrono::duration_cast<std::chrono::microseconds>(now - last_time_).count();
      const auto ticks = elapsed <= 0 ? std::int64_t{last_samples_}
                                      : elapsed * static_cast<std::int64_t>(clock_rate_) / 1'000'000;
      timestamp_ += static_cast<std::uint32_t>(std::max<std::int64_t>(ticks, last_samples_));
    } else {
      timestamp_ += last_samples_;
    }
    ++sequence_;
  }
  header h;
  h.marker = spurt_start_;
  h.payload_type = payload_type_;
  h.sequence = sequence_;
  h.timestamp = timestamp_;
  h.ssrc = ssrc_;
  started_ = true;
  spurt_start_ = false;
  last_time_ = now;
  last_samples_ = samples;
  ++packets_;
  return h;
}

std::uint32_t send_stream::timestamp_at(clock::time_point now) const {
  if (!started_) return 0;
  const auto elapsed = std::chrono::duration_cast<std::chrono::microseconds>(now - last_time_).count();
  return timestamp_ + static_cast<std::uint32_t>(std::max<std::int64_t>(0, elapsed) * clock_rate_ / 1'000'000);
}

}  // namespace sipfleet::rtp
