// Character classes and small scanning helpers shared by the parsers (RFC 3261 §25.1).
// Internal to sip/: no allocation, no exceptions.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace sipfleet::sip::scan {

constexpr bool is_ws(char c) { return c == ' ' || c == '\t'; }
constexpr bool is_digit(char c) { return c >= '0' && c <= '9'; }
constexpr bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
constexpr bool is_alnum(char c) { return is_digit(c) || is_alpha(c); }
constexpr char to_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

// Character classes as one 256-entry table: a load and a mask per character on the hot path.
enum char_class : std::uint8_t {
  k_token = 1,     // token = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~")
  k_uri = 2,       // unreserved / reserved / escaped (§25.1), plus '[' ']' for IPv6 and '#'
  k_host = 4,      // alphanum / "-" / "."
  k_hex = 8,
  k_split = 16,    // characters find_unquoted must look at: '"' '<' '>' ',' ';' '=' '?' '&' ':'
};

struct char_table {
  std::uint8_t bits[256] = {};
  constexpr char_table() {
    for (int c = 0; c < 256; ++c) {
      const char ch = static_cast<char>(c);
      std::uint8_t b = 0;
      if (is_alnum(ch)) b |= k_token | k_uri | k_host;
      if (is_digit(ch) || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F')) b |= k_hex;
      switch (ch) {
        case '-': case '.':
          b |= k_token | k_uri | k_host;
          break;
        case '!': case '%': case '*': case '_': case '+': case '`': case '\'':
          b |= k_token | k_uri;
          break;
        case '~':
          b |= k_token | k_uri;
          break;
        default:
          break;
      }
      switch (ch) {
        case '(': case ')': case ';': case '/': case '?': case ':': case '@': case '&':
        case '=': case '$': case ',': case '[': case ']': case '#':
          b |= k_uri;
          break;
        default:
          break;
      }
      if (ch == '`') b &= static_cast<std::uint8_t>(~k_uri);  // not allowed in URIs
      switch (ch) {
        case '"': case '<': case '>': case ',': case ';': case '=': case '?': case '&': case ':':
          b |= k_split;
          break;
        default:
          break;
      }
      bits[c] = b;
    }
  }
};

inline constexpr char_table k_chars{};

constexpr bool has_class(char c, std::uint8_t cls) {
  return (k_chars.bits[static_cast<unsigned char>(c)] & cls) != 0;
}
constexpr bool is_token_char(char c) { return has_class(c, k_token); }

constexpr bool is_token(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!is_token_char(c)) return false;
  return true;
}

constexpr std::string_view trim(std::string_view s) {
  while (!s.empty() && (is_ws(s.front()) || s.front() == '\r' || s.front() == '\n'))
    s.remove_prefix(1);
  while (!s.empty() && (is_ws(s.back()) || s.back() == '\r' || s.back() == '\n'))
    s.remove_suffix(1);
  return s;
}

constexpr std::string_view trim_left(std::string_view s) {
  while (!s.empty() && is_ws(s.front())) s.remove_prefix(1);
  return s;
}

struct lower_table {
  char map[256] = {};
  constexpr lower_table() {
    for (int c = 0; c < 256; ++c) map[c] = to_lower(static_cast<char>(c));
  }
};
inline constexpr lower_table k_lower{};

constexpr bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (k_lower.map[static_cast<unsigned char>(a[i])] != k_lower.map[static_cast<unsigned char>(b[i])])
      return false;
  return true;
}

// An unsigned decimal number of digits only, at most `max`; nullopt otherwise (empty, sign,
// other characters, overflow).
constexpr std::optional<std::uint64_t> parse_uint(std::string_view s, std::uint64_t max) {
  if (s.empty() || s.size() > 20) return std::nullopt;
  std::uint64_t v = 0;
  for (char c : s) {
    if (!is_digit(c)) return std::nullopt;
    const auto d = static_cast<std::uint64_t>(c - '0');
    if (v > (max - d) / 10) return std::nullopt;
    v = v * 10 + d;
  }
  return v;
}

// Position of the first `c` outside quoted strings and angle brackets, or npos. `c` must be
// one of the k_split characters. Quoted strings
// honour quoted-pair escapes (RFC 3261 §25.1). Used to split comma-separated header values and
// to find parameters after a name-addr.
std::size_t find_unquoted(std::string_view s, char c, std::size_t from = 0);

// Splits at the first `c` outside quotes/brackets: [head, tail-after-c]. tail is empty (and
// found false) when there is none.
struct split_result {
  std::string_view head;
  std::string_view tail;
  bool found;
};
split_result split_unquoted(std::string_view s, char c);

// Checks a generic-param list ";name[=value]..." (RFC 3261 §25.1 generic-param): every
// parameter has a token name and, if '=' is present, a token, host or quoted-string value. LWS
// is allowed around ';' and '='. Returns false for empty parameters (";;") or bad characters.
bool valid_params(std::string_view params);

// A parameter value: token, host (incl. IPv6 reference) or quoted-string.
bool valid_param_value(std::string_view v);

// valid_params that also hands each parameter to `visit(name, value, has_equals)`, so a
// parser validates and extracts in one pass. Returns false on the first invalid parameter.
template <class Visitor>
bool for_each_param(std::string_view params, Visitor&& visit) {
  params = trim(params);
  if (params.empty()) return true;
  if (params.front() != ';') return false;
  params.remove_prefix(1);
  while (true) {
    const auto [one, rest, more] = split_unquoted(params, ';');
    const auto eq = one.find('=');
    const auto name = trim(one.substr(0, eq));
    if (!is_token(name)) return false;
    std::string_view value;
    if (eq != std::string_view::npos) {
      value = trim(one.substr(eq + 1));
      if (!valid_param_value(value)) return false;
    }
    visit(name, value, eq != std::string_view::npos);
    if (!more) return true;
    params = rest;
  }
}

}  // namespace sipfleet::sip::scan
