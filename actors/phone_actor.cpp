// The phone actor (see phone_actor.hpp).
#include "actors/phone_actor.hpp"

#include <map>
#include <memory>

#include "actors/fleet.hpp"
#include "actors/messages.hpp"

namespace sipfleet::actors {
namespace {

// The phone's view of the world, carried out with CAF and the transport.
class actor_environment final : public ua::environment {
 public:
  explicit actor_environment(const phone_setup& setup)
      : index_(setup.index), socket_(setup.socket), incarnation_(setup.incarnation), shared_(*setup.shared) {}

  // A phone that stops (or fails) takes its timers with it.
  ~actor_environment() override {
    for (const auto& h : timers_) shared_.timers.cancel(h);
  }

  void send(const ua::endpoint& to, std::string_view bytes) override {
    shared_.net.send(socket_, to, bytes);
  }

  void start_timer(ua::timer_token token, ua::milliseconds after) override {
    if (token.slot >= k_start_slot) return;  // a phone never holds 16 million timers
    if (token.slot >= timers_.size()) timers_.resize(token.slot + 1);
    timers_[token.slot] = shared_.timers.schedule(
        ua::clock::now() + after, static_cast<std::uint32_t>(index_),
        timer_payload(token.slot, token.generation, incarnation_));
  }

  void cancel_timer(ua::timer_token token) override {
    if (token.slot < timers_.size()) shared_.timers.cancel(timers_[token.slot]);
  }

  // The timer message is for this incarnation of the phone (not a predecessor's).
  bool mine(std::uint64_t payload) const { return payload_incarnation(payload) == incarnation_; }

  ua::clock::time_point now() const override { return ua::clock::now(); }

  void on_event(const ua::phone_event& e) override {
    auto& s = shared_.stats;
    switch (e.kind) {
      case ua::event_kind::registered:
        s.registrations_succeeded.fetch_add(1, std::memory_order_relaxed);
        s.count_registration_code(e.code);
        if (failed_) s.phones_failed.fetch_sub(1, std::memory_order_relaxed);
        failed_ = false;
        if (!registered_) s.phones_registered.fetch_add(1, std::memory_order_relaxed);
        registered_ = true;
        shared_.registered[index_].store(true, std::memory_order_relaxed);
        break;
      case ua::event_kind::registration_failed:
        s.registrations_failed.fetch_add(1, std::memory_order_relaxed);
        s.count_registration_code(e.code);
        set_unregistered();
        if (!failed_) s.phones_failed.fetch_add(1, std::memory_order_relaxed);
        failed_ = true;
        break;
      case ua::event_kind::unregistered:
        s.unregistrations.fetch_add(1, std::memory_order_relaxed);
        set_unregistered();
        unregistered_ = true;
        break;
      case ua::event_kind::call_created:
        if (e.record != nullptr && e.record->outgoing) {
          s.calls_attempted.fetch_add(1, std::memory_order_relaxed);
          s.calls_active.fetch_add(1, std::memory_order_relaxed);
        } else {
          s.calls_received.fetch_add(1, std::memory_order_relaxed);
        }
        break;
      case ua::event_kind::call_answered:
        // Counted when it happens, so that a watcher sees answered calls that are still up.
        if (e.record != nullptr && e.record->outgoing && e.record->answered) {
          s.calls_answered.fetch_add(1, std::memory_order_relaxed);
          s.add_setup_ms(std::chrono::duration<double, std::milli>(*e.record->answered - e.record->started).count());
        }
        break;
      case ua::event_kind::call_ended:
        if (e.record != nullptr) call_ended(*e.record);
        break;
      case ua::event_kind::retransmission:
        s.retransmissions.fetch_add(1, std::memory_order_relaxed);
        break;
      default:
        break;
    }
  }

  // Calls placed on request: the promise is kept until the call ends.
  std::map<std::string, caf::response_promise> pending_calls;
  std::vector<caf::response_promise> pending_stops;
  bool calls_finished = false;
  bool unregistered_ = false;

 private:
  void set_unregistered() {
    if (registered_) shared_.stats.phones_registered.fetch_sub(1, std::memory_order_relaxed);
    registered_ = false;
    shared_.registered[index_].store(false, std::memory_order_relaxed);
  }

  void call_ended(const ua::call_record& r) {
    auto& s = shared_.stats;
    calls_finished = true;
    shared_.add_record(r);
    if (!r.outgoing) return;
    s.calls_active.fetch_sub(1, std::memory_order_relaxed);
    s.calls_completed.fetch_add(1, std::memory_order_relaxed);
    s.count_call_code(r.end_code);
    if (!r.answered && !r.ended_by_us) s.calls_failed.fetch_add(1, std::memory_order_relaxed);
    if (auto it = pending_calls.find(r.call_id); it != pending_calls.end()) {
      it->second.deliver(call_outcome{r});
      pending_calls.erase(it);
    }
  }

  std::size_t index_;
  std::size_t socket_;
  std::uint8_t incarnation_;
  fleet_shared& shared_;
  std::vector<timer_wheel::handle> timers_;  // by ua timer slot
  bool registered_ = false;
  bool failed_ = false;
};

struct phone_state {
  std::unique_ptr<actor_environment> env;
  std::unique_ptr<ua::phone> phone;
};

}  // namespace

caf::behavior phone_actor(caf::event_based_actor* self, phone_setup setup) {
  auto state = std::make_shared<phone_state>();
  state->env = std::make_unique<actor_environment>(setup);
  state->phone = std::make_unique<ua::phone>(std::move(setup.config), *state->env, setup.seed);
  // After each input: drop finished call records (the fleet has its copy) and answer stops.
  auto settle = [state] {
    if (state->env->calls_finished) {
      state->env->calls_finished = false;
      (void)state->phone->take_finished_calls();
    }
    if (state->env->unregistered_ && !state->env->pending_stops.empty()) {
      for (auto& p : state->env->pending_stops) p.deliver(true);
      state->env->pending_stops.clear();
    }
  };
  return {
      [state, settle](sip_atom, const inbound& in) {
        state->phone->on_message(*in.message, in.from);
        settle();
      },
      [state, settle](malformed_atom, const inbound_malformed& in) {
        state->phone->on_malformed(in.bytes, in.reason, in.from);
        settle();
      },
      [state, settle](timer_atom, std::uint64_t payload) {
        if (!state->env->mine(payload)) return;
        if (payload_slot(payload) == k_start_slot) {
          state->env->unregistered_ = false;
          state->phone->start();
        } else {
          state->phone->on_timer({payload_slot(payload), payload_generation(payload)});
        }
        settle();
      },
      [state, settle](start_atom) {
        state->env->unregistered_ = false;
        state->phone->start();
        settle();
      },
      [self, state, settle](stop_atom) {
        auto promise = self->make_response_promise();
        state->env->pending_stops.push_back(promise);
        if (state->phone->registration() == ua::registration_state::unregistered &&
            state->phone->active_calls() == 0) {
          state->env->unregistered_ = true;
        } else {
          state->phone->stop();
        }
        settle();
        return promise;
      },
      [self, state, settle](call_atom, const std::string& target, std::int64_t hold_ms) {
        auto promise = self->make_response_promise();
        auto id = state->phone->call(target, ua::milliseconds{hold_ms});
        if (!id) {
          promise.deliver(caf::make_error(caf::sec::runtime_error, id.err().reason));
        } else {
          state->env->pending_calls.emplace(*id, promise);
        }
        settle();
        return promise;
      },
      [state, settle](dial_atom, const std::string& target, std::int64_t hold_ms) -> caf::result<std::string> {
        auto id = state->phone->call(target, ua::milliseconds{hold_ms});
        settle();
        if (!id) return caf::make_error(caf::sec::runtime_error, id.err().reason);
        return std::move(id).value();
      },
      [state](calls_atom) { return call_list{state->phone->current_calls()}; },
      // Fault injection: fail the way a bug would (the shard restarts the phone).
      [self](crash_atom) { self->quit(caf::exit_reason::unhandled_exception); },
      [state, settle](action_atom, std::uint8_t action, const std::string& call_id) -> caf::result<bool> {
        sip::result<bool> r = sip::error{"unknown action"};
        switch (static_cast<call_action>(action)) {
          case call_action::answer: r = state->phone->answer(call_id); break;
          case call_action::hangup: r = state->phone->hangup(call_id); break;
          case call_action::hold: r = state->phone->hold(call_id); break;
          case call_action::resume: r = state->phone->resume(call_id); break;
        }
        settle();
        if (!r) return caf::make_error(caf::sec::runtime_error, r.err().reason);
        return true;
      },
  };
}

}  // namespace sipfleet::actors
