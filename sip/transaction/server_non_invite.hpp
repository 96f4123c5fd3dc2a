// The non-INVITE server transaction (RFC 3261 §17.2.2, Figure 8) as a pure state machine:
// `on(event) -> actions`. See timers.hpp.
//
//        start (request arrived): to TU
//                      |
//   request: -     Trying --- 200-699 from TU: send it, start J ----------+
//   1xx from TU: send it |                                                 |
//                        V                                                 V
//   request: resend 1xx  Proceeding -- 200-699 from TU: send, start J --> Completed
//   1xx from TU: send it   (transport error: inform TU)      (request: resend final; J)
//                                                                          |
//                                                 Terminated <-- Timer J --+
#pragma once

#include <cstdint>
#include <string_view>

#include "sip/transaction/timers.hpp"

namespace sipfleet::sip::transaction {

enum class server_non_invite_state : std::uint8_t { trying, proceeding, completed, terminated };

std::string_view to_string(server_non_invite_state s);

class server_non_invite {
 public:
  explicit server_non_invite(const options& opts = {}) : opts_(opts) {}

  action_list on(const event& e);
  // Which of its timers are live (stale ones may be cancelled by the caller).
  const timer_set& timers() const { return timers_; }

  server_non_invite_state state() const { return state_; }

 private:
  action_list on_request();
  action_list on_tu_response(int status);
  action_list on_timer(const timer_fired& e);
  action_list on_transport_error();
  void terminate(action_list& out);

  options opts_;
  server_non_invite_state state_ = server_non_invite_state::trying;
  bool started_ = false;
  timer_set timers_;
  int last_status_ = 0;  // the last response sent (0: none yet)
};

}  // namespace sipfleet::sip::transaction
