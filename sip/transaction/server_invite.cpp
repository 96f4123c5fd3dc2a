// The INVITE server transaction: RFC 3261 §17.2.1 as amended by RFC 6026 §7.1 and §8.5-§8.7.
#include "sip/transaction/server_invite.hpp"

#include <algorithm>

namespace sipfleet::sip::transaction {

std::string_view to_string(server_invite_state s) {
  switch (s) {
    case server_invite_state::proceeding:
      return "Proceeding";
    case server_invite_state::completed:
      return "Completed";
    case server_invite_state::confirmed:
      return "Confirmed";
    case server_invite_state::accepted:
      return "Accepted";
    case server_invite_state::terminated:
      return "Terminated";
  }
  return "?";
}

action_list server_invite::on(const event& e) {
  if (state_ == server_invite_state::terminated) return {};
  if (std::holds_alternative<start>(e)) return on_start();
  if (!started_) return {};
  if (std::holds_alternative<request_received>(e)) return on_request();
  if (std::holds_alternative<ack_received>(e)) return on_ack();
  if (const auto* r = std::get_if<tu_response>(&e)) return on_tu_response(r->status);
  if (const auto* t = std::get_if<timer_fired>(&e)) return on_timer(*t);
  if (std::holds_alternative<transport_error>(e)) return on_transport_error();
  return {};
}

void server_invite::terminate(action_list& out) {
  state_ = server_invite_state::terminated;
  timers_.disarm_all();
  out.push(terminated{});
}

// §17.2.1: "The server transaction MUST generate a 100 (Trying) response unless it knows that
// the TU will generate a provisional or final response within 200 ms ... The request MUST be
// passed to the TU." The 100 goes out at once (no 200 ms timer): see options::send_100_trying.
action_list server_invite::on_start() {
  action_list out;
  if (started_) return out;
  started_ = true;
  out.push(to_tu{});
  if (opts_.send_100_trying) {
    out.push(send_trying{});
    last_status_ = 100;
  }
  return out;
}

action_list server_invite::on_request() {
  action_list out;
  switch (state_) {
    case server_invite_state::proceeding:
      // "the most recent provisional response that was received from the TU MUST be passed to
      // the transport layer for retransmission" (or our own 100 Trying).
      if (last_status_ != 0) out.push(send_response{last_status_, true});
      break;
    case server_invite_state::completed:
      // "If a request retransmission is received while in the 'Completed' state, the server
      // SHOULD pass the response to the transport for retransmission."
      out.push(send_response{last_status_, true});
      break;
    case server_invite_state::confirmed:  // absorbed
    case server_invite_state::accepted:   // RFC 6026 §8.7: absorbed, not passed to the TU
    case server_invite_state::terminated:
      break;
  }
  return out;
}

action_list server_invite::on_ack() {
  action_list out;
  switch (state_) {
    case server_invite_state::completed: {
      // "If an ACK is received while the server transaction is in the 'Completed' state, the
      // server transaction MUST transition to the 'Confirmed' state. As Timer G is ignored in
      // this state, any retransmissions of the response will cease." Timer I: T4 (UDP), 0 (TCP).
      timers_.disarm_all();
      state_ = server_invite_state::confirmed;
      const duration i = timer_value(timer::I, opts_.timers, opts_.reliable);
      if (i == duration{0})
        terminate(out);
      else
        out.push(timers_.arm(timer::I, i));
      break;
    }
    case server_invite_state::accepted:
      // RFC 6026 §8.7: "Any ACKs received from the network while in the 'Accepted' state MUST
      // be passed directly to the TU and not absorbed."
      out.push(to_tu{});
      break;
    case server_invite_state::proceeding:  // no final response yet: nothing to acknowledge
    case server_invite_state::confirmed:   // "absorbed without changing state"
    case server_invite_state::terminated:
      break;
  }
  return out;
}

action_list server_invite::on_tu_response(int status) {
  action_list out;
  if (status < 100 || status > 699) return out;
  switch (state_) {
    case server_invite_state::proceeding:
      last_status_ = status;
      out.push(send_response{status, false});
      if (status < 200) break;  // provisional: sent once, no state change
      if (status < 300) {
        // RFC 6026 §8.5: a 2xx moves to Accepted and starts Timer L; the TU retransmits the 2xx.
        state_ = server_invite_state::accepted;
        out.push(timers_.arm(timer::L, timer_value(timer::L, opts_.timers, opts_.reliable)));
      } else {
        // "the server transaction MUST transition to the 'Completed' state. For unreliable
        // transports, timer G is set to fire in T1 seconds ... timer H MUST be set to fire in
        // 64*T1 seconds for all transports."
        state_ = server_invite_state::completed;
        if (!opts_.reliable && opts_.timers.max_non_invite_retransmits > 0) {
          timer_g_ = timer_value(timer::G, opts_.timers, false);
          out.push(timers_.arm(timer::G, timer_g_));
        }
        out.push(timers_.arm(timer::H, timer_value(timer::H, opts_.timers, opts_.reliable)));
      }
      break;
    case server_invite_state::accepted:
      // RFC 6026 §8.7: "Any retransmission of the 2xx response passed from the TU to the
      // transaction while in the 'Accepted' state MUST be passed to the transport layer."
      if (status >= 200 && status < 300) out.push(send_response{status, false});
      break;
    case server_invite_state::completed:  // a final response was sent: later ones are dropped
    case server_invite_state::confirmed:
    case server_invite_state::terminated:
      break;
  }
  return out;
}

action_list server_invite::on_timer(const timer_fired& e) {
  action_list out;
  if (!timers_.take(e)) return out;  // stale: a no-op
  switch (e.which) {
    case timer::G:
      // "If timer G fires, the response is passed to the transport layer once more for
      // retransmission, and timer G is set to fire in MIN(2*T1, T2) seconds", doubling up to T2,
      // and capped by the phone's retransmission count.
      if (state_ != server_invite_state::completed) break;
      ++retransmits_;
      out.push(send_response{last_status_, true});
      if (retransmits_ < opts_.timers.max_non_invite_retransmits) {
        timer_g_ = std::min(2 * timer_g_, opts_.timers.t2);
        out.push(timers_.arm(timer::G, timer_g_));
      }
      break;
    case timer::H:
      // "If timer H fires while in the 'Completed' state, it implies that the ACK was never
      // received. In this case, the server transaction MUST transition to the 'Terminated'
      // state, and MUST indicate to the TU that a transaction failure has occurred."
      if (state_ != server_invite_state::completed) break;
      out.push(report_timeout{timer::H});
      terminate(out);
      break;
    case timer::I:
      if (state_ == server_invite_state::confirmed) terminate(out);
      break;
    case timer::L:
      if (state_ == server_invite_state::accepted) terminate(out);
      break;
    default:
      break;
  }
  return out;
}

// §17.2.1 / RFC 6026 Figure 7: "Transport Err. Inform TU".
action_list server_invite::on_transport_error() {
  action_list out;
  switch (state_) {
    case server_invite_state::proceeding:
    case server_invite_state::completed:
      out.push(report_transport_error{});
      terminate(out);
      break;
    case server_invite_state::accepted:
      // The TU retransmits the 2xx and owns the dialog; the transaction still has to absorb
      // INVITE retransmissions until Timer L, so it only informs the TU.
      out.push(report_transport_error{});
      break;
    case server_invite_state::confirmed:  // nothing is sent in Confirmed
    case server_invite_state::terminated:
      break;
  }
  return out;
}

}  // namespace sipfleet::sip::transaction
