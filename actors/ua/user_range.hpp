// Users named by ranges, "1000-1099,2000": the command line's --users and --callees and the
// API's "users" fields all go through this one parser.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sip/result.hpp"

namespace sipfleet::ua {

// Expands comma-separated user numbers and ranges A-B, spaces around each part allowed, in the
// order given. A zero-padded first number keeps its width (0098-0100: 0098, 0099, 0100), and
// then the last must have the same width. Refused, with a reason fit for an error message: a
// part that is not one number or two joined by '-' (at most 18 digits each), a range that ends
// before it starts, more than `max_users` users, a user named twice (overlapping ranges).
sip::result<std::vector<std::string>> expand_user_ranges(std::string_view text, std::size_t max_users);

// The first user named twice in `users` (in sorted order), if any: O(n log n), no copies of
// the names.
std::optional<std::string> repeated_user(const std::vector<std::string>& users);

}  // namespace sipfleet::ua
