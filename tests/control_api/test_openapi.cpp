// The OpenAPI document (control_api/openapi.json) against the code (issue 5: "the OpenAPI
// document lists exactly the routes the router serves"): the same paths and methods both
// ways, every reference resolves, the request bodies and query parameters it lists are the
// ones the router takes, and the JSON the router makes has the fields its schemas name.
#include <doctest/doctest.h>

#include <boost/json.hpp>

#include <set>
#include <string>

#include "control_api/json_views.hpp"
#include "control_api/router.hpp"
#include "router_fixture.hpp"

namespace json = boost::json;
using namespace sipfleet::control_api;
using namespace sipfleet::control_api::testing;

namespace {

const json::object& document() {
  static const json::value doc = json::parse(openapi_document());
  return doc.as_object();
}

const std::set<std::string> http_methods{"get",   "put",  "post",    "delete",
                                         "patch", "head", "options", "trace"};

std::string upper(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

// "#/components/schemas/Phone" -> that object.
const json::value& resolve(std::string_view ref) {
  REQUIRE(ref.substr(0, 2) == "#/");
  const json::value* at = &document().at("components");  // every ref here points into components
  ref.remove_prefix(std::string_view("#/components/").size());
  while (!ref.empty()) {
    const auto slash = std::min(ref.find('/'), ref.size());
    at = &at->at(ref.substr(0, slash));
    ref.remove_prefix(std::min(slash + 1, ref.size()));
  }
  return *at;
}

const json::value& deref(const json::value& v) {
  if (v.is_object() && v.as_object().contains("$ref")) return resolve(v.at("$ref").as_string());
  return v;
}

struct operation {
  std::string method;  // "POST"
  std::string path;    // "/v1/phones/{user}/calls"
  const json::object* op;
  const json::object* path_item;
};

std::vector<operation> operations() {
  std::vector<operation> out;
  for (const auto& [path, item] : document().at("paths").as_object())
    for (const auto& [key, op] : item.as_object())
      if (http_methods.count(std::string(key)) > 0)
        out.push_back(
            {upper(std::string(key)), std::string(path), &op.as_object(), &item.as_object()});
  return out;
}

// Path and operation parameters together, resolved.
std::vector<const json::object*> parameters(const operation& o) {
  std::vector<const json::object*> out;
  for (const auto* holder : {o.path_item, o.op})
    if (const auto* list = holder->if_contains("parameters"))
      for (const auto& p : list->as_array()) out.push_back(&deref(p).as_object());
  return out;
}

void collect_refs(const json::value& v, std::vector<std::string>& out) {
  if (v.is_object()) {
    for (const auto& [k, child] : v.as_object()) {
      if (k == "$ref") out.emplace_back(child.as_string());
      collect_refs(child, out);
    }
  } else if (v.is_array()) {
    for (const auto& child : v.as_array()) collect_refs(child, out);
  }
}

// The object's keys are among the schema's properties, and it has every required one.
void check_against_schema(const json::object& o, std::string_view schema_name) {
  CAPTURE(schema_name);
  const auto& schema = document().at("components").at("schemas").at(schema_name).as_object();
  const auto& properties = schema.at("properties").as_object();
  for (const auto& [key, value] : o) {
    CAPTURE(key);
    CHECK(properties.contains(key));
  }
  if (const auto* required = schema.if_contains("required"))
    for (const auto& key : required->as_array()) {
      CAPTURE(key);
      CHECK(o.contains(key.as_string()));
    }
}

}  // namespace

TEST_CASE("the OpenAPI document is OpenAPI 3.0.3 with the schemas and the bearer scheme") {
  const auto& d = document();
  CHECK(d.at("openapi") == "3.0.3");
  CHECK(d.at("info").at("title").is_string());
  CHECK(d.at("info").at("version").is_string());
  const auto& schemas = d.at("components").at("schemas").as_object();
  for (const char* name : {"Error", "Phone", "PhoneSummary", "Call", "CallLeg", "Media", "Campaign",
                           "Stats", "Event"}) {
    CAPTURE(name);
    CHECK(schemas.contains(name));
  }
  CHECK(d.at("components").at("securitySchemes").at("bearer").at("scheme") == "bearer");
}

TEST_CASE("the OpenAPI document lists exactly the routes the router serves, both ways") {
  std::set<std::pair<std::string, std::string>> documented;
  for (const auto& o : operations()) documented.insert({o.method, o.path});
  std::set<std::pair<std::string, std::string>> served;
  for (const auto& r : routes()) served.insert({r.method, r.path});
  for (const auto& route : served) {
    CAPTURE(route.first + " " + route.second);
    CHECK(documented.count(route) == 1);
  }
  for (const auto& op : documented) {
    CAPTURE(op.first + " " + op.second);
    CHECK(served.count(op) == 1);
  }
  CHECK(served.size() == routes().size());  // no route twice
  for (const auto& r : routes())
    if (r.path.starts_with("/v1")) CHECK(document().at("paths").as_object().contains(r.path));
}

TEST_CASE("every $ref in the OpenAPI document resolves") {
  std::vector<std::string> refs;
  collect_refs(document(), refs);
  CHECK(refs.size() > 50);
  for (const auto& ref : refs) {
    CAPTURE(ref);
    CHECK(resolve(ref).is_object());
  }
}

TEST_CASE("every operation declares its path parameters, a 401 and a 2xx answer") {
  for (const auto& o : operations()) {
    CAPTURE(o.method + " " + o.path);
    std::set<std::string> declared;
    for (const auto* p : parameters(o))
      if (p->at("in") == "path") declared.insert(std::string(p->at("name").as_string()));
    std::set<std::string> in_template;
    for (auto at = o.path.find('{'); at != std::string::npos; at = o.path.find('{', at + 1))
      in_template.insert(o.path.substr(at + 1, o.path.find('}', at) - at - 1));
    CHECK(declared == in_template);
    const auto& responses = o.op->at("responses").as_object();
    CHECK(responses.contains("401"));
    bool success = false;
    for (const auto& [status, r] : responses)
      success = success || status.starts_with("2") || status == "101";
    CHECK(success);
  }
}

TEST_CASE("the request bodies the document lists are the fields the router takes") {
  fake_backend b;
  for (const auto& o : operations()) {
    CAPTURE(o.method + " " + o.path);
    const auto send = [&](const json::object& body, std::string query = "") {
      return route({.method = o.method,
                    .target = concrete(o.path) + query,
                    .authorization = "",
                    .content_type = "application/json",
                    .body = json::serialize(body)},
                   b, router_options{});
    };
    const auto* request_body = o.op->if_contains("requestBody");
    if (!request_body) {
      // No body in the document: the router takes none.
      CHECK(error_code(send(json::object{{"x", 1}})) == "unexpected_body");
      continue;
    }
    const auto& schema =
        deref(request_body->at("content").at("application/json").at("schema")).as_object();
    CHECK(schema.at("additionalProperties") == false);
    CHECK(error_code(send(json::object{{"no_such_field", 1}})) == "unknown_field");
    // Every documented field is known to the router (wrong value or not, never "unknown").
    if (const auto* properties = schema.if_contains("properties"))
      for (const auto& [name, p] : properties->as_object()) {
        CAPTURE(name);
        CHECK(error_code(send(json::object{{name, json::array{}}})) != "unknown_field");
      }
    // An empty object is refused for a missing field exactly when the document requires one.
    const auto r = send(json::object{});
    const bool requires_some =
        schema.contains("required") || schema.contains("minProperties") || schema.contains("anyOf");
    CHECK((error_code(r) == "missing_field") == requires_some);
    if (const auto* required = schema.if_contains("required")) {
      bool named = false;
      for (const auto& f : required->as_array())
        named = named || r.body.find("'" + std::string(f.as_string()) + "'") != std::string::npos;
      CHECK(named);
    }
  }
}

TEST_CASE("the query parameters the document lists are the ones the router takes") {
  fake_backend b;
  for (const auto& o : operations()) {
    CAPTURE(o.method + " " + o.path);
    const auto send = [&](const std::string& query) {
      const bool body =
          o.op->contains("requestBody") && o.op->at("requestBody").at("required") == true;
      return route({.method = o.method,
                    .target = concrete(o.path) + query,
                    .authorization = "",
                    .content_type = "application/json",
                    .body = body ? "{}" : ""},
                   b, router_options{});
    };
    CHECK(error_code(send("?no_such_parameter=1")) == "unknown_parameter");
    for (const auto* p : parameters(o)) {
      if (p->at("in") != "query") continue;
      CAPTURE(p->at("name"));
      CHECK(error_code(send("?" + std::string(p->at("name").as_string()) + "=1")) !=
            "unknown_parameter");
    }
  }
}

TEST_CASE("the JSON the router makes has the fields the document's schemas name") {
  fake_backend b;
  const auto send = [&](std::string method, std::string target, std::string body) {
    return json::parse(route({.method = std::move(method),
                              .target = std::move(target),
                              .authorization = "",
                              .content_type = "application/json",
                              .body = std::move(body)},
                             b, router_options{})
                           .body)
        .as_object();
  };
  send("POST", "/v1/phones", R"({"users": "1000-1001"})");
  const auto call_id = std::string(
      send("POST", "/v1/phones/1000/calls", R"({"to": "1001"})").at("call_id").as_string());
  auto& leg = b.calls.at(call_id).legs.front().record;
  leg.ringing = leg.answered = leg.ended = leg.started;
  leg.media.started = true;
  leg.media.rtt_ms = 3.5;
  b.phones.at("1000").view.calls.push_back(leg);

  const auto phone = send("GET", "/v1/phones/1000", "");
  check_against_schema(phone, "Phone");
  check_against_schema(phone.at("behaviour").as_object(), "Behaviour");
  check_against_schema(phone.at("counters").as_object(), "PhoneCounters");
  check_against_schema(phone.at("calls").at(0).as_object(), "CallLeg");
  check_against_schema(phone.at("calls").at(0).at("media").as_object(), "Media");
  check_against_schema(send("GET", "/v1/phones", "").at("phones").at(0).as_object(),
                       "PhoneSummary");
  const auto call = send("GET", "/v1/calls/" + std::string("a1%2Fb%252%40host.test"), "");
  check_against_schema(call, "Call");
  check_against_schema(call.at("legs").at(1).as_object(), "CallLeg");
  check_against_schema(send("POST", "/v1/calls/a1%2Fb%252%40host.test/answer", ""),
                       "CallActionAccepted");
  check_against_schema(send("POST", "/v1/phones/1000/unregister", ""), "RegistrationAccepted");
  send("POST", "/v1/campaigns", R"({"callers": "1", "callees": "2", "rate": 1, "total": 1})");
  check_against_schema(send("GET", "/v1/campaigns/c1", ""), "Campaign");
  check_against_schema(send("GET", "/v1/phones/9", ""), "Error");
}
