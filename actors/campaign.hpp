// The campaign actor: starts calls at a target rate, keeping at most max_concurrent in
// progress, between random registered idle phones (never a phone to itself, never a busy
// phone as caller or callee), until `total` calls are placed or `duration` has passed.
#pragma once

#include <caf/all.hpp>

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "actors/directory.hpp"
#include "actors/fleet.hpp"
#include "actors/stats.hpp"
#include "actors/timer_wheel.hpp"

namespace sipfleet::actors {

// Progress the campaign publishes for the status line, the report and the API; `stats` holds
// the figures of this campaign's calls alone (the caller's side), in the run report's shape.
struct campaign_shared {
  std::atomic<std::uint64_t> started{0};
  std::atomic<std::uint64_t> finished{0};
  std::atomic<std::uint64_t> no_idle_phone{0};
  std::atomic<bool> placing{true};
  std::atomic<bool> done{false};
  run_stats stats;

  campaign_progress snapshot() const {
    return {.started = started.load(), .finished = finished.load(),
            .no_idle_phone = no_idle_phone.load(), .placing = placing.load(), .done = done.load()};
  }
};

struct campaign_setup {
  campaign_options options{};
  std::vector<std::string> users{};  // every phone, by fleet index ("" for an index with none)
  // Who calls whom, as fleet indices; empty: every phone in `users`. Callees named in
  // options.callees (outside the fleet) take the place of callee_index.
  std::vector<std::size_t> caller_index{};
  std::vector<std::size_t> callee_index{};
  const phone_directory* directory = nullptr;  // the phones, by fleet index
  const std::vector<std::atomic<bool>>* registered = nullptr;
  std::shared_ptr<campaign_shared> progress{};
  // Where the campaign's tick comes from. Without it: CAF delayed messages (deterministic under
  // CAF's test coordinator). The fleet passes its timer wheel and a directory slot for the
  // campaign: the tick then arrives on the I/O thread, which runs the campaign and the
  // phones it tells to call right there (actors/inline_unit.hpp).
  struct wheel_ticks {
    phone_directory* directory = nullptr;
    std::size_t slot = 0;
    timer_wheel* wheel = nullptr;
  };
  std::optional<wheel_ticks> ticks{};
};

caf::behavior campaign_actor(caf::event_based_actor* self, campaign_setup setup);

}  // namespace sipfleet::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(sipfleet::actors::campaign_setup)
