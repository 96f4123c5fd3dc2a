// The run report: a summary table for people (stdout) and a JSON document for scripts
// (--report FILE). Field names are a contract (issue 3): phones.*, registrations.*, calls.*,
// sip.*, duration_s.
#pragma once

#include <cstdio>
#include <string>

#include "actors/stats.hpp"

namespace sipfleet::app {

struct report_inputs {
  const actors::run_stats* stats = nullptr;
  std::int64_t phones_registered = 0;  // registered before shutdown began
  double duration_s = 0;
  bool interrupted = false;
};

std::string report_json(const report_inputs& in);
void print_summary(std::FILE* out, const report_inputs& in);

}  // namespace sipfleet::app
