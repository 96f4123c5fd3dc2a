// The control API's routes as a pure function (see router.hpp). Every request takes the same
// steps: the bearer token; the path, percent-decoded segment by segment, matched against the
// route table (404 when no route has the path, 405 with Allow when the method is not one of
// its routes'); the query parameters the route takes; the body the route takes; then the
// route's handler, which reads its fields and calls the backend. Each step's error is an
// api_error that names what to fix. The JSON shapes are in json_views.cpp.
#include "control_api/router.hpp"

#include <openssl/crypto.h>

#include <boost/json.hpp>

#include <algorithm>
#include <cctype>
#include <cstdint>

#include "control_api/json_views.hpp"
#include "control_api/request_fields.hpp"

namespace sipfleet::control_api {

namespace json = boost::json;

namespace {

http_response respond(int status, std::string body, std::string content_type = "application/json") {
  http_response r;
  r.status = status;
  r.content_type = std::move(content_type);
  r.body = std::move(body);
  return r;
}

http_response json_response(int status, const json::value& v) {
  return respond(status, json::serialize(v));
}

// An error kind's HTTP status, and the code an api_error without one gets.
std::pair<int, std::string_view> status_of(error_kind k) {
  switch (k) {
    case error_kind::bad_request:
      return {400, "bad_request"};
    case error_kind::unauthorized:
      return {401, "unauthorized"};
    case error_kind::not_found:
      return {404, "not_found"};
    case error_kind::method_not_allowed:
      return {405, "method_not_allowed"};
    case error_kind::conflict:
      return {409, "conflict"};
    case error_kind::payload_too_large:
      return {413, "payload_too_large"};
    case error_kind::unavailable:
      return {503, "unavailable"};
    case error_kind::internal:
      break;
  }
  return {500, "internal"};
}

std::optional<ua::transport_kind> parse_transport(std::string_view s) {
  if (s == "udp") return ua::transport_kind::udp;
  if (s == "tcp") return ua::transport_kind::tcp;
  return std::nullopt;
}

constexpr std::string_view dtmf_digits = "0123456789*#ABCD";
constexpr std::string_view host_chars =
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]";
constexpr std::int64_t max_hold_ms =
    30LL * 24 * 3600 * 1000;  // 30 days; longer: hold_ms 0 and hang up

// ---- The route table -------------------------------------------------------------------------

struct request_context {
  backend& b;
  std::vector<std::string> params;  // the path's {user} or {id}, decoded
  query_params query;
  json::object body;  // empty when the route takes none or none was sent
};

using handler = http_response (*)(request_context&);

struct route_entry {
  std::string_view method;
  std::string_view path;
  body_rule body;
  std::vector<std::string_view> query;  // the query parameters it takes
  handler run;
};

template <class T>
std::optional<http_response> failed(const outcome<T>& o) {
  if (o) return std::nullopt;
  return error_response(o.err());
}

http_response accepted(std::string_view key, const std::string& value, std::string_view what,
                       std::string_view word) {
  return json_response(202, json::object{{key, value}, {what, word}});
}

// -- service

http_response get_health(request_context&) {
  return json_response(200, json::object{{"status", "ok"}});
}

http_response get_openapi(request_context&) {
  return respond(200, std::string(openapi_document()));
}

http_response get_metrics(request_context& c) {
  return respond(200, c.b.metrics_text(), "text/plain; version=0.0.4");
}

http_response get_stats(request_context& c) {
  auto text = c.b.stats_json();
  return respond(200, text.empty() ? "{}" : std::move(text));
}

// A WebSocket upgrade never reaches the router (the server takes it); a plain GET does.
http_response get_events(request_context&) {
  auto r = error_response({.kind = error_kind::bad_request,
                           .code = "upgrade_required",
                           .message = "GET /v1/events is a WebSocket: send Upgrade: websocket"});
  r.status = 426;
  r.headers.emplace_back("Upgrade", "websocket");
  return r;
}

// -- phones

http_response post_phones(request_context& c) {
  body_fields f(c.body, {"users", "domain", "password", "proxy", "transport", "register"});
  phones_request r;
  if (auto users = f.users("users", 100000)) r.users = std::move(*users);
  if (auto domain = f.text("domain", {.max = 253, .alphabet = host_chars}))
    r.domain = std::move(*domain);
  r.password = f.text("password", {.max = 256});
  if (const auto proxy = f.text("proxy", {.max = 64})) {
    r.proxy = parse_proxy(*proxy);
    if (!r.proxy)
      f.fail("proxy",
             "must be IP:PORT (an IPv4 address, or an IPv6 one in brackets; port 1-65535)");
  }
  r.transport = f.choice("transport", parse_transport, "udp, tcp");
  r.register_now = f.boolean("register").value_or(true);
  if (f.error()) return error_response(*f.error());
  const auto created = c.b.create_phones(r);
  if (auto e = failed(created)) return *e;
  return json_response(201, json::object{{"created", created.value()}});
}

http_response get_phones(request_context& c) {
  const auto state = query_choice(c.query, "state", parse_registration_state,
                                  "unregistered, registering, registered, failed, unregistering");
  const auto limit = query_number(c.query, "limit", {.fallback = 100, .min = 1, .max = 1000});
  const auto offset =
      query_number(c.query, "offset", {.fallback = 0, .min = 0, .max = 1'000'000'000});
  if (auto e = failed(state)) return *e;
  if (auto e = failed(limit)) return *e;
  if (auto e = failed(offset)) return *e;
  std::size_t total = 0;
  json::array phones;
  for (const auto& p : c.b.list_phones(state.value(), offset.value(), limit.value(), total))
    phones.push_back(to_json(p));
  return json_response(200, json::object{{"phones", std::move(phones)},
                                         {"total", total},
                                         {"limit", limit.value()},
                                         {"offset", offset.value()}});
}

http_response get_phone(request_context& c) {
  const auto view = c.b.phone(c.params[0]);
  if (auto e = failed(view)) return *e;
  return json_response(200, to_json(view.value(), clock_anchor::now()));
}

http_response patch_phone(request_context& c) {
  body_fields f(c.body, {"answer", "answer_delay_ms", "reject_code", "dnd", "forward_to"});
  if (c.body.empty())
    return error_response(bad_input(
        "missing_field",
        "the body must set one of answer, answer_delay_ms, reject_code, dnd, forward_to"));
  const behaviour_patch p{
      .answer = f.choice("answer", parse_answer_mode, "auto, manual, reject"),
      .answer_delay_ms = f.integer("answer_delay_ms", {.min = 0, .max = 3'600'000}),
      .reject_code = f.integer("reject_code", {.min = 400, .max = 699}),
      .dnd = f.boolean("dnd"),
      .forward_to = f.text("forward_to", {.max = 256}),
  };
  if (f.error()) return error_response(*f.error());
  const auto view = c.b.patch_phone(c.params[0], p);
  if (auto e = failed(view)) return *e;
  return json_response(200, to_json(view.value(), clock_anchor::now()));
}

http_response delete_phone(request_context& c) {
  if (auto e = failed(c.b.delete_phone(c.params[0]))) return *e;
  return respond(204, "");
}

http_response register_phone(request_context& c, bool on) {
  body_fields f(c.body, {});
  if (f.error()) return error_response(*f.error());
  const auto& user = c.params[0];
  if (auto e = failed(on ? c.b.register_phone(user) : c.b.unregister_phone(user))) return *e;
  return accepted("user", user, "status", on ? "registering" : "unregistering");
}

http_response post_call(request_context& c) {
  body_fields f(c.body, {"to", "hold_ms", "dtmf"});
  const auto to = f.text("to", {.required = true, .min = 1, .max = 256});
  const auto hold_ms = f.integer("hold_ms", {.min = 0, .max = max_hold_ms});
  const auto dtmf = f.text("dtmf", {.max = 64, .alphabet = dtmf_digits});
  if (to && to->find(' ') != std::string::npos) f.fail("to", "must not contain spaces");
  if (f.error()) return error_response(*f.error());
  const auto id = c.b.place_call(c.params[0], *to, hold_ms.value_or(0), dtmf.value_or(""));
  if (auto e = failed(id)) return *e;
  auto r = json_response(201, json::object{{"call_id", id.value()}});
  r.headers.emplace_back("Location", "/v1/calls/" + percent_encode(id.value()));
  return r;
}

// -- calls

http_response get_calls(request_context& c) {
  const auto state = query_choice(c.query, "state", parse_call_state,
                                  "calling, ringing, connected, held, ending, ended");
  if (auto e = failed(state)) return *e;
  const auto* user = query_value(c.query, "user");
  const auto at = clock_anchor::now();
  json::array calls;
  for (const auto& v : c.b.list_calls(state.value(), user ? *user : std::string()))
    calls.push_back(to_json(v, at));
  return json_response(200, json::object{{"calls", std::move(calls)}});
}

http_response get_call(request_context& c) {
  const auto view = c.b.call(c.params[0]);
  if (auto e = failed(view)) return *e;
  return json_response(200, to_json(view.value(), clock_anchor::now()));
}

// Answer, hangup, hold, resume, dtmf, transfer: the same shape. "user" (body or query) picks
// the leg when both phones of a call are ours.
http_response act_on_call(request_context& c, call_op op) {
  const std::string_view arg_name = op == call_op::dtmf       ? "digits"
                                    : op == call_op::transfer ? "to"
                                                              : "";
  body_fields f(c.body, arg_name.empty() ? std::vector<std::string_view>{"user"}
                                         : std::vector<std::string_view>{"user", arg_name});
  std::string arg;
  if (op == call_op::dtmf)
    arg = f.text("digits", {.required = true, .min = 1, .max = 64, .alphabet = dtmf_digits})
              .value_or("");
  if (op == call_op::transfer)
    arg = f.text("to", {.required = true, .min = 1, .max = 256}).value_or("");
  if (op == call_op::transfer && arg.find(' ') != std::string::npos)
    f.fail("to", "must not contain spaces");
  auto user = f.text("user", {.min = 1, .max = 64}).value_or("");
  if (const auto* q = query_value(c.query, "user")) {
    if (!user.empty() && user != *q) f.fail("user", "differs between the body and the query");
    user = *q;
  }
  if (f.error()) return error_response(*f.error());
  if (auto e = failed(c.b.act_on_call(c.params[0], op, arg, user))) return *e;
  return accepted("call_id", c.params[0], "action", to_string(op));
}

// -- campaigns

http_response post_campaign(request_context& c) {
  body_fields f(c.body,
                {"callers", "callees", "rate", "total", "duration_s", "hold_ms", "max_concurrent"});
  campaign_request r;
  if (auto callers = f.users("callers", 100000)) r.callers = std::move(*callers);
  if (auto callees = f.users("callees", 100000)) r.callees = std::move(*callees);
  r.rate = f.number("rate", true, 0, 10000).value_or(1);
  const auto total = f.integer("total", {.min = 1});
  const auto duration_s = f.integer("duration_s", {.min = 1, .max = 10LL * 365 * 24 * 3600});
  r.total = static_cast<std::uint64_t>(total.value_or(0));
  r.duration_s = static_cast<std::uint64_t>(duration_s.value_or(0));
  r.hold_ms = f.integer("hold_ms", {.min = 0, .max = max_hold_ms}).value_or(1000);
  r.max_concurrent = static_cast<std::size_t>(
      f.integer("max_concurrent", {.min = 1, .max = 100000}).value_or(100));
  if (!c.body.contains("total") && !c.body.contains("duration_s") && !f.error())
    return error_response(bad_input("missing_field", "one of 'total' or 'duration_s' is required"));
  if (f.error()) return error_response(*f.error());
  const auto id = c.b.start_campaign(r);
  if (auto e = failed(id)) return *e;
  auto response = json_response(201, json::object{{"id", id.value()}});
  response.headers.emplace_back("Location", "/v1/campaigns/" + percent_encode(id.value()));
  return response;
}

http_response get_campaign(request_context& c) {
  const auto view = c.b.campaign(c.params[0]);
  if (auto e = failed(view)) return *e;
  const auto body = to_json(view.value());
  if (auto e = failed(body)) return *e;
  return json_response(200, body.value());
}

http_response delete_campaign(request_context& c) {
  if (auto e = failed(c.b.stop_campaign(c.params[0]))) return *e;
  return accepted("id", c.params[0], "status", "stopping");
}

// One function per route for the table: the register pair and the call actions share a body.
template <bool on>
http_response post_registration(request_context& c) {
  return register_phone(c, on);
}

template <call_op op>
http_response call_action(request_context& c) {
  return act_on_call(c, op);
}

// The routes, in the order routes() and the 405 Allow header list them.
const std::vector<route_entry>& table() {
  using enum body_rule;
  using enum call_op;
  static const std::vector<route_entry> t{
      {"GET", "/v1/health", none, {}, get_health},
      {"GET", "/v1/openapi.json", none, {}, get_openapi},
      {"GET", "/metrics", none, {}, get_metrics},
      {"GET", "/v1/stats", none, {}, get_stats},
      {"GET", "/v1/events", none, {"user", "type"}, get_events},
      {"POST", "/v1/phones", required, {}, post_phones},
      {"GET", "/v1/phones", none, {"state", "limit", "offset"}, get_phones},
      {"GET", "/v1/phones/{user}", none, {}, get_phone},
      {"PATCH", "/v1/phones/{user}", required, {}, patch_phone},
      {"DELETE", "/v1/phones/{user}", none, {}, delete_phone},
      {"POST", "/v1/phones/{user}/register", optional, {}, post_registration<true>},
      {"POST", "/v1/phones/{user}/unregister", optional, {}, post_registration<false>},
      {"POST", "/v1/phones/{user}/calls", required, {}, post_call},
      {"GET", "/v1/calls", none, {"state", "user"}, get_calls},
      {"GET", "/v1/calls/{id}", none, {}, get_call},
      {"DELETE", "/v1/calls/{id}", optional, {"user"}, call_action<hangup>},
      {"POST", "/v1/calls/{id}/answer", optional, {"user"}, call_action<answer>},
      {"POST", "/v1/calls/{id}/hold", optional, {"user"}, call_action<hold>},
      {"POST", "/v1/calls/{id}/resume", optional, {"user"}, call_action<resume>},
      {"POST", "/v1/calls/{id}/dtmf", required, {"user"}, call_action<dtmf>},
      {"POST", "/v1/calls/{id}/transfer", required, {"user"}, call_action<transfer>},
      {"POST", "/v1/campaigns", required, {}, post_campaign},
      {"GET", "/v1/campaigns/{id}", none, {}, get_campaign},
      {"DELETE", "/v1/campaigns/{id}", none, {}, delete_campaign},
  };
  return t;
}

// Does `segments` fit the template "/v1/phones/{user}"? The {...} parts go to `params`; they
// must not be empty ("/v1/phones//register" is no route).
bool matches(std::string_view path, const std::vector<std::string>& segments,
             std::vector<std::string>& params) {
  params.clear();
  std::size_t i = 0;
  for (std::size_t pos = 1; pos <= path.size(); ++i) {
    const auto slash = std::min(path.find('/', pos), path.size());
    const auto part = path.substr(pos, slash - pos);
    pos = slash + 1;
    if (i >= segments.size()) return false;
    if (part.front() == '{') {
      if (segments[i].empty()) return false;
      params.push_back(segments[i]);
    } else if (part != segments[i]) {
      return false;
    }
  }
  return i == segments.size();
}

}  // namespace

const std::vector<route_spec>& routes() {
  static const std::vector<route_spec> specs = [] {
    std::vector<route_spec> out;
    for (const auto& r : table()) out.push_back({std::string(r.method), std::string(r.path)});
    return out;
  }();
  return specs;
}

http_response error_response(const api_error& e) {
  const auto [status, name] = status_of(e.kind);
  const std::string_view code = e.code.empty() ? name : std::string_view(e.code);
  return json_response(status, json::object{{"error", {{"code", code}, {"message", e.message}}}});
}

// RFC 6750 section 2.1: "Bearer" (case-insensitive, RFC 7235 section 2.1), a space, the token.
// The token is compared with CRYPTO_memcmp over the token's full length whatever was sent, so
// that neither the time nor an early exit tells how much of a guess was right, or how long
// the token is.
bool authorized(std::string_view authorization, const router_options& options) {
  const std::string& token = options.token;
  if (token.empty()) return true;
  constexpr std::string_view scheme = "bearer ";
  if (authorization.size() < scheme.size()) return false;
  for (std::size_t i = 0; i < scheme.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(authorization[i])) != scheme[i]) return false;
  const auto given = authorization.substr(scheme.size());
  std::string padded(token.size(), '\0');
  std::copy_n(given.begin(), std::min(given.size(), token.size()), padded.begin());
  const bool same = CRYPTO_memcmp(padded.data(), token.data(), token.size()) == 0;
  return same & (given.size() == token.size());
}

outcome<event_filter> parse_event_filter(std::string_view target) {
  auto t = parse_target(target);
  if (!t) return t.err();
  if (auto e = check_query(t->query, {"user", "type"})) return *e;
  event_filter f;
  if (const auto* u = query_value(t->query, "user")) f.user = *u;
  if (const auto* p = query_value(t->query, "type")) f.type_prefix = *p;
  return f;
}

http_response route(const http_request& request, backend& b, const router_options& options) {
  // The token first, for every path: a client without it learns nothing, not even which
  // routes exist.
  if (!authorized(request.authorization, options)) {
    auto r = error_response({.kind = error_kind::unauthorized,
                             .code = "unauthorized",
                             .message = "this API needs Authorization: Bearer <token>"});
    r.headers.emplace_back("WWW-Authenticate", request.authorization.empty()
                                                   ? "Bearer"
                                                   : "Bearer error=\"invalid_token\"");
    return r;
  }
  auto target = parse_target(request.target);
  if (!target) return error_response(target.err());

  request_context c{.b = b, .params = {}, .query = std::move(target->query), .body = {}};
  const route_entry* found = nullptr;
  std::string allow;
  for (const auto& r : table()) {
    std::vector<std::string> params;
    if (!matches(r.path, target->segments, params)) continue;
    allow += (allow.empty() ? "" : ", ") + std::string(r.method);
    if (r.method == request.method) {
      found = &r;
      c.params = std::move(params);
    }
  }
  if (allow.empty())
    return error_response(
        {.kind = error_kind::not_found,
         .code = "no_route",
         .message = "no route " + std::string(request.target.substr(0, request.target.find('?')))});
  if (!found) {
    auto r =
        error_response({.kind = error_kind::method_not_allowed,
                        .code = "method_not_allowed",
                        .message = request.method + " is not allowed here; allowed: " + allow});
    r.headers.emplace_back("Allow", allow);
    return r;
  }
  if (auto e = check_query(c.query, found->query)) return error_response(*e);
  auto body = read_body(request.body, found->body);
  if (auto e = failed(body)) return *e;
  c.body = std::move(body.value());
  return found->run(c);
}

}  // namespace sipfleet::control_api
