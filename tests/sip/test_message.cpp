// The SIP message parser on messy-but-valid input, framing (datagram and stream), limits and
// errors that must stay values.
#include <doctest/doctest.h>

#include <string>

#include "sip/message.hpp"
#include "sip_test_util.hpp"

using namespace sipfleet::sip;
using sipfleet::test::crlf;

namespace {

const std::string k_invite = crlf(
    "INVITE sip:1002@127.0.0.1:5060 SIP/2.0\n"
    "Via: SIP/2.0/UDP 127.0.0.2:5062;branch=z9hG4bK776asdhds;rport\n"
    "Max-Forwards: 70\n"
    "To: <sip:1002@127.0.0.1>\n"
    "From: \"Phone 1001\" <sip:1001@127.0.0.1>;tag=1928301774\n"
    "Call-ID: a84b4c76e66710@127.0.0.2\n"
    "CSeq: 314159 INVITE\n"
    "Contact: <sip:1001@127.0.0.2:5062>\n"
    "Content-Type: application/sdp\n"
    "Content-Length: 5\n"
    "\n"
    "v=0\n");

}  // namespace

TEST_CASE("a typical INVITE parses with its key headers decoded") {
  const auto r = message::parse(k_invite);
  REQUIRE(r.ok());
  const auto& m = *r;
  CHECK(m.is_request());
  CHECK(m.method() == method::invite);
  CHECK(m.request_uri().user == "1002");
  CHECK(m.request_uri().port == 5060);
  CHECK(m.top_via().host == "127.0.0.2");
  CHECK(m.top_via().port == 5062);
  CHECK(m.top_via().branch == "z9hG4bK776asdhds");
  CHECK(m.top_via().rfc3261_branch());
  CHECK(m.top_via().rport);
  CHECK(m.from().display == "Phone 1001");
  CHECK(m.from().tag == "1928301774");
  CHECK(m.to().tag.empty());
  CHECK(m.call_id() == "a84b4c76e66710@127.0.0.2");
  CHECK(m.cseq().number == 314159u);
  CHECK(m.max_forwards() == 70u);
  CHECK(m.body() == "v=0\r\n");
  CHECK(m.headers().size() == 9);
}

TEST_CASE("compact forms, mixed-case names and odd white space parse like the long forms") {
  const auto text = crlf(
      "OPTIONS sip:1002@example.com SIP/2.0\n"
      "v :SIP / 2.0 / TCP  10.0.0.1 : 5070 ; branch = z9hG4bKabc ; received=10.0.0.9 ; rport=5071\n"
      "MAX-FORWARDS:\t70\n"
      "t: sip:1002@example.com\n"
      "f:    <sip:1001@example.com>  ;  tag  =  x1\n"
      "i: cid-1\n"
      "cSeQ:    7     OPTIONS\n"
      "k: replaces, timer\n"
      "l: 0\n"
      "\n");
  const auto r = message::parse(text);
  REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.err().reason));
  const auto& m = *r;
  CHECK(m.top_via().transport == "TCP");
  CHECK(m.top_via().host == "10.0.0.1");
  CHECK(m.top_via().port == 5070);
  CHECK(m.top_via().branch == "z9hG4bKabc");
  CHECK(m.top_via().received == "10.0.0.9");
  CHECK(m.top_via().rport_value == 5071);
  CHECK(m.max_forwards() == 70u);
  CHECK(m.from().tag == "x1");
  CHECK(m.call_id() == "cid-1");
  CHECK(m.cseq().number == 7u);
  CHECK(m.count(header_id::supported) == 2);
  CHECK(m.header("Supported") == "replaces");
  CHECK(m.header("k") == "replaces");
  CHECK(m.header("call-id") == "cid-1");
}

TEST_CASE("folded header lines join into one value") {
  const auto text = crlf(
      "OPTIONS sip:a@example.com SIP/2.0\n"
      "Via: SIP/2.0/UDP h.example.com\n"
      " ;branch=z9hG4bK1\n"
      "To: <sip:a@example.com>\n"
      "From: <sip:b@example.com>\n"
      "\t;tag=9\n"
      "Call-ID: c\n"
      "CSeq: 1\n"
      "   OPTIONS\n"
      "Subject: first\n"
      "  second\n"
      "\n");
  const auto r = message::parse(text);
  REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.err().reason));
  CHECK(r->top_via().branch == "z9hG4bK1");
  CHECK(r->from().tag == "9");
  CHECK(r->cseq().method == method::options);
  CHECK(r->header(header_id::subject).starts_with("first"));
  CHECK(r->header(header_id::subject).ends_with("second"));
  CHECK(r->header(header_id::subject).find('\n') == std::string_view::npos);
}

TEST_CASE("commas split multi-value headers but not inside quotes or angle brackets") {
  const auto text = crlf(
      "SIP/2.0 200 OK\n"
      "Via: SIP/2.0/UDP a.example.com;branch=z9hG4bK1, SIP/2.0/UDP b.example.com;branch=z9hG4bK2\n"
      "Record-Route: <sip:p1.example.com;lr>, <sip:p2.example.com;lr>\n"
      "Record-Route: <sip:p3.example.com;lr>\n"
      "Contact: \"Smith, John\" <sip:j@h.example.com;a=b,c>;expires=60, <sip:k@h.example.com>\n"
      "To: <sip:j@example.com>;tag=t\n"
      "From: <sip:k@example.com>;tag=f\n"
      "Call-ID: c\n"
      "CSeq: 1 INVITE\n"
      "Date: Sat, 13 Nov 2010 23:29:00 GMT\n"
      "Content-Length: 0\n"
      "\n");
  const auto r = message::parse(text);
  REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.err().reason));
  CHECK(r->count(header_id::via) == 2);
  CHECK(r->count(header_id::record_route) == 3);
  CHECK(r->count(header_id::contact) == 2);
  CHECK(r->count(header_id::date) == 1);
  const auto c = parse_name_addr(r->header(header_id::contact));
  REQUIRE(c.ok());
  CHECK(c->display == "Smith, John");
  CHECK(c->param("expires") == "60");
  CHECK(r->method() == method::invite);
  CHECK(r->status_code() == 200);
  CHECK(r->reason() == "OK");
}

TEST_CASE("a datagram without Content-Length takes the rest of the packet as body") {
  std::string text = k_invite;
  text.replace(text.find("Content-Length: 5\r\n"), 19, "");
  const auto r = message::parse(text);
  REQUIRE(r.ok());
  CHECK_FALSE(r->content_length().has_value());
  CHECK(r->body() == "v=0\r\n");
}

TEST_CASE("on a stream transport a missing Content-Length is an error") {
  std::string text = k_invite;
  text.replace(text.find("Content-Length: 5\r\n"), 19, "");
  const auto r = message::parse(text, {.framing = framing::stream});
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().reason == "missing Content-Length on a stream transport");
}

TEST_CASE("a body shorter than Content-Length is an error on a datagram") {
  std::string text = k_invite;
  text.replace(text.find("Content-Length: 5"), 17, "Content-Length: 40");
  const auto r = message::parse(text);
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().reason == "body shorter than Content-Length");
}

TEST_CASE("messages over the size limit are refused") {
  const auto r = message::parse(k_invite, {.max_size = 100});
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().reason == "message too large");
}

TEST_CASE("CRLFs before the start line are ignored") {
  const auto r = message::parse("\r\n\r\n" + k_invite);
  REQUIRE(r.ok());
  CHECK(r->raw().starts_with("INVITE "));
}

TEST_CASE("stream framing finds message boundaries and waits for more bytes") {
  const std::string two = k_invite + k_invite;
  const auto first = stream_frame_length(two);
  REQUIRE(first.ok());
  CHECK(*first == k_invite.size());
  const auto partial = stream_frame_length(std::string_view(k_invite).substr(0, k_invite.size() - 2));
  REQUIRE(partial.ok());
  CHECK(*partial == 0);
  const auto headers_only = stream_frame_length(std::string_view(k_invite).substr(0, 50));
  REQUIRE(headers_only.ok());
  CHECK(*headers_only == 0);
  const auto keepalive = stream_frame_length("\r\n\r\n" + k_invite);
  REQUIRE(keepalive.ok());
  CHECK(*keepalive == k_invite.size() + 4);
  const auto parsed = message::parse(std::string_view(two).substr(0, *first), {.framing = framing::stream});
  CHECK(parsed.ok());
}

TEST_CASE("stream framing rejects a stream with no or a bad Content-Length") {
  std::string text = k_invite;
  text.replace(text.find("Content-Length: 5"), 17, "Content-Length: x");
  CHECK_FALSE(stream_frame_length(text).ok());
  text.replace(text.find("Content-Length: x\r\n"), 19, "");
  CHECK_FALSE(stream_frame_length(text).ok());
  CHECK_FALSE(stream_frame_length(std::string(70000, 'a'), 65535).ok());
}

TEST_CASE("a clone is a deep copy that outlives the original") {
  auto r = message::parse(k_invite);
  REQUIRE(r.ok());
  message copy = r->clone();
  { auto gone = std::move(r.value()); }
  CHECK(copy.call_id() == "a84b4c76e66710@127.0.0.2");
  CHECK(copy.from().tag == "1928301774");
  CHECK(copy.body() == "v=0\r\n");
}

TEST_CASE("malformed input gives an error value, never a crash") {
  const char* cases[] = {
      "",
      "\r\n",
      "INVITE",
      "INVITE sip:a@b SIP/2.0",
      "INVITE sip:a@b SIP/2.0\r\nVia SIP/2.0/UDP h\r\n\r\n",
      "SIP/2.0\r\n\r\n",
      "SIP/2.0 20 OK\r\n\r\n",
      "SIP/2.0 2000 OK\r\n\r\n",
      "SIP/2.0 099 Low\r\n\r\n",
      "INVITE sip:a@b SIP/2.0\r\n: empty-name\r\n\r\n",
      "INVITE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n\r\n",
      "INVITE sip:a@[::1 SIP/2.0\r\n\r\n",
      "INVITE sip:a@b:99999 SIP/2.0\r\n\r\n",
      "INVITE sip:%zz@b SIP/2.0\r\n\r\n",
      "INVITE sip:@b SIP/2.0\r\n\r\n",
      "INVITE :nothing SIP/2.0\r\n\r\n",
  };
  for (const char* c : cases) {
    INFO("input: " << std::string(c));
    const auto r = message::parse(c);
    CHECK_FALSE(r.ok());
    if (!r.ok()) CHECK_FALSE(r.err().reason.empty());
  }
}

TEST_CASE("a missing mandatory header is named in the error") {
  std::string text = k_invite;
  text.replace(text.find("Call-ID: a84b4c76e66710@127.0.0.2\r\n"), 35, "");
  const auto r = message::parse(text);
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().reason == "missing Call-ID header");
}
