// What every phone actor shares with the fleet: the transport, the timer wheel, the run
// statistics, a registered flag per phone (read by the campaign to pick callers), each
// phone's incarnation (written only by the shard that owns the phone), and the finished call
// records. No CAF types here.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string_view>
#include <vector>

#include "actors/stats.hpp"
#include "actors/timer_wheel.hpp"
#include "actors/transport.hpp"
#include "actors/ua/phone.hpp"
#include "rtp/engine.hpp"

namespace sipfleet::actors {

// Told of what each phone does, on the thread that runs the phone (the fleet keeps its call
// table with it and hands the events on to the API).
class phone_event_hook {
 public:
  virtual ~phone_event_hook() = default;
  virtual void on_phone_event(std::string_view user, const ua::phone_event& e) = 0;
};

struct fleet_shared {
  fleet_shared(transport& t, timer_wheel& w, run_stats& s, std::size_t phones)
      : net(t), timers(w), stats(s), registered(phones), incarnation(phones, 0), reg_state(phones),
        active_calls(phones) {}

  transport& net;
  timer_wheel& timers;
  run_stats& stats;
  std::vector<std::atomic<bool>> registered;
  std::vector<std::uint8_t> incarnation;
  // Each phone's registration_state and calls in progress, written by the phone, read by the
  // API's phone list (without asking 100,000 actors).
  std::vector<std::atomic<std::uint8_t>> reg_state;
  std::vector<std::atomic<std::uint16_t>> active_calls;
  // Phone actors made so far (their state built, on a CAF worker): the fleet waits for all of
  // them before the first REGISTER (see fleet_impl::spawn).
  std::atomic<std::size_t> phones_made{0};
  rtp::engine* media = nullptr;  // none: --media off
  phone_event_hook* events = nullptr;

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
