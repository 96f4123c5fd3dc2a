// Giving freed heap back to the operating system (see heap.hpp).
#include "actors/heap.hpp"

#include <malloc.h>

namespace sipfleet::actors {

heap_figures heap_now() {
  const struct mallinfo2 m = mallinfo2();
  return {.in_use = m.uordblks + m.hblkhd, .free = m.fordblks};
}

void use_one_arena() { (void)mallopt(M_ARENA_MAX, 1); }

bool heap_trimmer::operator()() {
  const heap_figures h = heap_now();
  const bool growing = h.in_use > last_in_use_;
  last_in_use_ = h.in_use;
  if (growing || h.free < min_free_ || h.free < (h.in_use + h.free) / 4) return false;
  return malloc_trim(0) != 0;
}

}  // namespace sipfleet::actors
