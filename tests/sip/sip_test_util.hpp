// Helpers shared by the sip/ tests: reading data files and writing messages with CRLFs.
#pragma once

#include <doctest/doctest.h>

#include <fstream>
#include <iterator>
#include <string>
#include <string_view>

#include "sip/message.hpp"

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

// Parses bytes that must be a well-formed message; the test stops with the reason otherwise.
inline sip::message parse_ok(std::string_view bytes) {
  auto r = sip::message::parse(bytes);
  INFO("message:\n" << bytes);
  REQUIRE_MESSAGE(r.ok(), (r.ok() ? std::string() : r.err().reason));
  return std::move(r).value();
}

}  // namespace sipfleet::test
