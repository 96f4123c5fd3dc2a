// The control API's JSON shapes: how phones, calls, legs, media figures and campaigns look on
// the wire (control_api/openapi.json's components.schemas describe the same), and the enum
// names both ways. Kept apart from the router so that routing (control_api/router.cpp) reads
// as a table of routes and the shapes can be tested on their own.
#pragma once

#include <boost/json.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

#include "control_api/backend.hpp"

namespace sipfleet::control_api {

std::string_view to_string(ua::registration_state s);
std::string_view to_string(ua::call_state s);
std::string_view to_string(ua::answer_mode m);
std::string_view to_string(call_op op);
std::optional<ua::registration_state> parse_registration_state(std::string_view s);
std::optional<ua::call_state> parse_call_state(std::string_view s);
std::optional<ua::answer_mode> parse_answer_mode(std::string_view s);

// Call records hold steady_clock time points (immune to clock steps); the API shows UNIX epoch
// milliseconds. One anchor per response keeps every timestamp in it consistent; tests pass a
// fixed one.
struct clock_anchor {
  ua::clock::time_point steady{};
  std::chrono::system_clock::time_point system{};
  static clock_anchor now() { return {ua::clock::now(), std::chrono::system_clock::now()}; }
  std::int64_t epoch_ms(ua::clock::time_point t) const;
};

boost::json::object to_json(const phone_summary& p);
// Never the password: phone_view has none, and nothing here reads ua::phone_config.
boost::json::object to_json(const phone_view& p, const clock_anchor& at);
boost::json::object to_json(const ua::media_stats& m);
// One phone's side of a call, with the call's id (a phone's "calls" list has no parent call).
boost::json::object leg_json(const std::string& user, const ua::call_record& r,
                             const clock_anchor& at);
boost::json::object to_json(const call_view& c, const clock_anchor& at);
// The campaign's stats_json is parsed and embedded; a backend that produced no valid JSON is
// an internal error, not something to pass on as a string.
outcome<boost::json::object> to_json(const campaign_view& c);

}  // namespace sipfleet::control_api
