// Building SIP requests and responses as bytes (RFC 3261 §8.1.1, §8.2.6, §9.1).
//
// This is on the hot path of thousands of phones, so every builder computes the size it needs,
// reserves once and appends: no iostreams, no temporary strings. The write_* forms append to a
// buffer the caller keeps, so a phone that reuses its buffer allocates nothing per message.
// Inputs are string_views: nothing is copied but into the output.
//
// Content-Length is always written and always equals the body size (§18.3, §20.14); every
// message built here parses with message::parse.
//
// Addresses (From, To, Contact, Route) may be given as a name-addr ("Alice <sip:a@b>") or as a
// bare URI ("sip:a@b"); a bare URI is written in angle brackets, so that URI parameters can never
// be read as header parameters (§20.10) and a tag can be appended safely.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "sip/message.hpp"
#include "sip/method.hpp"

namespace sipfleet::sip {

// The transport named in a Via (§20.42, §18).
enum class via_transport : std::uint8_t { udp, tcp, tls };
std::string_view via_transport_name(via_transport t);  // "UDP", "TCP", "TLS"

// The Via a UA puts on its own request (§8.1.1.7, §18.1.1).
struct via_spec {
  via_transport transport = via_transport::udp;
  std::string_view host{};    // sent-by host; an IPv6 address is written in brackets
  std::uint16_t port = 0;     // 0: no port written
  std::string_view branch{};  // the whole branch, "z9hG4bK..." (see make_branch)
  bool rport = false;         // RFC 3581 §3: ask for the response at the source port
};

// A header the builders have no field for, e.g. {"Allow", "INVITE, ACK, BYE"}.
struct extra_header {
  std::string_view name{};
  std::string_view value{};
};

// A request outside a dialog, or the parts of one a dialog fills in (§8.1.1).
struct request_options {
  sip::method method = sip::method::options;
  std::string_view method_text{};  // for extension methods (method::unknown) only
  std::string_view request_uri{};
  via_spec via{};
  std::string_view from{};      // name-addr or URI, without tag
  std::string_view from_tag{};  // §8.1.1.3: a new request always has one
  std::string_view to{};        // name-addr or URI, without tag
  std::string_view to_tag{};    // empty outside a dialog
  std::string_view call_id{};
  std::uint32_t cseq = 1;
  unsigned max_forwards = 70;                  // §8.1.1.6
  std::string_view contact{};                  // empty: none; name-addr, URI or "*"
  std::span<const std::string_view> routes{};  // Route values in order, e.g. "<sip:p1;lr>"
  std::span<const extra_header> headers{};
  std::string_view content_type{};  // written when non-empty
  std::string_view body{};
};

// A response to a parsed request (§8.2.6).
struct response_options {
  int status = 200;
  std::string_view reason{};  // empty: the §21 phrase for the code
  // §8.2.6.2: added to To when the request's To has no tag, except on 100 Trying. A request that
  // already has a To tag (a request inside a dialog) keeps its own.
  std::string_view to_tag{};
  std::string_view contact{};  // empty: none
  // §12.1.1: a UAS copies the request's Record-Route values into the responses that can create a
  // dialog (101-299), in order.
  bool copy_record_route = true;
  std::span<const extra_header> headers{};
  std::string_view content_type{};
  std::string_view body{};
};

// A CANCEL for an INVITE we sent (§9.1).
struct cancel_options {
  std::span<const extra_header> headers{};  // e.g. a Reason header (RFC 3326)
};

std::string build_request(const request_options& o);
void write_request(std::string& out, const request_options& o);  // appends to out

std::string build_response(const message& request, const response_options& o);
void write_response(std::string& out, const message& request, const response_options& o);

// The common case: "answer this request with code [reason]". The To tag is used only when the
// request's To has none and the code is above 100; stateless answers (400, 481, 500...) can
// pass a fresh make_tag().
std::string answer(const message& request, int status, std::string_view to_tag = {},
                   std::string_view reason = {});

// §9.1: the CANCEL has the INVITE's Request-URI, Call-ID, From, To and CSeq number (method
// CANCEL), a single Via equal to the INVITE's top Via, and the INVITE's Route headers.
std::string build_cancel(const message& invite, const cancel_options& o = {});

// The reason phrase RFC 3261 §21 (and the RFCs sipfleet meets) gives a status code; a generic
// phrase for the class when the code is not listed.
std::string_view default_reason(int status);

}  // namespace sipfleet::sip
