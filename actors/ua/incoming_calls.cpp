// Incoming calls and requests inside a dialog (the UAS side): INVITE -> 100, then 480 (DND),
// 302 (forwarding), the reject code, 486 (busy, no call waiting), 488 (no codec) or 180 and a
// 200 with the SDP answer (PHONE-BEHAVIOUR.md); the 2xx retransmitted until ACK (§13.3.1.4);
// CANCEL (§9.2); BYE (§15.1.2); re-INVITE hold/resume (§14.2, RFC 3264 §8.4); INFO/UPDATE 200;
// REFER and the NOTIFYs of our own REFER (transfer.cpp); any other NOTIFY 481 (RFC 6665 §4.1.3:
// the phone subscribes to nothing else); 481 for an unknown dialog and 500 for an out-of-order
// CSeq (§12.2.2).
#include <algorithm>
#include <string>

#include "actors/ua/phone_impl.hpp"

namespace sipfleet::ua {

using namespace detail;

namespace {

sip::response_options with(int status, std::string_view to_tag) {
  return {.status = status,
          .reason = {},
          .to_tag = to_tag,
          .contact = {},
          .copy_record_route = true,
          .headers = {},
          .content_type = {},
          .body = {}};
}

}  // namespace

void phone::impl::on_new_invite(const sip::message& m, const endpoint& from) {
  server_txn* t = start_server(m, from);  // sends 100 Trying (§17.2.1)
  if (reject_invalid(*t, m)) return;
  const auto& b = profile_->behaviour;
  if (stopping_) {
    respond_simple(*t, m, 480);
    return;
  }
  if (b.dnd) {
    respond_simple(*t, m, 480);
    return;
  }
  if (!b.forward_to.empty()) {
    const std::string target = b.forward_to.find(':') != std::string::npos
                                   ? b.forward_to
                                   : "sip:" + b.forward_to + "@" + profile_->domain;
    const std::string tag = sip::make_tag(rng_);
    auto o = with(302, tag);
    o.contact = target;
    o.copy_record_route = false;
    respond(*t, sip::build_response(m, o), 302);
    return;
  }
  if (b.answer == answer_mode::reject) {
    respond_simple(*t, m, std::clamp(b.reject_code, 300, 699));
    return;
  }
  if (std::any_of(calls_.begin(), calls_.end(), [](const auto& x) { return !x->dead; })) {  // no call waiting (PHONE-BEHAVIOUR.md, 486)
    respond_simple(*t, m, 486);
    return;
  }
  if (m.count(sip::header_id::contact) == 0) {
    respond_simple(*t, m, 400, "Missing Contact");
    return;
  }
  const std::uint32_t media_key = new_media_key();
  auto local = local_media_for_call(media_key);
  if (!local) {
    respond_simple(*t, m, 503, "No RTP Port");  // RFC 3261 §21.5.4: a temporary overload
    return;
  }
  sip::media_session media(std::move(*local));
  const bool offerless = m.body().empty();
  auto drop_media = [&] {
    media_stats unused;
    env_.media_close(media_key, unused);
  };
  if (!offerless) {
    auto r = media.receive_offer(m.body());
    if (!r.ok()) {  // 488 Not Acceptable Here, or 400 for SDP that does not parse
      drop_media();
      respond_simple(*t, m, r.sip_status(), r.status == sip::answer_status::malformed_offer
                                                ? std::string_view{"Malformed SDP"}
                                                : std::string_view{});
      return;
    }
  }
  const std::string tag = sip::make_tag(rng_);
  auto d = sip::dialog::from_uas(m, tag, 180);
  if (!d) {
    drop_media();
    respond_simple(*t, m, 400, "Bad Contact");
    return;
  }
  const auto& from_uri = m.from().uri;
  call_leg& c = new_call(false, std::string(m.call_id()),
                     std::string(from_uri.user.empty() ? from_uri.text : from_uri.user));
  c.local_tag = tag;
  c.dialog.emplace(std::move(*d));
  c.media.emplace(std::move(media));
  c.media_key = media_key;
  c.offerless = offerless;
  c.invite_txn = t->id;
  t->call = c.id;
  auto o = with(180, c.local_tag);
  const std::string contact = contact_uri();
  o.contact = contact;
  respond(*t, sip::build_response(m, o), 180);
  c.record.ringing = env_.now();
  ++counters_.calls_received;
  emit(event_kind::call_created, 0, {}, &c.record);
  emit(event_kind::call_ringing, 180, "Ringing", &c.record);
  if (b.answer == answer_mode::automatic) {
    if (b.answer_delay <= milliseconds{0})
      static_cast<void>(answer_call(c));
    else
      arm_call(c, call_timer::answer, b.answer_delay);
  }
}

sip::result<bool> phone::impl::answer_call(call_leg& c) {
  if (c.record.outgoing || c.record.answered || c.dead) return sip::error{"nothing to answer"};
  server_txn* t = find_server(c.invite_txn);
  if (t == nullptr || !t->request) return sip::error{"the INVITE is gone"};
  const std::string body = c.offerless ? c.media->create_offer() : c.media->last_sent_sdp();
  auto o = with(200, c.local_tag);
  const std::string contact = contact_uri();
  o.contact = contact;
  o.content_type = "application/sdp";
  o.body = body;
  const sip::extra_header allow{.name = "Allow", .value = allowed_methods};
  o.headers = {&allow, 1};
  std::string bytes = sip::build_response(*t->request, o);
  c.dialog->on_response_sent(200);
  disarm_call(c, call_timer::answer);
  c.record.answered = env_.now();
  c.record.state = call_state::connected;
  send_2xx(c, *t, std::move(bytes));
  if (!c.offerless) media_negotiated(c);  // we answered: our side streams from now on
  emit(event_kind::call_answered, 200, "OK", &c.record);
  return true;
}

// §13.3.1.4: the TU retransmits its 2xx (T1, doubling up to T2) until the ACK comes, and gives
// up after 64*T1: the dialog is then ended with BYE. The server transaction only absorbs the
// INVITE retransmissions meanwhile (RFC 6026 Accepted).
void phone::impl::send_2xx(call_leg& c, server_txn& t, std::string bytes) {
  c.last_2xx = bytes;
  c.peer = t.from;
  c.awaiting_ack = true;
  c.retransmit_interval = profile_->timers.t1;
  c.retransmit_armed = c.retransmit_interval;
  c.retransmit_elapsed = milliseconds{0};
  respond(t, std::move(bytes), 200);
  arm_call(c, call_timer::retransmit_2xx, c.retransmit_armed);
}

void phone::impl::retransmit_2xx(call_leg& c) {
  if (!c.awaiting_ack) return;
  c.retransmit_elapsed += c.retransmit_armed;
  const milliseconds give_up = 64 * profile_->timers.t1;
  if (c.retransmit_elapsed >= give_up) {
    c.awaiting_ack = false;
    std::string().swap(c.last_2xx);
    send_bye(c);  // "the session SHOULD be terminated"
    return;
  }
  env_.send(c.peer, c.last_2xx);
  count_retransmission(c.id);
  c.retransmit_interval = std::min(2 * c.retransmit_interval, profile_->timers.t2);
  c.retransmit_armed = std::min(c.retransmit_interval, give_up - c.retransmit_elapsed);
  arm_call(c, call_timer::retransmit_2xx, c.retransmit_armed);
}

// §9.2: 200 to the CANCEL; if the INVITE is still unanswered, 487 to it and the call ends.
void phone::impl::on_cancel(const sip::message& m, const endpoint& from) {
  server_txn* t = start_server(m, from);
  const auto key = txn::cancelled_invite_key(m);
  server_txn* invite = nullptr;
  for (auto& s : servers_)
    if (!s->dead && s->key == key) invite = s.get();
  if (invite == nullptr) {
    respond_simple(*t, m, 481);
    return;
  }
  respond_simple(*t, m, 200);
  call_leg* c = find_call(invite->call);
  if (c == nullptr || c->record.answered || !invite->request) return;
  respond(*invite, sip::build_response(*invite->request, with(487, c->local_tag)), 487);
  end_call(*c, 487, sip::default_reason(487), false);
}

void phone::impl::on_ack(const sip::message& m) {
  call_leg* c = find_call_by_dialog(m);
  if (c == nullptr || !c->awaiting_ack) return;  // a stray ACK is dropped (§17.2.3)
  c->awaiting_ack = false;
  std::string().swap(c->last_2xx);
  disarm_call(*c, call_timer::retransmit_2xx);
  if (c->offerless && !m.body().empty()) {  // the answer to the offer in our 2xx
    if (c->media->receive_answer(m.body())) media_negotiated(*c);
    c->offerless = false;
  }
  if (c->bye_after_ack) send_bye(*c);
}

void phone::impl::on_in_dialog(const sip::message& m, const endpoint& from) {
  server_txn* t = start_server(m, from);
  call_leg* c = find_call_by_dialog(m);
  if (c == nullptr || !c->dialog) {
    respond_simple(*t, m, 481);  // §12.2.2: no such dialog
    return;
  }
  t->call = c->id;
  if (c->dialog->on_request(m) == sip::request_verdict::out_of_order) {
    respond_simple(*t, m, 500, "Out of Order CSeq");  // §12.2.2
    return;
  }
  switch (m.method()) {
    case sip::method::bye:
      respond_simple(*t, m, 200);
      end_call(*c, 200, "BYE from peer", false);
      return;
    case sip::method::invite:
      on_reinvite(*c, *t, m);
      return;
    case sip::method::info:
    case sip::method::update:  // display updates only, no SDP change (PHONE-BEHAVIOUR.md)
      respond_simple(*t, m, 200);
      return;
    case sip::method::options:
      answer_options(*t, m);
      return;
    case sip::method::refer:
      on_refer(*c, *t, m);
      return;
    case sip::method::notify:
      on_refer_notify(*c, *t, m);
      return;
    default: {
      const sip::extra_header allow{.name = "Allow", .value = allowed_methods};
      respond_simple(*t, m, 405, {}, {&allow, 1});
      return;
    }
  }
}

// §14.2: a re-INVITE: 491 while our own re-INVITE is pending (glare), else the offer answered
// per RFC 3264 §8.4 (hold: sendonly/inactive -> recvonly/inactive) with 200 + SDP.
void phone::impl::on_reinvite(call_leg& c, server_txn& t, const sip::message& m) {
  if (c.reinvite_txn != 0 || c.awaiting_ack || !c.media) {
    respond_simple(t, m, 491);
    return;
  }
  std::string body;
  if (m.body().empty()) {
    body = c.media->create_offer();  // offerless re-INVITE: our offer, the answer in the ACK
    c.offerless = true;
  } else {
    auto r = c.media->receive_offer(m.body());
    if (!r.ok()) {
      respond_simple(t, m, r.sip_status());  // the session stays as it was
      return;
    }
    body = c.media->last_sent_sdp();
  }
  auto o = with(200, c.local_tag);
  const std::string contact = contact_uri();
  o.contact = contact;
  o.content_type = "application/sdp";
  o.body = body;
  send_2xx(c, t, sip::build_response(m, o));
  if (!c.offerless) media_negotiated(c);
  peer_hold_changed(c);
}

void phone::impl::peer_hold_changed(call_leg& c) {
  const auto& n = c.media->negotiated();
  const bool peer_holds = n && n->remote_hold;
  if (peer_holds == c.held_by_peer) return;
  c.held_by_peer = peer_holds;
  if (c.record.state != call_state::ending)
    c.record.state = c.held_by_us || c.held_by_peer ? call_state::held : call_state::connected;
  emit(peer_holds ? event_kind::call_held : event_kind::call_resumed, 0, {}, &c.record);
}

}  // namespace sipfleet::ua
