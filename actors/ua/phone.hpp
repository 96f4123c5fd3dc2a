// One simulated phone's SIP user agent, sans I/O: the behaviour of the Cisco SIP IP Phone
// (shared/PHONE-BEHAVIOUR.md) on top of the sip/ core. No sockets, threads or clocks: the phone
// actor (actors/phone_actor.cpp) feeds it messages, timers and commands, and carries out what
// it asks through `environment`. Everything here is testable with a fake clock and a fake
// network (tests/ua).
//
// Addressing: the phone's identity is (node, user); `route_key` is put in every branch the
// phone generates ("z9hG4bK" + route_key + "." + random) so that the transport can route a
// response to the phone without a dialog table. Requests reach it by Request-URI user (the
// Contact it registers is sip:USER@LOCAL_IP:PORT).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sip/message.hpp"
#include "sip/offer_answer.hpp"
#include "sip/result.hpp"
#include "sip/transaction/timers.hpp"
#include "rtp/stream_summary.hpp"

namespace sipfleet::ua {

using clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

enum class transport_kind : std::uint8_t { udp, tcp };

struct endpoint {
  std::string host;  // an IP address literal ("127.0.0.1", "::1")
  std::uint16_t port = 0;
  bool operator==(const endpoint&) const = default;
};

// How the phone treats incoming calls (PHONE-BEHAVIOUR.md; the API's PATCH /v1/phones/{user}).
enum class answer_mode : std::uint8_t { automatic, manual, reject };

struct behaviour {
  answer_mode answer = answer_mode::automatic;
  milliseconds answer_delay{0};  // ringing time before an automatic answer
  int reject_code = 486;         // answer_mode::reject
  bool dnd = false;              // do-not-disturb: 480 Temporarily Unavailable
  std::string forward_to{};      // non-empty: 302 Moved Temporarily to this user or URI
  milliseconds invite_expiry{180000};  // the phone's own INVITE expiry timer (-> 408 / CANCEL)
  bool operator==(const behaviour&) const = default;
};

struct phone_config {
  std::string user;      // "1001": the user part of the AOR, the Contact and the auth username
  std::string domain;    // "sipfleet.test": AOR host, Request-URI host for calls to a user
  std::string password;  // digest password; never logged, printed or returned
  endpoint proxy;        // outbound proxy and registrar: every request is sent here
  endpoint local;        // the address the phone's socket is bound to (Contact, Via)
  transport_kind transport = transport_kind::udp;
  std::string route_key;           // unique per phone in the process (see the top of the file)
  std::uint32_t expires = 3600;    // requested registration lifetime, seconds; 0: never register
  sip::transaction::timer_config timers{};
  sipfleet::ua::behaviour behaviour{};
  std::string rtp_address{};       // SDP c= address; empty: local.host
  std::uint16_t rtp_port = 0;      // SDP m= port when the environment has no media (media_open 0)
  sip::audio_codec codec = sip::audio_codec::pcmu;  // offered first; both G.711 laws accepted
  std::string dtmf_after_answer{};  // digits an outgoing call sends once answered (RFC 4733)
  std::string user_agent = "sipfleet";
};

enum class registration_state : std::uint8_t {
  unregistered,   // never registered, or unregistered on purpose
  registering,    // REGISTER in flight (first one, a refresh, or a retry)
  registered,     // the registrar granted a binding; a refresh is scheduled
  failed,         // the last attempt failed; a retry with back-off is scheduled
  unregistering,  // REGISTER with Expires: 0 in flight
};

enum class call_state : std::uint8_t {
  calling,    // outgoing INVITE sent, no provisional with a tag yet
  ringing,    // outgoing: 180/183 received; incoming: we sent 180 and alert
  connected,  // 2xx sent/received (and ACKed)
  held,       // connected, on hold by either side (sendonly/recvonly/inactive)
  ending,     // BYE or CANCEL sent, waiting for its response
  ended,
};

// A call's media as measured at its end; `started` is false when no stream ran for the call.
using media_stats = rtp::stream_summary;

// What a person would read off the phone's call history.
struct call_record {
  std::string call_id;
  bool outgoing = true;
  std::string peer;                  // the other party's user (or URI)
  clock::time_point started{};       // INVITE sent or received
  std::optional<clock::time_point> ringing{};   // first 180/183
  std::optional<clock::time_point> answered{};  // 2xx
  std::optional<clock::time_point> ended{};
  int end_code = 0;                  // final SIP code that decided the call (200 when answered
                                     // and hung up normally; 486, 487, 404, 408, ...)
  std::string end_reason;            // e.g. "Busy Here", "Request Terminated", "BYE from peer"
  bool ended_by_us = false;
  std::uint32_t retransmissions = 0; // SIP retransmissions this call caused (both directions)
  call_state state = call_state::calling;
  media_stats media{};               // filled in when the call ends
};

// Aggregate counters a phone keeps; the actors add them up for the run report.
struct phone_counters {
  std::uint64_t registrations_succeeded = 0;
  std::uint64_t registrations_failed = 0;
  std::uint64_t calls_attempted = 0;      // outgoing INVITEs started
  std::uint64_t calls_answered = 0;       // outgoing calls that got a 2xx
  std::uint64_t calls_failed = 0;         // outgoing calls that ended without a 2xx (not cancelled by us)
  std::uint64_t calls_received = 0;       // incoming INVITEs that created a call
  std::uint64_t retransmissions = 0;      // every SIP retransmission sent
  std::uint64_t parse_errors = 0;         // malformed messages handed to the phone (answered 400)
};

enum class event_kind : std::uint8_t {
  registered,            // code = 200, detail = granted expiry in seconds as text
  registration_failed,   // code = the failing SIP code, or 408 on timeout, 503 on transport error
  unregistered,
  call_created,          // record: outgoing or incoming, peer
  call_ringing,
  call_answered,
  call_held,
  call_resumed,
  call_ended,            // record has end_code/end_reason
  retransmission,        // one SIP retransmission was sent (for metrics)
  // Blind transfer (RFC 3515), reason = the Refer-To URI, record = the original call. The
  // transferor: code = 200 when the transferee's NOTIFY reported the new call answered (our
  // BYE for the original call follows); the transferee: code = 202 when it accepted the REFER
  // (its new call to the target follows, with its own call_created).
  call_transferred,
  // A digit heard on a call's stream (RFC 4733), code = the digit. Not raised by the phone
  // itself: the phone actor reports it as the media engine detects it.
  dtmf_received,
};

struct phone_event {
  event_kind kind;
  int code = 0;
  std::string_view reason{};
  const call_record* record = nullptr;  // for call_* events; valid during the callback only
};

// An opaque timer handle: the phone arms it, the environment hands it back when it fires. The
// phone cancels the timers it no longer needs (a response stopped Timer E); an environment
// that cannot cancel may still deliver them: a stale token is ignored by the phone.
struct timer_token {
  std::uint32_t slot = 0;
  std::uint32_t generation = 0;
};

// What the phone needs from the outside world. The phone actor implements it.
class environment {
 public:
  virtual ~environment() = default;
  // Send these bytes to `to` over the phone's transport (UDP datagram / TCP stream).
  virtual void send(const endpoint& to, std::string_view bytes) = 0;
  // Call phone::on_timer(token) after `after`.
  virtual void start_timer(timer_token token, milliseconds after) = 0;
  // The timer `token` is no longer wanted (best effort: firing it anyway is harmless).
  virtual void cancel_timer(timer_token token) = 0;
  virtual void on_event(const phone_event& event) = 0;
  virtual clock::time_point now() const = 0;

  // Media (the phone actor carries it out with rtp::engine; the defaults mean "no media").
  // `key` names the stream within the phone. media_open returns the RTP port to put in the
  // SDP; 0 when this environment carries no media (the phone then offers config.rtp_port);
  // -1 when it does but has no port now (the phone then does not place or take the call).
  virtual std::int32_t media_open(std::uint32_t /*key*/, std::string_view /*address*/) { return 0; }
  // Offer/answer completed (initial, or a re-INVITE): stream with these settings.
  virtual void media_start(std::uint32_t /*key*/, const sip::negotiated_media& /*m*/) {}
  // The call is over: stop the stream and fill in its figures.
  virtual void media_close(std::uint32_t /*key*/, media_stats& /*out*/) {}
  // Send these digits on the stream as RFC 4733 events.
  virtual void media_dtmf(std::uint32_t /*key*/, std::string_view /*digits*/) {}
};

class phone {
 public:
  // `seed` seeds the phone's branch/tag/Call-ID/cnonce generator.
  phone(phone_config config, environment& env, std::uint64_t seed);
  ~phone();
  phone(const phone&) = delete;
  phone& operator=(const phone&) = delete;

  // Registers (when expires > 0); retries with back-off after failures and timeouts.
  void start();
  // Hangs up every call (BYE, or CANCEL before answer), then unregisters (Expires: 0). Emits
  // `unregistered` when done or when the REGISTER times out.
  void stop();
  // A message that arrived on the phone's transport from `from` (already parsed).
  void on_message(const sip::message& message, const endpoint& from);
  // Bytes that did not parse: answer 400 with the parser's reason when they look like a
  // request whose Via/Call-ID/CSeq can be recovered, count it either way.
  void on_malformed(std::string_view bytes, std::string_view reason, const endpoint& from);
  void on_timer(timer_token token);

  // Commands. `target` is a user ("1002", sent to sip:1002@domain) or a SIP URI. hold = 0 keeps
  // the call up until hangup(); otherwise the phone sends BYE that long after the answer.
  sip::result<std::string> call(std::string_view target, milliseconds hold);  // -> Call-ID
  sip::result<bool> answer(std::string_view call_id);
  sip::result<bool> hangup(std::string_view call_id);
  sip::result<bool> hold(std::string_view call_id);
  sip::result<bool> resume(std::string_view call_id);
  // Blind transfer of a connected or held call to `target` (a user or a SIP URI, as call()):
  // REFER in the call's dialog (RFC 3515). true once the REFER is sent; the outcome comes
  // later: call_transferred and the call ending ("transferred") when the transferee reports
  // the new call answered; the call stays up when the REFER or the new call fails.
  sip::result<bool> transfer(std::string_view call_id, std::string_view target);
  // Sends DTMF digits (0-9 * # A-D) on an answered call's stream as RFC 4733 events.
  sip::result<bool> dtmf(std::string_view call_id, std::string_view digits);
  void set_behaviour(const sipfleet::ua::behaviour& b);
  const sipfleet::ua::behaviour& current_behaviour() const;
  const std::string& user() const;
  const std::string& domain() const;

  registration_state registration() const;
  std::uint32_t granted_expires() const;     // seconds the registrar granted (0 if none)
  std::size_t active_calls() const;          // calls not ended
  bool busy() const { return active_calls() > 0; }
  const phone_counters& counters() const;
  // Ended calls since the last take (the actor moves them to the report).
  std::vector<call_record> take_finished_calls();
  // Calls in progress (for the API).
  std::vector<call_record> current_calls() const;
  // The call in progress whose stream the environment opened as media `key`.
  std::optional<call_record> call_with_media(std::uint32_t key) const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace sipfleet::ua
