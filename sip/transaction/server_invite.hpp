// The INVITE server transaction (RFC 3261 §17.2.1, Figure 7) with RFC 6026's Accepted state
// and Timer L, as a pure state machine: `on(event) -> actions`. See timers.hpp.
//
//          start (INVITE arrived): to TU, send 100 Trying (options::send_100_trying)
//                                   |
//     INVITE: resend last 1xx  Proceeding  1xx from TU: send it
//                 2xx from TU:  |       |  300-699 from TU: send it, start G (UDP), H
//        send it, start L       V       V
//   Accepted (INVITE absorbed,      Completed (INVITE: resend final; G: resend, G = min(2G, T2))
//    2xx from TU: send it,             |  ACK: start I            | H: inform TU
//    ACK: to TU)                       V                          |
//        | Timer L               Confirmed (ACK absorbed)        |
//        V                             | Timer I                  V
//     Terminated <---------------------+--------------------------+
//
// A transport error in Proceeding or Completed informs the TU and terminates; in Accepted it
// informs the TU and the machine stays (RFC 6026 Figure 7: the TU owns the 2xx retransmissions).
#pragma once

#include <cstdint>
#include <string_view>

#include "sip/transaction/timers.hpp"

namespace sipfleet::sip::transaction {

enum class server_invite_state : std::uint8_t {
  proceeding,
  completed,
  confirmed,
  accepted,
  terminated
};

std::string_view to_string(server_invite_state s);

class server_invite {
 public:
  explicit server_invite(const options& opts = {}) : opts_(opts) {}

  action_list on(const event& e);
  // Which of its timers are live (stale ones may be cancelled by the caller).
  const timer_set& timers() const { return timers_; }

  server_invite_state state() const { return state_; }
  // Retransmissions of the final non-2xx response so far (Timer G).
  int retransmits() const { return retransmits_; }

 private:
  action_list on_start();
  action_list on_request();
  action_list on_ack();
  action_list on_tu_response(int status);
  action_list on_timer(const timer_fired& e);
  action_list on_transport_error();
  void terminate(action_list& out);

  options opts_;
  server_invite_state state_ = server_invite_state::proceeding;
  bool started_ = false;
  timer_set timers_;
  int last_status_ = 0;  // the last response sent (0: none yet)
  duration timer_g_{0};
  int retransmits_ = 0;
};

}  // namespace sipfleet::sip::transaction
