// Giving freed heap back to the operating system.
//
// glibc's malloc keeps the pages of freed memory mapped until the top of an arena is free.
// A fleet's bursts (10,000 phones registering: every REGISTER, challenge and transaction is
// short-lived, allocated between the phones' long-lived state) leave most such pages holding
// one live object and many holes, which stay resident after the burst: measured as ~2 KiB per
// idle registered phone. malloc_trim(0) releases every whole free page inside the arenas
// (madvise), so resident memory follows what the fleet really holds.
#pragma once

#include <cstddef>
#include <cstdint>

namespace sipfleet::actors {

struct heap_figures {
  std::size_t in_use = 0;  // bytes allocated and not freed
  std::size_t free = 0;    // bytes free inside the arenas
};

heap_figures heap_now();

// Call first thing in main(), before any thread starts: one malloc arena for the whole process.
// glibc gives each thread its own arena, and a thread arena grows its heap a page at a time,
// one mprotect call per page (the main arena grows by sbrk, 128 KiB at a time). 10,000 phones
// registering grew the I/O thread's arena by ~20 MB in ~5,000 mprotect calls; with one arena
// the same run used ~20% less CPU and slightly less memory. Contention is low: one thread (the
// transport's) does nearly all of the fleet's allocation.
void use_one_arena();

// Grows the heap now by about `bytes`, its pages populated in one call per 16 MiB, for a burst
// of long-lived allocations about to come (the fleet's phones). Here a page fault costs 12-25
// microseconds and a populated page under one: starting 10,000 phones faulted ~8,000 pages,
// close to half the start-up's CPU. Freed memory at the top of the heap is from then on given
// back by heap_trimmer (or past 256 MiB), not at every free(). Without MADV_POPULATE_WRITE
// (Linux < 5.14) it does nothing.
void prefault_heap(std::size_t bytes);

// Called periodically: trims once a burst is over, that is when at least `min_free` bytes and
// a quarter of the heap are free and the memory in use has stopped growing since the last
// call (trimming during a burst would only hand back pages that are faulted in again). The
// check reads malloc's statistics (mallinfo2 walks every free chunk: ~3 ms with 10,000 idle
// phones' heap), so it is skipped while the fleet is quiet: `activity` is any count that moves
// when the fleet does work (inputs handled); once it stops moving, one more check is made
// and then none until it moves again. A trim costs about a millisecond per 100 MiB.
class heap_trimmer {
 public:
  explicit heap_trimmer(std::size_t min_free = std::size_t{8} << 20) : min_free_(min_free) {}
  bool operator()(std::uint64_t activity);  // true when it trimmed

 private:
  std::size_t min_free_;
  std::size_t last_in_use_ = 0;
  std::uint64_t last_activity_ = 0;
  bool quiet_checked_ = false;
};

}  // namespace sipfleet::actors
