// The run report (see report.hpp).
#include "app/report.hpp"

#include <sys/resource.h>

#include <algorithm>

#include <boost/json.hpp>

namespace sipfleet::app {
namespace {

boost::json::object by_code(const std::map<int, std::uint64_t>& codes) {
  boost::json::object o;
  for (const auto& [code, n] : codes) o[std::to_string(code)] = n;
  return o;
}

}  // namespace

double process_cpu_seconds() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  const auto secs = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
  return secs(u.ru_utime) + secs(u.ru_stime);
}

long process_max_rss_kb() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss;
}

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
                {"unroutable", s.unroutable.load()},
                {"send_errors", s.send_errors.load()}};
  doc["phone_restarts"] = s.phone_restarts.load();
  if (in.media) {
    const auto m = s.media();
    const double loss_pct = m.loss_pct();
    doc["media"] = {{"enabled", true},
                    {"streams", m.streams},
                    {"packets_sent", m.packets_sent},
                    {"packets_received", m.packets_received},
                    {"lost", m.lost},
                    {"loss_pct", loss_pct},
                    {"duplicates", m.duplicates},
                    {"jitter_ms", {{"p50", m.jitter_ms.p50}, {"p95", m.jitter_ms.p95}}},
                    {"mos", {{"avg", m.mos_avg}, {"min", m.mos_min}}},
                    {"dtmf", {{"sent", m.digits_sent}, {"received", m.digits_received}}},
                    {"open_failures", s.media_open_failures.load()},
                    {"send_errors", in.media->send_errors},
                    {"receive_errors", in.media->receive_errors},
                    {"malformed", in.media->malformed},
                    {"worker_nice", in.media->worker_nice},
                    {"worker_rt_priority", in.media->worker_rt_priority},
                    {"rt_workers", in.media->rt_workers},
                    {"workers", in.media->workers},
                    {"rt_demotions", in.media->rt_demotions},
                    {"pacing_late_ms", {{"p50", in.media->late_p50_ms}, {"p99", in.media->late_p99_ms},
                                        {"max", in.media->late_max_ms}}}};
  } else {
    doc["media"] = {{"enabled", false}};
  }
  const auto& p = in.phases;
  doc["phases"] = {{"registration_s", p.registration_s}, {"calls_s", p.calls_s}, {"shutdown_s", p.shutdown_s}};
  doc["process"] = {{"cpu_registration_s", p.cpu_registration_s},
                    {"cpu_calls_s", p.cpu_calls_s},
                    {"cpu_shutdown_s", p.cpu_shutdown_s},
                    {"max_rss_kb", p.max_rss_kb}};
  doc["duration_s"] = in.duration_s;
  doc["interrupted"] = in.interrupted;
  return boost::json::serialize(doc) + "\n";
}

std::string call_record_json(const ua::call_record& r, std::chrono::steady_clock::time_point t0) {
  const auto ms = [&](std::chrono::steady_clock::time_point t) {
    return std::chrono::duration<double, std::milli>(t - t0).count();
  };
  boost::json::object o;
  o["call_id"] = r.call_id;
  o["direction"] = r.outgoing ? "outgoing" : "incoming";
  o["peer"] = r.peer;
  o["started_ms"] = ms(r.started);
  if (r.ringing) o["ringing_ms"] = ms(*r.ringing);
  if (r.answered) o["answered_ms"] = ms(*r.answered);
  if (r.ended) o["ended_ms"] = ms(*r.ended);
  o["end_code"] = r.end_code;
  o["end_reason"] = r.end_reason;
  o["ended_by_us"] = r.ended_by_us;
  o["retransmissions"] = r.retransmissions;
  if (r.media.started) {
    const auto& m = r.media;
    boost::json::object media{{"packets_sent", m.packets_sent},
                              {"packets_received", m.packets_received},
                              {"lost", m.lost},
                              {"expected", m.expected},
                              {"duplicates", m.duplicates},
                              {"reordered", m.reordered},
                              {"jitter_ms", m.jitter_ms},
                              {"mos", m.mos},
                              {"dtmf_sent", m.digits_sent},
                              {"dtmf_received", m.digits_received}};
    if (m.rtt_ms) media["rtt_ms"] = *m.rtt_ms;
    o["media"] = std::move(media);
  }
  return boost::json::serialize(o) + "\n";
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
  if (in.media) {
    const auto m = s.media();
    const double loss_pct = m.loss_pct();
    std::fprintf(out, "  %-16s %llu streams, %llu packets sent, %llu received, %lld lost (%.3f%%)\n", "media",
                 static_cast<unsigned long long>(m.streams), static_cast<unsigned long long>(m.packets_sent),
                 static_cast<unsigned long long>(m.packets_received), static_cast<long long>(m.lost), loss_pct);
    std::fprintf(out, "  %-16s jitter p50 %.2f ms, p95 %.2f ms; MOS avg %.2f, min %.2f; DTMF %llu sent, %llu heard\n",
                 "", m.jitter_ms.p50, m.jitter_ms.p95, m.mos_avg, m.mos_min,
                 static_cast<unsigned long long>(m.digits_sent), static_cast<unsigned long long>(m.digits_received));
    char sched[96];
    if (in.media->worker_rt_priority > 0)
      std::snprintf(sched, sizeof sched, "SCHED_FIFO priority %d: %u of %u", in.media->worker_rt_priority,
                    in.media->rt_workers, in.media->workers);
    else
      std::snprintf(sched, sizeof sched, "nice %d", in.media->worker_nice);
    std::fprintf(out, "  %-16s packets left p50 %.2f ms, p99 %.2f ms after their due time (media threads at %s)\n",
                 "", in.media->late_p50_ms, in.media->late_p99_ms, sched);
    if (in.media->rt_demotions > 0)
      std::fprintf(out, "  %-16s media threads left real-time scheduling %llu time(s), behind for 200 ms\n", "",
                   static_cast<unsigned long long>(in.media->rt_demotions));
  }
  std::fprintf(out, "  %-16s %.1f s (registration %.1f s, calls %.1f s, shutdown %.1f s)\n", "duration",
               in.duration_s, in.phases.registration_s, in.phases.calls_s, in.phases.shutdown_s);
  std::fprintf(out, "  %-16s %.2f s CPU (registration %.2f, calls %.2f), peak RSS %.1f MiB\n", "process",
               in.phases.cpu_registration_s + in.phases.cpu_calls_s + in.phases.cpu_shutdown_s,
               in.phases.cpu_registration_s, in.phases.cpu_calls_s, static_cast<double>(in.phases.max_rss_kb) / 1024.0);
}

}  // namespace sipfleet::app
