// The control API's phone routes (issue 5): create from ranges, list and page, show, change
// behaviour, register, unregister, delete; every error names the field; no password out.
#include "router_fixture.hpp"

namespace json = boost::json;
using namespace sipfleet::control_api;
using namespace sipfleet::control_api::testing;
using sipfleet::ua::registration_state;

// ---- phones -------------------------------------------------------------------------------------

TEST_CASE("POST /v1/phones creates phones from user ranges and passes every field on") {
  api a;
  const auto r =
      a.send("POST", "/v1/phones",
             R"({"users": "1000-1099,2000-2005", "domain": "example.test", "password": "pw-{user}",
                            "proxy": "10.0.0.1:5070", "transport": "tcp", "register": false})");
  CHECK(r.status == 201);
  CHECK(body_of(r) == json::parse(R"({"created": 106})"));
  REQUIRE(a.b.created.size() == 1);
  const auto& req = a.b.created[0];
  CHECK(req.users.size() == 106);
  CHECK(req.users.front() == "1000");
  CHECK(req.users[100] == "2000");
  CHECK(req.domain == "example.test");
  CHECK(req.password == "pw-{user}");
  REQUIRE(req.proxy.has_value());
  CHECK(req.proxy->host == "10.0.0.1");
  CHECK(req.proxy->port == 5070);
  CHECK(req.transport == sipfleet::ua::transport_kind::tcp);
  CHECK_FALSE(req.register_now);
}

TEST_CASE("POST /v1/phones needs only users; the rest default to the server's") {
  api a;
  CHECK(a.send("POST", "/v1/phones", R"({"users": "0100-0102"})").status == 201);
  const auto& req = a.b.created.at(0);
  CHECK(req.users == std::vector<std::string>{"0100", "0101", "0102"});
  CHECK(req.domain.empty());
  CHECK_FALSE(req.password.has_value());
  CHECK_FALSE(req.proxy.has_value());
  CHECK_FALSE(req.transport.has_value());
  CHECK(req.register_now);
  CHECK(a.b.phones.at("0100").view.registration == registration_state::registering);
}

TEST_CASE("POST /v1/phones accepts IPv6 proxies in brackets and no port as 5060") {
  api a;
  CHECK(a.send("POST", "/v1/phones", R"({"users": "1", "proxy": "[::1]:5080"})").status == 201);
  CHECK(a.b.created.back().proxy == sipfleet::ua::endpoint{.host = "::1", .port = 5080});
  CHECK(a.send("POST", "/v1/phones", R"({"users": "2", "proxy": "192.0.2.7"})").status == 201);
  CHECK(a.b.created.back().proxy == sipfleet::ua::endpoint{.host = "192.0.2.7", .port = 5060});
}

TEST_CASE("POST /v1/phones refuses a proxy that is not an IP literal with a port of 1-65535") {
  api a;
  for (const char* proxy :
       {"proxy.example:5060", "10.0.0.1:0", "10.0.0.1:65536", "10.0.0.1:", "10.0.0.1:50a", "[::1",
        "[::1]5060", "::1:5060x", "", "300.1.1.1:5060"}) {
    CAPTURE(proxy);
    const auto r = a.send("POST", "/v1/phones",
                          R"({"users": "1000", "proxy": ")" + std::string(proxy) + "\"}");
    CHECK(r.status == 400);
    CHECK(error_code(r) == "bad_field");
    CHECK(contains(error_message(r), "'proxy'"));
  }
  CHECK(a.b.created.empty());
}

TEST_CASE(
    "POST /v1/phones refuses bad ranges: reversed, letters, empty parts, too many, a user twice") {
  api a;
  for (const char* users : {"1099-1000", "abc", "1000-", "-1000", "1000,,1001", "1000-1099,",
                            "10a0", "1000-2000-3000", "0-100000", "1-60000,100001-160000",
                            "1000-1005,1003", "0100-199", "", "1234567890123456789"}) {
    CAPTURE(users);
    const auto r = a.send("POST", "/v1/phones", R"({"users": ")" + std::string(users) + "\"}");
    CHECK(r.status == 400);
    CHECK(error_code(r) == "bad_field");
    CHECK(contains(error_message(r), "'users'"));
  }
  CHECK(a.b.created.empty());
  CHECK(contains(error_message(a.send("POST", "/v1/phones", R"({"users": "0-100000"})")),
                 "more than 100000"));
  CHECK(a.send("POST", "/v1/phones", R"({"users": "0-99999"})").status ==
        201);  // exactly the bound
}

TEST_CASE("POST /v1/phones names an unknown field, a wrong type and a missing users") {
  api a;
  auto r = a.send("POST", "/v1/phones", R"({"users": "1000", "pasword": "x"})");
  CHECK(r.status == 400);
  CHECK(error_code(r) == "unknown_field");
  CHECK(contains(error_message(r), "'pasword'"));

  for (const char* body :
       {R"({"users": 1000})", R"({"users": "1000", "register": "yes"})",
        R"({"users": "1000", "transport": "sctp"})", R"({"users": "1000", "domain": 7})",
        R"({"users": "1000", "password": null})", R"({"users": "1000", "domain": "a b"})"}) {
    CAPTURE(body);
    r = a.send("POST", "/v1/phones", body);
    CHECK(r.status == 400);
    CHECK(error_code(r) == "bad_field");
  }
  CHECK(contains(error_message(a.send("POST", "/v1/phones", R"({"users": "1000", "register": 1})")),
                 "'register'"));

  r = a.send("POST", "/v1/phones", R"({"domain": "x.test"})");
  CHECK(r.status == 400);
  CHECK(error_code(r) == "missing_field");
  CHECK(contains(error_message(r), "'users'"));
  CHECK(a.b.created.empty());
}

TEST_CASE("POST /v1/phones passes the backend's 409 on when a user exists") {
  api a;
  a.four_phones();
  const auto r = a.send("POST", "/v1/phones", R"({"users": "1003-1005"})");
  CHECK(r.status == 409);
  CHECK(error_code(r) == "exists");
  CHECK(contains(error_message(r), "1003"));
}

TEST_CASE("GET /v1/phones pages in user order with total, limit and offset") {
  api a;
  REQUIRE(a.send("POST", "/v1/phones", R"({"users": "1000-1249"})").status == 201);
  auto r = a.send("GET", "/v1/phones");
  CHECK(r.status == 200);
  auto v = body_of(r);
  CHECK(v.at("total") == 250);
  CHECK(v.at("limit") == 100);
  CHECK(v.at("offset") == 0);
  CHECK(v.at("phones").as_array().size() == 100);
  CHECK(v.at("phones").at(0) ==
        json::parse(R"({"user": "1000", "registration": "registering", "active_calls": 0})"));

  v = body_of(a.send("GET", "/v1/phones?limit=20&offset=240"));
  CHECK(v.at("phones").as_array().size() == 10);
  CHECK(v.at("phones").at(0).at("user") == "1240");
  CHECK(v.at("limit") == 20);
  CHECK(v.at("offset") == 240);
  CHECK(body_of(a.send("GET", "/v1/phones?offset=1000")).at("phones").as_array().empty());
  CHECK(body_of(a.send("GET", "/v1/phones?limit=1000")).at("phones").as_array().size() == 250);
}

TEST_CASE("GET /v1/phones filters by registration state") {
  api a;
  a.four_phones();
  const auto v = body_of(a.send("GET", "/v1/phones?state=registered"));
  CHECK(v.at("total") == 2);
  CHECK(v.at("phones").at(1).at("user") == "1001");
  CHECK(v.at("phones").at(1).at("registration") == "registered");
  CHECK(body_of(a.send("GET", "/v1/phones?state=unregistered")).at("total") == 2);
  CHECK(body_of(a.send("GET", "/v1/phones?state=failed")).at("total") == 0);
}

TEST_CASE(
    "GET /v1/phones refuses a bad limit, offset or state and unknown parameters, naming them") {
  api a;
  for (const char* q : {"limit=0", "limit=1001", "limit=-1", "limit=ten", "limit=", "limit=1.5",
                        "offset=-3", "offset=99999999999", "state=online", "state="}) {
    CAPTURE(q);
    const auto r = a.send("GET", std::string("/v1/phones?") + q);
    CHECK(r.status == 400);
    CHECK(error_code(r) == "bad_parameter");
    CHECK(contains(error_message(r), std::string(q).substr(0, std::string(q).find('='))));
  }
  auto r = a.send("GET", "/v1/phones?limt=10");
  CHECK(error_code(r) == "unknown_parameter");
  CHECK(contains(error_message(r), "'limt'"));
  r = a.send("GET", "/v1/phones?limit=10&limit=20");
  CHECK(error_code(r) == "bad_parameter");
  CHECK(a.send("GET", "/v1/phones/1000?verbose=1").status == 400);
}

TEST_CASE("GET /v1/phones/{user} shows registration, expiry, behaviour, counters and calls") {
  api a;
  const auto id = a.ringing_call();
  auto& p = a.b.phones["1001"].view;
  p.expires = 3600;
  p.counters.calls_received = 1;
  p.calls.push_back(a.b.calls[id].legs[1].record);
  const auto r = a.send("GET", "/v1/phones/1001");
  CHECK(r.status == 200);
  const auto v = body_of(r);
  CHECK(v.at("user") == "1001");
  CHECK(v.at("domain") == "sipfleet.test");
  CHECK(v.at("registration") == "registered");
  CHECK(v.at("expires") == 3600);
  CHECK(
      v.at("behaviour") ==
      json::parse(
          R"({"answer":"auto","answer_delay_ms":0,"reject_code":486,"dnd":false,"forward_to":""})"));
  CHECK(v.at("counters").at("calls_received") == 1);
  CHECK(v.at("counters").as_object().size() == 8);
  REQUIRE(v.at("calls").as_array().size() == 1);
  CHECK(v.at("calls").at(0).at("call_id") == json::value(id));
  CHECK(v.at("calls").at(0).at("direction") == "incoming");
  CHECK(v.at("calls").at(0).at("state") == "ringing");
}

TEST_CASE("an unknown phone is 404 on every phone route") {
  api a;
  const std::pair<const char*, const char*> cases[] = {{"GET", "/v1/phones/42"},
                                                       {"PATCH", "/v1/phones/42"},
                                                       {"DELETE", "/v1/phones/42"},
                                                       {"POST", "/v1/phones/42/register"},
                                                       {"POST", "/v1/phones/42/unregister"},
                                                       {"POST", "/v1/phones/42/calls"}};
  for (const auto& [method, target] : cases) {
    CAPTURE(target);
    const std::string body = std::string(method) == "PATCH"           ? R"({"dnd": true})"
                             : std::string(target).ends_with("calls") ? R"({"to": "1"})"
                                                                      : "";
    const auto r = a.send(method, target, body);
    CHECK(r.status == 404);
    CHECK(error_code(r) == "not_found");
  }
}

TEST_CASE("a password is never in any response: create, get, list, patch") {
  api a;
  const auto created =
      a.send("POST", "/v1/phones", R"({"users": "1000-1001", "password": "s3cret"})");
  CHECK(a.b.phones.at("1000").password == "s3cret");  // the backend has it
  const http_response answers[] = {
      created,
      a.send("GET", "/v1/phones/1000"),
      a.send("GET", "/v1/phones"),
      a.send("PATCH", "/v1/phones/1000", R"({"dnd": true})"),
      a.send("POST", "/v1/phones", R"({"users": "1000", "password": "s3cret"})"),
      a.send("POST", "/v1/phones", R"({"users": "1000", "password": 5})"),
      a.send("GET", "/v1/stats")};
  for (const auto& r : answers) {
    CAPTURE(r.body);
    CHECK_FALSE(contains(r.body, "s3cret"));
  }
  for (const auto& r : {answers[1], answers[2], answers[3]})
    CHECK_FALSE(contains(r.body, "password"));
}

TEST_CASE("PATCH /v1/phones/{user} changes only the fields given and answers the phone") {
  api a;
  a.four_phones();
  auto r = a.send("PATCH", "/v1/phones/1000", R"({"answer": "manual", "answer_delay_ms": 2500})");
  CHECK(r.status == 200);
  CHECK(
      body_of(r).at("behaviour") ==
      json::parse(
          R"({"answer":"manual","answer_delay_ms":2500,"reject_code":486,"dnd":false,"forward_to":""})"));
  r = a.send(
      "PATCH", "/v1/phones/1000",
      R"({"answer": "reject", "reject_code": 603, "dnd": true, "forward_to": "sip:1003@example.test"})");
  CHECK(body_of(r).at("behaviour") ==
        json::parse(R"({"answer":"reject","answer_delay_ms":2500,"reject_code":603,"dnd":true,
                        "forward_to":"sip:1003@example.test"})"));
  r = a.send("PATCH", "/v1/phones/1000", R"({"forward_to": "", "answer": "auto"})");
  CHECK(body_of(r).at("behaviour").at("forward_to") == "");
  CHECK(body_of(r).at("behaviour").at("answer") == "auto");
}

TEST_CASE(
    "PATCH /v1/phones/{user} refuses an empty object, unknown fields and values out of range") {
  api a;
  a.four_phones();
  auto r = a.send("PATCH", "/v1/phones/1000", "{}");
  CHECK(r.status == 400);
  CHECK(error_code(r) == "missing_field");
  CHECK(error_code(a.send("PATCH", "/v1/phones/1000", "")) == "bad_json");
  r = a.send("PATCH", "/v1/phones/1000", R"({"colour": "red"})");
  CHECK(error_code(r) == "unknown_field");
  CHECK(contains(error_message(r), "'colour'"));
  for (const char* body :
       {R"({"answer": "maybe"})", R"({"answer": 1})", R"({"answer_delay_ms": -1})",
        R"({"answer_delay_ms": 3600001})", R"({"answer_delay_ms": 1.5})", R"({"reject_code": 399})",
        R"({"reject_code": 700})", R"({"reject_code": "486"})", R"({"dnd": "true"})",
        R"({"forward_to": 1003})", R"({"forward_to": "a\r\nVia: x"})",
        R"({"answer_delay_ms": 18446744073709551615})"}) {
    CAPTURE(body);
    r = a.send("PATCH", "/v1/phones/1000", body);
    CHECK(r.status == 400);
    CHECK(error_code(r) == "bad_field");
  }
  CHECK(a.b.phones.at("1000").view.behaviour == sipfleet::ua::behaviour{});
  CHECK(a.send("PATCH", "/v1/phones/1000", R"({"answer_delay_ms": 3600000, "reject_code": 699})")
            .status == 200);
}

TEST_CASE(
    "register and unregister answer 202 with the new status; a state that does not fit is 409") {
  api a;
  a.four_phones();
  auto r = a.send("POST", "/v1/phones/1002/register");
  CHECK(r.status == 202);
  CHECK(body_of(r) == json::parse(R"({"user": "1002", "status": "registering"})"));
  r = a.send("POST", "/v1/phones/1002/register", "{}");
  CHECK(r.status == 409);
  CHECK(error_code(r) == "wrong_state");
  r = a.send("POST", "/v1/phones/1000/unregister", "{}");
  CHECK(r.status == 202);
  CHECK(body_of(r) == json::parse(R"({"user": "1000", "status": "unregistering"})"));
  CHECK(a.send("POST", "/v1/phones/1003/unregister").status == 409);
  CHECK(error_code(a.send("POST", "/v1/phones/1003/register", R"({"expires": 60})")) ==
        "unknown_field");
}

TEST_CASE("DELETE /v1/phones/{user} answers 204 with an empty body, then the phone is gone") {
  api a;
  a.four_phones();
  const auto r = a.send("DELETE", "/v1/phones/1002");
  CHECK(r.status == 204);
  CHECK(r.body.empty());
  CHECK(a.send("GET", "/v1/phones/1002").status == 404);
  CHECK(a.send("DELETE", "/v1/phones/1002").status == 404);
}
