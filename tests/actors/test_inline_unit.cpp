// Running actors on the thread that woke them (actors/inline_unit.hpp), as the transport's I/O
// thread does for phones: the actor runs inside run() on the caller's thread, what it sends
// on runs there too, mail keeps its order, and what is over the budget still gets handled by
// CAF's own workers.
#include <doctest/doctest.h>

#include <caf/all.hpp>

#include <algorithm>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "actors/inline_unit.hpp"

using namespace sipfleet::actors;
using namespace std::chrono_literals;

namespace {

struct seen {
  std::mutex m;
  std::vector<int> values;
  std::vector<std::thread::id> threads;
  void add(int v) {
    std::lock_guard lock(m);
    values.push_back(v);
    threads.push_back(std::this_thread::get_id());
  }
  std::size_t size() {
    std::lock_guard lock(m);
    return values.size();
  }
};

// Records each int it gets; forwards it (+100) to `next` when there is one.
caf::behavior recorder(caf::event_based_actor* self, std::shared_ptr<seen> log, caf::actor next) {
  return {[self, log, next](int v) {
    log->add(v);
    if (next) self->send(next, v + 100);
  }};
}

// Records its first int and exits.
caf::behavior one_shot(caf::event_based_actor* self, std::shared_ptr<seen> log) {
  return {[self, log](int v) {
    log->add(v);
    self->quit();
  }};
}

void post(const caf::actor& a, int v, inline_unit& unit) {
  caf::actor_cast<caf::abstract_actor*>(a)->eq_impl(caf::make_message_id(), nullptr, &unit, v);
}

bool wait_for(const std::function<bool()>& done) {
  for (int i = 0; i < 1000 && !done(); ++i) std::this_thread::sleep_for(10ms);  // bounded: 10 s
  return done();
}

}  // namespace

TEST_CASE("an actor woken through the unit runs on the caller's thread, in order, with what it sends") {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  auto log = std::make_shared<seen>();
  auto second = sys.spawn(recorder, log, caf::actor{});
  auto first = sys.spawn(recorder, log, second);
  // Let both actors finish starting up on CAF's workers (they are idle afterwards).
  std::this_thread::sleep_for(50ms);

  inline_unit unit{sys};
  post(first, 1, unit);
  post(first, 2, unit);
  post(first, 3, unit);
  CHECK(log->size() == 0);  // nothing runs before run()
  CHECK(unit.pending() == 1);  // the first post woke the actor; the others wait in its mailbox
  CHECK(unit.run() >= 2);      // first, then second (woken by first's sends)
  CHECK(unit.pending() == 0);

  std::lock_guard lock(log->m);
  REQUIRE(log->values.size() == 6);
  std::vector<int> from_first, from_second;
  for (int v : log->values) (v < 100 ? from_first : from_second).push_back(v);
  CHECK(from_first == std::vector<int>{1, 2, 3});
  CHECK(from_second == std::vector<int>{101, 102, 103});
  for (const auto& t : log->threads) CHECK(t == std::this_thread::get_id());
  caf::anon_send_exit(first, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(second, caf::exit_reason::user_shutdown);
}

TEST_CASE("past its budget the unit hands actors to CAF's scheduler, and their mail is still handled") {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  auto log = std::make_shared<seen>();
  std::vector<caf::actor> actors;
  for (int i = 0; i < 5; ++i) actors.push_back(sys.spawn(recorder, log, caf::actor{}));
  std::this_thread::sleep_for(50ms);

  inline_unit unit{sys, 2};  // two resumptions per run(), the rest to CAF
  for (int i = 0; i < 5; ++i) post(actors[static_cast<std::size_t>(i)], i, unit);
  CHECK(unit.run() == 2);
  CHECK(unit.pending() == 0);
  REQUIRE(wait_for([&] { return log->size() == 5; }));
  std::lock_guard lock(log->m);
  std::size_t here = 0;
  for (const auto& t : log->threads) here += t == std::this_thread::get_id() ? 1 : 0;
  CHECK(here == 2);
  std::vector<int> values = log->values;
  std::sort(values.begin(), values.end());
  CHECK(values == std::vector<int>{0, 1, 2, 3, 4});
  for (auto& a : actors) caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
}

TEST_CASE("an actor that exits while running on the unit is released, and the unit goes on") {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  auto log = std::make_shared<seen>();
  auto quitter = sys.spawn(one_shot, log);
  auto other = sys.spawn(recorder, log, caf::actor{});
  std::this_thread::sleep_for(50ms);
  inline_unit unit{sys};
  post(quitter, 7, unit);
  post(other, 8, unit);
  unit.run();
  post(quitter, 9, unit);  // to an actor that is gone: dropped, nothing scheduled
  CHECK(unit.pending() == 0);
  CHECK(unit.run() == 0);
  std::lock_guard lock(log->m);
  CHECK(log->values == std::vector<int>{7, 8});
  caf::anon_send_exit(other, caf::exit_reason::user_shutdown);
}
