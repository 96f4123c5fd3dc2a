// SIP/SIPS/tel URI parsing and comparison (RFC 3261 §19.1, RFC 3966).
#include "sip/uri.hpp"

#include "sip/scan.hpp"

namespace sipfleet::sip {
namespace {

using scan::iequals;

constexpr int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool valid_hostname(std::string_view host) {
  if (host.empty()) return false;
  for (char c : host)
    if (!scan::has_class(c, scan::k_host)) return false;
  return true;
}

bool valid_ipv6(std::string_view host) {
  if (host.empty()) return false;
  for (char c : host)
    if (hex_value(c) < 0 && c != ':' && c != '.') return false;
  return host.find(':') != std::string_view::npos;
}

// hostport = host [ ":" port ], host = hostname / IPv4address / "[" IPv6address "]"
bool parse_hostport(std::string_view text, uri& out) {
  if (text.empty()) return false;
  std::string_view rest;
  if (text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos) return false;
    out.host = text.substr(1, close - 1);
    out.host_is_ipv6 = true;
    if (!valid_ipv6(out.host)) return false;
    rest = text.substr(close + 1);
  } else {
    const auto colon = text.find(':');
    out.host = text.substr(0, colon);
    if (!valid_hostname(out.host)) return false;
    rest = colon == std::string_view::npos ? std::string_view{} : text.substr(colon);
  }
  if (rest.empty()) return true;
  if (rest.front() != ':') return false;
  const auto port = scan::parse_uint(rest.substr(1), 65535);
  if (!port) return false;
  out.port = static_cast<std::uint16_t>(*port);
  return true;
}

result<uri> parse_sip_uri(std::string_view text, std::size_t colon, uri out) {
  std::string_view rest = text.substr(colon + 1);
  // userinfo: no '@' can appear elsewhere in a SIP URI (§25.1), so the first '@' ends it.
  if (const auto at = rest.find('@'); at != std::string_view::npos) {
    const auto userinfo = rest.substr(0, at);
    const auto pw = userinfo.find(':');
    out.user = userinfo.substr(0, pw);
    if (pw != std::string_view::npos) out.password = userinfo.substr(pw + 1);
    if (out.user.empty()) return error{"empty user in URI"};
    rest = rest.substr(at + 1);
  }
  const auto q = rest.find('?');
  if (q != std::string_view::npos) {
    out.headers = rest.substr(q + 1);
    rest = rest.substr(0, q);
  }
  const auto semi = rest.find(';');
  if (semi != std::string_view::npos) {
    out.params = rest.substr(semi);
    rest = rest.substr(0, semi);
    for (std::string_view p = out.params.substr(1);;) {
      const auto next = p.find(';');
      const auto one = p.substr(0, next);
      const auto eq = one.find('=');
      if (one.substr(0, eq).empty()) return error{"empty URI parameter"};
      if (next == std::string_view::npos) break;
      p = p.substr(next + 1);
    }
  }
  if (!parse_hostport(rest, out)) return error{"bad host or port in URI"};
  return out;
}

}  // namespace

result<uri> parse_uri(std::string_view text) {
  if (text.empty()) return error{"empty URI"};
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (!scan::has_class(c, scan::k_uri)) return error{"invalid character in URI"};
    if (c == '%' && (i + 2 >= text.size() || !scan::has_class(text[i + 1], scan::k_hex) ||
                     !scan::has_class(text[i + 2], scan::k_hex)))
      return error{"bad escape in URI"};
  }
  const auto colon = text.find(':');
  if (colon == std::string_view::npos || colon == 0) return error{"URI without scheme"};
  uri out;
  out.text = text;
  out.scheme_text = text.substr(0, colon);
  if (!scan::is_alpha(out.scheme_text.front())) return error{"bad URI scheme"};
  for (char c : out.scheme_text)
    if (!scan::is_alnum(c) && c != '+' && c != '-' && c != '.') return error{"bad URI scheme"};
  if (iequals(out.scheme_text, "sip")) {
    out.scheme = uri_scheme::sip;
    return parse_sip_uri(text, colon, out);
  }
  if (iequals(out.scheme_text, "sips")) {
    out.scheme = uri_scheme::sips;
    return parse_sip_uri(text, colon, out);
  }
  if (iequals(out.scheme_text, "tel")) {
    // RFC 3966: telephone-subscriber *par
    out.scheme = uri_scheme::tel;
    auto rest = text.substr(colon + 1);
    const auto semi = rest.find(';');
    out.user = rest.substr(0, semi);
    if (semi != std::string_view::npos) out.params = rest.substr(semi);
    if (out.user.empty()) return error{"empty tel number"};
    return out;
  }
  out.scheme = uri_scheme::other;
  return out;
}

std::optional<std::string_view> find_param(std::string_view params, std::string_view name) {
  // Parameters are ';'-separated; values may be quoted strings containing ';'.
  std::size_t pos = scan::find_unquoted(params, ';');
  while (pos != std::string_view::npos) {
    const auto next = scan::find_unquoted(params, ';', pos + 1);
    const auto one = params.substr(pos + 1, next == std::string_view::npos ? next : next - pos - 1);
    const auto eq = scan::find_unquoted(one, '=');
    const auto pname = scan::trim(one.substr(0, eq));
    if (iequals(pname, name)) {
      if (eq == std::string_view::npos) return std::string_view{};
      return scan::trim(one.substr(eq + 1));
    }
    pos = next;
  }
  return std::nullopt;
}

std::string unescape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size()) {
      const int hi = hex_value(text[i + 1]);
      const int lo = hex_value(text[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(text[i]);
  }
  return out;
}

namespace {

// §19.1.4: user, password, host compared after unescaping; host case-insensitive; user and
// password case-sensitive; user, ttl, method, maddr, transport params must match if present
// in either; other params compared only if present in both; headers must all match.
bool param_rule_ok(const uri& a, const uri& b, std::string_view name, bool must_be_in_both) {
  const auto pa = a.param(name);
  const auto pb = b.param(name);
  if (pa && pb) return iequals(unescape(*pa), unescape(*pb));
  if (must_be_in_both) return !pa && !pb;
  return true;
}

bool all_params_ok(const uri& a, const uri& b) {
  for (std::string_view p = a.params; !p.empty();) {
    p.remove_prefix(1);  // ';'
    const auto next = p.find(';');
    const auto one = p.substr(0, next);
    const auto name = one.substr(0, one.find('='));
    if (!param_rule_ok(a, b, name, false)) return false;
    if (next == std::string_view::npos) break;
    p = p.substr(next);
  }
  return true;
}

}  // namespace

bool uri_equal(const uri& a, const uri& b) {
  if (a.scheme != b.scheme) return false;
  if (a.scheme == uri_scheme::other || a.scheme == uri_scheme::tel)
    return a.text == b.text;
  if (unescape(a.user) != unescape(b.user)) return false;
  if (unescape(a.password) != unescape(b.password)) return false;
  if (!iequals(unescape(a.host), unescape(b.host))) return false;
  if (a.port != b.port) return false;
  for (std::string_view name : {"user", "ttl", "method", "maddr", "transport"})
    if (!param_rule_ok(a, b, name, true)) return false;
  if (!all_params_ok(a, b) || !all_params_ok(b, a)) return false;
  return a.headers == b.headers;
}

std::optional<std::string_view> uri::param(std::string_view name) const {
  return find_param(params, name);
}

}  // namespace sipfleet::sip
