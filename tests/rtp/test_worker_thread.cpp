// The overload guard of a real-time media worker (rtp/worker_thread.hpp): when a worker that
// runs SCHED_FIFO goes back to normal scheduling so that it cannot starve the SIP threads.
#include <doctest/doctest.h>

#include "rtp/worker_thread.hpp"

using sipfleet::rtp::detail::overload_guard;

namespace {
constexpr long long ms = 1'000'000;  // ns
}

TEST_CASE("overload guard: behind for the whole limit without one sleep is overloaded") {
  overload_guard g(200 * ms);
  CHECK_FALSE(g.behind_too_long(0, false));  // the first turn behind starts the count
  CHECK_FALSE(g.behind_too_long(100 * ms, false));
  CHECK_FALSE(g.behind_too_long(199 * ms, false));
  CHECK(g.behind_too_long(200 * ms, false));
  CHECK(g.behind_too_long(250 * ms, false));
}

TEST_CASE("overload guard: one sleep starts the count again, and a worker that sleeps is never overloaded") {
  overload_guard g(200 * ms);
  CHECK_FALSE(g.behind_too_long(0, false));
  CHECK_FALSE(g.behind_too_long(150 * ms, false));
  CHECK_FALSE(g.behind_too_long(160 * ms, true));  // it caught up
  CHECK_FALSE(g.behind_too_long(170 * ms, false));
  CHECK_FALSE(g.behind_too_long(360 * ms, false));  // 190 ms since 170
  CHECK(g.behind_too_long(370 * ms, false));
  overload_guard calm(200 * ms);
  bool overloaded = false;
  for (long long t = 0; t < 2000 * ms; t += ms) overloaded = overloaded || calm.behind_too_long(t, true);
  CHECK_FALSE(overloaded);
}
