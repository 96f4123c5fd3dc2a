// RTCP reports (see rtcp.hpp).
#include "rtp/rtcp.hpp"

#include <algorithm>
#include <array>

#include "rtp/wire.hpp"

namespace sipfleet::rtp {
namespace {

using wire::get32;
using wire::put16;
using wire::put32;

constexpr std::uint8_t pt_sr = 200, pt_rr = 201, pt_sdes = 202;


}  // namespace

std::size_t write_compound(const rtcp_report& r, std::string_view cname, std::span<std::uint8_t> out) {
  if (r.blocks.size() > 31 || cname.size() > 255) return 0;
  const std::size_t report_size = 8 + (r.sender ? 20 : 0) + 24 * r.blocks.size();
  // SDES: header 4, SSRC 4, CNAME item 2 + n, a null item, padded to 32 bits.
  const std::size_t sdes_size = (4 + 4 + 2 + cname.size() + 1 + 3) / 4 * 4;
  if (out.size() < report_size + sdes_size) return 0;
  std::uint8_t* p = out.data();
  p[0] = static_cast<std::uint8_t>(0x80 | r.blocks.size());
  p[1] = r.sender ? pt_sr : pt_rr;
  put16(p + 2, static_cast<std::uint32_t>(report_size / 4 - 1));
  put32(p + 4, r.ssrc);
  std::size_t at = 8;
  if (r.sender) {
    put32(p + at, static_cast<std::uint32_t>(r.sender->ntp >> 32));
    put32(p + at + 4, static_cast<std::uint32_t>(r.sender->ntp));
    put32(p + at + 8, r.sender->rtp_timestamp);
    put32(p + at + 12, r.sender->packets);
    put32(p + at + 16, r.sender->octets);
    at += 20;
  }
  for (const auto& b : r.blocks) {
    put32(p + at, b.ssrc);
    const std::int32_t lost = std::clamp<std::int32_t>(b.cumulative_lost, -0x800000, 0x7FFFFF);
    put32(p + at + 4, (std::uint32_t{b.fraction_lost} << 24) | (static_cast<std::uint32_t>(lost) & 0xFFFFFF));
    put32(p + at + 8, b.highest_sequence);
    put32(p + at + 12, b.jitter);
    put32(p + at + 16, b.lsr);
    put32(p + at + 20, b.dlsr);
    at += 24;
  }
  std::uint8_t* s = p + at;
  std::fill(s, s + sdes_size, std::uint8_t{0});  // the null item and the padding
  s[0] = 0x81;  // V=2, one chunk
  s[1] = pt_sdes;
  put16(s + 2, static_cast<std::uint32_t>(sdes_size / 4 - 1));
  put32(s + 4, r.ssrc);
  s[8] = 1;  // CNAME
  s[9] = static_cast<std::uint8_t>(cname.size());
  std::copy(cname.begin(), cname.end(), s + 10);
  return report_size + sdes_size;
}

rtcp_parse_result parse_compound(std::span<const std::uint8_t> bytes) {
  rtcp_parse_result out;
  const auto error = visit_compound(bytes, &out, [](void* context, std::uint32_t ssrc, const sender_info* sender,
                                                     std::span<const report_block> blocks) {
    auto& reports = static_cast<rtcp_parse_result*>(context)->reports;
    reports.push_back({.ssrc = ssrc, .sender = sender ? std::optional<sender_info>(*sender) : std::nullopt,
                       .blocks = std::vector<report_block>(blocks.begin(), blocks.end())});
  });
  if (!error.empty()) return {.ok = false, .reports = {}, .error = std::string(error)};
  out.ok = true;
  return out;
}

namespace {
// One pass over a compound packet: its checks, and each SR/RR to `on_report` when one is given.
std::string_view walk_compound(std::span<const std::uint8_t> bytes, void* context, report_visitor on_report) {
  const auto fail = [](std::string_view why) { return why; };
  std::array<report_block, 31> blocks{};
  std::size_t at = 0;
  bool first = true;
  while (at < bytes.size()) {
    if (bytes.size() - at < 4) return fail("a truncated RTCP header");
    const std::uint8_t* p = bytes.data() + at;
    if ((p[0] >> 6) != 2) return fail("RTCP version is not 2");
    const std::size_t length = (std::size_t{p[2]} << 8 | p[3]) * 4 + 4;
    if (length > bytes.size() - at) return fail("an RTCP packet runs past the end of the compound packet");
    const std::uint8_t pt = p[1];
    const std::size_t count = p[0] & 0x1F;
    if (first && pt != pt_sr && pt != pt_rr) return fail("a compound RTCP packet must start with SR or RR (RFC 3550 §6.1)");
    first = false;
    if ((p[0] & 0x20) != 0 && at + length != bytes.size()) return fail("padding on an RTCP packet that is not the last");
    if (pt == pt_sr || pt == pt_rr) {
      const std::size_t fixed = 8 + (pt == pt_sr ? 20 : 0);
      if (length < fixed + 24 * count) return fail("an RTCP report shorter than its report blocks");
      if (on_report == nullptr) {
        at += length;
        continue;
      }
      sender_info sender{};
      if (pt == pt_sr)
        sender = sender_info{.ntp = (std::uint64_t{get32(p + 8)} << 32) | get32(p + 12),
                             .rtp_timestamp = get32(p + 16), .packets = get32(p + 20), .octets = get32(p + 24)};
      for (std::size_t i = 0; i < count; ++i) {
        const std::uint8_t* b = p + fixed + 24 * i;
        const std::uint32_t word = get32(b + 4);
        std::int32_t lost = static_cast<std::int32_t>(word & 0xFFFFFF);
        if (lost & 0x800000) lost -= 0x1000000;  // 24-bit two's complement
        blocks[i] = {.ssrc = get32(b), .fraction_lost = static_cast<std::uint8_t>(word >> 24),
                     .cumulative_lost = lost, .highest_sequence = get32(b + 8), .jitter = get32(b + 12),
                     .lsr = get32(b + 16), .dlsr = get32(b + 20)};
      }
      on_report(context, get32(p + 4), pt == pt_sr ? &sender : nullptr, std::span<const report_block>(blocks.data(), count));
    }
    at += length;
  }
  if (first) return fail("an empty RTCP packet");
  return {};
}
}  // namespace

std::string_view visit_compound(std::span<const std::uint8_t> bytes, void* context, report_visitor on_report) {
  // The whole packet is checked before any report is handed on: a compound packet that turns
  // out malformed changes nothing.
  if (const auto error = walk_compound(bytes, nullptr, nullptr); !error.empty()) return error;
  return walk_compound(bytes, context, on_report);
}

report_block block_from(receiver_stats& stats, std::uint32_t ssrc, std::uint32_t lsr, std::uint32_t dlsr) {
  return {.ssrc = ssrc,
          .fraction_lost = stats.fraction_lost_since_last(),
          .cumulative_lost = static_cast<std::int32_t>(std::clamp<std::int64_t>(stats.lost(), -0x800000, 0x7FFFFF)),
          .highest_sequence = stats.extended_max(),
          .jitter = static_cast<std::uint32_t>(stats.jitter()),
          .lsr = lsr,
          .dlsr = dlsr};
}

std::optional<double> round_trip_seconds(std::uint32_t arrival_middle, const report_block& b) {
  if (b.lsr == 0) return std::nullopt;
  const std::uint32_t rtt = arrival_middle - b.lsr - b.dlsr;
  if (static_cast<std::int32_t>(rtt) < 0) return std::nullopt;
  return static_cast<double>(rtt) / 65536.0;
}

}  // namespace sipfleet::rtp
