// Audio for the phones to send (issue 4): 8 kHz mono 16-bit samples from a generated signal or
// a user's file, looped. Sans I/O: a file is given as its bytes (the caller reads it).
//  - tone: a sine at a frequency and level (dBm0, 3.14 dBm0 = full scale for G.711);
//  - speech_like: a tone whose level follows a syllable rhythm (on ~250 ms, off ~150 ms) with
//    a few harmonics, so talk-spurt detection and the marker bit have something to find;
//  - wav: a RIFF/WAVE file, PCM 16-bit mono 8,000 Hz (or G.711 μ-law/A-law at 8,000 Hz,
//    decoded); anything else is refused with what it is.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace sipfleet::rtp {

class audio_source {
 public:
  static audio_source tone(double hz, double dbm0 = -10);
  static audio_source speech_like(double dbm0 = -15);

  struct wav_result {
    bool ok = false;
    std::vector<std::int16_t> samples;
    std::string error;
  };
  static wav_result parse_wav(std::span<const std::uint8_t> bytes);
  static audio_source from_samples(std::vector<std::int16_t> samples);  // looped; empty = silence

  // The next `out.size()` samples (a packet's worth), looping over the source.
  void fill(std::span<std::int16_t> out);
  std::size_t length() const { return samples_.size(); }

 private:
  std::vector<std::int16_t> samples_;  // one period (tone) or the whole file
  std::size_t at_ = 0;
};

}  // namespace sipfleet::rtp
