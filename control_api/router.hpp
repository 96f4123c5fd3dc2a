// The control API's routes as a pure function: an HTTP request (method, target, headers that
// matter, body) in, a response out, against a backend (control_api/backend.hpp). No sockets:
// the server (control_api/server.cpp) reads requests and writes what this returns, and the
// tests call it directly. Every route, its errors and its JSON shapes are here; the OpenAPI
// document (control_api/openapi.json) describes the same routes (a test compares them).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "control_api/backend.hpp"

namespace sipfleet::control_api {

struct http_request {
  std::string method;         // "GET", "POST", ...
  std::string target;         // "/v1/phones?state=registered&limit=10"
  std::string authorization;  // the Authorization header, as sent
  std::string content_type;
  std::string body;
};

struct http_response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // e.g. Allow, WWW-Authenticate
};

struct router_options {
  std::string token;  // non-empty: every request needs "Authorization: Bearer <token>"
};

// One route: method and path template ("/v1/phones/{user}"), as the OpenAPI document lists them.
struct route_spec {
  std::string method;
  std::string path;
};
const std::vector<route_spec>& routes();

// Answers one request. Errors are {"error": {"code", "message"}} with a 4xx/5xx status.
http_response route(const http_request& request, backend& b, const router_options& options);

// The bearer-token check alone (constant time); used by the server before a WebSocket upgrade.
bool authorized(std::string_view authorization, const router_options& options);

// GET /v1/events?user=1001&type=call. : which events a WebSocket client wants.
struct event_filter {
  std::string user;         // empty: every phone
  std::string type_prefix;  // empty: every type
  bool matches(std::string_view user_, std::string_view type) const {
    return (user.empty() || user == user_) && type.substr(0, type_prefix.size()) == type_prefix;
  }
};
// The filter from a request target, or 400 naming the bad parameter.
outcome<event_filter> parse_event_filter(std::string_view target);

// The error body and status for an api_error (shared with the server for its own errors: 413,
// 408, 503 when too many connections).
http_response error_response(const api_error& e);

// The OpenAPI 3 document served at GET /v1/openapi.json.
std::string_view openapi_document();

}  // namespace sipfleet::control_api
