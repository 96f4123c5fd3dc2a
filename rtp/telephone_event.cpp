// RFC 4733 telephone-events (see telephone_event.hpp).
#include "rtp/telephone_event.hpp"

#include <string_view>

namespace sipfleet::rtp {
namespace {
constexpr std::string_view digits = "0123456789*#ABCD";
}  // namespace

std::optional<std::uint8_t> event_of_digit(char digit) {
  const char d = (digit >= 'a' && digit <= 'd') ? static_cast<char>(digit - 'a' + 'A') : digit;
  const auto at = digits.find(d);
  if (at == std::string_view::npos) return std::nullopt;
  return static_cast<std::uint8_t>(at);
}

char digit_of_event(std::uint8_t event) { return event < digits.size() ? digits[event] : '?'; }

bool write_event(const event_payload& e, std::span<std::uint8_t> out) {
  if (out.size() < 4) return false;
  out[0] = e.event;
  out[1] = static_cast<std::uint8_t>((e.end ? 0x80 : 0x00) | (e.volume & 0x3F));
  out[2] = static_cast<std::uint8_t>(e.duration >> 8);
  out[3] = static_cast<std::uint8_t>(e.duration);
  return true;
}

std::optional<event_payload> parse_event(std::span<const std::uint8_t> payload) {
  if (payload.size() < 4) return std::nullopt;
  if ((payload[1] & 0x40) != 0) return std::nullopt;  // R: reserved, must be 0 (§2.3)
  return event_payload{.event = payload[0],
                       .end = (payload[1] & 0x80) != 0,
                       .volume = static_cast<std::uint8_t>(payload[1] & 0x3F),
                       .duration = static_cast<std::uint16_t>((payload[2] << 8) | payload[3])};
}

std::vector<event_payload> digit_packets(std::uint8_t event, std::uint16_t duration, std::uint16_t interval,
                                         std::uint8_t volume) {
  std::vector<event_payload> out;
  if (interval == 0) interval = 160;
  for (std::uint32_t d = interval; d < duration; d += interval)
    out.push_back({.event = event, .end = false, .volume = volume, .duration = static_cast<std::uint16_t>(d)});
  for (int i = 0; i < 3; ++i)  // §2.5.1.4: the final packet is retransmitted (three in all)
    out.push_back({.event = event, .end = true, .volume = volume, .duration = duration});
  return out;
}

std::optional<char> event_detector::on_packet(std::uint32_t rtp_timestamp, const event_payload& e) {
  if (last_timestamp_ && *last_timestamp_ == rtp_timestamp) return std::nullopt;
  last_timestamp_ = rtp_timestamp;
  return digit_of_event(e.event);
}

}  // namespace sipfleet::rtp
