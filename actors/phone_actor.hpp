// The phone actor: one simulated phone. It owns a ua::phone (the sans-I/O user agent) and
// carries out what it asks: bytes to the transport, timers on the fleet's timer wheel
// (cancelled when the phone no longer wants them), events to the run statistics.
//
//   transport --(inbound)--> phone actor --(bytes)--> transport
//   timer wheel --(timer_fired)--> phone actor      (found in the phone directory)
//   shard/campaign/fleet --(start | stop | call | ...)--> phone actor
// Everything a phone is told is one phone_input (actors/messages.hpp).
#pragma once

#include <caf/all.hpp>

#include <cstdint>

#include "actors/shared_state.hpp"
#include "actors/ua/phone.hpp"

namespace sipfleet::actors {

struct phone_setup {
  ua::phone_config config;
  std::size_t index = 0;   // the phone's number in the fleet (its route key)
  std::size_t socket = 0;  // which transport socket it uses
  std::uint64_t seed = 0;
  std::uint8_t incarnation = 0;  // bumped at each restart (see timer_payload)
  fleet_shared* shared = nullptr;
};

// Spawns phone `setup.index`, linked to `parent` (its shard).
caf::actor spawn_phone(caf::event_based_actor* parent, phone_setup setup);

}  // namespace sipfleet::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(sipfleet::actors::phone_setup)
