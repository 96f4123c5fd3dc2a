// The campaign actor on CAF's deterministic test scheduler: pacing, the concurrency cap, and
// who calls whom (never itself, never a busy or unregistered phone), with fake phones that
// end calls when the test says so.
#include <doctest/doctest.h>

#include <caf/all.hpp>
#include <caf/scheduler/test_coordinator.hpp>

#include <algorithm>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "actors/campaign.hpp"
#include "actors/messages.hpp"

using namespace sipfleet;
using namespace std::chrono_literals;

namespace {

struct placed_call {
  std::size_t caller;
  std::string callee;
  caf::response_promise promise;
  bool ending = false;
};

struct fake_phones_state {
  std::vector<placed_call> pending;
  std::size_t total = 0;
};

// Stands in for phone `index`: keeps each call open until the test ends it.
caf::behavior fake_phone(caf::event_based_actor* self, std::shared_ptr<fake_phones_state> st, std::size_t index) {
  return {
      [self, st, index](actors::phone_input& in) {
        const auto* call = std::get_if<actors::place_call>(&in);
        REQUIRE(call != nullptr);
        CHECK(call->wait);  // the campaign waits for the end of each call
        st->pending.push_back({index, call->target, self->make_response_promise()});
        ++st->total;
      },
      // End this phone's calls marked as ending (a promise is delivered by the actor that made it).
      [st, index](actors::stop_atom) {
        for (auto& c : st->pending)
          if (c.caller == index && c.ending) c.promise.deliver(actors::call_outcome{});
        std::erase_if(st->pending, [index](const placed_call& c) { return c.caller == index && c.ending; });
      },
  };
}

struct config : caf::actor_system_config {
  config() { set("scheduler.policy", caf::atom("testing")); }
};

struct fixture {
  config cfg;
  caf::actor_system sys{cfg};
  caf::scheduler::test_coordinator& sched = dynamic_cast<caf::scheduler::test_coordinator&>(sys.scheduler());
  std::vector<std::atomic<bool>> registered;
  std::vector<std::string> users;
  std::shared_ptr<fake_phones_state> phones = std::make_shared<fake_phones_state>();
  std::shared_ptr<actors::campaign_shared> progress = std::make_shared<actors::campaign_shared>();
  actors::phone_directory directory;
  caf::actor campaign;

  explicit fixture(std::size_t count) : registered(count), directory(count) {
    for (std::size_t i = 0; i < count; ++i) {
      users.push_back("u" + std::to_string(i));
      registered[i] = true;
    }
  }

  void start(const actors::campaign_options& o) {
    for (std::size_t i = 0; i < users.size(); ++i) directory.set(i, sys.spawn(fake_phone, phones, i));
    campaign = sys.spawn(actors::campaign_actor,
                         actors::campaign_setup{.options = o, .users = users, .directory = &directory,
                                                .registered = &registered, .progress = progress});
    sched.run();
  }

  void advance(caf::timespan t) {
    sched.advance_time(t);
    sched.run();
  }

  // Ends the n oldest calls.
  void end_calls(std::size_t n) {
    n = std::min(n, phones->pending.size());
    std::set<std::size_t> callers;
    for (std::size_t i = 0; i < n; ++i) {
      phones->pending[i].ending = true;
      callers.insert(phones->pending[i].caller);
    }
    for (auto c : callers) caf::anon_send(directory.get(c), actors::stop_atom::value);
    sched.run();
  }

  ~fixture() {
    caf::anon_send_exit(campaign, caf::exit_reason::user_shutdown);
    for (std::size_t i = 0; i < users.size(); ++i) {
      if (auto a = directory.get(i)) caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
      directory.set(i, caf::actor{});
    }
    sched.run();
  }
};

// No phone is in two open calls, and nobody calls itself.
void check_pairs(const fixture& f) {
  std::multiset<std::string> in_call;
  for (const auto& c : f.phones->pending) {
    CHECK(f.users[c.caller] != c.callee);
    in_call.insert(f.users[c.caller]);
    in_call.insert(c.callee);
  }
  for (const auto& u : in_call) CHECK(in_call.count(u) == 1);
}

}  // namespace

TEST_CASE("the campaign paces calls at its rate and never exceeds the concurrency cap") {
  fixture f(50);
  f.start({.total = 30, .rate = 100, .max_concurrent = 5, .seed = 3});
  CHECK(f.phones->total == 1);  // one call is due at once
  f.advance(20ms);                    // 100/s for 20 ms: three calls due
  CHECK(f.phones->total == 3);
  f.advance(100ms);                   // many due, but only 5 may be open
  CHECK(f.phones->pending.size() == 5);
  check_pairs(f);
  f.end_calls(2);
  f.advance(10ms);
  CHECK(f.phones->pending.size() == 5);
  check_pairs(f);
  // End calls until the total is placed; then the campaign is done once all have ended.
  for (int i = 0; i < 100 && !f.progress->done.load(); ++i) {
    f.end_calls(5);
    f.advance(10ms);
    check_pairs(f);
  }
  CHECK(f.phones->total == 30);
  CHECK(f.progress->done.load());
  CHECK(f.progress->finished.load() == 30);
}

TEST_CASE("the campaign picks only registered idle phones and never a phone calling itself") {
  fixture f(6);
  for (std::size_t i = 3; i < 6; ++i) f.registered[i] = false;  // only u0, u1, u2 are registered
  f.start({.total = 10, .rate = 1000, .max_concurrent = 10, .seed = 9});
  f.advance(50ms);
  // Three registered phones make one call at a time (a call takes two of them).
  REQUIRE(f.phones->pending.size() == 1);
  const auto& c = f.phones->pending.front();
  CHECK(c.caller < 3);
  CHECK((c.callee == "u0" || c.callee == "u1" || c.callee == "u2"));
  check_pairs(f);
  CHECK(f.progress->no_idle_phone.load() > 0);
}

TEST_CASE("the campaign stops placing calls when its duration has passed") {
  fixture f(20);
  f.start({.total = 1000, .rate = 10, .max_concurrent = 100, .duration = 1s, .seed = 5});
  f.advance(500ms);
  const auto halfway = f.phones->total;
  CHECK(halfway >= 5);
  f.advance(1500ms);
  const auto at_end = f.phones->total;
  CHECK(at_end <= 11);
  CHECK_FALSE(f.progress->placing.load());
  CHECK_FALSE(f.progress->done.load());  // calls still open
  f.end_calls(at_end);
  CHECK(f.progress->done.load());
}

TEST_CASE("calls to users outside the fleet mark only the caller busy") {
  fixture f(4);
  f.start({.total = 4, .rate = 1000, .max_concurrent = 10, .seed = 1, .callees = {"7000"}});
  f.advance(20ms);
  CHECK(f.phones->pending.size() == 4);  // every phone calls the external user at once
  for (const auto& c : f.phones->pending) CHECK(c.callee == "7000");
}
