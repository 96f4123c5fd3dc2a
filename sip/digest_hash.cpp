// The digest computation (RFC 7616 §3.4.1-§3.4.3, RFC 2617 §3.2.2, RFC 2069 §2.1.2) on top of
// OpenSSL's EVP API. Hex is lowercase, as the RFCs require. Pieces that contain the password
// are fed to the hash one by one, so no buffer ever holds "username:realm:password".
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <array>
#include <cstdio>
#include <memory>

#include "sip/digest.hpp"

namespace sipfleet::sip {

namespace {

// Fetched once, for the life of the process: given EVP_md5(), OpenSSL 3 looks the
// implementation up again (under a lock, in its provider tables) at every EVP_DigestInit_ex,
// which cost more than the hash itself (a quarter of a registration's digest work). nullptr
// when the library offers no such digest (e.g. MD5 under a FIPS provider): an error below.
const EVP_MD* evp_md_of(digest_algorithm a) {
  static EVP_MD* const md5 = EVP_MD_fetch(nullptr, "MD5", nullptr);
  static EVP_MD* const sha256 = EVP_MD_fetch(nullptr, "SHA2-256", nullptr);
  switch (a) {
    case digest_algorithm::md5:
    case digest_algorithm::md5_sess:
      return md5;
    case digest_algorithm::sha256:
    case digest_algorithm::sha256_sess:
      return sha256;
    case digest_algorithm::other:
      break;
  }
  return nullptr;
}

bool is_sess(digest_algorithm a) {
  return a == digest_algorithm::md5_sess || a == digest_algorithm::sha256_sess;
}

struct md_ctx_free {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};

// One running hash. Errors are sticky and reported by finish().
class hasher {
 public:
  explicit hasher(digest_algorithm a) : ctx_(EVP_MD_CTX_new()) {
    const EVP_MD* md = evp_md_of(a);
    ok_ = ctx_ != nullptr && md != nullptr && EVP_DigestInit_ex(ctx_.get(), md, nullptr) == 1;
  }

  hasher& update(std::string_view data) {
    if (ok_ && !data.empty()) ok_ = EVP_DigestUpdate(ctx_.get(), data.data(), data.size()) == 1;
    return *this;
  }

  result<std::string> finish() {
    std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
    unsigned int len = 0;
    if (!ok_ || EVP_DigestFinal_ex(ctx_.get(), md.data(), &len) != 1)
      return error{"digest algorithm unavailable in OpenSSL"};
    static constexpr std::string_view hex = "0123456789abcdef";
    std::string out;
    out.reserve(2 * std::size_t{len});
    for (unsigned int i = 0; i < len; ++i) {
      out.push_back(hex[md[i] >> 4U]);
      out.push_back(hex[md[i] & 0x0FU]);
    }
    OPENSSL_cleanse(md.data(), md.size());
    return out;
  }

 private:
  std::unique_ptr<EVP_MD_CTX, md_ctx_free> ctx_;
  bool ok_ = false;
};

// Wipes a string holding an intermediate secret on every way out of a scope.
struct wipe_on_exit {
  std::string& s;
  ~wipe_on_exit() { detail::wipe(s); }
};

std::string nc_hex(std::uint32_t nc) {
  std::array<char, 9> buf{};
  std::snprintf(buf.data(), buf.size(), "%08x", static_cast<unsigned>(nc));
  return std::string(buf.data(), 8);
}

}  // namespace

result<std::string> digest_hash(digest_algorithm a, std::string_view data) {
  return hasher(a).update(data).finish();
}

namespace detail {

void wipe(std::string& s) noexcept {
  s.resize(s.capacity());  // make the spare capacity part of the string, then overwrite all
  OPENSSL_cleanse(s.data(), s.size());
  s.clear();
}

result<std::string> digest_ha1_base(digest_algorithm a, std::string_view username,
                                    std::string_view realm, std::string_view password) {
  // RFC 7616 §3.4.2: A1 = unq(username) ":" unq(realm) ":" passwd
  return hasher(a).update(username).update(":").update(realm).update(":").update(password).finish();
}

result<std::string> digest_response_from_ha1(std::string_view ha1_base, const digest_inputs& in) {
  // RFC 7616 §3.4.2: for the -sess variants
  //   A1 = H(unq(username) ":" unq(realm) ":" passwd) ":" unq(nonce) ":" unq(cnonce)
  std::string ha1_sess;
  const wipe_on_exit guard{ha1_sess};
  if (is_sess(in.algorithm)) {
    auto h = hasher(in.algorithm)
                 .update(ha1_base)
                 .update(":")
                 .update(in.nonce)
                 .update(":")
                 .update(in.cnonce)
                 .finish();
    if (!h) return h.err();
    ha1_sess = std::move(h).value();
  }
  const std::string_view ha1 = is_sess(in.algorithm) ? std::string_view{ha1_sess} : ha1_base;

  // RFC 7616 §3.4.3: A2 = Method ":" request-uri (qop=auth or absent).
  auto ha2 = hasher(in.algorithm).update(in.method).update(":").update(in.uri).finish();
  if (!ha2) return ha2.err();

  hasher response(in.algorithm);
  response.update(ha1).update(":").update(in.nonce).update(":");
  if (in.qop_auth) {
    // RFC 7616 §3.4.1: KD(H(A1), nonce ":" nc ":" cnonce ":" qop ":" H(A2))
    response.update(nc_hex(in.nc)).update(":").update(in.cnonce).update(":auth:");
  }
  // else RFC 2069 §2.1.2 (RFC 2617 §3.2.2.1 compatibility): KD(H(A1), nonce ":" H(A2))
  response.update(*ha2);
  return response.finish();
}

}  // namespace detail

result<std::string> digest_response(const digest_inputs& in) {
  auto ha1 = detail::digest_ha1_base(in.algorithm, in.username, in.realm, in.password);
  if (!ha1) return ha1.err();
  const wipe_on_exit guard{*ha1};
  return detail::digest_response_from_ha1(*ha1, in);
}

}  // namespace sipfleet::sip
