// Audio sources (rtp/audio.hpp): a tone's level and frequency, looping without a gap, the
// speech-like signal's talk and silence, and WAV files: what is read, and each unsupported or
// broken file refused with what it is.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <string>
#include <vector>

#include "rtp/audio.hpp"
#include "rtp/g711.hpp"

using namespace sipfleet::rtp;

namespace {

std::vector<std::uint8_t> wav(std::uint16_t format, std::uint16_t channels, std::uint32_t rate, std::uint16_t bits,
                              const std::vector<std::uint8_t>& data) {
  std::vector<std::uint8_t> f;
  auto s = [&](const std::string& x) { f.insert(f.end(), x.begin(), x.end()); };
  auto u32 = [&](std::uint32_t v) { for (int i = 0; i < 4; ++i) f.push_back(static_cast<std::uint8_t>(v >> (8 * i))); };
  auto u16 = [&](std::uint16_t v) { f.push_back(static_cast<std::uint8_t>(v)); f.push_back(static_cast<std::uint8_t>(v >> 8)); };
  s("RIFF");
  u32(static_cast<std::uint32_t>(4 + 8 + 16 + 8 + data.size()));
  s("WAVE");
  s("fmt ");
  u32(16);
  u16(format);
  u16(channels);
  u32(rate);
  u32(rate * channels * bits / 8);
  u16(static_cast<std::uint16_t>(channels * bits / 8));
  u16(bits);
  s("data");
  u32(static_cast<std::uint32_t>(data.size()));
  f.insert(f.end(), data.begin(), data.end());
  return f;
}

}  // namespace

TEST_CASE("a 1 kHz tone at -10 dBm0: its peak, its frequency, and a loop without a gap") {
  auto a = audio_source::tone(1000, -10);
  std::vector<std::int16_t> s(8000 + 160);
  a.fill(s);
  // Peak: 32767 * 10^((-10 - 3.14) / 20) = 7218.3
  int peak = 0;
  for (std::size_t i = 0; i < 8000; ++i) peak = std::max(peak, std::abs(static_cast<int>(s[i])));
  CHECK(std::abs(peak - 7218) <= 2);
  int rises = 0;  // upward zero crossings: one per period
  for (std::size_t i = 1; i < 8000; ++i) rises += (s[i - 1] < 0 && s[i] >= 0) ? 1 : 0;
  CHECK(std::abs(rises - 1000) <= 1);
  for (std::size_t i = 0; i < 160; ++i) CHECK(s[8000 + i] == s[i]);  // the second second starts over
}

TEST_CASE("the speech-like signal alternates talk and silence") {
  auto a = audio_source::speech_like();
  std::vector<std::int16_t> s(16000);
  a.fill(s);
  // Per 20 ms frame: loud (talk) or all zero (silence); both must be there, silence >= 150 ms.
  int talk = 0, silent = 0, longest_silence = 0, run = 0;
  for (std::size_t f = 0; f < 100; ++f) {
    const auto frame = std::span<const std::int16_t>(s).subspan(f * 160, 160);
    const bool quiet = std::all_of(frame.begin(), frame.end(), [](std::int16_t v) { return v == 0; });
    if (quiet) {
      ++silent;
      longest_silence = std::max(longest_silence, ++run);
    } else {
      ++talk;
      run = 0;
    }
  }
  CHECK(talk >= 50);
  CHECK(silent >= 20);
  CHECK(longest_silence * 20 >= 150);
}

TEST_CASE("WAV: 16-bit PCM and G.711 files are read; others are refused with what they are") {
  const auto pcm = audio_source::parse_wav(wav(1, 1, 8000, 16, {0x01, 0x00, 0xFF, 0xFF, 0x00, 0x80}));
  REQUIRE(pcm.ok);
  CHECK(pcm.samples == std::vector<std::int16_t>{1, -1, -32768});

  const auto mu = audio_source::parse_wav(wav(7, 1, 8000, 8, {0xFF, 0x80, 0x00}));
  REQUIRE(mu.ok);
  CHECK(mu.samples == std::vector<std::int16_t>{0, 32124, -32124});
  const auto al = audio_source::parse_wav(wav(6, 1, 8000, 8, {0xD5}));
  REQUIRE(al.ok);
  CHECK(al.samples == std::vector<std::int16_t>{8});

  CHECK(audio_source::parse_wav(wav(1, 2, 8000, 16, {0, 0, 0, 0})).error ==
        "WAV must be mono at 8000 Hz (this one: 2 channel(s), 8000 Hz)");
  CHECK(audio_source::parse_wav(wav(1, 1, 16000, 16, {0, 0})).error ==
        "WAV must be mono at 8000 Hz (this one: 1 channel(s), 16000 Hz)");
  CHECK(audio_source::parse_wav(wav(3, 1, 8000, 32, {0, 0, 0, 0})).error ==
        "WAV format 3 with 32-bit samples is not supported (16-bit PCM, or 8-bit A-law/μ-law)");
  CHECK(audio_source::parse_wav(std::vector<std::uint8_t>{'R', 'I', 'F', 'F'}).error ==
        "not a WAV file (no RIFF/WAVE header)");
  auto cut = wav(1, 1, 8000, 16, {0, 0, 0, 0});
  cut.resize(cut.size() - 2);
  CHECK(audio_source::parse_wav(cut).error == "WAV chunk 'data' runs past the end of the file");
  CHECK(audio_source::parse_wav(wav(1, 1, 8000, 16, {})).error == "WAV file has no samples");

  // A file's samples loop like a tone's.
  auto a = audio_source::from_samples(pcm.samples);
  std::vector<std::int16_t> out(7);
  a.fill(out);
  CHECK(out == std::vector<std::int16_t>{1, -1, -32768, 1, -1, -32768, 1});
  auto none = audio_source::from_samples({});
  none.fill(out);
  CHECK(std::all_of(out.begin(), out.end(), [](std::int16_t v) { return v == 0; }));
}
