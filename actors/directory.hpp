// The phone directory: fleet index -> the phone's current actor. The transport's I/O thread,
// the timer wheel's pump and the campaign look phones up here and send to them directly (no hop
// through the shard); a shard writes an entry when it spawns or restarts a phone.
//
// A caf::actor is a reference-counted pointer: reading one while a shard replaces it would be
// a data race, so each entry is guarded by one of a few striped mutexes (uncontended in
// practice: writes happen only at spawn and restart).
#pragma once

#include <caf/all.hpp>

#include <array>
#include <mutex>
#include <vector>

namespace sipfleet::actors {

class phone_directory {
 public:
  explicit phone_directory(std::size_t phones) : actors_(phones) {}

  std::size_t size() const { return actors_.size(); }

  caf::actor get(std::size_t index) const {
    if (index >= actors_.size()) return {};
    std::lock_guard lock(stripe(index));
    return actors_[index];
  }

  void set(std::size_t index, caf::actor a) {
    if (index >= actors_.size()) return;
    std::lock_guard lock(stripe(index));
    actors_[index].swap(a);
    // The old actor reference (now in `a`) is released after the lock.
  }

 private:
  std::mutex& stripe(std::size_t index) const { return stripes_[index % stripes_.size()]; }

  std::vector<caf::actor> actors_;
  mutable std::array<std::mutex, 64> stripes_;
};

}  // namespace sipfleet::actors
