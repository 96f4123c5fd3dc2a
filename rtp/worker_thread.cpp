// Where and at what priority a media engine worker thread runs (see worker_thread.hpp).
#include "rtp/worker_thread.hpp"

#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

namespace sipfleet::rtp::detail {

void pin_to_own_cpu(unsigned index) {
  cpu_set_t allowed;
  CPU_ZERO(&allowed);
  if (sched_getaffinity(0, sizeof allowed, &allowed) != 0) return;
  const int count = CPU_COUNT(&allowed);
  if (count <= 1) return;
  int want = static_cast<int>(index % static_cast<unsigned>(count));
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (!CPU_ISSET(cpu, &allowed)) continue;
    if (want-- == 0) {
      cpu_set_t one;
      CPU_ZERO(&one);
      CPU_SET(cpu, &one);
      (void)pthread_setaffinity_np(pthread_self(), sizeof one, &one);
      return;
    }
  }
}

int ask_nice(int nice) {
  const auto tid = static_cast<id_t>(::syscall(SYS_gettid));
  if (nice != ::getpriority(PRIO_PROCESS, tid)) (void)::setpriority(PRIO_PROCESS, tid, nice);
  errno = 0;
  const int got = ::getpriority(PRIO_PROCESS, tid);
  return errno == 0 ? got : 0;
}

int ask_rt_priority(int priority) {
  if (priority <= 0) return 0;
  sched_param param{};
  param.sched_priority = priority;
  if (pthread_setschedparam(pthread_self(), SCHED_FIFO, &param) != 0) return 0;
  int policy = 0;
  if (pthread_getschedparam(pthread_self(), &policy, &param) != 0 || policy != SCHED_FIFO) return 0;
  return param.sched_priority;
}

void leave_rt(int nice) {
  sched_param param{};
  param.sched_priority = 0;
  (void)pthread_setschedparam(pthread_self(), SCHED_OTHER, &param);
  (void)ask_nice(nice);
}

void worker_scheduling::apply() {
  nice_ = ask_nice(want_nice_);
  rt_ = ask_rt_priority(want_rt_);
  granted_ = rt_ > 0;
}

void worker_scheduling::turn(long long now_ns, bool slept) {
  if (!granted_) return;
  switch (guard_.turn(now_ns, slept)) {
    case overload_guard::verdict::stay: break;
    case overload_guard::verdict::leave_rt:
      leave_rt(nice_);
      rt_ = 0;
      ++demotions_;
      break;
    case overload_guard::verdict::back_to_rt:
      rt_ = ask_rt_priority(want_rt_);
      if (rt_ == 0) guard_.refused(now_ns);  // the privilege is gone: the guard knows it is out
      break;
  }
}

}  // namespace sipfleet::rtp::detail
