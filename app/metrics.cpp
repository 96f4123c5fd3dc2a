// The Prometheus exposition (see metrics.hpp).
#include "app/metrics.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <vector>

#include <prometheus/metric_family.h>
#include <prometheus/text_serializer.h>

#include "sip/method.hpp"

namespace sipfleet::app {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

using labels = std::vector<ClientMetric::Label>;

struct families {
  std::vector<MetricFamily> out;

  MetricFamily& family(const char* name, const char* help, MetricType type) {
    out.push_back({.name = name, .help = help, .type = type, .metric = {}});
    return out.back();
  }
  void counter(const char* name, const char* help, double v) { add(family(name, help, MetricType::Counter), {}, v); }
  void gauge(const char* name, const char* help, double v) { add(family(name, help, MetricType::Gauge), {}, v); }
  static void add(MetricFamily& f, labels l, double v) {
    ClientMetric m;
    m.label = std::move(l);
    if (f.type == MetricType::Counter) {
      m.counter.value = v;
    } else {
      m.gauge.value = v;
    }
    f.metric.push_back(std::move(m));
  }
  void histogram(const char* name, const char* help, const actors::bucket_histogram& h) {
    const auto r = h.read();
    ClientMetric m;
    for (std::size_t i = 0; i < r.upper_bounds.size(); ++i)
      m.histogram.bucket.push_back({.cumulative_count = r.cumulative[i], .upper_bound = r.upper_bounds[i]});
    m.histogram.bucket.push_back(
        {.cumulative_count = r.cumulative.back(), .upper_bound = std::numeric_limits<double>::infinity()});
    m.histogram.sample_count = r.cumulative.back();
    m.histogram.sample_sum = r.sum;
    family(name, help, MetricType::Histogram).metric.push_back(std::move(m));
  }
};

double d(std::uint64_t v) { return static_cast<double>(v); }
double d(std::int64_t v) { return static_cast<double>(v); }

// Process metrics as Prometheus's client libraries name them (cheap: one getrusage, one read).
void process_metrics(families& f) {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  const auto secs = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
  f.counter("process_cpu_seconds_total", "User and system CPU time spent in seconds.", secs(u.ru_utime) + secs(u.ru_stime));
  long pages = 0, resident = 0;
  if (std::ifstream statm("/proc/self/statm"); statm >> pages >> resident)
    f.gauge("process_resident_memory_bytes", "Resident memory size in bytes.",
            static_cast<double>(resident) * static_cast<double>(::sysconf(_SC_PAGESIZE)));
  static const double start = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  f.gauge("process_start_time_seconds", "Start time of the process since unix epoch in seconds.", start);
}

}  // namespace

std::string metrics_text(const actors::run_stats& s, const std::optional<rtp::engine_totals>& media,
                         const std::optional<control_api::server_counters>& api) {
  families f;
  const auto total = s.phones_total.load(), registered = s.phones_registered.load(), failed = s.phones_failed.load();
  auto& phones = f.family("sipfleet_phones", "Simulated phones by registration state.", MetricType::Gauge);
  families::add(phones, {{"state", "registered"}}, d(registered));
  families::add(phones, {{"state", "failed"}}, d(failed));
  families::add(phones, {{"state", "unregistered"}}, d(std::max<std::int64_t>(0, total - registered - failed)));

  auto& regs = f.family("sipfleet_registrations_total", "REGISTER transactions that ended, by result.",
                        MetricType::Counter);
  families::add(regs, {{"result", "success"}}, d(s.registrations_succeeded.load()));
  families::add(regs, {{"result", "failure"}}, d(s.registrations_failed.load()));
  f.counter("sipfleet_unregistrations_total", "Phones unregistered (Expires: 0).", d(s.unregistrations.load()));

  auto& calls = f.family("sipfleet_calls_total",
                         "Calls by direction and result (outgoing answered counts at the answer, the rest at the end).",
                         MetricType::Counter);
  families::add(calls, {{"direction", "outgoing"}, {"result", "answered"}}, d(s.calls_answered.load()));
  families::add(calls, {{"direction", "outgoing"}, {"result", "failed"}}, d(s.calls_failed.load()));
  families::add(calls, {{"direction", "outgoing"}, {"result", "cancelled"}}, d(s.calls_cancelled.load()));
  families::add(calls, {{"direction", "incoming"}, {"result", "answered"}}, d(s.incoming_answered.load()));
  families::add(calls, {{"direction", "incoming"}, {"result", "failed"}}, d(s.incoming_failed.load()));
  families::add(calls, {{"direction", "incoming"}, {"result", "cancelled"}}, d(s.incoming_cancelled.load()));
  f.counter("sipfleet_calls_attempted_total", "Outgoing calls placed (INVITEs started).", d(s.calls_attempted.load()));
  f.gauge("sipfleet_calls_active", "Outgoing calls in progress.", d(s.calls_active.load()));
  f.histogram("sipfleet_call_setup_seconds", "Time from INVITE sent to the 2xx, answered outgoing calls.",
              s.setup_seconds);
  f.histogram("sipfleet_call_duration_seconds", "Time from answer to end, answered outgoing calls.",
              s.duration_seconds);

  auto& requests = f.family("sipfleet_sip_requests_total", "SIP requests by method and direction.",
                            MetricType::Counter);
  auto& responses = f.family("sipfleet_sip_responses_total", "SIP responses by code, CSeq method and direction.",
                             MetricType::Counter);
  for (std::size_t mi = 0; mi < actors::run_stats::k_methods; ++mi) {
    const auto m = static_cast<sip::method>(mi);
    const std::string name = m == sip::method::unknown ? "other" : std::string(sip::method_name(m));
    for (const bool out : {false, true}) {
      const char* dir = out ? "out" : "in";
      // Every method both ways, so that a rate over a quiet method is 0, not missing.
      families::add(requests, {{"method", name}, {"direction", dir}}, d(s.sip_requests(m, out)));
      for (int code = 100; code < actors::run_stats::k_codes; ++code)
        if (const auto n = s.sip_responses(code, m, out); n > 0)
          families::add(responses, {{"code", std::to_string(code)}, {"method", name}, {"direction", dir}}, d(n));
    }
  }
  if (responses.metric.empty()) f.out.erase(f.out.end() - 1);  // no response yet: no family
  f.counter("sipfleet_sip_retransmissions_total", "SIP retransmissions sent.", d(s.retransmissions.load()));
  f.counter("sipfleet_sip_parse_errors_total", "SIP messages received that did not parse.", d(s.parse_errors.load()));
  f.counter("sipfleet_sip_unroutable_total", "SIP messages received for no phone of this simulator.",
            d(s.unroutable.load()));
  f.counter("sipfleet_sip_send_errors_total", "SIP sends that failed.", d(s.send_errors.load()));
  f.counter("sipfleet_phone_restarts_total", "Phone actors restarted by their supervisor.", d(s.phone_restarts.load()));

  const auto m = s.media();
  f.counter("sipfleet_rtp_packets_sent_total", "RTP packets sent.",
            media ? d(media->packets_sent) : d(m.packets_sent));
  f.counter("sipfleet_rtp_packets_received_total", "RTP packets received.",
            media ? d(media->packets_received) : d(m.packets_received));
  f.counter("sipfleet_rtp_packets_lost_total", "RTP packets lost (RFC 3550 A.3), counted when a stream ends.",
            d(std::max<std::int64_t>(0, m.lost)));
  f.counter("sipfleet_rtp_packets_expected_total", "RTP packets expected (RFC 3550 A.3), counted when a stream ends.",
            d(m.expected));
  f.histogram("sipfleet_rtp_jitter_seconds", "Interarrival jitter of each ended stream (RFC 3550 A.8).",
              s.jitter_seconds);
  f.histogram("sipfleet_call_mos", "Estimated MOS (ITU-T G.107 E-model) of each ended stream.", s.mos);
  f.gauge("sipfleet_rtp_streams_active", "RTP streams open now.", media ? d(media->streams_open) : 0.0);
  if (api) {
    f.counter("sipfleet_api_requests_total", "Control API requests served.", d(api->requests));
    f.counter("sipfleet_api_events_dropped_total", "Events a slow WebSocket client lost.", d(api->events_dropped));
    f.gauge("sipfleet_api_websocket_clients", "WebSocket clients listening to events.", d(std::uint64_t{api->websocket_clients}));
  }
  process_metrics(f);
  return prometheus::TextSerializer().Serialize(f.out);
}

}  // namespace sipfleet::app
