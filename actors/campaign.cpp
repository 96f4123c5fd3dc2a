// The campaign actor (see campaign.hpp). Pacing: a tick every 10 ms starts the calls that are
// due by now (rate x elapsed), so the long-run rate is exact whatever the tick jitter.
#include "actors/campaign.hpp"

#include <algorithm>
#include <random>

#include "actors/messages.hpp"

namespace sipfleet::actors {
namespace {

constexpr auto k_tick = std::chrono::milliseconds(10);
constexpr int k_pick_attempts = 64;

struct campaign_state {
  campaign_setup setup;
  std::mt19937_64 rng;
  std::vector<std::uint8_t> busy;  // by fleet index: 1 = in a call started by this campaign
  caf::actor_clock::time_point t0;
  std::uint64_t started = 0;
  std::uint64_t active = 0;
  bool placing = true;
};

// A random phone of `pool` (fleet indices) that is registered and idle, other than `not_this`;
// npos when none is found.
std::size_t pick(campaign_state& st, const std::vector<std::size_t>& pool, std::size_t not_this) {
  if (pool.empty()) return std::string::npos;
  std::uniform_int_distribution<std::size_t> any(0, pool.size() - 1);
  for (int i = 0; i < k_pick_attempts; ++i) {
    const std::size_t k = pool[any(st.rng)];
    if (k != not_this && k < st.busy.size() && !st.busy[k] && (*st.setup.registered)[k].load(std::memory_order_relaxed))
      return k;
  }
  return std::string::npos;
}

// The campaign's own figures for one call (the fleet's run_stats counts every call anyway).
void count_outcome(run_stats& s, const ua::call_record& r) {
  s.calls_completed.fetch_add(1, std::memory_order_relaxed);
  s.count_call_code(r.end_code);
  if (r.answered) {
    s.calls_answered.fetch_add(1, std::memory_order_relaxed);
    s.add_setup_ms(std::chrono::duration<double, std::milli>(*r.answered - r.started).count());
  } else if (!r.ended_by_us) {
    s.calls_failed.fetch_add(1, std::memory_order_relaxed);
  }
  if (r.media.started) s.add_media(r.media);
}

}  // namespace

caf::behavior campaign_actor(caf::event_based_actor* self, campaign_setup setup) {
  auto st = std::make_shared<campaign_state>();
  st->setup = std::move(setup);
  st->rng.seed(st->setup.options.seed);
  st->busy.assign(st->setup.users.size(), 0);
  if (st->setup.caller_index.empty())
    for (std::size_t i = 0; i < st->setup.users.size(); ++i) st->setup.caller_index.push_back(i);
  if (st->setup.callee_index.empty() && st->setup.options.callees.empty())
    st->setup.callee_index = st->setup.caller_index;
  // The actor clock, not steady_clock: under CAF's test coordinator pacing is deterministic.
  st->t0 = self->clock().now();
  auto& progress = *st->setup.progress;

  auto finish_if_done = [st, &progress] {
    if (!st->placing && st->active == 0) progress.done.store(true);
  };
  auto stop_placing = [st, &progress] {
    st->placing = false;
    progress.placing.store(false);
  };
  const bool nobody_to_call = st->setup.options.callees.empty() &&
                              (st->setup.callee_index.empty() ||
                               (st->setup.callee_index.size() == 1 && st->setup.caller_index == st->setup.callee_index));
  if (st->setup.options.total == 0 || st->setup.caller_index.empty() || nobody_to_call) {
    stop_placing();
    finish_if_done();
  }

  if (st->setup.ticks) st->setup.ticks->directory->set(st->setup.ticks->slot, caf::actor_cast<caf::actor>(self));
  auto tick_later = [self, st] {
    if (const auto& t = st->setup.ticks) {
      t->wheel->schedule(timer_wheel::clock::now() + k_tick, static_cast<std::uint32_t>(t->slot), 0);
    } else {
      self->delayed_send(self, k_tick, tick_atom::value);
    }
  };

  self->send(self, tick_atom::value);
  auto on_tick = [self, st, &progress, finish_if_done, stop_placing, tick_later] {
    const auto& o = st->setup.options;
    const auto elapsed = self->clock().now() - st->t0;
    if (o.duration.count() > 0 && elapsed >= o.duration) stop_placing();
    if (st->placing) {
      const double seconds = std::chrono::duration<double>(elapsed).count();
      const auto due = std::min<std::uint64_t>(
          o.total, static_cast<std::uint64_t>(o.rate * seconds) + 1);
      while (st->started < due && st->active < o.max_concurrent) {
        const std::size_t caller = pick(*st, st->setup.caller_index, std::string::npos);
        const bool external = !o.callees.empty();
        const std::size_t callee = caller == std::string::npos ? caller
                                   : external ? std::uniform_int_distribution<std::size_t>(0, o.callees.size() - 1)(st->rng)
                                              : pick(*st, st->setup.callee_index, caller);
        if (callee == std::string::npos) {
          progress.no_idle_phone.fetch_add(1, std::memory_order_relaxed);
          break;
        }
        const std::string target = external ? o.callees[callee] : st->setup.users[callee];
        st->busy[caller] = 1;
        if (!external) st->busy[callee] = 1;
        ++st->started;
        ++st->active;
        progress.started.store(st->started);
        progress.stats.calls_attempted.fetch_add(1, std::memory_order_relaxed);
        const auto phone = st->setup.directory->get(caller);
        auto done = [st, &progress, caller, callee, external, finish_if_done] {
          st->busy[caller] = 0;
          if (!external) st->busy[callee] = 0;
          --st->active;
          progress.finished.fetch_add(1);
          finish_if_done();
        };
        // A campaign call always ends: hold 0 means hang up as soon as it is answered (the
        // phone's own hold 0 means "until told", which only the API uses).
        const auto hold = std::max<std::int64_t>(1, o.hold.count());
        self->request(phone, caf::infinite, phone_input{place_call{target, hold, true}})
            .then(
                [done, &progress](call_outcome& outcome) {
                  count_outcome(progress.stats, outcome.record);
                  done();
                },
                [done, &progress](caf::error&) {  // not placed (no RTP port, the phone stopping)
                  progress.stats.calls_completed.fetch_add(1, std::memory_order_relaxed);
                  progress.stats.calls_failed.fetch_add(1, std::memory_order_relaxed);
                  progress.stats.count_call_code(503);
                  done();
                });
      }
      if (st->started >= o.total) stop_placing();
    }
    finish_if_done();
    if (st->placing) tick_later();
  };
  return {
      [on_tick](tick_atom) { on_tick(); },
      [on_tick](tick_atom, std::uint64_t) { on_tick(); },  // from the timer wheel
      [stop_placing, finish_if_done](stop_atom) {
        stop_placing();
        finish_if_done();
      },
  };
}

}  // namespace sipfleet::actors
