#include "actors/inline_unit.hpp"

#include <caf/actor_system.hpp>
#include <caf/resumable.hpp>
#include <caf/scheduler/abstract_coordinator.hpp>

namespace sipfleet::actors {

namespace {
// Messages one actor may handle per resumption before the next actor's turn (CAF's workers use
// a configurable throughput; a phone seldom has more than a few messages waiting).
constexpr std::size_t k_throughput = 64;
}  // namespace

inline_unit::inline_unit(caf::actor_system& system, std::size_t budget)
    : caf::execution_unit(&system), budget_(budget) {
  jobs_.reserve(64);
}

inline_unit::~inline_unit() {
  // Never expected (run() empties the queue), but a job must not be lost: CAF takes it.
  for (std::size_t i = head_; i < jobs_.size(); ++i) system().scheduler().enqueue(jobs_[i]);
}

void inline_unit::exec_later(caf::resumable* job) { jobs_.push_back(job); }

std::size_t inline_unit::run() {
  std::size_t ran = 0;
  while (head_ < jobs_.size()) {
    caf::resumable* job = jobs_[head_++];
    if (ran == budget_) {
      system().scheduler().enqueue(job);  // the reference goes with it
      continue;
    }
    ++ran;
    switch (job->resume(this, k_throughput)) {
      case caf::resumable::resume_later:
        jobs_.push_back(job);  // more mail than one turn: later in this run (or to CAF)
        break;
      case caf::resumable::done:
      case caf::resumable::awaiting_message:
      case caf::resumable::shutdown_execution_unit:
        // The reference taken when the actor was scheduled (scheduled_actor::enqueue).
        intrusive_ptr_release(job);
        break;
    }
  }
  jobs_.clear();
  head_ = 0;
  return ran;
}

}  // namespace sipfleet::actors
