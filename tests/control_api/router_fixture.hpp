// What the router's tests share: a router over a fake backend (fake_backend.hpp) with a
// request helper and small readers of the answer.
#pragma once

#include <doctest/doctest.h>

#include <boost/json.hpp>

#include <string>
#include <string_view>

#include "control_api/router.hpp"
#include "fake_backend.hpp"

namespace sipfleet::control_api::testing {

namespace json = boost::json;
using ua::call_state;
using ua::registration_state;

struct api {
  fake_backend b;
  router_options options;

  http_response send(std::string method, std::string target, std::string body = "",
                     std::string authorization = "") {
    return route({.method = std::move(method),
                  .target = std::move(target),
                  .authorization = std::move(authorization),
                  .content_type = "application/json",
                  .body = std::move(body)},
                 b, options);
  }

  // 1000-1003 created (password "s3cret"), 1000 and 1001 registered.
  void four_phones() {
    REQUIRE(send("POST", "/v1/phones",
                 R"({"users": "1000-1003", "password": "s3cret", "register": false})")
                .status == 201);
    b.phones["1000"].view.registration = ua::registration_state::registered;
    b.phones["1001"].view.registration = ua::registration_state::registered;
  }

  // 1000 calls 1001 (both ours): a call of two legs, ringing at 1001. -> its Call-ID.
  std::string ringing_call() {
    four_phones();
    const auto r = send("POST", "/v1/phones/1000/calls", R"({"to": "1001"})");
    REQUIRE(r.status == 201);
    return std::string(json::parse(r.body).at("call_id").as_string());
  }
};

inline json::value body_of(const http_response& r) {
  return json::parse(r.body);
}

// "" for a success.
inline std::string error_code(const http_response& r) {
  if (r.status < 400) return "";
  return std::string(json::parse(r.body).at("error").at("code").as_string());
}

inline std::string error_message(const http_response& r) {
  return std::string(json::parse(r.body).at("error").at("message").as_string());
}

inline std::string header(const http_response& r, std::string_view name) {
  for (const auto& [n, v] : r.headers)
    if (n == name) return v;
  return "";
}

inline bool contains(const std::string& s, std::string_view part) {
  return s.find(part) != std::string::npos;
}

// "/v1/calls/{id}/hold" with the placeholders filled in.
inline std::string concrete(std::string path) {
  for (const auto& [placeholder, value] : {std::pair{"{user}", "1000"}, std::pair{"{id}", "x"}})
    if (const auto at = path.find(placeholder); at != std::string::npos)
      path.replace(at, std::string(placeholder).size(), value);
  return path;
}

}  // namespace sipfleet::control_api::testing
