// The fleet's supervisors: shards and the root (see supervisors.hpp).
#include "actors/supervisors.hpp"

#include <algorithm>
#include <cstdlib>
#include <thread>
#include <unordered_map>

#include "actors/messages.hpp"
#include "actors/timer_wheel.hpp"

namespace sipfleet::actors {
namespace {

// Starting or stopping a shard's phones at a rate: phone i is due (i - base) / rate seconds
// after t0; `sent` phones have been told so far.
struct shard_pacer {
  bool active = false;
  double rate = 0;
  timer_wheel::clock::time_point t0{};
  std::uint64_t base = 0;
  std::size_t sent = 0;

  double due(std::size_t index) const {
    return rate > 0 ? static_cast<double>(index - std::min<std::uint64_t>(index, base)) / rate : 0;
  }
  double elapsed(timer_wheel::clock::time_point now) const {
    return std::chrono::duration<double>(now - t0).count();
  }
};

struct shard_state {
    shard_setup setup;
    std::unordered_map<caf::actor_addr, std::uint32_t> by_addr;  // phone -> fleet index
    bool stopping = false;
    shard_pacer starts;
    shard_pacer stops;
    caf::response_promise stop_promise;
    std::size_t stops_pending = 0;
    std::uint64_t tick_generation = 0;  // only the latest tick chain goes on
};

// Calls tell(index) for each of the shard's phones due by now; returns the seconds until the
// next one is due, or -1 when none is left.
template <class Tell>
double advance(shard_pacer& p, const shard_setup& setup, timer_wheel::clock::time_point now, Tell tell) {
  if (!p.active) return -1;
  const double elapsed = p.elapsed(now);
  while (p.sent < setup.count) {
    const std::size_t index = setup.first + p.sent;
    if (p.due(index) > elapsed) return p.due(index) - elapsed;
    ++p.sent;
    tell(index);
  }
  p.active = false;
  return -1;
}

// Tells the phones that are due to start or stop, and sleeps until the next one is due (one
// delayed message per shard, not one timer per phone).
void pace(caf::event_based_actor* self, const std::shared_ptr<shard_state>& st) {
  const auto now = timer_wheel::clock::now();
  const phone_directory& directory = *st->setup.plan->directory;
  const double next_start = advance(st->starts, st->setup, now, [&](std::size_t index) {
    if (auto phone = directory.get(index)) self->send(phone, phone_input{start_phone{}});
  });
  const double next_stop = advance(st->stops, st->setup, now, [&](std::size_t index) {
    auto done = [st] {
      if (--st->stops_pending == 0) st->stop_promise.deliver(true);
    };
    auto phone = directory.get(index);
    if (!phone) {  // deleted by the API
      done();
      return;
    }
    self->request(phone, caf::infinite, phone_input{stop_phone{}})
        .then([done](bool) { done(); }, [done](caf::error&) { done(); });
  });
  const double next = next_start < 0 ? next_stop : next_stop < 0 ? next_start : std::min(next_start, next_stop);
  if (next >= 0) {
    const auto wait = std::max<std::chrono::microseconds>(
        std::chrono::microseconds(static_cast<std::int64_t>(next * 1e6)), std::chrono::milliseconds(5));
    // By the timer wheel, not delayed_send: the tick then arrives on the I/O thread, which
    // runs this shard and the phones it starts right there (actors/inline_unit.hpp).
    st->setup.plan->shared->timers.schedule(now + wait, static_cast<std::uint32_t>(st->setup.slot),
                                            ++st->tick_generation);
  }
}

}  // namespace

caf::behavior shard_actor(caf::event_based_actor* self, shard_setup setup) {
  auto st = std::make_shared<shard_state>();
  st->setup = std::move(setup);
  st->by_addr.reserve(st->setup.count);
  // Phones are linked to their shard: when the shard is told to exit, they go with it. The
  // shard traps its phones' exits to restart the ones that failed. A phone spawned by a
  // respawned shard is a new incarnation too: its predecessor's timers must not reach it.
  auto spawn_phone = [self, st](std::size_t index) {
    const blueprint& plan = *st->setup.plan;
    const std::uint8_t incarnation = ++plan.shared->incarnation[index];
    auto p = actors::spawn_phone(self, plan.make(index, incarnation));
    st->by_addr[p.address()] = static_cast<std::uint32_t>(index);
    plan.directory->set(index, p);
    return p;
  };
  for (std::size_t k = 0; k < st->setup.count; ++k) spawn_phone(st->setup.first + k);
  st->setup.plan->directory->set(st->setup.slot, caf::actor_cast<caf::actor>(self));

  self->set_exit_handler([self, st, spawn_phone](caf::exit_msg& em) {
    const auto it = st->by_addr.find(em.source);
    if (it == st->by_addr.end()) {  // from the root: shut down, and the phones with us
      self->quit(em.reason);
      return;
    }
    const std::size_t index = it->second;
    st->by_addr.erase(it);
    if (!em.reason || st->stopping) return;
    // A phone that failed is restarted with the same settings and registers again. Its
    // registration died with it: take it out of the gauge (the new phone adds itself back).
    auto& shared = *st->setup.plan->shared;
    if (shared.registered[index].exchange(false)) shared.stats.phones_registered.fetch_sub(1);
    shared.stats.phone_restarts.fetch_add(1, std::memory_order_relaxed);
    auto p = spawn_phone(index);
    self->send(p, phone_input{start_phone{}});
  });

  return {
      // Register every phone, paced: phone i of the fleet starts (i - base) / rate seconds from
      // now (rate 0: all at once). base 0 paces the whole fleet across its shards; a respawned
      // shard passes its first index and paces only itself.
      [self, st](start_atom, double rate, std::uint64_t base) {
        st->starts = {.active = true, .rate = rate, .t0 = timer_wheel::clock::now(), .base = base, .sent = 0};
        pace(self, st);
      },
      // Hang up and unregister every phone, paced like the start (from index 0), so that the
      // registrar is not hit by the whole fleet in one burst. Phones not started yet are not
      // started any more. The answer comes when every phone has answered.
      [self, st](stop_atom, double rate) {
        st->stopping = true;
        st->starts.active = false;
        st->stop_promise = self->make_response_promise();
        st->stops = {.active = true, .rate = rate, .t0 = timer_wheel::clock::now(), .base = 0, .sent = 0};
        st->stops_pending = st->setup.count;
        if (st->stops_pending == 0) st->stop_promise.deliver(true);
        pace(self, st);
        return st->stop_promise;
      },
      [self, st](tick_atom, std::uint64_t generation) {
        if (generation == st->tick_generation) pace(self, st);
      },
      // A phone the API deletes: it goes without a restart (it has hung up and unregistered,
      // or was given the time to).
      [self, st](retire_atom, std::uint64_t index) {
        const auto it = std::find_if(st->by_addr.begin(), st->by_addr.end(),
                                     [&](const auto& e) { return e.second == index; });
        if (it == st->by_addr.end()) return false;
        const auto addr = it->first;
        st->by_addr.erase(it);
        auto& plan = *st->setup.plan;
        auto phone = plan.directory->get(index);
        plan.directory->set(index, caf::actor{});
        if (phone) {
          self->unlink_from(phone);
          self->send_exit(phone, caf::exit_reason::user_shutdown);
        }
        auto& shared = *plan.shared;
        if (shared.registered[index].exchange(false)) shared.stats.phones_registered.fetch_sub(1);
        return true;
      },
  };
}

system_config::system_config(std::size_t threads) {
  const std::size_t n = threads == 0 ? std::max(2u, std::thread::hardware_concurrency()) - 1 : threads;
  set("scheduler.max-threads", n);
  const char* policy = std::getenv("SIPFLEET_CAF_POLICY");
  set("scheduler.policy", caf::atom_from_string(policy != nullptr ? policy : "sharing"));
}

// The root supervisor: spawns the shards, monitors them, respawns one that dies (its phones
// start again and re-register) and publishes the shard table the fleet's API reads.
caf::behavior root_actor(caf::event_based_actor* self, std::vector<shard_setup> initial,
                         std::atomic<shard_table_ptr>* table, double register_rate) {
  auto current = std::make_shared<shard_table>();
  auto by_addr = std::make_shared<std::unordered_map<caf::actor_addr, std::size_t>>();
  auto stopping = std::make_shared<bool>(false);
  auto setups = std::make_shared<std::vector<shard_setup>>(std::move(initial));
  for (std::size_t j = 0; j < setups->size(); ++j) {
    current->push_back(self->spawn<caf::linked>(shard_actor, (*setups)[j]));
    (*by_addr)[current->back().address()] = j;
  }
  table->store(current);
  self->set_exit_handler([=](caf::exit_msg& em) {
    const auto it = by_addr->find(em.source);
    if (it == by_addr->end()) {  // from the fleet: shut everything down
      self->quit(em.reason);
      return;
    }
    const std::size_t j = it->second;
    by_addr->erase(it);
    if (!em.reason || *stopping) return;
    auto next = std::make_shared<shard_table>(*table->load());
    (*next)[j] = self->spawn<caf::linked>(shard_actor, (*setups)[j]);
    (*by_addr)[(*next)[j].address()] = j;
    table->store(next);
    self->send((*next)[j], start_atom::value, register_rate, static_cast<std::uint64_t>((*setups)[j].first));
  });
  return {
      [](get_atom) { return true; },
      [=](stop_atom) { *stopping = true; },
      // Phones added while running: their own shards, registering at `rate` when asked to.
      [=](add_atom, shard_batch& batch) {
        auto next = std::make_shared<shard_table>(*table->load());
        for (auto& setup : batch.setups) {
          const std::size_t j = setups->size();
          setups->push_back(setup);
          next->push_back(self->spawn<caf::linked>(shard_actor, setup));
          (*by_addr)[next->back().address()] = j;
          if (batch.start) self->send(next->back(), start_atom::value, batch.rate, static_cast<std::uint64_t>(setup.first));
        }
        table->store(next);
        return true;
      },
  };
}

}  // namespace sipfleet::actors
