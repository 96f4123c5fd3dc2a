// RTCP sender and receiver reports (RFC 3550 §6.4), built as the compound packet §6.1 asks
// for (SR or RR first, then SDES with the CNAME, §6.5.1) and parsed from any compound packet
// (SDES, BYE and APP are checked for length and skipped). Round-trip time from a report
// block's LSR and DLSR (§6.4.1).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "rtp/receiver_stats.hpp"

namespace sipfleet::rtp {

struct report_block {
  std::uint32_t ssrc = 0;              // the source this block is about
  std::uint8_t fraction_lost = 0;      // since the last report, /256
  std::int32_t cumulative_lost = 0;    // 24-bit signed on the wire
  std::uint32_t highest_sequence = 0;  // extended
  std::uint32_t jitter = 0;            // timestamp units
  std::uint32_t lsr = 0;               // middle 32 bits of the last SR's NTP time; 0: none yet
  std::uint32_t dlsr = 0;              // delay since that SR, 1/65536 s
};

struct sender_info {
  std::uint64_t ntp = 0;  // NTP timestamp (seconds since 1900 << 32 | fraction)
  std::uint32_t rtp_timestamp = 0;
  std::uint32_t packets = 0;
  std::uint32_t octets = 0;
};

struct rtcp_report {
  std::uint32_t ssrc = 0;               // who sends the report
  std::optional<sender_info> sender;    // SR when set, RR otherwise
  std::vector<report_block> blocks;     // at most 31
};

// The compound packet: SR (or RR) and SDES CNAME. Returns its size, 0 when `out` is too small,
// there are more than 31 blocks or the CNAME is longer than 255 bytes.
std::size_t write_compound(const rtcp_report& r, std::string_view cname, std::span<std::uint8_t> out);

struct rtcp_parse_result {
  bool ok = false;
  std::vector<rtcp_report> reports;  // each SR and RR, in order
  std::string error;
};
rtcp_parse_result parse_compound(std::span<const std::uint8_t> bytes);

// The same checks as parse_compound, without allocating (the media engine's receive path):
// calls `on_report(context, ssrc, sender or nullptr for an RR, blocks)` for each SR and RR in
// order, once the whole packet has passed the checks. Returns what is wrong, or an empty view
// when the packet is well formed (and only then is `on_report` called).
using report_visitor = void (*)(void* context, std::uint32_t ssrc, const sender_info* sender,
                                std::span<const report_block> blocks);
std::string_view visit_compound(std::span<const std::uint8_t> bytes, void* context, report_visitor on_report);

// A report block from what a receiver knows (A.3 lost and fraction, A.8 jitter).
report_block block_from(receiver_stats& stats, std::uint32_t ssrc, std::uint32_t lsr, std::uint32_t dlsr);

inline std::uint32_t ntp_middle(std::uint64_t ntp) { return static_cast<std::uint32_t>(ntp >> 16); }
// §6.4.1: RTT = A - LSR - DLSR, A the report's arrival in the same middle-32-bit format;
// none when the block carries no LSR (no SR received yet) or the result is negative.
std::optional<double> round_trip_seconds(std::uint32_t arrival_middle, const report_block& b);

}  // namespace sipfleet::rtp
