// sipfleet: the command line. Each subcommand lives in its own file (cmd_*.cpp) and is
// registered here. Exit codes: 0 success, 1 a check failed, 2 a usage or configuration error.
#include <sys/resource.h>

#include <CLI/CLI.hpp>

#include <cstdio>

#include "actors/heap.hpp"
#include "app/commands.hpp"

int main(int argc, char** argv) {
  sipfleet::actors::use_one_arena();
  // Every call end holds two sockets (RTP and RTCP): 5,000 calls between the fleet's own
  // phones are 20,000 descriptors. Take all the kernel allows this process.
  if (rlimit r{}; ::getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < r.rlim_max) {
    r.rlim_cur = r.rlim_max;
    (void)::setrlimit(RLIMIT_NOFILE, &r);
  }
  CLI::App app{
      "sipfleet simulates thousands of SIP IP phones against a SIP proxy, registrar or SBC.\n"
      "Each phone is a SIP user agent with its own registration, calls and media.",
      "sipfleet"};
  app.set_version_flag("--version", "sipfleet " SIPFLEET_VERSION);
  app.require_subcommand(1);
  app.footer(
      "Run 'sipfleet COMMAND --help' for the options of a command.\n"
      "Exit status: 0 success, 1 a check failed, 2 usage or configuration error.");

  sipfleet::app::add_run_command(app);
  sipfleet::app::add_serve_command(app);
  sipfleet::app::add_parse_command(app);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }
  return sipfleet::app::exit_code();
}
