// Registration (RFC 3261 §10.2): REGISTER to the proxy with digest authentication (§22), refresh
// before expiry, back-off after failures, unregistration on stop (PHONE-BEHAVIOUR.md, REGISTER).
//
// Choices:
//  - the granted expiry is the expires parameter of our Contact in the 200, else the Expires
//    header, else what we asked (§10.2.4);
//  - the refresh is sent at half the granted expiry (at least 1 s later), so a lost REGISTER
//    still has half the binding's life for its retransmissions and one retry;
//  - after a failure (any final >= 300 but a challenge we can answer or 423, Timer F's 408, a
//    transport error's 503) the phone retries after 1 s, 2 s, 4 s ... capped at 60 s, each plus
//    0-25 % jitter from the phone's rng, so a fleet does not retry in lock-step. A rejected
//    password (a second 401 with the same nonce) ends the attempt at once: the digest client's
//    verdict says fail, and the retry only comes from the back-off;
//  - 423 Interval Too Brief: retry at once with Min-Expires (§10.2.8), when it is larger.
#include <algorithm>
#include <charconv>
#include <string>
#include <vector>

#include "actors/ua/phone_impl.hpp"

namespace sipfleet::ua {

using namespace detail;

namespace {

std::optional<std::uint32_t> to_u32(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  std::uint32_t v = 0;
  const auto* end = s.data() + s.size();
  auto [p, ec] = std::from_chars(s.data(), end, v);
  if (ec != std::errc{} || p != end || s.empty()) return std::nullopt;
  return v;
}

}  // namespace

void phone::impl::start_registration() {
  if (profile_->expires == 0 || stopping_) return;
  if (reg_call_id_.empty()) {
    reg_call_id_ = sip::make_call_id(rng_, me_.local.host);
    reg_tag_ = sip::make_tag(rng_);
    reg_cseq_ = sip::make_initial_cseq(rng_);
  }
  asked_ = profile_->expires;
  send_register(asked_);
}

void phone::impl::send_register(std::uint32_t expires) {
  if (expires > 0) reg_state_ = registration_state::registering;
  const std::string request_uri = "sip:" + profile_->domain;
  const std::string branch = new_branch();
  const std::string expires_text = std::to_string(expires);
  ++reg_cseq_;

  // Pre-authorisation with the cached challenge, if any (RFC 3261 §22.1; digest.hpp).
  std::vector<sip::authorization_header> auth;
  if (auto a = digest_.authorization({.method = "REGISTER", .uri = request_uri})) auth = std::move(*a);
  std::vector<sip::extra_header> headers;
  headers.reserve(auth.size() + 2);
  headers.push_back({.name = "Expires", .value = expires_text});
  headers.push_back({.name = "User-Agent", .value = profile_->user_agent});
  for (const auto& h : auth) headers.push_back({.name = h.name, .value = h.value});

  std::string bytes = sip::build_request({.method = sip::method::register_,
                                          .method_text = {},
                                          .request_uri = request_uri,
                                          .via = via(branch),
                                          .from = aor(),
                                          .from_tag = reg_tag_,
                                          .to = aor(),
                                          .to_tag = {},
                                          .call_id = reg_call_id_,
                                          .cseq = reg_cseq_,
                                          .max_forwards = 70,
                                          .contact = contact_uri(),
                                          .routes = {},
                                          .headers = headers,
                                          .content_type = {},
                                          .body = {}});
  client_txn* t = start_client(std::move(bytes), client_purpose::register_, 0);
  reg_txn_ = t != nullptr ? t->id : 0;
}

void phone::impl::on_register_result(client_txn& t, int status, const sip::message* r) {
  if (t.id != reg_txn_ || status < 200) return;  // an older REGISTER, or a provisional
  reg_txn_ = 0;
  const bool unregistering = reg_state_ == registration_state::unregistering;

  // §22.2/§22.3: answer a challenge once per nonce; the verdict refuses a rejected answer.
  if ((status == 401 || status == 407) && r != nullptr) {
    const auto kind = status == 401 ? sip::challenge_kind::www : sip::challenge_kind::proxy;
    const auto challenge_id =
        status == 401 ? sip::header_id::www_authenticate : sip::header_id::proxy_authenticate;
    const auto sent_id =
        status == 401 ? sip::header_id::authorization : sip::header_id::proxy_authorization;
    std::vector<std::string_view> challenges;
    std::vector<std::string_view> sent;
    r->for_each(challenge_id, [&](std::string_view v) { challenges.push_back(v); });
    if (const auto* q = t.parsed()) q->for_each(sent_id, [&](std::string_view v) { sent.push_back(v); });
    const auto outcome = digest_.on_challenge({.kind = kind, .challenges = challenges, .sent = sent});
    if (outcome.verdict == sip::challenge_verdict::retry) {
      send_register(unregistering ? 0 : asked_);
      return;
    }
  }

  if (unregistering) {
    // Any final response (or the timeout) ends the unregistration (phone.hpp: stop()).
    reg_state_ = registration_state::unregistered;
    granted_ = 0;
    emit(event_kind::unregistered, status, sip::default_reason(status));
    return;
  }

  if (status >= 200 && status < 300 && r != nullptr) {
    // §10.2.4: the registrar's answer lists our binding with the expiry it granted.
    std::optional<std::uint32_t> granted;
    r->for_each(sip::header_id::contact, [&](std::string_view v) {
      if (granted) return;
      auto c = sip::parse_name_addr(v);
      if (!c || c->uri.user != me_.user || c->uri.host != me_.local.host ||
          (c->uri.port != 0 && c->uri.port != me_.local.port))
        return;
      if (auto e = c->param("expires")) granted = to_u32(*e);
    });
    if (!granted) granted = to_u32(r->header(sip::header_id::expires));
    granted_ = granted.value_or(asked_);
    reg_state_ = registration_state::registered;
    reg_failures_ = 0;
    ++counters_.registrations_succeeded;
    const std::string detail = std::to_string(granted_);
    emit(event_kind::registered, 200, detail);
    const auto refresh = std::max(milliseconds{1000}, milliseconds{granted_} * 500);
    arm(timer_target::registration, static_cast<std::uint8_t>(registration_timer::refresh), 0,
        ++reg_timer_gen_, refresh);
    return;
  }

  if (status == 423 && r != nullptr) {  // §10.2.8: Interval Too Brief
    const auto min = to_u32(r->header(sip::header_id::min_expires));
    if (min && *min > asked_) {
      asked_ = *min;
      send_register(asked_);
      return;
    }
  }
  registration_failed(status, r != nullptr ? r->reason() : sip::default_reason(status));
}

void phone::impl::registration_failed(int code, std::string_view reason) {
  reg_state_ = registration_state::failed;
  granted_ = 0;
  ++counters_.registrations_failed;
  emit(event_kind::registration_failed, code, reason);
  // Back-off: 1 s, 2 s, 4 s ... 60 s, plus 0-25 % jitter.
  ++reg_failures_;
  const auto shift = std::min<std::uint32_t>(reg_failures_ - 1, 6);
  const auto base = std::min<std::int64_t>(std::int64_t{1000} << shift, 60000);
  const auto jitter = static_cast<std::int64_t>(rng_.next() % static_cast<std::uint64_t>(base / 4 + 1));
  arm(timer_target::registration, static_cast<std::uint8_t>(registration_timer::retry), 0,
      ++reg_timer_gen_, milliseconds{base + jitter});
}

void phone::impl::on_registration_timer(registration_timer which) {
  if (stopping_) return;
  switch (which) {
    case registration_timer::refresh:
    case registration_timer::retry:
      asked_ = std::max(asked_, profile_->expires);
      send_register(asked_);
      break;
  }
}

// stop(): REGISTER with Expires: 0 (§10.2.2) when a binding may exist, then `unregistered`.
void phone::impl::unregister() {
  ++reg_timer_gen_;  // no refresh or retry any more
  if (profile_->expires == 0 || reg_state_ == registration_state::unregistered ||
      reg_state_ == registration_state::unregistering) {
    if (reg_state_ != registration_state::unregistering) emit(event_kind::unregistered, 0);
    return;
  }
  reg_state_ = registration_state::unregistering;
  send_register(0);
}

}  // namespace sipfleet::ua
