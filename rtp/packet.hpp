// RTP packets (RFC 3550 §5.1): the fixed header, CSRCs, header extension and padding, built
// into a caller's buffer and parsed without copying. A parsed packet is a view into the bytes.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace sipfleet::rtp {

inline constexpr std::size_t fixed_header_size = 12;

struct header {
  bool marker = false;            // §5.1: e.g. the first packet of a talk-spurt
  std::uint8_t payload_type = 0;  // 7 bits
  std::uint16_t sequence = 0;
  std::uint32_t timestamp = 0;
  std::uint32_t ssrc = 0;
  std::uint8_t csrc_count = 0;  // at most 15
  std::array<std::uint32_t, 15> csrc{};
};

// Writes the header (version 2, no padding, no extension) to `out`; returns its size
// (12 + 4 per CSRC), or 0 when `out` is too small or csrc_count > 15.
std::size_t write_header(const header& h, std::span<std::uint8_t> out);

struct packet_view {
  header h;
  bool has_extension = false;
  std::uint16_t extension_profile = 0;
  std::span<const std::uint8_t> extension;  // the extension's data words
  std::span<const std::uint8_t> payload;    // padding removed
  std::uint8_t padding = 0;                 // padding bytes removed from the end
};

struct parse_result {
  bool ok = false;
  packet_view packet;
  std::string error;  // what is wrong, when !ok
};

// §5.1 and A.1's validity checks: version 2, the CSRC list, extension and padding inside the
// packet, a padding count that is not zero (when P is set) and not larger than what follows
// the header. RTCP packets (payload types 72-76 with the marker bit, RFC 5761 §4) are refused.
parse_result parse(std::span<const std::uint8_t> bytes);

}  // namespace sipfleet::rtp
