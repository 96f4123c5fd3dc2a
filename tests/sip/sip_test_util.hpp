// Helpers shared by the sip/ tests: reading data files and writing messages with CRLFs.
#pragma once

#include <fstream>
#include <iterator>
#include <string>
#include <string_view>

namespace sipfleet::test {

inline std::string read_data_file(std::string_view relative) {
  const std::string path = std::string(SIPFLEET_TEST_DATA_DIR) + "/" + std::string(relative);
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Lets tests write messages with '\n' line ends: each becomes CRLF.
inline std::string crlf(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 32);
  for (char c : text) {
    if (c == '\n') out.push_back('\r');
    out.push_back(c);
  }
  return out;
}

}  // namespace sipfleet::test
