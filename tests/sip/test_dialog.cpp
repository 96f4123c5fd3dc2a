// Dialogs (RFC 3261 §12): creation by UAC and UAS, in-dialog requests with loose and strict
// routing (§12.2.1.1), the ACK for a 2xx (§13.2.2.4), CSeq ordering and target refresh
// (§12.2.2), and dialog-id matching. Alice (10.0.0.1) calls Bob (10.0.0.2) through two
// record-routing proxies p1 (Alice's side) and p2 (Bob's side).
#include <doctest/doctest.h>

#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "sip/builder.hpp"
#include "sip/dialog.hpp"
#include "sip/identifiers.hpp"
#include "sip/message.hpp"
#include "sip_test_util.hpp"

using namespace sipfleet::sip;
using sipfleet::test::crlf;
using sipfleet::test::parse_ok;

namespace {

dialog must(result<dialog> r) {
  REQUIRE_MESSAGE(r.ok(), (r.ok() ? std::string() : r.err().reason));
  return std::move(r).value();
}

std::vector<std::string_view> values(const message& m, header_id id) {
  std::vector<std::string_view> out;
  m.for_each(id, [&](std::string_view v) { out.push_back(v); });
  return out;
}

// Inserts header lines right after the start line, as a proxy adding Via/Record-Route would.
std::string insert_headers(std::string_view bytes, std::string_view lines) {
  const auto eol = bytes.find("\r\n") + 2;
  std::string out(bytes.substr(0, eol));
  out.append(crlf(lines)).append(bytes.substr(eol));
  return out;
}

// One call set up through two proxies: Alice's INVITE as sent and as Bob receives it, and
// Bob's responses as Alice receives them.
struct call {
  random_source rng{2024};
  std::string alice_tag = make_tag(rng);
  std::string bob_tag = make_tag(rng);
  std::string call_id = make_call_id(rng, "10.0.0.1");
  std::string invite_sent = build_request(
      {.method = method::invite,
       .request_uri = "sip:1002@example.com",
       .via = {.host = "10.0.0.1", .port = 5062, .branch = make_branch(rng), .rport = true},
       .from = "\"Alice\" <sip:1001@example.com>",
       .from_tag = alice_tag,
       .to = "<sip:1002@example.com>",
       .call_id = call_id,
       .cseq = 100,
       .contact = "<sip:1001@10.0.0.1:5062>",
       .content_type = "application/sdp",
       .body = "v=0\r\n"});
  // p1 then p2 record-route: the last proxy's entry is on top.
  std::string invite_received = insert_headers(invite_sent,
                                               "Via: SIP/2.0/UDP p2.example.com;branch=z9hG4bKp2\n"
                                               "Via: SIP/2.0/UDP p1.example.com;branch=z9hG4bKp1\n"
                                               "Record-Route: <sip:p2.example.com;lr>\n"
                                               "Record-Route: <sip:p1.example.com;lr>\n");
  message invite = parse_ok(invite_sent);
  message incoming = parse_ok(invite_received);

  std::string response(int status, std::string_view contact) const {
    return build_response(incoming, {.status = status, .to_tag = bob_tag, .contact = contact});
  }
};

const via_spec k_alice_via{.host = "10.0.0.1", .port = 5062, .branch = "z9hG4bKnext"};

}  // namespace

TEST_CASE(
    "a UAC dialog is early on a 180 with a To tag, confirmed on the 200, route set reversed") {
  call c;
  const auto ringing = parse_ok(c.response(180, "<sip:1002@10.0.0.2:5070>"));
  auto d = must(dialog::from_uac(c.invite, ringing));
  CHECK(d.is_uac());
  CHECK(d.state() == dialog_state::early);
  CHECK(d.call_id() == c.call_id);
  CHECK(d.local_tag() == c.alice_tag);
  CHECK(d.remote_tag() == c.bob_tag);
  CHECK(d.local_uri() == "sip:1001@example.com");
  CHECK(d.remote_uri() == "sip:1002@example.com");
  CHECK(d.local_cseq() == 100u);
  CHECK_FALSE(d.remote_cseq().has_value());
  CHECK(d.remote_target() == "sip:1002@10.0.0.2:5070");
  CHECK_FALSE(d.secure());
  // §12.1.2: Record-Route in reverse order: the proxy nearest to us first.
  REQUIRE(d.route_set().size() == 2);
  CHECK(d.route_set()[0] == "<sip:p1.example.com;lr>");
  CHECK(d.route_set()[1] == "<sip:p2.example.com;lr>");

  const auto ok = parse_ok(c.response(200, "<sip:1002@10.0.0.2:5060>"));
  CHECK(d.matches(ok));
  CHECK(d.on_response(ok) == dialog_state::confirmed);
  CHECK(d.state() == dialog_state::confirmed);
  CHECK(d.remote_target() == "sip:1002@10.0.0.2:5060");
  CHECK(d.route_set().size() == 2);
  CHECK(d.route_set()[0] == "<sip:p1.example.com;lr>");
}

TEST_CASE("an early dialog from a 180 without Contact targets the INVITE's Request-URI") {
  call c;
  auto d = must(dialog::from_uac(c.invite, parse_ok(c.response(180, {}))));
  CHECK(d.remote_target() == "sip:1002@example.com");
  CHECK(d.on_response(parse_ok(c.response(183, "<sip:1002@10.0.0.2:5070>"))) ==
        dialog_state::early);
  CHECK(d.remote_target() == "sip:1002@10.0.0.2:5070");
}

TEST_CASE("a 200 creates a confirmed UAC dialog at once") {
  call c;
  const auto d = must(dialog::from_uac(c.invite, parse_ok(c.response(200, "sip:1002@10.0.0.2"))));
  CHECK(d.state() == dialog_state::confirmed);
  CHECK(d.remote_target() == "sip:1002@10.0.0.2");
}

TEST_CASE("no dialog comes from a provisional response without a To tag, a 100 or a failure") {
  call c;
  const auto no_tag = parse_ok(build_response(c.incoming, {.status = 180}));
  CHECK_FALSE(dialog::from_uac(c.invite, no_tag).ok());
  CHECK_FALSE(dialog::from_uac(c.invite, parse_ok(c.response(100, {}))).ok());
  CHECK_FALSE(dialog::from_uac(c.invite, parse_ok(c.response(486, {}))).ok());
}

TEST_CASE("a UAS dialog from an INVITE keeps Record-Route in order and the INVITE's CSeq") {
  call c;
  auto d = must(dialog::from_uas(c.incoming, c.bob_tag, 180));
  CHECK_FALSE(d.is_uac());
  CHECK(d.state() == dialog_state::early);
  CHECK(d.call_id() == c.call_id);
  CHECK(d.local_tag() == c.bob_tag);
  CHECK(d.remote_tag() == c.alice_tag);
  CHECK(d.local_uri() == "sip:1002@example.com");
  CHECK(d.remote_uri() == "sip:1001@example.com");
  CHECK(d.remote_cseq() == 100u);
  CHECK_FALSE(d.local_cseq().has_value());  // §12.1.1: empty until Bob sends a request
  CHECK(d.remote_target() == "sip:1001@10.0.0.1:5062");
  REQUIRE(d.route_set().size() == 2);
  CHECK(d.route_set()[0] == "<sip:p2.example.com;lr>");
  CHECK(d.route_set()[1] == "<sip:p1.example.com;lr>");
  CHECK(d.on_response_sent(200) == dialog_state::confirmed);
  CHECK_FALSE(dialog::from_uas(c.incoming, "", 200).ok());

  // Bob's first request (a BYE) starts the local CSeq and goes to Alice via p2 then p1.
  const auto bye = parse_ok(d.build_request({.method = method::bye, .via = k_alice_via}));
  CHECK(bye.request_uri().text == "sip:1001@10.0.0.1:5062");
  CHECK(values(bye, header_id::route) ==
        std::vector<std::string_view>{"<sip:p2.example.com;lr>", "<sip:p1.example.com;lr>"});
  CHECK(bye.from().tag == c.bob_tag);
  CHECK(bye.to().tag == c.alice_tag);
  CHECK(bye.to().display == "Alice");
  CHECK(d.local_cseq() == bye.cseq().number);
}

TEST_CASE("a BYE through loose routers goes to the remote target with the route set as Route") {
  call c;
  auto d = must(dialog::from_uac(c.invite, parse_ok(c.response(200, "<sip:1002@10.0.0.2>"))));
  const auto bye = parse_ok(d.build_request({.method = method::bye, .via = k_alice_via}));
  // §12.2.1.1: first route has ;lr -> Request-URI = remote target, Route = route set.
  CHECK(bye.method() == method::bye);
  CHECK(bye.request_uri().text == "sip:1002@10.0.0.2");
  CHECK(values(bye, header_id::route) ==
        std::vector<std::string_view>{"<sip:p1.example.com;lr>", "<sip:p2.example.com;lr>"});
  CHECK(bye.from().uri.text == "sip:1001@example.com");
  CHECK(bye.from().display == "Alice");
  CHECK(bye.from().tag == c.alice_tag);
  CHECK(bye.to().uri.text == "sip:1002@example.com");
  CHECK(bye.to().tag == c.bob_tag);
  CHECK(bye.call_id() == c.call_id);
  CHECK(bye.cseq().number == 101u);
  CHECK(bye.cseq().method == method::bye);
  CHECK(bye.top_via().branch == "z9hG4bKnext");
  CHECK(bye.max_forwards() == 70u);
  CHECK(bye.content_length() == 0u);
}

TEST_CASE("a BYE through a strict router goes to it, the remote target last in Route") {
  call c;
  c.invite_received = insert_headers(c.invite_sent,
                                     "Record-Route: <sip:p2.example.com;lr>\n"
                                     "Record-Route: <sip:p1.example.com;maddr=10.9.9.9>\n");
  c.incoming = parse_ok(c.invite_received);
  auto d = must(dialog::from_uac(c.invite, parse_ok(c.response(200, "<sip:1002@10.0.0.2>"))));
  REQUIRE(d.route_set().size() == 2);
  CHECK(d.route_set()[0] == "<sip:p1.example.com;maddr=10.9.9.9>");
  const auto bye = parse_ok(d.build_request({.method = method::bye, .via = k_alice_via}));
  // §12.2.1.1: no ;lr -> Request-URI = first route's URI; Route = the rest of the route set,
  // then the remote target.
  CHECK(bye.request_uri().text == "sip:p1.example.com;maddr=10.9.9.9");
  CHECK(values(bye, header_id::route) ==
        std::vector<std::string_view>{"<sip:p2.example.com;lr>", "<sip:1002@10.0.0.2>"});
}

TEST_CASE("without a route set an in-dialog request goes to the remote target with no Route") {
  call c;
  c.incoming = parse_ok(c.invite_sent);
  auto d = must(dialog::from_uac(c.invite, parse_ok(c.response(200, "<sip:1002@10.0.0.2>"))));
  CHECK(d.route_set().empty());
  const auto info = parse_ok(d.build_request({.method = method::info, .via = k_alice_via}));
  CHECK(info.request_uri().text == "sip:1002@10.0.0.2");
  CHECK(info.count(header_id::route) == 0);
}

TEST_CASE(
    "the ACK for a 2xx keeps the INVITE's CSeq number, follows the route set, may carry a body") {
  call c;
  auto d = must(dialog::from_uac(c.invite, parse_ok(c.response(200, "<sip:1002@10.0.0.2>"))));
  const auto ack = parse_ok(d.build_ack({.via = k_alice_via}));
  CHECK(ack.method() == method::ack);
  CHECK(ack.cseq().number == 100u);
  CHECK(ack.cseq().method == method::ack);
  CHECK(ack.request_uri().text == "sip:1002@10.0.0.2");
  CHECK(ack.top_via().branch == "z9hG4bKnext");  // §13.2.2.4: its own transaction
  CHECK(ack.top_via().branch != c.invite.top_via().branch);
  CHECK(values(ack, header_id::route).size() == 2);
  CHECK(ack.to().tag == c.bob_tag);
  CHECK(ack.content_length() == 0u);
  CHECK(d.local_cseq() == 100u);  // an ACK takes no new number

  // A re-INVITE gets a new number; its ACK carries that number, with the answer SDP.
  const auto reinvite = parse_ok(d.build_request(
      {.method = method::invite, .via = k_alice_via, .contact = "<sip:1001@10.0.0.1:5062>"}));
  CHECK(reinvite.cseq().number == 101u);
  const auto ack2 = parse_ok(
      d.build_ack({.via = k_alice_via, .content_type = "application/sdp", .body = "v=0\r\n"}));
  CHECK(ack2.cseq().number == 101u);
  CHECK(ack2.body() == "v=0\r\n");
  CHECK(ack2.content_length() == 5u);
  CHECK(parse_ok(d.build_ack({.via = k_alice_via, .invite_cseq = 100})).cseq().number == 100u);
}

TEST_CASE("the local CSeq goes up by one for each in-dialog request") {
  call c;
  auto d = must(dialog::from_uac(c.invite, parse_ok(c.response(200, "<sip:1002@10.0.0.2>"))));
  std::uint32_t expected = 101;
  for (method m :
       {method::invite, method::refer, method::info, method::notify, method::update, method::bye}) {
    const auto req = parse_ok(d.build_request({.method = m, .via = k_alice_via}));
    CHECK(req.method() == m);
    CHECK(req.cseq().method == m);
    CHECK(req.cseq().number == expected);
    CHECK(d.local_cseq() == expected);
    ++expected;
  }
}

TEST_CASE("a request with a CSeq lower than the remote CSeq is out of order (§12.2.2: 500)") {
  call c;
  auto alice = must(dialog::from_uac(c.invite, parse_ok(c.response(200, "<sip:1002@10.0.0.2>"))));
  auto bob = must(dialog::from_uas(c.incoming, c.bob_tag, 200));
  CHECK(bob.remote_cseq() == 100u);
  const auto info = parse_ok(alice.build_request({.method = method::info, .via = k_alice_via}));
  const auto bye = parse_ok(alice.build_request({.method = method::bye, .via = k_alice_via}));
  CHECK(bob.matches(bye));
  CHECK(bob.on_request(bye) == request_verdict::accept);
  CHECK(bob.remote_cseq() == 102u);
  CHECK(bob.on_request(info) == request_verdict::out_of_order);
  CHECK(bob.remote_cseq() == 102u);
  CHECK(bob.on_request(bye) == request_verdict::accept);  // equal is not lower
  // The ACK for the initial INVITE carries 100 but is never out of order.
  CHECK(bob.on_request(parse_ok(alice.build_ack({.via = k_alice_via}))) == request_verdict::accept);
  CHECK(bob.remote_cseq() == 102u);

  // A UAC dialog has no remote CSeq until the peer sends a request; any number is accepted.
  CHECK_FALSE(alice.remote_cseq().has_value());
  const auto bobs_bye = parse_ok(bob.build_request({.method = method::bye, .via = k_alice_via}));
  CHECK(alice.on_request(bobs_bye) == request_verdict::accept);
  CHECK(alice.remote_cseq() == bobs_bye.cseq().number);
}

TEST_CASE("a re-INVITE's Contact refreshes the remote target; an INFO's does not") {
  call c;
  auto alice = must(dialog::from_uac(c.invite, parse_ok(c.response(200, "<sip:1002@10.0.0.2>"))));
  auto bob = must(dialog::from_uas(c.incoming, c.bob_tag, 200));
  const auto info = parse_ok(alice.build_request(
      {.method = method::info, .via = k_alice_via, .contact = "<sip:1001@10.0.0.99>"}));
  CHECK(bob.on_request(info) == request_verdict::accept);
  CHECK(bob.remote_target() == "sip:1001@10.0.0.1:5062");
  const auto reinvite =
      parse_ok(alice.build_request({.method = method::invite,
                                    .via = k_alice_via,
                                    .contact = "\"Alice\" <sip:1001@10.0.0.77:5064>"}));
  CHECK(bob.on_request(reinvite) == request_verdict::accept);
  CHECK(bob.remote_target() == "sip:1001@10.0.0.77:5064");
  CHECK(
      parse_ok(bob.build_request({.method = method::bye, .via = k_alice_via})).request_uri().text ==
      "sip:1001@10.0.0.77:5064");
  // The other way: a 2xx to Alice's re-INVITE refreshes Alice's remote target (§12.2.1.2).
  const auto ok =
      parse_ok(build_response(reinvite, {.status = 200, .contact = "<sip:1002@10.0.0.55>"}));
  CHECK(alice.on_response(ok) == dialog_state::confirmed);
  CHECK(alice.remote_target() == "sip:1002@10.0.0.55");
}

TEST_CASE("messages match their dialog by Call-ID and tags seen from our side") {
  call c;
  const auto ok = parse_ok(c.response(200, "<sip:1002@10.0.0.2>"));
  auto alice = must(dialog::from_uac(c.invite, ok));
  auto bob = must(dialog::from_uas(c.incoming, c.bob_tag, 200));
  // A response we receive: local = From tag, remote = To tag.
  CHECK(incoming_dialog_id(ok) == dialog_id_view{c.call_id, c.alice_tag, c.bob_tag});
  CHECK(alice.matches(ok));
  // A request we receive: local = To tag, remote = From tag.
  const auto bye = parse_ok(alice.build_request({.method = method::bye, .via = k_alice_via}));
  CHECK(incoming_dialog_id(bye) == dialog_id_view{c.call_id, c.bob_tag, c.alice_tag});
  CHECK(bob.matches(bye));
  CHECK_FALSE(alice.matches(bye));  // Alice's own request is not one she receives
  CHECK(alice.id() == dialog_id_view{c.call_id, c.alice_tag, c.bob_tag});
  CHECK(bob.id() == dialog_id_view{c.call_id, c.bob_tag, c.alice_tag});
  // A forked 200 with another To tag is another dialog.
  const auto forked = parse_ok(
      build_response(c.incoming, {.status = 200, .to_tag = "fork2", .contact = "sip:x@y"}));
  CHECK_FALSE(alice.matches(forked));

  // A map keyed by owned ids is searched with the views, as a 481 check would.
  std::unordered_map<dialog_id, int, dialog_id_hash, dialog_id_equal> dialogs;
  dialogs.emplace(bob.owned_id(), 1);
  CHECK(dialogs.find(incoming_dialog_id(bye)) != dialogs.end());
  const auto stray = parse_ok(build_request({.method = method::bye,
                                             .request_uri = "sip:1002@10.0.0.2",
                                             .via = k_alice_via,
                                             .from = "sip:1001@example.com",
                                             .from_tag = c.alice_tag,
                                             .to = "sip:1002@example.com",
                                             .to_tag = "unknown",
                                             .call_id = c.call_id}));
  CHECK(dialogs.find(incoming_dialog_id(stray)) == dialogs.end());  // -> 481
}

TEST_CASE("a failure to the INVITE ends an early dialog; 481 to a BYE ends a confirmed one") {
  call c;
  auto early = must(dialog::from_uac(c.invite, parse_ok(c.response(183, "<sip:1002@10.0.0.2>"))));
  CHECK(early.on_response(parse_ok(c.response(486, {}))) == dialog_state::terminated);

  auto confirmed =
      must(dialog::from_uac(c.invite, parse_ok(c.response(200, "<sip:1002@10.0.0.2>"))));
  const auto bye = parse_ok(confirmed.build_request({.method = method::bye, .via = k_alice_via}));
  CHECK(confirmed.on_response(parse_ok(answer(bye, 487))) == dialog_state::confirmed);
  CHECK(confirmed.on_response(parse_ok(answer(bye, 481))) == dialog_state::terminated);

  auto uas = must(dialog::from_uas(c.incoming, c.bob_tag, 180));
  CHECK(uas.on_response_sent(486) == dialog_state::terminated);
}

TEST_CASE("the secure flag is set for a SIPS Request-URI sent over TLS (§12.1.2)") {
  random_source rng(5);
  const std::string tag = make_tag(rng);
  const auto invite = parse_ok(build_request(
      {.method = method::invite,
       .request_uri = "sips:1002@example.com",
       .via = {.transport = via_transport::tls, .host = "10.0.0.1", .branch = make_branch(rng)},
       .from = "sips:1001@example.com",
       .from_tag = tag,
       .to = "sips:1002@example.com",
       .call_id = "sec1",
       .contact = "sips:1001@10.0.0.1"}));
  const auto ok = parse_ok(answer(invite, 200, "b"));
  CHECK(must(dialog::from_uac(invite, ok)).secure());
  CHECK(must(dialog::from_uas(invite, "b", 200)).secure());
  // A sip: Request-URI over UDP: not secure.
  call c;
  CHECK_FALSE(must(dialog::from_uas(c.incoming, c.bob_tag, 200)).secure());
}
