// Reading a control API request's target and body (see request_fields.hpp).
#include "control_api/request_fields.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <cstdio>

#include "actors/ua/user_range.hpp"

namespace sipfleet::control_api {

namespace json = boost::json;

namespace {

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// '+' is a space in a query (as HTML forms send it) but a plus sign in a path.
std::optional<std::string> percent_decode(std::string_view s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%') {
      if (i + 2 >= s.size()) return std::nullopt;
      const int hi = hex_digit(s[i + 1]);
      const int lo = hex_digit(s[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else {
      out.push_back(plus_is_space && s[i] == '+' ? ' ' : s[i]);
    }
  }
  return out;
}

bool has_control_char(std::string_view s) {
  return std::any_of(s.begin(), s.end(),
                     [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; });
}

// "%g": 10000 rather than 1E4 in a message.
std::string show(double d) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", d);
  return text;
}

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

api_error bad_input(std::string code, std::string message) {
  return {.kind = error_kind::bad_request, .code = std::move(code), .message = std::move(message)};
}

std::string quoted(std::string_view s) {
  return "'" + std::string(s) + "'";
}

// ---- The target -----------------------------------------------------------------------------

std::string percent_encode(std::string_view s) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(hex[u >> 4]);
      out.push_back(hex[u & 15]);
    }
  }
  return out;
}

outcome<parsed_target> parse_target(std::string_view target) {
  const auto question = target.find('?');
  const auto path = target.substr(0, question);
  const auto query =
      question == std::string_view::npos ? std::string_view{} : target.substr(question + 1);
  if (path.empty() || path.front() != '/')
    return bad_input("bad_target", "the request target must be a path");
  parsed_target out;
  // Split before decoding, so that "%2F" in a Call-ID stays inside its segment.
  for (std::size_t pos = 1; pos <= path.size();) {
    const auto slash = std::min(path.find('/', pos), path.size());
    auto segment = percent_decode(path.substr(pos, slash - pos), false);
    if (!segment) return bad_input("bad_target", "bad percent-encoding in the path");
    out.segments.push_back(std::move(*segment));
    pos = slash + 1;
  }
  for (std::size_t pos = 0; pos < query.size();) {
    const auto amp = std::min(query.find('&', pos), query.size());
    const auto pair = query.substr(pos, amp - pos);
    pos = amp + 1;
    if (pair.empty()) continue;  // "a=1&&b=2"
    const auto eq = pair.find('=');
    auto name = percent_decode(pair.substr(0, eq), true);
    auto value = percent_decode(
        eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1), true);
    if (!name || !value) return bad_input("bad_target", "bad percent-encoding in the query");
    out.query.push_back({std::move(*name), std::move(*value)});
  }
  return out;
}

const std::string* query_value(const query_params& q, std::string_view name) {
  for (const auto& p : q)
    if (p.name == name) return &p.value;
  return nullptr;
}

std::optional<api_error> check_query(const query_params& q,
                                     const std::vector<std::string_view>& known) {
  for (std::size_t i = 0; i < q.size(); ++i) {
    if (std::find(known.begin(), known.end(), q[i].name) == known.end())
      return bad_input("unknown_parameter", "unknown query parameter " + quoted(q[i].name));
    for (std::size_t j = 0; j < i; ++j)
      if (q[j].name == q[i].name)
        return bad_input("bad_parameter", "query parameter " + quoted(q[i].name) + " given twice");
  }
  return std::nullopt;
}

outcome<std::size_t> query_number(const query_params& q, std::string_view name,
                                  const number_rule& rule) {
  const auto* s = query_value(q, name);
  if (!s) return rule.fallback;
  const bool digits = all_digits(*s) && s->size() <= 10;
  const auto n = digits ? std::stoull(*s) : 0;
  if (!digits || n < rule.min || n > rule.max)
    return bad_input("bad_parameter", quoted(name) + " must be an integer from " +
                                          std::to_string(rule.min) + " to " +
                                          std::to_string(rule.max));
  return static_cast<std::size_t>(n);
}

// ---- Values ---------------------------------------------------------------------------------

outcome<std::vector<std::string>> parse_users(std::string_view name, std::string_view text,
                                              std::size_t max_users) {
  auto users = ua::expand_user_ranges(text, max_users);
  if (!users) return bad_input("bad_field", quoted(name) + ": " + users.err().reason);
  return std::move(*users);
}

// No host names: the phones send to an address, and resolving here would block the router.
std::optional<ua::endpoint> parse_proxy(std::string_view text) {
  std::string host(text);
  std::string_view port_text;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    host = std::string(text.substr(1, close - 1));
    const auto rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return std::nullopt;
      port_text = rest.substr(1);
      if (port_text.empty()) return std::nullopt;
    }
  } else if (const auto colon = text.rfind(':');
             colon != std::string_view::npos && text.find(':') == colon) {
    host = std::string(text.substr(0, colon));
    port_text = text.substr(colon + 1);
    if (port_text.empty()) return std::nullopt;
  }
  unsigned char address[16];
  if (inet_pton(AF_INET, host.c_str(), address) != 1 &&
      inet_pton(AF_INET6, host.c_str(), address) != 1)
    return std::nullopt;
  std::uint16_t port = 5060;
  if (!port_text.empty()) {
    if (!all_digits(port_text) || port_text.size() > 5) return std::nullopt;
    const auto p = std::stoul(std::string(port_text));
    if (p == 0 || p > 65535) return std::nullopt;
    port = static_cast<std::uint16_t>(p);
  }
  return ua::endpoint{.host = host, .port = port};
}

// ---- The body -------------------------------------------------------------------------------

outcome<json::object> read_body(const std::string& body, body_rule rule) {
  if (body.find_first_not_of(" \t\r\n") == std::string::npos) {
    if (rule == body_rule::required)
      return bad_input("bad_json", "this route needs a JSON object as its body");
    return json::object{};
  }
  if (rule == body_rule::none) return bad_input("unexpected_body", "this route takes no body");
  boost::system::error_code ec;
  auto v = json::parse(body, ec);
  if (ec) return bad_input("bad_json", "the body is not valid JSON: " + ec.message());
  if (!v.is_object()) return bad_input("bad_json", "the body must be a JSON object");
  return std::move(v.as_object());
}

body_fields::body_fields(const json::object& body, const std::vector<std::string_view>& known)
    : body_(body) {
  for (const auto& kv : body)
    if (std::find(known.begin(), known.end(), std::string_view(kv.key())) == known.end()) {
      error_ = bad_input("unknown_field", "unknown field " + quoted(kv.key()));
      break;
    }
}

std::nullopt_t body_fields::fail(std::string_view name, const std::string& why) {
  if (!error_) error_ = bad_input("bad_field", quoted(name) + " " + why);
  return std::nullopt;
}

std::optional<std::string> body_fields::text(std::string_view name, const text_rule& rule) {
  const auto* v = get(name, rule.required);
  if (!v) return std::nullopt;
  const auto* s = v->if_string();
  if (!s) return fail(name, "must be a string");
  const std::string_view sv(s->data(), s->size());
  if (sv.empty() && rule.min > 0) return fail(name, "must not be empty");
  if (sv.size() < rule.min || sv.size() > rule.max)
    return fail(name, "must be " + std::to_string(rule.min) + " to " + std::to_string(rule.max) +
                          " characters long");
  if (has_control_char(sv)) return fail(name, "must not contain control characters");
  if (!rule.alphabet.empty() && sv.find_first_not_of(rule.alphabet) != std::string_view::npos)
    return fail(name, "may contain only " + quoted(rule.alphabet));
  return std::string(sv);
}

std::optional<std::int64_t> body_fields::integer(std::string_view name, const integer_rule& rule) {
  const auto* v = get(name, rule.required);
  if (!v) return std::nullopt;
  const auto range =
      std::to_string(rule.min) + (rule.max == std::numeric_limits<std::int64_t>::max()
                                      ? " or more"
                                      : " to " + std::to_string(rule.max));
  if (!v->is_int64() && !v->is_uint64()) return fail(name, "must be an integer, " + range);
  if (v->is_uint64() || v->as_int64() < rule.min || v->as_int64() > rule.max)
    return fail(name, "must be " + range);
  return v->as_int64();
}

std::optional<double> body_fields::number(std::string_view name, bool required, double above,
                                          double at_most) {
  const auto* v = get(name, required);
  if (!v) return std::nullopt;
  const auto range = "more than " + show(above) + " and at most " + show(at_most);
  if (!v->is_number()) return fail(name, "must be a number " + range);
  const double d = v->to_number<double>();
  if (!(d > above && d <= at_most)) return fail(name, "must be " + range);
  return d;
}

std::optional<bool> body_fields::boolean(std::string_view name) {
  const auto* v = get(name, false);
  if (!v) return std::nullopt;
  if (!v->is_bool()) return fail(name, "must be true or false");
  return v->as_bool();
}

std::optional<std::vector<std::string>> body_fields::users(std::string_view name,
                                                           std::size_t max_users) {
  const auto s = text(name, {.required = true, .min = 1, .max = 4096});
  if (!s) return std::nullopt;
  auto users = parse_users(name, *s, max_users);
  if (!users) {
    if (!error_) error_ = users.err();
    return std::nullopt;
  }
  return std::move(users.value());
}

const json::value* body_fields::get(std::string_view name, bool required) {
  const auto* v = body_.if_contains(name);
  if (!v && required && !error_)
    error_ = bad_input("missing_field", "the field " + quoted(name) + " is required");
  return v;
}

}  // namespace sipfleet::control_api
