// The settings of `sipfleet run`: what the flags and the YAML file (--config) say, as text,
// and the checked, typed form the run uses. Every error names the option to fix.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "actors/fleet.hpp"
#include "sip/result.hpp"

namespace sipfleet::app {

// Option values as given (flags win over the file). Keys are the long option names.
using raw_settings = std::map<std::string, std::string>;

// The option names `run` knows, with their defaults ("" = no default), and their help.
const std::vector<std::pair<std::string, std::string>>& run_option_defaults();
const std::map<std::string, std::string>& option_help();

// The control API (--api, --api-token).
struct api_settings {
  bool enabled = true;
  bool explicit_address = false;  // --api given: failing to serve it is an error, not a warning
  std::string host = "127.0.0.1";
  std::uint16_t port = 8080;
  std::string token;  // never printed
  std::size_t event_queue = 4096;  // per WebSocket client
};

struct run_plan {
  actors::fleet_options fleet{};
  actors::campaign_options campaign{};
  std::string report_file{};
  std::string call_records_file{};  // JSON Lines, one ended call (either side) per line
  double max_failed_pct = 0;
  bool quiet = false;
  std::string proxy_text{};
  api_settings api{};
};

// Reads a YAML mapping of option names to scalars. Unknown keys and non-scalar values are
// errors naming the key.
sip::result<raw_settings> read_yaml_settings(const std::string& path);

// Checks and converts; the error says which option is wrong and why.
sip::result<run_plan> make_run_plan(const raw_settings& raw);

// "5s", "500ms", "2m", "1h", or a plain number of seconds.
sip::result<std::chrono::milliseconds> parse_duration(const std::string& text);
// The same, also in microseconds ("500us"), rounded to the microsecond.
sip::result<std::chrono::microseconds> parse_duration_us(const std::string& text);
// "1000-1999" or "1000" (a single user), also "1000-1999,3000-3099": ua::expand_user_ranges
// with the command line's limit, 10,000,000 users.
sip::result<std::vector<std::string>> parse_user_range(const std::string& text);

}  // namespace sipfleet::app
