// The messages the actors exchange (CAF 0.17: atom constants, and the few payload types
// allowed as local-only message types). Who sends what to whom is drawn in fleet.cpp.
#pragma once

#include <caf/all.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "actors/fleet.hpp"
#include "actors/ua/phone.hpp"
#include "sip/message.hpp"

namespace sipfleet::actors {

// Between supervisors and the campaign.
using start_atom = caf::atom_constant<caf::atom("start")>;  // shards: start phones, paced
using stop_atom = caf::atom_constant<caf::atom("stop")>;    // shards: stop phones, paced; campaign: stop
using tick_atom = caf::atom_constant<caf::atom("tick")>;    // pacing ticks

// A phone timer as the timer wheel carries it (actors/timer_wheel.hpp): the ua::phone's slot
// and generation, and the phone's incarnation (bumped at each restart), so that a restarted
// phone never takes its predecessor's timers.
inline std::uint64_t timer_payload(std::uint32_t slot, std::uint32_t generation, std::uint8_t incarnation) {
  return (static_cast<std::uint64_t>(incarnation) << 56) | (static_cast<std::uint64_t>(slot & 0xffffff) << 32) |
         generation;
}
inline std::uint32_t payload_slot(std::uint64_t p) { return static_cast<std::uint32_t>(p >> 32) & 0xffffff; }
inline std::uint32_t payload_generation(std::uint64_t p) { return static_cast<std::uint32_t>(p); }
inline std::uint8_t payload_incarnation(std::uint64_t p) { return static_cast<std::uint8_t>(p >> 56); }

// ---- what a phone can be told ----------------------------------------------------------------
// One message type, a variant, so that a phone actor's behaviour has a single handler: in CAF
// 0.17 every handler of a behaviour costs each actor ~60 bytes (eleven of them were 660 of a
// phone's ~4,400).

// A SIP message from the network, shared (not copied) on its way to the phone.
struct inbound {
  std::shared_ptr<const sip::message> message;
  ua::endpoint from;
};

struct inbound_malformed {
  std::string bytes;
  std::string reason;
  ua::endpoint from;
};

struct timer_fired {
  std::uint64_t payload = 0;  // timer_payload()
};

struct start_phone {};  // register (a restarted phone, or --register-rate 0)
struct stop_phone {};   // hang up, unregister; answered `true` when unregistered

// Place a call. wait: answered with call_outcome when the call ends; otherwise answered with
// the Call-ID (std::string) at once. Either way an error when the call cannot be placed.
struct place_call {
  std::string target;
  std::int64_t hold_ms = 0;
  bool wait = false;
  std::string dtmf{};  // digits sent once the call is answered (RFC 4733)
};

struct act_on_call {  // answered `true`, or an error naming why not
  call_action action = call_action::hangup;
  std::string call_id;
  std::string arg{};  // the digits (dtmf) or the target (transfer)
};

struct list_calls {};  // answered with call_list
struct query_phone {};  // answered with phone_info
struct edit_behaviour {  // answered with the new ua::behaviour
  std::function<void(ua::behaviour&)> edit;
};
struct inject_crash {};  // fault injection: the phone fails as if its code had thrown
struct digit_heard {     // the media engine heard an RFC 4733 digit on stream `key`
  std::uint32_t key = 0;
  char digit = 0;
};

using phone_input = std::variant<inbound, inbound_malformed, timer_fired, start_phone, stop_phone, place_call,
                                 act_on_call, list_calls, query_phone, edit_behaviour, inject_crash, digit_heard>;

// The outcome of a placed call, delivered when the call ends.
struct call_outcome {
  ua::call_record record;
};

struct call_list {
  std::vector<ua::call_record> calls;
};

}  // namespace sipfleet::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(sipfleet::actors::phone_input)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(sipfleet::actors::call_outcome)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(sipfleet::actors::call_list)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(sipfleet::actors::phone_info)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(sipfleet::ua::behaviour)
