// sipfleet serve: the control API with no load of its own. Phones are made, registered and
// driven over HTTP (POST /v1/phones, /calls, /campaigns; events on the WebSocket GET
// /v1/events), until Ctrl-C or SIGTERM, which hangs up, unregisters every phone and exits.
// Exit status: 0 after a clean stop; 2 usage or configuration error (e.g. the API address
// cannot be bound, or a non-loopback address without a token).
#include <CLI/CLI.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <map>
#include <memory>
#include <set>
#include <thread>

#include "actors/fleet.hpp"
#include "app/api_backend.hpp"
#include "app/commands.hpp"
#include "app/run_settings.hpp"

namespace sipfleet::app {
namespace {

std::atomic<bool> g_stop{false};

extern "C" void on_stop_signal(int sig) {
  g_stop.store(true);
  std::signal(sig, SIG_DFL);  // a second one ends the process at once
}

// The options of `run` that make sense without a campaign.
const std::set<std::string>& serve_options() {
  static const std::set<std::string> names = {
      "proxy",     "domain", "users",      "password",  "transport", "local-ip",    "sip-port", "sip-batch",
      "register-rate", "expires", "answer-delay", "seed", "threads",   "media",       "codec",
      "audio",     "rtp-ports", "media-threads", "media-nice", "media-rt-priority", "api", "api-token", "max-phones",  "api-events-queue"};
  return names;
}

int serve(const settings_cli& cli) {
  auto merged = cli.merged();
  if (!merged) {
    std::fprintf(stderr, "sipfleet serve: %s\n", merged.err().reason.c_str());
    return 2;
  }
  raw_settings raw = std::move(merged).value();
  if (raw.count("users") == 0) raw["users"] = "";  // no phones until the API makes them
  if (raw.count("max-phones") == 0) raw["max-phones"] = "100000";
  auto plan = make_run_plan(raw);
  if (!plan) {
    std::fprintf(stderr, "sipfleet serve: %s\n", plan.err().reason.c_str());
    return 2;
  }
  if (!plan->api.enabled) {
    std::fprintf(stderr, "sipfleet serve: --api off: serve is the API; give an address (HOST:PORT)\n");
    return 2;
  }
  actors::run_stats stats;
  auto fleet = actors::fleet::create(plan->fleet, stats);
  if (!fleet) {
    std::fprintf(stderr, "sipfleet serve: %s\n", fleet.err().reason.c_str());
    return 2;
  }
  auto& f = **fleet;
  auto api = serve_api(plan->api, f, stats);
  if (!api) {
    std::fprintf(stderr, "sipfleet serve: %s\n", api.err().reason.c_str());
    return 2;
  }
  const auto local = f.local_endpoint(0);
  // Scripts wait for this line (and read the port from it with --api HOST:0).
  std::fprintf(stderr, "sipfleet serve: API on http://%s:%u/v1/ ; SIP on %s:%u via %s; %zu phones, room for %zu\n",
               api_host(plan->api).c_str(), api.value()->port(), local.host.c_str(), local.port,
               plan->proxy_text.c_str(), f.size(), std::max(plan->fleet.capacity, plan->fleet.users.size()));
  std::fflush(stderr);
  std::signal(SIGINT, on_stop_signal);
  std::signal(SIGTERM, on_stop_signal);
  if (f.size() > 0) f.register_all();
  while (!g_stop.load()) std::this_thread::sleep_for(std::chrono::milliseconds(50));

  std::fprintf(stderr, "sipfleet serve: stopping: hanging up and unregistering every phone\n");
  api.value().reset();  // no more requests while the phones go
  const double n = static_cast<double>(f.size());
  const double seconds = (plan->fleet.register_rate > 0 ? n / plan->fleet.register_rate : 0) + 35;
  if (!f.shutdown(std::chrono::milliseconds(static_cast<std::int64_t>(seconds * 1000))))
    std::fprintf(stderr, "sipfleet serve: some phones did not unregister in time\n");
  std::fflush(nullptr);
  std::_Exit(0);  // as `run` does: the system takes the memory back at once
}

}  // namespace

void add_serve_command(CLI::App& app) {
  auto cli = std::make_shared<settings_cli>();
  auto* cmd = app.add_subcommand(
      "serve",
      "Serve the control API (REST and WebSocket) with no load of its own: phones are made,\n"
      "registered and driven over HTTP, e.g.\n"
      "  curl -X POST localhost:8080/v1/phones -d '{\"users\":\"1000-1009\",\"password\":\"pw{user}\"}'\n"
      "  curl -X POST localhost:8080/v1/phones/1000/calls -d '{\"to\":\"1001\"}'\n"
      "The API is described at GET /v1/openapi.json. Ctrl-C hangs up, unregisters and exits.");
  // none until the API makes them; room for 100,000 (serve's defaults, set in serve())
  cli->add_to(*cmd, serve_options(), {{"users", ""}, {"max-phones", "100000"}});
  cmd->callback([cli] { set_exit_code(serve(*cli)); });
}

}  // namespace sipfleet::app
