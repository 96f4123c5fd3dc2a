// The INVITE server transaction (RFC 3261 §17.2.1, RFC 6026 §7.1, §8.5-§8.7).
#include <doctest/doctest.h>

#include <vector>

#include "sip/transaction/server_invite.hpp"
#include "transaction_harness.hpp"

namespace sipfleet::sip::transaction {
namespace {

using namespace std::chrono_literals;
using testing::fake_clock;
using testing::ms;
using testing::run_table;

bool retransmitted(const send_response& s) {
  return s.retransmission;
}

TEST_CASE("a retransmitted INVITE is absorbed by the server transaction") {
  server_invite txn;
  run_table(
      txn,
      {
          {"the INVITE goes to the TU and 100 Trying goes out", start{}, {to_tu{}, send_trying{}}},
          {"a retransmitted INVITE resends the 100, not passed to the TU",
           request_received{},
           {send_response{100, true}}},
          {"the TU sends 180", tu_response{180}, {send_response{180, false}}},
          {"a retransmitted INVITE resends the latest provisional",
           request_received{},
           {send_response{180, true}}},
          {"the TU sends 486: Timer G = T1, Timer H = 64*T1",
           tu_response{486},
           {send_response{486, false}, start_timer{timer::G, 500ms, 1},
            start_timer{timer::H, 32s, 2}}},
          {"a retransmitted INVITE in Completed resends the 486",
           request_received{},
           {send_response{486, true}}},
          {"Timer G resends the 486 and doubles",
           timer_fired{timer::G, 1},
           {send_response{486, true}, start_timer{timer::G, 1s, 3}}},
          {"a late 200 from the TU is dropped", tu_response{200}, {}},
          {"the ACK: Confirmed, Timer I = T4", ack_received{}, {start_timer{timer::I, 5s, 4}}},
          {"Timer G is ignored in Confirmed", timer_fired{timer::G, 3}, {}},
          {"Timer H is ignored in Confirmed", timer_fired{timer::H, 2}, {}},
          {"a retransmitted ACK is absorbed", ack_received{}, {}},
          {"a retransmitted INVITE is absorbed in Confirmed", request_received{}, {}},
          {"Timer I ends it", timer_fired{timer::I, 4}, {terminated{}}},
      });
  CHECK(txn.state() == server_invite_state::terminated);
}

TEST_CASE("Timer G doubles up to T2 and Timer H fires at 64*T1 when no ACK comes") {
  server_invite txn;
  fake_clock clock(txn);
  clock.feed(start{});
  clock.feed(tu_response{404});
  clock.run_all();
  CHECK(clock.times<send_response>(retransmitted) ==
        ms({500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500}));
  std::vector<std::int64_t> g;
  for (const auto& l : clock.log())
    if (const auto* s = std::get_if<start_timer>(&l.what); s && s->which == timer::G)
      g.push_back(s->after.count());
  CHECK(g == ms({500, 1000, 2000, 4000, 4000, 4000, 4000, 4000, 4000, 4000}));
  // "the ACK was never received": the TU is told (report_timeout(H)) and the transaction ends.
  CHECK(clock.times<report_timeout>([](const report_timeout& t) { return t.which == timer::H; }) ==
        ms({32000}));
  CHECK(clock.times<terminated>() == ms({32000}));
}

TEST_CASE("Timer G retransmissions stop at the configured cap") {
  server_invite txn({.timers = {.max_non_invite_retransmits = 2}});
  fake_clock clock(txn);
  clock.feed(start{});
  clock.feed(tu_response{480});
  clock.run_all();
  CHECK(clock.times<send_response>(retransmitted) == ms({500, 1500}));
  CHECK(clock.times<report_timeout>() == ms({32000}));
}

TEST_CASE("an ACK stops Timer G and Timer I ends the transaction T4 later") {
  server_invite txn;
  fake_clock clock(txn);
  clock.feed(start{});
  clock.feed(tu_response{486});
  clock.advance(2s);  // retransmissions at 0.5 s and 1.5 s
  clock.feed(ack_received{});
  clock.run_all();  // the stale G (3.5 s) and H (32 s) are delivered and ignored
  CHECK(clock.times<send_response>(retransmitted) == ms({500, 1500}));
  CHECK(clock.times<terminated>() == ms({7000}));
  CHECK(clock.times<report_timeout>().empty());
}

TEST_CASE(
    "a 2xx moves the server transaction to Accepted, where INVITEs are absorbed and ACKs reach the "
    "TU (RFC 6026)") {
  server_invite txn;
  run_table(txn, {
                     {"start", start{}, {to_tu{}, send_trying{}}},
                     {"the TU sends 200: Timer L = 64*T1",
                      tu_response{200},
                      {send_response{200, false}, start_timer{timer::L, 32s, 1}}},
                     {"a retransmitted INVITE is absorbed", request_received{}, {}},
                     {"the TU's 2xx retransmission is passed to the transport",
                      tu_response{200},
                      {send_response{200, false}}},
                     {"a non-2xx from the TU is dropped", tu_response{500}, {}},
                     {"the ACK goes to the TU", ack_received{}, {to_tu{}}},
                     {"a transport error is reported; the machine stays",
                      transport_error{},
                      {report_transport_error{}}},
                     {"Timer L ends it", timer_fired{timer::L, 1}, {terminated{}}},
                 });
}

TEST_CASE("Timer L fires at 64*T1 after the 2xx") {
  server_invite txn({.timers = {.t1 = 100ms}});
  fake_clock clock(txn);
  clock.feed(start{});
  clock.advance(3s);
  clock.feed(tu_response{200});
  clock.run_all();
  CHECK(clock.times<terminated>() == ms({9400}));
}

TEST_CASE("on TCP no Timer G starts and Timer I is 0") {
  CHECK(timer_value(timer::I, {}, true) == 0ms);
  CHECK(timer_value(timer::I, {}, false) == 5s);
  CHECK(timer_value(timer::G, {}, true) == 0ms);
  server_invite txn({.reliable = true});
  run_table(txn, {
                     {"start", start{}, {to_tu{}, send_trying{}}},
                     {"486: only Timer H",
                      tu_response{486},
                      {send_response{486, false}, start_timer{timer::H, 32s, 1}}},
                     {"the ACK ends it at once", ack_received{}, {terminated{}}},
                 });
}

TEST_CASE("without automatic 100 Trying a retransmitted INVITE before any response gets nothing") {
  server_invite txn({.send_100_trying = false});
  run_table(
      txn,
      {
          {"start", start{}, {to_tu{}}},
          {"a retransmitted INVITE", request_received{}, {}},
          {"an ACK before any final response", ack_received{}, {}},
          {"the TU's 100", tu_response{100}, {send_response{100, false}}},
          {"a retransmitted INVITE now resends it", request_received{}, {send_response{100, true}}},
      });
}

TEST_CASE("a stale timer (old generation) is ignored by the INVITE server transaction") {
  server_invite txn;
  run_table(txn, {
                     {"start", start{}, {to_tu{}, send_trying{}}},
                     {"486",
                      tu_response{486},
                      {send_response{486, false}, start_timer{timer::G, 500ms, 1},
                       start_timer{timer::H, 32s, 2}}},
                     {"Timer G",
                      timer_fired{timer::G, 1},
                      {send_response{486, true}, start_timer{timer::G, 1s, 3}}},
                     {"Timer G again with the old generation", timer_fired{timer::G, 1}, {}},
                     {"Timer H with Timer G's generation", timer_fired{timer::H, 3}, {}},
                 });
  CHECK(txn.state() == server_invite_state::completed);
}

TEST_CASE("a transport error terminates the INVITE server transaction and informs the TU") {
  SUBCASE("in Proceeding") {
    server_invite txn;
    txn.on(start{});
    run_table(txn,
              {{"transport error", transport_error{}, {report_transport_error{}, terminated{}}}});
  }
  SUBCASE("in Completed") {
    server_invite txn;
    txn.on(start{});
    txn.on(tu_response{503});
    run_table(txn,
              {{"transport error", transport_error{}, {report_transport_error{}, terminated{}}},
               {"Timer G after it", timer_fired{timer::G, 1}, {}}});
  }
}

}  // namespace
}  // namespace sipfleet::sip::transaction
