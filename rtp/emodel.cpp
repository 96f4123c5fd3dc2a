// The simplified E-model (see emodel.hpp for the formula and its sources).
#include "rtp/emodel.hpp"

#include <algorithm>

namespace sipfleet::rtp {

double r_factor(const emodel_input& in) {
  const double d = std::max(0.0, in.delay_ms);
  const double id = 0.024 * d + (d > 177.3 ? 0.11 * (d - 177.3) : 0.0);
  const double ppl = std::clamp(in.loss_pct, 0.0, 100.0);
  const double burst = in.burst_ratio > 0 ? in.burst_ratio : 1.0;
  const double ie_eff = in.ie + (95.0 - in.ie) * ppl / (ppl / burst + in.bpl);
  return 93.2 - id - ie_eff;
}

double mos_from_r(double r) {
  if (r <= 0) return 1.0;
  if (r >= 100) return 4.5;
  return 1.0 + 0.035 * r + r * (r - 60.0) * (100.0 - r) * 7e-6;
}

}  // namespace sipfleet::rtp
