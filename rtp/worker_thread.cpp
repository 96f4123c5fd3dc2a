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

}  // namespace sipfleet::rtp::detail
