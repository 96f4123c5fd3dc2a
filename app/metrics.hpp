// GET /metrics: the run's figures in Prometheus's text format, through prometheus-cpp's
// serializer. Names follow Prometheus's conventions (base units, _total counters); no label
// takes unbounded values (no users, no Call-IDs). Nothing is looked up per message: the
// phones count into run_stats' atomics, and the families are made from them at scrape time.
#pragma once

#include <optional>
#include <string>

#include "actors/stats.hpp"
#include "control_api/server.hpp"
#include "rtp/engine.hpp"

namespace sipfleet::app {

std::string metrics_text(const actors::run_stats& stats, const std::optional<rtp::engine_totals>& media,
                         const std::optional<control_api::server_counters>& api);

}  // namespace sipfleet::app
