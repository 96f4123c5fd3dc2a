// Client-side digest authentication: the RFC vectors, the challenge parser, and round trips
// against the independent verifier in digest_server.hpp.
#include "sip/digest.hpp"

#include <doctest/doctest.h>

#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "sip/digest_server.hpp"

using namespace sipfleet::sip;
using sipfleet::sip::test::digest_check;
using sipfleet::sip::test::digest_server;

namespace {

constexpr std::string_view rfc7616_nonce = "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v";
constexpr std::string_view rfc7616_cnonce = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ";
constexpr std::string_view rfc7616_opaque = "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS";
constexpr std::string_view password = "s3cret-Pa55";

// A deterministic cnonce source: "cn1", "cn2", ...
std::function<std::string()> counting_cnonce() {
  return [n = 0]() mutable { return "cn" + std::to_string(++n); };
}

digest_client make_client(std::string realm = {}) {
  return digest_client({.credentials = {.username = "alice",
                                        .password = std::string(password),
                                        .realm = std::move(realm)},
                        .make_cnonce = counting_cnonce()});
}

challenge_outcome challenge(digest_client& c, challenge_kind kind,
                            const std::vector<std::string>& challenges,
                            const std::vector<std::string>& sent = {}) {
  const std::vector<std::string_view> ch(challenges.begin(), challenges.end());
  const std::vector<std::string_view> s(sent.begin(), sent.end());
  return c.on_challenge({.kind = kind, .challenges = ch, .sent = s});
}

std::vector<authorization_header> authorize(digest_client& c, std::string_view method,
                                            std::string_view uri) {
  auto r = c.authorization({.method = method, .uri = uri});
  REQUIRE(r.ok());
  return std::move(r).value();
}

std::vector<std::string> values(const std::vector<authorization_header>& hs) {
  std::vector<std::string> out;
  for (const auto& h : hs) out.push_back(h.value);
  return out;
}

constexpr std::string_view register_uri = "sip:registrar.example.com";

}  // namespace

// --- The RFC vectors ---

TEST_CASE("the RFC 2617 section 3.5 example gives the published response") {
  auto r = digest_response({.algorithm = digest_algorithm::md5,
                            .username = "Mufasa",
                            .realm = "testrealm@host.com",
                            .password = "Circle Of Life",
                            .nonce = "dcd98b7102dd2f0e8b11d0f600bfb0c093",
                            .method = "GET",
                            .uri = "/dir/index.html",
                            .qop_auth = true,
                            .cnonce = "0a4f113b",
                            .nc = 1});
  REQUIRE(r.ok());
  CHECK(*r == "6629fae49393a05397450978507c4ef1");
}

TEST_CASE("the RFC 7616 section 3.9.1 examples give the published responses") {
  struct row {
    digest_algorithm algorithm;
    std::string_view response;
  };
  // The two published vectors, plus the -sess variants of the same inputs (computed with
  // Python's hashlib, as the RFC gives none).
  const row rows[] = {
      {digest_algorithm::md5, "8ca523f5e9506fed4657c9700eebdbec"},
      {digest_algorithm::sha256,
       "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"},
      {digest_algorithm::md5_sess, "e783283f46242139c486a698fec7211d"},
      {digest_algorithm::sha256_sess,
       "2fd51b3a77ad75bad6afad6003e818d767133c46d9e2749e7f5232ae1ea3efd7"},
  };
  for (const auto& r : rows) {
    CAPTURE(digest_algorithm_name(r.algorithm));
    auto got = digest_response({.algorithm = r.algorithm,
                                .username = "Mufasa",
                                .realm = "http-auth@example.org",
                                .password = "Circle of Life",
                                .nonce = rfc7616_nonce,
                                .method = "GET",
                                .uri = "/dir/index.html",
                                .qop_auth = true,
                                .cnonce = rfc7616_cnonce,
                                .nc = 1});
    REQUIRE(got.ok());
    CHECK(*got == r.response);
  }
}

TEST_CASE("the client answers the RFC 7616 challenges with SHA-256 and the exact header value") {
  digest_client c({.credentials = {.username = "Mufasa", .password = "Circle of Life"},
                   .make_cnonce = [] { return std::string(rfc7616_cnonce); }});
  // RFC 7616 §3.9.1 sends SHA-256 first; the MD5 one is put first here to show the client
  // prefers SHA-256 rather than taking the topmost.
  const std::string tail = std::string(", nonce=\"") + std::string(rfc7616_nonce) +
                           "\", opaque=\"" + std::string(rfc7616_opaque) + "\"";
  auto o = challenge(c, challenge_kind::www,
                     {"Digest realm=\"http-auth@example.org\", qop=\"auth, auth-int\", "
                      "algorithm=MD5" +
                          tail,
                      "Digest realm=\"http-auth@example.org\", qop=\"auth, auth-int\", "
                      "algorithm=SHA-256" +
                          tail});
  REQUIRE(o.verdict == challenge_verdict::retry);
  auto hs = authorize(c, "GET", "/dir/index.html");
  REQUIRE(hs.size() == 1);
  CHECK(hs[0].id == header_id::authorization);
  CHECK(hs[0].name == "Authorization");
  CHECK(hs[0].value ==
        "Digest username=\"Mufasa\", realm=\"http-auth@example.org\", "
        "nonce=\"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v\", uri=\"/dir/index.html\", "
        "response=\"753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1\", "
        "algorithm=SHA-256, cnonce=\"f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ\", "
        "opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\", qop=auth, nc=00000001");
}

TEST_CASE("without qop the RFC 2069 form is computed and no cnonce, nc or qop is sent") {
  // Expected values from Python's hashlib: H(H(A1) ":" nonce ":" H(A2)). (RFC 2069's own
  // example response is known to be wrong, so it is not used.)
  auto md5 = digest_response({.algorithm = digest_algorithm::md5,
                              .username = "Mufasa",
                              .realm = "testrealm@host.com",
                              .password = "Circle Of Life",
                              .nonce = "dcd98b7102dd2f0e8b11d0f600bfb0c093",
                              .method = "GET",
                              .uri = "/dir/index.html"});
  REQUIRE(md5.ok());
  CHECK(*md5 == "670fd8c2df070c60b045671b8b24ff02");

  digest_client c({.credentials = {.username = "Mufasa", .password = "Circle Of Life"},
                   .make_cnonce = counting_cnonce()});
  auto o = challenge(
      c, challenge_kind::www,
      {"Digest realm=\"testrealm@host.com\", nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\","
       " opaque=\"5ccc069c403ebaf9f0171e9517f40e41\""});
  REQUIRE(o.verdict == challenge_verdict::retry);
  auto hs = authorize(c, "GET", "/dir/index.html");
  REQUIRE(hs.size() == 1);
  CHECK(hs[0].value ==
        "Digest username=\"Mufasa\", realm=\"testrealm@host.com\", "
        "nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", uri=\"/dir/index.html\", "
        "response=\"670fd8c2df070c60b045671b8b24ff02\", algorithm=MD5, "
        "opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"");

  auto sha = digest_response({.algorithm = digest_algorithm::sha256,
                              .username = "Mufasa",
                              .realm = "testrealm@host.com",
                              .password = "Circle Of Life",
                              .nonce = "dcd98b7102dd2f0e8b11d0f600bfb0c093",
                              .method = "GET",
                              .uri = "/dir/index.html"});
  REQUIRE(sha.ok());
  CHECK(*sha == "e71f89d8267982ee1cd4dfb3637698eaf2f55848fe056aee7be175262aab5d2a");
}

TEST_CASE("digest_hash gives lowercase hex of the right length") {
  CHECK(*digest_hash(digest_algorithm::md5, "") == "d41d8cd98f00b204e9800998ecf8427e");
  CHECK(*digest_hash(digest_algorithm::sha256, "abc") ==
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK_FALSE(digest_hash(digest_algorithm::other, "abc").ok());
}

// --- The challenge parser ---

TEST_CASE("challenge parameters are read through LWS, quoted-pairs and letter case") {
  auto ch = parse_digest_challenge(
      "  digest  REALM = \"a \\\"quoted\\\" realm\\\\x\" ,nonce=\"n,1\"\t,\r\n qop=\"auth-int , "
      "auth\","
      "  algorithm=sha-256 , stale=TRUE, domain=\"sip:a sip:b\", x-unknown=tok, opaque=\"\"  ");
  REQUIRE(ch.ok());
  CHECK(ch->realm == "a \"quoted\" realm\\x");
  CHECK(ch->nonce == "n,1");
  CHECK(ch->has_qop);
  CHECK(ch->qop_auth);
  CHECK(ch->qop_auth_int);
  CHECK(ch->algorithm == digest_algorithm::sha256);
  CHECK(ch->stale);
  CHECK(ch->has_opaque);
  CHECK(ch->opaque.empty());
}

TEST_CASE("challenge parameters have sensible defaults when absent") {
  auto ch = parse_digest_challenge("Digest realm=r, nonce=n, stale=false");
  REQUIRE(ch.ok());
  CHECK(ch->realm == "r");
  CHECK(ch->algorithm == digest_algorithm::md5);
  CHECK_FALSE(ch->has_algorithm);
  CHECK_FALSE(ch->has_qop);
  CHECK_FALSE(ch->stale);
  CHECK_FALSE(ch->has_opaque);

  auto odd = parse_digest_challenge("Digest realm=r, nonce=n, algorithm=SHA-512-256, stale=yes");
  REQUIRE(odd.ok());
  CHECK(odd->algorithm == digest_algorithm::other);
  CHECK(odd->algorithm_text == "SHA-512-256");
  CHECK_FALSE(odd->stale);  // RFC 7616 §3.3: anything but TRUE is false
}

TEST_CASE("malformed challenges give an error with a reason and never crash") {
  const std::string_view bad[] = {
      "",
      "   ",
      "Digest",
      "Digest realm=\"unterminated, nonce=\"x\"",
      "Digest realm=\"r\"",                            // no nonce
      "Digest nonce=\"n\"",                            // no realm
      "Digest realm=\"r\" nonce=\"n\"",                // no comma
      "Digest realm=\"r\", nonce",                     // no '='
      "Digest realm=\"r\", nonce=",                    // no value
      "Digest realm=\"r\", nonce=\"n\", =x",           // no name
      "Digest realm=\"r\", nonce=\"n\", realm=\"s\"",  // repeated
      "Digest realm=\"r\", nonce=\"n\"garbage",
      "Digest realm=\"r\", nonce=\"n\\",            // escape at the end
      "Digest realm=\"r\r\nVia: x\", nonce=\"n\"",  // CR LF inside a quoted string
      "Digest realm=\"r\", nonce=n\x01",
      "\"Digest\" realm=r, nonce=n",
      "Basic realm=\"r\"",  // not Digest
      "@#!$%^&*()",
      std::string_view("Digest realm=\"r\0\", nonce=\"n\"", 27),
  };
  for (auto v : bad) {
    CAPTURE(v);
    auto r = parse_digest_challenge(v);
    REQUIRE_FALSE(r.ok());
    CHECK_FALSE(r.err().reason.empty());
  }
}

TEST_CASE("every prefix of a valid challenge parses or fails cleanly") {
  const std::string full =
      "Digest realm=\"a\\\"b\", nonce=\"xyz\", qop=\"auth,auth-int\", algorithm=MD5, "
      "opaque=\"o\", stale=TRUE";
  for (std::size_t n = 0; n <= full.size(); ++n) {
    auto r = parse_digest_challenge(std::string_view(full).substr(0, n));
    CHECK((r.ok() || !r.err().reason.empty()));
  }
  CHECK(parse_digest_challenge(full).ok());
}

TEST_CASE("random mixes of challenge syntax never crash the parser or the client") {
  // A cheap deterministic fuzz run under ASan/UBSan; the libFuzzer target can go further.
  constexpr std::string_view alphabet = "Digest realm=nonce\"\\,\t\r\n =qop auth-int stale";
  std::minstd_rand rng(7616);
  auto c = make_client();
  for (int i = 0; i < 3000; ++i) {
    std::string s = "Digest ";
    const auto len = rng() % 40;
    for (unsigned long j = 0; j < len; ++j) s.push_back(alphabet[rng() % alphabet.size()]);
    auto r = parse_digest_challenge(s);
    if (!r.ok()) CHECK_FALSE(r.err().reason.empty());
    (void)challenge(c, challenge_kind::www, {s}, {s});
    (void)parse_digest_credentials(s);
  }
}

TEST_CASE("credentials values are read back, including the nonce-count") {
  auto f = parse_digest_credentials(
      "Digest username=\"bob\", realm=\"r\", nonce=\"n\", uri=\"sip:x\", response=\"abc\", "
      "algorithm=MD5, cnonce=\"c\", qop=auth, nc=0000001F");
  REQUIRE(f.ok());
  CHECK(f->username == "bob");
  CHECK(f->nc == 31U);
  CHECK(f->qop == "auth");
  CHECK_FALSE(parse_digest_credentials("Digest username=\"bob\", realm=\"r\"").ok());
  CHECK_FALSE(parse_digest_credentials(
                  "Digest username=\"b\", realm=\"r\", nonce=\"n\", uri=\"u\", response=\"x\", "
                  "nc=12345")
                  .ok());
}

// --- Round trips against the test server ---

TEST_CASE("a challenged REGISTER is answered and the server accepts it") {
  for (std::string alg : {"MD5", "SHA-256", "MD5-sess", "SHA-256-sess"}) {
    for (bool qop : {true, false}) {
      if (!qop && alg.find("-sess") != std::string::npos) continue;
      CAPTURE(alg);
      CAPTURE(qop);
      digest_server server({.realm = "example.com",
                            .username = "alice",
                            .password = std::string(password),
                            .algorithm = alg,
                            .qop = qop,
                            .opaque = "op\"aque"});
      auto c = make_client();
      CHECK(c.authorization({.method = "REGISTER", .uri = register_uri})->empty());
      auto o = challenge(c, challenge_kind::www, {server.challenge("nonce-1")});
      REQUIRE(o.verdict == challenge_verdict::retry);
      CHECK(o.reason.empty());
      auto hs = authorize(c, "REGISTER", register_uri);
      REQUIRE(hs.size() == 1);
      CHECK(server.verify(hs[0].value, "REGISTER", register_uri) == digest_check::ok);
    }
  }
}

TEST_CASE("a wrong password is rejected by the server and the second challenge fails") {
  digest_server server({.realm = "example.com", .username = "alice", .password = "other"});
  auto c = make_client();
  const auto ch = server.challenge("nonce-1");
  REQUIRE(challenge(c, challenge_kind::www, {ch}).verdict == challenge_verdict::retry);
  auto sent = values(authorize(c, "REGISTER", register_uri));
  REQUIRE(sent.size() == 1);
  CHECK(server.verify(sent[0], "REGISTER", register_uri) == digest_check::bad_response);

  // The same nonce, not stale: our answer was wrong. Stop, do not loop.
  auto o = challenge(c, challenge_kind::www, {ch}, sent);
  CHECK(o.verdict == challenge_verdict::fail_bad_credentials);
  CHECK(o.reason.find(password) == std::string::npos);
  CHECK_FALSE(c.has_cached("example.com"));
  CHECK(authorize(c, "REGISTER", register_uri).empty());
}

TEST_CASE("a realm dropped or cleared is answered afresh, its cached values replaced whole") {
  // The cache reuses its entries' buffers (digest_client's constructor): what a dropped realm
  // held must not leak into the next challenge's answer.
  auto c = make_client();
  const std::string long_nonce(200, 'n');
  REQUIRE(challenge(c, challenge_kind::www,
                    {"Digest realm=\"a-much-longer-realm-than-the-next.example\", nonce=\"" + long_nonce +
                     "\", opaque=\"xyz\", algorithm=SHA-256, qop=auth"})
              .verdict == challenge_verdict::retry);
  auto sent = values(authorize(c, "REGISTER", register_uri));
  REQUIRE(sent.size() == 1);
  // The same nonce again: bad credentials, the realm is dropped.
  REQUIRE(challenge(c, challenge_kind::www,
                    {"Digest realm=\"a-much-longer-realm-than-the-next.example\", nonce=\"" + long_nonce +
                     "\", opaque=\"xyz\", algorithm=SHA-256, qop=auth"},
                    sent)
              .verdict == challenge_verdict::fail_bad_credentials);
  CHECK(authorize(c, "REGISTER", register_uri).empty());

  // A server with the right password and a shorter realm, nonce, no opaque, MD5.
  digest_server server({.realm = "example.com", .username = "alice", .password = std::string(password)});
  REQUIRE(challenge(c, challenge_kind::www, {server.challenge("n1")}).verdict == challenge_verdict::retry);
  auto hs = authorize(c, "REGISTER", register_uri);
  REQUIRE(hs.size() == 1);
  CHECK(server.verify(hs[0].value, "REGISTER", register_uri) == digest_check::ok);
  CHECK(hs[0].value.find("opaque") == std::string::npos);
  CHECK(hs[0].value.find("SHA-256") == std::string::npos);
  CHECK(hs[0].value.find("nc=00000001") != std::string::npos);
  CHECK(c.has_cached("example.com"));
  CHECK_FALSE(c.has_cached("a-much-longer-realm-than-the-next.example"));

  c.clear();
  CHECK_FALSE(c.has_cached("example.com"));
  CHECK(authorize(c, "REGISTER", register_uri).empty());
  REQUIRE(challenge(c, challenge_kind::www, {server.challenge("n2")}).verdict == challenge_verdict::retry);
  hs = authorize(c, "REGISTER", register_uri);
  REQUIRE(hs.size() == 1);
  CHECK(server.verify(hs[0].value, "REGISTER", register_uri) == digest_check::ok);
  CHECK(hs[0].value.find("nc=00000001") != std::string::npos);
}

TEST_CASE("a new nonce without stale after a direct answer also means bad credentials") {
  // RFC 7616 §3.3: stale absent means the username/password are invalid; servers that send a
  // fresh nonce with every 401 would otherwise make the phone loop.
  digest_server server({.realm = "example.com", .username = "alice", .password = "other"});
  auto c = make_client();
  REQUIRE(challenge(c, challenge_kind::www, {server.challenge("n1")}).verdict ==
          challenge_verdict::retry);
  auto sent = values(authorize(c, "REGISTER", register_uri));
  auto o = challenge(c, challenge_kind::www, {server.challenge("n2")}, sent);
  CHECK(o.verdict == challenge_verdict::fail_bad_credentials);
}

TEST_CASE("stale=true with a new nonce is retried and is not a failure") {
  digest_server server({.realm = "example.com",
                        .username = "alice",
                        .password = std::string(password),
                        .algorithm = "SHA-256"});
  auto c = make_client();
  REQUIRE(challenge(c, challenge_kind::www, {server.challenge("n1")}).verdict ==
          challenge_verdict::retry);
  auto first = values(authorize(c, "REGISTER", register_uri));
  CHECK(server.verify(first[0], "REGISTER", register_uri) == digest_check::ok);

  server.expire("n1");
  auto pre = values(authorize(c, "REGISTER", register_uri));  // pre-authorised, nc=2
  CHECK(server.verify(pre[0], "REGISTER", register_uri) == digest_check::stale_nonce);
  auto o = challenge(c, challenge_kind::www, {server.challenge("n2", true)}, pre);
  CHECK(o.verdict == challenge_verdict::retry);
  auto retry = values(authorize(c, "REGISTER", register_uri));
  CHECK(retry[0].find("nonce=\"n2\"") != std::string::npos);
  CHECK(retry[0].find("nc=00000001") != std::string::npos);  // counting restarts per nonce
  CHECK(server.verify(retry[0], "REGISTER", register_uri) == digest_check::ok);
}

TEST_CASE("stale=true twice in a row is still retried, a repeated stale nonce is not") {
  auto c = make_client();
  REQUIRE(challenge(c, challenge_kind::www, {"Digest realm=r, nonce=n1, qop=auth"}).verdict ==
          challenge_verdict::retry);
  auto a = values(authorize(c, "INVITE", "sip:bob@r"));
  REQUIRE(challenge(c, challenge_kind::www, {"Digest realm=r, nonce=n2, qop=auth, stale=true"}, a)
              .verdict == challenge_verdict::retry);
  auto b = values(authorize(c, "INVITE", "sip:bob@r"));
  REQUIRE(challenge(c, challenge_kind::www, {"Digest realm=r, nonce=n3, qop=auth, stale=true"}, b)
              .verdict == challenge_verdict::retry);
  auto d = values(authorize(c, "INVITE", "sip:bob@r"));
  CHECK(challenge(c, challenge_kind::www, {"Digest realm=r, nonce=n3, qop=auth, stale=true"}, d)
            .verdict == challenge_verdict::fail_unsupported);
}

TEST_CASE("the next request is pre-authorised with the cached challenge and nc=00000002") {
  digest_server server({.realm = "example.com",
                        .username = "alice",
                        .password = std::string(password),
                        .opaque = "xyz"});
  auto c = make_client();
  REQUIRE(challenge(c, challenge_kind::www, {server.challenge("n1")}).verdict ==
          challenge_verdict::retry);
  auto first = values(authorize(c, "REGISTER", register_uri));
  CHECK(first[0].find("nc=00000001") != std::string::npos);
  CHECK(first[0].find("cnonce=\"cn1\"") != std::string::npos);
  CHECK(server.verify(first[0], "REGISTER", register_uri) == digest_check::ok);

  auto next = values(authorize(c, "INVITE", "sip:bob@example.com"));
  REQUIRE(next.size() == 1);
  CHECK(next[0].find("nonce=\"n1\"") != std::string::npos);
  CHECK(next[0].find("nc=00000002") != std::string::npos);
  CHECK(next[0].find("cnonce=\"cn2\"") != std::string::npos);
  CHECK(next[0].find("opaque=\"xyz\"") != std::string::npos);
  CHECK(server.verify(next[0], "INVITE", "sip:bob@example.com") == digest_check::ok);
  // Replaying the first answer is caught by the server's nonce-count check.
  CHECK(server.verify(first[0], "REGISTER", register_uri) == digest_check::replayed_nc);
}

TEST_CASE("a pre-authorisation refused with a new nonce is retried once with it") {
  // A server that does not accept reused nonces may answer nc=2 with a fresh nonce and no
  // stale flag; the credentials were never tried with that nonce, so this is not a failure.
  auto c = make_client();
  REQUIRE(challenge(c, challenge_kind::www, {"Digest realm=r, nonce=n1, qop=auth"}).verdict ==
          challenge_verdict::retry);
  (void)authorize(c, "REGISTER", register_uri);
  auto pre = values(authorize(c, "REGISTER", register_uri));
  REQUIRE(challenge(c, challenge_kind::www, {"Digest realm=r, nonce=n2, qop=auth"}, pre).verdict ==
          challenge_verdict::retry);
  auto direct = values(authorize(c, "REGISTER", register_uri));
  CHECK(direct[0].find("nc=00000001") != std::string::npos);
  CHECK(challenge(c, challenge_kind::www, {"Digest realm=r, nonce=n3, qop=auth"}, direct).verdict ==
        challenge_verdict::fail_bad_credentials);
}

TEST_CASE("the same nonce challenged again for a request sent without credentials keeps counting") {
  auto c = make_client();
  REQUIRE(challenge(c, challenge_kind::www, {"Digest realm=r, nonce=n1, qop=auth"}).verdict ==
          challenge_verdict::retry);
  (void)authorize(c, "REGISTER", register_uri);
  REQUIRE(challenge(c, challenge_kind::www, {"Digest realm=r, nonce=n1, qop=auth"}).verdict ==
          challenge_verdict::retry);
  auto again = values(authorize(c, "REGISTER", register_uri));
  CHECK(again[0].find("nc=00000002") != std::string::npos);  // a nonce-count never repeats
}

TEST_CASE("Proxy-Authenticate is answered with Proxy-Authorization") {
  digest_server proxy(
      {.realm = "proxy.example.com", .username = "alice", .password = std::string(password)});
  auto c = make_client();
  REQUIRE(challenge(c, challenge_kind::proxy, {proxy.challenge("p1")}).verdict ==
          challenge_verdict::retry);
  auto hs = authorize(c, "INVITE", "sip:bob@example.com");
  REQUIRE(hs.size() == 1);
  CHECK(hs[0].id == header_id::proxy_authorization);
  CHECK(hs[0].name == "Proxy-Authorization");
  CHECK(proxy.verify(hs[0].value, "INVITE", "sip:bob@example.com") == digest_check::ok);

  // The same nonce again from the proxy: wrong credentials there too.
  auto o = challenge(c, challenge_kind::proxy, {proxy.challenge("p1")}, values(hs));
  CHECK(o.verdict == challenge_verdict::fail_bad_credentials);
}

TEST_CASE("challenges from a registrar and a proxy are both answered") {
  auto c = make_client();
  REQUIRE(challenge(c, challenge_kind::www, {"Digest realm=reg, nonce=a, qop=auth"}).verdict ==
          challenge_verdict::retry);
  REQUIRE(challenge(c, challenge_kind::proxy,
                    {"Digest realm=p1, nonce=b", "Digest realm=p2, nonce=c, algorithm=SHA-256"})
              .verdict == challenge_verdict::retry);
  auto hs = authorize(c, "INVITE", "sip:bob@example.com");
  REQUIRE(hs.size() == 3);
  CHECK(hs[0].name == "Authorization");
  CHECK(hs[1].name == "Proxy-Authorization");
  CHECK(hs[2].name == "Proxy-Authorization");
  CHECK(hs[2].value.find("algorithm=SHA-256") != std::string::npos);
}

TEST_CASE("challenges the client cannot answer give fail_unsupported with a reason") {
  struct row {
    std::vector<std::string> challenges;
    std::string_view reason_part;
  };
  const row rows[] = {
      {{"Digest realm=r, nonce=n, algorithm=SHA-512-256"}, "SHA-512-256"},
      {{"Digest realm=r, nonce=n, qop=\"auth-int\""}, "auth-int"},
      {{"Digest realm=r, nonce=n, qop=\"x-token\""}, "qop"},
      {{"Digest realm=r, nonce=n, algorithm=MD5-sess"}, "-sess"},
      {{"Basic realm=\"r\""}, "Basic"},
      {{"Bearer realm=\"r\"", "Digest realm=r, nonce=n, algorithm=AKAv1-MD5"}, "Bearer"},
  };
  for (const auto& r : rows) {
    CAPTURE(r.challenges[0]);
    auto c = make_client();
    auto o = challenge(c, challenge_kind::www, r.challenges);
    CHECK(o.verdict == challenge_verdict::fail_unsupported);
    CHECK(o.reason.find(r.reason_part) != std::string::npos);
    CHECK(o.reason.find(password) == std::string::npos);
  }
}

TEST_CASE("a supported challenge is used when others are not") {
  auto c = make_client();
  auto o = challenge(c, challenge_kind::www,
                     {"Basic realm=\"r\"", "Digest realm=r, nonce=n, qop=\"auth-int\"",
                      "Digest realm=\"r\", nonce=\"m\", qop=\"auth-int,auth\"", "Digest garbage"});
  REQUIRE(o.verdict == challenge_verdict::retry);
  auto hs = authorize(c, "OPTIONS", "sip:r");
  REQUIRE(hs.size() == 1);
  CHECK(hs[0].value.find("nonce=\"m\"") != std::string::npos);
}

TEST_CASE("credentials restricted to a realm do not answer another realm") {
  auto c = make_client("example.com");
  auto o = challenge(c, challenge_kind::www, {"Digest realm=\"evil.example\", nonce=n"});
  CHECK(o.verdict == challenge_verdict::fail_unsupported);
  CHECK(o.reason.find("evil.example") != std::string::npos);
  CHECK(challenge(c, challenge_kind::www, {"Digest realm=\"example.com\", nonce=n"}).verdict ==
        challenge_verdict::retry);
}

TEST_CASE("malformed or missing challenges give fail_malformed") {
  auto c = make_client();
  auto none = challenge(c, challenge_kind::www, {});
  CHECK(none.verdict == challenge_verdict::fail_malformed);
  CHECK_FALSE(none.reason.empty());
  for (std::string bad : {"", "Digest realm=\"r", "Digest nonce=n", "Digest realm=r", "\x7f\x01"}) {
    CAPTURE(bad);
    auto o = challenge(c, challenge_kind::www, {bad});
    CHECK(o.verdict == challenge_verdict::fail_malformed);
    CHECK_FALSE(o.reason.empty());
  }
  CHECK(authorize(c, "REGISTER", register_uri).empty());
}

TEST_CASE("a bad cnonce generator or a control character in the URI gives an error") {
  digest_client quote({.credentials = {.username = "a", .password = "p"},
                       .make_cnonce = [] { return std::string("bad\"cnonce"); }});
  REQUIRE(challenge(quote, challenge_kind::www, {"Digest realm=r, nonce=n, qop=auth"}).verdict ==
          challenge_verdict::retry);
  CHECK_FALSE(quote.authorization({.method = "REGISTER", .uri = register_uri}).ok());

  digest_client none({.credentials = {.username = "a", .password = "p"}, .make_cnonce = {}});
  REQUIRE(challenge(none, challenge_kind::www, {"Digest realm=r, nonce=n, qop=auth"}).verdict ==
          challenge_verdict::retry);
  CHECK_FALSE(none.authorization({.method = "REGISTER", .uri = register_uri}).ok());

  auto c = make_client();
  REQUIRE(challenge(c, challenge_kind::www, {"Digest realm=r, nonce=n"}).verdict ==
          challenge_verdict::retry);
  CHECK_FALSE(c.authorization({.method = "REGISTER", .uri = "sip:x\r\nVia: evil"}).ok());
}

TEST_CASE("quotes and backslashes in the username and realm are escaped") {
  digest_client c({.credentials = {.username = "al\"ice\\", .password = "p"},
                   .make_cnonce = counting_cnonce()});
  REQUIRE(challenge(c, challenge_kind::www, {"Digest realm=\"r\\\"x\", nonce=n"}).verdict ==
          challenge_verdict::retry);
  auto hs = authorize(c, "REGISTER", register_uri);
  REQUIRE(hs.size() == 1);
  CHECK(hs[0].value.find("username=\"al\\\"ice\\\\\"") != std::string::npos);
  CHECK(hs[0].value.find("realm=\"r\\\"x\"") != std::string::npos);
  auto back = parse_digest_credentials(hs[0].value);
  REQUIRE(back.ok());
  CHECK(back->username == "al\"ice\\");
  CHECK(back->realm == "r\"x");
}

TEST_CASE("a moved client keeps its cache and answers as before") {
  auto a = make_client();
  REQUIRE(challenge(a, challenge_kind::www, {"Digest realm=r, nonce=n, qop=auth"}).verdict ==
          challenge_verdict::retry);
  (void)authorize(a, "REGISTER", register_uri);
  digest_client b = std::move(a);
  auto hs = authorize(b, "REGISTER", register_uri);
  REQUIRE(hs.size() == 1);
  CHECK(hs[0].value.find("nc=00000002") != std::string::npos);
  b.clear();
  CHECK(authorize(b, "REGISTER", register_uri).empty());
}
