// G.711 (rtp/g711.hpp) against values worked out from ITU-T G.711's tables: silence, the
// largest magnitudes, every code surviving a decode/encode round trip, and the quantisation
// error never above half a step of the segment a sample falls in.
#include <doctest/doctest.h>

#include <array>
#include <cstdlib>
#include <vector>

#include "rtp/g711.hpp"

using namespace sipfleet::rtp;

TEST_CASE("μ-law: silence, the extremes and known codes") {
  CHECK(ulaw_from_linear(0) == 0xFF);        // +0 is sent as all ones (codes are inverted)
  CHECK(linear_from_ulaw(0xFF) == 0);
  CHECK(linear_from_ulaw(0x7F) == 0);        // -0
  CHECK(linear_from_ulaw(0x80) == 32124);    // largest positive: segment 7, step 15
  CHECK(linear_from_ulaw(0x00) == -32124);   // largest negative
  CHECK(ulaw_from_linear(32767) == 0x80);    // clipped to the largest code
  CHECK(ulaw_from_linear(-32768) == 0x00);
  // Segment 0, step 1: magnitudes 8..15 decode to ((1 << 3) + 132) - 132 = 8 ... worked out:
  // code ~0x01 = 0xFE decodes to (1*8 + 132) - 132 = 8.
  CHECK(linear_from_ulaw(0xFE) == 8);
  CHECK(linear_from_ulaw(0x7E) == -8);
  // 1000: biased 1132 = 0b100_0110_1100 -> segment 3, step (1132 >> 6) & 15 = 1 -> code
  // ~(0x31) = 0xCE, which decodes to ((1*8 + 132) << 3) - 132 = 988.
  CHECK(ulaw_from_linear(1000) == 0xCE);
  CHECK(linear_from_ulaw(0xCE) == 988);
}

TEST_CASE("A-law: silence, the extremes and known codes") {
  CHECK(alaw_from_linear(0) == 0xD5);     // even bits inverted, sign bit set for >= 0
  CHECK(linear_from_alaw(0xD5) == 8);     // the smallest positive level
  CHECK(linear_from_alaw(0x55) == -8);
  CHECK(linear_from_alaw(0xAA) == 32256); // largest positive: segment 7, step 15
  CHECK(linear_from_alaw(0x2A) == -32256);
  CHECK(alaw_from_linear(32767) == 0xAA);
  CHECK(alaw_from_linear(-32768) == 0x2A);
  // 1000 >> 3 = 125 <= 0x7F: segment 2, step (125 >> 2) & 15 = 15 -> 0x2F ^ 0xD5 = 0xFA,
  // which decodes to ((15 << 4) + 0x108) << 1 = 1008.
  CHECK(alaw_from_linear(1000) == 0xFA);
  CHECK(linear_from_alaw(0xFA) == 1008);
}

TEST_CASE("every code survives decode then encode (μ-law's -0 becomes +0)") {
  for (int c = 0; c < 256; ++c) {
    const auto code = static_cast<std::uint8_t>(c);
    CHECK(alaw_from_linear(linear_from_alaw(code)) == code);
    if (code == 0x7F) {
      CHECK(ulaw_from_linear(linear_from_ulaw(code)) == 0xFF);
    } else {
      CHECK(ulaw_from_linear(linear_from_ulaw(code)) == code);
    }
  }
}

TEST_CASE("decoded levels rise with the code; the error stays within half a step") {
  // Decoded positive levels in code order are strictly increasing for both laws.
  std::vector<int> ulaw_levels, alaw_levels;
  for (int c = 0xFF; c >= 0x80; --c) ulaw_levels.push_back(linear_from_ulaw(static_cast<std::uint8_t>(c)));
  for (int seg_step = 0; seg_step < 128; ++seg_step)
    alaw_levels.push_back(linear_from_alaw(static_cast<std::uint8_t>(seg_step ^ 0xD5)));
  for (std::size_t i = 1; i < ulaw_levels.size(); ++i) CHECK(ulaw_levels[i] > ulaw_levels[i - 1]);
  for (std::size_t i = 1; i < alaw_levels.size(); ++i) CHECK(alaw_levels[i] > alaw_levels[i - 1]);

  int worst_ulaw = 0, worst_alaw = 0;
  for (int x = -32124; x <= 32124; x += 7) {
    const auto s = static_cast<std::int16_t>(x);
    const int mag = std::abs(x);
    // Step size of the segment: μ-law 2^(seg+3) on the biased magnitude, A-law 2^(seg+1)
    // (segments 0 and 1 both 16). Rounding down within a step (as G.711 does) and then
    // reconstructing at the step's middle keeps the error within half a step, + 4 for the
    // truncation to 14 or 13 bits.
    int useg = 0;
    for (int probe = (mag + 132) >> 8; probe != 0 && useg < 7; probe >>= 1) ++useg;
    const int ustep = 1 << (useg + 3);
    CHECK(std::abs(linear_from_ulaw(ulaw_from_linear(s)) - x) <= ustep / 2 + 4);
    int aseg = 0;
    for (int probe = (mag >> 3) >> 5; probe != 0 && aseg < 7; probe >>= 1) ++aseg;
    const int astep = aseg < 2 ? 16 : 1 << (aseg + 3);
    CHECK(std::abs(linear_from_alaw(alaw_from_linear(s)) - x) <= astep / 2 + 8);
    worst_ulaw = std::max(worst_ulaw, std::abs(linear_from_ulaw(ulaw_from_linear(s)) - x));
    worst_alaw = std::max(worst_alaw, std::abs(linear_from_alaw(alaw_from_linear(s)) - x));
  }
  CHECK(worst_ulaw <= 516);  // half of the top segment's step of 1,024, plus truncation
  CHECK(worst_alaw <= 520);
}

TEST_CASE("frames encode and decode as the per-sample functions do") {
  std::array<std::int16_t, 160> in{};
  for (std::size_t i = 0; i < in.size(); ++i) in[i] = static_cast<std::int16_t>((static_cast<int>(i) - 80) * 400);
  std::array<std::uint8_t, 160> u{}, a{};
  encode_ulaw(in, u);
  encode_alaw(in, a);
  std::array<std::int16_t, 160> ud{}, ad{};
  decode_ulaw(u, ud);
  decode_alaw(a, ad);
  for (std::size_t i = 0; i < in.size(); ++i) {
    CHECK(u[i] == ulaw_from_linear(in[i]));
    CHECK(a[i] == alaw_from_linear(in[i]));
    CHECK(ud[i] == linear_from_ulaw(u[i]));
    CHECK(ad[i] == linear_from_alaw(a[i]));
  }
}
