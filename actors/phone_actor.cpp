// The phone actor (see phone_actor.hpp).
#include "actors/phone_actor.hpp"

#include <algorithm>
#include <map>
#include <utility>
#include <memory>
#include <optional>
#include <variant>

#include "actors/fleet.hpp"
#include "actors/messages.hpp"

namespace sipfleet::actors {
namespace {

// The phone's view of the world, carried out with CAF and the transport.
class actor_environment final : public ua::environment {
 public:
  explicit actor_environment(const phone_setup& setup)
      : index_(setup.index), socket_(setup.socket), incarnation_(setup.incarnation), shared_(*setup.shared) {
    timers_.reserve(8);  // as the phone's own slots (actors/ua/phone.cpp)
    // A restarted phone starts afresh: its predecessor's calls died with it.
    shared_.active_calls[index_].store(0, std::memory_order_relaxed);
    set_registration(ua::registration_state::unregistered);
  }

  // A phone that stops (or fails) takes its timers and its calls' streams with it.
  ~actor_environment() override {
    for (const auto& h : timers_) shared_.timers.cancel(h);
    for (const auto& [key, stream] : streams_) shared_.media->close(stream);
  }

  // A digit the engine heard on one of our streams: told like the phone's own events.
  void digit_heard(const ua::call_record& r, char digit) {
    if (shared_.events == nullptr || phone_ == nullptr) return;
    const char text[2] = {digit, 0};
    shared_.events->on_phone_event(phone_->user(), ua::phone_event{.kind = ua::event_kind::dtmf_received,
                                                                   .code = digit, .reason = text, .record = &r});
  }

  // The phone this environment serves (made after it).
  void attach(const ua::phone& p) { phone_ = &p; }

  void set_registration(ua::registration_state r) {
    shared_.reg_state[index_].store(static_cast<std::uint8_t>(r), std::memory_order_relaxed);
  }

  // The last media_open failed (read once: the flag is cleared).
  bool media_port_failed() { return std::exchange(port_failed_, false); }
  run_stats& stats() { return shared_.stats; }

  std::int32_t media_open(std::uint32_t key, std::string_view address) override {
    port_failed_ = false;
    if (shared_.media == nullptr) return 0;
    std::uint16_t port = 0;
    std::string error;
    // Tagged (phone, key): a digit heard on it comes back to this phone (fleet.cpp).
    const auto h = shared_.media->open(address, port, error, (std::uint64_t{index_} << 32) | key);
    if (!h) {
      // The phone does not place (or answers 503 to) the call: a port in the SDP that is not
      // ours could be another call's. Counted; the engine's open_failures says why.
      shared_.stats.media_open_failures.fetch_add(1, std::memory_order_relaxed);
      port_failed_ = true;
      return -1;
    }
    streams_.emplace_back(key, h);
    return port;
  }

  void media_start(std::uint32_t key, const sip::negotiated_media& m) override {
    if (auto* h = stream_of(key)) {
      rtp::stream_params p;
      p.remote_address = m.remote_address;
      p.remote_port = m.remote_port;
      p.codec = m.codec == sip::audio_codec::pcma ? rtp::codec::pcma : rtp::codec::pcmu;
      p.payload_type = m.payload_type;
      p.event_payload_type = m.telephone_event_pt;
      p.ptime_ms = m.ptime_ms;
      p.send = sip::sends(m.local_direction);
      p.receive = sip::receives(m.local_direction);
      shared_.media->start(*h, p);
    }
  }

  void media_dtmf(std::uint32_t key, std::string_view digits) override {
    if (auto* h = stream_of(key)) shared_.media->send_digits(*h, digits);
  }

  void media_close(std::uint32_t key, ua::media_stats& out) override {
    const auto it = std::find_if(streams_.begin(), streams_.end(), [&](const auto& s) { return s.first == key; });
    if (it == streams_.end()) return;
    out = shared_.media->close(it->second);  // `started` false: the call ended before offer/answer
    streams_.erase(it);
  }

  void send(const ua::endpoint& to, std::string_view bytes) override {
    shared_.net.send(socket_, to, bytes);
  }

  void start_timer(ua::timer_token token, ua::milliseconds after) override {
    if (token.slot > 0xffffff) return;  // a phone never holds 16 million timers (timer_payload)
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
    count(e);
    if (requests_ != nullptr && e.record != nullptr) {
      auto& pending = requests_->pending_dtmf;
      if (e.kind == ua::event_kind::call_answered) {
        if (auto it = pending.find(e.record->call_id); it != pending.end()) {
          requests_->dtmf_due.emplace_back(it->first, std::move(it->second));
          pending.erase(it);
        }
      }
      if (e.kind == ua::event_kind::call_ended) pending.erase(e.record->call_id);
    }
    if (shared_.events != nullptr && e.kind != ua::event_kind::retransmission && phone_ != nullptr)
      shared_.events->on_phone_event(phone_->user(), e);
  }

  // What callers (the campaign, the API, a shard's stop) wait for. Made at the first request:
  // an idle phone that nobody asked anything does not carry it (~140 bytes each).
  struct requests {
    // Calls placed on request: the promise is kept until the call ends.
    std::map<std::string, caf::response_promise> pending_calls;
    std::vector<caf::response_promise> pending_stops;
    // DTMF asked for with a call (the API's "dtmf"): sent once the call is answered, from
    // settle() (not from inside the phone's event callback).
    std::map<std::string, std::string> pending_dtmf;
    std::vector<std::pair<std::string, std::string>> dtmf_due;
  };
  requests& asked() {
    if (requests_ == nullptr) requests_ = std::make_unique<requests>();
    return *requests_;
  }
  requests* asked_if_any() { return requests_.get(); }
  bool calls_finished = false;
  bool unregistered_ = false;

 private:
  std::unique_ptr<requests> requests_;
  void count(const ua::phone_event& e) {
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
        set_registration(ua::registration_state::registered);
        break;
      case ua::event_kind::registration_failed:
        s.registrations_failed.fetch_add(1, std::memory_order_relaxed);
        s.count_registration_code(e.code);
        set_unregistered();
        if (!failed_) s.phones_failed.fetch_add(1, std::memory_order_relaxed);
        failed_ = true;
        set_registration(ua::registration_state::failed);
        break;
      case ua::event_kind::unregistered:
        s.unregistrations.fetch_add(1, std::memory_order_relaxed);
        set_unregistered();
        unregistered_ = true;
        set_registration(ua::registration_state::unregistered);
        break;
      case ua::event_kind::call_created:
        shared_.active_calls[index_].fetch_add(1, std::memory_order_relaxed);
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
        shared_.active_calls[index_].fetch_sub(1, std::memory_order_relaxed);
        if (e.record != nullptr) call_ended(*e.record);
        break;
      case ua::event_kind::retransmission:
        s.retransmissions.fetch_add(1, std::memory_order_relaxed);
        break;
      default:
        break;
    }
  }

  void set_unregistered() {
    if (registered_) shared_.stats.phones_registered.fetch_sub(1, std::memory_order_relaxed);
    registered_ = false;
    shared_.registered[index_].store(false, std::memory_order_relaxed);
  }

  void call_ended(const ua::call_record& r) {
    auto& s = shared_.stats;
    calls_finished = true;
    shared_.add_record(r);
    if (r.media.started) s.add_media(r.media);
    if (!r.outgoing) {
      (r.answered ? s.incoming_answered : r.end_code == 487 ? s.incoming_cancelled : s.incoming_failed)
          .fetch_add(1, std::memory_order_relaxed);
      return;
    }
    if (r.answered && r.ended)
      s.duration_seconds.observe(std::chrono::duration<double>(*r.ended - *r.answered).count());
    if (!r.answered && r.ended_by_us) s.calls_cancelled.fetch_add(1, std::memory_order_relaxed);
    s.calls_active.fetch_sub(1, std::memory_order_relaxed);
    s.calls_completed.fetch_add(1, std::memory_order_relaxed);
    s.count_call_code(r.end_code);
    if (!r.answered && !r.ended_by_us) s.calls_failed.fetch_add(1, std::memory_order_relaxed);
    if (requests_ == nullptr) return;
    auto& pending = requests_->pending_calls;
    if (auto it = pending.find(r.call_id); it != pending.end()) {
      it->second.deliver(call_outcome{r});
      pending.erase(it);
    }
  }

  std::size_t index_;
  std::size_t socket_;
  std::uint8_t incarnation_;
  fleet_shared& shared_;
  const ua::phone* phone_ = nullptr;
  std::vector<timer_wheel::handle> timers_;  // by ua timer slot
  std::vector<std::pair<std::uint32_t, rtp::stream_handle>> streams_;  // the calls' media, by key
  bool port_failed_ = false;

  rtp::stream_handle* stream_of(std::uint32_t key) {
    for (auto& [k, h] : streams_)
      if (k == key) return &h;
    return nullptr;
  }
  bool registered_ = false;
  bool failed_ = false;
};

// The actor's state lives inside the actor object (a stateful actor): the environment and
// the phone are made when the actor starts and go when it stops (taking their timers along).
struct phone_state {
  std::optional<actor_environment> env;
  std::optional<ua::phone> phone;
};

using phone_self = caf::stateful_actor<phone_state>;

// After each input: drop finished call records (the fleet has its copy) and answer stops.
void settle(phone_state& st) {
  auto* asked = st.env->asked_if_any();
  if (asked != nullptr)
    for (auto& [call_id, digits] : std::exchange(asked->dtmf_due, {})) (void)st.phone->dtmf(call_id, digits);
  if (st.env->calls_finished) {
    st.env->calls_finished = false;
    (void)st.phone->take_finished_calls();
  }
  if (st.env->unregistered_ && asked != nullptr && !asked->pending_stops.empty()) {
    for (auto& p : asked->pending_stops) p.deliver(true);
    asked->pending_stops.clear();
  }
}

sip::result<bool> act(ua::phone& phone, const act_on_call& a) {
  switch (a.action) {
    case call_action::answer: return phone.answer(a.call_id);
    case call_action::hangup: return phone.hangup(a.call_id);
    case call_action::hold: return phone.hold(a.call_id);
    case call_action::resume: return phone.resume(a.call_id);
    case call_action::dtmf: return phone.dtmf(a.call_id, a.arg);
    case call_action::transfer: return phone.transfer(a.call_id, a.arg);
  }
  return sip::error{"unknown action"};
}

struct input_visitor {
  phone_self* self;
  phone_state& st;

  void operator()(const inbound& in) const { st.phone->on_message(*in.message, in.from); }
  void operator()(const inbound_malformed& in) const { st.phone->on_malformed(in.bytes, in.reason, in.from); }
  void operator()(const timer_fired& t) const {
    if (!st.env->mine(t.payload)) return;  // a predecessor's timer
    st.phone->on_timer({payload_slot(t.payload), payload_generation(t.payload)});
  }
  void operator()(const start_phone&) const {
    // Already on its way (a restarted phone gets a start at once and maybe its paced one).
    const auto r = st.phone->registration();
    if (r == ua::registration_state::registering || r == ua::registration_state::registered) return;
    st.env->unregistered_ = false;
    st.phone->start();
    if (st.phone->registration() == ua::registration_state::registering)
      st.env->set_registration(ua::registration_state::registering);
  }
  void operator()(const stop_phone&) const {
    st.env->asked().pending_stops.push_back(self->make_response_promise());
    if (st.phone->registration() == ua::registration_state::unregistered && st.phone->active_calls() == 0) {
      st.env->unregistered_ = true;
    } else {
      st.phone->stop();
      if (st.phone->registration() == ua::registration_state::unregistering)
        st.env->set_registration(ua::registration_state::unregistering);
    }
  }
  void operator()(const place_call& c) const {
    auto promise = self->make_response_promise();
    auto id = st.phone->call(c.target, ua::milliseconds{c.hold_ms});
    if (!id) {
      if (st.env->media_port_failed()) {
        // Not placed for want of an RTP port: still a failed call in the report (503, as a
        // phone would answer it), not one that vanished.
        auto& s = st.env->stats();
        s.calls_attempted.fetch_add(1, std::memory_order_relaxed);
        s.calls_completed.fetch_add(1, std::memory_order_relaxed);
        s.calls_failed.fetch_add(1, std::memory_order_relaxed);
        s.count_call_code(503);
      }
      promise.deliver(caf::make_error(caf::sec::runtime_error, id.err().reason));
    } else {
      if (!c.dtmf.empty()) st.env->asked().pending_dtmf.emplace(*id, c.dtmf);
      if (c.wait) {
        st.env->asked().pending_calls.emplace(*id, promise);
      } else {
        promise.deliver(std::move(id).value());
      }
    }
  }
  void operator()(const act_on_call& a) const {
    auto promise = self->make_response_promise();
    const auto r = act(*st.phone, a);
    if (!r) {
      promise.deliver(caf::make_error(caf::sec::runtime_error, r.err().reason));
    } else {
      promise.deliver(true);
    }
  }
  void operator()(const list_calls&) const { self->make_response_promise().deliver(call_list{st.phone->current_calls()}); }
  void operator()(const query_phone&) const {
    const auto& p = *st.phone;
    self->make_response_promise().deliver(phone_info{.user = p.user(), .domain = p.domain(),
                                                     .registration = p.registration(),
                                                     .expires = p.granted_expires(),
                                                     .behaviour = p.current_behaviour(),
                                                     .counters = p.counters(),
                                                     .calls = p.current_calls()});
  }
  void operator()(const edit_behaviour& e) const {
    auto b = st.phone->current_behaviour();
    if (e.edit) e.edit(b);
    st.phone->set_behaviour(b);
    self->make_response_promise().deliver(st.phone->current_behaviour());
  }
  void operator()(const digit_heard& d) const {
    if (auto r = st.phone->call_with_media(d.key)) st.env->digit_heard(*r, d.digit);
  }
  // Fault injection: fail the way a bug would (the shard restarts the phone).
  void operator()(const inject_crash&) const { self->quit(caf::exit_reason::unhandled_exception); }
};

caf::behavior phone_actor(phone_self* self, phone_setup setup) {
  auto& st = self->state;
  st.env.emplace(setup);
  st.phone.emplace(std::move(setup.config), *st.env, setup.seed);
  st.env->attach(*st.phone);
  if (setup.shared != nullptr) setup.shared->phones_made.fetch_add(1, std::memory_order_release);
  return {
      [self](phone_input& in) {
        auto& s = self->state;
        std::visit(input_visitor{self, s}, in);
        if (s.phone) settle(s);
      },
  };
}

}  // namespace

caf::actor spawn_phone(caf::event_based_actor* parent, phone_setup setup) {
  return parent->spawn<caf::linked>(phone_actor, std::move(setup));
}

}  // namespace sipfleet::actors
