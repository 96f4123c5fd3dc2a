// The fleet's timer wheel and its pump (see timer_wheel.hpp).
#include "actors/timer_wheel.hpp"

#include <algorithm>
#include <limits>

namespace sipfleet::actors {
namespace {

struct later_tick {
  template <class T>
  bool operator()(const T& a, const T& b) const {
    return a.tick > b.tick;
  }
};

}  // namespace

timer_wheel::timer_wheel(clock::duration resolution, std::size_t slots, clock::time_point start)
    : resolution_(std::max<clock::duration>(resolution, std::chrono::microseconds(100))),
      start_(start),
      buckets_(std::max<std::size_t>(slots, 2), k_none) {}

std::int64_t timer_wheel::tick_of(clock::time_point t) const {
  const auto d = (t - start_).count();
  const auto r = resolution_.count();
  if (d <= 0) return 0;
  return (d + r - 1) / r;  // rounded up: a timer never fires early
}

timer_wheel::handle timer_wheel::schedule(clock::time_point deadline, std::uint32_t target,
                                          std::uint64_t payload) {
  std::unique_lock lock(mutex_);
  std::uint32_t index = 0;
  if (!free_.empty()) {
    index = free_.back();
    free_.pop_back();
  } else {
    index = static_cast<std::uint32_t>(entries_.size());
    entries_.emplace_back();
  }
  entry& e = entries_[index];
  e.tick = std::max(tick_of(deadline), now_tick_ + 1);
  e.target = target;
  e.payload = payload;
  ++pending_;
  if (e.tick - now_tick_ <= static_cast<std::int64_t>(buckets_.size())) {
    link(index);
  } else {
    e.at = where::far;
    far_.push_back({e.tick, index, e.generation});
    std::push_heap(far_.begin(), far_.end(), later_tick{});
  }
  const handle h{index, e.generation};
  if (e.tick < planned_tick_ && wake_) {
    planned_tick_ = e.tick;  // one wake per earlier plan, not one per timer
    std::function<void()> wake = wake_;
    lock.unlock();
    wake();
  }
  return h;
}

timer_wheel::clock::time_point timer_wheel::plan(clock::time_point now) {
  std::lock_guard lock(mutex_);
  const std::int64_t current = std::max(now_tick_, tick_of(now) - 1);
  std::int64_t next = std::numeric_limits<std::int64_t>::max();
  if (in_buckets_ > 0) {
    next = current + 1;
  } else if (!far_.empty()) {
    next = std::max(far_.front().tick, current + 1);
  }
  planned_tick_ = next;
  if (next == std::numeric_limits<std::int64_t>::max()) return clock::time_point::max();
  return start_ + next * resolution_;
}

void timer_wheel::set_wake(std::function<void()> wake) {
  std::lock_guard lock(mutex_);
  wake_ = std::move(wake);
}

bool timer_wheel::cancel(handle h) {
  std::lock_guard lock(mutex_);
  if (h.generation == 0 || h.index >= entries_.size()) return false;
  entry& e = entries_[h.index];
  if (e.generation != h.generation || e.at == where::free) return false;
  if (e.at == where::bucket) unlink(h.index);
  // A far entry stays in the heap; its generation no longer matches, so it is skipped there.
  release(h.index);
  return true;
}

void timer_wheel::link(std::uint32_t index) {
  entry& e = entries_[index];
  const std::size_t b = static_cast<std::size_t>(e.tick % static_cast<std::int64_t>(buckets_.size()));
  e.at = where::bucket;
  ++in_buckets_;
  e.prev = k_none;
  e.next = buckets_[b];
  if (e.next != k_none) entries_[e.next].prev = index;
  buckets_[b] = index;
}

void timer_wheel::unlink(std::uint32_t index) {
  entry& e = entries_[index];
  if (e.prev != k_none) {
    entries_[e.prev].next = e.next;
  } else {
    const std::size_t b = static_cast<std::size_t>(e.tick % static_cast<std::int64_t>(buckets_.size()));
    buckets_[b] = e.next;
  }
  if (e.next != k_none) entries_[e.next].prev = e.prev;
  e.prev = e.next = k_none;
  --in_buckets_;
}

void timer_wheel::release(std::uint32_t index) {
  entry& e = entries_[index];
  e.at = where::free;
  if (++e.generation == 0) e.generation = 1;
  free_.push_back(index);
  --pending_;
}

void timer_wheel::take_bucket(std::size_t bucket, std::int64_t up_to, std::vector<expired>& out) {
  const std::size_t first = out.size();
  std::uint32_t i = buckets_[bucket];
  while (i != k_none) {
    const std::uint32_t next = entries_[i].next;
    if (entries_[i].tick <= up_to) {
      out.push_back({entries_[i].target, entries_[i].payload});
      unlink(i);
      release(i);
    }
    i = next;
  }
  // Entries are linked at the head: reverse to hand them out in the order they were set.
  std::reverse(out.begin() + static_cast<std::ptrdiff_t>(first), out.end());
}

void timer_wheel::pull_far(std::int64_t horizon) {
  while (!far_.empty() && far_.front().tick <= horizon) {
    std::pop_heap(far_.begin(), far_.end(), later_tick{});
    const far_entry f = far_.back();
    far_.pop_back();
    entry& e = entries_[f.index];
    if (e.at != where::far || e.generation != f.generation) continue;  // cancelled
    link(f.index);
  }
}

void timer_wheel::advance(clock::time_point now, std::vector<expired>& out) {
  std::lock_guard lock(mutex_);
  const auto d = (now - start_).count();
  const std::int64_t target = d <= 0 ? 0 : d / resolution_.count();
  const auto slots = static_cast<std::int64_t>(buckets_.size());
  if (target - now_tick_ > slots) {
    // A stall longer than the wheel (a suspended process): everything up to `target` is due.
    for (std::size_t b = 0; b < buckets_.size(); ++b) take_bucket(b, target, out);
    now_tick_ = target;
    pull_far(target + slots);
    for (std::size_t b = 0; b < buckets_.size(); ++b) take_bucket(b, target, out);
    return;
  }
  while (now_tick_ < target) {
    ++now_tick_;
    take_bucket(static_cast<std::size_t>(now_tick_ % slots), now_tick_, out);
    pull_far(now_tick_ + slots);
  }
}

std::size_t timer_wheel::pending() const {
  std::lock_guard lock(mutex_);
  return pending_;
}

// ---- the pump ----------------------------------------------------------------------------------

timer_pump::timer_pump(timer_wheel& wheel, deliver_fn deliver, std::function<void()> chore,
                       timer_wheel::clock::duration chore_interval)
    : wheel_(wheel), deliver_(std::move(deliver)), chore_(std::move(chore)), chore_interval_(chore_interval) {}

timer_wheel::clock::time_point timer_pump::operator()(timer_wheel::clock::time_point now) {
  batch_.clear();
  wheel_.advance(now, batch_);
  if (!batch_.empty()) deliver_(batch_);
  if (chore_) {
    if (next_chore_ == timer_wheel::clock::time_point{}) next_chore_ = now + chore_interval_;
    if (now >= next_chore_) {
      chore_();
      next_chore_ = now + chore_interval_;
    }
  }
  // Planned after the delivery: the phones it ran may have set timers.
  const auto next = wheel_.plan(now);
  return chore_ ? std::min(next, next_chore_) : next;
}

}  // namespace sipfleet::actors
