// A sending stream's headers (rtp/stream.hpp: RFC 3550 §5.1 sequence, timestamp and marker,
// across wrap-around and hold/resume) and the RTP port pool (rtp/port_pool.hpp: even ports with
// room for RTCP, exhaustion, a rest before reuse).
#include <doctest/doctest.h>

#include <set>

#include "rtp/port_pool.hpp"
#include "rtp/stream.hpp"

using namespace sipfleet::rtp;
using namespace std::chrono_literals;

TEST_CASE("packets every 20 ms: sequence +1, timestamp +160, the marker on the first only") {
  send_stream s(0xABCDEF01, 65534, 0xFFFFFF00, 0);
  const auto t0 = send_stream::clock::time_point{} + 1h;
  const header a = s.next(t0, 160);
  CHECK(a.marker);
  CHECK(a.sequence == 65534);
  CHECK(a.timestamp == 0xFFFFFF00u);
  CHECK(a.ssrc == 0xABCDEF01u);
  CHECK(a.payload_type == 0);
  const header b = s.next(t0 + 20ms, 160);
  CHECK_FALSE(b.marker);
  CHECK(b.sequence == 65535);
  CHECK(b.timestamp == 0xFFFFFFA0u);
  const header c = s.next(t0 + 40ms, 160);
  CHECK(c.sequence == 0);             // wraps
  CHECK(c.timestamp == 0x00000040u);  // wraps: 0xFFFFFFA0 + 160
  CHECK(s.packets() == 3);
}

TEST_CASE("a sender report's RTP timestamp is on the data packets' clock (RFC 3550 §6.4.1)") {
  send_stream s(1, 100, 0xFFFFFF00, 0);
  const auto t0 = send_stream::clock::time_point{} + 1h;
  CHECK(s.timestamp_at(t0) == 0);  // nothing sent yet
  (void)s.next(t0, 160);
  CHECK(s.timestamp_at(t0) == 0xFFFFFF00u);
  CHECK(s.timestamp_at(t0 + 10ms) == 0xFFFFFF50u);   // +80 samples
  CHECK(s.timestamp_at(t0 + 1000ms) == 0x00001E40u);  // +8000, wrapped
  CHECK(s.timestamp_at(t0 - 5ms) == 0xFFFFFF00u);    // never before the last packet
}

TEST_CASE("after hold the sequence goes on without a gap and the timestamp follows the clock") {
  send_stream s(1, 1000, 50000, 8);
  const auto t0 = send_stream::clock::time_point{} + 1h;
  s.next(t0, 160);
  s.next(t0 + 20ms, 160);  // ts 50160
  s.pause();               // on hold for a second
  const header r = s.next(t0 + 1020ms, 160);
  CHECK(r.marker);                     // a new talk-spurt
  CHECK(r.sequence == 1002);           // no gap: the receiver counts no loss
  CHECK(r.timestamp == 50160 + 8000);  // 1 s of the 8 kHz clock since the last packet
  const header n = s.next(t0 + 1040ms, 160);
  CHECK_FALSE(n.marker);
  CHECK(n.timestamp == 58160 + 160);
}

TEST_CASE("the port pool hands out even ports with their RTCP port inside the range") {
  port_pool p(10000, 10009);
  CHECK(p.capacity() == 5);  // 10000 .. 10008 (10009 is 10008's RTCP port)
  const auto now = port_pool::clock::time_point{} + 1h;
  std::set<std::uint16_t> got;
  for (int i = 0; i < 5; ++i) {
    const auto port = p.take(now);
    REQUIRE(port.has_value());
    CHECK(*port % 2 == 0);
    got.insert(*port);
  }
  CHECK(got == std::set<std::uint16_t>{10000, 10002, 10004, 10006, 10008});
  CHECK_FALSE(p.take(now).has_value());  // exhausted
  CHECK(p.in_use() == 5);

  p.give_back(10004, now);
  p.give_back(10004, now);  // twice: ignored
  p.give_back(10005, now);  // odd: not one of ours
  p.give_back(20000, now);  // outside: ignored
  CHECK(p.in_use() == 4);
  CHECK_FALSE(p.take(now + 1s).has_value());  // resting
  const auto again = p.take(now + 2s);
  REQUIRE(again.has_value());
  CHECK(*again == 10004);

  port_pool odd(10001, 10010);  // starts at the first even port; 10010 has no RTCP port
  CHECK(odd.capacity() == 4);
  CHECK(odd.take(now) == std::uint16_t{10002});
  port_pool none(10000, 10000);
  CHECK(none.capacity() == 0);
  CHECK_FALSE(none.take(now).has_value());
}
