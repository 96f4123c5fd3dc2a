// The messages the actors exchange (CAF 0.17: atom constants, and the few payload types
// allowed as local-only message types). Who sends what to whom is drawn in fleet.cpp.
#pragma once

#include <caf/all.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "actors/ua/phone.hpp"
#include "sip/message.hpp"

namespace sipfleet::actors {

using sip_atom = caf::atom_constant<caf::atom("sip")>;        // a parsed message for a phone
using malformed_atom = caf::atom_constant<caf::atom("badsip")>;  // bytes that did not parse
using timer_atom = caf::atom_constant<caf::atom("timer")>;    // a phone timer fired (payload above)
using start_atom = caf::atom_constant<caf::atom("start")>;    // register
using stop_atom = caf::atom_constant<caf::atom("stop")>;      // hang up, unregister
using call_atom = caf::atom_constant<caf::atom("call")>;      // place a call
using tick_atom = caf::atom_constant<caf::atom("tick")>;      // campaign pacing
using dial_atom = caf::atom_constant<caf::atom("dial")>;      // place a call, reply at once
using action_atom = caf::atom_constant<caf::atom("action")>;  // act on a call in progress
using calls_atom = caf::atom_constant<caf::atom("calls")>;    // the calls in progress
using crash_atom = caf::atom_constant<caf::atom("crash")>;    // fault injection: a phone fails

// A phone timer as the timer wheel carries it (actors/timer_wheel.hpp): the ua::phone's slot
// and generation, and the phone's incarnation (bumped at each restart), so that a restarted
// phone never takes its predecessor's timers. The slot k_start_slot is the phone's delayed
// start (registration paced by --register-rate).
inline constexpr std::uint32_t k_start_slot = 0xffffff;
inline std::uint64_t timer_payload(std::uint32_t slot, std::uint32_t generation, std::uint8_t incarnation) {
  return (static_cast<std::uint64_t>(incarnation) << 56) | (static_cast<std::uint64_t>(slot & 0xffffff) << 32) |
         generation;
}
inline std::uint32_t payload_slot(std::uint64_t p) { return static_cast<std::uint32_t>(p >> 32) & 0xffffff; }
inline std::uint32_t payload_generation(std::uint64_t p) { return static_cast<std::uint32_t>(p); }
inline std::uint8_t payload_incarnation(std::uint64_t p) { return static_cast<std::uint8_t>(p >> 56); }

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

// The outcome of a placed call, delivered when the call ends.
struct call_outcome {
  ua::call_record record;
};

struct call_list {
  std::vector<ua::call_record> calls;
};

}  // namespace sipfleet::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(sipfleet::actors::inbound)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(sipfleet::actors::inbound_malformed)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(sipfleet::actors::call_outcome)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(sipfleet::actors::call_list)
