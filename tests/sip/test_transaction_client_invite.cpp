// The INVITE client transaction (RFC 3261 §17.1.1, RFC 6026 §8.4) and the ACK it sends for a
// non-2xx final response (§17.1.1.3).
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "sip/message.hpp"
#include "sip/transaction/ack.hpp"
#include "sip/transaction/client_invite.hpp"
#include "sip_test_util.hpp"
#include "transaction_harness.hpp"

namespace sipfleet::sip::transaction {
namespace {

using namespace std::chrono_literals;
using testing::fake_clock;
using testing::ms;
using testing::row;
using testing::run_table;

bool retransmitted(const send_request& s) {
  return s.retransmission;
}

// RFC 3261 Table 4 and RFC 6026 §8.11, with the defaults (T1 500 ms, T2 4 s, T4 5 s).
TEST_CASE("every timer's value follows RFC 3261 Table 4 on UDP and on TCP") {
  struct expectation {
    timer which;
    duration udp;
    duration tcp;
  };
  const expectation table[] = {
      {timer::A, 500ms, 0ms}, {timer::B, 32s, 32s}, {timer::C, 180s, 180s}, {timer::D, 32s, 0ms},
      {timer::E, 500ms, 0ms}, {timer::F, 32s, 32s}, {timer::G, 500ms, 0ms}, {timer::H, 32s, 32s},
      {timer::I, 5s, 0ms},    {timer::J, 32s, 0ms}, {timer::K, 5s, 0ms},    {timer::L, 32s, 32s},
      {timer::M, 32s, 32s},
  };
  for (const auto& e : table) {
    CAPTURE(timer_letter(e.which));
    CHECK(timer_value(e.which, {}, false) == e.udp);
    CHECK(timer_value(e.which, {}, true) == e.tcp);
  }
  // 64*T1 timers follow T1; T4 timers follow T4.
  const timer_config slow{.t1 = 1s, .t4 = 10s};
  CHECK(timer_value(timer::B, slow, false) == 64s);
  CHECK(timer_value(timer::K, slow, false) == 10s);
}

TEST_CASE(
    "an INVITE answered 486 over UDP is ACKed by the transaction, which lingers for Timer D") {
  client_invite txn;
  run_table(txn,
            {
                {"start",
                 start{},
                 {send_request{}, start_timer{timer::A, 500ms, 1}, start_timer{timer::B, 32s, 2}}},
                {"100 goes to the TU", response_received{100}, {to_tu{100}}},
                {"180 goes to the TU", response_received{180}, {to_tu{180}}},
                {"Timer A from Calling is stale in Proceeding", timer_fired{timer::A, 1}, {}},
                {"Timer B no longer runs in Proceeding", timer_fired{timer::B, 2}, {}},
                {"486: ACK, then the TU, then Timer D",
                 response_received{486},
                 {send_ack{}, to_tu{486}, start_timer{timer::D, 32s, 3}}},
                {"a retransmitted 486 is ACKed again and not passed up",
                 response_received{486},
                 {send_ack{.retransmission = true}}},
                {"a 200 after the 486 is ignored", response_received{200}, {}},
                {"Timer D ends it", timer_fired{timer::D, 3}, {terminated{}}},
                {"nothing happens after Terminated", response_received{486}, {}},
            });
  CHECK(txn.state() == client_invite_state::terminated);
}

TEST_CASE("a final response in Calling goes straight to Completed") {
  client_invite txn;
  run_table(txn,
            {
                {"start",
                 start{},
                 {send_request{}, start_timer{timer::A, 500ms, 1}, start_timer{timer::B, 32s, 2}}},
                {"603 in Calling",
                 response_received{603},
                 {send_ack{}, to_tu{603}, start_timer{timer::D, 32s, 3}}},
                {"Timer A is stale now", timer_fired{timer::A, 1}, {}},
                {"Timer B is stale now", timer_fired{timer::B, 2}, {}},
            });
  CHECK(txn.state() == client_invite_state::completed);
}

TEST_CASE(
    "Timer A intervals are 0.5, 1, 2, 4, 8, 16 s and retransmissions stop at the configured cap") {
  SUBCASE("the phone's cap of 6") {
    client_invite txn;
    fake_clock clock(txn);
    clock.feed(start{});
    clock.run_all();
    CHECK(clock.times<send_request>(retransmitted) == ms({500, 1500, 3500, 7500, 15500, 31500}));
    CHECK(txn.retransmits() == 6);
  }
  SUBCASE("a cap of 3") {
    client_invite txn({.timers = {.max_invite_retransmits = 3}});
    fake_clock clock(txn);
    clock.feed(start{});
    clock.run_all();
    CHECK(clock.times<send_request>(retransmitted) == ms({500, 1500, 3500}));
    CHECK(clock.times<report_timeout>() == ms({32000}));
  }
  SUBCASE("A doubles without the T2 cap that non-INVITE requests have") {
    client_invite txn({.timers = {.t2 = 1s}});
    fake_clock clock(txn);
    clock.feed(start{});
    clock.run_all();
    std::vector<std::int64_t> intervals;
    for (const auto& l : clock.log())
      if (const auto* s = std::get_if<start_timer>(&l.what); s && s->which == timer::A)
        intervals.push_back(s->after.count());
    CHECK(intervals == ms({500, 1000, 2000, 4000, 8000, 16000}));
  }
}

TEST_CASE("Timer B fires at 64*T1 (32 s with defaults) and the TU gets a timeout") {
  client_invite txn;
  fake_clock clock(txn);
  clock.feed(start{});
  clock.advance(31999ms);
  CHECK(txn.state() == client_invite_state::calling);
  clock.advance(1ms);
  CHECK(clock.times<report_timeout>([](const report_timeout& t) { return t.which == timer::B; }) ==
        ms({32000}));
  CHECK(clock.times<terminated>() == ms({32000}));
  CHECK(txn.state() == client_invite_state::terminated);
  CHECK(timeout_status == 408);

  SUBCASE("with T1 = 1 s it is 64 s") {
    client_invite slow({.timers = {.t1 = 1s}});
    fake_clock c2(slow);
    c2.feed(start{});
    c2.run_all();
    CHECK(c2.times<report_timeout>() == ms({64000}));
  }
}

TEST_CASE("2xx retransmissions reach the TU in the Accepted state (RFC 6026)") {
  client_invite txn;
  run_table(
      txn, {
               {"start",
                start{},
                {send_request{}, start_timer{timer::A, 500ms, 1}, start_timer{timer::B, 32s, 2}}},
               {"180", response_received{180}, {to_tu{180}}},
               {"200: to the TU, Timer M = 64*T1; no ACK from the transaction",
                response_received{200},
                {to_tu{200}, start_timer{timer::M, 32s, 3}}},
               {"a retransmitted 200 goes to the TU", response_received{200}, {to_tu{200}}},
               {"a 2xx from another fork goes to the TU", response_received{202}, {to_tu{202}}},
               {"a late 180 is dropped", response_received{180}, {}},
               {"a 486 from another fork is dropped", response_received{486}, {}},
               {"a transport error is ignored: nothing is sent in Accepted", transport_error{}, {}},
               {"Timer M ends it", timer_fired{timer::M, 3}, {terminated{}}},
           });
}

TEST_CASE("on TCP no retransmission timers start and Timer D is 0") {
  CHECK(timer_value(timer::D, {}, true) == 0ms);
  CHECK(timer_value(timer::D, {}, false) == 32s);
  CHECK(timer_value(timer::A, {}, true) == 0ms);
  client_invite txn({.reliable = true});
  run_table(txn,
            {
                {"start: only Timer B", start{}, {send_request{}, start_timer{timer::B, 32s, 1}}},
                {"486: ACK, TU, and Terminated at once",
                 response_received{486},
                 {send_ack{}, to_tu{486}, terminated{}}},
            });
}

TEST_CASE("a stale timer (old generation) is ignored by the INVITE client transaction") {
  client_invite txn;
  run_table(
      txn,
      {
          {"start",
           start{},
           {send_request{}, start_timer{timer::A, 500ms, 1}, start_timer{timer::B, 32s, 2}}},
          {"Timer A", timer_fired{timer::A, 1}, {send_request{true}, start_timer{timer::A, 1s, 3}}},
          {"the same Timer A again (old generation)", timer_fired{timer::A, 1}, {}},
          {"a generation never issued", timer_fired{timer::A, 99}, {}},
          {"generation 0", timer_fired{timer::A, 0}, {}},
          {"a timer this machine never started", timer_fired{timer::K, 3}, {}},
          {"the current Timer A",
           timer_fired{timer::A, 3},
           {send_request{true}, start_timer{timer::A, 2s, 4}}},
      });
}

TEST_CASE("a transport error terminates the INVITE client transaction and informs the TU") {
  SUBCASE("in Calling") {
    client_invite txn;
    txn.on(start{});
    run_table(txn,
              {{"transport error", transport_error{}, {report_transport_error{}, terminated{}}},
               {"then Timer B is a no-op", timer_fired{timer::B, 2}, {}}});
  }
  SUBCASE("in Completed, when the ACK cannot be sent") {
    client_invite txn;
    txn.on(start{});
    txn.on(response_received{500});
    run_table(txn,
              {{"transport error", transport_error{}, {report_transport_error{}, terminated{}}}});
  }
}

TEST_CASE("events before start and events meant for servers are ignored") {
  client_invite txn;
  run_table(txn, {{"a response before start", response_received{200}, {}},
                  {"an ACK", ack_received{}, {}},
                  {"a TU response", tu_response{200}, {}}});
  txn.on(start{});
  run_table(txn, {{"a second start", start{}, {}}, {"status 99", response_received{99}, {}}});
}

// §17.1.1.3, from the fields first (no parser needed) ...
TEST_CASE(
    "the ACK for a non-2xx copies the INVITE's Request-URI, Via, From, Call-ID, CSeq number and "
    "Routes") {
  const std::vector<std::string_view> routes = {"<sip:p1.example.com;lr>",
                                                "<sip:p2.example.com;lr>"};
  const std::string ack =
      build_ack(ack_fields{.request_uri = "sip:bob@example.com",
                           .via = "SIP/2.0/UDP pc33.example.com;branch=z9hG4bKnashds8",
                           .from = "Alice <sip:alice@example.com>;tag=1928301774",
                           .to = "Bob <sip:bob@example.com>;tag=a6c85cf",
                           .call_id = "a84b4c76e66710",
                           .cseq_number = 314159,
                           .routes = routes});
  CHECK(ack == test::crlf("ACK sip:bob@example.com SIP/2.0\n"
                          "Via: SIP/2.0/UDP pc33.example.com;branch=z9hG4bKnashds8\n"
                          "Max-Forwards: 70\n"
                          "Route: <sip:p1.example.com;lr>\n"
                          "Route: <sip:p2.example.com;lr>\n"
                          "From: Alice <sip:alice@example.com>;tag=1928301774\n"
                          "To: Bob <sip:bob@example.com>;tag=a6c85cf\n"
                          "Call-ID: a84b4c76e66710\n"
                          "CSeq: 314159 ACK\n"
                          "Content-Length: 0\n"
                          "\n"));
}

// ... then from parsed messages, and the ACK parsed back.
TEST_CASE("the ACK built from a parsed INVITE and its 486 parses with the fields of §17.1.1.3") {
  const std::string invite_text = test::crlf(
      "INVITE sip:bob@example.com SIP/2.0\n"
      "Via: SIP/2.0/UDP pc33.example.com:5060;branch=z9hG4bKnashds8;rport\n"
      "Via: SIP/2.0/UDP proxy.example.com;branch=z9hG4bKother\n"
      "Max-Forwards: 69\n"
      "Route: <sip:p1.example.com;lr>, <sip:p2.example.com;lr>\n"
      "To: Bob <sip:bob@example.com>\n"
      "From: Alice <sip:alice@example.com>;tag=1928301774\n"
      "Call-ID: a84b4c76e66710@pc33.example.com\n"
      "CSeq: 314159 INVITE\n"
      "Contact: <sip:alice@pc33.example.com>\n"
      "Content-Length: 0\n"
      "\n");
  const std::string response_text = test::crlf(
      "SIP/2.0 486 Busy Here\n"
      "Via: SIP/2.0/UDP pc33.example.com:5060;branch=z9hG4bKnashds8;rport=5060\n"
      "To: Bob <sip:bob@example.com>;tag=a6c85cf\n"
      "From: Alice <sip:alice@example.com>;tag=1928301774\n"
      "Call-ID: a84b4c76e66710@pc33.example.com\n"
      "CSeq: 314159 INVITE\n"
      "Content-Length: 0\n"
      "\n");
  auto invite = message::parse(invite_text);
  auto response = message::parse(response_text);
  REQUIRE(invite.ok());
  REQUIRE(response.ok());

  const std::string text = build_ack(*invite, *response);
  CHECK(text == test::crlf("ACK sip:bob@example.com SIP/2.0\n"
                           "Via: SIP/2.0/UDP pc33.example.com:5060;branch=z9hG4bKnashds8;rport\n"
                           "Max-Forwards: 70\n"
                           "Route: <sip:p1.example.com;lr>\n"
                           "Route: <sip:p2.example.com;lr>\n"
                           "From: Alice <sip:alice@example.com>;tag=1928301774\n"
                           "To: Bob <sip:bob@example.com>;tag=a6c85cf\n"
                           "Call-ID: a84b4c76e66710@pc33.example.com\n"
                           "CSeq: 314159 ACK\n"
                           "Content-Length: 0\n"
                           "\n"));

  auto ack = message::parse(text);
  REQUIRE(ack.ok());
  CHECK(ack->is_request());
  CHECK(ack->method() == method::ack);
  CHECK(ack->request_uri().text == "sip:bob@example.com");
  CHECK(ack->count(header_id::via) == 1);
  CHECK(ack->top_via().branch == "z9hG4bKnashds8");
  CHECK(ack->top_via().host == "pc33.example.com");
  CHECK(ack->from().tag == "1928301774");
  CHECK(ack->to().tag == "a6c85cf");
  CHECK(ack->call_id() == "a84b4c76e66710@pc33.example.com");
  CHECK(ack->cseq().number == 314159);
  CHECK(ack->cseq().method == method::ack);
  CHECK(ack->max_forwards() == 70u);
  CHECK(ack->content_length() == 0u);
  CHECK(ack->count(header_id::route) == 2);
  CHECK(ack->body().empty());
}

}  // namespace
}  // namespace sipfleet::sip::transaction
