// The control API's call routes (issue 5): place a call, list and show calls (Call-IDs
// percent-decoded), and the actions on them with their 400, 404 and 409 answers.
#include "router_fixture.hpp"

namespace json = boost::json;
using namespace sipfleet::control_api;
using namespace sipfleet::control_api::testing;

// ---- calls --------------------------------------------------------------------------------------

TEST_CASE("POST /v1/phones/{user}/calls places a call and answers its Call-ID and Location") {
  api a;
  a.four_phones();
  const auto r = a.send("POST", "/v1/phones/1000/calls",
                        R"({"to": "sip:2000@example.test", "hold_ms": 5000, "dtmf": "12#*AD"})");
  CHECK(r.status == 201);
  CHECK(body_of(r) == json::parse(R"({"call_id": "a1/b%2@host.test"})"));
  CHECK(header(r, "Location") == "/v1/calls/a1%2Fb%252%40host.test");
  REQUIRE(a.b.placed.size() == 1);
  CHECK(a.b.placed[0].user == "1000");
  CHECK(a.b.placed[0].to == "sip:2000@example.test");
  CHECK(a.b.placed[0].hold_ms == 5000);
  CHECK(a.b.placed[0].dtmf == "12#*AD");

  CHECK(a.send("POST", "/v1/phones/1001/calls", R"({"to": "1002"})").status == 201);
  CHECK(a.b.placed[1].hold_ms == 0);
  CHECK(a.b.placed[1].dtmf.empty());
  // The Location leads back to the call.
  CHECK(a.send("GET", header(r, "Location")).status == 200);
}

TEST_CASE("POST /v1/phones/{user}/calls validates to, hold_ms and dtmf, naming the field") {
  api a;
  a.four_phones();
  const std::pair<const char*, const char*> cases[] = {
      {R"({})", "'to'"},
      {R"({"to": ""})", "'to'"},
      {R"({"to": 1002})", "'to'"},
      {R"({"to": "10\u0000"})", "'to'"},
      {R"({"to": "1002\r\nX: y"})", "'to'"},
      {R"({"to": "10 02"})", "'to'"},
      {R"({"to": "1002", "hold_ms": -1})", "'hold_ms'"},
      {R"({"to": "1002", "hold_ms": "5s"})", "'hold_ms'"},
      {R"({"to": "1002", "hold_ms": 2.5})", "'hold_ms'"},
      {R"({"to": "1002", "dtmf": "12x"})", "'dtmf'"},
      {R"({"to": "1002", "dtmf": 12})", "'dtmf'"},
      {R"({"to": "1002", "from": "1000"})", "'from'"},
  };
  for (const auto& [body, field] : cases) {
    CAPTURE(body);
    const auto r = a.send("POST", "/v1/phones/1000/calls", body);
    CHECK(r.status == 400);
    CHECK(contains(error_message(r), field));
  }
  CHECK(error_code(a.send("POST", "/v1/phones/1000/calls", R"({"to": "1002", "from": "1000"})")) ==
        "unknown_field");
  CHECK(error_code(a.send("POST", "/v1/phones/1000/calls", R"({"hold_ms": 1})")) ==
        "missing_field");
  CHECK(a.send("POST", "/v1/phones/1000/calls", R"({"to": ")" + std::string(257, '1') + "\"}")
            .status == 400);
  CHECK(a.send("POST", "/v1/phones/1000/calls",
               R"({"to": "1", "dtmf": ")" + std::string(65, '1') + "\"}")
            .status == 400);
  CHECK(a.b.placed.empty());
  const auto r = a.send("POST", "/v1/phones/1000/calls", R"({"to": "no-port"})");
  CHECK(r.status == 503);
  CHECK(error_code(r) == "unavailable");
}

TEST_CASE("GET /v1/calls lists calls, filtered by state and by user") {
  api a;
  const auto id = a.ringing_call();
  a.b.next_call_id = "second@host";
  REQUIRE(a.send("POST", "/v1/phones/1002/calls", R"({"to": "sip:9@elsewhere"})").status == 201);

  auto v = body_of(a.send("GET", "/v1/calls"));
  CHECK(v.at("calls").as_array().size() == 2);
  v = body_of(a.send("GET", "/v1/calls?state=ringing"));
  REQUIRE(v.at("calls").as_array().size() == 1);
  CHECK(v.at("calls").at(0).at("call_id") == json::value(id));
  v = body_of(a.send("GET", "/v1/calls?user=1002"));
  REQUIRE(v.at("calls").as_array().size() == 1);
  CHECK(v.at("calls").at(0).at("call_id") == "second@host");
  CHECK(body_of(a.send("GET", "/v1/calls?state=connected")).at("calls").as_array().empty());
  CHECK(body_of(a.send("GET", "/v1/calls?user=1000&state=calling")).at("calls").as_array().size() ==
        1);

  auto r = a.send("GET", "/v1/calls?state=up");
  CHECK(r.status == 400);
  CHECK(contains(error_message(r), "'state'"));
  r = a.send("GET", "/v1/calls?caller=1000");
  CHECK(error_code(r) == "unknown_parameter");
}

TEST_CASE(
    "GET /v1/calls/{id} percent-decodes the Call-ID and shows both legs, the caller's first") {
  api a;
  const auto id = a.ringing_call();
  REQUIRE(id == "a1/b%2@host.test");
  const auto r = a.send("GET", "/v1/calls/a1%2Fb%252%40host.test");
  CHECK(r.status == 200);
  const auto v = body_of(r);
  CHECK(v.at("call_id") == json::value(id));
  CHECK(v.at("state") == "calling");
  REQUIRE(v.at("legs").as_array().size() == 2);
  CHECK(v.at("legs").at(0).at("user") == "1000");
  CHECK(v.at("legs").at(0).at("direction") == "outgoing");
  CHECK(v.at("legs").at(0).at("peer") == "1001");
  CHECK(v.at("legs").at(1).at("user") == "1001");
  CHECK(v.at("legs").at(1).at("state") == "ringing");
  CHECK(v.at("legs").at(0).at("started_at").is_int64());
  // '@' needs no escaping in a path; '+' in a path is a plus sign.
  a.b.calls["x+y@h"] = {.call_id = "x+y@h", .legs = {}};
  CHECK(a.send("GET", "/v1/calls/x+y@h").status == 200);
  CHECK(body_of(a.send("GET", "/v1/calls/x+y@h")).at("state") == "ended");
}

TEST_CASE("query values are percent-decoded, '+' as a space") {
  api a;
  a.four_phones();
  a.b.phones["a b"].view.user = "a b";
  CHECK(a.send("POST", "/v1/phones/a%20b/calls", R"({"to": "1000"})").status == 201);
  CHECK(body_of(a.send("GET", "/v1/calls?user=a+b")).at("calls").as_array().size() == 1);
  CHECK(body_of(a.send("GET", "/v1/calls?user=a%20b")).at("calls").as_array().size() == 1);
  CHECK(body_of(a.send("GET", "/v1/calls?%75ser=a%20b")).at("calls").as_array().size() == 1);
}

TEST_CASE("call actions answer 202 and pass the operation, its argument and the leg's user on") {
  api a;
  const auto id = a.ringing_call();
  const std::string base = "/v1/calls/a1%2Fb%252%40host.test";
  struct step {
    const char* method;
    std::string path;
    const char* body;
    call_op op;
    const char* action;
    const char* arg;
    const char* user;
  };
  const step steps[] = {
      {"POST", base + "/answer", "", call_op::answer, "answer", "", ""},
      {"POST", base + "/hold?user=1001", "", call_op::hold, "hold", "", "1001"},
      {"POST", base + "/resume", R"({"user": "1001"})", call_op::resume, "resume", "", "1001"},
      {"POST", base + "/dtmf", R"({"digits": "12#"})", call_op::dtmf, "dtmf", "12#", ""},
      {"POST", base + "/transfer", R"({"to": "1003", "user": "1000"})", call_op::transfer,
       "transfer", "1003", "1000"},
      {"DELETE", base, "{}", call_op::hangup, "hangup", "", ""},
  };
  for (const auto& s : steps) {
    CAPTURE(s.path);
    const auto r = a.send(s.method, s.path, s.body);
    CHECK(r.status == 202);
    CHECK(body_of(r) == json::value(json::object{{"call_id", id}, {"action", s.action}}));
    REQUIRE_FALSE(a.b.actions.empty());
    const auto& done = a.b.actions.back();
    CHECK(done.call_id == id);
    CHECK(done.op == s.op);
    CHECK(done.arg == s.arg);
    CHECK(done.user == s.user);
  }
}

TEST_CASE("an action that does not fit the call's state is 409 wrong_state") {
  api a;
  const auto id = a.ringing_call();
  const std::string base = "/v1/calls/a1%2Fb%252%40host.test";
  for (const char* action : {"/hold", "/resume", "/transfer", "/dtmf"}) {
    CAPTURE(action);
    const std::string body = std::string(action) == "/dtmf"       ? R"({"digits":"1"})"
                             : std::string(action) == "/transfer" ? R"({"to":"1003"})"
                                                                  : "";
    const auto r = a.send("POST", base + action, body);
    CHECK(r.status == 409);
    CHECK(error_code(r) == "wrong_state");
  }
  // The caller's leg is not ringing: answering it does not fit.
  CHECK(a.send("POST", base + "/answer?user=1000").status == 409);
  CHECK(a.send("POST", base + "/answer").status == 202);
  CHECK(a.send("POST", base + "/answer").status == 409);
}

TEST_CASE("dtmf and transfer need their field, and action bodies take only their own fields") {
  api a;
  a.ringing_call();
  const std::string base = "/v1/calls/a1%2Fb%252%40host.test";
  const std::pair<std::string, const char*> cases[] = {
      {"/dtmf", "{}"},
      {"/dtmf", R"({"digits": ""})"},
      {"/dtmf", R"({"digits": "12e"})"},
      {"/dtmf", R"({"digits": 12})"},
      {"/transfer", R"({})"},
      {"/transfer", R"({"to": ""})"},
      {"/transfer", R"({"to": ["1003"]})"},
      {"/answer", R"({"digits": "1"})"},
      {"/hold", R"({"user": 1001})"},
      {"/resume", R"([])"},
      {"/answer?user=1001", R"({"user": "1000"})"},
      {"/answer?colour=red", ""},
  };
  for (const auto& [action, body] : cases) {
    CAPTURE(action);
    CAPTURE(body);
    CHECK(a.send("POST", base + action, body).status == 400);
  }
  CHECK(error_code(a.send("POST", base + "/dtmf", "")) == "bad_json");
  CHECK(error_code(a.send("POST", base + "/dtmf", "{}")) == "missing_field");
  CHECK(error_code(a.send("POST", base + "/answer", R"({"digits": "1"})")) == "unknown_field");
  CHECK(error_code(a.send("DELETE", base, R"({"reason": "bye"})")) == "unknown_field");
  CHECK(a.send("POST", base + "/dtmf", R"({"digits": ")" + std::string(65, '1') + "\"}").status ==
        400);
  CHECK(a.b.actions.empty());
}

TEST_CASE("an unknown call is 404 for every call route") {
  api a;
  const std::pair<const char*, const char*> cases[] = {
      {"GET", ""},         {"DELETE", ""},    {"POST", "/answer"},  {"POST", "/hold"},
      {"POST", "/resume"}, {"POST", "/dtmf"}, {"POST", "/transfer"}};
  for (const auto& [method, action] : cases) {
    CAPTURE(action);
    const std::string body = std::string(action) == "/dtmf"       ? R"({"digits":"1"})"
                             : std::string(action) == "/transfer" ? R"({"to":"1003"})"
                                                                  : "";
    const auto r = a.send(method, std::string("/v1/calls/nope%40h") + action, body);
    CHECK(r.status == 404);
    CHECK(error_code(r) == "not_found");
  }
}
