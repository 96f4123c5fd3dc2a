// Transaction matching: RFC 3261 §17.1.3 (responses to client transactions), §17.2.3 (requests
// to server transactions, with the RFC 2543 fallback) and §9.2 (CANCEL).
#include <doctest/doctest.h>

#include <string>
#include <unordered_map>

#include "sip/message.hpp"
#include "sip/transaction/matching.hpp"
#include "sip_test_util.hpp"

namespace sipfleet::sip::transaction {
namespace {

sip::via make_via(std::string_view host, std::uint16_t port, std::string_view branch) {
  sip::via v;
  v.protocol = "SIP/2.0";
  v.transport = "UDP";
  v.host = host;
  v.port = port;
  v.branch = branch;
  return v;
}

sip::cseq make_cseq(std::uint32_t n, sip::method m, std::string_view text = {}) {
  sip::cseq c;
  c.number = n;
  c.method = m;
  c.method_text = text;
  return c;
}

request_identity request(sip::method m, std::string_view branch,
                         std::string_view host = "pc33.example.com", std::uint16_t port = 5060) {
  request_identity r;
  r.method = m;
  r.top_via = make_via(host, port, branch);
  r.request_uri = "sip:bob@example.com";
  r.from_tag = "1928301774";
  r.call_id = "a84b4c76e66710";
  r.cseq_number = 314159;
  return r;
}

TEST_CASE("a response matches its client transaction by top Via branch and CSeq method") {
  const client_key invite = client_key_for_request("z9hG4bK776asdhds", method::invite);
  CHECK(client_key_for_response("z9hG4bK776asdhds", make_cseq(1, method::invite)) == invite);
  CHECK_FALSE(client_key_for_response("z9hG4bK776asdhdX", make_cseq(1, method::invite)) == invite);
  CHECK_FALSE(client_key_for_response("z9hG4bK776asdhds", make_cseq(1, method::bye)) == invite);
  // The CSeq number plays no part in §17.1.3.
  CHECK(client_key_for_response("z9hG4bK776asdhds", make_cseq(2, method::invite)) == invite);
}

TEST_CASE("a CANCEL is its own client transaction with the INVITE's branch") {
  const client_key invite = client_key_for_request("z9hG4bKabc", method::invite);
  const client_key cancel = client_key_for_request("z9hG4bKabc", method::cancel);
  CHECK_FALSE(invite == cancel);
  // The 200 to the CANCEL finds the CANCEL; the 487 (CSeq INVITE) finds the INVITE.
  CHECK(client_key_for_response("z9hG4bKabc", make_cseq(1, method::cancel)) == cancel);
  CHECK(client_key_for_response("z9hG4bKabc", make_cseq(1, method::invite)) == invite);
  // The ACK for a non-2xx is part of the INVITE's transaction.
  CHECK(client_key_for_request("z9hG4bKabc", method::ack) == invite);
}

TEST_CASE("extension methods are told apart by their text") {
  CHECK(client_key_for_request("z9hG4bK1", method::unknown, "FOO") ==
        client_key_for_response("z9hG4bK1", make_cseq(1, method::unknown, "FOO")));
  CHECK_FALSE(client_key_for_request("z9hG4bK1", method::unknown, "FOO") ==
              client_key_for_request("z9hG4bK1", method::unknown, "BAR"));
}

TEST_CASE("a retransmitted INVITE matches its server transaction by branch, sent-by and method") {
  const server_key k = server_key_for(request(method::invite, "z9hG4bKnashds8"));
  CHECK(k.rfc3261);
  CHECK(server_key_for(request(method::invite, "z9hG4bKnashds8")) == k);
  CHECK(server_key_for(request(method::invite, "z9hG4bKnashds8", "PC33.Example.COM")) == k);
  CHECK_FALSE(server_key_for(request(method::invite, "z9hG4bKnashds8", "pc34.example.com")) == k);
  CHECK_FALSE(server_key_for(request(method::invite, "z9hG4bKnashds8", "pc33.example.com", 5070)) ==
              k);
  CHECK_FALSE(server_key_for(request(method::invite, "z9hG4bKnashds9")) == k);
  CHECK_FALSE(server_key_for(request(method::options, "z9hG4bKnashds8")) == k);
  // RFC 3261 keys ignore the RFC 2543 fields.
  request_identity other_call = request(method::invite, "z9hG4bKnashds8");
  other_call.call_id = "different";
  CHECK(server_key_for(other_call) == k);
}

TEST_CASE("an ACK for a non-2xx matches the INVITE server transaction") {
  const server_key invite = server_key_for(request(method::invite, "z9hG4bKnashds8"));
  request_identity ack = request(method::ack, "z9hG4bKnashds8");
  ack.to_tag = "a6c85cf";
  CHECK(server_key_for(ack) == invite);
  CHECK_FALSE(server_key_for(request(method::ack, "z9hG4bKnewbranch")) == invite);
}

TEST_CASE("a CANCEL is its own server transaction but matches the INVITE's for 487 handling") {
  const server_key invite = server_key_for(request(method::invite, "z9hG4bKnashds8"));
  const request_identity cancel = request(method::cancel, "z9hG4bKnashds8");
  CHECK_FALSE(server_key_for(cancel) == invite);
  CHECK(server_key_for(cancel).method == method::cancel);
  CHECK(cancelled_invite_key(cancel) == invite);
  CHECK_FALSE(cancelled_invite_key(request(method::cancel, "z9hG4bKother")) == invite);
}

TEST_CASE(
    "RFC 2543 fallback: without the magic cookie, requests match by Request-URI, tags, Call-ID, "
    "CSeq and top Via") {
  request_identity invite = request(method::invite, "");
  const server_key k = server_key_for(invite);
  CHECK_FALSE(k.rfc3261);
  CHECK(server_key_for(invite) == k);

  SUBCASE("a branch without z9hG4bK is not trusted either") {
    const server_key old = server_key_for(request(method::invite, "1a2b3c"));
    CHECK_FALSE(old.rfc3261);
    CHECK(old.call_id == "a84b4c76e66710");
  }
  SUBCASE("each field counts") {
    request_identity r = invite;
    r.call_id = "other";
    CHECK_FALSE(server_key_for(r) == k);
    r = invite;
    r.from_tag = "other";
    CHECK_FALSE(server_key_for(r) == k);
    r = invite;
    r.cseq_number = 314160;
    CHECK_FALSE(server_key_for(r) == k);
    r = invite;
    r.request_uri = "sip:carol@example.com";
    CHECK_FALSE(server_key_for(r) == k);
    r = invite;
    r.top_via.host = "elsewhere.example.com";
    CHECK_FALSE(server_key_for(r) == k);
  }
  SUBCASE("the ACK matches the INVITE, with the To tag of the response") {
    request_identity ack = invite;
    ack.method = method::ack;
    ack.to_tag = "a6c85cf";
    CHECK(server_key_for(ack) == k);
    CHECK(rfc2543_to_tag_matches(ack, "", "a6c85cf"));
    CHECK_FALSE(rfc2543_to_tag_matches(ack, "", "zzz"));
  }
  SUBCASE("a retransmitted INVITE has the INVITE's To tag") {
    CHECK(rfc2543_to_tag_matches(invite, "", "a6c85cf"));
    request_identity tagged = invite;
    tagged.to_tag = "x";
    CHECK_FALSE(rfc2543_to_tag_matches(tagged, "", "a6c85cf"));
  }
  SUBCASE("a CANCEL finds the INVITE it cancels") {
    request_identity cancel = invite;
    cancel.method = method::cancel;
    CHECK_FALSE(server_key_for(cancel) == k);
    CHECK(cancelled_invite_key(cancel) == k);
  }
}

TEST_CASE("transaction keys work as hash map keys") {
  std::unordered_map<server_key, int, server_key_hash> servers;
  servers[server_key_for(request(method::invite, "z9hG4bK1"))] = 1;
  servers[server_key_for(request(method::cancel, "z9hG4bK1"))] = 2;
  servers[server_key_for(request(method::invite, ""))] = 3;
  CHECK(servers.size() == 3);
  CHECK(servers.at(server_key_for(request(method::ack, "z9hG4bK1"))) == 1);
  CHECK(servers.at(cancelled_invite_key(request(method::cancel, "z9hG4bK1"))) == 1);
  CHECK(servers.at(server_key_for(request(method::ack, ""))) == 3);

  std::unordered_map<client_key, int, client_key_hash> clients;
  clients[client_key_for_request("z9hG4bK1", method::invite)] = 1;
  clients[client_key_for_request("z9hG4bK1", method::cancel)] = 2;
  CHECK(clients.at(client_key_for_response("z9hG4bK1", make_cseq(7, method::cancel))) == 2);
}

TEST_CASE("keys taken from parsed messages: INVITE, its ACK, its CANCEL and a response") {
  const auto invite =
      message::parse(test::crlf("INVITE sip:bob@example.com SIP/2.0\n"
                                "Via: SIP/2.0/UDP pc33.example.com;branch=z9hG4bKnashds8\n"
                                "Max-Forwards: 70\n"
                                "To: Bob <sip:bob@example.com>\n"
                                "From: Alice <sip:alice@example.com>;tag=1928301774\n"
                                "Call-ID: a84b4c76e66710\n"
                                "CSeq: 314159 INVITE\n"
                                "Content-Length: 0\n\n"));
  const auto ack =
      message::parse(test::crlf("ACK sip:bob@example.com SIP/2.0\n"
                                "Via: SIP/2.0/UDP PC33.example.com;branch=z9hG4bKnashds8\n"
                                "Max-Forwards: 70\n"
                                "To: Bob <sip:bob@example.com>;tag=a6c85cf\n"
                                "From: Alice <sip:alice@example.com>;tag=1928301774\n"
                                "Call-ID: a84b4c76e66710\n"
                                "CSeq: 314159 ACK\n"
                                "Content-Length: 0\n\n"));
  const auto cancel =
      message::parse(test::crlf("CANCEL sip:bob@example.com SIP/2.0\n"
                                "Via: SIP/2.0/UDP pc33.example.com;branch=z9hG4bKnashds8\n"
                                "Max-Forwards: 70\n"
                                "To: Bob <sip:bob@example.com>\n"
                                "From: Alice <sip:alice@example.com>;tag=1928301774\n"
                                "Call-ID: a84b4c76e66710\n"
                                "CSeq: 314159 CANCEL\n"
                                "Content-Length: 0\n\n"));
  const auto response =
      message::parse(test::crlf("SIP/2.0 487 Request Terminated\n"
                                "Via: SIP/2.0/UDP pc33.example.com;branch=z9hG4bKnashds8\n"
                                "To: Bob <sip:bob@example.com>;tag=a6c85cf\n"
                                "From: Alice <sip:alice@example.com>;tag=1928301774\n"
                                "Call-ID: a84b4c76e66710\n"
                                "CSeq: 314159 INVITE\n"
                                "Content-Length: 0\n\n"));
  REQUIRE(invite.ok());
  REQUIRE(ack.ok());
  REQUIRE(cancel.ok());
  REQUIRE(response.ok());

  const server_key k = server_key_for(*invite);
  CHECK(k.rfc3261);
  CHECK(server_key_for(*ack) == k);
  CHECK_FALSE(server_key_for(*cancel) == k);
  CHECK(cancelled_invite_key(*cancel) == k);
  CHECK(client_key_for_response(*response) ==
        client_key_for_request(invite->top_via().branch, invite->method()));
}

}  // namespace
}  // namespace sipfleet::sip::transaction
