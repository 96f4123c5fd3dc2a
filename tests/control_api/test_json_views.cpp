// The control API's JSON shapes (control_api/json_views.hpp): enum names, steady-clock times
// as UNIX epoch milliseconds, and the fields a call leg shows only once they are known.
#include <doctest/doctest.h>

#include <boost/json.hpp>

#include "control_api/json_views.hpp"

namespace json = boost::json;
using namespace sipfleet::control_api;
using namespace std::chrono_literals;
namespace ua = sipfleet::ua;

namespace {

// A fixed anchor: steady time T is system time 2023-11-14 22:13:20 UTC (1,700,000,000 s).
const clock_anchor anchor{
    .steady = ua::clock::time_point(1000h),
    .system = std::chrono::system_clock::time_point(std::chrono::seconds(1'700'000'000))};
constexpr std::int64_t anchor_ms = 1'700'000'000'000;

ua::call_record ended_call() {
  ua::call_record r;
  r.call_id = "c1@h";
  r.outgoing = false;
  r.peer = "1000";
  r.started = anchor.steady - 10s;
  r.ringing = anchor.steady - 9500ms;
  r.answered = anchor.steady - 8s;
  r.ended = anchor.steady - 3s;
  r.end_code = 200;
  r.end_reason = "BYE from peer";
  r.ended_by_us = false;
  r.retransmissions = 2;
  r.state = ua::call_state::ended;
  r.media.started = true;
  r.media.packets_sent = 250;
  r.media.packets_received = 248;
  r.media.lost = 2;
  r.media.expected = 250;
  r.media.jitter_ms = 1.25;
  r.media.mos = 4.3;
  r.media.rtt_ms = 12.5;
  r.media.digits_received = "12#";
  return r;
}

}  // namespace

TEST_CASE("every enum value has a name, and the names read back to the same value") {
  for (int i = 0; i <= static_cast<int>(ua::registration_state::unregistering); ++i) {
    const auto s = static_cast<ua::registration_state>(i);
    CHECK(parse_registration_state(to_string(s)) == s);
  }
  for (int i = 0; i <= static_cast<int>(ua::call_state::ended); ++i) {
    const auto s = static_cast<ua::call_state>(i);
    CHECK(parse_call_state(to_string(s)) == s);
  }
  CHECK(to_string(ua::answer_mode::automatic) == "auto");
  CHECK(parse_answer_mode("manual") == ua::answer_mode::manual);
  CHECK(parse_answer_mode("reject") == ua::answer_mode::reject);
  CHECK_FALSE(parse_answer_mode("automatic").has_value());
  CHECK_FALSE(parse_call_state("Ringing").has_value());
  CHECK(to_string(call_op::hangup) == "hangup");
  CHECK(to_string(call_op::transfer) == "transfer");
}

TEST_CASE("steady-clock times become UNIX epoch milliseconds through the anchor") {
  CHECK(anchor.epoch_ms(anchor.steady) == anchor_ms);
  CHECK(anchor.epoch_ms(anchor.steady - 1500ms) == anchor_ms - 1500);
  CHECK(anchor.epoch_ms(anchor.steady + 20ms) == anchor_ms + 20);
  // A real anchor agrees with the system clock to well within a second.
  const auto now = clock_anchor::now();
  const auto wall = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::system_clock::now().time_since_epoch())
                        .count();
  CHECK(std::abs(now.epoch_ms(ua::clock::now()) - wall) < 1000);
}

TEST_CASE("an ended call's leg shows every time, setup and duration, the end and the media") {
  const auto v = leg_json("1001", ended_call(), anchor);
  CHECK(v.at("call_id") == "c1@h");
  CHECK(v.at("user") == "1001");
  CHECK(v.at("direction") == "incoming");
  CHECK(v.at("peer") == "1000");
  CHECK(v.at("state") == "ended");
  CHECK(v.at("started_at") == anchor_ms - 10000);
  CHECK(v.at("ringing_at") == anchor_ms - 9500);
  CHECK(v.at("answered_at") == anchor_ms - 8000);
  CHECK(v.at("ended_at") == anchor_ms - 3000);
  CHECK(v.at("setup_ms") == 2000);
  CHECK(v.at("duration_ms") == 5000);
  CHECK(v.at("end_code") == 200);
  CHECK(v.at("end_reason") == "BYE from peer");
  CHECK(v.at("ended_by_us") == false);
  CHECK(v.at("retransmissions") == 2);
  const auto& m = v.at("media");
  CHECK(m.at("packets_sent") == 250);
  CHECK(m.at("lost") == 2);
  CHECK(m.at("loss_pct").as_double() == doctest::Approx(0.8));
  CHECK(m.at("jitter_ms") == 1.25);
  CHECK(m.at("rtt_ms") == 12.5);
  CHECK(m.at("dtmf_received") == "12#");
  CHECK(m.at("dtmf_sent") == "");
}

TEST_CASE("a call in progress leaves out what is not known yet") {
  ua::call_record r;
  r.call_id = "c2@h";
  r.peer = "sip:2000@example.test";
  r.started = anchor.steady - 1s;
  r.state = ua::call_state::calling;
  auto v = leg_json("1000", r, anchor);
  CHECK(v.at("direction") == "outgoing");
  for (const char* key : {"ringing_at", "answered_at", "setup_ms", "ended_at", "duration_ms",
                          "end_code", "end_reason", "ended_by_us", "media"}) {
    CAPTURE(key);
    CHECK_FALSE(v.contains(key));
  }
  // Ended without an answer (486): the end, but no duration.
  r.ended = anchor.steady;
  r.end_code = 486;
  r.state = ua::call_state::ended;
  v = leg_json("1000", r, anchor);
  CHECK(v.at("end_code") == 486);
  CHECK_FALSE(v.contains("duration_ms"));
  CHECK_FALSE(v.contains("setup_ms"));
  // Media that ran without RTCP has no round-trip time.
  r.media.started = true;
  CHECK_FALSE(leg_json("1000", r, anchor).at("media").as_object().contains("rtt_ms"));
}

TEST_CASE("a call's state is its first leg's; a phone's calls carry their Call-IDs") {
  call_view c{.call_id = "c1@h", .legs = {}};
  auto caller = ended_call();
  caller.outgoing = true;
  caller.state = ua::call_state::connected;
  c.legs.push_back({.user = "1000", .record = caller});
  c.legs.push_back({.user = "1001", .record = ended_call()});
  const auto v = to_json(c, anchor);
  CHECK(v.at("state") == "connected");
  CHECK(v.at("legs").as_array().size() == 2);
  CHECK(v.at("legs").at(1).at("user") == "1001");

  phone_view p;
  p.user = "1001";
  p.calls.push_back(ended_call());
  const auto pv = to_json(p, anchor);
  CHECK(pv.at("calls").at(0).at("call_id") == "c1@h");
  CHECK(pv.at("calls").at(0).at("user") == "1001");
}
