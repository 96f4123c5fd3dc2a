// The run report: a summary table for people (stdout) and a JSON document for scripts
// (--report FILE). Field names are a contract (issues 3 and 4): phones.*, registrations.*,
// calls.*, sip.*, duration_s, media.*.
#pragma once

#include <cstdio>
#include <optional>
#include <string>

#include "actors/stats.hpp"
#include "rtp/engine.hpp"

namespace sipfleet::app {

// Wall-clock and process CPU seconds at the end of each phase of a run.
struct phase_times {
  double registration_s = 0;      // start -> every phone registered (or failed, or time up)
  double calls_s = 0;             // -> the campaign done
  double shutdown_s = 0;          // -> every phone unregistered
  double cpu_registration_s = 0;  // process CPU (user + system) used in each phase
  double cpu_calls_s = 0;
  double cpu_shutdown_s = 0;
  long max_rss_kb = 0;
};

struct report_inputs {
  const actors::run_stats* stats = nullptr;
  std::int64_t phones_registered = 0;  // registered before shutdown began
  double duration_s = 0;
  bool interrupted = false;
  phase_times phases{};
  std::optional<rtp::engine_totals> media{};  // none: --media off
};

// Process CPU seconds (user + system) and peak RSS so far.
double process_cpu_seconds();
long process_max_rss_kb();

std::string report_json(const report_inputs& in);
// One call record as a JSON object on one line (--call-records). `t0` is the run's start:
// times are milliseconds since then.
std::string call_record_json(const ua::call_record& r, std::chrono::steady_clock::time_point t0);
void print_summary(std::FILE* out, const report_inputs& in);

}  // namespace sipfleet::app
