// The phone actor: one simulated phone. It owns a ua::phone (the sans-I/O user agent) and
// carries out what it asks: bytes to the transport, timers as CAF delayed messages (which
// cannot be cancelled: the phone ignores stale generations), events to the run statistics.
//
//   transport --(sip_atom inbound)--> shard --> phone actor --(bytes)--> transport
//   shard/campaign --(start | stop | call)--> phone actor
//   phone actor --(delayed timer_atom)--> itself
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
  fleet_shared* shared = nullptr;
};

caf::behavior phone_actor(caf::event_based_actor* self, phone_setup setup);

}  // namespace sipfleet::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(sipfleet::actors::phone_setup)
