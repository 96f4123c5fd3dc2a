// Where and at what priority a media engine worker thread runs (rtp/engine_worker.cpp): each call
// acts on the calling thread only.
#pragma once

#include <atomic>
#include <cstdint>

namespace sipfleet::rtp::detail {

// Pins the calling thread to the index-th CPU this process may use (modulo their number). Two
// busy workers that the scheduler puts on one CPU take turns in slices of several ms: at 2,000
// calls on this 2-core VM, seconds with a pacing p99 of 25-30 ms, none once pinned. Nothing
// happens when the process may use one CPU only.
void pin_to_own_cpu(unsigned index);

// Asks for nice value `nice` for the calling thread (on Linux a thread has its own) and returns
// the value it runs at: refused (a value below the process's needs root or CAP_SYS_NICE), the
// thread keeps the process's.
int ask_nice(int nice);

// Asks for real-time scheduling (SCHED_FIFO at `priority`, 1..99) for the calling thread and
// returns the priority it runs at: 0 when refused (it needs root, CAP_SYS_NICE or an
// RLIMIT_RTPRIO that allows it) or when `priority` is 0.
int ask_rt_priority(int priority);

// Puts the calling thread back under normal scheduling (SCHED_OTHER) at nice value `nice`.
void leave_rt(int nice);

// Watches a real-time worker for overload. A SCHED_FIFO thread that never sleeps takes its CPU
// from every normal thread (the SIP I/O thread, a local proxy) but for the kernel's 5% RT
// throttling, so SIP would stall behind media it cannot keep up with anyway. The worker tells
// the guard, at each turn of its loop, whether it had time to sleep before its next deadline.
// - Behind for `limit_ns` without one sleep: leave real-time scheduling.
// - A stall of the whole VM does that too (the backlog of a 40 ms stall takes a busy worker
//   100 ms or more to clear), so a worker that has kept up since for `rest_ns` (no run of turns
//   without a sleep as long as a tenth of the limit) comes back to it. One that cannot keep up
//   stays where it is.
class overload_guard {
 public:
  enum class verdict { stay, leave_rt, back_to_rt };
  overload_guard(long long limit_ns, long long rest_ns) : limit_ns_(limit_ns), rest_ns_(rest_ns) {}
  // now_ns: a monotonic clock; slept: the turn ended with time left before the next deadline.
  verdict turn(long long now_ns, bool slept) {
    if (slept)
      behind_since_ = -1;
    else if (behind_since_ < 0)
      behind_since_ = now_ns;
    const long long behind = behind_since_ < 0 ? 0 : now_ns - behind_since_;
    if (rt_) {
      if (behind < limit_ns_) return verdict::stay;
      rt_ = false;
      calm_since_ = now_ns;
      return verdict::leave_rt;
    }
    if (behind >= limit_ns_ / 10) calm_since_ = now_ns;
    if (now_ns - calm_since_ < rest_ns_) return verdict::stay;
    rt_ = true;
    return verdict::back_to_rt;
  }
  // The thread could not go back to real time (back_to_rt refused): it is out again, and tries
  // once more after another `rest_ns` of keeping up.
  void refused(long long now_ns) {
    rt_ = false;
    calm_since_ = now_ns;
  }

 private:
  long long limit_ns_, rest_ns_;
  long long behind_since_ = -1;  // when the current run of turns without a sleep began; -1: none
  long long calm_since_ = 0;     // out of real time: since when it has kept up
  bool rt_ = true;
};

// The scheduling of one worker thread: the nice value and SCHED_FIFO priority it asked for, what
// it got, and the overload guard that moves it out of and back into real time. apply() and
// turn() are called on the worker thread (turn() without the worker's lock: leaving SCHED_FIFO
// lets the scheduler switch away at once); the figures may be read from any thread.
class worker_scheduling {
 public:
  worker_scheduling(int nice, int rt_priority) : want_nice_(nice), want_rt_(rt_priority) {}
  // At the thread's start: the nice value, then SCHED_FIFO if asked for.
  void apply();
  // Once per turn of the worker's loop (see overload_guard::turn).
  void turn(long long now_ns, bool slept);
  int nice() const { return nice_; }
  int rt_priority() const { return rt_.load(std::memory_order_relaxed); }  // now; 0: normal scheduling
  std::uint64_t rt_demotions() const { return demotions_.load(std::memory_order_relaxed); }

 private:
  int want_nice_, want_rt_;
  int nice_ = 0;  // written by apply() only, before the engine reads it (its ready promise)
  std::atomic<int> rt_{0};
  bool granted_ = false;  // SCHED_FIFO was granted at the start: the guard then applies
  std::atomic<std::uint64_t> demotions_{0};
  // behind for 200 ms: out of real time; kept up for 1 s: back
  overload_guard guard_{200'000'000, 1'000'000'000};
};

}  // namespace sipfleet::rtp::detail
