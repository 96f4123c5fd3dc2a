// Where and at what priority a media engine worker thread runs (rtp/engine.cpp): each call
// acts on the calling thread only.
#pragma once

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
// the guard, at each turn of its loop, whether it had time to sleep; the guard answers true
// once it has been behind, without one sleep, for `limit_ns` or longer.
class overload_guard {
 public:
  explicit overload_guard(long long limit_ns) : limit_ns_(limit_ns) {}
  // now_ns: a monotonic clock; slept: the turn ended with time left before the next deadline.
  bool behind_too_long(long long now_ns, bool slept) {
    if (slept || since_ns_ < 0) {
      since_ns_ = slept ? -1 : now_ns;
      return false;
    }
    return now_ns - since_ns_ >= limit_ns_;
  }

 private:
  long long limit_ns_;
  long long since_ns_ = -1;  // when the current run of turns without a sleep began; -1: none
};

}  // namespace sipfleet::rtp::detail
