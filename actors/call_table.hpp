// The calls the fleet knows, by Call-ID, kept from the phones' events for the API (GET
// /v1/calls): every call in progress and the last ended ones. Two phones of the fleet calling
// each other share the Call-ID: the call then has two legs, the caller's first. Written on
// the threads that run phones (a few events per call, one short lock each), read by the API.
#pragma once

#include <cstddef>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "actors/fleet.hpp"
#include "actors/ua/phone.hpp"

namespace sipfleet::actors {

class call_table {
 public:
  explicit call_table(std::size_t keep_ended = 10000) : keep_ended_(keep_ended) {}

  // A call event of phone `user` (record: the phone's record of the call, as of the event).
  void update(std::string_view user, const ua::call_record& record);
  std::optional<call_legs> find(const std::string& call_id) const;
  std::vector<call_legs> list() const;
  std::size_t size() const;

 private:
  mutable std::mutex mutex_;
  std::unordered_map<std::string, call_legs> calls_;
  std::deque<std::string> ended_;  // Call-IDs whose every leg ended, oldest first
  std::size_t keep_ended_;
};

}  // namespace sipfleet::actors
