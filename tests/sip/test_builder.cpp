// The request, response and CANCEL builders (RFC 3261 §8.1.1, §8.2.6, §9.1) and the identifier
// generators (§8.1.1.7, §19.3): everything built parses back with message::parse, with the
// values the RFC asks for.
#include <doctest/doctest.h>

#include <array>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

#include "sip/builder.hpp"
#include "sip/identifiers.hpp"
#include "sip/message.hpp"
#include "sip/scan.hpp"
#include "sip_test_util.hpp"

using namespace sipfleet::sip;
using sipfleet::test::crlf;
using sipfleet::test::parse_ok;

namespace {

std::vector<std::string_view> values(const message& m, header_id id) {
  std::vector<std::string_view> out;
  m.for_each(id, [&](std::string_view v) { out.push_back(v); });
  return out;
}

constexpr std::string_view k_sdp =
    "v=0\r\n"
    "o=1001 1 1 IN IP4 10.0.0.1\r\n"
    "s=-\r\n"
    "c=IN IP4 10.0.0.1\r\n"
    "t=0 0\r\n"
    "m=audio 4000 RTP/AVP 0 8\r\n"
    "a=rtpmap:0 PCMU/8000\r\n";

// An INVITE as a UAS receives it after two proxies: three Vias, Record-Route, no To tag.
const std::string k_incoming_invite = crlf(
    "INVITE sip:1002@10.0.0.2:5060 SIP/2.0\n"
    "Via: SIP/2.0/UDP p2.example.com;branch=z9hG4bKp2\n"
    "Via: SIP/2.0/TCP p1.example.com:5070;branch=z9hG4bKp1\n"
    "Via: SIP/2.0/UDP 10.0.0.1:5062;branch=z9hG4bKua;rport=5062;received=192.0.2.7\n"
    "Max-Forwards: 68\n"
    "Record-Route: <sip:p2.example.com;lr>\n"
    "Record-Route: <sip:p1.example.com;lr>\n"
    "From: \"Phone 1001\" <sip:1001@example.com>;tag=a73kszlfl\n"
    "To: <sip:1002@example.com>\n"
    "Call-ID: f81d4fae@10.0.0.1\n"
    "CSeq: 4711 INVITE\n"
    "Timestamp: 54\n"
    "Contact: <sip:1001@10.0.0.1:5062>\n"
    "Content-Length: 0\n"
    "\n");

}  // namespace

TEST_CASE("a built INVITE with SDP parses back with every field right and the body's length") {
  random_source rng(42);
  const std::string branch = make_branch(rng);
  const std::string tag = make_tag(rng);
  const std::string call_id = make_call_id(rng, "10.0.0.1");
  const std::array<std::string_view, 2> routes{"<sip:p1.example.com;lr>", "sip:p2.example.com;lr"};
  const std::array<extra_header, 2> extras{
      {{"Allow", "INVITE, ACK, CANCEL, BYE"}, {"User-Agent", "sipfleet"}}};
  const std::string bytes = build_request({.method = method::invite,
                                           .request_uri = "sip:1002@example.com",
                                           .via = {.transport = via_transport::udp,
                                                   .host = "10.0.0.1",
                                                   .port = 5062,
                                                   .branch = branch,
                                                   .rport = true},
                                           .from = "\"Phone 1001\" <sip:1001@example.com>",
                                           .from_tag = tag,
                                           .to = "sip:1002@example.com",
                                           .call_id = call_id,
                                           .cseq = 314159,
                                           .contact = "<sip:1001@10.0.0.1:5062>",
                                           .routes = routes,
                                           .headers = extras,
                                           .content_type = "application/sdp",
                                           .body = k_sdp});
  const auto m = parse_ok(bytes);
  CHECK(m.is_request());
  CHECK(m.method() == method::invite);
  CHECK(m.request_uri().text == "sip:1002@example.com");
  CHECK(m.count(header_id::via) == 1);
  CHECK(m.top_via().protocol == "SIP/2.0");
  CHECK(m.top_via().transport == "UDP");
  CHECK(m.top_via().host == "10.0.0.1");
  CHECK(m.top_via().port == 5062);
  CHECK(m.top_via().branch == branch);
  CHECK(m.top_via().rfc3261_branch());
  CHECK(m.top_via().rport);
  CHECK_FALSE(m.top_via().rport_value.has_value());
  CHECK(m.max_forwards() == 70u);
  CHECK(m.from().display == "Phone 1001");
  CHECK(m.from().uri.text == "sip:1001@example.com");
  CHECK(m.from().tag == tag);
  CHECK(m.to().uri.text == "sip:1002@example.com");
  CHECK(m.to().tag.empty());
  CHECK(m.call_id() == call_id);
  CHECK(m.cseq().number == 314159u);
  CHECK(m.cseq().method == method::invite);
  CHECK(m.header(header_id::contact) == "<sip:1001@10.0.0.1:5062>");
  // A bare URI is put in brackets, so ";lr" stays a URI parameter (§20.10).
  CHECK(values(m, header_id::route) ==
        std::vector<std::string_view>{"<sip:p1.example.com;lr>", "<sip:p2.example.com;lr>"});
  const auto second_route = parse_name_addr(values(m, header_id::route).at(1));
  REQUIRE(second_route.ok());
  CHECK(second_route->uri.has_param("lr"));
  CHECK(m.header(header_id::allow) == "INVITE");  // a multi-value header, split on commas
  CHECK(m.count(header_id::allow) == 4);
  CHECK(m.header(header_id::user_agent) == "sipfleet");
  CHECK(m.content_type() == "application/sdp");
  CHECK(m.body() == k_sdp);
  CHECK(m.content_length() == k_sdp.size());
  // Nothing after the body: the message is exactly what Content-Length says.
  CHECK(m.raw().size() == bytes.size());
  CHECK(bytes.ends_with(std::string("\r\n\r\n") + std::string(k_sdp)));
}

TEST_CASE("a request without a body has Content-Length 0 and parses on a stream transport") {
  const std::string bytes = build_request(
      {.method = method::options,
       .request_uri = "sip:example.com",
       .via = {.transport = via_transport::tcp, .host = "2001:db8::1", .branch = "z9hG4bKx"},
       .from = "sip:1001@example.com",
       .from_tag = "t1",
       .to = "sip:example.com",
       .call_id = "c1",
       .max_forwards = 0});
  const auto m = parse_ok(bytes);
  CHECK(m.content_length() == 0u);
  CHECK(m.body().empty());
  CHECK(m.max_forwards() == 0u);
  CHECK(m.top_via().transport == "TCP");
  CHECK(m.top_via().host_is_ipv6);
  CHECK(m.top_via().host == "2001:db8::1");
  CHECK_FALSE(m.top_via().rport);
  CHECK(m.count(header_id::contact) == 0);
  CHECK(m.count(header_id::content_type) == 0);
  CHECK(stream_frame_length(bytes).ok());
  CHECK(*stream_frame_length(bytes) == bytes.size());
  CHECK(message::parse(bytes, {.framing = framing::stream}).ok());
}

TEST_CASE("an extension method is written from its text in the request line and CSeq") {
  const std::string bytes = build_request({.method = method::unknown,
                                           .method_text = "FOOBAR",
                                           .request_uri = "sip:a@example.com",
                                           .via = {.host = "h", .branch = "z9hG4bKf"},
                                           .from = "sip:b@example.com",
                                           .from_tag = "1",
                                           .to = "sip:a@example.com",
                                           .call_id = "x",
                                           .cseq = 7});
  const auto m = parse_ok(bytes);
  CHECK(m.method_text() == "FOOBAR");
  CHECK(m.cseq().method_text == "FOOBAR");
  CHECK(m.cseq().number == 7u);
}

TEST_CASE("a response copies every Via in order, and From, To, Call-ID and CSeq (§8.2.6.2)") {
  const auto invite = parse_ok(k_incoming_invite);
  const auto m = parse_ok(answer(invite, 486, "b0b"));
  CHECK(m.is_response());
  CHECK(m.status_code() == 486);
  CHECK(m.reason() == "Busy Here");
  CHECK(values(m, header_id::via) == values(invite, header_id::via));
  CHECK(m.count(header_id::via) == 3);
  CHECK(m.top_via().branch == "z9hG4bKp2");
  CHECK(m.header(header_id::from) == invite.header(header_id::from));
  CHECK(m.from().tag == "a73kszlfl");
  CHECK(m.to().uri.text == "sip:1002@example.com");
  CHECK(m.call_id() == "f81d4fae@10.0.0.1");
  CHECK(m.cseq().number == 4711u);
  CHECK(m.method() == method::invite);
  CHECK(m.count(header_id::max_forwards) == 0);
  CHECK(m.count(header_id::record_route) == 0);  // a final failure creates no dialog
  CHECK(m.content_length() == 0u);
}

TEST_CASE("180 and 200 add the To tag to a request without one; 100 Trying does not") {
  const auto invite = parse_ok(k_incoming_invite);
  const auto trying = parse_ok(answer(invite, 100, "b0b"));
  CHECK(trying.reason() == "Trying");
  CHECK(trying.to().tag.empty());
  CHECK(trying.header(header_id::timestamp) == "54");  // §8.2.6.1
  const auto ringing = parse_ok(answer(invite, 180, "b0b"));
  CHECK(ringing.reason() == "Ringing");
  CHECK(ringing.to().tag == "b0b");
  CHECK(ringing.count(header_id::timestamp) == 0);
  const auto ok = parse_ok(build_response(invite, {.status = 200,
                                                   .to_tag = "b0b",
                                                   .contact = "sip:1002@10.0.0.2:5060",
                                                   .content_type = "application/sdp",
                                                   .body = k_sdp}));
  CHECK(ok.reason() == "OK");
  CHECK(ok.to().tag == "b0b");
  CHECK(ok.to().uri.text == "sip:1002@example.com");
  CHECK(ok.header(header_id::contact) == "<sip:1002@10.0.0.2:5060>");
  CHECK(ok.body() == k_sdp);
  CHECK(ok.content_length() == k_sdp.size());
}

TEST_CASE("a response to a request that has a To tag keeps that tag and adds none") {
  const auto bye =
      parse_ok(crlf("BYE sip:1001@10.0.0.1:5062 SIP/2.0\n"
                    "Via: SIP/2.0/UDP 10.0.0.2;branch=z9hG4bKbye\n"
                    "From: <sip:1002@example.com>;tag=b0b\n"
                    "To: \"Phone 1001\" <sip:1001@example.com>;tag=a73kszlfl\n"
                    "Call-ID: f81d4fae@10.0.0.1\n"
                    "CSeq: 9 BYE\n"
                    "Content-Length: 0\n\n"));
  const std::string bytes = answer(bye, 200, "other");
  CHECK(bytes.find("other") == std::string::npos);
  const auto m = parse_ok(bytes);
  CHECK(m.to().tag == "a73kszlfl");
  CHECK(m.header(header_id::to) == bye.header(header_id::to));
}

TEST_CASE("a bare-URI To is copied as written, so its header parameters stay header parameters") {
  const auto req =
      parse_ok(crlf("OPTIONS sip:1002@example.com SIP/2.0\n"
                    "Via: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKo\n"
                    "From: sip:1001@example.com;tag=1\n"
                    "To: sip:1002@example.com;x=y\n"
                    "Call-ID: o1\n"
                    "CSeq: 1 OPTIONS\n\n"));
  const auto m = parse_ok(answer(req, 200, "t2"));
  CHECK(m.header(header_id::to) == "sip:1002@example.com;x=y;tag=t2");
  CHECK(m.to().tag == "t2");
  CHECK(m.to().param("x") == "y");
}

TEST_CASE("responses that can create a dialog copy Record-Route in order (§12.1.1)") {
  const auto invite = parse_ok(k_incoming_invite);
  for (int status : {180, 200}) {
    const auto m = parse_ok(answer(invite, status, "b0b"));
    CHECK(values(m, header_id::record_route) ==
          std::vector<std::string_view>{"<sip:p2.example.com;lr>", "<sip:p1.example.com;lr>"});
  }
  CHECK(parse_ok(answer(invite, 100)).count(header_id::record_route) == 0);
  const auto without =
      parse_ok(build_response(invite, {.status = 200, .to_tag = "b", .copy_record_route = false}));
  CHECK(without.count(header_id::record_route) == 0);
}

TEST_CASE("a reason phrase can be given, and unknown codes get their class's phrase") {
  const auto invite = parse_ok(k_incoming_invite);
  CHECK(parse_ok(answer(invite, 603, "t", "Not Today")).reason() == "Not Today");
  CHECK(default_reason(481) == "Call/Transaction Does Not Exist");
  CHECK(default_reason(199) == "Session Progress");
  CHECK(default_reason(299) == "OK");
  CHECK(default_reason(499) == "Client Error");
  CHECK(default_reason(699) == "Global Failure");
}

TEST_CASE("extra headers and the body of a response are written, Content-Length matching") {
  const auto invite = parse_ok(k_incoming_invite);
  const std::array<extra_header, 1> extras{{{"Warning", "399 p1 \"hi, there\""}}};
  const std::string body = "hello, world";
  const auto m = parse_ok(build_response(invite, {.status = 488,
                                                  .to_tag = "t",
                                                  .headers = extras,
                                                  .content_type = "text/plain",
                                                  .body = body}));
  CHECK(m.header(header_id::warning) == "399 p1 \"hi, there\"");
  CHECK(m.content_type() == "text/plain");
  CHECK(m.body() == body);
  CHECK(m.content_length() == body.size());
}

TEST_CASE("generated branches start with z9hG4bK and are unique over 100k draws") {
  random_source rng(0x5eed);
  std::unordered_set<std::string> seen;
  seen.reserve(100'000);
  for (int i = 0; i < 100'000; ++i) {
    std::string b = make_branch(rng);
    REQUIRE(b.starts_with("z9hG4bK"));
    REQUIRE(b.size() == branch_cookie.size() + branch_token_size);
    REQUIRE(sipfleet::sip::scan::is_token(b));
    REQUIRE(seen.insert(std::move(b)).second);
  }
  CHECK(seen.size() == 100'000);
}

TEST_CASE("the same seed gives the same identifiers, another seed others") {
  random_source a(7), b(7), c(8);
  CHECK(make_branch(a) == make_branch(b));
  CHECK(make_tag(a) == make_tag(b));
  CHECK(make_call_id(a, "h") == make_call_id(b, "h"));
  CHECK(make_tag(a) != make_tag(c));
}

TEST_CASE("tags and Call-IDs are tokens of the documented size, and parse in a message") {
  random_source rng(99);
  const std::string tag = make_tag(rng);
  CHECK(tag.size() == tag_size);
  CHECK(sipfleet::sip::scan::is_token(tag));
  const std::string id = make_call_id(rng, "10.0.0.1");
  CHECK(id.size() == call_id_token_size + 1 + 8);
  CHECK(id.ends_with("@10.0.0.1"));
  CHECK(make_call_id(rng).find('@') == std::string::npos);
  for (int i = 0; i < 1000; ++i) {
    const std::uint32_t n = make_initial_cseq(rng);
    REQUIRE(n >= 1u);
    REQUIRE(n <= (1u << 30));
  }
  const auto m = parse_ok(build_request({.request_uri = "sip:x@y",
                                         .via = {.host = "h", .branch = make_branch(rng)},
                                         .from = "sip:a@b",
                                         .from_tag = tag,
                                         .to = "sip:x@y",
                                         .call_id = id}));
  CHECK(m.from().tag == tag);
  CHECK(m.call_id() == id);
}

TEST_CASE(
    "a CANCEL copies the INVITE's Request-URI, Call-ID, From, To, CSeq number, top Via and Routes "
    "(§9.1)") {
  const auto invite =
      parse_ok(crlf("INVITE sip:1002@example.com;transport=udp SIP/2.0\n"
                    "Via: SIP/2.0/UDP 10.0.0.1:5062;branch=z9hG4bKtop;rport\n"
                    "Via: SIP/2.0/UDP 10.0.0.9;branch=z9hG4bKlower\n"
                    "Max-Forwards: 70\n"
                    "Route: <sip:p1.example.com;lr>, <sip:p2.example.com;lr>\n"
                    "From: \"Phone 1001\" <sip:1001@example.com>;tag=a73k\n"
                    "To: <sip:1002@example.com>\n"
                    "Call-ID: cancel-me@10.0.0.1\n"
                    "CSeq: 101 INVITE\n"
                    "Contact: <sip:1001@10.0.0.1:5062>\n"
                    "Content-Type: application/sdp\n"
                    "Content-Length: 4\n\nv=0\n"));
  const std::array<extra_header, 1> reason{{{"Reason", "SIP;cause=487;text=\"hangup\""}}};
  const auto m = parse_ok(build_cancel(invite, {.headers = reason}));
  CHECK(m.method() == method::cancel);
  CHECK(m.request_uri().text == invite.request_uri().text);
  CHECK(m.call_id() == invite.call_id());
  CHECK(m.header(header_id::from) == invite.header(header_id::from));
  CHECK(m.header(header_id::to) == invite.header(header_id::to));
  CHECK(m.to().tag.empty());
  CHECK(m.cseq().number == 101u);
  CHECK(m.cseq().method == method::cancel);
  CHECK(m.count(header_id::via) == 1);
  CHECK(m.header(header_id::via) == "SIP/2.0/UDP 10.0.0.1:5062;branch=z9hG4bKtop;rport");
  CHECK(values(m, header_id::route) == values(invite, header_id::route));
  CHECK(m.max_forwards() == 70u);
  CHECK(m.count(header_id::contact) == 0);
  CHECK(m.count(header_id::content_type) == 0);
  CHECK(m.header(header_id::reason) == "SIP;cause=487;text=\"hangup\"");
  CHECK(m.content_length() == 0u);
  CHECK(m.body().empty());
}

TEST_CASE("write_request appends to a buffer the caller reuses") {
  std::string buf = "prefix";
  const request_options o{.request_uri = "sip:x@y",
                          .via = {.host = "h", .branch = "z9hG4bK1"},
                          .from = "sip:a@b",
                          .from_tag = "1",
                          .to = "sip:x@y",
                          .call_id = "c"};
  write_request(buf, o);
  CHECK(buf.starts_with("prefixOPTIONS sip:x@y SIP/2.0\r\n"));
  CHECK(buf.substr(6) == build_request(o));
  buf.clear();
  write_request(buf, o);
  CHECK(buf == build_request(o));
}
