// libFuzzer target for digest challenge and credentials parsing: a hostile registrar or proxy
// controls these header values, so any bytes must give a value or an error.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "sip/digest.hpp"

using namespace sipfleet::sip;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)parse_digest_challenge(text);
  (void)parse_digest_credentials(text);
  return 0;
}
