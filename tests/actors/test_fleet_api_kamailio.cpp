// What the control API asks of the fleet, through a real Kamailio: phones added and removed
// while running, the phone list and a phone's own view, behaviour changed on the fly, the call
// table with both legs of a call, the event listener, and campaigns between chosen phones.
#include <doctest/doctest.h>

#include <algorithm>
#include <mutex>
#include <string>
#include <vector>

#include "actors/fleet.hpp"
#include "fleet_fixture.hpp"

using namespace sipfleet;
using namespace std::chrono_literals;
using sipfleet::test::make_fleet;
using sipfleet::test::phones;
using sipfleet::test::wait_until;

namespace {

// Every event the fleet reports, kept for the test to read.
struct event_log {
  std::mutex mutex;
  std::vector<std::pair<std::string, ua::event_kind>> events;  // (user, kind)
  void add(const actors::fleet_event& e) {
    std::lock_guard lock(mutex);
    events.emplace_back(std::string(e.user), e.kind);
  }
  std::size_t count(const std::string& user, ua::event_kind k) {
    std::lock_guard lock(mutex);
    return static_cast<std::size_t>(std::count(events.begin(), events.end(), std::pair{user, k}));
  }
};

actors::fleet_options empty_fleet(const test::kamailio& k, std::size_t capacity) {
  auto o = phones(k, 0, 0);
  o.capacity = capacity;
  o.media = false;
  return o;
}

}  // namespace

TEST_CASE("phones added while running register, are listed, and go when deleted") {
  test::kamailio k;
  actors::run_stats stats;
  auto f = make_fleet(empty_fleet(k, 100), stats);
  auto log = std::make_shared<event_log>();
  f->set_event_listener([log](const actors::fleet_event& e) { log->add(e); });
  CHECK(f->size() == 0);

  auto added = f->add_phones({.users = {"4100", "4101", "4102"}});
  REQUIRE(added.ok());
  CHECK(*added == 3);
  REQUIRE(wait_until([&] { return stats.phones_registered.load() == 3; }, 10s));
  CHECK(log->count("4101", ua::event_kind::registered) == 1);

  std::size_t total = 0;
  auto listed = f->list_phones(ua::registration_state::registered, 1, 10, total);
  CHECK(total == 3);
  REQUIRE(listed.size() == 2);  // paged: the first is skipped
  CHECK(listed[0].user == "4101");
  CHECK(listed[1].user == "4102");

  auto info = f->phone("4100");
  REQUIRE(info.ok());
  CHECK(info->registration == ua::registration_state::registered);
  CHECK(info->expires > 0);
  CHECK(info->domain == "sipfleet.test");

  SUBCASE("a user that exists is refused, and none of the group is made") {
    auto again = f->add_phones({.users = {"4103", "4101"}});
    REQUIRE(!again.ok());
    CHECK(again.err().reason.rfind("exists: ", 0) == 0);
    CHECK(!f->has_phone("4103"));
  }
  SUBCASE("phones added out of order are listed in user order; a user given twice is refused") {
    REQUIRE(f->add_phones({.users = {"4105", "4099", "4103"}, .register_now = false}).ok());
    std::size_t all_total = 0;
    auto all = f->list_phones(std::nullopt, 0, 10, all_total);
    CHECK(all_total == 6);
    std::vector<std::string> users;
    for (const auto& p : all) users.push_back(p.user);
    CHECK(users == std::vector<std::string>{"4099", "4100", "4101", "4102", "4103", "4105"});
    CHECK(f->has_phone("4099"));
    auto twice = f->add_phones({.users = {"4200", "4201", "4200"}, .register_now = false});
    REQUIRE(!twice.ok());
    CHECK(twice.err().reason.rfind("exists: ", 0) == 0);
    CHECK(!f->has_phone("4200"));
    CHECK(!f->has_phone("4201"));
  }
  SUBCASE("more than the capacity is refused") {
    std::vector<std::string> many;
    for (int u = 5000; u < 5098; ++u) many.push_back(std::to_string(u));
    auto full = f->add_phones({.users = many, .register_now = false});
    REQUIRE(!full.ok());
    CHECK(full.err().reason.rfind("full: ", 0) == 0);
  }
  SUBCASE("a deleted phone unregisters and is gone; its user can be made again") {
    REQUIRE(f->remove_phone("4102", 5s).ok());
    CHECK(!f->has_phone("4102"));
    CHECK(!f->phone("4102").ok());
    CHECK(log->count("4102", ua::event_kind::unregistered) == 1);
    CHECK(stats.phones_registered.load() == 2);
    CHECK(stats.phones_total.load() == 2);
    REQUIRE(f->add_phones({.users = {"4102"}}).ok());
    REQUIRE(wait_until([&] { return stats.phones_registered.load() == 3; }, 10s));
  }
  CHECK(f->shutdown(10s));
}

TEST_CASE("a phone set to answer by hand rings until told; the call table has both legs") {
  test::kamailio k;
  actors::run_stats stats;
  auto f = make_fleet(empty_fleet(k, 10), stats);
  REQUIRE(f->add_phones({.users = {"4200", "4201"}}).ok());
  REQUIRE(wait_until([&] { return stats.phones_registered.load() == 2; }, 10s));
  auto b = f->update_behaviour("4201", [](ua::behaviour& x) { x.answer = ua::answer_mode::manual; });
  REQUIRE(b.ok());
  CHECK(b->answer == ua::answer_mode::manual);

  auto id = f->dial("4200", "4201", 0ms);
  REQUIRE(id.ok());
  // Both legs show up; the callee's rings and stays ringing.
  REQUIRE(wait_until([&] {
    auto c = f->find_call(*id);
    return c && c->legs.size() == 2 && c->legs[1].second.state == ua::call_state::ringing;
  }, 5s));
  auto c = f->find_call(*id);
  CHECK(c->legs[0].first == "4200");
  CHECK(c->legs[0].second.outgoing);
  CHECK(c->legs[1].first == "4201");
  std::this_thread::sleep_for(300ms);
  CHECK(f->find_call(*id)->legs[1].second.state == ua::call_state::ringing);

  REQUIRE(f->act("4201", *id, actors::call_action::answer).ok());
  REQUIRE(wait_until([&] { return f->find_call(*id)->legs[0].second.state == ua::call_state::connected; }, 5s));
  const auto again = f->act("4201", *id, actors::call_action::answer);  // not ringing any more
  REQUIRE(!again.ok());
  CHECK(again.err().reason == "nothing to answer");  // the phone's own words, not CAF's wrapping
  REQUIRE(f->act("4200", *id, actors::call_action::hangup).ok());
  REQUIRE(wait_until([&] {
    auto x = f->find_call(*id);
    return x && std::all_of(x->legs.begin(), x->legs.end(),
                            [](const auto& l) { return l.second.state == ua::call_state::ended; });
  }, 5s));
  CHECK(f->find_call(*id)->legs[0].second.end_code == 200);
  CHECK(f->list_calls().size() == 1);
  CHECK(f->shutdown(10s));
}

TEST_CASE("campaigns between chosen callers and callees run side by side with their own figures") {
  test::kamailio k;
  actors::run_stats stats;
  auto f = make_fleet(empty_fleet(k, 20), stats);
  std::vector<std::string> users;
  for (int u = 4300; u < 4308; ++u) users.push_back(std::to_string(u));
  REQUIRE(f->add_phones({.users = users}).ok());
  REQUIRE(wait_until([&] { return stats.phones_registered.load() == 8; }, 10s));

  actors::campaign_options a{.total = 6, .rate = 20, .max_concurrent = 2, .hold = 100ms, .seed = 1};
  a.callers = {"4300", "4301"};
  a.fleet_callees = {"4302", "4303"};
  actors::campaign_options b = a;
  b.total = 4;
  b.callers = {"4304", "4305"};
  b.fleet_callees = {"4306", "4307"};
  auto ida = f->start_campaign(a);
  auto idb = f->start_campaign(b);
  REQUIRE(ida.ok());
  REQUIRE(idb.ok());
  CHECK(*ida != *idb);
  REQUIRE(wait_until([&] { return f->progress(*ida)->done && f->progress(*idb)->done; }, 20s));
  CHECK(f->campaign_stats(*ida)->calls_answered.load() == 6);
  CHECK(f->campaign_stats(*idb)->calls_answered.load() == 4);
  CHECK(stats.calls_answered.load() == 10);
  // Only the chosen phones called, and only the chosen ones were called.
  for (const auto& r : f->call_records()) {
    if (!r.outgoing) continue;
    const bool in_a = r.peer.find("4302") != std::string::npos || r.peer.find("4303") != std::string::npos;
    const bool in_b = r.peer.find("4306") != std::string::npos || r.peer.find("4307") != std::string::npos;
    CHECK((in_a || in_b));
  }
  actors::campaign_options bad = a;
  bad.callers = {"9999"};
  auto refused = f->start_campaign(bad);
  REQUIRE(!refused.ok());
  CHECK(refused.err().reason.find("9999") != std::string::npos);
  CHECK(!f->progress("42").ok());
  CHECK(f->shutdown(10s));
}
