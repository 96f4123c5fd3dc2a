// Random identifiers for branches, tags and Call-IDs (RFC 3261 §8.1.1.4, §8.1.1.7, §19.3).
#include "sip/identifiers.hpp"

namespace sipfleet::sip {
namespace {

// 64 RFC 3261 token characters (§25.1): one character per 6 random bits.
constexpr std::string_view k_alphabet =
    "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-.";
static_assert(k_alphabet.size() == 64);

constexpr std::uint64_t splitmix64(std::uint64_t& x) {
  std::uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

constexpr std::uint64_t rotl(std::uint64_t x, int k) {
  return (x << k) | (x >> (64 - k));
}

}  // namespace

random_source::random_source(std::uint64_t seed) {
  // splitmix64 never yields an all-zero xoshiro state from consecutive outputs.
  for (auto& word : s_) word = splitmix64(seed);
}

std::uint64_t random_source::next() {
  const std::uint64_t out = rotl(s_[1] * 5, 7) * 9;
  const std::uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return out;
}

void append_token(std::string& out, random_source& rng, std::size_t count) {
  const std::size_t start = out.size();
  out.resize(start + count);
  char* p = out.data() + start;
  // Ten 6-bit characters per 64-bit draw (the top 4 bits are dropped).
  std::uint64_t bits = 0;
  int left = 0;
  for (std::size_t i = 0; i < count; ++i) {
    if (left == 0) {
      bits = rng.next();
      left = 10;
    }
    p[i] = k_alphabet[bits & 63u];
    bits >>= 6;
    --left;
  }
}

void append_branch(std::string& out, random_source& rng) {
  out.append(branch_cookie);
  append_token(out, rng, branch_token_size);
}

std::string make_branch(random_source& rng) {
  std::string out;
  out.reserve(branch_cookie.size() + branch_token_size);
  append_branch(out, rng);
  return out;
}

std::string make_tag(random_source& rng) {
  std::string out;
  append_token(out, rng, tag_size);
  return out;
}

std::string make_call_id(random_source& rng, std::string_view host) {
  std::string out;
  out.reserve(call_id_token_size + (host.empty() ? 0 : host.size() + 1));
  append_token(out, rng, call_id_token_size);
  if (!host.empty()) out.append(1, '@').append(host);
  return out;
}

std::uint32_t make_initial_cseq(random_source& rng) {
  // 1 .. 2**30: never 0, leaves 2**30 numbers of room below the §8.1.1.5 limit of 2**31.
  return static_cast<std::uint32_t>(rng.next() >> 34) + 1;
}

}  // namespace sipfleet::sip
