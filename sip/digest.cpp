// Digest challenge/credentials parsing and the client's decisions (RFC 3261 §22, RFC 7616 §3).
// The hashing is in digest_hash.cpp.
#include "sip/digest.hpp"

#include <algorithm>
#include <array>
#include <cstdio>

namespace sipfleet::sip {

namespace {

// --- Lexing (RFC 3261 §25.1, RFC 7235 §2.1 auth-param) ---

bool is_lws(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

// RFC 3261 §25.1 token characters.
bool is_token_char(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  switch (c) {
    case '-':
    case '.':
    case '!':
    case '%':
    case '*':
    case '_':
    case '+':
    case '`':
    case '\'':
    case '~':
      return true;
    default:
      return false;
  }
}

// Control characters other than HT. Refused in every value: a CR or LF echoed into our
// Authorization header would let a server inject header lines.
bool is_ctl(char c) {
  const auto u = static_cast<unsigned char>(c);
  return (u < 0x20 && c != '\t') || u == 0x7F;
}

char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                            [](char x, char y) { return lower(x) == lower(y); });
}

struct auth_param {
  std::string_view name;
  std::string value;  // quoted-pair escapes undone
};

struct auth_value {
  std::string_view scheme;
  std::vector<auth_param> params;
};

// Parses `scheme LWS param *(COMMA param)` where param = token LWS? "=" LWS? (token /
// quoted-string). Empty list elements (",,") are skipped, as RFC 7230 §7 lets recipients do.
result<auth_value> parse_auth_value(std::string_view s) {
  std::size_t i = 0;
  const auto skip_lws = [&] {
    while (i < s.size() && is_lws(s[i])) ++i;
  };
  auth_value out;
  skip_lws();
  const std::size_t scheme_start = i;
  while (i < s.size() && is_token_char(s[i])) ++i;
  if (i == scheme_start) return error{"missing authentication scheme"};
  out.scheme = s.substr(scheme_start, i - scheme_start);
  if (i < s.size() && !is_lws(s[i])) return error{"bad character after authentication scheme"};

  while (true) {
    skip_lws();
    if (i == s.size()) break;
    if (s[i] == ',') {
      ++i;
      continue;
    }
    const std::size_t name_start = i;
    while (i < s.size() && is_token_char(s[i])) ++i;
    if (i == name_start) return error{"expected a parameter name"};
    auth_param p{.name = s.substr(name_start, i - name_start), .value = {}};
    skip_lws();
    if (i == s.size() || s[i] != '=') return error{"expected '=' after parameter name"};
    ++i;
    skip_lws();
    if (i == s.size()) return error{"missing parameter value"};
    if (s[i] == '"') {
      ++i;
      bool closed = false;
      while (i < s.size()) {
        const char c = s[i++];
        if (c == '"') {
          closed = true;
          break;
        }
        if (c == '\\') {  // quoted-pair = "\" (%x00-09 / %x0B-0C / %x0E-7F)
          if (i == s.size()) break;
          const char e = s[i++];
          if (is_ctl(e)) return error{"control character in quoted string"};
          p.value.push_back(e);
          continue;
        }
        if (is_ctl(c)) return error{"control character in quoted string"};
        p.value.push_back(c);
      }
      if (!closed) return error{"unterminated quoted string"};
    } else {
      const std::size_t value_start = i;
      while (i < s.size() && s[i] != ',' && s[i] != '"' && !is_lws(s[i])) {
        if (is_ctl(s[i])) return error{"control character in parameter value"};
        ++i;
      }
      if (i == value_start) return error{"missing parameter value"};
      p.value.assign(s.substr(value_start, i - value_start));
    }
    out.params.push_back(std::move(p));
    skip_lws();
    if (i < s.size() && s[i] != ',') return error{"unexpected text after parameter value"};
  }
  return out;
}

// Looks a parameter up by name (case-insensitive). RFC 7616 §3.3: a parameter appears at most
// once, so a repeated one makes the value malformed rather than ambiguous.
result<const auth_param*> find_unique(const auth_value& v, std::string_view name) {
  const auth_param* found = nullptr;
  for (const auto& p : v.params) {
    if (!iequals(p.name, name)) continue;
    if (found != nullptr) return error{"repeated parameter " + std::string(name)};
    found = &p;
  }
  return found;
}

digest_algorithm algorithm_from_text(std::string_view t) {
  for (auto a : {digest_algorithm::md5, digest_algorithm::md5_sess, digest_algorithm::sha256,
                 digest_algorithm::sha256_sess})
    if (iequals(t, digest_algorithm_name(a))) return a;
  return digest_algorithm::other;
}

// Server-supplied text made safe and short for a reason string.
std::string printable(std::string_view s, std::size_t max = 64) {
  std::string out;
  for (char c : s.substr(0, max)) out.push_back(is_ctl(c) || c == '"' ? '?' : c);
  if (s.size() > max) out += "...";
  return out;
}

std::string quoted(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

bool has_ctl(std::string_view s) {
  return std::any_of(s.begin(), s.end(), is_ctl);
}

bool valid_cnonce(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return c > ' ' && c < 0x7F && c != '"' && c != '\\';
  });
}

std::string nc_hex(std::uint32_t nc) {
  std::array<char, 9> buf{};
  std::snprintf(buf.data(), buf.size(), "%08x", static_cast<unsigned>(nc));
  return std::string(buf.data(), 8);
}

// RFC 8760 §2: SHA-256 is preferred over MD5 when a realm offers both.
int strength(digest_algorithm a) {
  switch (a) {
    case digest_algorithm::sha256:
    case digest_algorithm::sha256_sess:
      return 2;
    case digest_algorithm::md5:
    case digest_algorithm::md5_sess:
      return 1;
    case digest_algorithm::other:
      break;
  }
  return 0;
}

// Why this client cannot answer a challenge, or "" if it can.
std::string unsupported_reason(const digest_challenge& ch) {
  if (ch.algorithm == digest_algorithm::other)
    return "unsupported digest algorithm " + printable(ch.algorithm_text);
  if (ch.has_qop && !ch.qop_auth)
    return ch.qop_auth_int ? "qop auth-int is not supported" : "no supported qop offered";
  if (!ch.has_qop &&
      (ch.algorithm == digest_algorithm::md5_sess || ch.algorithm == digest_algorithm::sha256_sess))
    return "a -sess algorithm without qop is not supported";  // A1 needs a cnonce
  return {};
}

}  // namespace

std::string_view digest_algorithm_name(digest_algorithm a) {
  switch (a) {
    case digest_algorithm::md5:
      return "MD5";
    case digest_algorithm::md5_sess:
      return "MD5-sess";
    case digest_algorithm::sha256:
      return "SHA-256";
    case digest_algorithm::sha256_sess:
      return "SHA-256-sess";
    case digest_algorithm::other:
      break;
  }
  return "";
}

std::string_view challenge_verdict_name(challenge_verdict v) {
  switch (v) {
    case challenge_verdict::retry:
      return "retry";
    case challenge_verdict::fail_bad_credentials:
      return "fail_bad_credentials";
    case challenge_verdict::fail_unsupported:
      return "fail_unsupported";
    case challenge_verdict::fail_malformed:
      return "fail_malformed";
  }
  return "";
}

result<digest_challenge> parse_digest_challenge(std::string_view header_value) {
  auto parsed = parse_auth_value(header_value);
  if (!parsed) return parsed.err();
  if (!iequals(parsed->scheme, "Digest"))
    return error{"authentication scheme is not Digest: " + printable(parsed->scheme)};

  digest_challenge ch;
  const auto get = [&](std::string_view name, std::string& into, bool* present) -> result<bool> {
    auto p = find_unique(*parsed, name);
    if (!p) return p.err();
    if (*p == nullptr) return false;
    into = (*p)->value;
    if (present != nullptr) *present = true;
    return true;
  };
  std::string qop;
  std::string stale;
  bool has_realm = false;
  bool has_nonce = false;
  for (auto r : {get("realm", ch.realm, &has_realm), get("nonce", ch.nonce, &has_nonce),
                 get("opaque", ch.opaque, &ch.has_opaque),
                 get("algorithm", ch.algorithm_text, &ch.has_algorithm),
                 get("qop", qop, &ch.has_qop), get("stale", stale, nullptr)})
    if (!r) return r.err();
  if (!has_realm) return error{"challenge without realm"};
  if (!has_nonce) return error{"challenge without nonce"};

  if (ch.has_algorithm) ch.algorithm = algorithm_from_text(ch.algorithm_text);
  // RFC 7616 §3.3: qop-options is a quoted, comma-separated list, e.g. "auth,auth-int".
  std::string_view rest = qop;
  while (!rest.empty()) {
    const auto comma = rest.find(',');
    std::string_view option = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    while (!option.empty() && is_lws(option.front())) option.remove_prefix(1);
    while (!option.empty() && is_lws(option.back())) option.remove_suffix(1);
    if (iequals(option, "auth")) ch.qop_auth = true;
    if (iequals(option, "auth-int")) ch.qop_auth_int = true;
  }
  // RFC 7616 §3.3: stale is TRUE case-insensitively; anything else is false.
  ch.stale = iequals(stale, "true");
  return ch;
}

result<digest_credentials_fields> parse_digest_credentials(std::string_view header_value) {
  auto parsed = parse_auth_value(header_value);
  if (!parsed) return parsed.err();
  if (!iequals(parsed->scheme, "Digest"))
    return error{"authentication scheme is not Digest: " + printable(parsed->scheme)};

  digest_credentials_fields f;
  const auto get = [&](std::string_view name, std::string& into, bool required) -> result<bool> {
    auto p = find_unique(*parsed, name);
    if (!p) return p.err();
    if (*p == nullptr) {
      if (required) return error{"credentials without " + std::string(name)};
      return false;
    }
    into = (*p)->value;
    return true;
  };
  std::string nc;
  for (auto r :
       {get("username", f.username, true), get("realm", f.realm, true), get("nonce", f.nonce, true),
        get("uri", f.uri, true), get("response", f.response, true), get("cnonce", f.cnonce, false),
        get("opaque", f.opaque, false), get("qop", f.qop, false),
        get("algorithm", f.algorithm_text, false), get("nc", nc, false)})
    if (!r) return r.err();
  if (!nc.empty()) {
    // RFC 7616 §3.4: nc-value = 8LHEX
    if (nc.size() != 8 || !std::all_of(nc.begin(), nc.end(), [](char c) {
          return (c >= '0' && c <= '9') || (lower(c) >= 'a' && lower(c) <= 'f');
        }))
      return error{"nonce-count is not 8 hex digits"};
    std::uint32_t v = 0;
    for (char c : nc) {
      const char l = lower(c);
      const auto digit = static_cast<std::uint32_t>(l <= '9' ? l - '0' : l - 'a' + 10);
      v = (v << 4U) | digit;
    }
    f.nc = v;
  }
  return f;
}

// --- digest_client ---

digest_client::digest_client(digest_client_options options)
    : username_(std::move(options.credentials.username)),
      password_(std::move(options.credentials.password)),
      only_realm_(std::move(options.credentials.realm)),
      make_cnonce_(std::move(options.make_cnonce)) {
  detail::wipe(options.credentials.password);  // whatever a short-string move left behind
  // A client nearly always meets one realm; its entry, with room for a typical nonce and an
  // MD5 H(A1), is allocated with the client. A challenge's values are copied into these
  // buffers, not moved in: a fleet of phones then does not scatter its long-lived nonces among
  // the short-lived messages of the registration storm, whose pages could not be given back
  // (measured: 0.48 KiB of resident memory per idle registered phone, 4.06 -> 3.58).
  cache_.reserve(1);
  realm_entry& spare = cache_.emplace_back();
  spare.challenge.nonce.reserve(47);
  spare.ha1_base.reserve(32);
}

digest_client::~digest_client() {
  detail::wipe(password_);
}

digest_client::digest_client(digest_client&& other) noexcept
    : username_(std::move(other.username_)),
      password_(std::move(other.password_)),
      only_realm_(std::move(other.only_realm_)),
      make_cnonce_(std::move(other.make_cnonce_)),
      cache_(std::move(other.cache_)) {
  detail::wipe(other.password_);
}

digest_client& digest_client::operator=(digest_client&& other) noexcept {
  if (this != &other) {
    detail::wipe(password_);
    username_ = std::move(other.username_);
    password_ = std::move(other.password_);
    only_realm_ = std::move(other.only_realm_);
    make_cnonce_ = std::move(other.make_cnonce_);
    cache_ = std::move(other.cache_);
    detail::wipe(other.password_);
  }
  return *this;
}

void digest_client::clear() {
  for (auto& e : cache_) forget(e);
}

bool digest_client::has_cached(std::string_view realm) const {
  return std::any_of(cache_.begin(), cache_.end(),
                     [&](const realm_entry& e) { return e.used && e.challenge.realm == realm; });
}

void digest_client::forget(realm_entry& e) {
  e.used = false;
  detail::wipe(e.ha1_base);
  e.ha1_base.clear();
  e.challenge.realm.clear();
  e.challenge.nonce.clear();
  e.nc = 0;
}

namespace {

// Copies a challenge into a cached one, reusing the cached strings' buffers.
void copy_into(digest_challenge& to, const digest_challenge& from) {
  to.realm.assign(from.realm);
  to.nonce.assign(from.nonce);
  to.opaque.assign(from.opaque);
  to.has_opaque = from.has_opaque;
  to.algorithm = from.algorithm;
  to.algorithm_text.assign(from.algorithm_text);
  to.has_algorithm = from.has_algorithm;
  to.has_qop = from.has_qop;
  to.qop_auth = from.qop_auth;
  to.qop_auth_int = from.qop_auth_int;
  to.stale = from.stale;
}

}  // namespace

challenge_outcome digest_client::decide(const digest_challenge& ch,
                                        std::span<const std::string_view> sent) const {
  // What the rejected request answered for this realm, if anything. Values we cannot read
  // are not ours (we never send malformed ones) and are ignored.
  std::optional<digest_credentials_fields> answer;
  for (auto v : sent) {
    auto f = parse_digest_credentials(v);
    if (f && f->realm == ch.realm && f->username == username_) {
      answer = std::move(f).value();
      break;
    }
  }
  if (!answer) return {};  // a first challenge for this realm

  if (ch.stale) {
    // RFC 7616 §3.3: stale=TRUE means only the nonce was refused; retry without re-prompting.
    // A stale challenge that repeats the refused nonce cannot be answered differently.
    if (ch.nonce == answer->nonce)
      return {challenge_verdict::fail_unsupported, "stale challenge repeats the refused nonce"};
    return {};
  }
  // RFC 7616 §3.3: stale absent or not TRUE means the username and/or password are invalid.
  if (ch.nonce == answer->nonce)
    return {challenge_verdict::fail_bad_credentials,
            "credentials rejected for realm \"" + printable(ch.realm) + "\" (same nonce)"};
  if (answer->nc && *answer->nc > 1) return {};  // a reused nonce the server would not take
  return {challenge_verdict::fail_bad_credentials,
          "credentials rejected for realm \"" + printable(ch.realm) + "\""};
}

challenge_outcome digest_client::on_challenge(const challenge_input& in) {
  if (in.challenges.empty())
    return {challenge_verdict::fail_malformed, "no authentication challenge offered"};
  if (has_ctl(username_))
    return {challenge_verdict::fail_unsupported, "username contains a control character"};

  // Parse everything; keep per realm the strongest answerable challenge, topmost on ties.
  std::vector<digest_challenge> chosen;
  std::string first_malformed;
  std::string first_unsupported;
  for (auto value : in.challenges) {
    auto ch = parse_digest_challenge(value);
    if (!ch) {
      // A non-Digest scheme (Basic, Bearer) is well-formed but not ours.
      auto any = parse_auth_value(value);
      const bool other_scheme = any && !iequals(any->scheme, "Digest");
      std::string& slot = other_scheme ? first_unsupported : first_malformed;
      if (slot.empty()) slot = ch.err().reason;
      continue;
    }
    if (auto why = unsupported_reason(*ch); !why.empty()) {
      if (first_unsupported.empty()) first_unsupported = std::move(why);
      continue;
    }
    if (!only_realm_.empty() && ch->realm != only_realm_) {
      if (first_unsupported.empty())
        first_unsupported = "no credentials for realm \"" + printable(ch->realm) + "\"";
      continue;
    }
    auto same = std::find_if(chosen.begin(), chosen.end(),
                             [&](const digest_challenge& c) { return c.realm == ch->realm; });
    if (same == chosen.end())
      chosen.push_back(std::move(ch).value());
    else if (strength(ch->algorithm) > strength(same->algorithm))
      *same = std::move(ch).value();
  }
  if (chosen.empty()) {
    if (!first_unsupported.empty()) return {challenge_verdict::fail_unsupported, first_unsupported};
    return {challenge_verdict::fail_malformed, first_malformed};
  }

  // Decide every realm first, then change the cache: one bad realm fails the whole request.
  challenge_outcome outcome;
  for (const auto& ch : chosen) {
    auto o = decide(ch, in.sent);
    if (o.verdict == challenge_verdict::fail_bad_credentials) {
      for (auto& e : cache_)
        if (e.used && e.kind == in.kind && e.challenge.realm == ch.realm) forget(e);
    }
    if (o.verdict != challenge_verdict::retry &&
        outcome.verdict != challenge_verdict::fail_bad_credentials)
      outcome = std::move(o);
  }
  if (outcome.verdict != challenge_verdict::retry) return outcome;

  for (auto& ch : chosen) {
    auto it = std::find_if(cache_.begin(), cache_.end(), [&](const realm_entry& e) {
      return e.used && e.kind == in.kind && e.challenge.realm == ch.realm;
    });
    if (it != cache_.end() && it->challenge.nonce == ch.nonce &&
        it->challenge.algorithm == ch.algorithm) {
      // The same nonce again (e.g. a request sent without credentials): keep counting from
      // where we are, a nonce-count must never repeat (RFC 7616 §3.4).
      copy_into(it->challenge, ch);
      continue;
    }
    auto ha1 = detail::digest_ha1_base(ch.algorithm, username_, ch.realm, password_);
    if (!ha1) return {challenge_verdict::fail_unsupported, ha1.err().reason};
    if (it == cache_.end())
      it = std::find_if(cache_.begin(), cache_.end(), [](const realm_entry& e) { return !e.used; });
    if (it == cache_.end()) it = cache_.emplace(cache_.end());
    it->used = true;
    it->kind = in.kind;
    detail::wipe(it->ha1_base);
    it->ha1_base.assign(*ha1);
    detail::wipe(*ha1);
    copy_into(it->challenge, ch);
    it->nc = 0;
  }
  return outcome;
}

result<std::vector<authorization_header>> digest_client::authorization(
    const request_info& request) {
  if (has_ctl(request.uri) || has_ctl(request.method))
    return error{"request line contains a control character"};
  std::vector<authorization_header> out;
  for (auto& e : cache_) {
    const digest_challenge& ch = e.challenge;
    if (!e.used || e.nc == UINT32_MAX) continue;  // nonce-count exhausted: wait for a fresh challenge
    const bool needs_cnonce = ch.qop_auth;
    std::string cnonce;
    if (needs_cnonce) {
      if (!make_cnonce_) return error{"no cnonce generator configured"};
      cnonce = make_cnonce_();
      if (!valid_cnonce(cnonce)) return error{"cnonce generator gave an unusable cnonce"};
    }
    const std::uint32_t nc = e.nc + 1;
    auto response =
        detail::digest_response_from_ha1(e.ha1_base, digest_inputs{.algorithm = ch.algorithm,
                                                                   .username = username_,
                                                                   .realm = ch.realm,
                                                                   .password = {},
                                                                   .nonce = ch.nonce,
                                                                   .method = request.method,
                                                                   .uri = request.uri,
                                                                   .qop_auth = ch.qop_auth,
                                                                   .cnonce = cnonce,
                                                                   .nc = nc});
    if (!response) return response.err();
    e.nc = nc;

    // RFC 3261 §25.1 dig-resp order; RFC 7616 §3.4: qop and nc are unquoted, cnonce and nc
    // are sent only with qop (RFC 2617 §3.2.2: MUST NOT be sent without it).
    std::string v = "Digest username=" + quoted(username_);
    v += ", realm=" + quoted(ch.realm);
    v += ", nonce=" + quoted(ch.nonce);
    v += ", uri=" + quoted(request.uri);
    v += ", response=" + quoted(*response);
    v += ", algorithm=";
    v += digest_algorithm_name(ch.algorithm);
    if (needs_cnonce) v += ", cnonce=" + quoted(cnonce);
    if (ch.has_opaque) v += ", opaque=" + quoted(ch.opaque);
    if (ch.qop_auth) v += ", qop=auth, nc=" + nc_hex(nc);

    const bool proxy = e.kind == challenge_kind::proxy;
    out.push_back(authorization_header{
        .id = proxy ? header_id::proxy_authorization : header_id::authorization,
        .name = proxy ? "Proxy-Authorization" : "Authorization",
        .value = std::move(v)});
  }
  return out;
}

}  // namespace sipfleet::sip
