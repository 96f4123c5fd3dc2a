// RTCP reports (rtp/rtcp.hpp): the compound packet as RFC 3550 §6.1/§6.4/§6.5 lays it out, read
// back, bad compound packets refused, report blocks from receiver statistics, and the
// round-trip time of RFC 3550's own example (§6.4.1, Figure 2).
#include <doctest/doctest.h>

#include <array>
#include <vector>

#include "rtp/rtcp.hpp"

using namespace sipfleet::rtp;

TEST_CASE("an SR with one block and the CNAME goes out as §6.4.1 and §6.5.1 lay it out, and reads back") {
  rtcp_report r;
  r.ssrc = 0x11223344;
  r.sender = sender_info{.ntp = 0xb7052000'12345678ULL, .rtp_timestamp = 160000, .packets = 1000, .octets = 160000};
  r.blocks.push_back({.ssrc = 0xAABBCCDD, .fraction_lost = 25, .cumulative_lost = -2, .highest_sequence = 70000,
                      .jitter = 37, .lsr = 0xb7052000, .dlsr = 0x00054000});
  std::array<std::uint8_t, 256> buf{};
  const std::size_t n = write_compound(r, "1001@127.0.0.1", buf);
  // SR: 8 + 20 + 24 = 52; SDES: 4 + 4 + 2 + 14 + 1 = 25, padded to 28.
  REQUIRE(n == 80);
  CHECK(buf[0] == 0x81);  // V=2, RC=1
  CHECK(buf[1] == 200);
  CHECK(buf[3] == 52 / 4 - 1);
  CHECK(buf[52] == 0x81);  // SDES, one chunk
  CHECK(buf[53] == 202);
  CHECK(buf[60] == 1);     // CNAME
  CHECK(buf[61] == 14);
  // cumulative lost -2 as 24-bit two's complement after the fraction
  CHECK(buf[28 + 4] == 25);
  CHECK(buf[28 + 5] == 0xFF);
  CHECK(buf[28 + 7] == 0xFE);

  const auto p = parse_compound(std::span<const std::uint8_t>(buf.data(), n));
  REQUIRE(p.ok);
  REQUIRE(p.reports.size() == 1);
  const auto& back = p.reports[0];
  CHECK(back.ssrc == 0x11223344);
  REQUIRE(back.sender.has_value());
  CHECK(back.sender->ntp == 0xb7052000'12345678ULL);
  CHECK(back.sender->packets == 1000);
  REQUIRE(back.blocks.size() == 1);
  CHECK(back.blocks[0].cumulative_lost == -2);
  CHECK(back.blocks[0].fraction_lost == 25);
  CHECK(back.blocks[0].highest_sequence == 70000);
  CHECK(back.blocks[0].jitter == 37);

  CHECK(write_compound(r, "1001@127.0.0.1", std::span<std::uint8_t>(buf.data(), 79)) == 0);
}

TEST_CASE("an RR (no sender info) reads back; bad compound packets are refused") {
  rtcp_report r;
  r.ssrc = 7;
  std::array<std::uint8_t, 64> buf{};
  const std::size_t n = write_compound(r, "x", buf);
  REQUIRE(n == 8 + 12);
  CHECK(buf[1] == 201);
  const auto p = parse_compound(std::span<const std::uint8_t>(buf.data(), n));
  REQUIRE(p.ok);
  CHECK_FALSE(p.reports[0].sender.has_value());
  CHECK(p.reports[0].blocks.empty());

  std::vector<std::uint8_t> sdes_first(buf.begin() + 8, buf.begin() + static_cast<std::ptrdiff_t>(n));
  CHECK(parse_compound(sdes_first).error == "a compound RTCP packet must start with SR or RR (RFC 3550 §6.1)");
  std::vector<std::uint8_t> cut(buf.begin(), buf.begin() + 6);
  CHECK(parse_compound(cut).error == "an RTCP packet runs past the end of the compound packet");
  auto bad = std::vector<std::uint8_t>(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n));
  bad[0] = 0x41;
  CHECK(parse_compound(bad).error == "RTCP version is not 2");
  bad[0] = 0x81;  // claims one block that is not there
  CHECK(parse_compound(bad).error == "an RTCP report shorter than its report blocks");
  CHECK(parse_compound(std::vector<std::uint8_t>{}).error == "an empty RTCP packet");
}

TEST_CASE("a compound packet whose tail is malformed hands on none of its reports") {
  rtcp_report r;
  r.ssrc = 7;
  r.sender = sender_info{.ntp = 1, .rtp_timestamp = 2, .packets = 3, .octets = 4};
  std::array<std::uint8_t, 64> buf{};
  const std::size_t n = write_compound(r, "x", buf);
  REQUIRE(n > 0);
  int visited = 0;
  const auto count = [](void* c, std::uint32_t, const sender_info*, std::span<const report_block>) {
    ++*static_cast<int*>(c);
  };
  CHECK(visit_compound(std::span<const std::uint8_t>(buf.data(), n), &visited, count).empty());
  CHECK(visited == 1);
  // the SR is whole, then 4 bytes of a packet that claims more than is there
  std::vector<std::uint8_t> tail(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n));
  tail.insert(tail.end(), {0x80, 201, 0x00, 0x07});
  visited = 0;
  CHECK(visit_compound(tail, &visited, count) == "an RTCP packet runs past the end of the compound packet");
  CHECK(visited == 0);
}

TEST_CASE("RFC 3550 §6.4.1's example: A = b710:8000, LSR = b705:2000, DLSR = 0005:4000 -> 6.125 s") {
  const report_block b{.ssrc = 1, .fraction_lost = 0, .cumulative_lost = 0, .highest_sequence = 0, .jitter = 0,
                       .lsr = 0xb7052000, .dlsr = 0x00054000};
  const auto rtt = round_trip_seconds(0xb7108000, b);
  REQUIRE(rtt.has_value());
  CHECK(*rtt == doctest::Approx(6.125));
  CHECK_FALSE(round_trip_seconds(0xb7108000, report_block{}).has_value());  // no SR seen yet
  // The middle 32 bits: the low 16 of the seconds, the high 16 of the fraction.
  CHECK(ntp_middle(0x0000b710'80001234ULL) == 0xb7108000u);
}

TEST_CASE("a report block carries what the receiver counted (A.3, A.8)") {
  receiver_stats s;
  for (int q : {100, 101, 102, 104, 105}) {  // 103 lost
    const auto seq = static_cast<std::uint16_t>(q);
    s.on_packet(seq, seq * 160u, seq * 160u + 500);
  }
  const auto b = block_from(s, 0xABCD, 0, 0);
  CHECK(b.ssrc == 0xABCD);
  CHECK(b.highest_sequence == 105);
  CHECK(b.cumulative_lost == 1);
  CHECK(b.fraction_lost == 51);  // 1 of 5 expected (101..105): 256/5 = 51.2
  CHECK(b.jitter == 0);
}
