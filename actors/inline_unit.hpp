// Running actors on a thread that is not one of CAF's workers: the transport's I/O thread,
// which also pumps the timer wheel.
//
// Why: each message handed to a CAF worker from another thread wakes that worker (a futex
// call), and on this kind of virtual machine a wake-up and the context switch it causes cost
// more than the SIP work the message asks for. A phone's message from the socket is instead
// enqueued with the I/O thread's inline_unit as the sender's execution unit; when that makes
// the phone runnable, CAF hands the phone to the unit (exec_later) rather than to its
// scheduler, and run() resumes it right there, on the thread that read the datagram. The
// phone's answer goes out on the same thread: no thread is woken between a datagram in and
// the datagram out, as in a single-threaded tool such as SIPp.
//
// CAF's mailbox protocol guarantees that only one party schedules an actor at a time (the one
// whose enqueue woke it), so a phone is never resumed here and on a worker at once. Messages
// from anywhere else (the campaign, the API, shards) still go through CAF's scheduler.
#pragma once

#include <caf/execution_unit.hpp>

#include <cstddef>
#include <vector>

namespace caf {
class resumable;
}  // namespace caf

namespace sipfleet::actors {

class inline_unit final : public caf::execution_unit {
 public:
  // At most `budget` resumptions per run(); what is left then goes to CAF's scheduler, so a
  // busy actor cannot keep the I/O thread from its socket.
  explicit inline_unit(caf::actor_system& system, std::size_t budget = 4096);
  ~inline_unit() override;
  inline_unit(const inline_unit&) = delete;
  inline_unit& operator=(const inline_unit&) = delete;

  // Called by CAF (from scheduled_actor::enqueue on this unit's thread).
  void exec_later(caf::resumable* job) override;

  // Resumes every actor handed to this unit until none is left; returns how many resumptions
  // ran. Only on the thread that owns the unit.
  std::size_t run();

  std::size_t pending() const { return jobs_.size() - head_; }

 private:
  std::vector<caf::resumable*> jobs_;
  std::size_t head_ = 0;
  std::size_t budget_;
};

}  // namespace sipfleet::actors
