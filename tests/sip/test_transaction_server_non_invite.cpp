// The non-INVITE server transaction (RFC 3261 §17.2.2).
#include <doctest/doctest.h>

#include "sip/transaction/server_non_invite.hpp"
#include "transaction_harness.hpp"

namespace sipfleet::sip::transaction {
namespace {

using namespace std::chrono_literals;
using testing::fake_clock;
using testing::ms;
using testing::run_table;

TEST_CASE("retransmitted requests resend the last response of the non-INVITE server transaction") {
  server_non_invite txn;
  run_table(txn, {
                     {"the request goes to the TU", start{}, {to_tu{}}},
                     {"a retransmission in Trying is discarded", request_received{}, {}},
                     {"the TU sends 100", tu_response{100}, {send_response{100, false}}},
                     {"a retransmission in Proceeding resends the 100",
                      request_received{},
                      {send_response{100, true}}},
                     {"the TU sends 180", tu_response{180}, {send_response{180, false}}},
                     {"a retransmission resends the latest provisional",
                      request_received{},
                      {send_response{180, true}}},
                     {"the TU sends 200: Timer J = 64*T1",
                      tu_response{200},
                      {send_response{200, false}, start_timer{timer::J, 32s, 1}}},
                     {"a retransmission in Completed resends the 200",
                      request_received{},
                      {send_response{200, true}}},
                     {"a second final response from the TU is discarded", tu_response{500}, {}},
                     {"Timer J ends it", timer_fired{timer::J, 1}, {terminated{}}},
                     {"nothing after Terminated", request_received{}, {}},
                 });
  CHECK(txn.state() == server_non_invite_state::terminated);
}

TEST_CASE("a final response in Trying goes straight to Completed") {
  server_non_invite txn;
  run_table(
      txn, {
               {"start", start{}, {to_tu{}}},
               {"the TU answers 405",
                tu_response{405},
                {send_response{405, false}, start_timer{timer::J, 32s, 1}}},
               {"a retransmission resends the 405", request_received{}, {send_response{405, true}}},
           });
  CHECK(txn.state() == server_non_invite_state::completed);
}

TEST_CASE("Timer J fires at 64*T1 on UDP") {
  server_non_invite txn;
  fake_clock clock(txn);
  clock.feed(start{});
  clock.advance(1s);
  clock.feed(tu_response{200});
  clock.run_all();
  CHECK(clock.times<terminated>() == ms({33000}));
}

TEST_CASE("on TCP Timer J is 0 and the transaction ends with the final response") {
  CHECK(timer_value(timer::J, {}, true) == 0ms);
  CHECK(timer_value(timer::J, {}, false) == 32s);
  server_non_invite txn({.reliable = true});
  run_table(txn, {
                     {"start", start{}, {to_tu{}}},
                     {"200", tu_response{200}, {send_response{200, false}, terminated{}}},
                 });
}

TEST_CASE("a stale timer (old generation) is ignored by the non-INVITE server transaction") {
  server_non_invite txn;
  run_table(
      txn,
      {
          {"start", start{}, {to_tu{}}},
          {"200", tu_response{200}, {send_response{200, false}, start_timer{timer::J, 32s, 1}}},
          {"Timer J with another generation", timer_fired{timer::J, 2}, {}},
          {"another timer", timer_fired{timer::K, 1}, {}},
      });
  CHECK(txn.state() == server_non_invite_state::completed);
}

TEST_CASE("a transport error terminates the non-INVITE server transaction and informs the TU") {
  server_non_invite txn;
  run_table(
      txn,
      {
          {"start", start{}, {to_tu{}}},
          {"an error in Trying cannot be ours: nothing was sent", transport_error{}, {}},
          {"100", tu_response{100}, {send_response{100, false}}},
          {"an error in Proceeding", transport_error{}, {report_transport_error{}, terminated{}}},
      });
}

}  // namespace
}  // namespace sipfleet::sip::transaction
