// G.711 tables (see g711.hpp). Each law splits the magnitude into 8 segments (chords) of 16
// steps; the step doubles from one segment to the next.
#include "rtp/g711.hpp"

#include <array>

namespace sipfleet::rtp {
namespace {

// μ-law works on 14-bit magnitudes with a bias of 33 (132 in 16-bit terms): the biased
// magnitude's highest set bit names the segment, the 4 bits below it the step; the code is
// sent inverted (G.711 table 2a).
constexpr std::uint8_t ulaw_encode_14(int v14) {  // v14: the sample's top 14 bits, signed
  const bool negative = v14 < 0;
  // A negative sample's magnitude is its one's complement (ITU-T G.191's reference encoder):
  // the 4 samples sharing a table slot then share a magnitude, and the quantisation is
  // symmetric around zero.
  int magnitude = negative ? -v14 - 1 : v14;
  if (magnitude > 8158) magnitude = 8158;  // the largest magnitude μ-law represents (32635 >> 2)
  magnitude += 33;
  int segment = 0;
  for (int probe = magnitude >> 6; probe != 0 && segment < 7; probe >>= 1) ++segment;
  const int step = (magnitude >> (segment + 1)) & 0x0F;
  const int code = (negative ? 0x80 : 0x00) | (segment << 4) | step;
  return static_cast<std::uint8_t>(~code);
}

constexpr std::int16_t ulaw_decode(std::uint8_t code) {
  const int c = static_cast<std::uint8_t>(~code);
  const int segment = (c >> 4) & 0x07;
  const int step = c & 0x0F;
  const int magnitude = (((step << 3) + 0x84) << segment) - 0x84;
  return static_cast<std::int16_t>((c & 0x80) != 0 ? -magnitude : magnitude);
}

// A-law works on 13-bit magnitudes: segment 0 and 1 share the smallest step; codes are sent
// with the even bits inverted (XOR 0x55, G.711 table 1a), the sign bit set for positive.
constexpr std::uint8_t alaw_encode_13(int v13) {  // v13: the sample's top 13 bits, signed
  int mask = 0xD5;
  int magnitude = v13;
  if (v13 < 0) {
    mask = 0x55;
    magnitude = -v13 - 1;
  }
  constexpr std::array<int, 8> segment_end{0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF};
  int segment = 0;
  while (segment < 8 && magnitude > segment_end[static_cast<std::size_t>(segment)]) ++segment;
  if (segment >= 8) return static_cast<std::uint8_t>(0x7F ^ mask);  // clipped
  int code = segment << 4;
  code |= segment < 2 ? (magnitude >> 1) & 0x0F : (magnitude >> segment) & 0x0F;
  return static_cast<std::uint8_t>(code ^ mask);
}

constexpr std::int16_t alaw_decode(std::uint8_t code) {
  const int c = code ^ 0x55;
  int magnitude = (c & 0x0F) << 4;
  const int segment = (c & 0x70) >> 4;
  if (segment == 0) {
    magnitude += 8;
  } else {
    magnitude += 0x108;
    magnitude <<= segment - 1;
  }
  return static_cast<std::int16_t>((c & 0x80) != 0 ? magnitude : -magnitude);
}

template <std::size_t N, class F>
constexpr auto make_table(F f) {
  std::array<decltype(f(0)), N> t{};
  for (std::size_t i = 0; i < N; ++i) t[i] = f(static_cast<int>(i));
  return t;
}

// Encode tables are indexed by the sample's top bits as an unsigned number (two's complement
// wrapped): index = (sample >> shift) & (N - 1).
constexpr auto ulaw_enc = make_table<16384>([](int i) { return ulaw_encode_14(i < 8192 ? i : i - 16384); });
constexpr auto alaw_enc = make_table<8192>([](int i) { return alaw_encode_13(i < 4096 ? i : i - 8192); });
constexpr auto ulaw_dec = make_table<256>([](int i) { return ulaw_decode(static_cast<std::uint8_t>(i)); });
constexpr auto alaw_dec = make_table<256>([](int i) { return alaw_decode(static_cast<std::uint8_t>(i)); });

inline std::size_t top_bits(std::int16_t sample, int shift, std::size_t n) {
  return static_cast<std::size_t>(static_cast<std::uint16_t>(sample) >> shift) & (n - 1);
}

}  // namespace

std::uint8_t ulaw_from_linear(std::int16_t sample) { return ulaw_enc[top_bits(sample, 2, ulaw_enc.size())]; }
std::int16_t linear_from_ulaw(std::uint8_t code) { return ulaw_dec[code]; }
std::uint8_t alaw_from_linear(std::int16_t sample) { return alaw_enc[top_bits(sample, 3, alaw_enc.size())]; }
std::int16_t linear_from_alaw(std::uint8_t code) { return alaw_dec[code]; }

void encode_ulaw(std::span<const std::int16_t> in, std::span<std::uint8_t> out) {
  for (std::size_t i = 0; i < in.size() && i < out.size(); ++i) out[i] = ulaw_from_linear(in[i]);
}
void decode_ulaw(std::span<const std::uint8_t> in, std::span<std::int16_t> out) {
  for (std::size_t i = 0; i < in.size() && i < out.size(); ++i) out[i] = ulaw_dec[in[i]];
}
void encode_alaw(std::span<const std::int16_t> in, std::span<std::uint8_t> out) {
  for (std::size_t i = 0; i < in.size() && i < out.size(); ++i) out[i] = alaw_from_linear(in[i]);
}
void decode_alaw(std::span<const std::uint8_t> in, std::span<std::int16_t> out) {
  for (std::size_t i = 0; i < in.size() && i < out.size(); ++i) out[i] = alaw_dec[in[i]];
}

}  // namespace sipfleet::rtp
