// Users named by ranges (see user_range.hpp).
#include "actors/ua/user_range.hpp"

#include <algorithm>
#include <cstdint>

namespace sipfleet::ua {

namespace {

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string quoted(std::string_view s) { return "'" + std::string(s) + "'"; }

}  // namespace

sip::result<std::vector<std::string>> expand_user_ranges(std::string_view text, std::size_t max_users) {
  std::vector<std::string> users;
  for (std::size_t pos = 0; pos <= text.size();) {
    const auto comma = std::min(text.find(',', pos), text.size());
    auto part = text.substr(pos, comma - pos);
    pos = comma + 1;
    while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
    while (!part.empty() && part.back() == ' ') part.remove_suffix(1);
    const auto dash = part.find('-');
    const auto first_text = part.substr(0, dash);
    const auto last_text = dash == std::string_view::npos ? first_text : part.substr(dash + 1);
    // 18 digits keep every value below 2^63.
    if (!all_digits(first_text) || !all_digits(last_text) || first_text.size() > 18 || last_text.size() > 18)
      return sip::error{"expected user numbers or ranges like 1000-1099,2000-2005, not " + quoted(part)};
    const auto first = std::stoull(std::string(first_text));
    const auto last = std::stoull(std::string(last_text));
    if (last < first) return sip::error{"the range " + quoted(part) + " ends before it starts"};
    if (first_text.front() == '0' && first_text.size() > 1 && last_text.size() != first_text.size())
      return sip::error{"a zero-padded range needs both ends the same width, not " + quoted(part)};
    if (last - first >= max_users || users.size() + (last - first) >= max_users)
      return sip::error{"more than " + std::to_string(max_users) + " users"};
    for (auto u = first; u <= last; ++u) {
      std::string s = std::to_string(u);
      if (s.size() < first_text.size()) s.insert(0, first_text.size() - s.size(), '0');
      users.push_back(std::move(s));
    }
  }
  if (const auto twice = repeated_user(users)) return sip::error{"user " + *twice + " is given twice"};
  return users;
}

std::optional<std::string> repeated_user(const std::vector<std::string>& users) {
  std::vector<std::string_view> sorted(users.begin(), users.end());
  std::sort(sorted.begin(), sorted.end());
  if (const auto twice = std::adjacent_find(sorted.begin(), sorted.end()); twice != sorted.end())
    return std::string(*twice);
  return std::nullopt;
}

}  // namespace sipfleet::ua
