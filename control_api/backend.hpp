// What the control API asks of the simulator: the narrow door between the HTTP routes
// (control_api/router.cpp, a pure function) and the fleet of phone actors (app/api_backend.cpp
// implements it over actors::fleet; the router's tests implement it with a table in memory).
// No Beast, CAF or Asio types here; values in, values out.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "actors/ua/phone.hpp"

namespace sipfleet::control_api {

// Why a request could not be carried out; the router maps it to the HTTP status.
enum class error_kind : std::uint8_t {
  bad_request,        // 400: a malformed body or a bad value (the message names the field)
  unauthorized,       // 401
  not_found,          // 404: no such phone, call, campaign or route
  method_not_allowed, // 405
  conflict,           // 409: the user exists already, or the action does not fit the state
  payload_too_large,  // 413
  unavailable,        // 503: the simulator could not do it now (no RTP port, a phone timed out)
  internal,           // 500
};

struct api_error {
  error_kind kind = error_kind::internal;
  std::string code;     // machine-readable: "bad_field", "unknown_field", "not_found", "exists", "wrong_state", ...
  std::string message;  // for people; names the field or the object
};

struct done {};

// A value or an api_error.
template <class T>
class [[nodiscard]] outcome {
 public:
  outcome(T value) : v_(std::move(value)) {}
  outcome(api_error e) : v_(std::move(e)) {}
  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T* operator->() { return &std::get<0>(v_); }
  const T* operator->() const { return &std::get<0>(v_); }
  const api_error& err() const { return std::get<1>(v_); }

 private:
  std::variant<T, api_error> v_;
};

// POST /v1/phones
struct phones_request {
  std::vector<std::string> users;          // expanded from "1000-1099" (validated by the router)
  std::string domain;                      // empty: the server's default (--domain)
  std::optional<std::string> password;     // template, "{user}" replaced; write-only
  std::optional<ua::endpoint> proxy;       // none: the server's default (--proxy)
  std::optional<ua::transport_kind> transport;  // none: the server's
  bool register_now = true;
};

// PATCH /v1/phones/{user}: only the fields given change.
struct behaviour_patch {
  std::optional<ua::answer_mode> answer;
  std::optional<std::int64_t> answer_delay_ms;
  std::optional<int> reject_code;
  std::optional<bool> dnd;
  std::optional<std::string> forward_to;  // "" clears it
};

struct phone_summary {
  std::string user;
  ua::registration_state registration = ua::registration_state::unregistered;
  std::size_t active_calls = 0;
};

struct phone_view {
  std::string user;
  std::string domain;
  ua::registration_state registration = ua::registration_state::unregistered;
  std::uint32_t expires = 0;  // seconds the registrar granted
  ua::behaviour behaviour{};
  ua::phone_counters counters{};
  std::vector<ua::call_record> calls;  // in progress
};

// One phone's side of a call. Two phones of the simulator calling each other share the
// Call-ID: the call then has two legs, the caller's first.
struct call_leg {
  std::string user;
  ua::call_record record;
};

struct call_view {
  std::string call_id;
  std::vector<call_leg> legs;
};

enum class call_op : std::uint8_t { answer, hangup, hold, resume, dtmf, transfer };

// POST /v1/campaigns
struct campaign_request {
  std::vector<std::string> callers;  // users of this simulator
  std::vector<std::string> callees;  // users to call (this simulator's or others')
  double rate = 1;                   // calls started per second
  std::uint64_t total = 0;           // 0: until duration_s
  std::uint64_t duration_s = 0;      // 0: until total
  std::int64_t hold_ms = 1000;
  std::size_t max_concurrent = 100;
};

struct campaign_view {
  std::string id;
  std::uint64_t started = 0;
  std::uint64_t finished = 0;
  std::uint64_t no_idle_phone = 0;
  bool placing = false;
  bool done = false;
  std::string stats_json;  // the run report's calls/media figures for this campaign's calls
};

class backend {
 public:
  virtual ~backend() = default;

  virtual outcome<std::size_t> create_phones(const phones_request& r) = 0;  // -> phones created
  // Phones in user order; `total` gets the count before paging.
  virtual std::vector<phone_summary> list_phones(std::optional<ua::registration_state> state, std::size_t offset,
                                                 std::size_t limit, std::size_t& total) = 0;
  virtual outcome<phone_view> phone(const std::string& user) = 0;
  virtual outcome<phone_view> patch_phone(const std::string& user, const behaviour_patch& p) = 0;
  virtual outcome<done> register_phone(const std::string& user) = 0;
  virtual outcome<done> unregister_phone(const std::string& user) = 0;
  virtual outcome<done> delete_phone(const std::string& user) = 0;

  // -> the Call-ID. hold_ms 0: the call stays up until hung up. dtmf: digits sent once answered.
  virtual outcome<std::string> place_call(const std::string& user, const std::string& to, std::int64_t hold_ms,
                                          const std::string& dtmf) = 0;
  // Calls in progress and recently ended; a call matches when one of its legs matches.
  virtual std::vector<call_view> list_calls(std::optional<ua::call_state> state, const std::string& user) = 0;
  virtual outcome<call_view> call(const std::string& call_id) = 0;
  // `arg`: the digits (dtmf) or the target (transfer). `user`: which leg (empty: answer acts on
  // the ringing incoming leg, the rest on the caller's leg when it is ours).
  virtual outcome<done> act_on_call(const std::string& call_id, call_op op, const std::string& arg,
                                    const std::string& user) = 0;

  virtual outcome<std::string> start_campaign(const campaign_request& r) = 0;  // -> its id
  virtual outcome<campaign_view> campaign(const std::string& id) = 0;
  virtual outcome<done> stop_campaign(const std::string& id) = 0;

  virtual std::string stats_json() = 0;    // GET /v1/stats: the run report's shape
  virtual std::string metrics_text() = 0;  // GET /metrics: Prometheus text format
};

}  // namespace sipfleet::control_api
