// The non-INVITE server transaction: RFC 3261 §17.2.2.
#include "sip/transaction/server_non_invite.hpp"

namespace sipfleet::sip::transaction {

std::string_view to_string(server_non_invite_state s) {
  switch (s) {
    case server_non_invite_state::trying:
      return "Trying";
    case server_non_invite_state::proceeding:
      return "Proceeding";
    case server_non_invite_state::completed:
      return "Completed";
    case server_non_invite_state::terminated:
      return "Terminated";
  }
  return "?";
}

action_list server_non_invite::on(const event& e) {
  if (state_ == server_non_invite_state::terminated) return {};
  if (std::holds_alternative<start>(e)) {
    // "The state machine is initialized in the 'Trying' state and is passed a request other
    // than INVITE or ACK when initialized. This request is passed up to the TU."
    if (started_) return {};
    started_ = true;
    action_list out;
    out.push(to_tu{});
    return out;
  }
  if (!started_) return {};
  if (std::holds_alternative<request_received>(e)) return on_request();
  if (const auto* r = std::get_if<tu_response>(&e)) return on_tu_response(r->status);
  if (const auto* t = std::get_if<timer_fired>(&e)) return on_timer(*t);
  if (std::holds_alternative<transport_error>(e)) return on_transport_error();
  return {};
}

void server_non_invite::terminate(action_list& out) {
  state_ = server_non_invite_state::terminated;
  timers_.disarm_all();
  out.push(terminated{});
}

// "While in the 'Trying' state, any further request retransmissions are discarded." In
// Proceeding the last provisional is resent, in Completed the final response.
action_list server_non_invite::on_request() {
  action_list out;
  switch (state_) {
    case server_non_invite_state::proceeding:
    case server_non_invite_state::completed:
      out.push(send_response{last_status_, true});
      break;
    case server_non_invite_state::trying:
    case server_non_invite_state::terminated:
      break;
  }
  return out;
}

action_list server_non_invite::on_tu_response(int status) {
  action_list out;
  if (status < 100 || status > 699) return out;
  if (state_ != server_non_invite_state::trying && state_ != server_non_invite_state::proceeding)
    return out;  // "Any other final responses passed by the TU ... MUST be discarded"
  last_status_ = status;
  out.push(send_response{status, false});
  if (status < 200) {
    state_ = server_non_invite_state::proceeding;
    return out;
  }
  // "the server transaction MUST enter the 'Completed' state, and the response MUST be passed
  // to the transport layer ... Timer J [is set] to fire in 64*T1 seconds for unreliable
  // transports, and zero seconds for reliable transports."
  state_ = server_non_invite_state::completed;
  const duration j = timer_value(timer::J, opts_.timers, opts_.reliable);
  if (j == duration{0})
    terminate(out);
  else
    out.push(timers_.arm(timer::J, j));
  return out;
}

action_list server_non_invite::on_timer(const timer_fired& e) {
  action_list out;
  if (!timers_.take(e)) return out;  // stale: a no-op
  if (e.which == timer::J && state_ == server_non_invite_state::completed) terminate(out);
  return out;
}

// Figure 8: a transport error in Proceeding or Completed (sending a response failed) informs
// the TU and terminates. In Trying nothing has been sent, so the error cannot be ours.
action_list server_non_invite::on_transport_error() {
  action_list out;
  if (state_ == server_non_invite_state::trying) return out;
  out.push(report_transport_error{});
  terminate(out);
  return out;
}

}  // namespace sipfleet::sip::transaction
