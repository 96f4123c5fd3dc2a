// What every phone actor shares with the fleet: the transport, the timer wheel, the run
// statistics, a registered flag per phone (read by the campaign to pick callers), each
// phone's incarnation (written only by the shard that owns the phone), and the finished call
// records. No CAF types here.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <vector>

#include "actors/stats.hpp"
#include "actors/timer_wheel.hpp"
#include "actors/transport.hpp"
#include "actors/ua/phone.hpp"
#include "rtp/engine.hpp"

namespace sipfleet::actors {

struct fleet_shared {
  fleet_shared(transport& t, timer_wheel& w, run_stats& s, std::size_t phones)
      : net(t), timers(w), stats(s), registered(phones), incarnation(phones, 0) {}

  transport& net;
  timer_wheel& timers;
  run_stats& stats;
  std::vector<std::atomic<bool>> registered;
  std::vector<std::uint8_t> incarnation;
  rtp::engine* media = nullptr;  // none: --media off

  void add_record(const ua::call_record& r) {
    std::lock_guard lock(records_mutex);
    records.push_back(r);
  }
  std::vector<ua::call_record> copy_records() const {
    std::lock_guard lock(records_mutex);
    return records;
  }

 private:
  mutable std::mutex records_mutex;
  std::vector<ua::call_record> records;
};

}  // namespace sipfleet::actors
