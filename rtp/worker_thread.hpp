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

}  // namespace sipfleet::rtp::detail
