// sipfleet run: registers a fleet of phones through a proxy/registrar, places calls among
// them at a target rate, shows one status line a second, and ends with a report.
// Exit status: 0 every phone registered and failed calls within --max-failed-pct; 1 a
// threshold missed; 2 usage or configuration error.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <thread>
#include <utility>

#include "actors/fleet.hpp"
#include "app/api_backend.hpp"
#include "app/commands.hpp"
#include "app/report.hpp"
#include "app/run_settings.hpp"

namespace sipfleet::app {
namespace {

std::atomic<bool> g_interrupted{false};

// The first Ctrl-C (or SIGTERM) stops the run cleanly (hang up, unregister, report); a second
// one, with the default action back in place, ends the process at once.
extern "C" void on_sigint(int sig) {
  g_interrupted.store(true);
  std::signal(sig, SIG_DFL);
}

struct run_cli {
  settings_cli settings;
  bool quiet = false;
  CLI::Option* quiet_option = nullptr;
};

// `late_before`: the engine's lateness histogram at the previous line, so that the line shows
// the pacing of the last second (p99 of send time - due time).
void status_line(const actors::run_stats& s, const actors::campaign_progress& p, double elapsed,
                 double rate, const std::optional<rtp::engine_totals>& media,
                 std::vector<std::uint64_t>& late_before) {
  char media_part[160] = "";
  if (media) {
    // Loss of the streams that ended so far (a live stream's loss is known at its end).
    const double loss = s.media_loss_pct();
    std::vector<std::uint64_t> last_second = media->late_counts;
    for (std::size_t i = 0; i < std::min(last_second.size(), late_before.size()); ++i) last_second[i] -= late_before[i];
    late_before = media->late_counts;
    std::snprintf(media_part, sizeof media_part, " | media %llu streams (%llu sending), loss %.2f%%, late p99 %.2f ms",
                  static_cast<unsigned long long>(media->streams_open),
                  static_cast<unsigned long long>(media->streams_sending), loss,
                  rtp::late_percentile(last_second, 0.99));
  }
  std::fprintf(stderr,
               "[%6.1fs] phones %lld/%lld registered, %lld failed | calls %lld active, %llu done, "
               "%llu failed | %.1f calls/s%s\n",
               elapsed, static_cast<long long>(s.phones_registered.load()),
               static_cast<long long>(s.phones_total.load()), static_cast<long long>(s.phones_failed.load()),
               static_cast<long long>(s.calls_active.load()), static_cast<unsigned long long>(p.finished),
               static_cast<unsigned long long>(s.calls_failed.load()), rate, media_part);
}

int run(run_cli& cli) {
  auto merged = cli.settings.merged();
  if (!merged) {
    std::fprintf(stderr, "sipfleet run: %s\n", merged.err().reason.c_str());
    return 2;
  }
  raw_settings raw = std::move(merged).value();
  if (cli.quiet_option->count() > 0) raw["quiet"] = cli.quiet ? "true" : "false";

  auto plan = make_run_plan(raw);
  if (!plan) {
    std::fprintf(stderr, "sipfleet run: %s\n", plan.err().reason.c_str());
    return 2;
  }
  // The output files are opened now: a path that cannot be written is a usage error before
  // the run, not a lost report after it.
  for (const auto& [option, path] : {std::pair<const char*, const std::string&>{"report", plan->report_file},
                                     {"call-records", plan->call_records_file}}) {
    if (path.empty()) continue;
    if (!std::ofstream(path)) {
      std::fprintf(stderr, "sipfleet run: --%s '%s': cannot write the file\n", option, path.c_str());
      return 2;
    }
  }
  actors::run_stats stats;
  plan->fleet.track_calls = plan->api.enabled;  // only the API reads the call table
  auto fleet = actors::fleet::create(plan->fleet, stats);
  if (!fleet) {
    std::fprintf(stderr, "sipfleet run: %s\n", fleet.err().reason.c_str());
    return 2;
  }
  auto& f = **fleet;
  const bool quiet = plan->quiet;
  const auto local = f.local_endpoint(0);
  if (!quiet)
    std::fprintf(stderr, "sipfleet run: %zu phones on %s:%u via %s, %llu calls\n", f.size(), local.host.c_str(),
                 local.port, plan->proxy_text.c_str(), static_cast<unsigned long long>(plan->campaign.total));
  // The API, so that a script or a dashboard can watch (and steer) the run. The default
  // address taken by another program is worth a warning, not a lost run; an address asked for
  // is an error.
  std::unique_ptr<api_service> api;
  if (plan->api.enabled) {
    auto served = serve_api(plan->api, f, stats);
    if (served) {
      api = std::move(served.value());
      // Said even with --quiet: a script that asked for port 0 reads the port here.
      std::fprintf(stderr, "sipfleet run: API on http://%s:%u/v1/\n", api_host(plan->api).c_str(), api->port());
    } else if (plan->api.explicit_address || plan->api.host != "127.0.0.1") {
      std::fprintf(stderr, "sipfleet run: %s\n", served.err().reason.c_str());
      return 2;
    } else {
      std::fprintf(stderr, "sipfleet run: no API: %s (choose one with --api HOST:PORT, or --api off)\n",
                   served.err().reason.c_str());
    }
  }

  std::signal(SIGINT, on_sigint);
  std::signal(SIGTERM, on_sigint);
  using clock = std::chrono::steady_clock;
  const auto t0 = clock::now();
  auto elapsed = [&] { return std::chrono::duration<double>(clock::now() - t0).count(); };
  auto next_status = t0 + std::chrono::seconds(1);
  std::uint64_t last_finished = 0;
  std::vector<std::uint64_t> late_before;
  auto tick = [&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (clock::now() < next_status) return;
    const auto p = f.progress();
    if (!quiet)
      status_line(stats, p, elapsed(), static_cast<double>(p.finished - last_finished), f.media_totals(), late_before);
    last_finished = p.finished;
    next_status += std::chrono::seconds(1);
  };

  // 1. Registration: until every phone registered or failed, or the time is up.
  phase_times phases;
  double cpu_mark = process_cpu_seconds();
  double wall_mark = 0;
  auto end_phase = [&](double& wall, double& cpu) {
    const double now_wall = elapsed();
    const double now_cpu = process_cpu_seconds();
    wall = now_wall - wall_mark;
    cpu = now_cpu - cpu_mark;
    wall_mark = now_wall;
    cpu_mark = now_cpu;
  };
  f.register_all();
  const double n = static_cast<double>(f.size());
  // Long enough for the last REGISTER's Timer F (64*T1 = 32 s) to report a dead registrar.
  const double reg_seconds = (plan->fleet.register_rate > 0 ? n / plan->fleet.register_rate : 0) + 35;
  const auto reg_deadline = t0 + std::chrono::milliseconds(static_cast<std::int64_t>(reg_seconds * 1000));
  while (!g_interrupted && clock::now() < reg_deadline &&
         stats.phones_registered.load() + stats.phones_failed.load() < stats.phones_total.load())
    tick();
  end_phase(phases.registration_s, phases.cpu_registration_s);
  if (stats.phones_registered.load() == 0 && !g_interrupted)
    std::fprintf(stderr, "sipfleet run: no phone registered: is the registrar at %s reachable, and are the users "
                 "and password right?\n", plan->proxy_text.c_str());

  // 2. Calls, or with --calls 0 and a --duration: stay registered (answering calls) that long.
  const bool enough = stats.phones_registered.load() >= (plan->campaign.callees.empty() ? 2 : 1);
  if (plan->campaign.total > 0 && !g_interrupted && enough) {
    if (auto started = f.start_campaign(plan->campaign); !started) {
      std::fprintf(stderr, "sipfleet run: %s\n", started.err().reason.c_str());
      return 2;
    }
    while (!g_interrupted && !f.progress().done) tick();
  } else if (plan->campaign.total == 0 && plan->campaign.duration.count() > 0) {
    const auto until = clock::now() + plan->campaign.duration;
    while (!g_interrupted && clock::now() < until) tick();
  }
  const auto registered = stats.phones_registered.load();
  end_phase(phases.calls_s, phases.cpu_calls_s);

  // 3. Hang up what is left, unregister every phone.
  if (g_interrupted && !quiet) std::fprintf(stderr, "sipfleet run: interrupted: hanging up and unregistering (again to quit at once)\n");
  f.stop_campaign();
  // Unregistering is paced like registering; then the last REGISTER may need its Timer F.
  const double stop_seconds = (plan->fleet.register_rate > 0 ? n / plan->fleet.register_rate : 0) + 35;
  const bool clean = f.shutdown(std::chrono::milliseconds(static_cast<std::int64_t>(stop_seconds * 1000)));
  if (!clean) std::fprintf(stderr, "sipfleet run: some phones did not unregister in time\n");
  end_phase(phases.shutdown_s, phases.cpu_shutdown_s);
  phases.max_rss_kb = process_max_rss_kb();

  const report_inputs in{.stats = &stats, .phones_registered = registered, .duration_s = elapsed(),
                         .interrupted = g_interrupted.load(), .phases = phases, .media = f.media_totals()};
  print_summary(stdout, in);
  bool written = true;  // both files are written even if one fails
  if (!plan->report_file.empty()) {
    std::ofstream out(plan->report_file);
    out << report_json(in);
    if (!out) {
      std::fprintf(stderr, "sipfleet run: --report '%s': cannot write the file\n", plan->report_file.c_str());
      written = false;
    }
  }
  if (!plan->call_records_file.empty()) {
    std::ofstream out(plan->call_records_file);
    for (const auto& r : f.call_records()) out << call_record_json(r, t0);
    if (!out) {
      std::fprintf(stderr, "sipfleet run: --call-records '%s': cannot write the file\n",
                   plan->call_records_file.c_str());
      written = false;
    }
  }
  if (!written) return 2;
  const auto attempted = stats.calls_attempted.load();
  const double failed_pct =
      attempted == 0 ? 0 : 100.0 * static_cast<double>(stats.calls_failed.load()) / static_cast<double>(attempted);
  bool ok = registered == stats.phones_total.load() && failed_pct <= plan->max_failed_pct;
  if (plan->campaign.total > 0 && attempted == 0) ok = false;
  // Everything is said and unregistered: exit without taking the fleet apart. Destroying
  // 10,000 phone actors one by one (exit and link messages, their timers cancelled, their
  // memory freed) cost ~0.1 s of CPU, for memory the system takes back at once. The orderly
  // teardown is what the fleet's own tests exercise (tests/actors), leak checks included.
  std::fflush(nullptr);
  std::_Exit(ok ? 0 : 1);
}

}  // namespace

void add_run_command(CLI::App& app) {
  auto cli = std::make_shared<run_cli>();
  auto* cmd = app.add_subcommand(
      "run",
      "Register phones through a SIP proxy/registrar and place calls among them.\n"
      "Settings come from flags or a YAML file (--config); flags win. Prints a status line a\n"
      "second on stderr, a summary on stdout, and writes a JSON report with --report.\n"
      "Exit status: 0 all phones registered and failed calls within --max-failed-pct, 1 a\n"
      "threshold missed, 2 usage or configuration error. Ctrl-C stops placing calls, hangs up,\n"
      "unregisters and prints the report.");
  cli->settings.add_to(*cmd);
  cli->quiet_option = cmd->add_flag("--quiet", cli->quiet, "No status line");
  cmd->callback([cli] { set_exit_code(run(*cli)); });
}

}  // namespace sipfleet::app
