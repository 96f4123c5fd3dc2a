// RTP headers (rtp/packet.hpp): what write_header puts on the wire byte by byte (RFC 3550
// §5.1), parse reading it back with CSRCs, an extension and padding, and every malformed
// case refused with its reason.
#include <doctest/doctest.h>

#include <array>
#include <vector>

#include "rtp/packet.hpp"

using namespace sipfleet::rtp;

TEST_CASE("the header goes out as RFC 3550 §5.1 lays it out") {
  header h;
  h.marker = true;
  h.payload_type = 0;  // PCMU
  h.sequence = 0x1234;
  h.timestamp = 0xA0B0C0D0;
  h.ssrc = 0x01020304;
  std::array<std::uint8_t, 12> out{};
  REQUIRE(write_header(h, out) == 12);
  const std::array<std::uint8_t, 12> want{0x80, 0x80, 0x12, 0x34, 0xA0, 0xB0, 0xC0, 0xD0, 0x01, 0x02, 0x03, 0x04};
  CHECK(out == want);

  h.marker = false;
  h.payload_type = 101;  // telephone-event
  h.csrc_count = 2;
  h.csrc[0] = 0x11111111;
  h.csrc[1] = 0x22222222;
  std::array<std::uint8_t, 19> small{};
  CHECK(write_header(h, small) == 0);  // 20 bytes needed
  std::array<std::uint8_t, 20> big{};
  REQUIRE(write_header(h, big) == 20);
  CHECK(big[0] == 0x82);  // V=2, CC=2
  CHECK(big[1] == 101);
  CHECK(big[16] == 0x22);
  h.csrc_count = 16;
  CHECK(write_header(h, big) == 0);
}

TEST_CASE("a packet parses back: header, CSRCs, extension, payload without its padding") {
  std::vector<std::uint8_t> p{
      0xB1, 0x08, 0x00, 0x07, 0x00, 0x00, 0x01, 0x40, 0xDE, 0xAD, 0xBE, 0xEF,  // V2 P X CC=1, PCMA
      0xCA, 0xFE, 0xBA, 0xBE,                                                  // CSRC
      0xBE, 0xDE, 0x00, 0x01, 0x10, 0xAA, 0x00, 0x00,                          // extension, 1 word
      0xD5, 0xD5, 0xD5,                                                        // payload
      0x00, 0x02};                                                             // 2 bytes padding
  const auto r = parse(p);
  REQUIRE(r.ok);
  const auto& v = r.packet;
  CHECK_FALSE(v.h.marker);
  CHECK(v.h.payload_type == 8);
  CHECK(v.h.sequence == 7);
  CHECK(v.h.timestamp == 320);
  CHECK(v.h.ssrc == 0xDEADBEEF);
  REQUIRE(v.h.csrc_count == 1);
  CHECK(v.h.csrc[0] == 0xCAFEBABE);
  CHECK(v.has_extension);
  CHECK(v.extension_profile == 0xBEDE);
  CHECK(v.extension.size() == 4);
  CHECK(v.padding == 2);
  REQUIRE(v.payload.size() == 3);
  CHECK(v.payload[0] == 0xD5);

  // What write_header makes, parse reads back.
  header h{.marker = true, .payload_type = 0, .sequence = 65535, .timestamp = 160, .ssrc = 42, .csrc_count = 0, .csrc = {}};
  std::vector<std::uint8_t> buf(12 + 160, 0xFF);
  REQUIRE(write_header(h, buf) == 12);
  const auto back = parse(buf);
  REQUIRE(back.ok);
  CHECK(back.packet.h.marker);
  CHECK(back.packet.h.sequence == 65535);
  CHECK(back.packet.h.ssrc == 42);
  CHECK(back.packet.payload.size() == 160);
}

TEST_CASE("malformed packets are refused with the reason") {
  const std::vector<std::uint8_t> ok{0x80, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0xFF};
  CHECK(parse(ok).ok);
  auto with = [&](std::size_t i, std::uint8_t v) {
    auto p = ok;
    p[i] = v;
    return parse(p);
  };
  CHECK(parse(std::vector<std::uint8_t>(ok.begin(), ok.begin() + 11)).error == "shorter than the 12-byte RTP header");
  CHECK(with(0, 0x40).error == "RTP version is not 2");
  CHECK(with(0, 0x81).error == "the CSRC list runs past the end of the packet");
  CHECK(with(0, 0x90).error == "the header extension runs past the end of the packet");
  CHECK(with(0, 0xA0).error == "bad padding count");  // padding 0xFF > 1 byte of payload
  auto zero_pad = ok;
  zero_pad[0] = 0xA0;
  zero_pad.back() = 0;
  CHECK(parse(zero_pad).error == "bad padding count");
  CHECK(with(1, 0xC8).error == "an RTCP packet (RFC 5761 §4), not RTP");  // M + 72: an SR
}
