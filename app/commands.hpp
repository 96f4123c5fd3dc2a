// The subcommands of the sipfleet executable.
#pragma once

#include <map>
#include <set>
#include <string>

#include "app/run_settings.hpp"
#include "sip/result.hpp"

namespace CLI {
class App;
class Option;
}  // namespace CLI

namespace sipfleet::app {

// sipfleet parse [FILE...]: parse SIP messages and print their decoded fields, or why a
// phone would answer 400.
void add_parse_command(CLI::App& app);

// sipfleet run: register phones through a proxy and place calls (see cmd_run.cpp).
void add_run_command(CLI::App& app);

// sipfleet serve: the control API alone; phones are made and driven over HTTP (cmd_serve.cpp).
void add_serve_command(CLI::App& app);

// The settings options `run` and `serve` share (cmd_settings.cpp): --config FILE and one
// --NAME for each of run_option_defaults(), with its help and default.
struct settings_cli {
  std::map<std::string, std::string> values;
  std::map<std::string, CLI::Option*> options;
  std::string config;

  // Adds --config and the options named in `names` (all of them when empty); `shown` replaces
  // the default that --help shows for some (serve's: no users, room for 100,000).
  void add_to(CLI::App& cmd, const std::set<std::string>& names = {},
              const std::map<std::string, std::string>& shown = {});
  // The settings of the --config file with the options given on the command line over them
  // (flags win); the error says what is wrong with the file.
  sip::result<raw_settings> merged() const;
};

// The exit status chosen by the subcommand that ran.
int exit_code();
void set_exit_code(int code);

}  // namespace sipfleet::app
