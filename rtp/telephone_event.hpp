// DTMF as RTP telephone-events (RFC 4733 §2.3): the 4-byte event payload, the packets of one
// digit as a sender sends them (§2.5.1: one RTP timestamp for the whole event, the duration
// growing, the end packet sent three times), and a receiver's detector that reports each
// digit once however many of its packets arrive (§2.5.2: an event is known by its timestamp).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace sipfleet::rtp {

struct event_payload {
  std::uint8_t event = 0;     // 0-9, 10 '*', 11 '#', 12-15 'A'-'D' (§3.2)
  bool end = false;           // E bit
  std::uint8_t volume = 10;   // 0..63, -dBm0
  std::uint16_t duration = 0; // in timestamp units since the event's timestamp
};

std::optional<std::uint8_t> event_of_digit(char digit);  // none for other characters
char digit_of_event(std::uint8_t event);                 // '?' above 15

// Writes 4 bytes; false when `out` is shorter.
bool write_event(const event_payload& e, std::span<std::uint8_t> out);
// Reads the first 4 bytes (RFC 4733 allows several events in one packet via redundancy, which
// this client does not send: the first is the current one). None when shorter than 4 bytes or
// the volume's reserved bit (R) is set.
std::optional<event_payload> parse_event(std::span<const std::uint8_t> payload);

// The payloads of one digit lasting `duration` timestamp units, one every `interval` units
// (the packet time): updates with growing durations, then the end packet three times.
std::vector<event_payload> digit_packets(std::uint8_t event, std::uint16_t duration, std::uint16_t interval,
                                         std::uint8_t volume = 10);

class event_detector {
 public:
  // One telephone-event packet: its RTP timestamp and payload. Returns the digit the first
  // time an event (timestamp) is seen; repeats, updates and end packets return nothing.
  std::optional<char> on_packet(std::uint32_t rtp_timestamp, const event_payload& e);

 private:
  std::optional<std::uint32_t> last_timestamp_;
};

}  // namespace sipfleet::rtp
