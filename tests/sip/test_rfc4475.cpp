// RFC 4475 torture messages (tests/data/rfc4475, copied from the RFC's archive): every valid
// message parses with the right values; every invalid one is rejected with a reason.
#include <doctest/doctest.h>

#include <string>

#include "sip/message.hpp"
#include "sip_test_util.hpp"

using namespace sipfleet::sip;
using sipfleet::test::read_data_file;

namespace {

result<message> parse_file(const std::string& name) {
  const auto bytes = read_data_file("rfc4475/" + name + ".dat");
  REQUIRE_MESSAGE(!bytes.empty(), "missing data file " << name);
  return message::parse(bytes);
}

const message& must_parse(const result<message>& r, const std::string& name) {
  INFO("file: " << name);
  REQUIRE_MESSAGE(r.ok(), (r.ok() ? std::string() : r.err().reason));
  return r.value();
}

}  // namespace

TEST_CASE("RFC 4475 3.1.1.1 wsinv: a short tortuous INVITE parses with its odd white space") {
  const auto r = parse_file("wsinv");
  const auto& m = must_parse(r, "wsinv");
  CHECK(m.method() == method::invite);
  CHECK(m.request_uri().user == "vivekg");
  CHECK(m.request_uri().host == "chair-dnrc.example.com");
  CHECK(m.request_uri().has_param("unknownparam"));
  CHECK(m.to().tag == "1918181833n");
  CHECK(m.from().tag == "98asjd8");
  CHECK(m.from().display == R"(J Rosenberg \\\")");
  CHECK(m.max_forwards() == 68u);
  CHECK(m.call_id() == "wsinv.ndaksdj@192.0.2.1");
  CHECK(m.cseq().number == 9u);
  CHECK(m.cseq().method == method::invite);
  CHECK(m.count(header_id::via) == 3);
  CHECK(m.top_via().transport == "UDP");
  CHECK(m.top_via().host == "192.0.2.2");
  CHECK(m.top_via().branch == "390skdjuw");
  CHECK(m.header(header_id::subject).empty());
  CHECK(m.count(header_id::subject) == 1);
  const auto fangled = m.header("NewFangledHeader");
  CHECK(fangled.starts_with("newfangled value"));
  CHECK(fangled.ends_with("continued newfangled value"));
  CHECK(m.header("UnknownHeaderWithUnusualValue") == ";;,,;;,;");
  CHECK(m.count(header_id::route) == 1);
  const auto contact = parse_name_addr(m.header(header_id::contact));
  REQUIRE(contact.ok());
  CHECK(contact->display == R"(Quoted string \"\")");
  CHECK(contact->param("newparam") == "newvalue");
  CHECK(contact->param("secondparam") == "");
  CHECK(contact->param("q") == "0.33");
  CHECK(m.content_length() == 150u);
  CHECK(m.body().size() == 150);
  CHECK(m.body().starts_with("v=0\r\n"));
}

TEST_CASE("RFC 4475 3.1.1.2 intmeth: a wide range of valid characters parses") {
  const auto r = parse_file("intmeth");
  const auto& m = must_parse(r, "intmeth");
  CHECK(m.method() == method::unknown);
  CHECK(m.method_text() == "!interesting-Method0123456789_*+`.%indeed'~");
  CHECK(m.request_uri().user == "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*");
  CHECK(m.request_uri().password == "&it+has=1,weird!*pas$wo~d_too.(doesn't-it)");
  CHECK(m.request_uri().host == "example.com");
  CHECK(m.top_via().branch == "z9hG4bK-.!%66*_+`'~");
  CHECK(m.from().display == "token1~` token2'+_ token3*%!.-");
  CHECK(m.from().tag == "_token~1'+`*%!-.");
  CHECK(m.call_id() == R"(intmeth.word%ZK-!.*_+'@word`~)(><:\/"][?}{)");
  CHECK(m.cseq().method_text == m.method_text());
  CHECK(m.max_forwards() == 255u);
  CHECK(m.header("extensionHeader-!.%*+_`'~") == "\xEF\xBB\xBF\xE5\xA4\xA7\xE5\x81\x9C\xE9\x9B\xBB");
}

TEST_CASE("RFC 4475 3.1.1.3 esc01: escaped characters are kept and compare equal unescaped") {
  const auto r = parse_file("esc01");
  const auto& m = must_parse(r, "esc01");
  CHECK(m.request_uri().user == "sips%3Auser%40example.com");
  CHECK(unescape(m.request_uri().user) == "sips:user@example.com");
  CHECK(unescape(m.to().uri.user) == "user");
  CHECK(unescape(m.from().uri.user) == "I have spaces");
  CHECK(m.call_id() == "esc01.239409asdfakjkn23onasd0-3234");
  CHECK(m.content_type() == "application/sdp");
  const auto contact = parse_name_addr(m.header(header_id::contact));
  REQUIRE(contact.ok());
  CHECK(unescape(contact->uri.user) == "caller");
  CHECK(contact->uri.params == ";%6C%72;n%61me=v%61lue%25%34%31");
  CHECK(unescape(contact->uri.params) == ";lr;name=value%41");
  CHECK(m.body().size() == 150);
}

TEST_CASE("RFC 4475 3.1.1.4 escnull: a %00 escape in a URI user part parses") {
  const auto r = parse_file("escnull");
  const auto& m = must_parse(r, "escnull");
  CHECK(m.method() == method::register_);
  CHECK(unescape(m.to().uri.user) == std::string("null-\0-null", 11));
  CHECK(m.count(header_id::contact) == 2);
  CHECK(m.content_length() == 0u);
}

TEST_CASE("RFC 4475 3.1.1.5 esc02: escapes in method and header names are not unescaped") {
  const auto r = parse_file("esc02");
  const auto& m = must_parse(r, "esc02");
  CHECK(m.method() == method::unknown);
  CHECK(m.method_text() == "RE%47IST%45R");
  CHECK(m.count(header_id::contact) == 2);  // C%6Fntact is an extension header
  CHECK(m.header("C%6Fntact") == "<sip:alias2@host2.example.com>");
  CHECK(m.from().display == "%Z%45");
}

TEST_CASE("RFC 4475 3.1.1.6 lwsdisp: a display name without space before < parses") {
  const auto r = parse_file("lwsdisp");
  const auto& m = must_parse(r, "lwsdisp");
  CHECK(m.from().display == "caller");
  CHECK(m.from().uri.user == "caller");
  CHECK(m.from().tag == "323");
}

TEST_CASE("RFC 4475 3.1.1.7 longreq: a request of several kilobytes with long values parses") {
  const auto r = parse_file("longreq");
  const auto& m = must_parse(r, "longreq");
  CHECK(m.raw().size() > 2048);
  CHECK(m.count(header_id::via) == 34);  // Via lines in every letter case and compact form
  CHECK(m.from().uri.user.size() > 100);
  CHECK(m.to().display.starts_with("I have a user name of extremeextreme"));
  CHECK(m.body().size() == *m.content_length());
}

TEST_CASE("RFC 4475 3.1.1.8 dblreq: only the first request of a datagram holding two is used") {
  const auto r = parse_file("dblreq");
  const auto& m = must_parse(r, "dblreq");
  CHECK(m.method() == method::register_);
  CHECK(m.call_id() == "dblreq.0ha0isndaksdj99sdfafnl3lk233412");
  CHECK(m.body().empty());
  CHECK(m.raw().find("INVITE") == std::string_view::npos);
}

TEST_CASE("RFC 4475 3.1.1.9 semiuri: a semicolon in a user part is part of the user") {
  const auto r = parse_file("semiuri");
  const auto& m = must_parse(r, "semiuri");
  CHECK(m.request_uri().user == "user;par=u%40example.net");
  CHECK(m.request_uri().host == "example.com");
  CHECK(m.request_uri().params.empty());
  CHECK(m.count(header_id::accept) == 6);
}

TEST_CASE("RFC 4475 3.1.1.10 transports: Via with unknown transports parses") {
  const auto r = parse_file("transports");
  const auto& m = must_parse(r, "transports");
  CHECK(m.count(header_id::via) == 5);
  std::string transports;
  m.for_each(header_id::via, [&](std::string_view v) {
    transports += std::string(parse_via(v)->transport) + " ";
  });
  CHECK(transports == "UDP SCTP TLS UNKNOWN TCP ");
}

TEST_CASE("RFC 4475 3.1.1.11 mpart01: a multipart body parses with its length") {
  const auto r = parse_file("mpart01");
  const auto& m = must_parse(r, "mpart01");
  CHECK(m.method() == method::message);
  CHECK(m.content_type() == "multipart/mixed;boundary=7a9cbec02ceef655");
  CHECK(m.body().size() == 553);
  CHECK(m.top_via().rport);
  CHECK(!m.top_via().rport_value);
}

TEST_CASE("RFC 4475 3.1.1.12 unreason: a reason phrase with UTF-8 parses") {
  const auto r = parse_file("unreason");
  const auto& m = must_parse(r, "unreason");
  CHECK(m.is_response());
  CHECK(m.status_code() == 200);
  CHECK(m.reason().starts_with("= 2**3 * 5**2 "));
  CHECK(m.method() == method::invite);
}

TEST_CASE("RFC 4475 3.1.1.13 noreason: an empty reason phrase parses") {
  const auto r = parse_file("noreason");
  const auto& m = must_parse(r, "noreason");
  CHECK(m.status_code() == 100);
  CHECK(m.reason().empty());
}

namespace {

struct invalid_case {
  const char* file;
  const char* reason;  // a part of the expected reason
};

// RFC 4475 §3.1.2: each of these is malformed; a UAS answers 400 with the reason.
constexpr invalid_case k_invalid[] = {
    {"badinv01", "Via"},                               // 3.1.2.1 empty Via/Contact params
    {"clerr", "body shorter than Content-Length"},     // 3.1.2.2
    {"ncl", "Content-Length"},                         // 3.1.2.3 negative
    {"scalar02", "out of range"},                      // 3.1.2.4 CSeq, Max-Forwards too big
    {"scalarlg", "CSeq number out of range"},          // 3.1.2.5
    {"quotbal", "unbalanced quotes"},                  // 3.1.2.6
    {"ltgtruri", "Request-URI"},                       // 3.1.2.7 <> around the Request-URI
    {"lwsruri", "request line"},                       // 3.1.2.8 space in the Request-URI
    {"lwsstart", "request line"},                      // 3.1.2.9 several spaces
    {"trws", "request line"},                          // 3.1.2.10 trailing white space
    {"escruri", "headers"},                            // 3.1.2.11 headers in a Request-URI
    {"baddate", "GMT"},                                // 3.1.2.12
    {"regbadct", "enclosed in <>"},                    // 3.1.2.13
    {"badaspec", "white space inside <URI>"},          // 3.1.2.14
    {"baddn", "display name"},                         // 3.1.2.15
    {"badvers", "version"},                            // 3.1.2.16 SIP/7.0
    {"mismatch01", "CSeq method does not match"},      // 3.1.2.17
    {"mismatch02", "CSeq method does not match"},      // 3.1.2.18
    {"bigcode", "status code"},                        // 3.1.2.19
};

}  // namespace

TEST_CASE("RFC 4475 3.1.2: every invalid message is rejected with a reason") {
  for (const auto& c : k_invalid) {
    const std::string file = c.file;
    INFO("file: " << file);
    const auto r = parse_file(file);
    REQUIRE_FALSE(r.ok());
    INFO("reason: " << r.err().reason);
    CHECK(r.err().reason.find(c.reason) != std::string::npos);
    // The reason goes into a 400 reason phrase: printable ASCII, no line breaks.
    for (char ch : r.err().reason) CHECK((ch >= 0x20 && ch < 0x7f));
  }
}

TEST_CASE("RFC 4475 3.2.1 badbranch: a branch that is only the magic cookie is not RFC 3261") {
  const auto r = parse_file("badbranch");
  const auto& m = must_parse(r, "badbranch");
  CHECK(m.top_via().branch == "z9hG4bK");
  CHECK_FALSE(m.top_via().rfc3261_branch());
}

TEST_CASE("RFC 4475 3.3: application-layer cases parse, with the values a UAS decides on") {
  SUBCASE("insuf: missing Call-ID, From and To is rejected (400)") {
    const auto r = parse_file("insuf");
    REQUIRE_FALSE(r.ok());
    CHECK(r.err().reason.find("missing") != std::string::npos);
  }
  SUBCASE("unkscm and novelsc: an unknown Request-URI scheme is visible (416)") {
    for (const char* f : {"unkscm", "novelsc"}) {
      const auto r = parse_file(f);
      const auto& m = must_parse(r, f);
      CHECK(m.request_uri().scheme == uri_scheme::other);
    }
  }
  SUBCASE("unksm2: unknown schemes in To, From and Contact parse") {
    const auto r = parse_file("unksm2");
    const auto& m = must_parse(r, "unksm2");
    CHECK(m.to().uri.scheme == uri_scheme::other);
    CHECK(m.to().uri.scheme_text == "isbn");
    CHECK(m.from().uri.scheme_text == "http");
  }
  SUBCASE("bext01: unknown Require options are visible (420)") {
    const auto r = parse_file("bext01");
    const auto& m = must_parse(r, "bext01");
    CHECK(m.count(header_id::require) == 2);
    CHECK(m.header(header_id::require) == "nothingSupportsThis");
    CHECK(m.top_via().transport == "TLS");
  }
  SUBCASE("invut: an unknown body type is visible (415)") {
    const auto r = parse_file("invut");
    const auto& m = must_parse(r, "invut");
    CHECK(m.content_type() == "application/unknownformat");
    CHECK(m.body().size() == 40);
  }
  SUBCASE("regaut01: an unknown authorization scheme parses") {
    const auto r = parse_file("regaut01");
    const auto& m = must_parse(r, "regaut01");
    CHECK(m.header(header_id::authorization) == "NoOneKnowsThisScheme opaque-data=here");
  }
  SUBCASE("multi01: several values of single-value headers are rejected (400)") {
    const auto r = parse_file("multi01");
    REQUIRE_FALSE(r.ok());
    CHECK(r.err().reason.find("more than one") != std::string::npos);
  }
  SUBCASE("mcl01: conflicting Content-Length values are rejected (400)") {
    const auto r = parse_file("mcl01");
    REQUIRE_FALSE(r.ok());
    CHECK(r.err().reason == "conflicting Content-Length");
  }
  SUBCASE("bcast: a response with a broadcast Via parses") {
    const auto r = parse_file("bcast");
    const auto& m = must_parse(r, "bcast");
    CHECK(m.status_code() == 200);
    CHECK(m.count(header_id::via) == 2);
  }
  SUBCASE("zeromf: Max-Forwards 0 parses (a UAS answers an OPTIONS normally)") {
    const auto r = parse_file("zeromf");
    const auto& m = must_parse(r, "zeromf");
    CHECK(m.max_forwards() == 0u);
  }
  SUBCASE("cparam01: without <> a parameter belongs to the Contact, not the URI") {
    const auto r = parse_file("cparam01");
    const auto& m = must_parse(r, "cparam01");
    const auto c = parse_name_addr(m.header(header_id::contact));
    REQUIRE(c.ok());
    CHECK(c->param("unknownparam").has_value());
    CHECK(c->uri.params.empty());
  }
  SUBCASE("cparam02: within <> the parameter belongs to the URI") {
    const auto r = parse_file("cparam02");
    const auto& m = must_parse(r, "cparam02");
    const auto c = parse_name_addr(m.header(header_id::contact));
    REQUIRE(c.ok());
    CHECK(c->uri.has_param("unknownparam"));
    CHECK(c->params.empty());
  }
  SUBCASE("regescrt: escaped headers in a Contact URI parse") {
    const auto r = parse_file("regescrt");
    const auto& m = must_parse(r, "regescrt");
    const auto c = parse_name_addr(m.header(header_id::contact));
    REQUIRE(c.ok());
    CHECK(c->uri.headers == "Route=%3Csip:sip.example.com%3E");
  }
  SUBCASE("sdp01: an Accept that excludes SDP is visible (406 / 415)") {
    const auto r = parse_file("sdp01");
    const auto& m = must_parse(r, "sdp01");
    CHECK(m.header(header_id::accept) == "text/nobodyKnowsThis");
    CHECK(m.content_type() == "application/sdp");
  }
}

TEST_CASE("RFC 4475 3.4.1 inv2543: an RFC 2543 INVITE is accepted") {
  const auto r = parse_file("inv2543");
  const auto& m = must_parse(r, "inv2543");
  CHECK(m.top_via().branch.empty());
  CHECK_FALSE(m.top_via().rfc3261_branch());
  CHECK(m.from().tag.empty());
  CHECK_FALSE(m.max_forwards().has_value());
  CHECK_FALSE(m.content_length().has_value());
  CHECK(m.body().starts_with("v=0"));
}
