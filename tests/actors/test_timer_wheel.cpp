// The fleet's timer wheel (actors/timer_wheel.hpp) on a clock the test moves: timers fire on
// the tick at or after their deadline, never before, in the order they were set; cancelled
// ones never fire; timers beyond the wheel's horizon wait in the far heap and fire on time.
#include <doctest/doctest.h>

#include <algorithm>
#include <vector>

#include "actors/timer_wheel.hpp"

using namespace sipfleet::actors;
using namespace std::chrono_literals;
using clk = timer_wheel::clock;

namespace {

std::vector<std::uint64_t> due(timer_wheel& w, clk::time_point now) {
  std::vector<timer_wheel::expired> out;
  w.advance(now, out);
  std::vector<std::uint64_t> payloads;
  for (const auto& e : out) payloads.push_back(e.payload);
  return payloads;
}

}  // namespace

TEST_CASE("a timer fires on the first tick at or after its deadline, never before") {
  const auto t0 = clk::time_point{} + 1000s;
  timer_wheel w(10ms, 16, t0);
  w.schedule(t0 + 25ms, 7, 1);  // due at tick 3 (30 ms)
  CHECK(w.pending() == 1);
  CHECK(due(w, t0 + 20ms).empty());
  CHECK(due(w, t0 + 29ms).empty());
  std::vector<timer_wheel::expired> out;
  w.advance(t0 + 30ms, out);
  REQUIRE(out.size() == 1);
  CHECK(out[0].target == 7);
  CHECK(out[0].payload == 1);
  CHECK(w.pending() == 0);
  CHECK(due(w, t0 + 100ms).empty());  // fired once
}

TEST_CASE("timers due on the same tick come out in the order they were set, earlier ticks first") {
  const auto t0 = clk::time_point{} + 1000s;
  timer_wheel w(10ms, 16, t0);
  w.schedule(t0 + 20ms, 0, 3);
  w.schedule(t0 + 10ms, 0, 1);
  w.schedule(t0 + 10ms, 0, 2);
  w.schedule(t0 + 20ms, 0, 4);
  CHECK(due(w, t0 + 50ms) == std::vector<std::uint64_t>{1, 2, 3, 4});
}

TEST_CASE("a deadline in the past fires at the next tick") {
  const auto t0 = clk::time_point{} + 1000s;
  timer_wheel w(10ms, 16, t0);
  CHECK(due(w, t0 + 50ms).empty());
  w.schedule(t0, 0, 9);
  CHECK(due(w, t0 + 59ms).empty());
  CHECK(due(w, t0 + 60ms) == std::vector<std::uint64_t>{9});
}

TEST_CASE("a cancelled timer never fires; a stale handle cancels nothing") {
  const auto t0 = clk::time_point{} + 1000s;
  timer_wheel w(10ms, 16, t0);
  const auto a = w.schedule(t0 + 10ms, 0, 1);
  const auto b = w.schedule(t0 + 10ms, 0, 2);
  const auto c = w.schedule(t0 + 10ms, 0, 3);
  CHECK(w.cancel(b));  // the middle of a bucket's list
  CHECK_FALSE(w.cancel(b));
  CHECK(w.cancel(c));  // the head
  CHECK(w.pending() == 1);
  CHECK(due(w, t0 + 10ms) == std::vector<std::uint64_t>{1});
  CHECK_FALSE(w.cancel(a));  // fired already
  // The entry is reused with a new generation: the old handle does not touch the new timer.
  const auto d = w.schedule(t0 + 30ms, 0, 4);
  CHECK((d.index == a.index || d.index == b.index || d.index == c.index));
  CHECK_FALSE(w.cancel(a));
  CHECK_FALSE(w.cancel(b));
  CHECK_FALSE(w.cancel(timer_wheel::handle{}));
  CHECK(due(w, t0 + 30ms) == std::vector<std::uint64_t>{4});
}

TEST_CASE("timers beyond the horizon wait in the far heap and fire on their tick") {
  const auto t0 = clk::time_point{} + 1000s;
  timer_wheel w(10ms, 8, t0);  // an 80 ms wheel
  w.schedule(t0 + 1000ms, 0, 100);
  w.schedule(t0 + 250ms, 0, 25);
  const auto cancelled = w.schedule(t0 + 500ms, 0, 50);
  w.schedule(t0 + 30ms, 0, 3);
  CHECK(w.cancel(cancelled));
  std::vector<std::uint64_t> fired;
  std::vector<int> at_ms;
  for (int ms = 0; ms <= 1200; ms += 10) {
    for (auto p : due(w, t0 + std::chrono::milliseconds(ms))) {
      fired.push_back(p);
      at_ms.push_back(ms);
    }
  }
  CHECK(fired == std::vector<std::uint64_t>{3, 25, 100});
  CHECK(at_ms == std::vector<int>{30, 250, 1000});
  CHECK(w.pending() == 0);
}

TEST_CASE("after a stall longer than the wheel, everything due fires at once and later ones wait") {
  const auto t0 = clk::time_point{} + 1000s;
  timer_wheel w(10ms, 8, t0);
  w.schedule(t0 + 20ms, 0, 1);
  w.schedule(t0 + 70ms, 0, 2);
  w.schedule(t0 + 300ms, 0, 3);   // far
  w.schedule(t0 + 2000ms, 0, 4);  // far, still in the future after the stall
  auto fired = due(w, t0 + 1000ms);
  std::sort(fired.begin(), fired.end());
  CHECK(fired == std::vector<std::uint64_t>{1, 2, 3});
  CHECK(due(w, t0 + 1990ms).empty());
  CHECK(due(w, t0 + 2000ms) == std::vector<std::uint64_t>{4});
}

TEST_CASE("many timers set and cancelled at random leave exactly the uncancelled ones to fire") {
  const auto t0 = clk::time_point{} + 1000s;
  timer_wheel w(5ms, 64, t0);
  std::vector<timer_wheel::handle> handles;
  std::uint64_t seed = 42;
  auto next = [&seed] {
    seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
    return seed >> 33;
  };
  std::vector<bool> live(5000, true);
  for (std::uint64_t i = 0; i < live.size(); ++i)
    handles.push_back(w.schedule(t0 + std::chrono::milliseconds(next() % 2000), 0, i));
  for (std::uint64_t i = 0; i < live.size(); i += 3) {
    CHECK(w.cancel(handles[i]));
    live[i] = false;
  }
  std::vector<bool> fired(live.size(), false);
  for (int ms = 0; ms <= 2100; ms += 7)
    for (auto p : due(w, t0 + std::chrono::milliseconds(ms))) {
      CHECK_FALSE(fired[p]);
      fired[p] = true;
    }
  CHECK(fired == live);
  CHECK(w.pending() == 0);
}

TEST_CASE("the pump hands each tick's due timers over in one batch and runs its chore on time") {
  const auto t0 = clk::now();
  timer_wheel w(5ms, 64, t0);
  std::vector<std::vector<std::uint64_t>> batches;
  int chores = 0;
  timer_pump pump(
      w,
      [&](std::span<const timer_wheel::expired> batch) {
        std::vector<std::uint64_t> b;
        for (const auto& e : batch) b.push_back(e.payload);
        batches.push_back(b);
      },
      [&] { ++chores; }, 1s);
  w.schedule(t0 + 5ms, 1, 10);
  w.schedule(t0 + 1ms, 1, 11);
  const auto never = w.schedule(t0 + 3ms, 1, 12);
  CHECK(w.cancel(never));
  w.schedule(t0 + 20ms, 2, 13);

  CHECK(pump(t0 + 5ms) == t0 + 10ms);  // both due by the first tick: one batch, in the order they were set
  REQUIRE(batches.size() == 1);
  CHECK(batches[0] == std::vector<std::uint64_t>{10, 11});
  pump(t0 + 10ms);  // nothing due: no empty batch handed over
  CHECK(batches.size() == 1);
  CHECK(pump(t0 + 20ms) == t0 + 1005ms);  // nothing left: asleep until the first chore is due
  REQUIRE(batches.size() == 2);
  CHECK(batches[1] == std::vector<std::uint64_t>{13});
  CHECK(w.pending() == 0);

  CHECK(chores == 0);  // the first chore is due one interval after the first call
  pump(t0 + 999ms);
  CHECK(chores == 0);
  pump(t0 + 1005ms);
  CHECK(chores == 1);
  pump(t0 + 1500ms);
  CHECK(chores == 1);
  pump(t0 + 2010ms);
  CHECK(chores == 2);
}

TEST_CASE("the wheel plans its next wake-up and asks to be woken when an earlier timer is set") {
  const auto t0 = clk::now();
  timer_wheel w(5ms, 64, t0);  // horizon 320 ms
  int wakes = 0;
  w.set_wake([&] { ++wakes; });
  std::vector<timer_wheel::expired> out;

  CHECK(w.plan(t0) == clk::time_point::max());  // nothing pending: sleep until woken
  const auto refresh = w.schedule(t0 + 3600s, 1, 1);  // far beyond the horizon
  CHECK(wakes == 1);                                   // earlier than "never"
  CHECK(w.plan(t0) == t0 + 3600s);                     // asleep until it is due
  w.schedule(t0 + 7200s, 1, 2);
  CHECK(wakes == 1);  // later than the plan: no wake
  w.schedule(t0 + 20ms, 1, 3);
  CHECK(wakes == 2);  // within the horizon, earlier than the plan
  w.schedule(t0 + 30ms, 1, 4);
  CHECK(wakes == 2);  // one wake per earlier plan, not per timer
  CHECK(w.plan(t0) == t0 + 5ms);  // something in the wheel: tick by tick

  w.advance(t0 + 30ms, out);
  REQUIRE(out.size() == 2);
  CHECK(w.plan(t0 + 30ms) == t0 + 3600s);  // back to the far timer
  CHECK(w.cancel(refresh));
  // A cancelled far timer stays in the heap until its tick: the wheel wakes for it, finds
  // nothing, and plans the next one.
  out.clear();
  w.advance(t0 + 3600s, out);
  CHECK(out.empty());
  CHECK(w.plan(t0 + 3600s) == t0 + 7200s);
  w.advance(t0 + 7200s, out);
  REQUIRE(out.size() == 1);
  CHECK(out[0].payload == 2);
  CHECK(w.plan(t0 + 7200s) == clk::time_point::max());
  CHECK(w.pending() == 0);
}
