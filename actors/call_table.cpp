// The fleet's call table (see call_table.hpp).
#include "actors/call_table.hpp"

#include <algorithm>

namespace sipfleet::actors {

void call_table::update(std::string_view user, const ua::call_record& record) {
  std::lock_guard lock(mutex_);
  auto [it, fresh] = calls_.try_emplace(record.call_id);
  auto& legs = it->second.legs;
  if (fresh) it->second.call_id = record.call_id;
  auto leg = std::find_if(legs.begin(), legs.end(), [&](const auto& l) { return l.first == user; });
  if (leg == legs.end()) {
    // The caller's leg first: scripts read legs[0] as "the call".
    leg = legs.emplace(record.outgoing ? legs.begin() : legs.end(), std::string(user), record);
  } else {
    leg->second = record;
  }
  if (record.state != ua::call_state::ended) return;
  const bool all_ended = std::all_of(legs.begin(), legs.end(),
                                     [](const auto& l) { return l.second.state == ua::call_state::ended; });
  if (!all_ended) return;
  ended_.push_back(record.call_id);
  while (ended_.size() > keep_ended_) {
    const auto old = calls_.find(ended_.front());
    // Only if it is still over: a Call-ID that came back to life stays.
    if (old != calls_.end() && std::all_of(old->second.legs.begin(), old->second.legs.end(), [](const auto& l) {
          return l.second.state == ua::call_state::ended;
        }))
      calls_.erase(old);
    ended_.pop_front();
  }
}

std::optional<call_legs> call_table::find(const std::string& call_id) const {
  std::lock_guard lock(mutex_);
  const auto it = calls_.find(call_id);
  if (it == calls_.end()) return std::nullopt;
  return it->second;
}

std::vector<call_legs> call_table::list() const {
  std::lock_guard lock(mutex_);
  std::vector<call_legs> out;
  out.reserve(calls_.size());
  for (const auto& [id, c] : calls_) out.push_back(c);
  std::sort(out.begin(), out.end(), [](const call_legs& a, const call_legs& b) {
    return a.legs.front().second.started < b.legs.front().second.started;
  });
  return out;
}

std::size_t call_table::size() const {
  std::lock_guard lock(mutex_);
  return calls_.size();
}

}  // namespace sipfleet::actors
