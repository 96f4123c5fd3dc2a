// The fleet's timers: one hashed timing wheel for every phone, ticked by one thread.
//
// Why not CAF's delayed_send: in CAF 0.17 every delayed message goes through the actor clock
// thread, which is woken (a futex round trip) for each timer set, and a timer cannot be
// cancelled, so a SIP transaction's Timer E/F messages are delivered long after the response
// made them pointless. Measured with 10,000 phones registering at 2,000/s, the clock thread
// alone used more CPU than the phones' SIP work. Here setting a timer takes a mutex and links
// an entry into a bucket; nothing is woken. The ticking thread wakes every `resolution`,
// takes the entries that are due and hands them to a callback in one batch. A cancelled timer
// is unlinked at once and costs nothing more.
//
// Layout: deadlines are counted in ticks since `start`. An entry due within `slots` ticks sits
// in bucket (tick % slots), a doubly linked list through the entry table; a later one (a
// registration refresh an hour away) waits in a min-heap and moves into its bucket when it
// comes within the horizon. Entries live in one vector with a free list; a handle is (index,
// generation), so a stale handle cancels nothing.
//
// No CAF types: the fleet turns (target, payload) into an actor message (actors/fleet.cpp).
// Nothing here wakes a thread: timer_pump below is called periodically by whoever owns it.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <span>
#include <vector>

namespace sipfleet::actors {

class timer_wheel {
 public:
  using clock = std::chrono::steady_clock;

  struct handle {
    std::uint32_t index = 0;
    std::uint32_t generation = 0;  // 0: no timer
  };

  struct expired {
    std::uint32_t target = 0;
    std::uint64_t payload = 0;
  };

  explicit timer_wheel(clock::duration resolution = std::chrono::milliseconds(5), std::size_t slots = 4096,
                       clock::time_point start = clock::now());

  // Deliver (target, payload) at `deadline` (rounded up to the next tick; a deadline in the
  // past is due at the next advance).
  handle schedule(clock::time_point deadline, std::uint32_t target, std::uint64_t payload);
  // True when the timer was pending and now never fires.
  bool cancel(handle h);
  // Appends every entry due by `now` to `out`, earliest tick first.
  void advance(clock::time_point now, std::vector<expired>& out);

  std::size_t pending() const;
  clock::duration resolution() const { return resolution_; }

  // When advance() next has work to do: the next tick while any timer is within the wheel's
  // horizon, else the deadline of the earliest far timer, else time_point::max(). The owner
  // sleeps until then; a schedule() for an earlier deadline calls the wake function (outside
  // the wheel's lock, on the scheduling thread) so that it plans again. With 10,000 idle
  // registered phones (refreshes an hour away) nothing ticks at all.
  clock::time_point plan(clock::time_point now);
  void set_wake(std::function<void()> wake);

 private:
  static constexpr std::uint32_t k_none = 0xffffffffu;
  enum class where : std::uint8_t { free, bucket, far };
  struct entry {
    std::int64_t tick = 0;
    std::uint64_t payload = 0;
    std::uint32_t target = 0;
    std::uint32_t generation = 1;
    std::uint32_t prev = k_none;
    std::uint32_t next = k_none;
    where at = where::free;
  };
  struct far_entry {
    std::int64_t tick = 0;
    std::uint32_t index = 0;
    std::uint32_t generation = 0;
  };

  std::int64_t tick_of(clock::time_point t) const;
  void link(std::uint32_t index);
  void unlink(std::uint32_t index);
  void release(std::uint32_t index);
  void take_bucket(std::size_t bucket, std::int64_t up_to, std::vector<expired>& out);
  void pull_far(std::int64_t horizon);

  const clock::duration resolution_;
  const clock::time_point start_;
  mutable std::mutex mutex_;
  std::vector<entry> entries_;
  std::vector<std::uint32_t> free_;
  std::vector<std::uint32_t> buckets_;  // head entry per bucket
  std::vector<far_entry> far_;          // min-heap by tick
  std::int64_t now_tick_ = 0;           // every tick up to this one has been taken
  std::size_t pending_ = 0;
  std::size_t in_buckets_ = 0;          // entries within the horizon
  std::int64_t planned_tick_ = 0;       // when the owner will advance next (plan())
  std::function<void()> wake_;
};

// What ticks a wheel: called when the wheel plans (by the transport's I/O thread, see
// transport::set_ticker), it hands each batch of due timers to `deliver` (outside the wheel's
// lock) and every `chore_interval` runs `chore` (the fleet's heap trimming). No thread of its
// own: the timers, the datagrams and the phones they wake share the I/O thread.
class timer_pump {
 public:
  using deliver_fn = std::function<void(std::span<const timer_wheel::expired>)>;
  timer_pump(timer_wheel& wheel, deliver_fn deliver, std::function<void()> chore = {},
             timer_wheel::clock::duration chore_interval = std::chrono::seconds(1));

  // Advances the wheel to `now`; returns when to be called again (the wheel's plan, or the
  // next chore if that is sooner).
  timer_wheel::clock::time_point operator()(timer_wheel::clock::time_point now);

 private:
  timer_wheel& wheel_;
  deliver_fn deliver_;
  std::function<void()> chore_;
  timer_wheel::clock::duration chore_interval_;
  timer_wheel::clock::time_point next_chore_{};
  std::vector<timer_wheel::expired> batch_;
};

}  // namespace sipfleet::actors
