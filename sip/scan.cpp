// Scanning helpers shared by the parsers (see scan.hpp).
#include "sip/scan.hpp"


namespace sipfleet::sip::scan {

std::size_t find_unquoted(std::string_view s, char c, std::size_t from) {
  const char* p = s.data();
  const std::size_t n = s.size();
  int angle = 0;
  for (std::size_t i = from; i < n; ++i) {
    // Skip ordinary characters with one table look-up each.
    while (i < n && !has_class(p[i], k_split)) ++i;
    if (i >= n) break;
    const char ch = p[i];
    if (ch == c && angle == 0) return i;
    if (ch == '"') {
      // quoted-string: skip to the closing quote, honouring quoted-pair escapes.
      for (++i; i < n && p[i] != '"'; ++i)
        if (p[i] == '\\') ++i;
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

bool valid_params(std::string_view params) {
  return for_each_param(params, [](std::string_view, std::string_view, bool) {});
}

}  // namespace sipfleet::sip::scan
