// The fleet's supervisors and how the actors talk:
//
//                      +-----------------+
//      fleet (C++) --> |      root       |  spawns shards, linked, trapping their exits (a
//                      +-----------------+  shard that dies is respawned, its phones re-register)
//                        |   links    |
//                  +-----------+ +-----------+
//                  |  shard 0  | |  shard 1  | ...  spawn their phones and supervise them (a
//                  +-----------+ +-----------+      phone that fails is restarted and
//                    |  |  |       |  |  |          re-registers; its neighbours are
//                  phone actors   phone actors      untouched), write them into the phone
//                    ^    ^                         directory, start and stop them. Telling the
//                    |    |                         root to exit takes shards and phones with it.
//   transport -------+    +------- timer wheel (pumped on the I/O thread)
//   campaign, fleet API --+   (each looks the phone up in the directory and sends to it directly)
//
// The transport's I/O thread also pumps the timer wheel; for a datagram or a due timer it
// enqueues to the phone with its own execution unit (actors/inline_unit.hpp) and runs the
// phone right there. It never waits on an actor.
#pragma once

#include <caf/all.hpp>

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "actors/directory.hpp"
#include "actors/phone_actor.hpp"
#include "actors/shared_state.hpp"
#include "actors/transport.hpp"

namespace sipfleet::actors {

// How to make phone i of a group of phones (the fleet's first, or one the API added): shared
// by the group's shards, read-only. A phone's settings are made when it is spawned (and again
// when it is restarted), not kept per phone beside the phone's own.
struct blueprint {
  ua::phone_config prototype;
  std::shared_ptr<const std::vector<std::string>> users;  // users[i - first] is phone i
  std::size_t first = 0;
  std::string password_template;
  std::vector<ua::endpoint> locals;  // per transport socket
  std::uint64_t seed = 1;
  fleet_shared* shared = nullptr;
  phone_directory* directory = nullptr;

  static std::string expand(const std::string& tmpl, const std::string& user) {
    std::string out = tmpl;
    for (auto pos = out.find("{user}"); pos != std::string::npos; pos = out.find("{user}", pos + user.size()))
      out.replace(pos, 6, user);
    return out;
  }

  // splitmix64 of (seed, index, incarnation): every phone and every restart its own stream.
  std::uint64_t phone_seed(std::size_t index, std::uint8_t incarnation) const {
    std::uint64_t z = seed + 0x9e3779b97f4a7c15ULL * (index + 1) + (std::uint64_t{incarnation} << 40);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }

  phone_setup make(std::size_t index, std::uint8_t incarnation) const {
    const std::size_t socket = index % locals.size();
    phone_setup p{.config = prototype, .index = index, .socket = socket,
                  .seed = phone_seed(index, incarnation), .incarnation = incarnation, .shared = shared};
    const std::string& user = (*users)[index - first];
    p.config.user = user;
    p.config.password = expand(password_template, user);
    p.config.local = locals[socket];
    p.config.route_key = route_key_of(index);
    return p;
  }
};

using shard_table = std::vector<caf::actor>;
using shard_table_ptr = std::shared_ptr<const shard_table>;

struct shard_setup {
  std::shared_ptr<const blueprint> plan;
  std::size_t first = 0;  // fleet index of the shard's first phone
  std::size_t count = 0;
  std::size_t slot = 0;  // the shard's directory entry: its pacing ticks come by the timer wheel
};

struct shard_batch {  // shards for phones added while running, and how to start them
  std::vector<shard_setup> setups;
  bool start = false;
  double rate = 0;
};

using add_atom = caf::atom_constant<caf::atom("add")>;
using retire_atom = caf::atom_constant<caf::atom("retire")>;
using get_atom = caf::atom_constant<caf::atom("get")>;

// A shard: spawns phones [first, first + count), restarts the ones that fail, starts and
// stops them paced (start_atom, stop_atom), retires one the API deletes (retire_atom).
caf::behavior shard_actor(caf::event_based_actor* self, shard_setup setup);

// The root supervisor: the shards, respawned when one dies; more of them with add_atom.
caf::behavior root_actor(caf::event_based_actor* self, std::vector<shard_setup> initial,
                         std::atomic<shard_table_ptr>* table, double register_rate);

// The CAF configuration: by default one scheduler thread per core but the one the transport's
// I/O thread takes (it runs the phones for every datagram and timer, inline_unit.hpp), at
// least one (TOOLCHAIN.md: CAF's default of 4 on 2 cores costs throughput). The workers run
// the shards, the campaign and what the API asks. With one worker on 2 cores, starting 10,000
// phones took 0.21 s of CPU instead of 0.24-0.29 s: two workers spawning at once fought over
// malloc's lock. The work-sharing scheduler: its idle workers block on a condition variable
// where work-stealing ones poll. Measured with the demo load (1,000 phones, 300 calls at
// 30/s): 2.1 s of CPU instead of 5.2 s, setup p50 2.4 ms instead of 3.8.
// SIPFLEET_CAF_POLICY=stealing brings work stealing back.
struct system_config : caf::actor_system_config {
  explicit system_config(std::size_t threads);
};

}  // namespace sipfleet::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(sipfleet::actors::shard_setup)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(sipfleet::actors::shard_batch)
