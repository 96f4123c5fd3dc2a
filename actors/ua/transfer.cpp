// Blind call transfer by REFER (RFC 3515; RFC 5589 §6 for the call flow), both sides.
//
// Transferor (phone::transfer): REFER in the call's dialog with Refer-To: <target> and
// Referred-By: <our AOR> (RFC 3892). The REFER's 2xx (202) starts an implicit subscription to
// the "refer" event; its NOTIFYs carry the new call's progress as a message/sipfrag status
// line (RFC 3515 §2.4.4, §2.4.5), and each is answered:
//
//   NOTIFY, Event: refer, sipfrag 1xx         200; the transfer goes on
//   NOTIFY, sipfrag 2xx                       200; call_transferred, then BYE for the call,
//                                             which ends with "transferred" (RFC 5589 §6)
//   NOTIFY, sipfrag 3xx-6xx                   200; the transfer failed, the call stays up
//   NOTIFY, Subscription-State: terminated    200; the subscription is over
//   NOTIFY for no REFER of ours, other event  481 Subscription Does Not Exist (RFC 6665 §4.1.3)
//   NOTIFY, body not message/sipfrag          415 + Accept: message/sipfrag
//   NOTIFY, sipfrag without a status line     400 Bad Sipfrag
//
// A 3xx-6xx to the REFER: the transfer failed, the call stays up; but a 481 or 408 ends the
// call, as for a re-INVITE (§12.2.1.2: the dialog is gone). The subscription is given up when
// no NOTIFY came 64*T1 after the 202 (RFC 6665 §4.1.2.4) or when the expires of the last
// NOTIFY's Subscription-State has passed; the call then stays up.
//
// Transferee (a REFER in a connected or held call):
//
//   REFER without Refer-To, or with several   400 (RFC 3515 §2.4.1: exactly one)
//   Refer-To that does not parse              400 Bad Refer-To
//   Refer-To not sip/sips                     416 Unsupported URI Scheme
//   REFER in a call not connected or held     403 Call Not Connected
//   REFER while our last transfer goes on     491 Request Pending
//   otherwise                                 202, call_transferred, NOTIFY "SIP/2.0 100 Trying"
//                                             (active;expires=60), and a new call to the target
//                                             as phone::call places one (hold 0)
//
// The new call's final response is NOTIFYed in the old dialog, "SIP/2.0 <code> <reason>" with
// Subscription-State: terminated;reason=noresource. The transferee keeps the new call; the
// transferor ends the old one (RFC 5589 §6). If the new call is still unanswered when the 60 s
// granted run out, the last NOTIFY says so: terminated;reason=timeout (RFC 6665 §4.2.2). URI
// headers in Refer-To (Replaces: an attended transfer) are not used: every transfer is blind.
// Every NOTIFY carries id=<the REFER's CSeq> (RFC 3515 §2.4.6).
#include <array>
#include <charconv>
#include <optional>
#include <string>
#include <utility>

#include "actors/ua/phone_impl.hpp"

namespace sipfleet::ua {

using namespace detail;

namespace {

constexpr std::chrono::seconds granted_subscription{60};

struct status_line {
  int code = 0;
  std::string_view reason;
};

// RFC 3515 §2.4.5: the NOTIFY body is a sipfrag that begins with a status line (RFC 3420).
std::optional<status_line> sipfrag_status(std::string_view body) {
  constexpr std::string_view version = "SIP/2.0 ";
  if (body.size() < version.size() + 3 || !iequals(body.substr(0, version.size()), version))
    return std::nullopt;
  body.remove_prefix(version.size());
  int code = 0;
  const auto [end, ec] = std::from_chars(body.data(), body.data() + 3, code);
  if (ec != std::errc{} || end != body.data() + 3 || code < 100 || code > 699) return std::nullopt;
  body.remove_prefix(3);
  if (!body.empty() && body.front() != ' ' && body.front() != '\r' && body.front() != '\n')
    return std::nullopt;
  return status_line{code, trim(body.substr(0, body.find_first_of("\r\n")))};
}

// A parameter of a "value;params" header value (Event's id, Subscription-State's expires).
std::optional<std::string_view> param_of(std::string_view value, std::string_view name) {
  const auto semi = value.find(';');
  if (semi == std::string_view::npos) return std::nullopt;
  return sip::find_param(value.substr(semi), name);
}

std::optional<std::uint32_t> number_of(std::optional<std::string_view> v) {
  std::uint32_t n = 0;
  if (!v || v->empty()) return std::nullopt;
  const auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
  if (ec != std::errc{} || end != v->data() + v->size()) return std::nullopt;
  return n;
}

}  // namespace

// ---- transferor ---------------------------------------------------------------------------------

sip::result<bool> phone::impl::start_transfer(std::string_view call_id, std::string_view target) {
  call_leg* c = find_call(call_id);
  if (c == nullptr) return sip::error{"no such call"};
  if (!established(*c)) return sip::error{"the call is not connected"};
  if (c->refer == refer_state::requested || c->refer == refer_state::active)
    return sip::error{"a transfer is already in progress"};
  auto uri = target_uri(target, "transfer target");
  if (!uri) return uri.err();
  // A subscription of an earlier REFER that lingers (decided) is forgotten: its NOTIFYs now
  // get 481, which ends it at the notifier (RFC 6665 §4.1.3).
  c->transfer_to = std::move(uri).value();
  const std::string refer_to = "<" + c->transfer_to + ">";
  const std::string referred_by = aor();
  const std::array<sip::extra_header, 2> h{
      {{.name = "Refer-To", .value = refer_to}, {.name = "Referred-By", .value = referred_by}}};
  const std::string branch = new_branch();
  std::string bytes = c->dialog->build_request({.method = sip::method::refer,
                                                .method_text = {},
                                                .via = via(branch),
                                                .contact = contact_uri(),
                                                .max_forwards = 70,
                                                .headers = h,
                                                .content_type = {},
                                                .body = {}});
  c->refer_cseq = c->dialog->local_cseq().value_or(0);
  c->refer = refer_state::requested;
  disarm_call(*c, call_timer::refer_subscription);
  client_txn* t = start_client(std::move(bytes), client_purpose::refer, c->id);
  c->refer_txn = t != nullptr ? t->id : 0;
  return true;
}

void phone::impl::on_refer_result(client_txn& t, int status) {
  if (status < 200) return;
  call_leg* c = find_call(t.call);
  if (c == nullptr || c->refer_txn != t.id) return;
  c->refer_txn = 0;
  if (status < 300) {
    // RFC 3515 §2.4.4: the NOTIFYs follow (one may have come first: then it armed the timer).
    if (c->refer == refer_state::requested) {
      c->refer = refer_state::active;
      arm_call(*c, call_timer::refer_subscription, 64 * profile_->timers.t1);
    }
    return;
  }
  end_refer(*c);  // refused (or Timer F): no subscription, the call goes on
  if (status == 481 || status == 408) end_call(*c, status, sip::default_reason(status), false);
}

void phone::impl::end_refer(call_leg& c) {
  c.refer = refer_state::none;
  disarm_call(c, call_timer::refer_subscription);
}

void phone::impl::on_refer_notify(call_leg& c, server_txn& t, const sip::message& m) {
  const std::string_view event = m.header(sip::header_id::event);
  const auto id = param_of(event, "id");
  if (c.refer == refer_state::none || !iequals(value_before_params(event), "refer") ||
      (id && number_of(id) != c.refer_cseq)) {
    respond_simple(t, m, 481, "Subscription Does Not Exist");
    return;
  }
  if (!iequals(value_before_params(m.content_type()), "message/sipfrag")) {
    const sip::extra_header accept{.name = "Accept", .value = "message/sipfrag"};
    respond_simple(t, m, 415, {}, {&accept, 1});
    return;
  }
  const auto frag = sipfrag_status(m.body());
  if (!frag) {
    respond_simple(t, m, 400, "Bad Sipfrag");
    return;
  }
  respond_simple(t, m, 200);

  const bool first = c.refer == refer_state::requested;
  if (frag->code < 200) {
    if (first) c.refer = refer_state::active;
  } else if (c.refer != refer_state::decided) {
    c.refer = refer_state::decided;
    if (frag->code < 300 && c.record.state != call_state::ending) {
      // RFC 5589 §6: the transferee reached the target; the transferor ends the call.
      c.transferred = true;
      emit(event_kind::call_transferred, frag->code, c.transfer_to, &c.record);
      static_cast<void>(hangup_call(c));
    }
    // 3xx-6xx: the transfer failed; the call stays as it is.
  }

  const std::string_view state = m.header(sip::header_id::subscription_state);
  if (iequals(value_before_params(state), "terminated")) {
    end_refer(c);
  } else if (const auto expires = number_of(param_of(state, "expires"))) {
    arm_call(c, call_timer::refer_subscription, std::chrono::seconds{*expires});
  } else if (first) {
    arm_call(c, call_timer::refer_subscription, 64 * profile_->timers.t1);
  }
}

// ---- transferee ---------------------------------------------------------------------------------

void phone::impl::on_refer(call_leg& c, server_txn& t, const sip::message& m) {
  const std::size_t n = m.count(sip::header_id::refer_to);
  if (n != 1) {
    respond_simple(t, m, 400, n == 0 ? "Missing Refer-To" : "Multiple Refer-To");
    return;
  }
  const auto to = sip::parse_name_addr(m.header(sip::header_id::refer_to));
  if (!to || to->wildcard || to->uri.text.empty()) {
    respond_simple(t, m, 400, "Bad Refer-To");
    return;
  }
  if (to->uri.scheme != sip::uri_scheme::sip && to->uri.scheme != sip::uri_scheme::sips) {
    respond_simple(t, m, 416);
    return;
  }
  if (!established(c)) {
    respond_simple(t, m, 403, "Call Not Connected");
    return;
  }
  if (c.notifying) {
    respond_simple(t, m, 491);
    return;
  }
  const std::string_view text = to->uri.text;
  const std::string target(text.substr(0, text.find('?')));  // URI headers dropped (see the top)
  respond_simple(t, m, 202);
  c.notifying = true;
  c.notify_id = m.cseq().number;
  emit(event_kind::call_transferred, 202, target, &c.record);
  const std::string active = "active;expires=" + std::to_string(granted_subscription.count());
  send_refer_notify(c, 100, "Trying", active);
  arm_call(c, call_timer::refer_notify, granted_subscription);

  auto placed =
      place_call(target, milliseconds{0},
                 {.referred_from = c.id, .referred_by = m.header(sip::header_id::referred_by)});
  if (!placed) {  // stopping, or no RTP port: the REFER was accepted, its outcome is a failure
    send_refer_notify(c, 503, {}, "terminated;reason=noresource");
    return;
  }
  if (call_leg* p = find_call(*placed); p != nullptr && p->referred_from == c.id)
    c.refer_call = p->id;
}

// The call placed for a REFER got its final response (or ended without one): the NOTIFY that
// ends the subscription. Called once per call: the link is cut here.
void phone::impl::report_to_referrer(call_leg& placed, int code, std::string_view reason) {
  const std::uint32_t from = std::exchange(placed.referred_from, 0);
  call_leg* c = find_call(from);
  if (c == nullptr || c->refer_call != placed.id) return;
  c->refer_call = 0;
  send_refer_notify(*c, code, reason, "terminated;reason=noresource");
}

void phone::impl::send_refer_notify(call_leg& c, int code, std::string_view reason,
                                    std::string_view subscription_state) {
  // Nothing more in a dialog we are ending (our BYE is out).
  if (!c.notifying || !c.dialog || c.dead || c.record.state == call_state::ending) return;
  const std::string event = "refer;id=" + std::to_string(c.notify_id);
  const std::string frag = "SIP/2.0 " + std::to_string(code) + " " +
                           std::string(reason.empty() ? sip::default_reason(code) : reason) +
                           "\r\n";
  const std::array<sip::extra_header, 2> h{
      {{.name = "Event", .value = event},
       {.name = "Subscription-State", .value = subscription_state}}};
  const std::string branch = new_branch();
  std::string bytes = c.dialog->build_request({.method = sip::method::notify,
                                               .method_text = {},
                                               .via = via(branch),
                                               .contact = contact_uri(),  // RFC 6665 §4.2.2
                                               .max_forwards = 70,
                                               .headers = h,
                                               .content_type = "message/sipfrag",
                                               .body = frag});
  if (value_before_params(subscription_state) == "terminated") {
    c.notifying = false;
    disarm_call(c, call_timer::refer_notify);
  }
  start_client(std::move(bytes), client_purpose::notify, c.id);
}

// RFC 6665 §4.2.2: a NOTIFY refused or timed out ends the subscription at the notifier.
void phone::impl::on_notify_result(client_txn& t, int status) {
  if (status < 300) return;
  call_leg* c = find_call(t.call);
  if (c == nullptr) return;
  c->notifying = false;
  disarm_call(*c, call_timer::refer_notify);
}

// The 60 s granted ran out before the new call's final response: the last NOTIFY says where
// it stands (RFC 6665 §4.2.2: terminated;reason=timeout); the new call goes on unreported.
void phone::impl::on_refer_notify_timer(call_leg& c) {
  if (!c.notifying) return;
  call_leg* placed = find_call(c.refer_call);
  const bool ringing = placed != nullptr && placed->record.ringing.has_value();
  if (placed != nullptr) placed->referred_from = 0;
  c.refer_call = 0;
  send_refer_notify(c, ringing ? 180 : 100, {}, "terminated;reason=timeout");
}

}  // namespace sipfleet::ua
