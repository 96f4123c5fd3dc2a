// libFuzzer target for the SIP parser: any bytes, as a datagram and as a stream, must give a
// message or an error value; never a crash, a leak or undefined behaviour. A parsed message is
// walked completely so that every view it holds is read.
//   scripts/fuzz.sh 30        a bounded run (the test command does this)
//   scripts/fuzz.sh 3600      a longer run
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "sip/message.hpp"

namespace {

volatile std::size_t g_sink = 0;

void touch(std::string_view v) { g_sink = g_sink + v.size() + (v.empty() ? 0 : static_cast<unsigned char>(v.back())); }

void walk(const sipfleet::sip::message& m) {
  using namespace sipfleet::sip;
  touch(m.method_text());
  touch(m.request_uri().text);
  touch(m.request_uri().host);
  touch(m.reason());
  touch(m.top_via().branch);
  touch(m.from().tag);
  touch(m.to().uri.user);
  touch(m.call_id());
  touch(m.body());
  for (const auto& h : m.headers()) {
    touch(h.name);
    touch(h.value);
    if (h.id == header_id::via) {
      if (auto v = parse_via(h.value)) touch(v->host);
    } else if (h.id == header_id::contact || h.id == header_id::route) {
      if (auto a = parse_name_addr(h.value)) {
        touch(a->uri.user);
        if (auto lr = a->uri.param("lr")) touch(*lr);
        touch(unescape(a->uri.user));
      }
    }
  }
  const auto copy = m.clone();
  touch(copy.raw());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace sipfleet::sip;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  if (auto m = message::parse(bytes)) walk(*m);
  if (auto n = stream_frame_length(bytes); n && *n > 0) {
    if (auto m = message::parse(bytes.substr(0, *n), {.framing = framing::stream})) walk(*m);
  }
  if (auto u = parse_uri(bytes)) touch(u->host);
  return 0;
}
