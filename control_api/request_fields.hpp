// Reading what a control API request carries: the target's path segments and query parameters
// (percent-decoded), the JSON body, and its fields as typed values. Every refusal is an
// api_error (400) whose message names the field or parameter to fix. The router
// (control_api/router.cpp) uses these; they know nothing of routes.
#pragma once

#include <boost/json.hpp>

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "control_api/backend.hpp"

namespace sipfleet::control_api {

// 400 with this code and message.
api_error bad_input(std::string code, std::string message);
// "'name'": how messages name a field or parameter.
std::string quoted(std::string_view s);

// ---- The target (RFC 3986) ----------------------------------------------------------------------

struct query_param {
  std::string name;
  std::string value;
};
using query_params = std::vector<query_param>;

struct parsed_target {
  std::vector<std::string> segments;  // "/v1/calls/a%40b" -> {"v1", "calls", "a@b"}
  query_params query;
};

// Splits the path on '/' before decoding each segment, so that "%2F" in a Call-ID stays in its
// segment; '+' in a query value is a space (as HTML forms send it), in a path a plus sign.
outcome<parsed_target> parse_target(std::string_view target);
// Everything but RFC 3986's unreserved characters escaped: an id in a Location header.
std::string percent_encode(std::string_view s);

const std::string* query_value(const query_params& q, std::string_view name);
// Refuses a parameter not in `known` (a typo such as "limt=10" must not silently give the
// default) and one given twice.
std::optional<api_error> check_query(const query_params& q,
                                     const std::vector<std::string_view>& known);

struct number_rule {
  std::size_t fallback = 0;  // when the parameter is absent
  std::size_t min = 0;
  std::size_t max = 0;
};
outcome<std::size_t> query_number(const query_params& q, std::string_view name,
                                  const number_rule& rule);

// An enum-valued parameter (?state=registered); absent is nullopt, not an error.
template <class E>
outcome<std::optional<E>> query_choice(const query_params& q, std::string_view name,
                                       std::optional<E> (*parse)(std::string_view),
                                       std::string_view allowed) {
  const auto* s = query_value(q, name);
  if (!s) return std::optional<E>();
  const auto e = parse(*s);
  if (!e)
    return bad_input("bad_parameter", quoted(name) + " must be one of " + std::string(allowed));
  return e;
}

// ---- Values -------------------------------------------------------------------------------------

// Users as `sipfleet run --users` takes them: "1000-1099,2000-2005", single users allowed, at
// most `max_users`, none twice. A zero-padded first number sets the width ("0100-0199"). The
// error names the field `name`.
outcome<std::vector<std::string>> parse_users(std::string_view name, std::string_view text,
                                              std::size_t max_users);
// An IP literal and a port: "10.0.0.1:5060", "[::1]:5060"; no port means 5060 (as --proxy).
std::optional<ua::endpoint> parse_proxy(std::string_view text);

// ---- The body -----------------------------------------------------------------------------------

enum class body_rule : std::uint8_t {
  none,      // no body, or only white space
  optional,  // none, or a JSON object
  required,  // a JSON object
};
// The body as a JSON object ({} when none was sent and none is needed), or 400 bad_json with
// the parser's message, or 400 unexpected_body.
outcome<boost::json::object> read_body(const std::string& body, body_rule rule);

struct text_rule {
  bool required = false;
  std::size_t min = 0;
  std::size_t max = 256;
  std::string_view alphabet{};  // empty: any character but control characters
};

struct integer_rule {
  bool required = false;
  std::int64_t min = 0;
  std::int64_t max = std::numeric_limits<std::int64_t>::max();
};

// Reads a body's fields, keeping the first error: a handler reads every field it wants and
// then checks error() once, rather than returning after each. A field the route does not know
// is the first error of all (a typo must not silently fall back to a default).
class body_fields {
 public:
  body_fields(const boost::json::object& body, const std::vector<std::string_view>& known);

  const std::optional<api_error>& error() const { return error_; }
  // 400 bad_field "'name' why" unless an error came first. Returns nullopt so that a reader can
  // `return fail(...)`.
  std::nullopt_t fail(std::string_view name, const std::string& why);

  std::optional<std::string> text(std::string_view name, const text_rule& rule);
  // Integers only: 1.5 or 1e3 for a count of milliseconds is more likely a mistake than intent.
  std::optional<std::int64_t> integer(std::string_view name, const integer_rule& rule);
  // Any JSON number in (above, at_most].
  std::optional<double> number(std::string_view name, bool required, double above, double at_most);
  std::optional<bool> boolean(std::string_view name);
  // Required ranges of users (parse_users).
  std::optional<std::vector<std::string>> users(std::string_view name, std::size_t max_users);

  // A string naming one of a few values (answer modes, transports).
  template <class E>
  std::optional<E> choice(std::string_view name, std::optional<E> (*parse)(std::string_view),
                          std::string_view allowed) {
    const auto s = text(name, {});
    if (!s) return std::nullopt;
    const auto e = parse(*s);
    if (!e) fail(name, "must be one of " + std::string(allowed));
    return e;
  }

 private:
  const boost::json::value* get(std::string_view name, bool required);

  const boost::json::object& body_;
  std::optional<api_error> error_;
};

}  // namespace sipfleet::control_api
