// The control API's routing as a pure function (issue 5): the service routes, what every
// route shares (no route, wrong method, the bearer token, bodies) and the campaign routes,
// against a backend with tables in memory (fake_backend.hpp). No sockets.
#include "router_fixture.hpp"

namespace json = boost::json;
using namespace sipfleet::control_api;
using namespace sipfleet::control_api::testing;

// ---- service routes -----------------------------------------------------------------------------

TEST_CASE("GET /v1/health answers status ok") {
  api a;
  const auto r = a.send("GET", "/v1/health");
  CHECK(r.status == 200);
  CHECK(r.content_type == "application/json");
  CHECK(body_of(r) == json::parse(R"({"status":"ok"})"));
}

TEST_CASE("GET /v1/openapi.json serves the embedded OpenAPI document") {
  api a;
  const auto r = a.send("GET", "/v1/openapi.json");
  CHECK(r.status == 200);
  CHECK(r.body == openapi_document());
  CHECK(body_of(r).at("openapi") == "3.0.3");
}

TEST_CASE("GET /metrics answers the backend's Prometheus text as text/plain version 0.0.4") {
  api a;
  const auto r = a.send("GET", "/metrics");
  CHECK(r.status == 200);
  CHECK(r.content_type == "text/plain; version=0.0.4");
  CHECK(r.body == a.b.metrics);
}

TEST_CASE("GET /v1/stats passes the backend's JSON through, and {} when it has none") {
  api a;
  CHECK(a.send("GET", "/v1/stats").body == a.b.stats);
  a.b.stats.clear();
  CHECK(a.send("GET", "/v1/stats").body == "{}");
}

TEST_CASE("a plain GET /v1/events is answered 426 with Upgrade: websocket") {
  api a;
  const auto r = a.send("GET", "/v1/events?type=call.");
  CHECK(r.status == 426);
  CHECK(error_code(r) == "upgrade_required");
  CHECK(header(r, "Upgrade") == "websocket");
  CHECK(a.send("GET", "/v1/events?colour=red").status == 400);
}

TEST_CASE("parse_event_filter reads user and type, decoded, and refuses other parameters") {
  auto f = parse_event_filter("/v1/events?user=1001&type=call.");
  REQUIRE(f.ok());
  CHECK(f->user == "1001");
  CHECK(f->type_prefix == "call.");
  CHECK(f->matches("1001", "call.answered"));
  CHECK_FALSE(f->matches("1002", "call.answered"));
  CHECK_FALSE(f->matches("1001", "phone.registered"));

  auto all = parse_event_filter("/v1/events");
  REQUIRE(all.ok());
  CHECK(all->matches("1", "phone.registered"));
  CHECK(parse_event_filter("/v1/events?type=call%2Eended")->type_prefix == "call.ended");

  const auto bad = parse_event_filter("/v1/events?users=1001");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.err().kind == error_kind::bad_request);
  CHECK(bad.err().code == "unknown_parameter");
  CHECK(contains(bad.err().message, "users"));
  CHECK_FALSE(parse_event_filter("/v1/events?user=%zz").ok());
}

// ---- routing errors -----------------------------------------------------------------------------

TEST_CASE("an unknown path is 404 no_route naming the path") {
  api a;
  for (const char* target : {"/", "/v2/phones", "/v1/phones/1000/colour", "/v1/phones/",
                             "/v1//phones", "/v1/phones//register", "x"}) {
    CAPTURE(target);
    const auto r = a.send("GET", target);
    CHECK(r.status == (std::string_view(target) == "x" ? 400 : 404));
  }
  const auto r = a.send("GET", "/v1/nothing?x=1");
  CHECK(error_code(r) == "no_route");
  CHECK(error_message(r) == "no route /v1/nothing");
}

TEST_CASE("a known path with the wrong method is 405 with an Allow header listing its methods") {
  api a;
  auto r = a.send("PUT", "/v1/phones/1000");
  CHECK(r.status == 405);
  CHECK(error_code(r) == "method_not_allowed");
  CHECK(header(r, "Allow") == "GET, PATCH, DELETE");
  r = a.send("DELETE", "/v1/phones");
  CHECK(r.status == 405);
  CHECK(header(r, "Allow") == "POST, GET");
  CHECK(header(a.send("GET", "/v1/calls/x/hold"), "Allow") == "POST");
  CHECK(a.send("get", "/v1/health").status == 405);  // methods are case-sensitive (RFC 9110 9.1)
}

TEST_CASE("every route in routes() is served: none answers no_route or 405") {
  api a;
  for (const auto& spec : routes()) {
    CAPTURE(spec.method);
    CAPTURE(spec.path);
    const auto r = a.send(spec.method, concrete(spec.path), "{}");
    CHECK(r.status != 405);
    if (r.status == 404) CHECK(error_code(r) != "no_route");
  }
}

TEST_CASE("bad percent-encoding in the path or the query is 400 bad_target") {
  api a;
  CHECK(error_code(a.send("GET", "/v1/calls/a%2")) == "bad_target");
  CHECK(error_code(a.send("GET", "/v1/calls/a%g0")) == "bad_target");
  CHECK(error_code(a.send("GET", "/v1/calls?user=%")) == "bad_target");
}

TEST_CASE("error_response maps every error kind to its status and fills an empty code") {
  const std::pair<error_kind, int> cases[] = {
      {error_kind::bad_request, 400}, {error_kind::unauthorized, 401},
      {error_kind::not_found, 404},   {error_kind::method_not_allowed, 405},
      {error_kind::conflict, 409},    {error_kind::payload_too_large, 413},
      {error_kind::unavailable, 503}, {error_kind::internal, 500}};
  for (const auto& [kind, status] : cases) {
    const auto r = error_response({.kind = kind, .code = "", .message = "m"});
    CHECK(r.status == status);
    CHECK_FALSE(error_code(r).empty());
    CHECK(error_message(r) == "m");
  }
  CHECK(error_code(error_response(
            {.kind = error_kind::conflict, .code = "exists", .message = ""})) == "exists");
}

// ---- the bearer token ---------------------------------------------------------------------------

TEST_CASE("with a token, a request without Authorization is 401 with WWW-Authenticate: Bearer") {
  api a;
  a.options.token = "t0ken";
  const auto r = a.send("GET", "/v1/phones");
  CHECK(r.status == 401);
  CHECK(error_code(r) == "unauthorized");
  CHECK(header(r, "WWW-Authenticate") == "Bearer");
}

TEST_CASE(
    "with a token, a wrong token is 401 on every route, /metrics, /v1/health and unknown paths "
    "included") {
  api a;
  a.options.token = "t0ken";
  for (const auto& spec : routes()) {
    CAPTURE(spec.path);
    const auto r = a.send(spec.method, concrete(spec.path), "{}", "Bearer wrong");
    CHECK(r.status == 401);
    CHECK(contains(header(r, "WWW-Authenticate"), "invalid_token"));
  }
  CHECK(a.send("GET", "/no/such/path", "", "Bearer t0ke").status == 401);
  CHECK(a.send("GET", "/v1/health", "", "Basic dDBrZW4=").status == 401);
}

TEST_CASE("with a token, the right one is let through, the scheme in any case") {
  api a;
  a.options.token = "t0ken";
  CHECK(a.send("GET", "/v1/health", "", "Bearer t0ken").status == 200);
  CHECK(a.send("GET", "/metrics", "", "bearer t0ken").status == 200);
  CHECK(a.send("GET", "/v1/nothing", "", "BEARER t0ken").status == 404);
}

TEST_CASE("authorized() refuses a prefix, an extension or a case change of the token") {
  const router_options o{.token = "s3cret-token"};
  CHECK(authorized("Bearer s3cret-token", o));
  CHECK_FALSE(authorized("Bearer s3cret-toke", o));
  CHECK_FALSE(authorized("Bearer s3cret-token2", o));
  CHECK_FALSE(authorized("Bearer S3CRET-TOKEN", o));
  CHECK_FALSE(authorized("Bearer ", o));
  CHECK_FALSE(authorized("", o));
  CHECK_FALSE(authorized("s3cret-token", o));
  CHECK(authorized(
      "", router_options{}));  // no token: the API is open (the server allows it on loopback only)
}

// ---- bodies -------------------------------------------------------------------------------------

TEST_CASE("a malformed JSON body is 400 bad_json with the parser's message") {
  api a;
  const auto r = a.send("POST", "/v1/phones", R"({"users": "1000)");
  CHECK(r.status == 400);
  CHECK(error_code(r) == "bad_json");
  CHECK(contains(error_message(r), "not valid JSON: "));
  CHECK(error_code(a.send("POST", "/v1/phones", R"({"users": "1000"} trailing)")) == "bad_json");
}

TEST_CASE("a body that is not a JSON object, or none where one is needed, is 400 bad_json") {
  api a;
  for (const char* body : {R"(["1000"])", "\"1000\"", "42", "null", "", "  \r\n"}) {
    CAPTURE(body);
    const auto r = a.send("POST", "/v1/phones", body);
    CHECK(r.status == 400);
    CHECK(error_code(r) == "bad_json");
  }
  CHECK(a.b.created.empty());
}

TEST_CASE("a body on a route that takes none is 400 unexpected_body unless it is empty") {
  api a;
  a.four_phones();
  CHECK(a.send("GET", "/v1/phones/1000", "  \n").status == 200);
  const auto r = a.send("GET", "/v1/phones/1000", "{}");
  CHECK(r.status == 400);
  CHECK(error_code(r) == "unexpected_body");
  CHECK(error_code(a.send("DELETE", "/v1/phones/1000", R"({"force": true})")) == "unexpected_body");
  CHECK(a.b.phones.count("1000") == 1);
}

// ---- campaigns ----------------------------------------------------------------------------------

TEST_CASE("POST /v1/campaigns starts a campaign with the defaults filled in") {
  api a;
  auto r =
      a.send("POST", "/v1/campaigns",
             R"({"callers": "1000-1499", "callees": "1500-1999", "rate": 12.5, "total": 1000})");
  CHECK(r.status == 201);
  CHECK(body_of(r) == json::parse(R"({"id": "c1"})"));
  CHECK(header(r, "Location") == "/v1/campaigns/c1");
  REQUIRE(a.b.started_campaigns.size() == 1);
  const auto& c = a.b.started_campaigns[0];
  CHECK(c.callers.size() == 500);
  CHECK(c.callees.front() == "1500");
  CHECK(c.rate == 12.5);
  CHECK(c.total == 1000);
  CHECK(c.duration_s == 0);
  CHECK(c.hold_ms == 1000);
  CHECK(c.max_concurrent == 100);

  r = a.send(
      "POST", "/v1/campaigns",
      R"({"callers": "1", "callees": "2", "rate": 10000, "duration_s": 60, "hold_ms": 0, "max_concurrent": 100000})");
  CHECK(r.status == 201);
  const auto& d = a.b.started_campaigns[1];
  CHECK(d.total == 0);
  CHECK(d.duration_s == 60);
  CHECK(d.hold_ms == 0);
  CHECK(d.max_concurrent == 100000);
  CHECK(a.send("POST", "/v1/campaigns",
               R"({"callers": "9999", "callees": "2", "rate": 1, "total": 1})")
            .status == 503);
}

TEST_CASE("POST /v1/campaigns refuses missing, unknown and out-of-range fields, naming them") {
  api a;
  const std::pair<const char*, const char*> cases[] = {
      {R"({"callees": "2", "rate": 1, "total": 1})", "'callers'"},
      {R"({"callers": "1", "rate": 1, "total": 1})", "'callees'"},
      {R"({"callers": "1", "callees": "2", "total": 1})", "'rate'"},
      {R"({"callers": "1", "callees": "2", "rate": 1})", "'total' or 'duration_s'"},
      {R"({"callers": "1", "callees": "2", "rate": 0, "total": 1})", "'rate'"},
      {R"({"callers": "1", "callees": "2", "rate": -1, "total": 1})", "'rate'"},
      {R"({"callers": "1", "callees": "2", "rate": 10001, "total": 1})", "'rate'"},
      {R"({"callers": "1", "callees": "2", "rate": "5", "total": 1})", "'rate'"},
      {R"({"callers": "1", "callees": "2", "rate": 1, "total": 0})", "'total'"},
      {R"({"callers": "1", "callees": "2", "rate": 1, "total": 1.5})", "'total'"},
      {R"({"callers": "1", "callees": "2", "rate": 1, "duration_s": 0})", "'duration_s'"},
      {R"({"callers": "1", "callees": "2", "rate": 1, "total": 1, "hold_ms": -5})", "'hold_ms'"},
      {R"({"callers": "1", "callees": "2", "rate": 1, "total": 1, "max_concurrent": 0})",
       "'max_concurrent'"},
      {R"({"callers": "1", "callees": "2", "rate": 1, "total": 1, "max_concurrent": 100001})",
       "'max_concurrent'"},
      {R"({"callers": "5-1", "callees": "2", "rate": 1, "total": 1})", "'callers'"},
      {R"({"callers": "1", "callees": "x", "rate": 1, "total": 1})", "'callees'"},
      {R"({"callers": "1", "callees": "2", "rate": 1, "total": 1, "speed": 2})", "'speed'"},
  };
  for (const auto& [body, field] : cases) {
    CAPTURE(body);
    const auto r = a.send("POST", "/v1/campaigns", body);
    CHECK(r.status == 400);
    CHECK(contains(error_message(r), field));
  }
  CHECK(a.b.started_campaigns.empty());
}

TEST_CASE("GET /v1/campaigns/{id} shows progress with the statistics embedded as JSON") {
  api a;
  REQUIRE(
      a.send("POST", "/v1/campaigns", R"({"callers": "1", "callees": "2", "rate": 1, "total": 5})")
          .status == 201);
  a.b.campaigns["c1"].started = 4;
  a.b.campaigns["c1"].finished = 3;
  a.b.campaigns["c1"].no_idle_phone = 1;
  const auto r = a.send("GET", "/v1/campaigns/c1");
  CHECK(r.status == 200);
  CHECK(
      body_of(r) ==
      json::parse(R"({"id": "c1", "started": 4, "finished": 3, "no_idle_phone": 1, "placing": true,
                                      "done": false, "stats": {"calls": {"attempted": 0}}})"));
  a.b.campaigns["c1"].stats_json = "not json";
  CHECK(a.send("GET", "/v1/campaigns/c1").status == 500);
  a.b.campaigns["c1"].stats_json = "";
  CHECK(body_of(a.send("GET", "/v1/campaigns/c1")).at("stats") == json::value(json::object{}));
}

TEST_CASE("DELETE /v1/campaigns/{id} answers 202 stopping, then 409; an unknown campaign is 404") {
  api a;
  REQUIRE(
      a.send("POST", "/v1/campaigns", R"({"callers": "1", "callees": "2", "rate": 1, "total": 5})")
          .status == 201);
  auto r = a.send("DELETE", "/v1/campaigns/c1");
  CHECK(r.status == 202);
  CHECK(body_of(r) == json::parse(R"({"id": "c1", "status": "stopping"})"));
  CHECK(a.send("DELETE", "/v1/campaigns/c1").status == 409);
  CHECK(a.send("DELETE", "/v1/campaigns/c9").status == 404);
  r = a.send("GET", "/v1/campaigns/c9");
  CHECK(r.status == 404);
  CHECK(error_code(r) == "not_found");
}
