// G.711 (ITU-T G.711, 11/88): 16-bit linear PCM to 8-bit μ-law (PCMU, RTP payload type 0) and
// A-law (PCMA, payload type 8), and back. The hot path is table lookups only: a 256-entry
// decode table per law, and an encode table indexed by the sample's top 14 (μ-law) or 13
// (A-law) bits, the resolution each law keeps. The tables are computed once, at compile time,
// from the segment rules of the standard (g711.cpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace sipfleet::rtp {

std::uint8_t ulaw_from_linear(std::int16_t sample);
std::int16_t linear_from_ulaw(std::uint8_t code);
std::uint8_t alaw_from_linear(std::int16_t sample);
std::int16_t linear_from_alaw(std::uint8_t code);

// A frame at a time (20 ms at 8 kHz = 160 samples); `out` must be as long as `in`.
void encode_ulaw(std::span<const std::int16_t> in, std::span<std::uint8_t> out);
void decode_ulaw(std::span<const std::uint8_t> in, std::span<std::int16_t> out);
void encode_alaw(std::span<const std::int16_t> in, std::span<std::uint8_t> out);
void decode_alaw(std::span<const std::uint8_t> in, std::span<std::int16_t> out);

}  // namespace sipfleet::rtp
