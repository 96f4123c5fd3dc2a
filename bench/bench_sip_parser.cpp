// Parse and build throughput of the SIP core on one core: a typical INVITE with SDP, a
// typical 200 OK (to REGISTER, the message a fleet of phones sees most) and a 200 OK to
// INVITE with SDP, as a phone behind Kamailio sees them. Prints messages per second and
// nanoseconds per message. Target (issue 2): at least 1,000,000 parses/s of a typical 200 OK.
//   build/release/bench/bench_sip_parser [SECONDS_PER_CASE]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "bench_messages.hpp"
#include "sip/builder.hpp"
#include "sip/message.hpp"

namespace {

volatile std::size_t g_sink = 0;

template <class F>
void run(const char* name, double seconds, std::size_t bytes, F&& f) {
  using clock = std::chrono::steady_clock;
  for (int i = 0; i < 10000; ++i) f();  // warm up
  std::size_t n = 0;
  const auto start = clock::now();
  const auto until = start + std::chrono::duration<double>(seconds);
  auto now = start;
  while (now < until) {
    for (int i = 0; i < 1000; ++i) f();
    n += 1000;
    now = clock::now();
  }
  const double elapsed = std::chrono::duration<double>(now - start).count();
  const auto count = static_cast<double>(n);
  std::printf("%-34s %10.0f msg/s %8.1f ns/msg %8.1f MB/s\n", name, count / elapsed,
              elapsed * 1e9 / count, count * static_cast<double>(bytes) / elapsed / 1e6);
}

}  // namespace

int main(int argc, char** argv) {
  using namespace sipfleet::sip;
  const double seconds = argc > 1 ? std::atof(argv[1]) : 2.0;
  const std::string invite = sipfleet::bench::typical_invite();
  const std::string ok = sipfleet::bench::typical_200_ok();
  const std::string reg_ok = sipfleet::bench::typical_register_200_ok();
  if (!message::parse(invite) || !message::parse(ok) || !message::parse(reg_ok)) {
    std::fprintf(stderr, "bench: the sample messages do not parse\n");
    return 1;
  }
  std::printf("sip core, one thread (INVITE %zu bytes, 200 OK to REGISTER %zu, 200 OK to INVITE %zu)\n",
              invite.size(), reg_ok.size(), ok.size());
  run("parse INVITE with SDP", seconds, invite.size(), [&] {
    auto m = message::parse(invite);
    g_sink = g_sink + m->headers().size();
  });
  run("parse 200 OK (REGISTER)", seconds, reg_ok.size(), [&] {
    auto m = message::parse(reg_ok);
    g_sink = g_sink + m->headers().size();
  });
  run("parse 200 OK with SDP (INVITE)", seconds, ok.size(), [&] {
    auto m = message::parse(ok);
    g_sink = g_sink + m->headers().size();
  });

  // Building: what a phone writes for the same messages, into a reused buffer.
  const std::string sdp = sipfleet::bench::with_crlf(sipfleet::bench::k_sdp);
  const std::string_view routes[] = {"<sip:127.0.0.1:5060;lr>"};
  const extra_header extra[] = {{"Allow", "INVITE, ACK, CANCEL, BYE, OPTIONS, REFER, NOTIFY, INFO, UPDATE"},
                                {"Supported", "replaces, timer"},
                                {"User-Agent", "sipfleet/0.1"}};
  const request_options invite_options{
      .method = method::invite,
      .request_uri = "sip:1002@sipfleet.test",
      .via = {.transport = via_transport::udp, .host = "127.0.0.2", .port = 5060,
              .branch = "z9hG4bK1f2e3d4c5b6a", .rport = true},
      .from = "\"1001\" <sip:1001@sipfleet.test>",
      .from_tag = "a73kszlfl",
      .to = "<sip:1002@sipfleet.test>",
      .call_id = "9f8e7d6c5b4a39281706f5e4d3c2b1a0@127.0.0.2",
      .cseq = 2,
      .contact = "<sip:1001@127.0.0.2:5060;transport=udp>",
      .routes = routes,
      .headers = extra,
      .content_type = "application/sdp",
      .body = sdp};
  std::string out;
  out.reserve(2048);
  run("build INVITE with SDP", seconds, invite.size(), [&] {
    out.clear();
    write_request(out, invite_options);
    g_sink = g_sink + out.size();
  });
  const auto parsed_invite = message::parse(invite);
  const extra_header ok_extra[] = {extra[0], extra[1], {"Server", "sipfleet/0.1"}};
  const response_options ok_options{.status = 200, .to_tag = "8f7a6b5c",
                                    .contact = "<sip:1002@127.0.0.3:5060;transport=udp>",
                                    .headers = ok_extra, .content_type = "application/sdp",
                                    .body = sdp};
  run("build 200 OK with SDP (INVITE)", seconds, ok.size(), [&] {
    out.clear();
    write_response(out, *parsed_invite, ok_options);
    g_sink = g_sink + out.size();
  });
  return 0;
}
