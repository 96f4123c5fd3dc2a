// The subcommands of the sipfleet executable.
#pragma once

namespace CLI {
class App;
}

namespace sipfleet::app {

// sipfleet parse [FILE...]: parse SIP messages and print their decoded fields, or why a
// phone would answer 400.
void add_parse_command(CLI::App& app);

// sipfleet run: register phones through a proxy and place calls (see cmd_run.cpp).
void add_run_command(CLI::App& app);

// sipfleet serve: the control API alone; phones are made and driven over HTTP (cmd_serve.cpp).
void add_serve_command(CLI::App& app);

// The exit status chosen by the subcommand that ran.
int exit_code();
void set_exit_code(int code);

}  // namespace sipfleet::app
