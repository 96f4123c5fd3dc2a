// The overload guard of a real-time media worker (rtp/worker_thread.hpp): when a worker that
// runs SCHED_FIFO goes back to normal scheduling so that it cannot starve the SIP threads, and
// when it returns.
#include <doctest/doctest.h>

#include "rtp/worker_thread.hpp"

using sipfleet::rtp::detail::overload_guard;
using verdict = overload_guard::verdict;

namespace {
constexpr long long ms = 1'000'000;  // ns
}

TEST_CASE("overload guard: behind for the whole limit without one sleep leaves real time, once") {
  overload_guard g(200 * ms, 1000 * ms);
  CHECK(g.turn(0, false) == verdict::stay);  // the first turn behind starts the count
  CHECK(g.turn(100 * ms, false) == verdict::stay);
  CHECK(g.turn(199 * ms, false) == verdict::stay);
  CHECK(g.turn(200 * ms, false) == verdict::leave_rt);
  CHECK(g.turn(250 * ms, false) == verdict::stay);  // already out
}

TEST_CASE("overload guard: one sleep starts the count again; a worker that sleeps stays in real time") {
  overload_guard g(200 * ms, 1000 * ms);
  CHECK(g.turn(0, false) == verdict::stay);
  CHECK(g.turn(150 * ms, false) == verdict::stay);
  CHECK(g.turn(160 * ms, true) == verdict::stay);  // it caught up
  CHECK(g.turn(170 * ms, false) == verdict::stay);
  CHECK(g.turn(360 * ms, false) == verdict::stay);  // 190 ms since 170
  CHECK(g.turn(370 * ms, false) == verdict::leave_rt);
  overload_guard calm(200 * ms, 1000 * ms);
  bool moved = false;
  for (long long t = 0; t < 5000 * ms; t += ms) moved = moved || calm.turn(t, t % (50 * ms) != 0) != verdict::stay;
  CHECK_FALSE(moved);  // behind for a turn now and then is not overload
}

TEST_CASE("overload guard: back to real time after keeping up for the rest time, not before") {
  overload_guard g(200 * ms, 1000 * ms);
  long long t = 0;
  for (; t <= 200 * ms; t += ms) (void)g.turn(t, false);  // out at 200 ms
  // still behind for 300 ms more (the backlog), then keeping up with short slips of 5 ms
  for (; t < 500 * ms; t += ms) CHECK(g.turn(t, false) == verdict::stay);
  long long back = -1;
  for (; t < 3000 * ms && back < 0; t += ms) {
    const bool slip = (t / ms) % 100 >= 50 && (t / ms) % 100 < 55;  // 5 ms behind every 100 ms: < limit / 10
    if (g.turn(t, !slip) == verdict::back_to_rt) back = t;
  }
  // the last run behind of 20 ms or more ended at 499 ms: back 1 s after it
  REQUIRE(back >= 0);
  CHECK(back >= 1498 * ms);
  CHECK(back <= 1501 * ms);
}

TEST_CASE("overload guard: a worker that never keeps up stays out of real time") {
  overload_guard g(200 * ms, 1000 * ms);
  int left = 0, returned = 0;
  for (long long t = 0; t < 10'000 * ms; t += ms) {
    // behind for 30 ms in every 40: heavily loaded, but it sleeps every 40 ms
    const auto v = g.turn(t, (t / ms) % 40 >= 30);
    left += v == verdict::leave_rt;
    returned += v == verdict::back_to_rt;
  }
  CHECK(left == 0);  // never 200 ms in a row behind: it stays in real time
  overload_guard h(200 * ms, 1000 * ms);
  for (long long t = 0; t < 10'000 * ms; t += ms) {
    // behind for 300 ms in every 400
    const auto v = h.turn(t, (t / ms) % 400 >= 300);
    left += v == verdict::leave_rt;
    returned += v == verdict::back_to_rt;
  }
  CHECK(left == 1);
  CHECK(returned == 0);
}

TEST_CASE("overload guard: a return to real time that is refused leaves it out, to try again after the rest time") {
  overload_guard g(200 * ms, 1000 * ms);
  long long t = 0;
  for (; t <= 200 * ms; t += ms) (void)g.turn(t, false);  // out at 200 ms
  long long back = -1;
  for (; t < 3000 * ms && back < 0; t += ms)
    if (g.turn(t, true) == verdict::back_to_rt) back = t;
  REQUIRE(back >= 0);
  g.refused(back);  // e.g. the privilege was dropped meanwhile
  // out, not in: 200 ms behind now is not another departure
  int left = 0;
  long long again = -1;
  for (t = back + ms; t < back + 300 * ms; t += ms) left += g.turn(t, false) == verdict::leave_rt;
  CHECK(left == 0);
  for (; t < back + 3000 * ms && again < 0; t += ms)
    if (g.turn(t, true) == verdict::back_to_rt) again = t;
  REQUIRE(again >= 0);
  CHECK(again - (back + 299 * ms) >= 999 * ms);  // a full rest after the last run behind
}
