// Phones as actors through a real Kamailio (deploy/kamailio, started per test on a free port):
// registration, calls and the failure outcomes a load tester relies on.
#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <thread>

#include "actors/fleet.hpp"
#include "fleet_fixture.hpp"

using namespace sipfleet;
using namespace std::chrono_literals;
using sipfleet::test::wait_until;
using sipfleet::test::all_registered;
using sipfleet::test::make_fleet;
using sipfleet::test::phones;
using sipfleet::test::registered_fleet;

namespace {

const ua::call_record* find_record(const std::vector<ua::call_record>& records, const std::string& call_id,
                                   bool outgoing) {
  for (const auto& r : records)
    if (r.call_id == call_id && r.outgoing == outgoing) return &r;
  return nullptr;
}

}  // namespace

TEST_CASE("200 phones register through Kamailio and 100 calls among them all complete") {
  test::kamailio k;
  actors::run_stats stats;
  auto f = make_fleet(phones(k, 3000, 200), stats);
  f->register_all();
  REQUIRE(wait_until([&] { return all_registered(stats); }, 20s));
  CHECK(stats.registrations_failed.load() == 0);
  CHECK(stats.registration_codes().at(200) == 200);

  REQUIRE(f->start_campaign({.total = 100, .rate = 50, .max_concurrent = 20, .hold = 200ms, .seed = 7}));
  REQUIRE(wait_until([&] { return f->progress().done; }, 30s));
  CHECK(stats.calls_attempted.load() == 100);
  CHECK(stats.calls_answered.load() == 100);
  CHECK(stats.calls_failed.load() == 0);
  const auto records = f->call_records();
  const auto outgoing = std::count_if(records.begin(), records.end(), [](const auto& r) { return r.outgoing; });
  CHECK(outgoing == 100);
  for (const auto& r : records) {
    CHECK(r.answered.has_value());
    CHECK(r.end_code == 200);
    CHECK(r.peer != "");
  }
  CHECK(stats.setup_ms().p50 > 0);

  CHECK(f->shutdown(20s));
  CHECK(stats.phones_registered.load() == 0);
  CHECK(stats.unregistrations.load() == 200);
}

TEST_CASE("a phone with a wrong password fails registration with its code and the others do not suffer") {
  test::kamailio k;
  actors::run_stats good_stats;
  actors::run_stats bad_stats;
  auto good = make_fleet(phones(k, 4000, 20), good_stats);
  auto bad = make_fleet(phones(k, 4100, 1, "not-the-password"), bad_stats);
  good->register_all();
  bad->register_all();
  REQUIRE(wait_until([&] { return all_registered(good_stats) && bad_stats.phones_failed.load() == 1; }, 20s));
  CHECK(bad_stats.phones_registered.load() == 0);
  const auto codes = bad_stats.registration_codes();
  CHECK((codes.count(401) == 1 || codes.count(403) == 1));
  // No loop: one failure per attempt, and attempts back off.
  std::this_thread::sleep_for(1500ms);
  CHECK(bad_stats.registrations_failed.load() <= 2);
  CHECK(good_stats.registrations_failed.load() == 0);
  CHECK(all_registered(good_stats));
}

TEST_CASE("calling an unregistered user ends with 404 recorded") {
  test::kamailio k;
  actors::run_stats stats;
  auto f = registered_fleet(phones(k, 5000, 2), stats);
  const auto r = f->call_and_wait("5000", "5999", 0ms, 10s);
  REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.err().reason));
  CHECK(r->end_code == 404);
  CHECK_FALSE(r->answered.has_value());
  CHECK(stats.call_codes().at(404) == 1);
  CHECK(stats.calls_failed.load() == 1);
}

TEST_CASE("calling a busy phone ends with 486") {
  test::kamailio k;
  actors::run_stats stats;
  auto f = registered_fleet(phones(k, 5100, 3), stats);
  const auto first = f->dial("5100", "5101", 0ms);
  REQUIRE(first.ok());
  REQUIRE(wait_until([&] { return stats.calls_answered.load() == 1; }, 10s));
  const auto r = f->call_and_wait("5102", "5101", 0ms, 10s);
  REQUIRE(r.ok());
  CHECK(r->end_code == 486);
  CHECK(f->act("5100", *first, actors::call_action::hangup).ok());
  REQUIRE(wait_until([&] { return stats.calls_completed.load() == 2; }, 10s));
}

TEST_CASE("a call cancelled before answer ends with 487 on the callee side") {
  test::kamailio k;
  actors::run_stats stats;
  auto o = phones(k, 5200, 2);
  o.prototype.behaviour.answer = ua::answer_mode::manual;  // the callee rings until told
  auto f = registered_fleet(o, stats);
  const auto id = f->dial("5200", "5201", 0ms);
  REQUIRE(id.ok());
  REQUIRE(wait_until([&] {
    const auto calls = f->current_calls("5201");
    return calls.ok() && !calls->empty() && calls->front().state == ua::call_state::ringing;
  }, 10s));
  REQUIRE(f->act("5200", *id, actors::call_action::hangup).ok());
  REQUIRE(wait_until([&] { return f->call_records().size() == 2; }, 10s));
  const auto records = f->call_records();
  const auto* callee = find_record(records, *id, false);
  const auto* caller = find_record(records, *id, true);
  REQUIRE(callee != nullptr);
  REQUIRE(caller != nullptr);
  CHECK(callee->end_code == 487);
  CHECK_FALSE(callee->ended_by_us);
  CHECK(caller->end_code == 487);
  CHECK(caller->ended_by_us);
}

TEST_CASE("hold and resume re-INVITEs succeed through Kamailio") {
  test::kamailio k;
  actors::run_stats stats;
  auto f = registered_fleet(phones(k, 5300, 2), stats);
  const auto id = f->dial("5300", "5301", 0ms);
  REQUIRE(id.ok());
  REQUIRE(wait_until([&] { return stats.calls_answered.load() == 1; }, 10s));
  const auto state_of = [&](const std::string& user) {
    const auto calls = f->current_calls(user);
    return calls.ok() && !calls->empty() ? calls->front().state : ua::call_state::ended;
  };
  REQUIRE(f->act("5300", *id, actors::call_action::hold).ok());
  CHECK(wait_until([&] { return state_of("5300") == ua::call_state::held && state_of("5301") == ua::call_state::held; }, 10s));
  REQUIRE(f->act("5300", *id, actors::call_action::resume).ok());
  CHECK(wait_until([&] { return state_of("5300") == ua::call_state::connected && state_of("5301") == ua::call_state::connected; }, 10s));
  // The callee holds and resumes too (each re-INVITE once the previous one completed: a UA
  // may not start one while another is in progress, RFC 3261 §14.1).
  REQUIRE(f->act("5301", *id, actors::call_action::hold).ok());
  CHECK(wait_until([&] { return state_of("5300") == ua::call_state::held && state_of("5301") == ua::call_state::held; }, 10s));
  std::this_thread::sleep_for(200ms);  // the ACK of the hold re-INVITE
  const auto resumed = f->act("5301", *id, actors::call_action::resume);
  REQUIRE_MESSAGE(resumed.ok(), (resumed.ok() ? "" : resumed.err().reason));
  CHECK(wait_until([&] { return state_of("5300") == ua::call_state::connected && state_of("5301") == ua::call_state::connected; }, 10s));
  REQUIRE(f->act("5300", *id, actors::call_action::hangup).ok());
  REQUIRE(wait_until([&] { return f->call_records().size() == 2; }, 10s));
  for (const auto& r : f->call_records()) CHECK(r.end_code == 200);
}

TEST_CASE("a phone that fails is restarted and registers again, its neighbours untouched") {
  test::kamailio k;
  actors::run_stats stats;
  auto f = registered_fleet(phones(k, 5400, 10), stats);
  REQUIRE(stats.registrations_succeeded.load() == 10);
  REQUIRE(f->crash_phone("5403").ok());
  REQUIRE(wait_until([&] { return stats.phone_restarts.load() == 1; }, 10s));
  REQUIRE(wait_until([&] { return stats.registrations_succeeded.load() == 11; }, 10s));
  CHECK(stats.phones_registered.load() == 10);
  // The neighbours did not register again, and the restarted phone takes calls.
  std::this_thread::sleep_for(300ms);
  CHECK(stats.registrations_succeeded.load() == 11);
  const auto r = f->call_and_wait("5400", "5403", 100ms, 10s);
  REQUIRE(r.ok());
  CHECK(r->end_code == 200);
  CHECK(r->answered.has_value());
}
