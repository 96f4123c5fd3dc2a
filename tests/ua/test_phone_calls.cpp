// Calls between phones through the in-memory proxy: ringing, answer, BYE after the hold time,
// busy, cancel, 407, INVITE expiry, hold/resume, 2xx retransmission (§13.3.1.4), lost 200 OK,
// stop(), and no timer-slot leak over many calls.
#include <doctest/doctest.h>

#include "fake_network.hpp"

using namespace sipfleet;
using namespace sipfleet::ua;
using namespace sipfleet::ua::test;

namespace {

struct two_phones {
  network net;
  node& a;
  node& b;
  explicit two_phones(ua::behaviour callee = {}, ua::behaviour caller = {})
      : a(net.add("1001", {.behaviour = caller})), b(net.add("1002", {.behaviour = callee})) {
    a->start();
    b->start();
    net.run_for(10ms);
    REQUIRE(a->registration() == registration_state::registered);
    REQUIRE(b->registration() == registration_state::registered);
  }
};

call_record only_finished(node& n) {
  auto v = n->take_finished_calls();
  REQUIRE(v.size() == 1);
  return v.front();
}

}  // namespace

TEST_CASE("phone A calls phone B: B rings, answers after the delay, A hangs up after the hold") {
  two_phones t({.answer = answer_mode::automatic, .answer_delay = 2s});
  const auto t0 = t.net.now;
  auto id = t.a->call("1002", 10s);
  REQUIRE(id.ok());
  t.net.run_for(10ms);
  CHECK(t.a.env->count(event_kind::call_ringing) == 1);
  CHECK(t.b.env->count(event_kind::call_ringing) == 1);
  CHECK(t.a->current_calls().at(0).state == call_state::ringing);
  CHECK(t.b->busy());
  t.net.run_for(2s);
  CHECK(t.a.env->count(event_kind::call_answered) == 1);
  CHECK(t.b.env->count(event_kind::call_answered) == 1);
  CHECK(t.a->current_calls().at(0).state == call_state::connected);
  CHECK(t.net.sent_by("1001", "ACK").size() == 1);
  t.net.run_for(10s);
  CHECK(t.net.sent_by("1001", "BYE").size() == 1);
  CHECK(t.a->active_calls() == 0);
  CHECK(t.b->active_calls() == 0);

  const auto ra = only_finished(t.a);
  CHECK(ra.call_id == *id);
  CHECK(ra.outgoing);
  CHECK(ra.peer == "1002");
  CHECK(ra.started == t0);
  REQUIRE(ra.ringing);
  CHECK(*ra.ringing == t0);
  REQUIRE(ra.answered);
  CHECK(*ra.answered == t0 + 2s);
  REQUIRE(ra.ended);
  CHECK(*ra.ended == t0 + 12s);
  CHECK(ra.end_code == 200);
  CHECK(ra.end_reason == "BYE");
  CHECK(ra.ended_by_us);
  CHECK(ra.retransmissions == 0);

  const auto rb = only_finished(t.b);
  CHECK(rb.call_id == *id);
  CHECK_FALSE(rb.outgoing);
  CHECK(rb.peer == "1001");
  CHECK(rb.end_code == 200);
  CHECK(rb.end_reason == "BYE from peer");
  CHECK_FALSE(rb.ended_by_us);
  CHECK(t.a->counters().calls_attempted == 1);
  CHECK(t.a->counters().calls_answered == 1);
  CHECK(t.b->counters().calls_received == 1);

  // The INVITE: SDP offer with PCMU, PCMA and telephone-event 101, Contact, branch with route key.
  const auto invite = t.net.sent_by("1001", "INVITE").at(0);
  CHECK(invite.find("m=audio 4000 RTP/AVP 0 8 101") != std::string::npos);
  CHECK(invite.find("c=IN IP4 10.0.1.1") != std::string::npos);
  CHECK(header_of(invite, "Contact") == "<sip:1001@10.0.1.1:5100>");
  CHECK(header_of(invite, "Via").find("branch=z9hG4bKrk1001.") != std::string::npos);
  // Nothing is left behind: once the stale timers (the INVITE expiry: 180 s) have fired, only
  // the registration refreshes stay armed.
  t.net.run_for(200s);
  CHECK(t.net.pending_timers() == 2);
}

TEST_CASE("call outcomes at the caller follow the callee's behaviour") {
  struct row {
    const char* name;
    ua::behaviour callee;
    int code;
  };
  const row rows[] = {
      {"do-not-disturb: 480", {.dnd = true}, 480},
      {"reject mode: the reject code", {.answer = answer_mode::reject, .reject_code = 603}, 603},
      {"forwarding: 302", {.forward_to = "1003"}, 302},
  };
  for (const auto& r : rows) {
    CAPTURE(r.name);
    two_phones t(r.callee);
    REQUIRE(t.a->call("1002", 0s).ok());
    t.net.run_for(10ms);
    const auto rec = only_finished(t.a);
    CHECK(rec.end_code == r.code);
    CHECK_FALSE(rec.ended_by_us);
    CHECK(t.a->counters().calls_failed == 1);
    CHECK(t.b->active_calls() == 0);
    CHECK(t.net.sent_by("1001", "ACK").size() == 1);  // the transaction ACKs the non-2xx
  }
}

TEST_CASE("a busy callee answers 486 Busy Here, recorded at the caller") {
  two_phones t({.answer = answer_mode::manual});
  node& c = t.net.add("1003");
  c->start();
  t.net.run_for(10ms);
  REQUIRE(c->call("1002", 0s).ok());  // B is ringing with C's call
  t.net.run_for(10ms);
  REQUIRE(t.a->call("1002", 0s).ok());
  t.net.run_for(10ms);
  const auto rec = only_finished(t.a);
  CHECK(rec.end_code == 486);
  CHECK(rec.end_reason == "Busy Here");
  CHECK(t.b->active_calls() == 1);
}

TEST_CASE("a call to an unknown user ends with the proxy's 404") {
  two_phones t;
  REQUIRE(t.a->call("9999", 0s).ok());
  t.net.run_for(10ms);
  const auto rec = only_finished(t.a);
  CHECK(rec.end_code == 404);
  CHECK(rec.end_reason == "Not Found");
}

TEST_CASE("the caller cancels before the answer: 487 at both ends") {
  two_phones t({.answer = answer_mode::manual});
  auto id = t.a->call("1002", 0s);
  t.net.run_for(10ms);
  REQUIRE(t.a->hangup(*id).ok());
  t.net.run_for(10ms);
  CHECK(t.net.sent_by("1001", "CANCEL").size() == 1);
  const auto ra = only_finished(t.a);
  CHECK(ra.end_code == 487);
  CHECK(ra.end_reason == "Request Terminated");
  CHECK(ra.ended_by_us);
  const auto rb = only_finished(t.b);
  CHECK(rb.end_code == 487);
  CHECK_FALSE(rb.ended_by_us);
  CHECK(t.a->counters().calls_failed == 0);
}

TEST_CASE("a hangup before any provisional waits for one before sending CANCEL (§9.1)") {
  two_phones t({.answer = answer_mode::manual});
  t.net.drop = [](const std::string& sender, const sip::message& m) {
    return sender == "1002" && m.is_response() && m.status_code() < 200;  // lose 100 and 180
  };
  auto id = t.a->call("1002", 0s);
  t.net.run_for(10ms);
  REQUIRE(t.a->hangup(*id).ok());
  t.net.run_for(10ms);
  CHECK(t.net.sent_by("1001", "CANCEL").empty());
  t.net.drop = nullptr;
  t.net.run_for(1s);  // Timer A: the INVITE again, B resends its 180
  CHECK(t.net.sent_by("1001", "CANCEL").size() == 1);
  CHECK(only_finished(t.a).end_code == 487);
}

TEST_CASE("a 407 on the INVITE is answered with Proxy-Authorization, new branch and CSeq + 1") {
  two_phones t;
  t.net.challenge_invites = true;
  REQUIRE(t.a->call("1002", 5s).ok());
  t.net.run_for(10ms);
  const auto invites = t.net.sent_by("1001", "INVITE");
  REQUIRE(invites.size() == 2);
  CHECK(header_of(invites[1], "Proxy-Authorization").find("username=\"1001\"") !=
        std::string::npos);
  CHECK(header_of(invites[0], "Via") != header_of(invites[1], "Via"));
  auto c0 = sip::message::parse(invites[0]);
  auto c1 = sip::message::parse(invites[1]);
  CHECK(c1->cseq().number == c0->cseq().number + 1);
  CHECK(t.a.env->count(event_kind::call_answered) == 1);
  t.net.run_for(6s);
  CHECK(only_finished(t.a).end_code == 200);
}

TEST_CASE("the phone's INVITE expiry while ringing sends CANCEL and ends the call with 408") {
  two_phones t({.answer = answer_mode::manual},
               {.invite_expiry = 20s});
  REQUIRE(t.a->call("1002", 0s).ok());
  t.net.run_for(21s);
  CHECK(t.net.sent_by("1001", "CANCEL").size() == 1);
  const auto ra = only_finished(t.a);
  CHECK(ra.end_code == 408);
  CHECK(ra.end_reason == "Request Timeout");
  CHECK(only_finished(t.b).end_code == 487);
}

TEST_CASE("hold and resume by re-INVITE from either side") {
  two_phones t;
  auto id = t.a->call("1002", 0s);
  t.net.run_for(10ms);
  REQUIRE(t.a->current_calls().at(0).state == call_state::connected);

  SUBCASE("the caller holds and resumes") {
    REQUIRE(t.a->hold(*id).ok());
    t.net.run_for(10ms);
    const auto reinvite = t.net.sent_by("1001", "INVITE").back();
    CHECK(reinvite.find("a=sendonly") != std::string::npos);
    CHECK(t.net.responses_by("1002", 200).back().find("a=recvonly") != std::string::npos);
    CHECK(t.a.env->count(event_kind::call_held) == 1);
    CHECK(t.b.env->count(event_kind::call_held) == 1);
    CHECK(t.a->current_calls().at(0).state == call_state::held);
    CHECK(t.b->current_calls().at(0).state == call_state::held);
    REQUIRE(t.a->resume(*id).ok());
    t.net.run_for(10ms);
    CHECK(t.net.sent_by("1001", "INVITE").back().find("a=sendrecv") != std::string::npos);
    CHECK(t.a.env->count(event_kind::call_resumed) == 1);
    CHECK(t.b.env->count(event_kind::call_resumed) == 1);
    CHECK(t.a->current_calls().at(0).state == call_state::connected);
    CHECK(t.b->current_calls().at(0).state == call_state::connected);
  }
  SUBCASE("the callee holds and resumes") {
    REQUIRE(t.b->hold(*id).ok());
    t.net.run_for(10ms);
    CHECK(t.net.sent_by("1002", "INVITE").back().find("a=sendonly") != std::string::npos);
    CHECK(t.a.env->count(event_kind::call_held) == 1);
    CHECK(t.b.env->count(event_kind::call_held) == 1);
    REQUIRE(t.b->resume(*id).ok());
    t.net.run_for(10ms);
    CHECK(t.a.env->count(event_kind::call_resumed) == 1);
    CHECK(t.b.env->count(event_kind::call_resumed) == 1);
  }
  SUBCASE("crossing re-INVITEs get 491 and are retried after the §14.1 delay") {
    REQUIRE(t.a->hold(*id).ok());
    REQUIRE(t.b->hold(*id).ok());
    t.net.run_for(10ms);
    CHECK(t.net.responses_by("1001", 491).size() == 1);
    CHECK(t.net.responses_by("1002", 491).size() == 1);
    t.net.run_for(5s);
    CHECK(t.a.env->count(event_kind::call_held) >= 1);
    CHECK(t.b.env->count(event_kind::call_held) >= 1);
    CHECK(t.a->current_calls().at(0).state == call_state::held);
  }
  REQUIRE(t.a->hangup(*id).ok());
  t.net.run_for(10ms);
  CHECK(t.a->active_calls() == 0);
  CHECK(t.b->active_calls() == 0);
}

TEST_CASE("the callee retransmits its 200 until the ACK comes, and stops then") {
  two_phones t;
  int acks_dropped = 0;
  t.net.drop = [&](const std::string& sender, const sip::message& m) {
    if (sender == "1001" && m.method() == sip::method::ack && acks_dropped < 2) {
      ++acks_dropped;
      return true;
    }
    return false;
  };
  REQUIRE(t.a->call("1002", 0s).ok());
  t.net.run_for(10ms);
  CHECK(t.net.responses_by("1002", 200).size() == 1 + 0);  // the REGISTER 200s come from the proxy
  t.net.run_for(500ms);  // T1: first retransmission, its ACK lost too
  t.net.run_for(1000ms);  // 2*T1: second retransmission, ACKed
  const auto count = t.net.responses_by("1002", 200).size();
  CHECK(count == 3);
  CHECK(t.net.sent_by("1001", "ACK").size() == 3);  // every 200 is ACKed again
  CHECK(t.b->counters().retransmissions == 2);
  CHECK(t.a->counters().retransmissions == 2);  // the ACKs resent
  t.net.run_for(40s);
  CHECK(t.net.responses_by("1002", 200).size() == count);
  CHECK(t.b->current_calls().at(0).retransmissions == 2);
  CHECK(t.b.env->count(event_kind::retransmission) == 2);
}

TEST_CASE("a lost 200 OK reaches the caller by the callee's retransmission") {
  two_phones t;
  bool dropped = false;
  t.net.drop = [&](const std::string& sender, const sip::message& m) {
    if (sender == "1002" && m.is_response() && m.status_code() == 200 && !dropped) {
      dropped = true;
      return true;
    }
    return false;
  };
  REQUIRE(t.a->call("1002", 0s).ok());
  t.net.run_for(10ms);
  CHECK(t.a.env->count(event_kind::call_answered) == 0);
  t.net.run_for(500ms);
  CHECK(t.a.env->count(event_kind::call_answered) == 1);
  CHECK(t.net.sent_by("1001", "ACK").size() == 1);
}

TEST_CASE("without any ACK the callee gives up after 64*T1 and sends BYE") {
  two_phones t;
  t.net.drop = [](const std::string& sender, const sip::message& m) {
    return sender == "1001" && m.method() == sip::method::ack;
  };
  REQUIRE(t.a->call("1002", 0s).ok());
  t.net.run_for(31s);
  CHECK(t.net.sent_by("1002", "BYE").empty());
  t.net.run_for(2s);
  CHECK(t.net.sent_by("1002", "BYE").size() == 1);
  CHECK(t.b->active_calls() == 0);
  CHECK(t.a->active_calls() == 0);
}

TEST_CASE("stop() sends BYE for a call, then REGISTER Expires: 0, then unregistered") {
  two_phones t;
  REQUIRE(t.a->call("1002", 0s).ok());
  t.net.run_for(10ms);
  t.a->stop();
  t.net.run_for(10ms);
  CHECK(t.net.sent_by("1001", "BYE").size() == 1);
  CHECK(header_of(t.net.sent_by("1001", "REGISTER").back(), "Expires") == "0");
  CHECK(t.a.env->count(event_kind::unregistered) == 1);
  CHECK(t.a->active_calls() == 0);
  CHECK(t.b->active_calls() == 0);
  CHECK_FALSE(t.a->call("1002", 0s).ok());
}

TEST_CASE("a thousand calls leave no timer slot or transaction behind") {
  two_phones t;
  std::uint32_t slots_after_200 = 0;
  for (int i = 0; i < 1000; ++i) {
    REQUIRE(t.a->call("1002", 1s).ok());
    t.net.run_for(2s);
    CHECK(t.a->active_calls() == 0);
    CHECK(t.a->take_finished_calls().size() == 1);
    CHECK(t.b->take_finished_calls().size() == 1);
    if (i == 199) slots_after_200 = t.a.env->max_slot;
  }
  CHECK(t.a->counters().calls_answered == 1000);
  // Slots are reused: a slot is held only while its timer is wanted (the INVITE expiry is
  // cancelled at the answer, Timers A/B at the response). What remains are the RFC 6026
  // Timers M/L (32 s) of the last ~16 calls: the count depends on the call rate, not on the
  // number of calls (it was ~100 for the 180 s INVITE expiry before cancelling).
  CHECK(t.a.env->max_slot <= slots_after_200 + 2);
  CHECK(t.a.env->max_slot < 40);
  CHECK(t.b.env->max_slot < 40);
  CHECK(t.a.env->cancelled > 2000);
  t.net.run_for(200s);
  CHECK(t.net.pending_timers() == 2);  // the two registration refreshes
}
