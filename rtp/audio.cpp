// Audio sources (see audio.hpp).
#include "rtp/audio.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "rtp/g711.hpp"

namespace sipfleet::rtp {
namespace {

constexpr double rate = 8000;

// dBm0 to peak amplitude: G.711's 0 dBm0 sine has a peak 3.14 dB under full scale (G.711 §3).
double peak_of(double dbm0) { return 32767.0 * std::pow(10.0, (dbm0 - 3.14) / 20.0); }

std::uint32_t le32(const std::uint8_t* p) {
  return std::uint32_t{p[0]} | (std::uint32_t{p[1]} << 8) | (std::uint32_t{p[2]} << 16) | (std::uint32_t{p[3]} << 24);
}
std::uint16_t le16(const std::uint8_t* p) { return static_cast<std::uint16_t>(p[0] | (p[1] << 8)); }

}  // namespace

audio_source audio_source::tone(double hz, double dbm0) {
  // One second of the tone: a whole number of periods for any integer frequency, so the loop
  // joins without a click.
  std::vector<std::int16_t> s(static_cast<std::size_t>(rate));
  const double peak = peak_of(dbm0);
  for (std::size_t i = 0; i < s.size(); ++i)
    s[i] = static_cast<std::int16_t>(std::lround(peak * std::sin(2 * std::numbers::pi * hz * static_cast<double>(i) / rate)));
  return from_samples(std::move(s));
}

audio_source audio_source::speech_like(double dbm0) {
  // 2 s: syllables of 250 ms (a 150 Hz fundamental with 2nd and 3rd harmonics, raised-cosine
  // envelope) separated by 150 ms of silence, and one 400 ms pause.
  std::vector<std::int16_t> s(static_cast<std::size_t>(2 * rate), 0);
  const double peak = peak_of(dbm0) / 1.75;  // the harmonics add up to 1.75x the fundamental
  const std::size_t syllable = 2000, gap = 1200;
  for (std::size_t start = 0; start + syllable <= s.size() - 3200; start += syllable + gap) {
    for (std::size_t i = 0; i < syllable; ++i) {
      const double t = static_cast<double>(start + i) / rate;
      const double env = 0.5 - 0.5 * std::cos(2 * std::numbers::pi * static_cast<double>(i) / syllable);
      const double v = std::sin(2 * std::numbers::pi * 150 * t) + 0.5 * std::sin(2 * std::numbers::pi * 300 * t) +
                       0.25 * std::sin(2 * std::numbers::pi * 450 * t);
      s[start + i] = static_cast<std::int16_t>(std::lround(peak * env * v));
    }
  }
  return from_samples(std::move(s));
}

audio_source audio_source::from_samples(std::vector<std::int16_t> samples) {
  audio_source a;
  a.samples_ = std::move(samples);
  return a;
}

void audio_source::fill(std::span<std::int16_t> out) {
  if (samples_.empty()) {
    std::fill(out.begin(), out.end(), std::int16_t{0});
    return;
  }
  for (auto& v : out) {
    v = samples_[at_];
    if (++at_ == samples_.size()) at_ = 0;
  }
}

audio_source::wav_result audio_source::parse_wav(std::span<const std::uint8_t> bytes) {
  auto fail = [](std::string why) { return wav_result{.ok = false, .samples = {}, .error = std::move(why)}; };
  if (bytes.size() < 12 || std::string(bytes.begin(), bytes.begin() + 4) != "RIFF" ||
      std::string(bytes.begin() + 8, bytes.begin() + 12) != "WAVE")
    return fail("not a WAV file (no RIFF/WAVE header)");
  std::uint16_t format = 0, channels = 0, bits = 0;
  std::uint32_t sample_rate = 0;
  bool have_fmt = false;
  std::size_t at = 12;
  while (at + 8 <= bytes.size()) {
    const std::string id(bytes.begin() + static_cast<std::ptrdiff_t>(at), bytes.begin() + static_cast<std::ptrdiff_t>(at + 4));
    const std::uint32_t size = le32(bytes.data() + at + 4);
    const std::size_t body = at + 8;
    if (size > bytes.size() - body) return fail("WAV chunk '" + id + "' runs past the end of the file");
    if (id == "fmt ") {
      if (size < 16) return fail("WAV 'fmt ' chunk too short");
      format = le16(bytes.data() + body);
      channels = le16(bytes.data() + body + 2);
      sample_rate = le32(bytes.data() + body + 4);
      bits = le16(bytes.data() + body + 14);
      have_fmt = true;
    } else if (id == "data") {
      if (!have_fmt) return fail("WAV 'data' before 'fmt '");
      if (channels != 1 || sample_rate != 8000)
        return fail("WAV must be mono at 8000 Hz (this one: " + std::to_string(channels) + " channel(s), " +
                    std::to_string(sample_rate) + " Hz)");
      const auto data = bytes.subspan(body, size);
      wav_result r{.ok = true, .samples = {}, .error = {}};
      if (format == 1 && bits == 16) {
        r.samples.resize(data.size() / 2);
        for (std::size_t i = 0; i < r.samples.size(); ++i)
          r.samples[i] = static_cast<std::int16_t>(le16(data.data() + 2 * i));
      } else if ((format == 6 || format == 7) && bits == 8) {  // A-law, μ-law
        r.samples.resize(data.size());
        if (format == 7) decode_ulaw(data, r.samples); else decode_alaw(data, r.samples);
      } else {
        return fail("WAV format " + std::to_string(format) + " with " + std::to_string(bits) +
                    "-bit samples is not supported (16-bit PCM, or 8-bit A-law/μ-law)");
      }
      if (r.samples.empty()) return fail("WAV file has no samples");
      return r;
    }
    at = body + size + (size & 1);  // chunks are padded to an even size
  }
  return fail("WAV file has no 'data' chunk");
}

}  // namespace sipfleet::rtp
