// Blind transfer by REFER (RFC 3515, RFC 5589 §6) through the in-memory proxy: A (1001) calls
// B (1002), then transfers B to C (1003). A is the transferor, B the transferee. Hand-made
// requests cover what the phones never send each other (a REFER without Refer-To, NOTIFYs
// for no subscription or with a bad body).
#include <doctest/doctest.h>

#include "fake_network.hpp"

using namespace sipfleet;
using namespace sipfleet::ua;
using namespace sipfleet::ua::test;

namespace {

struct transfer_world {
  network net;
  node& a;
  node& b;
  node& c;
  std::string call_id;  // A's call to B
  explicit transfer_world(ua::behaviour target = {})
      : a(net.add("1001")), b(net.add("1002")), c(net.add("1003", {.behaviour = target})) {
    a->start();
    b->start();
    c->start();
    net.run_for(10ms);
    auto id = a->call("1002", 0s);
    REQUIRE(id.ok());
    call_id = *id;
    net.run_for(10ms);
    REQUIRE(a->current_calls().at(0).state == call_state::connected);
  }
  // Requests of one method a phone sent, parsed.
  std::vector<sip::message> sent(std::string_view user, std::string_view method) const {
    std::vector<sip::message> out;
    for (const auto& bytes : net.sent_by(user, method)) {
      auto m = sip::message::parse(bytes);
      REQUIRE(m.ok());
      out.push_back(std::move(m).value());
    }
    return out;
  }
  // Responses a phone sent to requests of one method.
  std::size_t answered(std::string_view user, int status, sip::method method) const {
    std::size_t n = 0;
    for (const auto& bytes : net.responses_by(user, status))
      n += sip::message::parse(bytes)->cseq().method == method ? 1 : 0;
    return n;
  }
  // B sent two NOTIFYs (100 Trying, then this): the last says `frag`, ending the subscription.
  void check_final_notify(std::string_view frag, std::string_view state) const {
    const auto notifies = sent("1002", "NOTIFY");
    REQUIRE(notifies.size() == 2);
    CHECK(notifies[1].body() == frag);
    CHECK(notifies[1].header(sip::header_id::subscription_state) == state);
  }
  // The call_transferred event a phone emitted for A's call to B, transferred to C.
  void check_transferred(node& n, int code) const {
    const auto* e = n.env->last(event_kind::call_transferred);
    REQUIRE(e != nullptr);
    CHECK(e->code == code);
    CHECK(e->reason == "sip:1003@sipfleet.test");
    REQUIRE(e->record);
    CHECK(e->record->call_id == call_id);
  }
  std::optional<call_record> finished(node& n, std::string_view id) {
    for (auto& r : n->take_finished_calls())
      if (r.call_id == id) return r;
    return std::nullopt;
  }
};

}  // namespace

TEST_CASE("the transferor sends REFER, answers each NOTIFY and hangs up once transferred") {
  transfer_world w({.answer = answer_mode::automatic, .answer_delay = 2s});
  REQUIRE(w.a->transfer(w.call_id, "1003").ok());
  w.net.run_for(10ms);

  const auto refers = w.sent("1001", "REFER");
  REQUIRE(refers.size() == 1);
  const auto& refer = refers[0];
  CHECK(refer.call_id() == w.call_id);
  CHECK(refer.request_uri().text == "sip:1002@10.0.1.1:5101");  // B's Contact: in the dialog
  CHECK(refer.header(sip::header_id::refer_to) == "<sip:1003@sipfleet.test>");
  CHECK(refer.header(sip::header_id::referred_by) == "<sip:1001@sipfleet.test>");
  CHECK(refer.header(sip::header_id::contact) == "<sip:1001@10.0.1.1:5100>");
  CHECK(w.answered("1002", 202, sip::method::refer) == 1);

  // C rings: B's first NOTIFY (100 Trying) is answered; the call to B goes on.
  CHECK(w.sent("1002", "NOTIFY").size() == 1);
  CHECK(w.answered("1001", 200, sip::method::notify) == 1);
  CHECK(w.net.sent_by("1001", "BYE").empty());
  CHECK(w.a->current_calls().at(0).state == call_state::connected);
  CHECK(w.a.env->count(event_kind::call_transferred) == 0);

  // C answers: B's NOTIFY with "SIP/2.0 200 OK" is answered, then A sends BYE.
  w.net.run_for(2s);
  CHECK(w.sent("1002", "NOTIFY").size() == 2);
  CHECK(w.answered("1001", 200, sip::method::notify) == 2);
  CHECK(w.net.sent_by("1001", "BYE").size() == 1);
  CHECK(w.a->active_calls() == 0);
  w.check_transferred(w.a, 200);
  const auto rec = w.finished(w.a, w.call_id);
  REQUIRE(rec);
  CHECK(rec->end_code == 200);
  CHECK(rec->end_reason == "transferred");
  CHECK(rec->ended_by_us);
}

TEST_CASE("the transferee answers 202, NOTIFYs 100 Trying, calls the target, NOTIFYs its 200") {
  transfer_world w;
  REQUIRE(w.a->transfer(w.call_id, "sip:1003@sipfleet.test").ok());
  w.net.run_for(10ms);

  const auto refer_cseq = w.sent("1001", "REFER").at(0).cseq().number;
  const auto notifies = w.sent("1002", "NOTIFY");
  REQUIRE(notifies.size() == 2);
  for (const auto& n : notifies) {
    CHECK(n.call_id() == w.call_id);  // in the old dialog
    CHECK(n.request_uri().text == "sip:1001@10.0.1.1:5100");
    CHECK(n.header(sip::header_id::event) == "refer;id=" + std::to_string(refer_cseq));
    CHECK(n.content_type() == "message/sipfrag");
    CHECK_FALSE(n.header(sip::header_id::contact).empty());
  }
  CHECK(notifies[0].header(sip::header_id::subscription_state) == "active;expires=60");
  CHECK(notifies[0].body() == "SIP/2.0 100 Trying\r\n");
  CHECK(notifies[1].header(sip::header_id::subscription_state) == "terminated;reason=noresource");
  CHECK(notifies[1].body() == "SIP/2.0 200 OK\r\n");

  // The new call: an INVITE out of the dialog to the target, with the REFER's Referred-By.
  const auto invites = w.sent("1002", "INVITE");
  REQUIRE(invites.size() == 1);
  CHECK(invites[0].request_uri().text == "sip:1003@sipfleet.test");
  CHECK(invites[0].call_id() != w.call_id);
  CHECK(invites[0].to().tag.empty());
  CHECK(invites[0].header(sip::header_id::referred_by) == "<sip:1001@sipfleet.test>");

  w.check_transferred(w.b, 202);

  // The transferor's BYE ended the old call; B and C talk.
  const auto old = w.finished(w.b, w.call_id);
  REQUIRE(old);
  CHECK(old->end_reason == "BYE from peer");
  REQUIRE(w.b->current_calls().size() == 1);
  CHECK(w.b->current_calls()[0].peer == "1003");
  CHECK(w.b->current_calls()[0].state == call_state::connected);
  CHECK(w.c->active_calls() == 1);
  CHECK(w.b.env->count(event_kind::call_created) == 2);
}

TEST_CASE("a transfer whose target is busy fails: the NOTIFY says 486 and the call stays up") {
  transfer_world w({.answer = answer_mode::reject, .reject_code = 486});
  REQUIRE(w.a->transfer(w.call_id, "1003").ok());
  w.net.run_for(10ms);
  w.check_final_notify("SIP/2.0 486 Busy Here\r\n", "terminated;reason=noresource");
  CHECK(w.answered("1001", 200, sip::method::notify) == 2);
  CHECK(w.net.sent_by("1001", "BYE").empty());
  CHECK(w.a.env->count(event_kind::call_transferred) == 0);
  REQUIRE(w.a->current_calls().size() == 1);
  CHECK(w.a->current_calls()[0].state == call_state::connected);
  CHECK(w.b->current_calls().size() == 1);  // the old call only: the new one failed

  // The call goes on as any: another transfer may be tried, the hangup is a plain BYE.
  REQUIRE(w.a->hangup(w.call_id).ok());
  w.net.run_for(10ms);
  const auto rec = w.finished(w.a, w.call_id);
  REQUIRE(rec);
  CHECK(rec->end_reason == "BYE");
}

TEST_CASE("a transfer refused with 403 or left without NOTIFY fails and the call stays up") {
  SUBCASE("the transferee's NOTIFYs are lost: the subscription is given up after 64*T1") {
    transfer_world w;
    w.net.drop = [](const std::string& sender, const sip::message& m) {
      return sender == "1002" && m.is_request() && m.method() == sip::method::notify;
    };
    REQUIRE(w.a->transfer(w.call_id, "1003").ok());
    w.net.run_for(10ms);
    CHECK(w.a->transfer(w.call_id, "1003").err().reason == "a transfer is already in progress");
    w.net.run_for(33s);
    CHECK(w.a->current_calls().at(0).state == call_state::connected);
    CHECK(w.a->transfer(w.call_id, "1003").ok());  // the first one is over
  }
  SUBCASE("a REFER in a call that is not yet connected is refused 403") {
    transfer_world w;
    // A hand-made REFER from B into a call B has not answered yet: C calls B (manual).
    w.b->set_behaviour({.answer = answer_mode::manual});
    REQUIRE(w.a->hangup(w.call_id).ok());
    w.net.run_for(10ms);
    REQUIRE(w.c->call("1002", 0s).ok());
    w.net.run_for(10ms);
    REQUIRE(w.b->current_calls().at(0).state == call_state::ringing);
    const auto invite = w.sent("1003", "INVITE").at(0).clone();
    const auto ringing = sip::message::parse(w.net.responses_by("1002", 180).back());
    REQUIRE(ringing.ok());
    const std::string early =
        "REFER sip:1002@10.0.1.1:5101 SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.9;branch=z9hG4bKearly\r\n"
        "Max-Forwards: 70\r\nFrom: " + std::string(invite.header(sip::header_id::from)) +
        "\r\nTo: " + std::string(ringing->header(sip::header_id::to)) +
        "\r\nCall-ID: " + std::string(invite.call_id()) +
        "\r\nCSeq: " + std::to_string(invite.cseq().number + 1) +
        " REFER\r\nRefer-To: <sip:1001@sipfleet.test>\r\nContent-Length: 0\r\n\r\n";
    w.net.inject("1002", early);
    CHECK(w.answered("1002", 403, sip::method::refer) == 1);
    CHECK(w.net.sent_by("1002", "NOTIFY").empty());
  }
}

TEST_CASE("a REFER without exactly one usable Refer-To is answered 400, 416 for another scheme") {
  struct row {
    const char* name;
    const char* headers;
    int code;
  };
  const row rows[] = {
      {"no Refer-To", "", 400},
      {"two Refer-To",
       "Refer-To: <sip:1003@sipfleet.test>\r\nRefer-To: <sip:1004@sipfleet.test>\r\n", 400},
      {"a Refer-To that does not parse", "Refer-To: <sip:1003@sipfleet.test\r\n", 400},
      {"a tel: Refer-To", "Refer-To: <tel:+15551234>\r\n", 416},
  };
  for (const auto& r : rows) {
    CAPTURE(r.name);
    transfer_world w;
    const auto cseq = w.sent("1001", "INVITE").at(0).cseq().number + 1;
    w.net.inject("1002", in_dialog_request(w.net, "1001", "1002",
                                           {.method = "REFER", .cseq = cseq, .extra = r.headers}));
    CHECK(w.answered("1002", r.code, sip::method::refer) == 1);
    CHECK(w.net.sent_by("1002", "NOTIFY").empty());
    CHECK(w.net.sent_by("1002", "INVITE").empty());
    CHECK(w.b.env->count(event_kind::call_transferred) == 0);
    CHECK(w.b->current_calls().at(0).state == call_state::connected);
  }
}

TEST_CASE("the transferor refuses NOTIFYs of no REFER of its own, with a bad body or sipfrag") {
  transfer_world w;
  // B's own NOTIFYs never reach A: A gets hand-made ones.
  w.net.drop = [](const std::string& sender, const sip::message& m) {
    return sender == "1002" && m.is_request() && m.method() == sip::method::notify;
  };
  auto notify = [&](std::uint32_t cseq, std::string_view extra, std::string_view type,
                    std::string_view body) {
    w.net.inject("1001", in_dialog_request(w.net, "1001", "1002",
                                           {.method = "NOTIFY", .cseq = cseq, .from_callee = true,
                                            .extra = extra, .content_type = type, .body = body}));
  };
  const std::string active = "Event: refer\r\nSubscription-State: active;expires=60\r\n";
  notify(1, active, "message/sipfrag", "SIP/2.0 100 Trying\r\n");
  CHECK(w.answered("1001", 481, sip::method::notify) == 1);  // no REFER yet

  REQUIRE(w.a->transfer(w.call_id, "1003").ok());
  w.net.run_for(10ms);
  const auto id = std::to_string(w.sent("1001", "REFER").at(0).cseq().number);
  notify(2, "Event: refer;id=999\r\nSubscription-State: active\r\n", "message/sipfrag",
         "SIP/2.0 100 Trying\r\n");
  CHECK(w.answered("1001", 481, sip::method::notify) == 2);  // another REFER's id
  notify(3, "Event: message-summary\r\nSubscription-State: active\r\n", "message/sipfrag",
         "SIP/2.0 100 Trying\r\n");
  CHECK(w.answered("1001", 481, sip::method::notify) == 3);  // another event package
  notify(4, active, "text/plain", "SIP/2.0 200 OK\r\n");
  CHECK(w.answered("1001", 415, sip::method::notify) == 1);
  notify(5, active, "message/sipfrag", "200 OK\r\n");
  CHECK(w.answered("1001", 400, sip::method::notify) == 1);
  CHECK(w.net.sent_by("1001", "BYE").empty());

  // A good one with the REFER's id: the transfer succeeded.
  notify(6, "Event: refer;id=" + id + "\r\nSubscription-State: terminated;reason=noresource\r\n",
         "message/sipfrag;version=2.0", "SIP/2.0 200 OK\r\nContact: <sip:1003@10.0.1.1>\r\n");
  CHECK(w.answered("1001", 200, sip::method::notify) == 1);
  CHECK(w.a.env->count(event_kind::call_transferred) == 1);
  CHECK(w.net.sent_by("1001", "BYE").size() == 1);
}

TEST_CASE("the transferee's subscription runs out while the target rings: reason=timeout") {
  transfer_world w({.answer = answer_mode::manual});
  REQUIRE(w.a->transfer(w.call_id, "1003").ok());
  w.net.run_for(61s);
  w.check_final_notify("SIP/2.0 180 Ringing\r\n", "terminated;reason=timeout");
  CHECK(w.a->current_calls().at(0).state == call_state::connected);
  // C answers later: nothing more is reported, the transferor keeps its call.
  REQUIRE(w.c->answer(w.c->current_calls().at(0).call_id).ok());
  w.net.run_for(10ms);
  CHECK(w.sent("1002", "NOTIFY").size() == 2);
  CHECK(w.net.sent_by("1001", "BYE").empty());
  CHECK(w.b->active_calls() == 2);
}

TEST_CASE("transfer() refuses an unknown call, a ringing call, a bad target, a second transfer") {
  transfer_world w({.answer = answer_mode::manual});
  const auto unknown = w.a->transfer("no-such-call", "1003");
  REQUIRE_FALSE(unknown.ok());
  CHECK(unknown.err().reason == "no such call");

  const auto ringing_id = w.b->call("1003", 0s);  // C rings, manual answer
  REQUIRE(ringing_id.ok());
  w.net.run_for(10ms);
  const auto ringing = w.b->transfer(*ringing_id, "1001");
  REQUIRE_FALSE(ringing.ok());
  CHECK(ringing.err().reason == "the call is not connected");

  const auto bad = w.a->transfer(w.call_id, "http://example.com/");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.err().reason == "the transfer target is not a SIP URI");
  CHECK(w.a->transfer(w.call_id, "").err().reason == "empty transfer target");
  CHECK(w.net.sent_by("1001", "REFER").empty());

  REQUIRE(w.a->transfer(w.call_id, "1004").ok());
  CHECK(w.a->transfer(w.call_id, "1004").err().reason == "a transfer is already in progress");
}
