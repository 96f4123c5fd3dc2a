// The non-INVITE client transaction: RFC 3261 §17.1.2.2.
#include "sip/transaction/client_non_invite.hpp"

#include <algorithm>

namespace sipfleet::sip::transaction {

std::string_view to_string(client_non_invite_state s) {
  switch (s) {
    case client_non_invite_state::trying:
      return "Trying";
    case client_non_invite_state::proceeding:
      return "Proceeding";
    case client_non_invite_state::completed:
      return "Completed";
    case client_non_invite_state::terminated:
      return "Terminated";
  }
  return "?";
}

action_list client_non_invite::on(const event& e) {
  if (state_ == client_non_invite_state::terminated) return {};
  if (std::holds_alternative<start>(e)) return on_start();
  if (!started_) return {};
  if (const auto* r = std::get_if<response_received>(&e)) return on_response(r->status);
  if (const auto* t = std::get_if<timer_fired>(&e)) return on_timer(*t);
  if (std::holds_alternative<transport_error>(e)) return on_transport_error();
  return {};
}

void client_non_invite::terminate(action_list& out) {
  state_ = client_non_invite_state::terminated;
  timers_.disarm_all();
  out.push(terminated{});
}

// §17.1.2.2: "The request MUST be passed to the transport layer for transmission. Timer F MUST
// be set to fire in 64*T1 seconds ... If an unreliable transport is in use, the client
// transaction MUST set timer E to fire in T1 seconds."
action_list client_non_invite::on_start() {
  action_list out;
  if (started_) return out;
  started_ = true;
  out.push(send_request{});
  const auto& c = opts_.timers;
  if (!opts_.reliable && c.max_non_invite_retransmits > 0) {
    timer_e_ = timer_value(timer::E, c, false);
    out.push(timers_.arm(timer::E, timer_e_));
  }
  out.push(timers_.arm(timer::F, timer_value(timer::F, c, opts_.reliable)));
  return out;
}

action_list client_non_invite::on_response(int status) {
  action_list out;
  if (status < 100 || status > 699) return out;
  switch (state_) {
    case client_non_invite_state::trying:
    case client_non_invite_state::proceeding:
      if (status < 200) {
        // Timer E keeps running; it fires every T2 from now on (see on_timer).
        state_ = client_non_invite_state::proceeding;
        out.push(to_tu{status});
      } else {
        // "If a final response (status codes 200-699) is received while in the 'Trying' [or
        // 'Proceeding'] state, the response MUST be passed to the TU, and the client transaction
        // MUST transition to the 'Completed' state" and start Timer K (T4 on UDP, 0 on TCP).
        timers_.disarm_all();
        state_ = client_non_invite_state::completed;
        out.push(to_tu{status});
        const duration k = timer_value(timer::K, opts_.timers, opts_.reliable);
        if (k == duration{0})
          terminate(out);
        else
          out.push(timers_.arm(timer::K, k));
      }
      break;
    case client_non_invite_state::completed:  // "buffer any additional response retransmissions"
    case client_non_invite_state::terminated:
      break;
  }
  return out;
}

action_list client_non_invite::on_timer(const timer_fired& e) {
  action_list out;
  if (!timers_.take(e)) return out;  // stale: a no-op
  switch (e.which) {
    case timer::E: {
      if (state_ != client_non_invite_state::trying &&
          state_ != client_non_invite_state::proceeding)
        break;
      // Trying: "reset with a value of MIN(2*T1, T2)", doubling up to T2. Proceeding: "the timer
      // is reset to T2".
      ++retransmits_;
      out.push(send_request{.retransmission = true});
      if (retransmits_ < opts_.timers.max_non_invite_retransmits) {
        timer_e_ = state_ == client_non_invite_state::trying
                       ? std::min(2 * timer_e_, opts_.timers.t2)
                       : opts_.timers.t2;
        out.push(timers_.arm(timer::E, timer_e_));
      }
      break;
    }
    case timer::F:
      // "If Timer F fires while the client transaction is still in the 'Trying' [or
      // 'Proceeding'] state, the client transaction SHOULD inform the TU about the timeout".
      out.push(report_timeout{timer::F});
      terminate(out);
      break;
    case timer::K:
      if (state_ == client_non_invite_state::completed) terminate(out);
      break;
    default:
      break;
  }
  return out;
}

// Figure 6: a transport error in Trying or Proceeding informs the TU. In Completed nothing is
// sent any more, so it is ignored.
action_list client_non_invite::on_transport_error() {
  action_list out;
  if (state_ == client_non_invite_state::completed) return out;
  out.push(report_transport_error{});
  terminate(out);
  return out;
}

}  // namespace sipfleet::sip::transaction
