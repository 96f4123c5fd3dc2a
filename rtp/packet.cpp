// RTP packet build and parse (see packet.hpp).
#include "rtp/packet.hpp"

#include "rtp/wire.hpp"

namespace sipfleet::rtp {
namespace {

using wire::get16;
using wire::get32;
using wire::put16;
using wire::put32;

parse_result fail(std::string why) { return {.ok = false, .packet = {}, .error = std::move(why)}; }

}  // namespace

std::size_t write_header(const header& h, std::span<std::uint8_t> out) {
  if (h.csrc_count > 15) return 0;
  const std::size_t size = fixed_header_size + 4 * std::size_t{h.csrc_count};
  if (out.size() < size) return 0;
  std::uint8_t* p = out.data();
  p[0] = static_cast<std::uint8_t>(0x80 | h.csrc_count);  // V=2, P=0, X=0
  p[1] = static_cast<std::uint8_t>((h.marker ? 0x80 : 0x00) | (h.payload_type & 0x7F));
  put16(p + 2, h.sequence);
  put32(p + 4, h.timestamp);
  put32(p + 8, h.ssrc);
  for (std::size_t i = 0; i < h.csrc_count; ++i) put32(p + 12 + 4 * i, h.csrc[i]);
  return size;
}

parse_result parse(std::span<const std::uint8_t> bytes) {
  if (bytes.size() < fixed_header_size) return fail("shorter than the 12-byte RTP header");
  const std::uint8_t* p = bytes.data();
  if ((p[0] >> 6) != 2) return fail("RTP version is not 2");
  const bool padded = (p[0] & 0x20) != 0;
  const bool extended = (p[0] & 0x10) != 0;
  packet_view v;
  v.h.csrc_count = static_cast<std::uint8_t>(p[0] & 0x0F);
  v.h.marker = (p[1] & 0x80) != 0;
  v.h.payload_type = static_cast<std::uint8_t>(p[1] & 0x7F);
  if (v.h.marker && v.h.payload_type >= 72 && v.h.payload_type <= 76)
    return fail("an RTCP packet (RFC 5761 §4), not RTP");
  v.h.sequence = get16(p + 2);
  v.h.timestamp = get32(p + 4);
  v.h.ssrc = get32(p + 8);
  std::size_t at = fixed_header_size + 4 * std::size_t{v.h.csrc_count};
  if (bytes.size() < at) return fail("the CSRC list runs past the end of the packet");
  for (std::size_t i = 0; i < v.h.csrc_count; ++i) v.h.csrc[i] = get32(p + 12 + 4 * i);
  if (extended) {
    if (bytes.size() < at + 4) return fail("the header extension runs past the end of the packet");
    v.has_extension = true;
    v.extension_profile = get16(p + at);
    const std::size_t words = get16(p + at + 2);
    if (bytes.size() < at + 4 + 4 * words) return fail("the header extension runs past the end of the packet");
    v.extension = bytes.subspan(at + 4, 4 * words);
    at += 4 + 4 * words;
  }
  std::size_t end = bytes.size();
  if (padded) {
    const std::uint8_t count = bytes[end - 1];
    if (count == 0 || count > end - at) return fail("bad padding count");
    v.padding = count;
    end -= count;
  }
  v.payload = bytes.subspan(at, end - at);
  return {.ok = true, .packet = v, .error = {}};
}

}  // namespace sipfleet::rtp
