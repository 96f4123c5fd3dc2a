// A MOS estimate for a call from the ITU-T G.107 E-model, in the simplified form commonly used
// for VoIP monitoring (all G.107 defaults, so Ro - Is = 93.2; Cole & Rosenbluth's delay term):
//
//   R      = 93.2 - Id - Ie_eff
//   Id     = 0.024 d + 0.11 (d - 177.3) H(d - 177.3)       d: one-way mouth-to-ear delay, ms
//   Ie_eff = Ie + (95 - Ie) Ppl / (Ppl / BurstR + Bpl)      G.107 §7.3.2, Ppl in percent
//   MOS    = 1                                   R <= 0
//          = 1 + 0.035 R + R (R - 60)(100 - R) 7e-6   0 < R < 100
//          = 4.5                                 R >= 100
//
// G.711 has Ie = 0 and Bpl = 25.1 with packet loss concealment (G.113 Appendix I), 4.3
// without; BurstR = 1 for random loss. The delay a receiver sees is its network delay plus the
// jitter buffer (about twice the jitter) plus the packet time.
#pragma once

namespace sipfleet::rtp {

struct emodel_input {
  double delay_ms = 0;      // one-way delay
  double loss_pct = 0;      // packet loss, percent
  double burst_ratio = 1;   // BurstR
  double ie = 0;            // codec equipment impairment (G.711: 0)
  double bpl = 25.1;        // codec packet-loss robustness (G.711 with PLC: 25.1)
};

double r_factor(const emodel_input& in);
double mos_from_r(double r);
inline double mos(const emodel_input& in) { return mos_from_r(r_factor(in)); }

}  // namespace sipfleet::rtp
