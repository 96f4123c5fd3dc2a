// Registration (RFC 3261 §10.2, §22; PHONE-BEHAVIOUR.md REGISTER row): digest, granted expiry,
// refresh, failure without a loop, back-off after timeouts, 423, unregistration on stop().
#include <doctest/doctest.h>

#include "fake_network.hpp"

using namespace sipfleet;
using namespace sipfleet::ua;
using namespace sipfleet::ua::test;

TEST_CASE("a 401 challenge is answered and the phone registers with the expiry the registrar grants") {
  network net;
  net.max_expires = 600;
  node& a = net.add("1001");
  a->start();
  net.run_for(10ms);

  const auto regs = net.sent_by("1001", "REGISTER");
  REQUIRE(regs.size() == 2);
  CHECK(header_of(regs[0], "Authorization").empty());
  CHECK(header_of(regs[1], "Authorization").find("username=\"1001\"") != std::string::npos);
  CHECK(header_of(regs[0], "Expires") == "3600");
  CHECK(header_of(regs[0], "Contact") == "<sip:1001@10.0.1.1:5100>");
  CHECK(regs[0].rfind("REGISTER sip:sipfleet.test SIP/2.0\r\n", 0) == 0);
  CHECK(header_of(regs[0], "Via").find(";branch=z9hG4bKrk1001.") != std::string::npos);
  CHECK(header_of(regs[0], "Via").find(";rport") != std::string::npos);
  // §10.2: the same Call-ID, CSeq counting up.
  CHECK(header_of(regs[0], "Call-ID") == header_of(regs[1], "Call-ID"));

  CHECK(a->registration() == registration_state::registered);
  CHECK(a->granted_expires() == 600);
  REQUIRE(a.env->last(event_kind::registered) != nullptr);
  CHECK(a.env->last(event_kind::registered)->reason == "600");
  CHECK(a->counters().registrations_succeeded == 1);
  // Each REGISTER transaction's Timers E and F were cancelled by its response; what is left
  // is Timer K of both transactions (§17.1.2.2) and the refresh.
  CHECK(a.env->cancelled == 4);
  CHECK(net.pending_timers("1001") == 3);
  net.run_for(6s);
  CHECK(net.pending_timers("1001") == 1);

  // The refresh comes at half the granted expiry, before the binding runs out.
  net.run_for(293s);
  CHECK(net.sent_by("1001", "REGISTER").size() == 2);
  net.run_for(2s);
  const auto after = net.sent_by("1001", "REGISTER");
  REQUIRE(after.size() == 3);  // pre-authorised with the cached challenge: 200 at once
  CHECK_FALSE(header_of(after[2], "Authorization").empty());
  CHECK(a->registration() == registration_state::registered);
  CHECK(a->counters().registrations_succeeded == 2);
}

TEST_CASE("a wrong password fails the registration with 401 without a REGISTER loop") {
  network net;
  node& a = net.add("1001", {.password = "wrong", .registrar_password = "right"});
  a->start();
  net.run_for(10ms);
  CHECK(net.sent_by("1001", "REGISTER").size() == 2);  // one challenge answered, then stop
  CHECK(a->registration() == registration_state::failed);
  REQUIRE(a.env->last(event_kind::registration_failed) != nullptr);
  CHECK(a.env->last(event_kind::registration_failed)->code == 401);
  CHECK(a->counters().registrations_failed == 1);

  // Retries only with back-off: 1, 2, 4, 8, 16, 32, 60, 60 s ... (+ up to 25 %).
  net.run_for(std::chrono::minutes(5));
  const auto n = net.sent_by("1001", "REGISTER").size();
  CHECK(n >= 2 * 8);
  CHECK(n <= 2 * 11);
  // The password is in no event.
  for (const auto& e : a.env->events) CHECK(e.reason.find("wrong") == std::string::npos);
}

TEST_CASE("a registrar that never answers gives 408 and retries with growing back-off") {
  network net;
  net.registrar_silent = true;
  node& a = net.add("1001");
  a->start();
  net.run_for(31s);
  CHECK(a->registration() == registration_state::registering);
  // UDP: Timer E retransmissions (500 ms doubling to 4 s) until Timer F at 32 s.
  CHECK(a->counters().retransmissions >= 8);
  net.run_for(1s);
  CHECK(a->registration() == registration_state::failed);
  REQUIRE(a.env->last(event_kind::registration_failed) != nullptr);
  CHECK(a.env->last(event_kind::registration_failed)->code == 408);

  // The retry comes after 1-1.25 s, the next failure after another 32 s, then 2-2.5 s.
  const int before = net.register_count;
  net.run_for(1250ms);
  CHECK(net.register_count > before);
  net.run_for(32s);
  CHECK(a->counters().registrations_failed == 2);
  const int second = net.register_count;
  net.run_for(1900ms);
  CHECK(net.register_count == second);  // 2 s back-off not over yet
  net.run_for(700ms);
  CHECK(net.register_count > second);
}

TEST_CASE("423 Interval Too Brief is retried with Min-Expires") {
  network net;
  net.min_expires = 7200;
  node& a = net.add("1001");
  a->start();
  net.run_for(10ms);
  CHECK(a->registration() == registration_state::registered);
  CHECK(a->granted_expires() == 7200);
  const auto regs = net.sent_by("1001", "REGISTER");
  REQUIRE(regs.size() == 3);
  CHECK(header_of(regs[2], "Expires") == "7200");
}

TEST_CASE("stop() unregisters with Expires: 0 and reports unregistered") {
  network net;
  node& a = net.add("1001");
  a->start();
  net.run_for(10ms);
  REQUIRE(a->registration() == registration_state::registered);
  a->stop();
  CHECK(a->registration() == registration_state::unregistering);
  net.run_for(10ms);
  CHECK(a->registration() == registration_state::unregistered);
  CHECK(a.env->count(event_kind::unregistered) == 1);
  const auto regs = net.sent_by("1001", "REGISTER");
  CHECK(header_of(regs.back(), "Expires") == "0");
  CHECK(net.last_register_expires == 0);
  // No more refreshes after stop.
  net.run_for(std::chrono::hours(2));
  CHECK(net.sent_by("1001", "REGISTER").size() == regs.size());
}

TEST_CASE("over TCP the Contact says transport=tcp and the Via TCP, without retransmissions") {
  network net;
  net.registrar_silent = true;
  node& a = net.add("1001", {.transport = transport_kind::tcp});
  a->start();
  net.run_for(33s);
  const auto regs = net.sent_by("1001", "REGISTER");
  REQUIRE(regs.size() == 1);
  CHECK(header_of(regs[0], "Contact") == "<sip:1001@10.0.1.1:5100;transport=tcp>");
  CHECK(header_of(regs[0], "Via").rfind("SIP/2.0/TCP ", 0) == 0);
  CHECK(a->counters().retransmissions == 0);
  CHECK(a.env->last(event_kind::registration_failed)->code == 408);
}
