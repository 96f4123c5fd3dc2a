// The INVITE client transaction: RFC 3261 §17.1.1.2 as amended by RFC 6026 §8.4.
#include "sip/transaction/client_invite.hpp"

namespace sipfleet::sip::transaction {

std::string_view to_string(client_invite_state s) {
  switch (s) {
    case client_invite_state::calling:
      return "Calling";
    case client_invite_state::proceeding:
      return "Proceeding";
    case client_invite_state::completed:
      return "Completed";
    case client_invite_state::accepted:
      return "Accepted";
    case client_invite_state::terminated:
      return "Terminated";
  }
  return "?";
}

action_list client_invite::on(const event& e) {
  if (state_ == client_invite_state::terminated) return {};
  if (std::holds_alternative<start>(e)) return on_start();
  if (!started_) return {};
  if (const auto* r = std::get_if<response_received>(&e)) return on_response(r->status);
  if (const auto* t = std::get_if<timer_fired>(&e)) return on_timer(*t);
  if (std::holds_alternative<transport_error>(e)) return on_transport_error();
  return {};  // request_received, ack_received, tu_response: not for a client transaction
}

void client_invite::terminate(action_list& out) {
  state_ = client_invite_state::terminated;
  timers_.disarm_all();
  out.push(terminated{});
}

// §17.1.1.2: "The client transaction MUST pass the request to the transport layer ... If an
// unreliable transport is being used, the client transaction MUST start timer A with a value of
// T1 ... For any transport, the client transaction MUST start timer B with a value of 64*T1."
action_list client_invite::on_start() {
  action_list out;
  if (started_) return out;
  started_ = true;
  out.push(send_request{});
  const auto& c = opts_.timers;
  if (!opts_.reliable && c.max_invite_retransmits > 0) {
    timer_a_ = timer_value(timer::A, c, false);
    out.push(timers_.arm(timer::A, timer_a_));
  }
  out.push(timers_.arm(timer::B, timer_value(timer::B, c, opts_.reliable)));
  return out;
}

action_list client_invite::on_response(int status) {
  action_list out;
  if (status < 100 || status > 699) return out;  // not a response status: drop it
  switch (state_) {
    case client_invite_state::calling:
    case client_invite_state::proceeding:
      if (status < 200) {
        // "the client transaction SHOULD NOT retransmit the request any longer" and Timer B only
        // runs in Calling (Figure 5): the TU's own expiry (180 s for the phone) takes over.
        timers_.disarm(timer::A);
        timers_.disarm(timer::B);
        state_ = client_invite_state::proceeding;
        out.push(to_tu{status});
      } else if (status < 300) {
        // RFC 6026 §8.4: a 2xx moves to Accepted and starts Timer M; the TU sends the ACK.
        timers_.disarm_all();
        state_ = client_invite_state::accepted;
        out.push(to_tu{status});
        out.push(timers_.arm(timer::M, timer_value(timer::M, opts_.timers, opts_.reliable)));
      } else {
        // "the client transaction MUST generate an ACK request ... and then pass the response up
        // to the TU ... the client transaction SHOULD set timer D".
        timers_.disarm_all();
        state_ = client_invite_state::completed;
        out.push(send_ack{});
        out.push(to_tu{status});
        const duration d = timer_value(timer::D, opts_.timers, opts_.reliable);
        if (d == duration{0})
          terminate(out);
        else
          out.push(timers_.arm(timer::D, d));
      }
      break;
    case client_invite_state::completed:
      // "Any retransmissions of the final response that are received while in the 'Completed'
      // state MUST cause the ACK to be re-passed to the transport layer for retransmission, but
      // the newly constructed ACK request MUST NOT be passed up to the TU."
      if (status >= 300) out.push(send_ack{.retransmission = true});
      break;
    case client_invite_state::accepted:
      // RFC 6026 §8.4: retransmitted 2xx and 2xx from other forks go to the TU; the
      // transaction never ACKs them. Anything else is dropped.
      if (status >= 200 && status < 300) out.push(to_tu{status});
      break;
    case client_invite_state::terminated:
      break;
  }
  return out;
}

action_list client_invite::on_timer(const timer_fired& e) {
  action_list out;
  if (!timers_.take(e)) return out;  // stale (superseded or disarmed): a no-op
  switch (e.which) {
    case timer::A:
      // "When timer A fires, the client transaction MUST retransmit the request ... and MUST
      // reset the timer with a value of 2*T1" (no T2 cap for INVITE), up to the configured cap.
      if (state_ != client_invite_state::calling) break;
      ++retransmits_;
      out.push(send_request{.retransmission = true});
      if (retransmits_ < opts_.timers.max_invite_retransmits) {
        timer_a_ *= 2;
        out.push(timers_.arm(timer::A, timer_a_));
      }
      break;
    case timer::B:
      // "If the client transaction is still in the 'Calling' state when timer B fires, the
      // client transaction SHOULD inform the TU that a timeout has occurred" (the TU sees 408).
      if (state_ != client_invite_state::calling) break;
      out.push(report_timeout{timer::B});
      terminate(out);
      break;
    case timer::D:
      if (state_ == client_invite_state::completed) terminate(out);
      break;
    case timer::M:
      if (state_ == client_invite_state::accepted) terminate(out);
      break;
    default:
      break;
  }
  return out;
}

// Figure 5: a transport error in Calling or Completed informs the TU and terminates. In
// Proceeding the final response can no longer arrive over a failed connection either, so the
// machine does the same there. In Accepted the transaction sends nothing, so it is ignored.
action_list client_invite::on_transport_error() {
  action_list out;
  if (state_ == client_invite_state::accepted) return out;
  out.push(report_transport_error{});
  terminate(out);
  return out;
}

}  // namespace sipfleet::sip::transaction
