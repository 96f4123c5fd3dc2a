// Request, response and CANCEL builders (RFC 3261 §8.1.1, §8.2.6, §9.1). Each computes an upper
// bound of its output size first, reserves once, then appends.
#include "sip/builder.hpp"

#include <algorithm>
#include <array>
#include <charconv>

namespace sipfleet::sip {
namespace {

constexpr std::string_view k_crlf = "\r\n";
// "Name: " + CRLF around each header value.
constexpr std::size_t k_line_overhead = 4;
// Room for the fixed parts of a message: start line, numbers, Max-Forwards, Content-Length.
constexpr std::size_t k_fixed = 160;

struct reason_row {
  int code;
  std::string_view phrase;
};

// RFC 3261 §21 (202: RFC 3515; 489: RFC 6665), sorted by code.
constexpr std::array<reason_row, 52> k_reasons{{
    {100, "Trying"},
    {180, "Ringing"},
    {181, "Call Is Being Forwarded"},
    {182, "Queued"},
    {183, "Session Progress"},
    {200, "OK"},
    {202, "Accepted"},
    {300, "Multiple Choices"},
    {301, "Moved Permanently"},
    {302, "Moved Temporarily"},
    {305, "Use Proxy"},
    {380, "Alternative Service"},
    {400, "Bad Request"},
    {401, "Unauthorized"},
    {402, "Payment Required"},
    {403, "Forbidden"},
    {404, "Not Found"},
    {405, "Method Not Allowed"},
    {406, "Not Acceptable"},
    {407, "Proxy Authentication Required"},
    {408, "Request Timeout"},
    {410, "Gone"},
    {413, "Request Entity Too Large"},
    {414, "Request-URI Too Long"},
    {415, "Unsupported Media Type"},
    {416, "Unsupported URI Scheme"},
    {420, "Bad Extension"},
    {421, "Extension Required"},
    {423, "Interval Too Brief"},
    {480, "Temporarily Unavailable"},
    {481, "Call/Transaction Does Not Exist"},
    {482, "Loop Detected"},
    {483, "Too Many Hops"},
    {484, "Address Incomplete"},
    {485, "Ambiguous"},
    {486, "Busy Here"},
    {487, "Request Terminated"},
    {488, "Not Acceptable Here"},
    {489, "Bad Event"},
    {491, "Request Pending"},
    {493, "Undecipherable"},
    {500, "Server Internal Error"},
    {501, "Not Implemented"},
    {502, "Bad Gateway"},
    {503, "Service Unavailable"},
    {504, "Server Time-out"},
    {505, "Version Not Supported"},
    {513, "Message Too Large"},
    {600, "Busy Everywhere"},
    {603, "Decline"},
    {604, "Does Not Exist Anywhere"},
    {606, "Not Acceptable"},
}};

// A number as text without allocating.
class number_text {
 public:
  explicit number_text(std::uint64_t v) {
    size_ = static_cast<std::size_t>(std::to_chars(buf_, buf_ + sizeof buf_, v).ptr - buf_);
  }
  std::string_view view() const { return {buf_, size_}; }

 private:
  char buf_[20];
  std::size_t size_ = 0;
};

class writer {
 public:
  explicit writer(std::string& out) : out_(out) {}

  void header(std::string_view name, std::string_view value) {
    out_.append(name).append(": ").append(value).append(k_crlf);
  }
  void header(std::string_view name, std::uint64_t value) {
    header(name, number_text(value).view());
  }
  // A name-addr, or a bare URI put in brackets (§20.10), plus an optional tag (§19.3).
  void address(std::string_view name, std::string_view addr, std::string_view tag) {
    out_.append(name).append(": ");
    if (addr == "*" || addr.find('<') != std::string_view::npos) {
      out_.append(addr);
    } else {
      out_.append(1, '<').append(addr).append(1, '>');
    }
    if (!tag.empty()) out_.append(";tag=").append(tag);
    out_.append(k_crlf);
  }
  // A value copied as written, plus an optional tag: a response's To (§8.2.6.2).
  void tagged(std::string_view name, std::string_view value, std::string_view tag) {
    out_.append(name).append(": ").append(value);
    if (!tag.empty()) out_.append(";tag=").append(tag);
    out_.append(k_crlf);
  }
  void cseq(std::uint32_t number, std::string_view method) {
    out_.append("CSeq: ").append(number_text(number).view()).append(1, ' ').append(method);
    out_.append(k_crlf);
  }
  void extras(std::span<const extra_header> headers) {
    for (const auto& h : headers) header(h.name, h.value);
  }
  // Content-Type (when there is one), Content-Length, the blank line and the body (§7.4, §7.5).
  void body(std::string_view content_type, std::string_view body) {
    if (!content_type.empty()) header("Content-Type", content_type);
    header("Content-Length", body.size());
    out_.append(k_crlf).append(body);
  }

 private:
  std::string& out_;
};

std::size_t extras_size(std::span<const extra_header> headers) {
  std::size_t n = 0;
  for (const auto& h : headers) n += h.name.size() + h.value.size() + k_line_overhead;
  return n;
}

std::string_view request_method_text(const request_options& o) {
  return o.method == method::unknown ? o.method_text : method_name(o.method);
}

void write_via(std::string& out, const via_spec& v) {
  out.append("Via: SIP/2.0/").append(via_transport_name(v.transport)).append(1, ' ');
  const bool ipv6 = v.host.find(':') != std::string_view::npos && v.host.front() != '[';
  if (ipv6) out.append(1, '[');
  out.append(v.host);
  if (ipv6) out.append(1, ']');
  if (v.port != 0) out.append(1, ':').append(number_text(v.port).view());
  if (!v.branch.empty()) out.append(";branch=").append(v.branch);
  if (v.rport) out.append(";rport");
  out.append(k_crlf);
}

}  // namespace

std::string_view via_transport_name(via_transport t) {
  switch (t) {
    case via_transport::udp:
      return "UDP";
    case via_transport::tcp:
      return "TCP";
    case via_transport::tls:
      return "TLS";
  }
  return "UDP";
}

void write_request(std::string& out, const request_options& o) {
  const std::string_view method = request_method_text(o);
  std::size_t size = k_fixed + 2 * method.size() + 2 * o.request_uri.size() + o.via.host.size() +
                     o.via.branch.size() + o.from.size() + o.from_tag.size() + o.to.size() +
                     o.to_tag.size() + o.call_id.size() + o.contact.size() + o.content_type.size() +
                     o.body.size() + extras_size(o.headers) + 6 * k_line_overhead + 3 * 16;
  for (std::string_view r : o.routes) size += r.size() + 2 + k_line_overhead + 6;
  out.reserve(out.size() + size);

  // Request-Line (§7.1).
  out.append(method).append(1, ' ').append(o.request_uri).append(" SIP/2.0\r\n");
  write_via(out, o.via);  // §8.1.1.7
  writer w(out);
  w.header("Max-Forwards", o.max_forwards);  // §8.1.1.6
  // §8.1.2: a UA with a preloaded route set puts it in Route headers, in order.
  for (std::string_view r : o.routes) w.address("Route", r, {});
  w.address("From", o.from, o.from_tag);  // §8.1.1.3
  w.address("To", o.to, o.to_tag);        // §8.1.1.2
  w.header("Call-ID", o.call_id);         // §8.1.1.4
  w.cseq(o.cseq, method);                 // §8.1.1.5
  // §8.1.1.8
  if (!o.contact.empty()) w.address("Contact", o.contact, {});
  w.extras(o.headers);
  w.body(o.content_type, o.body);
}

std::string build_request(const request_options& o) {
  std::string out;
  write_request(out, o);
  return out;
}

void write_response(std::string& out, const message& request, const response_options& o) {
  const bool trying = o.status == 100;
  const bool may_create_dialog = o.status > 100 && o.status < 300;
  const std::string_view reason = o.reason.empty() ? default_reason(o.status) : o.reason;
  const bool add_tag = !trying && request.to().tag.empty() && !o.to_tag.empty();

  // Size: the request headers that are copied, plus everything from the options.
  std::size_t size = k_fixed + reason.size() + o.contact.size() + o.to_tag.size() +
                     o.content_type.size() + o.body.size() + extras_size(o.headers);
  for (const auto& h : request.headers()) {
    switch (h.id) {
      case header_id::via:
      case header_id::from:
      case header_id::to:
      case header_id::call_id:
      case header_id::cseq:
      case header_id::record_route:
      case header_id::timestamp:
        size += h.value.size() + 16 + k_line_overhead;
        break;
      default:
        break;
    }
  }
  out.reserve(out.size() + size);

  // Status-Line (§7.2).
  out.append("SIP/2.0 ").append(number_text(static_cast<std::uint64_t>(o.status)).view());
  out.append(1, ' ').append(reason).append(k_crlf);
  writer w(out);
  // §8.2.6.2: the Via values in the same order as in the request, then From, Call-ID and CSeq
  // equal to the request's, and To equal to the request's plus our tag if it had none.
  request.for_each(header_id::via, [&](std::string_view v) { w.header("Via", v); });
  w.header("From", request.header(header_id::from));
  w.tagged("To", request.header(header_id::to), add_tag ? o.to_tag : std::string_view{});
  w.header("Call-ID", request.call_id());
  w.header("CSeq", request.header(header_id::cseq));
  if (o.copy_record_route && may_create_dialog)  // §12.1.1
    request.for_each(header_id::record_route,
                     [&](std::string_view v) { w.header("Record-Route", v); });
  // §8.2.6.1: a 100 Trying copies the request's Timestamp.
  if (trying && request.count(header_id::timestamp) > 0)
    w.header("Timestamp", request.header(header_id::timestamp));
  if (!o.contact.empty()) w.address("Contact", o.contact, {});
  w.extras(o.headers);
  w.body(o.content_type, o.body);
}

std::string build_response(const message& request, const response_options& o) {
  std::string out;
  write_response(out, request, o);
  return out;
}

std::string answer(const message& request, int status, std::string_view to_tag,
                   std::string_view reason) {
  return build_response(request, {.status = status, .reason = reason, .to_tag = to_tag});
}

std::string build_cancel(const message& invite, const cancel_options& o) {
  std::size_t size = k_fixed + 2 * invite.request_uri().text.size() + invite.call_id().size() +
                     invite.header(header_id::via).size() + invite.header(header_id::from).size() +
                     invite.header(header_id::to).size() + extras_size(o.headers) +
                     6 * k_line_overhead;
  invite.for_each(header_id::route,
                  [&](std::string_view r) { size += r.size() + 6 + k_line_overhead; });
  std::string out;
  out.reserve(size);

  // §9.1: same Request-URI, Call-ID, To, From (tags included) and CSeq number as the INVITE.
  out.append("CANCEL ").append(invite.request_uri().text).append(" SIP/2.0\r\n");
  writer w(out);
  // "A CANCEL constructed by a client MUST have only a single Via header field value matching
  // the top Via value in the request being cancelled."
  w.header("Via", invite.header(header_id::via));
  w.header("Max-Forwards", std::uint64_t{70});
  // "If the request being cancelled contains a Route header field, the CANCEL request MUST
  // include that Route header field's values."
  invite.for_each(header_id::route, [&](std::string_view r) { w.header("Route", r); });
  w.header("From", invite.header(header_id::from));
  w.header("To", invite.header(header_id::to));
  w.header("Call-ID", invite.call_id());
  w.cseq(invite.cseq().number, "CANCEL");
  w.extras(o.headers);
  w.body({}, {});
  return out;
}

std::string_view default_reason(int status) {
  const auto* it =
      std::lower_bound(k_reasons.begin(), k_reasons.end(), status,
                       [](const reason_row& row, int code) { return row.code < code; });
  if (it != k_reasons.end() && it->code == status) return it->phrase;
  if (status < 200) return "Session Progress";
  if (status < 300) return "OK";
  if (status < 400) return "Redirect";
  if (status < 500) return "Client Error";
  if (status < 600) return "Server Error";
  return "Global Failure";
}

}  // namespace sipfleet::sip
