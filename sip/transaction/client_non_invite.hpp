// The non-INVITE client transaction (RFC 3261 §17.1.2, Figure 6) as a pure state machine:
// `on(event) -> actions`. See timers.hpp for the events, the actions and the timer rules.
//
//          start: send request, start E (UDP), F
//                            |
//   Timer E: resend,    +- Trying -+  Timer F or transport error: inform TU ------+
//   E = min(2E, T2)     |          |                                              |
//                  1xx: |          | 200-699: to TU, start K                      |
//                 to TU V          V                                              V
//   Timer E: resend, Proceeding -> Completed (responses absorbed) -- K -->   Terminated
//   E = T2          (1xx: to TU)
#pragma once

#include <cstdint>
#include <string_view>

#include "sip/transaction/timers.hpp"

namespace sipfleet::sip::transaction {

enum class client_non_invite_state : std::uint8_t { trying, proceeding, completed, terminated };

std::string_view to_string(client_non_invite_state s);

class client_non_invite {
 public:
  explicit client_non_invite(const options& opts = {}) : opts_(opts) {}

  action_list on(const event& e);
  // Which of its timers are live (stale ones may be cancelled by the caller).
  const timer_set& timers() const { return timers_; }

  client_non_invite_state state() const { return state_; }
  // Retransmissions of the request so far (Timer E).
  int retransmits() const { return retransmits_; }

 private:
  action_list on_start();
  action_list on_response(int status);
  action_list on_timer(const timer_fired& e);
  action_list on_transport_error();
  void terminate(action_list& out);

  options opts_;
  client_non_invite_state state_ = client_non_invite_state::trying;
  bool started_ = false;
  timer_set timers_;
  duration timer_e_{0};  // the interval Timer E was last started with
  int retransmits_ = 0;
};

}  // namespace sipfleet::sip::transaction
