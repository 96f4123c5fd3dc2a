// sipfleet parse: reads SIP messages from files (or standard input) and prints what the SIP
// core decodes: the start line, the key headers, every header and the body size; or the
// reason a phone would put in its 400 response. Useful to see why a message from a proxy is
// refused.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <string>
#include <vector>

#include "app/commands.hpp"
#include "sip/message.hpp"

namespace sipfleet::app {
namespace {

int g_exit_code = 0;

struct parse_settings {
  std::vector<std::string> files;
  bool stream = false;
};

std::string printable(std::string_view v) {
  std::string out;
  for (char c : v) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", u);
      out += buf;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

void print_message(const sip::message& m) {
  if (m.is_request()) {
    std::printf("request  %s %s\n", printable(m.method_text()).c_str(),
                printable(m.request_uri().text).c_str());
  } else {
    std::printf("response %d %s (to %s)\n", m.status_code(), printable(m.reason()).c_str(),
                printable(m.method_text()).c_str());
  }
  std::printf("call-id  %s\n", printable(m.call_id()).c_str());
  std::printf("cseq     %u %s\n", m.cseq().number, printable(m.cseq().method_text).c_str());
  std::printf("from     %s tag=%s\n", printable(m.from().uri.text).c_str(),
              printable(m.from().tag).c_str());
  std::printf("to       %s tag=%s\n", printable(m.to().uri.text).c_str(),
              printable(m.to().tag).c_str());
  std::printf("via      %s %s:%u branch=%s%s\n", printable(m.top_via().transport).c_str(),
              printable(m.top_via().host).c_str(), m.top_via().port,
              printable(m.top_via().branch).c_str(),
              m.top_via().rfc3261_branch() ? "" : " (not RFC 3261)");
  std::printf("headers  %zu\n", m.headers().size());
  for (const auto& h : m.headers()) {
    const auto& info = sip::header_info_of(h.id);
    std::printf("  %-20s %s\n", std::string(info.name.empty() ? h.name : info.name).c_str(),
                printable(h.value).c_str());
  }
  std::printf("body     %zu bytes\n", m.body().size());
}

void parse_one(const std::string& name, const std::string& bytes, bool stream) {
  const auto r = sip::message::parse(
      bytes, {.framing = stream ? sip::framing::stream : sip::framing::datagram});
  if (!r) {
    std::printf("%s: malformed: %s (a phone answers 400 %s)\n", name.c_str(),
                r.err().reason.c_str(), r.err().reason.c_str());
    g_exit_code = 1;
    return;
  }
  std::printf("%s: well-formed\n", name.c_str());
  print_message(*r);
}

}  // namespace

int exit_code() { return g_exit_code; }
void set_exit_code(int code) { g_exit_code = code; }

void add_parse_command(CLI::App& app) {
  auto settings = std::make_shared<parse_settings>();
  auto* cmd = app.add_subcommand(
      "parse",
      "Parse SIP messages from files (or standard input) and print what sipfleet decodes, or\n"
      "the reason it rejects them. Exit status 1 when any message is malformed.");
  cmd->add_option("files", settings->files, "Files holding one SIP message each ('-' or none: stdin)");
  cmd->add_flag("--stream", settings->stream,
                "Read as from TCP: Content-Length is required (default: as from UDP)");
  cmd->callback([settings] {
    if (settings->files.empty()) settings->files.push_back("-");
    for (const auto& file : settings->files) {
      std::string bytes;
      if (file == "-") {
        bytes.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
      } else {
        std::ifstream in(file, std::ios::binary);
        if (!in) {
          std::fprintf(stderr, "sipfleet parse: cannot read %s\n", file.c_str());
          g_exit_code = 2;
          return;
        }
        bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
      }
      parse_one(file, bytes, settings->stream);
    }
  });
}

}  // namespace sipfleet::app
