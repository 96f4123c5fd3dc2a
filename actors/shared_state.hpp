// What every phone actor shares with the fleet: the transport, the run statistics, a
// registered flag per phone (read by the campaign to pick callers), and the finished call
// records. No CAF types here.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <vector>

#include "actors/stats.hpp"
#include "actors/transport.hpp"
#include "actors/ua/phone.hpp"

namespace sipfleet::actors {

struct fleet_shared {
  fleet_shared(transport& t, run_stats& s, std::size_t phones)
      : net(t), stats(s), registered(phones) {}

  transport& net;
  run_stats& stats;
  std::vector<std::atomic<bool>> registered;

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
