// The campaign actor on CAF's deterministic test scheduler: pacing, the concurrency cap, and
// who calls whom (never itself, never a busy or unregistered phone), with a fake shard that
// answers calls when the test says so.
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
};

struct fake_shard_state {
  std::vector<placed_call> pending;
  std::size_t total = 0;
};

// Stands in for a shard: keeps each call open until the test ends it.
caf::behavior fake_shard(caf::event_based_actor* self, std::shared_ptr<fake_shard_state> st) {
  return {
      [self, st](actors::call_atom, std::size_t caller, const std::string& callee, std::int64_t) {
        auto promise = self->make_response_promise();
        st->pending.push_back({caller, callee, promise});
        ++st->total;
        return promise;
      },
      // End the n oldest calls (promises are delivered from the actor that made them).
      [st](actors::stop_atom, std::size_t n) {
        n = std::min(n, st->pending.size());
        for (std::size_t i = 0; i < n; ++i) st->pending[i].promise.deliver(actors::call_outcome{});
        st->pending.erase(st->pending.begin(), st->pending.begin() + static_cast<std::ptrdiff_t>(n));
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
  std::shared_ptr<fake_shard_state> shard_state = std::make_shared<fake_shard_state>();
  std::shared_ptr<actors::campaign_shared> progress = std::make_shared<actors::campaign_shared>();
  caf::actor campaign;
  caf::actor shard;

  explicit fixture(std::size_t phones) : registered(phones) {
    for (std::size_t i = 0; i < phones; ++i) {
      users.push_back("u" + std::to_string(i));
      registered[i] = true;
    }
  }

  void start(const actors::campaign_options& o) {
    shard = sys.spawn(fake_shard, shard_state);
    auto shards = std::make_shared<std::vector<caf::actor>>(std::vector<caf::actor>{shard});
    campaign = sys.spawn(actors::campaign_actor,
                         actors::campaign_setup{.options = o, .users = users, .shard_size = users.size(),
                                                .shards = shards, .registered = &registered,
                                                .progress = progress});
    sched.run();
  }

  void advance(caf::timespan t) {
    sched.advance_time(t);
    sched.run();
  }

  void end_calls(std::size_t n) {
    caf::anon_send(shard, actors::stop_atom::value, n);
    sched.run();
  }

  ~fixture() {
    caf::anon_send_exit(campaign, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(shard, caf::exit_reason::user_shutdown);
    sched.run();
  }
};

// No phone is in two open calls, and nobody calls itself.
void check_pairs(const fixture& f) {
  std::multiset<std::string> in_call;
  for (const auto& c : f.shard_state->pending) {
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
  CHECK(f.shard_state->total == 1);  // one call is due at once
  f.advance(20ms);                    // 100/s for 20 ms: three calls due
  CHECK(f.shard_state->total == 3);
  f.advance(100ms);                   // many due, but only 5 may be open
  CHECK(f.shard_state->pending.size() == 5);
  check_pairs(f);
  f.end_calls(2);
  f.advance(10ms);
  CHECK(f.shard_state->pending.size() == 5);
  check_pairs(f);
  // End calls until the total is placed; then the campaign is done once all have ended.
  for (int i = 0; i < 100 && !f.progress->done.load(); ++i) {
    f.end_calls(5);
    f.advance(10ms);
    check_pairs(f);
  }
  CHECK(f.shard_state->total == 30);
  CHECK(f.progress->done.load());
  CHECK(f.progress->finished.load() == 30);
}

TEST_CASE("the campaign picks only registered idle phones and never a phone calling itself") {
  fixture f(6);
  for (std::size_t i = 3; i < 6; ++i) f.registered[i] = false;  // only u0, u1, u2 are registered
  f.start({.total = 10, .rate = 1000, .max_concurrent = 10, .seed = 9});
  f.advance(50ms);
  // Three registered phones make one call at a time (a call takes two of them).
  REQUIRE(f.shard_state->pending.size() == 1);
  const auto& c = f.shard_state->pending.front();
  CHECK(c.caller < 3);
  CHECK((c.callee == "u0" || c.callee == "u1" || c.callee == "u2"));
  check_pairs(f);
  CHECK(f.progress->no_idle_phone.load() > 0);
}

TEST_CASE("the campaign stops placing calls when its duration has passed") {
  fixture f(20);
  f.start({.total = 1000, .rate = 10, .max_concurrent = 100, .duration = 1s, .seed = 5});
  f.advance(500ms);
  const auto halfway = f.shard_state->total;
  CHECK(halfway >= 5);
  f.advance(1500ms);
  const auto at_end = f.shard_state->total;
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
  CHECK(f.shard_state->pending.size() == 4);  // every phone calls the external user at once
  for (const auto& c : f.shard_state->pending) CHECK(c.callee == "7000");
}
