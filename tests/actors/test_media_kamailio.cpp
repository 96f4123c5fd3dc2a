// Calls with media between sipfleet phones through a real Kamailio (deploy/kamailio, started
// per test on a free port): RTP both ways, what each side measured in its call record, DTMF,
// hold, and a run without media.
#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <thread>

#include "actors/fleet.hpp"
#include "fleet_fixture.hpp"

using namespace sipfleet;
using namespace std::chrono_literals;
using sipfleet::test::registered_fleet;
using sipfleet::test::wait_until;

namespace {

// The fleet tests' phones, with their RTP ports in a range of their own (ports held by others,
// a parallel run say, are skipped) and RTCP every 500 ms.
actors::fleet_options media_phones(const test::kamailio& k, int first, int count) {
  auto o = test::phones(k, first, count);
  o.media_engine.first_port = 30000;
  o.media_engine.last_port = 39999;
  o.media_engine.rtcp_interval = 500ms;
  return o;
}

const ua::call_record* side(const std::vector<ua::call_record>& records, bool outgoing) {
  for (const auto& r : records)
    if (r.outgoing == outgoing) return &r;
  return nullptr;
}

// What one direction of a call delivered: the receiver got every packet the sender sent but
// at most the one in flight when the call was hung up (RFC 3261 §15.1.1: media stops at BYE).
void check_direction(const ua::media_stats& from, const ua::media_stats& to) {
  CHECK(to.packets_received <= from.packets_sent);
  CHECK(to.packets_received + 1 >= from.packets_sent);
  CHECK(static_cast<double>(to.packets_received) >= 0.999 * static_cast<double>(from.packets_sent) - 1);
  CHECK(to.lost == 0);
  CHECK(to.duplicates == 0);
  CHECK(to.jitter_ms < 5.0);
  CHECK(to.mos >= 4.2);
}

}  // namespace

TEST_CASE("two phones in a call through Kamailio stream G.711 both ways with no loss, MOS >= 4.2 and DTMF heard") {
  test::kamailio k;
  actors::run_stats stats;
  auto o = media_phones(k, 6100, 2);
  o.prototype.dtmf_after_answer = "159#";
  auto f = registered_fleet(o, stats);
  const auto r = f->call_and_wait("6100", "6101", 2000ms, 15s);
  REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.err().reason));
  REQUIRE(wait_until([&] { return f->call_records().size() == 2; }, 5s));
  const auto records = f->call_records();
  const auto* caller = side(records, true);
  const auto* callee = side(records, false);
  REQUIRE(caller != nullptr);
  REQUIRE(callee != nullptr);
  REQUIRE(caller->media.started);
  REQUIRE(callee->media.started);
  // 2 s of 20 ms packets each way
  CHECK(caller->media.packets_sent >= 90);
  CHECK(caller->media.packets_sent <= 110);
  CHECK(callee->media.packets_sent >= 90);
  check_direction(caller->media, callee->media);
  check_direction(callee->media, caller->media);
  // RTCP every 500 ms here: the caller measured the round trip from the callee's reports
  REQUIRE(caller->media.rtt_ms.has_value());
  CHECK(*caller->media.rtt_ms < 50.0);
  CHECK(caller->media.digits_sent == "159#");
  CHECK(callee->media.digits_received == "159#");
  CHECK(caller->media.digits_received.empty());
  const auto m = stats.media();
  CHECK(m.streams == 2);
  CHECK(m.digits_received == 4);
  CHECK(m.mos_min >= 4.2);
  const auto t = f->media_totals();
  REQUIRE(t.has_value());
  CHECK(t->streams_open == 0);
  CHECK(t->send_errors == 0);
}

TEST_CASE("20 concurrent calls with media through Kamailio: every stream measured, >= 99.9% delivered") {
  test::kamailio k;
  actors::run_stats stats;
  auto f = registered_fleet(media_phones(k, 6200, 40), stats);
  REQUIRE(f->start_campaign({.total = 20, .rate = 100, .max_concurrent = 20, .hold = 1500ms, .seed = 3}));
  REQUIRE(wait_until([&] { return f->progress().done; }, 30s));
  CHECK(stats.calls_answered.load() == 20);
  const auto m = stats.media();
  CHECK(m.streams == 40);
  CHECK(m.lost == 0);
  // Only the packets in flight at each hang-up may be missing: at most one per stream.
  CHECK(m.packets_received + 40 >= m.packets_sent);
  CHECK(static_cast<double>(m.packets_received) >= 0.99 * static_cast<double>(m.packets_sent));
  CHECK(m.mos_streams == 40);
  CHECK(m.mos_min >= 4.2);
  CHECK(m.jitter_ms.p95 < 5.0);
  CHECK(stats.media_open_failures.load() == 0);
}

TEST_CASE("on hold the holding phone's peer stops sending, and the stream carries on after resume") {
  test::kamailio k;
  actors::run_stats stats;
  auto f = registered_fleet(media_phones(k, 6300, 2), stats);
  const auto id = f->dial("6300", "6301", 0ms);
  REQUIRE(id.ok());
  REQUIRE(wait_until([&] { return stats.calls_answered.load() == 1; }, 10s));
  std::this_thread::sleep_for(500ms);
  const auto sending = [&] { return f->media_totals()->streams_sending; };
  CHECK(sending() == 2);
  REQUIRE(f->act("6300", *id, actors::call_action::hold).ok());
  // 6300 offers sendonly, 6301 answers recvonly: only 6300 sends (RFC 3264 §8.4)
  CHECK(wait_until([&] { return sending() == 1; }, 5s));
  std::this_thread::sleep_for(500ms);
  REQUIRE(f->act("6300", *id, actors::call_action::resume).ok());
  CHECK(wait_until([&] { return sending() == 2; }, 5s));
  std::this_thread::sleep_for(500ms);
  REQUIRE(f->act("6300", *id, actors::call_action::hangup).ok());
  REQUIRE(wait_until([&] { return f->call_records().size() == 2; }, 10s));
  const auto records = f->call_records();
  const auto* caller = side(records, true);
  const auto* callee = side(records, false);
  REQUIRE(caller != nullptr);
  REQUIRE(callee != nullptr);
  // the callee was silent for the ~0.5 s of hold: ~25 packets fewer than the caller sent
  CHECK(callee->media.packets_sent + 15 <= caller->media.packets_sent);
  // and its sequence numbers went on across the gap: no loss counted
  CHECK(caller->media.lost == 0);
  CHECK(callee->media.lost == 0);
  CHECK(caller->media.packets_received + 1 >= callee->media.packets_sent);
}

TEST_CASE("with media off calls carry no stream and records say so") {
  test::kamailio k;
  actors::run_stats stats;
  auto o = media_phones(k, 6400, 2);
  o.media = false;
  auto f = registered_fleet(o, stats);
  CHECK_FALSE(f->media_totals().has_value());
  const auto r = f->call_and_wait("6400", "6401", 200ms, 10s);
  REQUIRE(r.ok());
  REQUIRE(wait_until([&] { return f->call_records().size() == 2; }, 5s));
  for (const auto& rec : f->call_records()) CHECK_FALSE(rec.media.started);
  CHECK(stats.media().streams == 0);
}

TEST_CASE("with the RTP port range used up a call is not placed, and it is counted as failed with 503") {
  test::kamailio k;
  actors::run_stats stats;
  auto o = media_phones(k, 6500, 4);
  o.media_engine.first_port = 44000;  // two port pairs: one call's two ends
  o.media_engine.last_port = 44003;
  auto f = registered_fleet(o, stats);
  // The first call takes both pairs; the second starts a second later, while the first is up.
  REQUIRE(f->start_campaign({.total = 2, .rate = 1, .max_concurrent = 2, .hold = 2500ms, .seed = 5}));
  REQUIRE(wait_until([&] { return f->progress().done; }, 20s));
  CHECK(stats.calls_attempted.load() == 2);
  CHECK(stats.calls_answered.load() == 1);
  CHECK(stats.calls_failed.load() == 1);
  CHECK(stats.call_codes()[503] == 1);
  CHECK(stats.media_open_failures.load() == 1);
  const auto t = f->media_totals();
  REQUIRE(t.has_value());
  CHECK(t->open_failures == 1);
  // the answered call's media was whole
  const auto m = stats.media();
  CHECK(m.streams == 2);
  CHECK(m.lost == 0);
}
