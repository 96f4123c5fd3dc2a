// A test-only digest verifier playing the registrar/proxy side (RFC 7616 §3.3 challenge, §3.4.6
// checks). Deliberately independent of sip/digest.cpp: its own tiny parser and its own EVP
// hashing, so a round trip checks the client against a second implementation, not itself.
#pragma once

#include <openssl/evp.h>

#include <array>
#include <cstdint>
#include <cstdio>
#include <map>
#include <set>
#include <string>
#include <string_view>

namespace sipfleet::sip::test {

struct digest_server_options {
  std::string realm{};
  std::string username{};
  std::string password{};
  std::string algorithm = "MD5";  // as written in the challenge: "MD5", "SHA-256", "MD5-sess"...
  bool qop = true;                // false: the RFC 2069 form
  std::string opaque{};           // sent and checked when not empty
};

enum class digest_check : std::uint8_t {
  ok,
  malformed,
  wrong_user_or_realm,
  unknown_nonce,
  stale_nonce,   // issued but expired: the server answers stale=true
  replayed_nc,   // nonce-count not greater than the last one seen for the nonce
  wrong_fields,  // algorithm, opaque, uri or qop fields do not match
  bad_response,  // the digest itself is wrong: bad password
};

class digest_server {
 public:
  explicit digest_server(digest_server_options options) : o_(std::move(options)) {}

  // A challenge value with this nonce; the nonce becomes valid.
  std::string challenge(const std::string& nonce, bool stale = false) {
    issued_.insert(nonce);
    std::string v = "Digest realm=\"" + o_.realm + "\", nonce=\"" + nonce + "\"";
    if (!o_.algorithm.empty()) v += ", algorithm=" + o_.algorithm;
    if (o_.qop) v += ", qop=\"auth\"";
    if (!o_.opaque.empty()) v += ", opaque=" + quote(o_.opaque);
    if (stale) v += ", stale=TRUE";
    return v;
  }

  void expire(const std::string& nonce) { expired_.insert(nonce); }

  digest_check verify(std::string_view value, std::string_view method, std::string_view uri) {
    std::map<std::string, std::string> p;
    if (!parse(value, p)) return digest_check::malformed;
    for (const char* k : {"username", "realm", "nonce", "uri", "response"})
      if (p.count(k) == 0) return digest_check::malformed;
    if (p["username"] != o_.username || p["realm"] != o_.realm)
      return digest_check::wrong_user_or_realm;
    const std::string& nonce = p["nonce"];
    if (issued_.count(nonce) == 0) return digest_check::unknown_nonce;
    if (expired_.count(nonce) != 0) return digest_check::stale_nonce;
    const std::string alg = o_.algorithm.empty() ? "MD5" : o_.algorithm;
    if (p.count("algorithm") != 0 && p["algorithm"] != alg) return digest_check::wrong_fields;
    if (!o_.opaque.empty() && p["opaque"] != o_.opaque) return digest_check::wrong_fields;
    if (p["uri"] != uri) return digest_check::wrong_fields;  // RFC 7616 §3.4.6
    const bool sha = alg.rfind("SHA-256", 0) == 0;
    const bool sess = alg.size() > 5 && alg.substr(alg.size() - 5) == "-sess";

    std::string ha1 = h(sha, o_.username + ":" + o_.realm + ":" + o_.password);
    std::string expected;
    if (o_.qop) {
      if (p["qop"] != "auth" || p["nc"].size() != 8 || p["cnonce"].empty())
        return digest_check::wrong_fields;
      const unsigned long nc = std::stoul(p["nc"], nullptr, 16);
      if (nc <= last_nc_[nonce]) return digest_check::replayed_nc;
      if (sess) ha1 = h(sha, ha1 + ":" + nonce + ":" + p["cnonce"]);
      expected = h(sha, ha1 + ":" + nonce + ":" + p["nc"] + ":" + p["cnonce"] +
                            ":auth:" + h(sha, std::string(method) + ":" + std::string(uri)));
      if (expected != p["response"]) return digest_check::bad_response;
      last_nc_[nonce] = nc;
      return digest_check::ok;
    }
    // RFC 2617 §3.2.2: without qop, cnonce and nc MUST NOT be sent.
    if (p.count("qop") + p.count("nc") + p.count("cnonce") != 0) return digest_check::wrong_fields;
    expected =
        h(sha, ha1 + ":" + nonce + ":" + h(sha, std::string(method) + ":" + std::string(uri)));
    return expected == p["response"] ? digest_check::ok : digest_check::bad_response;
  }

 private:
  static std::string quote(const std::string& s) {
    std::string out = "\"";
    for (char c : s) {
      if (c == '"' || c == '\\') out.push_back('\\');
      out.push_back(c);
    }
    return out + "\"";
  }

  static std::string h(bool sha, const std::string& data) {
    std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
    unsigned int len = 0;
    EVP_Digest(data.data(), data.size(), md.data(), &len, sha ? EVP_sha256() : EVP_md5(), nullptr);
    std::string out;
    for (unsigned int i = 0; i < len; ++i) {
      std::array<char, 3> b{};
      std::snprintf(b.data(), b.size(), "%02x", static_cast<unsigned>(md[i]));
      out += b.data();
    }
    return out;
  }

  // "Digest a=b, c="d\"e"" -> {a: b, c: d"e}. Just enough for what a client sends.
  static bool parse(std::string_view s, std::map<std::string, std::string>& out) {
    if (s.substr(0, 7) != "Digest ") return false;
    std::size_t i = 7;
    while (i < s.size()) {
      while (i < s.size() && (s[i] == ' ' || s[i] == ',')) ++i;
      if (i == s.size()) break;
      const std::size_t eq = s.find('=', i);
      if (eq == std::string_view::npos) return false;
      std::string name(s.substr(i, eq - i));
      std::string value;
      i = eq + 1;
      if (i < s.size() && s[i] == '"') {
        ++i;
        while (i < s.size() && s[i] != '"') {
          if (s[i] == '\\') ++i;
          if (i < s.size()) value.push_back(s[i++]);
        }
        if (i == s.size()) return false;
        ++i;
      } else {
        while (i < s.size() && s[i] != ',') value.push_back(s[i++]);
      }
      if (out.count(name) != 0) return false;
      out[name] = value;
    }
    return true;
  }

  digest_server_options o_;
  std::set<std::string> issued_;
  std::set<std::string> expired_;
  std::map<std::string, unsigned long> last_nc_;
};

}  // namespace sipfleet::sip::test
