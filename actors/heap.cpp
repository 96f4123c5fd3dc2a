// Giving freed heap back to the operating system (see heap.hpp).
#include "actors/heap.hpp"

#include <malloc.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <vector>

namespace sipfleet::actors {

heap_figures heap_now() {
  const struct mallinfo2 m = mallinfo2();
  return {.in_use = m.uordblks + m.hblkhd, .free = m.fordblks};
}

void use_one_arena() { (void)mallopt(M_ARENA_MAX, 1); }

void prefault_heap(std::size_t bytes) {
  constexpr std::size_t chunk = std::size_t{16} << 20;
  if (bytes < (std::size_t{1} << 20)) return;  // not worth a syscall
  const auto page = static_cast<std::uintptr_t>(::sysconf(_SC_PAGESIZE));
  // Chunks come from the heap (not mmap) and stay there once freed.
  (void)mallopt(M_MMAP_THRESHOLD, static_cast<int>(2 * chunk));
  (void)mallopt(M_TRIM_THRESHOLD, 256 << 20);
  std::vector<void*> chunks;
  for (std::size_t left = bytes; left > 0;) {
    const std::size_t n = std::min(chunk, left);
    void* p = std::malloc(n);
    if (p == nullptr) break;
    chunks.push_back(p);
    left -= n;
    const auto begin = (reinterpret_cast<std::uintptr_t>(p) + page - 1) / page * page;
    const auto end = (reinterpret_cast<std::uintptr_t>(p) + n) / page * page;
    if (end > begin && ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_POPULATE_WRITE) != 0) break;
  }
  // Freed newest first, each merges into the top of the heap: populated, ready for malloc.
  for (auto it = chunks.rbegin(); it != chunks.rend(); ++it) std::free(*it);
  (void)mallopt(M_MMAP_THRESHOLD, 128 << 10);  // glibc's initial threshold
}

bool heap_trimmer::operator()(std::uint64_t activity) {
  if (activity == last_activity_) {
    if (quiet_checked_) return false;
    quiet_checked_ = true;
  } else {
    quiet_checked_ = false;
    last_activity_ = activity;
  }
  const heap_figures h = heap_now();
  const bool growing = h.in_use > last_in_use_;
  last_in_use_ = h.in_use;
  if (growing || h.free < min_free_ || h.free < (h.in_use + h.free) / 4) return false;
  return malloc_trim(0) != 0;
}

}  // namespace sipfleet::actors
