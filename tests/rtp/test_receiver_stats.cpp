// Receiver statistics (rtp/receiver_stats.hpp) on synthetic sequences whose figures are worked
// out by hand from RFC 3550 A.1 (probation, wrap, restart), A.3 (expected, lost, fraction
// lost) and A.8 (jitter), plus duplicates and reordering.
#include <doctest/doctest.h>

#include <vector>

#include "rtp/receiver_stats.hpp"

using namespace sipfleet::rtp;

namespace {
// Packets every 20 ms at 8 kHz (160 timestamp units), arriving exactly on time.
void feed(receiver_stats& s, const std::vector<int>& seqs) {
  for (int q : seqs) {
    const auto seq = static_cast<std::uint16_t>(q);
    const auto ts = static_cast<std::uint32_t>(seq) * 160;
    s.on_packet(seq, ts, ts + 1000);
  }
}
}  // namespace

TEST_CASE("A.1: the first packet is on probation; counting starts at the second in sequence") {
  receiver_stats s;
  CHECK_FALSE(s.on_packet(100, 100 * 160, 100 * 160 + 1000));
  CHECK(s.on_packet(101, 101 * 160, 101 * 160 + 1000));
  feed(s, {102, 103, 104, 105, 106, 107, 108, 109});
  CHECK(s.packets() == 10);
  CHECK(s.counted() == 9);    // 101..109 (A.1 starts counting at the validated packet)
  CHECK(s.expected() == 9);   // 109 - 101 + 1
  CHECK(s.lost() == 0);
  CHECK(s.jitter() == doctest::Approx(0.0));
}

TEST_CASE("A.3: a missing packet is lost, and the fraction lost is per interval") {
  receiver_stats s;
  feed(s, {100, 101, 102, 103, 104, 106, 107, 108, 109, 110});  // 105 lost
  CHECK(s.expected() == 10);  // 101..110
  CHECK(s.counted() == 9);
  CHECK(s.lost() == 1);
  CHECK(s.fraction_lost_since_last() == 25);  // 1/10 * 256 = 25.6, truncated
  feed(s, {111, 112, 113, 114});
  CHECK(s.fraction_lost_since_last() == 0);  // nothing lost since the last report
  feed(s, {117, 118});                        // 115, 116 lost: 2 of 4 expected
  CHECK(s.fraction_lost_since_last() == 128);
  CHECK(s.lost() == 3);
}

TEST_CASE("A.1: the sequence number wraps and the cycles count it") {
  receiver_stats s;
  feed(s, {65533, 65534, 65535, 0, 1});
  CHECK(s.extended_max() == 65536 + 1);
  CHECK(s.expected() == 4);  // 65534, 65535, 0, 1
  CHECK(s.lost() == 0);
}

TEST_CASE("duplicates are counted apart and do not hide a loss; reordering is not loss") {
  receiver_stats s;
  feed(s, {100, 101, 102, 102, 103});
  CHECK(s.duplicates() == 1);
  CHECK(s.counted() == 4);  // A.1 counts the copy as received...
  CHECK(s.lost() == 0);     // ...this class does not: expected 3, received 3 distinct

  receiver_stats r;
  feed(r, {100, 101, 103, 102, 104});
  CHECK(r.reordered() == 1);
  CHECK(r.duplicates() == 0);
  CHECK(r.expected() == 4);
  CHECK(r.lost() == 0);

  receiver_stats d;
  feed(d, {100, 101, 102, 104});  // 103 lost, then a copy of 102: still one lost
  feed(d, {102});
  CHECK(d.duplicates() == 1);
  CHECK(d.lost() == 1);
}

TEST_CASE("A.1: a jump beyond MAX_DROPOUT restarts the count once two packets confirm it") {
  receiver_stats s;
  feed(s, {100, 101, 102});
  CHECK_FALSE(s.on_packet(30000, 0, 0));  // a jump: not counted yet
  CHECK(s.on_packet(30001, 160, 160));   // confirmed: the other side restarted
  feed(s, {30002, 30003});
  CHECK(s.expected() == 3);  // 30001..30003
  CHECK(s.lost() == 0);
}

TEST_CASE("A.8: jitter from transit-time changes, worked out by hand") {
  receiver_stats s;
  // RTP timestamps every 160 units (20 ms at 8 kHz); arrivals at 0, 20, 45, 60, 80 ms,
  // i.e. 0, 160, 360, 480, 640 units. Transit changes: 0, +40, -40, 0.
  // J = 0; J += (0 - 0)/16 = 0; J += (40 - 0)/16 = 2.5; J += (40 - 2.5)/16 = 4.84375;
  // J += (0 - 4.84375)/16 = 4.541015625 (units), 0.5676 ms.
  const std::uint32_t arrival[] = {0, 160, 360, 480, 640};
  for (std::uint16_t i = 0; i < 5; ++i) s.on_packet(static_cast<std::uint16_t>(1000 + i), 160u * i, arrival[i]);
  CHECK(s.jitter() == doctest::Approx(4.541015625));
}

TEST_CASE("A.8: the RTP timestamp wrapping past 2^32 is no change in transit time") {
  // A peer whose random initial timestamp is near 2^32: packets on time across the wrap give
  // no jitter; the same +40/-40 changes as above give the same jitter across it.
  receiver_stats on_time, varied;
  const std::uint32_t start = 0xFFFFFFFFu - 2 * 160 + 1;  // the third packet wraps to 0
  const std::uint32_t arrival[] = {0, 160, 360, 480, 640};
  for (std::uint16_t i = 0; i < 5; ++i) {
    on_time.on_packet(static_cast<std::uint16_t>(7 + i), start + 160u * i, 5000u + 160u * i);
    varied.on_packet(static_cast<std::uint16_t>(7 + i), start + 160u * i, arrival[i]);
  }
  CHECK(on_time.jitter() == doctest::Approx(0.0));
  CHECK(varied.jitter() == doctest::Approx(4.541015625));
}
