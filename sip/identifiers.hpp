// The random identifiers a UA puts in its messages: Via branches (RFC 3261 §8.1.1.7), From/To
// tags (§19.3) and Call-IDs (§8.1.1.4).
//
// Randomness comes from an injected random_source that the caller seeds, never from a clock or
// global state: a test that seeds it gets the same messages every run, and each phone actor can
// own one (it is 32 bytes and needs no lock). xoshiro256** seeded through splitmix64 is fast and
// statistically good; it is not a cryptographic generator. §8.1.1.4 recommends cryptographically
// random Call-IDs against guessing; for a load generator uniqueness is what matters, and a caller
// who wants more can seed each source from std::random_device.
//
// Tokens use a 64-character alphabet of RFC 3261 token characters (alphanumerics, '-' and '.'),
// so they are valid in a branch, a tag and a Call-ID alike, and each character carries 6 bits.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

namespace sipfleet::sip {

// xoshiro256** (Blackman and Vigna), its state expanded from one 64-bit seed by splitmix64.
// Meets UniformRandomBitGenerator, so the <random> distributions accept it too.
class random_source {
 public:
  using result_type = std::uint64_t;

  explicit random_source(std::uint64_t seed);

  std::uint64_t next();
  result_type operator()() { return next(); }
  static constexpr result_type min() { return 0; }
  static constexpr result_type max() { return std::numeric_limits<result_type>::max(); }

 private:
  std::array<std::uint64_t, 4> s_;
};

// §8.1.1.7: the branch of every request sent by an RFC 3261 element starts with this cookie.
inline constexpr std::string_view branch_cookie = "z9hG4bK";

// Random token sizes (characters; 6 bits each). A branch has 96 random bits, which is unique
// "across space and time" for any fleet we will ever run; tags need 32 bits by §19.3, we give
// 60 and stay within the small-string buffer (no allocation); a Call-ID gets 120 bits.
inline constexpr std::size_t branch_token_size = 16;
inline constexpr std::size_t tag_size = 10;
inline constexpr std::size_t call_id_token_size = 20;

// Appends `count` random token characters to `out` (no allocation beyond out's own growth).
void append_token(std::string& out, random_source& rng, std::size_t count);

// Appends "z9hG4bK" + a random token: a new branch, e.g. straight into a Via being written.
void append_branch(std::string& out, random_source& rng);

// A new Via branch, "z9hG4bK" + 16 token characters.
std::string make_branch(random_source& rng);

// A new From or To tag (§19.3).
std::string make_tag(random_source& rng);

// A new Call-ID (§8.1.1.4): a random token, followed by "@host" when a host is given.
std::string make_call_id(random_source& rng, std::string_view host = {});

// An initial CSeq number for a new call or dialog (§8.1.1.5): random, below 2**31, and at most
// 2**30 so a long dialog can never run out of numbers.
std::uint32_t make_initial_cseq(random_source& rng);

}  // namespace sipfleet::sip
