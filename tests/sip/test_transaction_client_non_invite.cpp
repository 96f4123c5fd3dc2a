// The non-INVITE client transaction (RFC 3261 §17.1.2).
#include <doctest/doctest.h>

#include <vector>

#include "sip/transaction/client_non_invite.hpp"
#include "transaction_harness.hpp"

namespace sipfleet::sip::transaction {
namespace {

using namespace std::chrono_literals;
using testing::fake_clock;
using testing::ms;
using testing::run_table;

bool retransmitted(const send_request& s) {
  return s.retransmission;
}

std::vector<std::int64_t> timer_e_intervals(const std::vector<testing::logged>& log) {
  std::vector<std::int64_t> out;
  for (const auto& l : log)
    if (const auto* s = std::get_if<start_timer>(&l.what); s && s->which == timer::E)
      out.push_back(s->after.count());
  return out;
}

TEST_CASE("a BYE answered 200 over UDP waits Timer K = T4 and absorbs response retransmissions") {
  client_non_invite txn;
  run_table(txn,
            {
                {"start",
                 start{},
                 {send_request{}, start_timer{timer::E, 500ms, 1}, start_timer{timer::F, 32s, 2}}},
                {"Timer E in Trying doubles",
                 timer_fired{timer::E, 1},
                 {send_request{true}, start_timer{timer::E, 1s, 3}}},
                {"200 goes to the TU, Timer K",
                 response_received{200},
                 {to_tu{200}, start_timer{timer::K, 5s, 4}}},
                {"a retransmitted 200 is absorbed", response_received{200}, {}},
                {"Timer E is stale in Completed", timer_fired{timer::E, 3}, {}},
                {"Timer F is stale in Completed", timer_fired{timer::F, 2}, {}},
                {"Timer K ends it", timer_fired{timer::K, 4}, {terminated{}}},
            });
  CHECK(txn.state() == client_non_invite_state::terminated);
}

TEST_CASE("provisional responses move a non-INVITE transaction to Proceeding and reach the TU") {
  client_non_invite txn;
  run_table(txn,
            {
                {"start",
                 start{},
                 {send_request{}, start_timer{timer::E, 500ms, 1}, start_timer{timer::F, 32s, 2}}},
                {"100", response_received{100}, {to_tu{100}}},
                {"183", response_received{183}, {to_tu{183}}},
                {"Timer E in Proceeding restarts at T2",
                 timer_fired{timer::E, 1},
                 {send_request{true}, start_timer{timer::E, 4s, 3}}},
                {"404", response_received{404}, {to_tu{404}, start_timer{timer::K, 5s, 4}}},
            });
  CHECK(txn.state() == client_non_invite_state::completed);
}

TEST_CASE("Timer E doubles up to T2 then stays at T2") {
  client_non_invite txn;
  fake_clock clock(txn);
  clock.feed(start{});
  clock.run_all();
  CHECK(timer_e_intervals(clock.log()) ==
        ms({500, 1000, 2000, 4000, 4000, 4000, 4000, 4000, 4000, 4000}));
  // 10 retransmissions, the phone's cap, all before Timer F at 32 s.
  CHECK(clock.times<send_request>(retransmitted) ==
        ms({500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500}));
  CHECK(txn.retransmits() == 10);
}

TEST_CASE("in Proceeding Timer E fires every T2") {
  client_non_invite txn;
  fake_clock clock(txn);
  clock.feed(start{});
  clock.advance(600ms);  // one retransmission at 500 ms; E next due at 1500 ms
  clock.feed(response_received{100});
  clock.advance(14s);
  CHECK(clock.times<send_request>(retransmitted) == ms({500, 1500, 5500, 9500, 13500}));
}

TEST_CASE("non-INVITE retransmissions stop at the configured cap") {
  client_non_invite txn({.timers = {.max_non_invite_retransmits = 4}});
  fake_clock clock(txn);
  clock.feed(start{});
  clock.run_all();
  CHECK(clock.times<send_request>(retransmitted) == ms({500, 1500, 3500, 7500}));
  CHECK(clock.times<report_timeout>() == ms({32000}));
}

TEST_CASE("Timer F fires at 64*T1 and the TU gets a timeout") {
  SUBCASE("in Trying") {
    client_non_invite txn;
    fake_clock clock(txn);
    clock.feed(start{});
    clock.run_all();
    CHECK(clock.times<report_timeout>(
              [](const report_timeout& t) { return t.which == timer::F; }) == ms({32000}));
    CHECK(clock.times<terminated>() == ms({32000}));
  }
  SUBCASE("in Proceeding") {
    client_non_invite txn({.timers = {.t1 = 250ms}});
    fake_clock clock(txn);
    clock.feed(start{});
    clock.feed(response_received{100});
    clock.run_all();
    CHECK(clock.times<report_timeout>() == ms({16000}));
    CHECK(txn.state() == client_non_invite_state::terminated);
  }
}

TEST_CASE("on TCP no Timer E starts and Timer K is 0") {
  CHECK(timer_value(timer::K, {}, true) == 0ms);
  CHECK(timer_value(timer::K, {}, false) == 5s);
  CHECK(timer_value(timer::E, {}, true) == 0ms);
  client_non_invite txn({.reliable = true});
  run_table(txn,
            {
                {"start: only Timer F", start{}, {send_request{}, start_timer{timer::F, 32s, 1}}},
                {"200: to the TU and Terminated at once",
                 response_received{200},
                 {to_tu{200}, terminated{}}},
            });
}

TEST_CASE("a stale timer (old generation) is ignored by the non-INVITE client transaction") {
  client_non_invite txn;
  run_table(
      txn,
      {
          {"start",
           start{},
           {send_request{}, start_timer{timer::E, 500ms, 1}, start_timer{timer::F, 32s, 2}}},
          {"Timer E", timer_fired{timer::E, 1}, {send_request{true}, start_timer{timer::E, 1s, 3}}},
          {"Timer E with the superseded generation", timer_fired{timer::E, 1}, {}},
          {"Timer F with the wrong generation", timer_fired{timer::F, 3}, {}},
      });
  CHECK(txn.retransmits() == 1);
}

TEST_CASE("a transport error terminates the non-INVITE client transaction and informs the TU") {
  client_non_invite txn;
  txn.on(start{});
  txn.on(response_received{100});
  run_table(txn, {{"transport error in Proceeding",
                   transport_error{},
                   {report_transport_error{}, terminated{}}},
                  {"a late 200 is dropped", response_received{200}, {}}});
}

}  // namespace
}  // namespace sipfleet::sip::transaction
