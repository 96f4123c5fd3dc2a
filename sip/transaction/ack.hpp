// The ACK an INVITE client transaction sends for a non-2xx final response (RFC 3261 §17.1.1.3).
// The machine (client_invite) only says when: `send_ack`; the actor builds the bytes once with
// build_ack and keeps them for the retransmissions the Completed state answers.
//
// §17.1.1.3: the ACK has the Request-URI of the INVITE, the same Call-ID and From, the CSeq
// number of the INVITE with method ACK, the To of the response (with its tag), one Via equal to
// the INVITE's top Via, and the INVITE's Route header fields; we add Max-Forwards: 70 (§8.1.1.6)
// and Content-Length: 0.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "sip/message.hpp"

namespace sipfleet::sip::transaction {

struct ack_fields {
  std::string_view request_uri;              // the INVITE's Request-URI, as written
  std::string_view via;                      // the INVITE's top Via value
  std::string_view from;                     // the INVITE's From value
  std::string_view to;                       // the response's To value, with the tag it added
  std::string_view call_id;                  // the INVITE's Call-ID
  std::uint32_t cseq_number = 0;             // the INVITE's CSeq number
  std::span<const std::string_view> routes;  // the INVITE's Route values, in order
};

// The ACK request as text, ready for the transport.
std::string build_ack(const ack_fields& f);

// The same from the parsed INVITE and its non-2xx final response.
std::string build_ack(const message& invite, const message& response);

}  // namespace sipfleet::sip::transaction
