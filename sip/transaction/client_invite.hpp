// The INVITE client transaction (RFC 3261 §17.1.1, Figure 5) with RFC 6026's Accepted state
// and Timer M, as a pure state machine: `on(event) -> actions`. See timers.hpp for the events,
// the actions and the timer rules; ack.hpp builds the ACK that send_ack asks for.
//
//   state            event            actions                              next state
//   (new)            start            send INVITE; start A (UDP), B        Calling
//   Calling          Timer A          resend; A *= 2 (no T2 cap), until    Calling
//                                     max_invite_retransmits
//   Calling          Timer B          timeout (the TU sees 408)            Terminated
//   Calling, Proc.   1xx              to TU                                Proceeding
//   Calling, Proc.   300-699          send ACK; to TU; start D             Completed (TCP:
//                                                                          Terminated, D = 0)
//   Calling, Proc.   2xx              to TU; start M (RFC 6026)            Accepted
//   Completed        300-699          resend ACK (not to the TU)           Completed
//   Completed        Timer D          -                                    Terminated
//   Accepted         2xx              to TU (retransmissions, forks)       Accepted
//   Accepted         Timer M          -                                    Terminated
//   all but Acc.     transport error  inform TU                            Terminated
#pragma once

#include <cstdint>
#include <string_view>

#include "sip/transaction/timers.hpp"

namespace sipfleet::sip::transaction {

enum class client_invite_state : std::uint8_t {
  calling,
  proceeding,
  completed,
  accepted,
  terminated
};

std::string_view to_string(client_invite_state s);

class client_invite {
 public:
  explicit client_invite(const options& opts = {}) : opts_(opts) {}

  action_list on(const event& e);
  // Which of its timers are live (stale ones may be cancelled by the caller).
  const timer_set& timers() const { return timers_; }

  client_invite_state state() const { return state_; }
  // Retransmissions of the INVITE so far (Timer A).
  int retransmits() const { return retransmits_; }

 private:
  action_list on_start();
  action_list on_response(int status);
  action_list on_timer(const timer_fired& e);
  action_list on_transport_error();
  // Leaves for Terminated: disarms every timer and appends `terminated`.
  void terminate(action_list& out);

  options opts_;
  client_invite_state state_ = client_invite_state::calling;
  bool started_ = false;
  timer_set timers_;
  duration timer_a_{0};  // the interval Timer A was last started with
  int retransmits_ = 0;
};

}  // namespace sipfleet::sip::transaction
