// Client-side SIP digest authentication (RFC 3261 §22, RFC 2617, RFC 7616, RFC 8760): parses
// WWW-Authenticate / Proxy-Authenticate challenges, decides whether to answer them, and builds
// Authorization / Proxy-Authorization values. Sans-I/O: no clock and no randomness inside; the
// cnonce comes from a generator the caller supplies, so tests are deterministic.
//
// The flow for one request:
//
//   send request (with client.authorization(req) if anything is cached: pre-authorisation)
//     <- 401/407
//   client.on_challenge({.kind = ..., .challenges = <all (Proxy-)WWW-Authenticate values>,
//                        .sent = <the (Proxy-)Authorization values the rejected request carried>})
//     retry                -> resend (new CSeq) with client.authorization(req)
//     fail_*               -> give up: report the reason, do not resend
//
// The password never appears in an error, a reason or anything else this module returns; the
// client keeps it (wiped on destruction) because a new realm or a new algorithm needs it, and
// keeps per realm only H(username:realm:password).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sip/header_id.hpp"
#include "sip/result.hpp"

namespace sipfleet::sip {

// The algorithm parameter (RFC 7616 §3.3, RFC 8760 §2). `other` is a syntactically valid but
// unsupported algorithm (e.g. SHA-512-256, AKAv1-MD5): the challenge parses, but is not answered.
enum class digest_algorithm : std::uint8_t { md5, md5_sess, sha256, sha256_sess, other };

// "MD5", "MD5-sess", "SHA-256", "SHA-256-sess"; "" for other.
std::string_view digest_algorithm_name(digest_algorithm a);

// Which pair of headers (RFC 3261 §22.2 and §22.3): a 401 carries WWW-Authenticate and is
// answered with Authorization; a 407 carries Proxy-Authenticate, answered with Proxy-Authorization.
enum class challenge_kind : std::uint8_t { www, proxy };

// One Digest challenge (RFC 7616 §3.3), with quoted-pair escapes undone. Owns its strings so it
// can be cached past the response it came in.
struct digest_challenge {
  std::string realm{};
  std::string nonce{};
  std::string opaque{};  // echoed unchanged when present
  bool has_opaque = false;
  digest_algorithm algorithm = digest_algorithm::md5;  // absent means MD5 (RFC 2617 §3.2.1)
  std::string algorithm_text{};                        // as written, for messages about `other`
  bool has_algorithm = false;
  bool has_qop = false;       // absent: the RFC 2069 compatible form
  bool qop_auth = false;      // "auth" is among the offered qop options
  bool qop_auth_int = false;  // "auth-int" is among them (not supported by this client)
  bool stale = false;         // stale=true, any letter case (RFC 7616 §3.3)
};

// Parses one challenge header value ("Digest realm=..., nonce=..."). Malformed input (bad
// quoting, missing realm or nonce, garbage between parameters, a scheme other than Digest)
// gives an error with a short reason; never throws.
result<digest_challenge> parse_digest_challenge(std::string_view header_value);

// The fields of an Authorization / Proxy-Authorization value (RFC 7616 §3.4), escapes undone.
// Used to read back what a request carried; the test server also uses it.
struct digest_credentials_fields {
  std::string username{};
  std::string realm{};
  std::string nonce{};
  std::string uri{};
  std::string response{};
  std::string cnonce{};
  std::string opaque{};
  std::string qop{};                  // "" when absent
  std::string algorithm_text{};       // "" when absent
  std::optional<std::uint32_t> nc{};  // nonce-count, when present
};

result<digest_credentials_fields> parse_digest_credentials(std::string_view header_value);

// --- The computation (RFC 7616 §3.4.1-§3.4.3), exposed for tests and for the test server ---

// Lowercase hex digest of `data` with MD5 or SHA-256 (the -sess variants hash the same way).
// An error only when OpenSSL refuses the algorithm (e.g. MD5 in a FIPS-only configuration).
result<std::string> digest_hash(digest_algorithm a, std::string_view data);

struct digest_inputs {
  digest_algorithm algorithm = digest_algorithm::md5;
  std::string_view username{};
  std::string_view realm{};
  std::string_view password{};
  std::string_view nonce{};
  std::string_view method{};  // the request method, e.g. "REGISTER" (RFC 3261 §22.4)
  std::string_view uri{};     // digest-uri: the Request-URI as sent (RFC 3261 §22.4)
  bool qop_auth = false;      // false: RFC 2069 form, cnonce and nc unused (unless -sess)
  std::string_view cnonce{};
  std::uint32_t nc = 1;
};

// The request-digest ("response" parameter) for the given inputs.
result<std::string> digest_response(const digest_inputs& in);

namespace detail {
// H(username ":" realm ":" password), hashed in pieces so the password is never copied.
result<std::string> digest_ha1_base(digest_algorithm a, std::string_view username,
                                    std::string_view realm, std::string_view password);
// The response from a precomputed H(username:realm:password); `in.password` is ignored.
result<std::string> digest_response_from_ha1(std::string_view ha1_base, const digest_inputs& in);
// Overwrites a string's whole buffer (size and spare capacity) before clearing it.
void wipe(std::string& s) noexcept;
}  // namespace detail

// --- The client ---

struct digest_credentials {
  std::string username{};
  std::string password{};  // moved into the client, wiped when the client is destroyed
  std::string realm{};     // answer only this realm; empty answers any realm
};

struct digest_client_options {
  digest_credentials credentials{};
  // Returns a fresh client nonce for each Authorization that uses qop (RFC 7616 §3.4: cnonce).
  // Must be non-empty printable ASCII without '"' or '\'. In production: random, >= 64 bits.
  std::function<std::string()> make_cnonce{};
};

enum class challenge_verdict : std::uint8_t {
  retry,                 // the cache now answers the challenge: resend with authorization()
  fail_bad_credentials,  // our answer was rejected without stale=true: wrong username/password
  fail_unsupported,      // nothing we can answer: algorithm, qop auth-int only, realm, scheme
  fail_malformed,        // no challenge could be parsed (or none was offered)
};

std::string_view challenge_verdict_name(challenge_verdict v);

struct challenge_outcome {
  challenge_verdict verdict = challenge_verdict::retry;
  std::string reason{};  // empty on retry; never contains the password
};

struct challenge_input {
  challenge_kind kind = challenge_kind::www;
  // Every WWW-Authenticate (401) or Proxy-Authenticate (407) value of the response, in order.
  std::span<const std::string_view> challenges{};
  // The Authorization (401) or Proxy-Authorization (407) values the rejected request carried;
  // empty if it carried none. This is what tells a first challenge from a rejected answer.
  std::span<const std::string_view> sent{};
};

struct request_info {
  std::string_view method{};  // "REGISTER", "INVITE", ...
  std::string_view uri{};     // the Request-URI as it will be sent
};

struct authorization_header {
  header_id id = header_id::authorization;  // or proxy_authorization
  std::string_view name{};                  // "Authorization" or "Proxy-Authorization"
  std::string value{};                      // "Digest username=..., ..."
};

class digest_client {
 public:
  explicit digest_client(digest_client_options options);
  ~digest_client();
  digest_client(digest_client&&) noexcept;
  digest_client& operator=(digest_client&&) noexcept;
  digest_client(const digest_client&) = delete;  // one copy of the password, not several
  digest_client& operator=(const digest_client&) = delete;

  // Decides what a 401/407 means and, on retry, caches the chosen challenge per realm. Among the
  // challenges of one realm SHA-256 is preferred over MD5 (RFC 8760 §2), then the topmost.
  // Rules (RFC 7616 §3.3 on stale, RFC 3261 §22.2):
  //  - the request carried no answer for the realm: a first challenge, retry;
  //  - stale=true with a new nonce: retry with it; this is not a failure;
  //  - the same nonce again without stale: fail_bad_credentials (the phone must not loop);
  //  - a new nonce without stale after our direct answer (nc 1 or no qop): fail_bad_credentials;
  //    after a pre-authorisation (nc > 1, a reused nonce) the server may just not allow reuse:
  //    retry with the new nonce.
  // On fail_bad_credentials the realm is dropped from the cache.
  challenge_outcome on_challenge(const challenge_input& in);

  // Authorization values for a request, one per cached realm (RFC 3261 §22.3: a 407 from two
  // proxies is answered for both). Each call uses the next nonce-count of its cached nonce, so
  // it serves both the retry after on_challenge and pre-authorisation of later requests. Empty
  // when nothing is cached. An error if the cnonce generator gives an unusable cnonce.
  result<std::vector<authorization_header>> authorization(const request_info& request);

  // Forgets every cached challenge (e.g. after the account is deregistered).
  void clear();
  bool has_cached(std::string_view realm) const;

 private:
  // What is cached per (kind, realm): the challenge to answer, H(username:realm:password) for its
  // algorithm (never the password), and the last nonce-count used with its nonce.
  struct realm_entry {
    bool used = false;  // false: a spare entry, its buffers kept for the next realm
    challenge_kind kind = challenge_kind::www;
    digest_challenge challenge;
    std::string ha1_base;
    std::uint32_t nc = 0;

    realm_entry() = default;
    realm_entry(realm_entry&&) noexcept = default;
    realm_entry& operator=(realm_entry&&) noexcept = default;
    realm_entry(const realm_entry&) = delete;
    realm_entry& operator=(const realm_entry&) = delete;
    ~realm_entry() { detail::wipe(ha1_base); }
  };

  static void forget(realm_entry& e);  // unused from now on; its buffers are kept
  challenge_outcome decide(const digest_challenge& ch,
                           std::span<const std::string_view> sent) const;

  std::string username_;
  std::string password_;  // wiped in the destructor and when moved from
  std::string only_realm_;
  std::function<std::string()> make_cnonce_;
  // One entry per (kind, realm): a phone has one or two. Entries are reused, not erased: their
  // strings keep their buffers (see the constructor).
  std::vector<realm_entry> cache_;
};

}  // namespace sipfleet::sip
