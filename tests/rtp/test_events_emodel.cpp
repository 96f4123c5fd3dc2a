// RFC 4733 telephone-events (rtp/telephone_event.hpp) and the E-model MOS (rtp/emodel.hpp),
// against values worked out by hand.
#include <doctest/doctest.h>

#include <array>
#include <string>

#include "rtp/emodel.hpp"
#include "rtp/telephone_event.hpp"

using namespace sipfleet::rtp;

TEST_CASE("RFC 4733: digits map to events and the payload is 4 bytes as §2.3 lays it out") {
  CHECK(event_of_digit('5') == std::uint8_t{5});
  CHECK(event_of_digit('*') == std::uint8_t{10});
  CHECK(event_of_digit('#') == std::uint8_t{11});
  CHECK(event_of_digit('a') == std::uint8_t{12});
  CHECK_FALSE(event_of_digit('x').has_value());
  CHECK(digit_of_event(11) == '#');
  CHECK(digit_of_event(16) == '?');

  std::array<std::uint8_t, 4> out{};
  REQUIRE(write_event({.event = 11, .end = true, .volume = 10, .duration = 1600}, out));
  CHECK(out == std::array<std::uint8_t, 4>{0x0B, 0x8A, 0x06, 0x40});
  const auto back = parse_event(out);
  REQUIRE(back.has_value());
  CHECK(back->event == 11);
  CHECK(back->end);
  CHECK(back->volume == 10);
  CHECK(back->duration == 1600);
  out[1] |= 0x40;  // the reserved bit
  CHECK_FALSE(parse_event(out).has_value());
  CHECK_FALSE(parse_event(std::span<const std::uint8_t>(out.data(), 3)).has_value());
}

TEST_CASE("RFC 4733: a digit's packets grow in duration and end three times; the detector reports it once") {
  // 100 ms at 8 kHz = 800 units, a packet every 20 ms (160): updates at 160..640, then 3 ends.
  const auto packets = digit_packets(5, 800, 160);
  REQUIRE(packets.size() == 7);
  CHECK(packets[0].duration == 160);
  CHECK(packets[3].duration == 640);
  for (int i = 4; i < 7; ++i) {
    CHECK(packets[static_cast<std::size_t>(i)].end);
    CHECK(packets[static_cast<std::size_t>(i)].duration == 800);
  }
  event_detector d;
  std::string heard;
  for (const auto& p : packets)
    if (auto c = d.on_packet(1000, p)) heard += *c;
  for (const auto& p : digit_packets(11, 800, 160))  // '#', a new event: a new timestamp
    if (auto c = d.on_packet(2600, p)) heard += *c;
  CHECK(heard == "5#");
  // The same digit twice is two events: two timestamps.
  for (const auto& p : digit_packets(11, 800, 160))
    if (auto c = d.on_packet(4200, p)) heard += *c;
  CHECK(heard == "5##");
}

TEST_CASE("E-model: G.711 with no loss and no delay scores above 4.2; loss and delay lower it") {
  // R = 93.2; MOS = 1 + 0.035*93.2 + 93.2*33.2*6.8*7e-6 = 4.262 + 0.147286 = 4.409286
  CHECK(r_factor({}) == doctest::Approx(93.2));
  CHECK(mos({}) == doctest::Approx(4.409286).epsilon(1e-6));
  // 1% random loss, PLC: Ie_eff = 95*1/(1+25.1) = 3.639847; R = 89.560153
  CHECK(r_factor({.loss_pct = 1}) == doctest::Approx(89.560153).epsilon(1e-6));
  CHECK(mos({.loss_pct = 1}) == doctest::Approx(4.328).epsilon(1e-3));
  // 200 ms one way: Id = 4.8 + 0.11*22.7 = 7.297; R = 85.903
  CHECK(r_factor({.delay_ms = 200}) == doctest::Approx(85.903).epsilon(1e-6));
  // Heavy loss without PLC: 10%: Ie_eff = 95*10/(10+4.3) = 66.4336; R = 26.7664 -> MOS 1.58
  CHECK(mos({.loss_pct = 10, .bpl = 4.3}) < 2.0);
  CHECK(mos_from_r(-5) == 1.0);
  CHECK(mos_from_r(120) == 4.5);
}
