// Building the ACK for a non-2xx final response: RFC 3261 §17.1.1.3.
#include "sip/transaction/ack.hpp"

#include <vector>

namespace sipfleet::sip::transaction {
namespace {

void line(std::string& out, std::string_view name, std::string_view value) {
  out.append(name).append(": ").append(value).append("\r\n");
}

}  // namespace

std::string build_ack(const ack_fields& f) {
  std::string out;
  out.reserve(256 + f.request_uri.size() + f.via.size() + f.from.size() + f.to.size());
  // "The Request-URI of the ACK MUST be the same as the Request-URI of the INVITE request".
  out.append("ACK ").append(f.request_uri).append(" SIP/2.0\r\n");
  // "The ACK MUST contain a single Via header field, and this MUST be equal to the top Via
  // header field of the original request."
  line(out, "Via", f.via);
  line(out, "Max-Forwards", "70");
  // "If the INVITE request ... had Route header fields, those header fields MUST appear in the
  // ACK" (in their order).
  for (std::string_view r : f.routes) line(out, "Route", r);
  line(out, "From", f.from);
  // "The To header field in the ACK MUST equal the To header field in the response".
  line(out, "To", f.to);
  line(out, "Call-ID", f.call_id);
  // "the CSeq header field in the ACK MUST contain the same value for the sequence number as
  // was present in the original request, but the method parameter MUST be equal to 'ACK'."
  out.append("CSeq: ").append(std::to_string(f.cseq_number)).append(" ACK\r\n");
  line(out, "Content-Length", "0");
  out.append("\r\n");
  return out;
}

std::string build_ack(const message& invite, const message& response) {
  std::vector<std::string_view> routes;
  invite.for_each(header_id::route, [&](std::string_view v) { routes.push_back(v); });
  return build_ack(ack_fields{.request_uri = invite.request_uri().text,
                              .via = invite.header(header_id::via),
                              .from = invite.header(header_id::from),
                              .to = response.header(header_id::to),
                              .call_id = invite.call_id(),
                              .cseq_number = invite.cseq().number,
                              .routes = routes});
}

}  // namespace sipfleet::sip::transaction
