// Scanning helpers shared by the parsers (see scan.hpp).
#include "sip/scan.hpp"

namespace sipfleet::sip::scan {

std::size_t find_unquoted(std::string_view s, char c, std::size_t from) {
  bool quoted = false;
  int angle = 0;
  for (std::size_t i = from; i < s.size(); ++i) {
    const char ch = s[i];
    if (quoted) {
      if (ch == '\\') {
        ++i;  // quoted-pair: skip the escaped character
      } else if (ch == '"') {
        quoted = false;
      }
      continue;
    }
    if (ch == c && angle == 0) return i;
    if (ch == '"') {
      quoted = true;
    } else if (ch == '<') {
      ++angle;
    } else if (ch == '>' && angle > 0) {
      --angle;
    }
  }
  return std::string_view::npos;
}

split_result split_unquoted(std::string_view s, char c) {
  const auto pos = find_unquoted(s, c);
  if (pos == std::string_view::npos) return {s, {}, false};
  return {s.substr(0, pos), s.substr(pos + 1), true};
}

namespace {

// A parameter value: token, host (incl. IPv6 reference) or quoted-string.
bool valid_param_value(std::string_view v) {
  if (v.empty()) return false;
  if (v.front() == '"') {
    if (v.size() < 2 || v.back() != '"') return false;
    for (std::size_t i = 1; i + 1 < v.size(); ++i) {
      if (v[i] == '\\') {
        ++i;
        if (i + 1 >= v.size()) return false;
      } else if (v[i] == '"') {
        return false;
      }
    }
    return true;
  }
  for (char ch : v) {
    if (!is_token_char(ch) && ch != '[' && ch != ']' && ch != ':') return false;
  }
  return true;
}

}  // namespace

bool valid_params(std::string_view params) {
  params = trim(params);
  if (params.empty()) return true;
  if (params.front() != ';') return false;
  params.remove_prefix(1);
  while (true) {
    const auto [one, rest, more] = split_unquoted(params, ';');
    const auto [name, value, has_value] = split_unquoted(one, '=');
    if (!is_token(trim(name))) return false;
    if (has_value && !valid_param_value(trim(value))) return false;
    if (!more) return true;
    params = rest;
  }
}

}  // namespace sipfleet::sip::scan
