// The run report (see report.hpp).
#include "app/report.hpp"

#include <boost/json.hpp>

namespace sipfleet::app {
namespace {

boost::json::object by_code(const std::map<int, std::uint64_t>& codes) {
  boost::json::object o;
  for (const auto& [code, n] : codes) o[std::to_string(code)] = n;
  return o;
}

}  // namespace

std::string report_json(const report_inputs& in) {
  const auto& s = *in.stats;
  const auto setup = s.setup_ms();
  boost::json::object doc;
  doc["phones"] = {{"total", s.phones_total.load()}, {"registered", in.phones_registered}};
  doc["registrations"] = {{"succeeded", s.registrations_succeeded.load()},
                          {"failed", s.registrations_failed.load()},
                          {"by_code", by_code(s.registration_codes())}};
  doc["calls"] = {{"attempted", s.calls_attempted.load()},
                  {"answered", s.calls_answered.load()},
                  {"failed", s.calls_failed.load()},
                  {"received", s.calls_received.load()},
                  {"by_code", by_code(s.call_codes())},
                  {"setup_ms", {{"p50", setup.p50}, {"p95", setup.p95}, {"p99", setup.p99}}}};
  doc["sip"] = {{"retransmissions", s.retransmissions.load()},
                {"parse_errors", s.parse_errors.load()},
                {"unroutable", s.unroutable.load()}};
  doc["phone_restarts"] = s.phone_restarts.load();
  doc["duration_s"] = in.duration_s;
  doc["interrupted"] = in.interrupted;
  return boost::json::serialize(doc) + "\n";
}

void print_summary(std::FILE* out, const report_inputs& in) {
  const auto& s = *in.stats;
  const auto setup = s.setup_ms();
  std::string reg_codes;
  for (const auto& [code, n] : s.registration_codes()) reg_codes += " " + std::to_string(code) + ":" + std::to_string(n);
  std::string call_codes;
  for (const auto& [code, n] : s.call_codes()) call_codes += " " + std::to_string(code) + ":" + std::to_string(n);
  std::fprintf(out, "\nsipfleet run report%s\n", in.interrupted ? " (interrupted)" : "");
  std::fprintf(out, "  %-16s %lld registered of %lld\n", "phones",
               static_cast<long long>(in.phones_registered), static_cast<long long>(s.phones_total.load()));
  std::fprintf(out, "  %-16s %llu succeeded, %llu failed   codes:%s\n", "registrations",
               static_cast<unsigned long long>(s.registrations_succeeded.load()),
               static_cast<unsigned long long>(s.registrations_failed.load()), reg_codes.c_str());
  std::fprintf(out, "  %-16s %llu attempted, %llu answered, %llu failed   codes:%s\n", "calls",
               static_cast<unsigned long long>(s.calls_attempted.load()),
               static_cast<unsigned long long>(s.calls_answered.load()),
               static_cast<unsigned long long>(s.calls_failed.load()), call_codes.c_str());
  std::fprintf(out, "  %-16s p50 %.1f ms, p95 %.1f ms, p99 %.1f ms\n", "call setup", setup.p50, setup.p95,
               setup.p99);
  std::fprintf(out, "  %-16s %llu retransmissions, %llu malformed messages\n", "sip",
               static_cast<unsigned long long>(s.retransmissions.load()),
               static_cast<unsigned long long>(s.parse_errors.load()));
  std::fprintf(out, "  %-16s %.1f s\n", "duration", in.duration_s);
}

}  // namespace sipfleet::app
