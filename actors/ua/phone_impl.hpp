// The inside of ua::phone (phone.hpp): the state one simulated phone keeps and the helpers the
// .cpp files share. Not part of the public API; only actors/ua/*.cpp include it.
//
//   phone.cpp            facade, timer slots, sending, events, the incoming-message dispatch
//   transactions.cpp     the four RFC 3261 §17 machines driven for every request sent/received
//   registration.cpp     REGISTER, digest, refresh, back-off, unregistration (RFC 3261 §10)
//   outgoing_calls.cpp   our INVITE, CANCEL, BYE, re-INVITE (hold/resume) and their responses
//   incoming_calls.cpp   incoming INVITE, answer, CANCEL, in-dialog requests, 2xx retransmission
//   transfer.cpp         blind transfer: our REFER and its NOTIFYs, the peer's REFER (RFC 3515)
//   server_requests.cpp  out-of-dialog requests (OPTIONS, 405, 416, 420, 481), malformed 400,
//                        header-value helpers (iequals, trim, value_before_params)
//
// Memory: an idle registered phone holds its config, the digest cache and a few small strings;
// transactions, calls, dialogs and message bytes exist only while something is in flight.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "actors/ua/phone.hpp"
#include "sip/builder.hpp"
#include "sip/dialog.hpp"
#include "sip/digest.hpp"
#include "sip/identifiers.hpp"
#include "sip/message.hpp"
#include "sip/offer_answer.hpp"
#include "sip/transaction/ack.hpp"
#include "sip/transaction/client_invite.hpp"
#include "sip/transaction/client_non_invite.hpp"
#include "sip/transaction/matching.hpp"
#include "sip/transaction/server_invite.hpp"
#include "sip/transaction/server_non_invite.hpp"

namespace sipfleet::ua::detail {

namespace txn = sip::transaction;

// A phone's settings, split: what the fleet's phones share (everything but who the phone is)
// is interned (profile_of in phone.cpp), so 10,000 phones made from one prototype point at one
// copy: ~270 bytes less per phone than a phone_config each. The password is not kept here: the
// digest client holds the only copy.
struct phone_profile {
  std::string domain;
  endpoint proxy;
  transport_kind transport = transport_kind::udp;
  std::uint32_t expires = 3600;
  sip::transaction::timer_config timers{};
  sipfleet::ua::behaviour behaviour{};
  std::string rtp_address{};
  std::string user_agent{};
  sip::audio_codec codec = sip::audio_codec::pcmu;
  std::string dtmf_after_answer{};
  bool operator==(const phone_profile&) const = default;
};

struct phone_identity {
  std::string user;
  std::string route_key;
  endpoint local;
  std::uint16_t rtp_port = 0;
};

// The shared profile equal to `p` (one is made when none is alive).
std::shared_ptr<const phone_profile> profile_of(phone_profile p);

// What a client transaction was started for: who gets its response.
enum class client_purpose : std::uint8_t { register_, invite, cancel, bye, reinvite, refer, notify };

struct client_txn {
  client_txn(std::uint32_t id_, client_purpose purpose_, std::uint32_t call_, sip::message request_,
             const txn::options& opts);
  // A request that is not an INVITE: its key read from the bytes, parsed only if asked (parsed()).
  client_txn(std::uint32_t id_, client_purpose purpose_, std::uint32_t call_, std::string raw_,
             txn::client_key key_, const txn::options& opts);

  // The request as a message: an INVITE's is parsed when sent; another's on first use (a 401
  // or 407 asks which credentials it carried). Null once the request is freed.
  const sip::message* parsed();
  // The request's bytes as sent; empty once freed.
  std::string_view bytes() const { return request ? request->raw() : std::string_view(raw); }
  void free_request() {
    request.reset();
    std::string().swap(raw);  // (assigning an empty string would keep the buffer)
  }

  std::uint32_t id = 0;
  client_purpose purpose = client_purpose::register_;
  std::uint32_t call = 0;  // the call it belongs to; 0: registration
  std::variant<txn::client_invite, txn::client_non_invite> machine;
  txn::client_key key;
  // As sent, in one of two forms: `request` parsed (an INVITE: its fields make the ACK, CANCEL
  // and dialog), or `raw`, the bytes alone (any other request). A non-INVITE one is
  // freed at the final response (Timer K only absorbs retransmitted responses, §17.1.2.2): a
  // fleet registering holds thousands of transactions in Completed. Behind a pointer: a
  // message is 768 bytes even when empty, and Completed lasts T4 (5 s) after each REGISTER.
  std::unique_ptr<sip::message> request;
  std::string raw;
  std::string ack;       // the ACK for its final response (non-2xx: §17.1.1.3; 2xx: §13.2.2.4)
  bool dead = false;     // Terminated: erased at the end of the current entry point
};

struct server_txn {
  server_txn(std::uint32_t id_, bool invite, txn::server_key key_, endpoint from_,
             const txn::options& opts);

  std::uint32_t id = 0;
  std::variant<txn::server_invite, txn::server_non_invite> machine;
  txn::server_key key;
  endpoint from;                         // where responses go (the source, RFC 3581)
  std::unique_ptr<sip::message> request;  // INVITE only, kept while a final response is due
  std::string last_response;             // what the machine's send_response resends
  std::uint32_t call = 0;
  bool dead = false;
};

// Phone-level timers of a call; each has its own generation so a stale one is a no-op.
enum class call_timer : std::uint8_t {
  expiry,          // our INVITE expiry (behaviour.invite_expiry): CANCEL, end with 408
  answer,          // automatic answer after behaviour.answer_delay
  hold_bye,        // BYE `hold` after the answer
  retransmit_2xx,  // UAS 2xx retransmission until ACK (§13.3.1.4)
  glare,           // re-INVITE retry after 491 (§14.1)
  cancel_guard,    // §9.1: 64*T1 after CANCEL without a final response: give up
  refer_subscription,  // transferor: the REFER's implicit subscription runs out (RFC 6665 §4.1.2.4)
  refer_notify,        // transferee: the subscription we granted (60 s) runs out (RFC 6665 §4.2.2)
  count_,
};

enum class reinvite_op : std::uint8_t { none, hold, resume };

// Our REFER (the transferor's side, transfer.cpp).
enum class refer_state : std::uint8_t {
  none,
  requested,  // REFER sent, no final response and no NOTIFY yet
  active,     // the implicit subscription runs, the new call's outcome is not known yet
  decided,    // a final sipfrag came; the subscription lingers until it is terminated
};

struct call_leg {
  std::uint32_t id = 0;
  call_record record;
  std::optional<sip::dialog> dialog;
  std::optional<sip::media_session> media;
  std::uint32_t media_key = 0;  // the environment's stream for this call; 0: none
  std::string local_tag;  // From tag (outgoing) or To tag (incoming)
  std::string target;     // outgoing: the Request-URI of the INVITE
  std::uint32_t cseq = 0;          // outgoing: CSeq of the last initial INVITE
  std::uint32_t invite_txn = 0;    // client (outgoing) or server (incoming) INVITE transaction
  std::uint32_t reinvite_txn = 0;  // our re-INVITE in flight
  milliseconds hold{0};
  int auth_attempts = 0;
  bool provisional = false;    // a 1xx came: a CANCEL may be sent (§9.1)
  bool cancel_wanted = false;  // CANCEL due as soon as a provisional arrives
  bool cancel_sent = false;
  bool expired = false;        // our INVITE expiry fired: the call ends with 408
  bool hangup_by_us = false;
  bool awaiting_ack = false;   // incoming: 2xx sent, no ACK yet (§13.3.1.4)
  bool bye_after_ack = false;  // §15: the callee sends BYE only after the ACK
  bool offerless = false;      // incoming INVITE without SDP: offer in the 2xx, answer in ACK
  bool held_by_us = false;
  bool held_by_peer = false;
  bool dead = false;           // ended: its record moves to the finished list
  reinvite_op pending = reinvite_op::none;
  // Blind transfer (transfer.cpp). As the transferor: our REFER and its subscription.
  refer_state refer = refer_state::none;
  std::uint32_t refer_txn = 0;   // our REFER in flight
  std::uint32_t refer_cseq = 0;  // its CSeq: the id= of the NOTIFYs (RFC 3515 §2.4.6)
  std::string transfer_to;       // its Refer-To URI
  bool transferred = false;      // the BYE that follows a transfer: end_reason "transferred"
  // As the transferee: the peer's REFER we accepted, the call placed for it.
  bool notifying = false;        // NOTIFYs are due in this dialog
  std::uint32_t notify_id = 0;   // the peer's REFER CSeq
  std::uint32_t refer_call = 0;  // the call to the Refer-To target
  // The call placed for a REFER: the call in whose dialog its outcome is NOTIFYed.
  std::uint32_t referred_from = 0;
  std::string referred_by;       // copied into our INVITE (RFC 3892 §3)
  std::string last_2xx;        // incoming: the 2xx being retransmitted
  endpoint peer{};             // where that 2xx goes
  milliseconds retransmit_interval{0};
  milliseconds retransmit_armed{0};    // the timer now running
  milliseconds retransmit_elapsed{0};  // since the 2xx was first sent
  std::array<std::uint32_t, static_cast<std::size_t>(call_timer::count_)> timer_gen{};
};

// A call in which mid-call requests (re-INVITE, REFER) may be sent: answered, with a dialog,
// not being hung up.
inline bool established(const call_leg& c) {
  return c.record.answered && c.dialog &&
         (c.record.state == call_state::connected || c.record.state == call_state::held);
}

// Header values (server_requests.cpp): ASCII case-insensitive equality, blanks trimmed, and
// the part before the parameters ("message/sipfrag;version=2.0" -> "message/sipfrag").
bool iequals(std::string_view a, std::string_view b);
std::string_view trim(std::string_view s);
std::string_view value_before_params(std::string_view v);

// Where a call placed by the phone itself (not the user) comes from.
struct call_origin {
  std::uint32_t referred_from = 0;     // the call whose REFER asked for it (transfer.cpp)
  std::string_view referred_by{};      // that REFER's Referred-By
};

enum class timer_target : std::uint8_t { free, client, server, registration, call };
enum class registration_timer : std::uint8_t { refresh, retry };

// One armed timer. A slot is freed when its timer fires or when the phone cancels it because
// its owner no longer wants it (sweep()), and the slot generation moves on so the token can
// never match twice.
struct timer_slot {
  std::uint32_t generation = 1;
  timer_target target = timer_target::free;
  std::uint8_t which = 0;       // sip timer letter, registration_timer or call_timer
  std::uint32_t owner = 0;      // transaction or call id
  std::uint32_t owner_gen = 0;  // the machine's or the call's timer generation
};

}  // namespace sipfleet::ua::detail

namespace sipfleet::ua {

namespace txn = sip::transaction;

struct phone::impl {
  impl(phone_config config, environment& env, std::uint64_t seed);

  // ---- phone.cpp: plumbing ----
  std::string new_branch();
  std::string aor() const;          // <sip:USER@DOMAIN>
  std::string contact_uri() const;  // <sip:USER@HOST:PORT[;transport=tcp]>
  sip::via_spec via(std::string_view branch) const;
  txn::options txn_options() const;
  void send_to_proxy(std::string_view bytes);
  void emit(event_kind kind, int code = 0, std::string_view reason = {},
            const call_record* record = nullptr);
  void count_retransmission(std::uint32_t call_id);
  void arm(detail::timer_target target, std::uint8_t which, std::uint32_t owner,
           std::uint32_t owner_gen, milliseconds after);
  void arm_call(detail::call_leg& c, detail::call_timer t, milliseconds after);
  void disarm_call(detail::call_leg& c, detail::call_timer t);
  void fire(const timer_token& token);
  void sweep();  // erases dead transactions and calls (ended records go to finished_), cancels stale timers
  bool timer_live(const detail::timer_slot& s);
  detail::call_leg* find_call(std::uint32_t id);
  detail::call_leg* find_call(std::string_view call_id);
  detail::call_leg* find_call_by_dialog(const sip::message& m);
  detail::call_leg& new_call(bool outgoing, std::string call_id, std::string peer);
  void end_call(detail::call_leg& c, int code, std::string_view reason, bool by_us);
  void dispatch(const sip::message& m, const endpoint& from);
  // SDP settings for a new call; opens the call's stream in the environment under `key`.
  // None when the environment carries media but has no port for this call.
  std::optional<sip::local_media> local_media_for_call(std::uint32_t key);
  std::uint32_t new_media_key() { return ++next_media_key_; }
  void media_negotiated(detail::call_leg& c);  // offer/answer done: the stream follows it
  void stop_media(detail::call_leg& c);        // the stream ends; its figures go into the record

  // ---- transactions.cpp ----
  // nullptr only if our own bytes do not parse (a bug in a builder).
  detail::client_txn* start_client(std::string bytes, detail::client_purpose purpose,
                                   std::uint32_t call);
  detail::client_txn* find_client(std::uint32_t id);
  detail::server_txn* find_server(std::uint32_t id);
  void on_response(const sip::message& m);
  void run_client(detail::client_txn& t, const txn::action_list& actions,
                  const sip::message* response);
  // A new server transaction for a request (the INVITE one keeps a copy of the request).
  detail::server_txn* start_server(const sip::message& m, const endpoint& from);
  // §17.2.3: true when the request belonged to a server transaction (a retransmission, or the
  // ACK for a non-2xx) and needs nothing more from the TU.
  bool absorb_retransmission(const sip::message& m);
  void run_server(detail::server_txn& t, const txn::action_list& actions);
  void respond(detail::server_txn& t, std::string bytes, int status);
  void respond_simple(detail::server_txn& t, const sip::message& m, int status,
                      std::string_view reason = {},
                      std::span<const sip::extra_header> headers = {});
  void on_client_result(detail::client_txn& t, int status, const sip::message* response);
  void on_timer_client(const detail::timer_slot& s);
  void on_timer_server(const detail::timer_slot& s);

  // ---- registration.cpp ----
  void start_registration();
  void send_register(std::uint32_t expires);
  void on_register_result(detail::client_txn& t, int status, const sip::message* r);
  void registration_failed(int code, std::string_view reason);
  void on_registration_timer(detail::registration_timer which);
  void unregister();

  // ---- outgoing_calls.cpp ----
  // A user ("1002": sip:1002@domain) or a SIP URI, as a Request-URI; `what` names the
  // argument in the errors ("call target", "transfer target").
  sip::result<std::string> target_uri(std::string_view target, std::string_view what) const;
  sip::result<std::string> place_call(std::string_view target, milliseconds hold,
                                      const detail::call_origin& origin = {});
  void send_invite(detail::call_leg& c);
  void on_invite_result(detail::client_txn& t, int status, const sip::message* r);
  void on_invite_2xx(detail::call_leg& c, detail::client_txn& t, const sip::message& r);
  void send_cancel(detail::call_leg& c);
  void send_bye(detail::call_leg& c);
  void on_bye_result(detail::client_txn& t, int status);
  sip::result<bool> hangup_call(detail::call_leg& c);
  sip::result<bool> change_hold(std::string_view call_id, detail::reinvite_op op);
  void send_reinvite(detail::call_leg& c, detail::reinvite_op op);
  void on_reinvite_result(detail::client_txn& t, int status, const sip::message* r);
  void on_call_timer(detail::call_leg& c, detail::call_timer which);

  // ---- incoming_calls.cpp ----
  void on_new_invite(const sip::message& m, const endpoint& from);
  sip::result<bool> answer_call(detail::call_leg& c);
  void on_cancel(const sip::message& m, const endpoint& from);
  void on_ack(const sip::message& m);
  void on_in_dialog(const sip::message& m, const endpoint& from);
  void on_reinvite(detail::call_leg& c, detail::server_txn& t, const sip::message& m);
  void send_2xx(detail::call_leg& c, detail::server_txn& t, std::string bytes);
  void retransmit_2xx(detail::call_leg& c);
  void peer_hold_changed(detail::call_leg& c);

  // ---- transfer.cpp ----
  // Transferor: REFER, its final response, the NOTIFYs it brings, the subscription's end.
  sip::result<bool> start_transfer(std::string_view call_id, std::string_view target);
  void on_refer_result(detail::client_txn& t, int status);
  void on_refer_notify(detail::call_leg& c, detail::server_txn& t, const sip::message& m);
  void end_refer(detail::call_leg& c);
  // Transferee: the peer's REFER, the NOTIFYs that report the new call, their responses.
  void on_refer(detail::call_leg& c, detail::server_txn& t, const sip::message& m);
  void report_to_referrer(detail::call_leg& placed, int code, std::string_view reason);
  void send_refer_notify(detail::call_leg& c, int code, std::string_view reason,
                         std::string_view subscription_state);
  void on_notify_result(detail::client_txn& t, int status);
  void on_refer_notify_timer(detail::call_leg& c);

  // ---- server_requests.cpp ----
  // 416/404/420/415 checks shared by every incoming request; true when it answered.
  bool reject_invalid(detail::server_txn& t, const sip::message& m);
  void on_out_of_dialog(const sip::message& m, const endpoint& from);
  void answer_options(detail::server_txn& t, const sip::message& m);
  void malformed(std::string_view bytes, std::string_view reason, const endpoint& from);

  std::shared_ptr<const detail::phone_profile> profile_;
  detail::phone_identity me_;
  environment& env_;
  sip::random_source rng_;
  sip::digest_client digest_;
  phone_counters counters_{};

  // Registration (RFC 3261 §10.2: one Call-ID for every REGISTER to the registrar, CSeq up).
  registration_state reg_state_ = registration_state::unregistered;
  std::uint32_t granted_ = 0;
  std::uint32_t asked_ = 0;
  std::uint32_t reg_txn_ = 0;
  std::uint32_t reg_cseq_ = 0;
  std::uint32_t reg_timer_gen_ = 0;
  std::uint32_t reg_failures_ = 0;
  std::string reg_call_id_;
  std::string reg_tag_;
  bool stopping_ = false;

  std::vector<std::unique_ptr<detail::call_leg>> calls_;
  std::vector<call_record> finished_;
  std::vector<std::unique_ptr<detail::client_txn>> clients_;
  std::vector<std::unique_ptr<detail::server_txn>> servers_;
  std::uint32_t next_id_ = 0;
  std::uint16_t next_rtp_offset_ = 0;
  std::uint32_t next_media_key_ = 0;

  std::vector<detail::timer_slot> slots_;
  std::vector<std::uint32_t> free_slots_;
};

// Allow / Accept / Supported as a phone answers OPTIONS and 405 (PHONE-BEHAVIOUR.md).
inline constexpr std::string_view allowed_methods =
    "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE, REFER, NOTIFY";

}  // namespace sipfleet::ua
