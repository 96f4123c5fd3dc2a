// URIs (RFC 3261 §19.1) and the header table.
#include <doctest/doctest.h>

#include <string>
#include <utility>

#include "sip/header_id.hpp"
#include "sip/uri.hpp"

using namespace sipfleet::sip;

TEST_CASE("a SIP URI with user, password, port, parameters and headers parses") {
  const auto u = parse_uri("sip:alice:secretword@atlanta.com:5061;transport=tcp;lr?subject=project%20x&priority=urgent");
  REQUIRE(u.ok());
  CHECK(u->scheme == uri_scheme::sip);
  CHECK(u->user == "alice");
  CHECK(u->password == "secretword");
  CHECK(u->host == "atlanta.com");
  CHECK(u->port == 5061);
  CHECK(u->param("transport") == "tcp");
  CHECK(u->param("LR") == "");
  CHECK_FALSE(u->param("maddr").has_value());
  CHECK(u->headers == "subject=project%20x&priority=urgent");
}

TEST_CASE("IPv6 references, SIPS and tel URIs parse") {
  const auto v6 = parse_uri("sips:1001@[2001:db8::10]:5061");
  REQUIRE(v6.ok());
  CHECK(v6->scheme == uri_scheme::sips);
  CHECK(v6->host == "2001:db8::10");
  CHECK(v6->host_is_ipv6);
  CHECK(v6->port == 5061);
  const auto tel = parse_uri("tel:+1-201-555-0123;phone-context=example.com");
  REQUIRE(tel.ok());
  CHECK(tel->scheme == uri_scheme::tel);
  CHECK(tel->user == "+1-201-555-0123");
  CHECK(tel->param("phone-context") == "example.com");
  const auto host_only = parse_uri("sip:127.0.0.1");
  REQUIRE(host_only.ok());
  CHECK(host_only->user.empty());
  CHECK(host_only->port == 0);
}

TEST_CASE("bad URIs are errors") {
  for (const char* t : {"", "sip:", "sip:a@", "sip:a@b:x", "sip:a@b:70000", "sip:a b@c", "sip:[::1",
                        "sip:a@ho_st", "1sip:a@b", "sip:a@b;;x", "sip:%4@b"}) {
    INFO("uri: " << std::string(t));
    CHECK_FALSE(parse_uri(t).ok());
  }
}

TEST_CASE("URI comparison follows RFC 3261 19.1.4") {
  const auto eq = [](const char* a, const char* b) {
    const auto ua = parse_uri(a);
    const auto ub = parse_uri(b);
    REQUIRE(ua.ok());
    REQUIRE(ub.ok());
    return uri_equal(*ua, *ub);
  };
  // Equivalent pairs from §19.1.4.
  CHECK(eq("sip:%61lice@atlanta.com;transport=TCP", "sip:alice@AtLanTa.CoM;Transport=tcp"));
  CHECK(eq("sip:carol@chicago.com", "sip:carol@chicago.com;newparam=5"));
  CHECK(eq("sip:carol@chicago.com;security=on", "sip:carol@chicago.com;newparam=5"));
  CHECK(eq("sip:biloxi.com;transport=tcp;method=REGISTER?to=sip:bob%40biloxi.com",
           "sip:biloxi.com;method=REGISTER;transport=tcp?to=sip:bob%40biloxi.com"));
  // Non-equivalent pairs from §19.1.4.
  CHECK_FALSE(eq("SIP:ALICE@AtLanTa.CoM;Transport=udp", "sip:alice@AtLanTa.CoM;Transport=UDP"));
  CHECK_FALSE(eq("sip:bob@biloxi.com", "sip:bob@biloxi.com:5060"));
  CHECK_FALSE(eq("sip:bob@biloxi.com", "sip:bob@biloxi.com;transport=udp"));
  CHECK_FALSE(eq("sip:carol@chicago.com;newparam=5", "sip:carol@chicago.com;newparam=6"));
}

TEST_CASE("every header in the table is found by its name in any case and by its compact form") {
  for (int i = 1; i < static_cast<int>(header_id::count_); ++i) {
    const auto id = static_cast<header_id>(i);
    const auto& row = header_info_of(id);
    INFO("header: " << std::string(row.name));
    CHECK(header_id_from_name(row.name) == id);
    std::string upper(row.name);
    for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    CHECK(header_id_from_name(upper) == id);
    if (row.compact != 0) {
      CHECK(header_id_from_name(std::string(1, row.compact)) == id);
      CHECK(header_id_from_name(std::string(1, static_cast<char>(row.compact - 32))) == id);
    }
  }
  // The compact forms RFC 3261 and later RFCs define, each to its header.
  const std::pair<char, header_id> compact[] = {
      {'i', header_id::call_id},          {'m', header_id::contact},
      {'v', header_id::via},              {'f', header_id::from},
      {'t', header_id::to},               {'l', header_id::content_length},
      {'c', header_id::content_type},     {'k', header_id::supported},
      {'s', header_id::subject},          {'e', header_id::content_encoding},
      {'o', header_id::event},            {'u', header_id::allow_events},
      {'r', header_id::refer_to},         {'b', header_id::referred_by},
      {'x', header_id::session_expires},  {'y', header_id::identity},
      {'a', header_id::accept_contact}};
  for (const auto& [letter, id] : compact) CHECK(header_id_from_name(std::string(1, letter)) == id);
  CHECK(header_id_from_name("X-Custom") == header_id::unknown);
  CHECK(header_id_from_name("q") == header_id::unknown);
  CHECK(header_id_from_name("") == header_id::unknown);
}
