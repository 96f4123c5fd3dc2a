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

const std::map<std::string, std::string>& option_help() {
  static const std::map<std::string, std::string> help = {
      {"proxy", "Outbound proxy and registrar, HOST:PORT"},
      {"domain", "SIP domain of the phones (AOR host, realm)"},
      {"users", "The phones' user names as number ranges, e.g. 1000-1999 or 1000-1099,2000-2099"},
      {"password", "Digest password template; {user} is replaced by the user"},
      {"transport", "udp or tcp"},
      {"local-ip", "Local address(es) for the phones' sockets, comma-separated (e.g. 127.0.0.2,127.0.0.3)"},
      {"sip-port", "Local SIP port (0: any free port)"},
      {"register-rate", "Registrations started per second (0: all at once)"},
      {"expires", "Registration lifetime to ask for, seconds"},
      {"calls", "Total calls to place (0: registration only)"},
      {"call-rate", "Calls started per second"},
      {"hold", "How long an answered call stays up, e.g. 5s, 500ms"},
      {"answer-delay", "How long a called phone rings before it answers"},
      {"max-concurrent", "At most this many calls in progress"},
      {"report", "Write the JSON report to this file"},
      {"max-failed-pct", "Exit 1 when more than this percentage of calls fail"},
      {"duration", "Stop placing calls after this time (0: when --calls are placed); with --calls 0, keep\n"
                   "the phones registered this long (they answer calls from elsewhere)"},
      {"callees", "Users to call instead of the fleet's own phones, e.g. a SIPp UAS or an IVR (ranges)"},
      {"seed", "Seed for the random choices (callers, callees, identifiers)"},
      {"threads", "Actor scheduler threads (0: one per core less the SIP I/O thread's, at least 1)"},
      {"media", "on: every answered call streams G.711 RTP both ways and measures it; off: SIP only"},
      {"codec", "The G.711 law offered first, PCMU or PCMA (both are accepted when answering)"},
      {"audio", "What the phones send: a WAV file (PCM16/G.711, 8 kHz mono) or raw 16-bit 8 kHz\n"
                "samples, looped (default: a generated speech-like signal)"},
      {"rtp-ports", "Local ports for RTP (even) and RTCP (the odd one above), one pair per call end"},
      {"dtmf", "Digits the caller sends as RFC 4733 events once a call is answered, e.g. 123#"},
      {"media-threads", "Media engine threads (0: one per core)"},
      {"call-records", "Write every ended call (both sides) to this file, one JSON object per line:\n"
                       "times, end code and reason, and the call's media figures and DTMF digits"},
  };
  return help;
}

struct run_cli {
  std::map<std::string, std::string> values;
  std::map<std::string, CLI::Option*> options;
  std::string config;
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
    std::snprintf(media_part, sizeof media_part, " | media %llu streams, loss %.2f%%, late p99 %.2f ms",
                  static_cast<unsigned long long>(media->streams_open), loss, rtp::late_percentile(last_second, 0.99));
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
  raw_settings raw;
  if (!cli.config.empty()) {
    auto file = read_yaml_settings(cli.config);
    if (!file) {
      std::fprintf(stderr, "sipfleet run: %s\n", file.err().reason.c_str());
      return 2;
    }
    raw = std::move(file).value();
  }
  for (const auto& [name, opt] : cli.options)
    if (opt->count() > 0) raw[name] = cli.values[name];  // flags win over the file
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
    f.start_campaign(plan->campaign);
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
  cmd->add_option("--config", cli->config, "YAML file with the same option names (e.g. 'calls: 100')");
  for (const auto& [name, def] : run_option_defaults()) {
    if (name == "quiet") continue;
    const auto& help = option_help().at(name);
    auto* opt = cmd->add_option("--" + name, cli->values[name], help + (def.empty() ? "" : " [default: " + def + "]"));
    cli->options[name] = opt;
  }
  cli->quiet_option = cmd->add_flag("--quiet", cli->quiet, "No status line");
  cmd->callback([cli] { set_exit_code(run(*cli)); });
}

}  // namespace sipfleet::app
