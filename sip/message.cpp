// The SIP message parser (RFC 3261 §7, §18.3, §25). Copies the bytes once into an owned
// buffer, unfolds header lines in place (a fold becomes spaces, so views stay valid), indexes
// every header, and decodes the headers that transactions and dialogs need. Strict where
// RFC 3261 is strict (request line, CSeq, Content-Length, scalar ranges; RFC 4475 §3.1.2),
// lenient where it asks to be (LWS around ':' '/' ';' '=', compact forms, any letter case).
#include <array>
#include <cstring>

#include "sip/message.hpp"
#include "sip/scan.hpp"

namespace sipfleet::sip {

class parser {
 public:
  parser(message& m, const parse_options& options) : m_(m), options_(options) {}

  result<bool> run(std::string_view bytes);

 private:
  result<bool> start_line(std::string_view line);
  result<bool> header_line(std::string_view line);
  result<bool> decode_headers();
  result<bool> body(std::size_t body_start, std::size_t size);

  message& m_;
  const parse_options& options_;
  std::array<std::uint8_t, static_cast<std::size_t>(header_id::count_)> counts_{};
};

namespace {

using scan::trim;

constexpr std::size_t k_reserved_headers = 24;

// §7.1: SIP-Version is "SIP/2.0"; the "SIP" is case-insensitive.
bool is_sip_2_0(std::string_view v) { return v.size() == 7 && scan::iequals(v, "SIP/2.0"); }

std::size_t skip_leading_crlf(std::string_view bytes) {
  std::size_t i = 0;
  while (i < bytes.size() && (bytes[i] == '\r' || bytes[i] == '\n')) ++i;
  return i;
}

}  // namespace

result<message> message::parse(std::string_view bytes, const parse_options& options) {
  message m;
  parser p(m, options);
  auto r = p.run(bytes);
  if (!r) return r.err();
  return m;
}

message message::clone() const {
  auto copy = parse(raw(), {.framing = framing::datagram, .max_size = size_ + 1});
  return std::move(copy).value();  // the bytes parsed once already
}

std::string_view message::header(header_id id) const {
  for (const auto& h : headers_)
    if (h.id == id) return h.value;
  return {};
}

std::string_view message::header(std::string_view name) const {
  const auto id = header_id_from_name(name);
  if (id != header_id::unknown) return header(id);
  for (const auto& h : headers_)
    if (h.id == header_id::unknown && scan::iequals(h.name, name)) return h.value;
  return {};
}

std::size_t message::count(header_id id) const {
  std::size_t n = 0;
  for (const auto& h : headers_) n += h.id == id ? 1 : 0;
  return n;
}

result<bool> parser::run(std::string_view bytes) {
  // §7.5: CRLFs before the start line are ignored.
  bytes.remove_prefix(skip_leading_crlf(bytes));
  if (bytes.empty()) return error{"empty message"};
  if (bytes.size() > options_.max_size) return error{"message too large"};
  const std::size_t n = bytes.size();
  m_.buf_ = std::make_unique_for_overwrite<char[]>(n);
  char* buf = m_.buf_.get();
  std::memcpy(buf, bytes.data(), n);
  m_.size_ = n;
  m_.headers_.reserve(k_reserved_headers);

  const auto line_end = [&](std::size_t from) -> std::size_t {
    const void* nl = std::memchr(buf + from, '\n', n - from);
    return nl == nullptr ? n : static_cast<std::size_t>(static_cast<const char*>(nl) - buf);
  };
  const auto view = [&](std::size_t from, std::size_t to) {
    if (to > from && buf[to - 1] == '\r') --to;
    return std::string_view(buf + from, to - from);
  };

  std::size_t nl = line_end(0);
  if (nl == n) return error{"no end of start line"};
  if (auto r = start_line(view(0, nl)); !r) return r.err();

  std::size_t pos = nl + 1;
  while (true) {
    if (pos >= n) {
      // A datagram that ends right after a header line carries no body: accept the missing
      // blank line there (as common stacks do); a stream must wait for it.
      if (options_.framing == framing::datagram) break;
      return error{"no blank line after headers"};
    }
    if (buf[pos] == '\n') {
      ++pos;
      break;
    }
    if (buf[pos] == '\r' && pos + 1 < n && buf[pos + 1] == '\n') {
      pos += 2;
      break;
    }
    const std::size_t start = pos;
    while (true) {
      nl = line_end(pos);
      if (nl == n) return error{"no blank line after headers"};  // a header line without CRLF
      // §7.3.1: a line starting with white space continues the previous one. Replace the
      // line break by spaces, in place, so the header value is one view.
      if (nl + 1 < n && scan::is_ws(buf[nl + 1])) {
        buf[nl] = ' ';
        if (nl > start && buf[nl - 1] == '\r') buf[nl - 1] = ' ';
        pos = nl + 1;
        continue;
      }
      break;
    }
    if (auto r = header_line(view(start, nl)); !r) return r.err();
    pos = nl + 1;
  }
  if (auto r = decode_headers(); !r) return r.err();
  return body(pos, n);
}

result<bool> parser::start_line(std::string_view line) {
  if (line.size() >= 4 && scan::iequals(line.substr(0, 4), "SIP/")) {
    // Status-Line = SIP-Version SP Status-Code SP Reason-Phrase (§7.2)
    m_.is_request_ = false;
    const auto sp = line.find(' ');
    if (sp == std::string_view::npos || !is_sip_2_0(line.substr(0, sp)))
      return error{"unsupported SIP version"};
    const auto rest = line.substr(sp + 1);
    if (rest.size() < 3 || (rest.size() > 3 && rest[3] != ' '))
      return error{"status code must be three digits"};
    const auto code = scan::parse_uint(rest.substr(0, 3), 999);
    if (!code || *code < 100 || *code > 699) return error{"status code out of range"};
    m_.status_code_ = static_cast<int>(*code);
    m_.reason_ = rest.size() > 4 ? rest.substr(4) : std::string_view{};
    return true;
  }
  // Request-Line = Method SP Request-URI SP SIP-Version CRLF (§7.1): exactly single spaces.
  m_.is_request_ = true;
  const auto sp1 = line.find(' ');
  const auto sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos) return error{"malformed request line"};
  const auto method_text = line.substr(0, sp1);
  const auto uri_text = line.substr(sp1 + 1, sp2 - sp1 - 1);
  const auto version = line.substr(sp2 + 1);
  if (!scan::is_token(method_text)) return error{"malformed method"};
  if (uri_text.empty() || version.find(' ') != std::string_view::npos)
    return error{"extra white space in request line"};
  if (!is_sip_2_0(version)) return error{"unsupported SIP version"};
  auto uri = parse_uri(uri_text);
  if (!uri) return error{"bad Request-URI: " + uri.err().reason};
  // §19.1.1 table: the headers component is not allowed in a Request-URI.
  if (!uri->headers.empty()) return error{"Request-URI must not contain headers"};
  m_.method_text_ = method_text;
  m_.method_ = method_from_name(method_text);
  m_.request_uri_ = *uri;
  return true;
}

result<bool> parser::header_line(std::string_view line) {
  // message-header = header-name HCOLON header-value; HCOLON = *( SP / HTAB ) ":" SWS
  const auto colon = line.find(':');
  if (colon == std::string_view::npos) return error{"header line without ':'"};
  auto name = line.substr(0, colon);
  while (!name.empty() && scan::is_ws(name.back())) name.remove_suffix(1);
  if (!scan::is_token(name)) return error{"malformed header name"};
  const auto value = trim(line.substr(colon + 1));
  const auto id = header_id_from_name(name);
  auto& count = counts_[static_cast<std::size_t>(id)];
  if (!header_info_of(id).multi_value) {
    m_.headers_.push_back({id, name, value});
    if (count < 255) ++count;
    return true;
  }
  // §7.3.1: a comma-separated list is the same as several header lines. Commas inside
  // quoted strings and <URI>s do not separate.
  const bool strict = id == header_id::via || id == header_id::contact ||
                      id == header_id::route || id == header_id::record_route;
  if (std::memchr(value.data(), ',', value.size()) == nullptr) {  // the common case: one value
    if (value.empty() && strict) return error{"empty value in " + std::string(header_info_of(id).name)};
    if (!value.empty()) {
      m_.headers_.push_back({id, name, value});
      if (count < 255) ++count;
    }
    return true;
  }
  std::string_view rest = value;
  while (true) {
    const auto [one, tail, more] = scan::split_unquoted(rest, ',');
    const auto v = trim(one);
    if (!v.empty()) {
      m_.headers_.push_back({id, name, v});
      if (count < 255) ++count;
    } else if (strict) {
      return error{"empty value in " + std::string(header_info_of(id).name)};
    }
    if (!more) return true;
    rest = tail;
  }
}

result<bool> parser::decode_headers() {
  const auto count = [&](header_id id) { return counts_[static_cast<std::size_t>(id)]; };
  // §8.1.1: To, From, CSeq, Call-ID, Max-Forwards (a SHOULD: not checked) and Via.
  for (header_id id : {header_id::to, header_id::from, header_id::call_id, header_id::cseq}) {
    if (count(id) == 0)
      return error{"missing " + std::string(header_info_of(id).name) + " header"};
    if (count(id) > 1)
      return error{"more than one " + std::string(header_info_of(id).name) + " header"};
  }
  if (count(header_id::via) == 0) return error{"missing Via header"};

  bool top_via = true;
  bool have_length = false;
  for (const auto& h : m_.headers_) {
    switch (h.id) {
      case header_id::via: {
        auto v = parse_via(h.value);
        if (!v) return error{"bad Via: " + v.err().reason};
        if (top_via) m_.top_via_ = *v;
        top_via = false;
        break;
      }
      case header_id::from:
      case header_id::to:
      case header_id::contact:
      case header_id::route:
      case header_id::record_route: {
        auto a = parse_name_addr(h.value);
        if (!a) return error{"bad " + std::string(header_info_of(h.id).name) + ": " + a.err().reason};
        if (h.id == header_id::from) m_.from_ = *a;
        if (h.id == header_id::to) m_.to_ = *a;
        break;
      }
      case header_id::call_id:
        // callid = word [ "@" word ]: no white space.
        if (h.value.empty() || h.value.find_first_of(" \t") != std::string_view::npos)
          return error{"malformed Call-ID"};
        m_.call_id_ = h.value;
        break;
      case header_id::cseq: {
        auto c = parse_cseq(h.value);
        if (!c) return c.err();
        m_.cseq_ = *c;
        break;
      }
      case header_id::content_length: {
        const auto len = scan::parse_uint(h.value, 0xffffffffULL);
        if (!len) return error{"bad Content-Length"};
        if (have_length && *m_.content_length_ != *len) return error{"conflicting Content-Length"};
        m_.content_length_ = static_cast<std::uint32_t>(*len);
        have_length = true;
        break;
      }
      case header_id::max_forwards: {
        // §20.22: 0-255.
        const auto mf = scan::parse_uint(h.value, 255);
        if (!mf) return error{"Max-Forwards out of range"};
        m_.max_forwards_ = static_cast<std::uint32_t>(*mf);
        break;
      }
      case header_id::date:
        // §20.17: SIP-date is an RFC 1123 date in GMT only.
        if (h.value.size() < 3 || h.value.substr(h.value.size() - 3) != "GMT")
          return error{"Date must be in GMT"};
        break;
      case header_id::expires:
        // delta-seconds; values past 2**32-1 are allowed and read as the maximum (§20.19).
        for (char c : h.value)
          if (!scan::is_digit(c)) return error{"malformed Expires"};
        if (h.value.empty()) return error{"malformed Expires"};
        break;
      default:
        break;
    }
  }
  if (m_.is_request_) {
    // §8.2: the CSeq method must match the request method.
    if (m_.cseq_.method_text != m_.method_text_) return error{"CSeq method does not match request"};
  } else {
    m_.method_ = m_.cseq_.method;
    m_.method_text_ = m_.cseq_.method_text;
  }
  return true;
}

result<bool> parser::body(std::size_t body_start, std::size_t size) {
  const std::size_t available = size - body_start;
  const char* buf = m_.buf_.get();
  if (!m_.content_length_) {
    // §18.3: on a stream transport Content-Length is required; on datagrams the body runs to
    // the end of the packet.
    if (options_.framing == framing::stream)
      return error{"missing Content-Length on a stream transport"};
    m_.body_ = std::string_view(buf + body_start, available);
    return true;
  }
  const std::size_t length = *m_.content_length_;
  if (length > available) return error{"body shorter than Content-Length"};
  // Bytes past Content-Length are not part of this message (§18.3): on UDP they are dropped.
  m_.body_ = std::string_view(buf + body_start, length);
  m_.size_ = body_start + length;
  return true;
}

result<std::size_t> stream_frame_length(std::string_view buffer, std::size_t max_size) {
  const std::size_t lead = skip_leading_crlf(buffer);
  const auto rest = buffer.substr(lead);
  std::size_t header_end = rest.find("\r\n\r\n");
  std::size_t sep = 4;
  if (header_end == std::string_view::npos) {
    header_end = rest.find("\n\n");
    sep = 2;
  }
  if (header_end == std::string_view::npos) {
    if (rest.size() > max_size) return error{"headers too large"};
    return std::size_t{0};
  }
  // Find Content-Length (or l) among the header lines.
  std::optional<std::uint64_t> length;
  std::string_view headers = rest.substr(0, header_end);
  while (!headers.empty()) {
    const auto nl = headers.find('\n');
    auto line = headers.substr(0, nl);
    headers = nl == std::string_view::npos ? std::string_view{} : headers.substr(nl + 1);
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    auto name = line.substr(0, colon);
    while (!name.empty() && scan::is_ws(name.back())) name.remove_suffix(1);
    if (header_id_from_name(name) != header_id::content_length) continue;
    length = scan::parse_uint(trim(line.substr(colon + 1)), max_size);
    if (!length) return error{"bad Content-Length"};
  }
  if (!length) return error{"missing Content-Length on a stream transport"};
  const std::size_t total = lead + header_end + sep + *length;
  if (total - lead > max_size) return error{"message too large"};
  if (buffer.size() < total) return std::size_t{0};
  return total;
}

}  // namespace sipfleet::sip
