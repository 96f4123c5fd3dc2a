// ua::phone: the facade, and the plumbing every part of the phone shares: identifiers, Via,
// timer slots, events, call bookkeeping and the dispatch of incoming messages.
#include <algorithm>
#include <mutex>
#include <utility>

#include "actors/ua/phone_impl.hpp"

namespace sipfleet::ua {

using namespace detail;

namespace {

std::string host_for_uri(std::string_view host) {
  if (host.find(':') != std::string_view::npos) return "[" + std::string(host) + "]";
  return std::string(host);
}

phone_profile profile_part(phone_config& c) {
  return {.domain = std::move(c.domain), .proxy = std::move(c.proxy), .transport = c.transport,
          .expires = c.expires, .timers = c.timers, .behaviour = std::move(c.behaviour),
          .rtp_address = std::move(c.rtp_address), .user_agent = std::move(c.user_agent),
          .codec = c.codec, .dtmf_after_answer = std::move(c.dtmf_after_answer)};
}

phone_identity identity_part(const phone_config& c) {
  return {.user = c.user, .route_key = c.route_key, .local = c.local, .rtp_port = c.rtp_port};
}

}  // namespace

// Interning: the live profiles, looked up by value. A fleet makes its phones from one
// prototype, so the last profile handed out nearly always matches; the table is pruned of dead
// entries when it grows. Phones are made on several threads: a mutex guards it.
std::shared_ptr<const phone_profile> detail::profile_of(phone_profile p) {
  static std::mutex mutex;
  static std::vector<std::weak_ptr<const phone_profile>> live;
  std::lock_guard lock(mutex);
  for (auto it = live.rbegin(); it != live.rend(); ++it) {
    if (auto q = it->lock(); q && *q == p) return q;
  }
  std::erase_if(live, [](const auto& w) { return w.expired(); });
  auto q = std::make_shared<const phone_profile>(std::move(p));
  live.push_back(q);
  return q;
}

phone::impl::impl(phone_config config, environment& env, std::uint64_t seed)
    : profile_(profile_of(profile_part(config))),
      me_(identity_part(config)),
      env_(env),
      rng_(seed),
      digest_({.credentials = {.username = config.user, .password = std::move(config.password), .realm = {}},
               .make_cnonce = [this] {
                 std::string s;
                 sip::append_token(s, rng_, 16);
                 return s;
               }}) {
  sip::detail::wipe(config.password);  // what a short-string move leaves behind
  // What a registering phone holds for its lifetime is allocated now, beside the phone, not
  // in the middle of the registration's short-lived messages (whose holes would then stay
  // mapped: measured as ~2 KiB of resident memory per idle phone).
  reg_call_id_ = sip::make_call_id(rng_, me_.local.host);
  reg_tag_ = sip::make_tag(rng_);
  reg_cseq_ = sip::make_initial_cseq(rng_);
  slots_.reserve(8);  // a registration holds up to ~6 timers at once
  free_slots_.reserve(8);
}

// Made when a message needs them rather than kept: 100,000 phones would hold ~16 MB of copies.
std::string phone::impl::aor() const { return "<sip:" + me_.user + "@" + profile_->domain + ">"; }

std::string phone::impl::contact_uri() const {
  return "<sip:" + me_.user + "@" + host_for_uri(me_.local.host) + ":" + std::to_string(me_.local.port) +
         (profile_->transport == transport_kind::tcp ? ";transport=tcp>" : ">");
}

// Every branch is "z9hG4bK" + route_key + "." + random (phone.hpp): the transport routes a
// response to the phone by it (§8.1.1.7 asks only for the cookie and uniqueness).
std::string phone::impl::new_branch() {
  std::string b;
  b.reserve(sip::branch_cookie.size() + me_.route_key.size() + 1 + sip::branch_token_size);
  b.append(sip::branch_cookie).append(me_.route_key).append(1, '.');
  sip::append_token(b, rng_, sip::branch_token_size);
  return b;
}

sip::via_spec phone::impl::via(std::string_view branch) const {
  return {.transport = profile_->transport == transport_kind::tcp ? sip::via_transport::tcp
                                                             : sip::via_transport::udp,
          .host = me_.local.host,
          .port = me_.local.port,
          .branch = branch,
          .rport = true};
}

txn::options phone::impl::txn_options() const {
  return {.timers = profile_->timers,
          .reliable = profile_->transport == transport_kind::tcp,
          .send_100_trying = true};
}

void phone::impl::send_to_proxy(std::string_view bytes) { env_.send(profile_->proxy, bytes); }

void phone::impl::emit(event_kind kind, int code, std::string_view reason,
                       const call_record* record) {
  env_.on_event({.kind = kind, .code = code, .reason = reason, .record = record});
}

void phone::impl::count_retransmission(std::uint32_t call_id) {
  ++counters_.retransmissions;
  call_leg* c = find_call(call_id);
  if (c != nullptr) ++c->record.retransmissions;
  emit(event_kind::retransmission, 0, {}, c != nullptr ? &c->record : nullptr);
}

// ---- timers -----------------------------------------------------------------------------------

void phone::impl::arm(timer_target target, std::uint8_t which, std::uint32_t owner,
                      std::uint32_t owner_gen, milliseconds after) {
  std::uint32_t index = 0;
  if (!free_slots_.empty()) {
    index = free_slots_.back();
    free_slots_.pop_back();
  } else {
    index = static_cast<std::uint32_t>(slots_.size());
    slots_.emplace_back();
  }
  timer_slot& s = slots_[index];
  s.target = target;
  s.which = which;
  s.owner = owner;
  s.owner_gen = owner_gen;
  env_.start_timer({.slot = index, .generation = s.generation}, after);
}

void phone::impl::arm_call(call_leg& c, call_timer t, milliseconds after) {
  auto& g = c.timer_gen[static_cast<std::size_t>(t)];
  ++g;
  arm(timer_target::call, static_cast<std::uint8_t>(t), c.id, g, after);
}

void phone::impl::disarm_call(call_leg& c, call_timer t) { ++c.timer_gen[static_cast<std::size_t>(t)]; }

void phone::impl::fire(const timer_token& token) {
  if (token.slot >= slots_.size()) return;
  timer_slot& slot = slots_[token.slot];
  if (slot.generation != token.generation || slot.target == timer_target::free) return;
  const timer_slot s = slot;
  ++slot.generation;  // the token is spent: the slot is free for the next timer
  slot.target = timer_target::free;
  free_slots_.push_back(token.slot);
  switch (s.target) {
    case timer_target::client:
      on_timer_client(s);
      break;
    case timer_target::server:
      on_timer_server(s);
      break;
    case timer_target::registration:
      if (s.owner_gen == reg_timer_gen_)
        on_registration_timer(static_cast<registration_timer>(s.which));
      break;
    case timer_target::call: {
      call_leg* c = find_call(s.owner);
      if (c != nullptr && s.which < static_cast<std::uint8_t>(call_timer::count_) &&
          c->timer_gen[s.which] == s.owner_gen)
        on_call_timer(*c, static_cast<call_timer>(s.which));
      break;
    }
    case timer_target::free:
      break;
  }
}

// ---- calls ------------------------------------------------------------------------------------

call_leg* phone::impl::find_call(std::uint32_t id) {
  if (id == 0) return nullptr;
  for (auto& c : calls_)
    if (c->id == id && !c->dead) return c.get();
  return nullptr;
}

call_leg* phone::impl::find_call(std::string_view call_id) {
  for (auto& c : calls_)
    if (!c->dead && c->record.call_id == call_id) return c.get();
  return nullptr;
}

call_leg* phone::impl::find_call_by_dialog(const sip::message& m) {
  for (auto& c : calls_)
    if (!c->dead && c->dialog && c->dialog->matches(m)) return c.get();
  return nullptr;
}

call_leg& phone::impl::new_call(bool outgoing, std::string call_id, std::string peer) {
  auto c = std::make_unique<call_leg>();
  c->id = ++next_id_;
  c->record.call_id = std::move(call_id);
  c->record.outgoing = outgoing;
  c->record.peer = std::move(peer);
  c->record.started = env_.now();
  c->record.state = outgoing ? call_state::calling : call_state::ringing;
  calls_.push_back(std::move(c));
  return *calls_.back();
}

std::optional<sip::local_media> phone::impl::local_media_for_call(std::uint32_t key) {
  sip::local_media l;
  l.address = profile_->rtp_address.empty() ? me_.local.host : profile_->rtp_address;
  l.codecs = profile_->codec == sip::audio_codec::pcma
                 ? std::vector<sip::audio_codec>{sip::audio_codec::pcma, sip::audio_codec::pcmu}
                 : std::vector<sip::audio_codec>{sip::audio_codec::pcmu, sip::audio_codec::pcma};
  const std::int32_t port = env_.media_open(key, l.address);
  if (port < 0) return std::nullopt;
  l.rtp_port = static_cast<std::uint16_t>(port);
  // Without a media environment (unit tests, --media off): the configured port, else a
  // placeholder even port per call.
  if (l.rtp_port == 0)
    l.rtp_port = me_.rtp_port != 0 ? me_.rtp_port
                                   : static_cast<std::uint16_t>(4000 + 2 * (next_rtp_offset_++ % 1000));
  l.session_id = rng_.next() >> 1;
  l.session_version = l.session_id;
  return l;
}

void phone::impl::media_negotiated(call_leg& c) {
  if (c.media_key != 0 && c.media && c.media->negotiated()) env_.media_start(c.media_key, *c.media->negotiated());
}

void phone::impl::stop_media(call_leg& c) {
  if (c.media_key == 0) return;
  env_.media_close(c.media_key, c.record.media);  // the stream's figures go into the record
  c.media_key = 0;
}

void phone::impl::end_call(call_leg& c, int code, std::string_view reason, bool by_us) {
  if (c.dead) return;
  stop_media(c);
  c.record.ended = env_.now();
  c.record.end_code = code;
  c.record.end_reason = std::string(reason);
  c.record.ended_by_us = by_us;
  c.record.state = call_state::ended;
  c.awaiting_ack = false;
  for (auto& g : c.timer_gen) ++g;  // every pending call timer becomes stale
  c.dead = true;
  emit(event_kind::call_ended, code, c.record.end_reason, &c.record);
  report_to_referrer(c, code, c.record.end_reason);  // a call placed for a REFER: its outcome
}

void phone::impl::sweep() {
  std::erase_if(clients_, [](const auto& t) { return t->dead; });
  std::erase_if(servers_, [](const auto& t) { return t->dead; });
  for (auto& c : calls_)
    if (c->dead) finished_.push_back(std::move(c->record));
  std::erase_if(calls_, [](const auto& c) { return c->dead; });
  if (calls_.empty()) calls_.shrink_to_fit();
  if (clients_.empty()) clients_.shrink_to_fit();
  if (servers_.empty()) servers_.shrink_to_fit();
  // Timers whose owner has moved on (Timer E/F after the response, a call's timers after it
  // ended) are cancelled, so they cost the environment nothing more.
  for (std::uint32_t i = 0; i < slots_.size(); ++i) {
    timer_slot& s = slots_[i];
    if (s.target == timer_target::free || timer_live(s)) continue;
    env_.cancel_timer({.slot = i, .generation = s.generation});
    ++s.generation;
    s.target = timer_target::free;
    free_slots_.push_back(i);
  }
}

bool phone::impl::timer_live(const timer_slot& s) {
  const auto which = static_cast<txn::timer>(s.which);
  switch (s.target) {
    case timer_target::client: {
      const client_txn* t = find_client(s.owner);
      return t != nullptr &&
             std::visit([&](const auto& m) { return m.timers().armed(which, s.owner_gen); }, t->machine);
    }
    case timer_target::server: {
      const server_txn* t = find_server(s.owner);
      return t != nullptr &&
             std::visit([&](const auto& m) { return m.timers().armed(which, s.owner_gen); }, t->machine);
    }
    case timer_target::registration:
      return s.owner_gen == reg_timer_gen_;
    case timer_target::call: {
      const call_leg* c = find_call(s.owner);
      return c != nullptr && s.which < static_cast<std::uint8_t>(call_timer::count_) &&
             c->timer_gen[s.which] == s.owner_gen;
    }
    case timer_target::free:
      break;
  }
  return false;
}

// ---- incoming messages ------------------------------------------------------------------------

void phone::impl::dispatch(const sip::message& m, const endpoint& from) {
  if (m.is_response()) {
    on_response(m);
    return;
  }
  // §17.2.3: a retransmission goes to its server transaction (absorbed or answered again).
  if (absorb_retransmission(m)) return;
  switch (m.method()) {
    case sip::method::ack:
      on_ack(m);
      return;
    case sip::method::cancel:
      on_cancel(m, from);
      return;
    default:
      break;
  }
  if (!m.to().tag.empty()) {
    on_in_dialog(m, from);  // §12.2.2
  } else if (m.method() == sip::method::invite) {
    on_new_invite(m, from);
  } else {
    on_out_of_dialog(m, from);
  }
}

// ---- the facade -------------------------------------------------------------------------------

phone::phone(phone_config config, environment& env, std::uint64_t seed)
    : impl_(std::make_unique<impl>(std::move(config), env, seed)) {}

phone::~phone() = default;

void phone::start() {
  impl_->stopping_ = false;  // a phone unregistered on purpose may be started again (the API)
  impl_->start_registration();
  impl_->sweep();
}

void phone::stop() {
  impl_->stopping_ = true;
  for (auto& c : impl_->calls_)
    if (!c->dead && c->record.state != call_state::ending) (void)impl_->hangup_call(*c);
  impl_->unregister();
  impl_->sweep();
}

void phone::on_message(const sip::message& message, const endpoint& from) {
  impl_->dispatch(message, from);
  impl_->sweep();
}

void phone::on_malformed(std::string_view bytes, std::string_view reason, const endpoint& from) {
  impl_->malformed(bytes, reason, from);
}

void phone::on_timer(timer_token token) {
  impl_->fire(token);
  impl_->sweep();
}

sip::result<std::string> phone::call(std::string_view target, milliseconds hold) {
  auto r = impl_->place_call(target, hold);
  impl_->sweep();
  return r;
}

sip::result<bool> phone::answer(std::string_view call_id) {
  detail::call_leg* c = impl_->find_call(call_id);
  if (c == nullptr) return sip::error{"no such call"};
  auto r = impl_->answer_call(*c);
  impl_->sweep();
  return r;
}

sip::result<bool> phone::hangup(std::string_view call_id) {
  detail::call_leg* c = impl_->find_call(call_id);
  if (c == nullptr) return sip::error{"no such call"};
  auto r = impl_->hangup_call(*c);
  impl_->sweep();
  return r;
}

sip::result<bool> phone::hold(std::string_view call_id) {
  auto r = impl_->change_hold(call_id, reinvite_op::hold);
  impl_->sweep();
  return r;
}

sip::result<bool> phone::resume(std::string_view call_id) {
  auto r = impl_->change_hold(call_id, reinvite_op::resume);
  impl_->sweep();
  return r;
}

sip::result<bool> phone::transfer(std::string_view call_id, std::string_view target) {
  auto r = impl_->start_transfer(call_id, target);
  impl_->sweep();
  return r;
}

sip::result<bool> phone::dtmf(std::string_view call_id, std::string_view digits) {
  call_leg* c = impl_->find_call(call_id);
  if (c == nullptr || c->dead) return sip::error{"no such call"};
  if (!c->record.answered) return sip::error{"the call is not answered"};
  if (digits.find_first_not_of("0123456789*#ABCDabcd") != std::string_view::npos || digits.empty())
    return sip::error{"DTMF digits are 0-9, *, #, A-D"};
  if (c->media_key == 0) return sip::error{"the call has no media stream"};
  impl_->env_.media_dtmf(c->media_key, digits);
  return true;
}

void phone::set_behaviour(const sipfleet::ua::behaviour& b) {
  if (impl_->profile_->behaviour == b) return;
  auto p = *impl_->profile_;  // copy on write: the other phones keep theirs
  p.behaviour = b;
  impl_->profile_ = profile_of(std::move(p));
}

const sipfleet::ua::behaviour& phone::current_behaviour() const { return impl_->profile_->behaviour; }
const std::string& phone::user() const { return impl_->me_.user; }
const std::string& phone::domain() const { return impl_->profile_->domain; }

registration_state phone::registration() const { return impl_->reg_state_; }
std::uint32_t phone::granted_expires() const { return impl_->granted_; }

std::size_t phone::active_calls() const {
  return static_cast<std::size_t>(std::count_if(impl_->calls_.begin(), impl_->calls_.end(),
                                                [](const auto& c) { return !c->dead; }));
}

const phone_counters& phone::counters() const { return impl_->counters_; }

std::vector<call_record> phone::take_finished_calls() {
  impl_->sweep();
  std::vector<call_record> out;
  out.swap(impl_->finished_);
  return out;
}

std::optional<call_record> phone::call_with_media(std::uint32_t key) const {
  for (const auto& c : impl_->calls_)
    if (!c->dead && key != 0 && c->media_key == key) return c->record;
  return std::nullopt;
}

std::vector<call_record> phone::current_calls() const {
  std::vector<call_record> out;
  for (const auto& c : impl_->calls_)
    if (!c->dead) out.push_back(c->record);
  return out;
}

}  // namespace sipfleet::ua
