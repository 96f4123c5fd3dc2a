// Outgoing calls and the requests we send inside a call: INVITE with an SDP offer, CANCEL
// (§9.1), BYE (§15.1), hold/resume re-INVITEs (§14.1, RFC 3264 §8.4), and what each response
// does (PHONE-BEHAVIOUR.md, "on receipt").
//
// Choices:
//  - 3xx: the call ends with the 3xx code (no recursion to the Contact yet);
//  - 401/407 to an INVITE: retried with credentials at most twice per call (the digest verdict
//    already stops a rejected password);
//  - our INVITE expiry (behaviour.invite_expiry) sends CANCEL and the call ends with 408 when the
//    INVITE's final response (487) arrives; §9.1: if none arrives 64*T1 after the CANCEL, the
//    call ends anyway.
#include <string>
#include <vector>

#include "actors/ua/phone_impl.hpp"

namespace sipfleet::ua {

using namespace detail;

namespace {

// Peer name for the record: the user part of a URI, else the URI or the user as given.
std::string peer_of(std::string_view target) {
  auto u = sip::parse_uri(target);
  if (u && !u->user.empty()) return std::string(u->user);
  return std::string(target);
}

}  // namespace

sip::result<std::string> phone::impl::target_uri(std::string_view target,
                                                std::string_view what) const {
  if (target.empty()) return sip::error{"empty " + std::string(what)};
  if (target.find(':') == std::string_view::npos)
    return "sip:" + std::string(target) + "@" + profile_->domain;
  auto u = sip::parse_uri(target);
  if (!u || (u->scheme != sip::uri_scheme::sip && u->scheme != sip::uri_scheme::sips))
    return sip::error{"the " + std::string(what) + " is not a SIP URI"};
  return std::string(target);
}

sip::result<std::string> phone::impl::place_call(std::string_view target, milliseconds hold,
                                                 const call_origin& origin) {
  if (stopping_) return sip::error{"the phone is stopping"};
  auto uri = target_uri(target, "call target");
  if (!uri) return uri.err();
  const std::uint32_t media_key = new_media_key();
  auto local = local_media_for_call(media_key);
  if (!local) return sip::error{"no RTP port free for the call (widen --rtp-ports)"};
  call_leg& c = new_call(true, sip::make_call_id(rng_, me_.local.host), peer_of(target));
  c.target = std::move(uri).value();
  c.hold = hold;
  c.referred_from = origin.referred_from;
  c.referred_by = std::string(origin.referred_by);
  c.local_tag = sip::make_tag(rng_);
  c.cseq = sip::make_initial_cseq(rng_);
  c.media_key = media_key;
  c.media.emplace(std::move(*local));
  c.media->create_offer();
  ++counters_.calls_attempted;
  emit(event_kind::call_created, 0, {}, &c.record);
  arm_call(c, call_timer::expiry, profile_->behaviour.invite_expiry);
  send_invite(c);
  return c.record.call_id;
}

void phone::impl::send_invite(call_leg& c) {
  const std::string branch = new_branch();
  std::vector<sip::authorization_header> auth;
  if (auto a = digest_.authorization({.method = "INVITE", .uri = c.target})) auth = std::move(*a);
  std::vector<sip::extra_header> headers;
  headers.reserve(auth.size() + 3);
  headers.push_back({.name = "Allow", .value = allowed_methods});
  headers.push_back({.name = "User-Agent", .value = profile_->user_agent});
  if (!c.referred_by.empty()) headers.push_back({.name = "Referred-By", .value = c.referred_by});
  for (const auto& h : auth) headers.push_back({.name = h.name, .value = h.value});
  std::string bytes = sip::build_request({.method = sip::method::invite,
                                          .method_text = {},
                                          .request_uri = c.target,
                                          .via = via(branch),
                                          .from = aor(),
                                          .from_tag = c.local_tag,
                                          .to = c.target,
                                          .to_tag = {},
                                          .call_id = c.record.call_id,
                                          .cseq = c.cseq,
                                          .max_forwards = 70,
                                          .contact = contact_uri(),
                                          .routes = {},
                                          .headers = headers,
                                          .content_type = "application/sdp",
                                          .body = c.media->last_sent_sdp()});
  client_txn* t = start_client(std::move(bytes), client_purpose::invite, c.id);
  c.invite_txn = t != nullptr ? t->id : 0;
}

void phone::impl::on_invite_result(client_txn& t, int status, const sip::message* r) {
  // A 2xx retransmission (or one for a call that has ended meanwhile): ACK it again, as sent.
  if (status >= 200 && status < 300 && !t.ack.empty()) {
    send_to_proxy(t.ack);
    count_retransmission(t.call);
    return;
  }
  call_leg* c = find_call(t.call);
  if (c == nullptr || c->invite_txn != t.id) return;

  if (r == nullptr) {  // Timer B (408) or a transport error (503): §8.1.3.1
    if (c->cancel_wanted || c->cancel_sent) {
      end_call(*c, c->expired ? 408 : 487, sip::default_reason(c->expired ? 408 : 487),
               !c->expired);
    } else {
      ++counters_.calls_failed;
      end_call(*c, status, sip::default_reason(status), false);
    }
    return;
  }

  if (status < 200) {
    c->provisional = true;
    if (status > 100 && !r->to().tag.empty()) {  // §12.1.2: an early dialog
      if (!c->dialog) {
        if (auto d = sip::dialog::from_uac(*t.request, *r)) c->dialog.emplace(std::move(*d));
      } else if (c->dialog->matches(*r)) {
        c->dialog->on_response(*r);
      }
    }
    // 181/182 are treated as 100 (PHONE-BEHAVIOUR.md); 180/183 alert.
    if ((status == 180 || status == 183) && c->record.state == call_state::calling) {
      c->record.state = call_state::ringing;
      if (!c->record.ringing) c->record.ringing = env_.now();
      emit(event_kind::call_ringing, status, r->reason(), &c->record);
    }
    if (c->cancel_wanted && !c->cancel_sent) send_cancel(*c);
    return;
  }

  if (status < 300) {
    on_invite_2xx(*c, t, *r);
    return;
  }

  // 401/407: the transaction ACKs; repeat the INVITE with credentials (new branch, CSeq + 1).
  if ((status == 401 || status == 407) && c->auth_attempts < 2 && !c->cancel_wanted &&
      !c->cancel_sent) {
    const auto kind = status == 401 ? sip::challenge_kind::www : sip::challenge_kind::proxy;
    std::vector<std::string_view> challenges;
    std::vector<std::string_view> sent;
    r->for_each(status == 401 ? sip::header_id::www_authenticate
                              : sip::header_id::proxy_authenticate,
                [&](std::string_view v) { challenges.push_back(v); });
    t.request->for_each(status == 401 ? sip::header_id::authorization
                                     : sip::header_id::proxy_authorization,
                       [&](std::string_view v) { sent.push_back(v); });
    const auto outcome = digest_.on_challenge({.kind = kind, .challenges = challenges, .sent = sent});
    if (outcome.verdict == sip::challenge_verdict::retry) {
      ++c->auth_attempts;
      ++c->cseq;
      c->dialog.reset();
      c->provisional = false;
      send_invite(*c);
      return;
    }
  }

  c->dialog.reset();
  if (c->cancel_wanted || c->cancel_sent) {
    if (c->expired) {  // our INVITE expiry: graceful disconnect with 408 (PHONE-BEHAVIOUR.md)
      ++counters_.calls_failed;
      end_call(*c, 408, sip::default_reason(408), false);
    } else {
      end_call(*c, status, r->reason(), true);
    }
    return;
  }
  ++counters_.calls_failed;
  end_call(*c, status, r->reason(), false);
}

void phone::impl::on_invite_2xx(call_leg& c, client_txn& t, const sip::message& r) {
  // §13.2.2.4: the 2xx creates or confirms the dialog; the ACK is its own transaction.
  if (c.dialog && c.dialog->matches(r)) {
    c.dialog->on_response(r);
  } else {
    auto d = sip::dialog::from_uac(*t.request, r);
    if (!d) return;
    c.dialog.emplace(std::move(*d));
  }
  const std::string branch = new_branch();
  t.ack = c.dialog->build_ack({.via = via(branch),
                               .invite_cseq = t.request->cseq().number,
                               .headers = {},
                               .content_type = {},
                               .body = {}});
  send_to_proxy(t.ack);
  if (!r.body().empty() && c.media->receive_answer(r.body())) {
    media_negotiated(c);
    if (!profile_->dtmf_after_answer.empty()) env_.media_dtmf(c.media_key, profile_->dtmf_after_answer);
  }
  disarm_call(c, call_timer::expiry);
  disarm_call(c, call_timer::cancel_guard);
  c.record.answered = env_.now();
  c.record.state = call_state::connected;
  ++counters_.calls_answered;
  emit(event_kind::call_answered, r.status_code(), r.reason(), &c.record);
  report_to_referrer(c, r.status_code(), r.reason());
  if (c.cancel_wanted || c.cancel_sent || c.hangup_by_us) {
    send_bye(c);  // we hung up while the 200 was on its way: §15 says BYE it
  } else if (c.hold > milliseconds{0}) {
    arm_call(c, call_timer::hold_bye, c.hold);
  }
}

void phone::impl::send_cancel(call_leg& c) {
  client_txn* invite = find_client(c.invite_txn);
  if (invite == nullptr) return;
  c.cancel_sent = true;
  c.record.state = call_state::ending;
  start_client(sip::build_cancel(*invite->request), client_purpose::cancel, c.id);
  arm_call(c, call_timer::cancel_guard, 64 * profile_->timers.t1);
}

void phone::impl::send_bye(call_leg& c) {
  if (!c.dialog) return;
  c.hangup_by_us = true;
  c.record.state = call_state::ending;
  disarm_call(c, call_timer::hold_bye);
  const std::string branch = new_branch();
  std::string bytes = c.dialog->build_request({.method = sip::method::bye,
                                               .method_text = {},
                                               .via = via(branch),
                                               .contact = {},
                                               .max_forwards = 70,
                                               .headers = {},
                                               .content_type = {},
                                               .body = {}});
  start_client(std::move(bytes), client_purpose::bye, c.id);
  // §15.1.1: the session is over once the BYE is handed to its transaction: no more media
  // sent or listened to. The stream's figures go into the record now.
  stop_media(c);
}

void phone::impl::on_bye_result(client_txn& t, int status) {
  if (status < 200) return;
  call_leg* c = find_call(t.call);
  if (c == nullptr) return;
  // Any final response, 481, 408 or a timeout ends the call (§15.1.1): we hung up.
  end_call(*c, 200, c->transferred ? "transferred" : "BYE", true);
}

sip::result<bool> phone::impl::hangup_call(call_leg& c) {
  if (c.record.state == call_state::ending) return true;
  if (c.record.outgoing && !c.record.answered) {
    c.hangup_by_us = true;
    c.record.state = call_state::ending;
    // §9.1: a CANCEL only after a provisional response; until then it waits for one.
    if (c.provisional)
      send_cancel(c);
    else
      c.cancel_wanted = true;
    return true;
  }
  if (!c.record.outgoing && !c.record.answered) {
    // A ringing incoming call rejected by the user.
    server_txn* t = find_server(c.invite_txn);
    if (t != nullptr && t->request) {
      respond(*t,
              sip::build_response(*t->request, {.status = 603,
                                                .reason = {},
                                                .to_tag = c.local_tag,
                                                .contact = {},
                                                .copy_record_route = false,
                                                .headers = {},
                                                .content_type = {},
                                                .body = {}}),
              603);
    }
    end_call(c, 603, sip::default_reason(603), true);
    return true;
  }
  if (c.awaiting_ack) {  // §15: the callee waits for the ACK before its BYE
    c.bye_after_ack = true;
    c.hangup_by_us = true;
    c.record.state = call_state::ending;
    return true;
  }
  send_bye(c);
  return true;
}

// ---- hold / resume (RFC 3264 §8.4) --------------------------------------------------------------

sip::result<bool> phone::impl::change_hold(std::string_view call_id, reinvite_op op) {
  call_leg* c = find_call(call_id);
  if (c == nullptr) return sip::error{"no such call"};
  if (!established(*c) || !c->media) return sip::error{"the call is not connected"};
  if (c->reinvite_txn != 0 || c->pending != reinvite_op::none)
    return sip::error{"a re-INVITE is already in progress"};
  send_reinvite(*c, op);
  return true;
}

void phone::impl::send_reinvite(call_leg& c, reinvite_op op) {
  const std::string body =
      op == reinvite_op::hold ? c.media->create_hold_offer() : c.media->create_resume_offer();
  const std::string branch = new_branch();
  std::string bytes = c.dialog->build_request({.method = sip::method::invite,
                                               .method_text = {},
                                               .via = via(branch),
                                               .contact = contact_uri(),
                                               .max_forwards = 70,
                                               .headers = {},
                                               .content_type = "application/sdp",
                                               .body = body});
  c.pending = op;
  client_txn* t = start_client(std::move(bytes), client_purpose::reinvite, c.id);
  c.reinvite_txn = t != nullptr ? t->id : 0;
}

void phone::impl::on_reinvite_result(client_txn& t, int status, const sip::message* r) {
  if (status >= 200 && status < 300 && !t.ack.empty()) {  // a 2xx retransmission: ACK again
    send_to_proxy(t.ack);
    count_retransmission(t.call);
    return;
  }
  if (status < 200) return;
  call_leg* c = find_call(t.call);
  if (c == nullptr || c->reinvite_txn != t.id) return;
  c->reinvite_txn = 0;
  const reinvite_op op = c->pending;
  if (status < 300 && r != nullptr) {
    c->dialog->on_response(*r);
    const std::string branch = new_branch();
    t.ack = c->dialog->build_ack({.via = via(branch),
                                  .invite_cseq = t.request->cseq().number,
                                  .headers = {},
                                  .content_type = {},
                                  .body = {}});
    send_to_proxy(t.ack);
    if (c->media->receive_answer(r->body())) media_negotiated(*c);
    c->pending = reinvite_op::none;
    c->held_by_us = op == reinvite_op::hold;
    if (c->record.state != call_state::ending)
      c->record.state =
          c->held_by_us || c->held_by_peer ? call_state::held : call_state::connected;
    emit(op == reinvite_op::hold ? event_kind::call_held : event_kind::call_resumed, status,
         r->reason(), &c->record);
    return;
  }
  c->media->offer_rejected();  // RFC 3264 §8: the old session stays
  if (status == 491) {
    // §14.1: glare. Retry after 2.1-4 s if we own the Call-ID (we sent the initial INVITE),
    // else after 0-2 s, in 10 ms units.
    const auto delay = c->record.outgoing ? 2100 + 10 * static_cast<std::int64_t>(rng_.next() % 191)
                                          : 10 * static_cast<std::int64_t>(rng_.next() % 201);
    arm_call(*c, call_timer::glare, milliseconds{delay});
    return;  // c->pending is kept for the retry
  }
  c->pending = reinvite_op::none;
  if (status == 481 || status == 408) {  // §12.2.1.2: the dialog is gone
    end_call(*c, status, r != nullptr ? r->reason() : sip::default_reason(status), false);
  }
}

void phone::impl::on_call_timer(call_leg& c, call_timer which) {
  switch (which) {
    case call_timer::expiry:
      if (c.record.outgoing && !c.record.answered && !c.cancel_sent && !c.cancel_wanted) {
        c.expired = true;
        c.record.state = call_state::ending;
        if (c.provisional)
          send_cancel(c);
        else
          c.cancel_wanted = true;
      }
      break;
    case call_timer::answer:
      static_cast<void>(answer_call(c));
      break;
    case call_timer::hold_bye:
      if (c.record.state == call_state::connected || c.record.state == call_state::held)
        static_cast<void>(hangup_call(c));
      break;
    case call_timer::retransmit_2xx:
      retransmit_2xx(c);
      break;
    case call_timer::glare:
      if (c.pending != reinvite_op::none && c.reinvite_txn == 0 &&
          (c.record.state == call_state::connected || c.record.state == call_state::held))
        send_reinvite(c, c.pending);
      else
        c.pending = reinvite_op::none;
      break;
    case call_timer::cancel_guard:
      // §9.1: no final response 64*T1 after the CANCEL: the INVITE is taken as cancelled.
      if (!c.record.answered) {
        if (c.expired) ++counters_.calls_failed;
        end_call(c, c.expired ? 408 : 487, sip::default_reason(c.expired ? 408 : 487),
                 !c.expired);
      }
      break;
    case call_timer::refer_subscription:
      end_refer(c);  // no NOTIFY ended it in time: the transfer's outcome is not known
      break;
    case call_timer::refer_notify:
      on_refer_notify_timer(c);
      break;
    case call_timer::count_:
      break;
  }
}

}  // namespace sipfleet::ua
