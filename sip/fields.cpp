// Parsers for the structured header values decoded at once: name-addr (RFC 3261 §20.10,
// §20.20, §20.39 and the §25.1 grammar), Via (§20.42, RFC 3581) and CSeq (§20.16).
#include "sip/fields.hpp"

#include "sip/scan.hpp"

namespace sipfleet::sip {
namespace {

using scan::is_ws;
using scan::trim;

// Quoted string starting at s[0] == '"'; returns the index of the closing quote or npos.
std::size_t closing_quote(std::string_view s) {
  for (std::size_t i = 1; i < s.size(); ++i) {
    if (s[i] == '\\') {
      ++i;
    } else if (s[i] == '"') {
      return i;
    }
  }
  return std::string_view::npos;
}

// display-name = *(token LWS) / quoted-string (§25.1): an unquoted display name is tokens
// separated by white space, so "Bell, Alexander" without quotes is malformed.
bool valid_token_display(std::string_view d) {
  for (char c : d)
    if (!scan::is_token_char(c) && !is_ws(c)) return false;
  return true;
}

// The header parameters after an address; validates them and picks out the tag on the way.
result<std::string_view> params_after(std::string_view rest, std::string_view& tag) {
  rest = trim(rest);
  if (!rest.empty() && rest.front() != ';') return error{"junk after address"};
  const bool ok = scan::for_each_param(rest, [&](std::string_view n, std::string_view v, bool) {
    if (n.size() == 3 && scan::iequals(n, "tag")) tag = v;
  });
  if (!ok) return error{"malformed header parameter"};
  return rest;
}

}  // namespace

result<name_addr> parse_name_addr(std::string_view text) {
  name_addr out;
  auto t = trim(text);
  if (t.empty()) return error{"empty address"};
  if (t.front() == '*') {
    auto p = params_after(t.substr(1), out.tag);
    if (!p) return p.err();
    out.wildcard = true;
    out.params = *p;
    return out;
  }
  std::string_view rest;
  if (t.front() == '"') {
    const auto close = closing_quote(t);
    if (close == std::string_view::npos) return error{"unbalanced quotes in display name"};
    out.display = t.substr(1, close - 1);
    rest = scan::trim_left(t.substr(close + 1));
    if (rest.empty() || rest.front() != '<') return error{"quoted display name without <URI>"};
  } else if (const auto lt = t.find('<'); lt != std::string_view::npos) {
    out.display = trim(t.substr(0, lt));
    if (!valid_token_display(out.display)) return error{"display name must be tokens or quoted"};
    rest = t.substr(lt);
  } else {
    // addr-spec: the URI ends at the first ';' and must not hold ',', ';' or '?' (§20.10).
    const auto semi = t.find(';');
    const auto uri_text = trim(t.substr(0, semi));
    if (uri_text.find_first_of(",?") != std::string_view::npos)
      return error{"URI with ',' or '?' must be enclosed in <>"};
    auto u = parse_uri(uri_text);
    if (!u) return u.err();
    out.uri = *u;
    auto p = params_after(semi == std::string_view::npos ? std::string_view{} : t.substr(semi),
                          out.tag);
    if (!p) return p.err();
    out.params = *p;
    return out;
  }
  // rest starts with '<'
  const auto gt = rest.find('>');
  if (gt == std::string_view::npos) return error{"missing '>' after URI"};
  const auto uri_text = rest.substr(1, gt - 1);
  if (uri_text.empty() || is_ws(uri_text.front()) || is_ws(uri_text.back()))
    return error{"white space inside <URI>"};
  auto u = parse_uri(uri_text);
  if (!u) return u.err();
  out.uri = *u;
  auto p = params_after(rest.substr(gt + 1), out.tag);
  if (!p) return p.err();
  out.params = *p;
  return out;
}

namespace {

// Reads a token after optional LWS; advances s.
std::string_view take_token(std::string_view& s) {
  s = scan::trim_left(s);
  std::size_t n = 0;
  while (n < s.size() && scan::is_token_char(s[n])) ++n;
  const auto tok = s.substr(0, n);
  s.remove_prefix(n);
  return tok;
}

bool take_char(std::string_view& s, char c) {
  s = scan::trim_left(s);
  if (s.empty() || s.front() != c) return false;
  s.remove_prefix(1);
  return true;
}

}  // namespace

result<via> parse_via(std::string_view text) {
  via out;
  auto s = trim(text);
  // sent-protocol = protocol-name SLASH protocol-version SLASH transport, LWS around '/'.
  const auto name = take_token(s);
  if (!take_char(s, '/')) return error{"malformed Via protocol"};
  const auto version = take_token(s);
  if (!take_char(s, '/')) return error{"malformed Via protocol"};
  out.transport = take_token(s);
  if (!scan::iequals(name, "SIP") || version != "2.0") return error{"unsupported Via protocol"};
  if (out.transport.empty()) return error{"missing Via transport"};
  out.protocol = "SIP/2.0";
  if (s.empty() || !is_ws(s.front())) return error{"missing Via sent-by"};
  s = scan::trim_left(s);
  // sent-by = host [ COLON port ]
  if (!s.empty() && s.front() == '[') {
    const auto close = s.find(']');
    if (close == std::string_view::npos) return error{"unterminated IPv6 reference in Via"};
    out.host = s.substr(1, close - 1);
    out.host_is_ipv6 = true;
    s.remove_prefix(close + 1);
  } else {
    std::size_t n = 0;
    while (n < s.size() && (scan::is_alnum(s[n]) || s[n] == '-' || s[n] == '.')) ++n;
    out.host = s.substr(0, n);
    s.remove_prefix(n);
  }
  if (out.host.empty()) return error{"missing Via host"};
  if (take_char(s, ':')) {
    s = scan::trim_left(s);
    std::size_t n = 0;
    while (n < s.size() && scan::is_digit(s[n])) ++n;
    const auto port = scan::parse_uint(s.substr(0, n), 65535);
    if (!port) return error{"bad Via port"};
    out.port = static_cast<std::uint16_t>(*port);
    s.remove_prefix(n);
  }
  s = trim(s);
  if (!s.empty() && s.front() != ';') return error{"junk after Via sent-by"};
  std::string_view rport;
  const bool ok = scan::for_each_param(s, [&](std::string_view n, std::string_view v, bool) {
    if (scan::iequals(n, "branch")) {
      out.branch = v;
    } else if (scan::iequals(n, "received")) {
      out.received = v;
    } else if (scan::iequals(n, "rport")) {
      out.rport = true;
      rport = v;
    }
  });
  if (!ok) return error{"malformed Via parameter"};
  out.params = s;
  if (!rport.empty()) {
    const auto port = scan::parse_uint(rport, 65535);
    if (!port) return error{"bad Via rport"};
    out.rport_value = static_cast<std::uint16_t>(*port);
  }
  return out;
}

result<cseq> parse_cseq(std::string_view text) {
  auto s = trim(text);
  std::size_t n = 0;
  while (n < s.size() && scan::is_digit(s[n])) ++n;
  // §8.1.1.5: the sequence number MUST be expressible as a 32-bit unsigned integer and
  // MUST be less than 2**31.
  const auto number = scan::parse_uint(s.substr(0, n), 0x7fffffffULL);
  if (!number) return error{"CSeq number out of range"};
  s.remove_prefix(n);
  if (s.empty() || !is_ws(s.front())) return error{"malformed CSeq"};
  s = trim(s);
  if (!scan::is_token(s)) return error{"malformed CSeq method"};
  cseq out;
  out.number = static_cast<std::uint32_t>(*number);
  out.method_text = s;
  out.method = method_from_name(s);
  return out;
}

}  // namespace sipfleet::sip
