// The media engine (see engine.hpp): streams spread over the workers (engine_worker.hpp), a
// stream's sockets bound on a port of the range, and the workers' figures added up.
#include "rtp/engine.hpp"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <mutex>
#include <thread>

#include "rtp/audio.hpp"
#include "rtp/engine_stream.hpp"
#include "rtp/engine_worker.hpp"
#include "rtp/g711.hpp"
#include "rtp/port_pool.hpp"

namespace sipfleet::rtp {

using namespace detail;

double late_percentile(const std::vector<std::uint64_t>& counts, double q) {
  std::uint64_t samples = 0;
  for (auto c : counts) samples += c;
  if (samples == 0) return 0;
  const auto rank = static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(samples)));
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < counts.size(); ++i) {
    seen += counts[i];
    if (seen >= rank) return static_cast<double>(i + 1) * lateness_histogram::bucket_ms;
  }
  return static_cast<double>(counts.size()) * lateness_histogram::bucket_ms;
}

struct engine::impl {
  engine_options options;
  shared_audio audio;
  std::mutex ports_mutex;
  port_pool ports;
  std::vector<std::unique_ptr<worker>> workers;
  std::atomic<unsigned> next{0};
  std::atomic<std::uint64_t> open_failures{0};
  std::mutex digits_mutex;
  std::function<void(std::uint64_t, char)> on_digit;

  explicit impl(engine_options o)
      : options(std::move(o)),
        ports(options.first_port, options.last_port, options.port_rest) {}
};

engine::engine(engine_options options) : impl_(std::make_unique<impl>(std::move(options))) {
  auto& o = impl_->options;
  if (o.threads == 0) o.threads = std::max(1u, std::thread::hardware_concurrency());
  o.threads = std::min(o.threads, 64u);  // a handle keeps the worker in 8 bits
  // The source, encoded once for both codecs; at least 4 s so that a short source (a tone's
  // period) is copied in few pieces per packet.
  audio_source src = o.audio.empty() ? audio_source::speech_like() : audio_source::from_samples(o.audio);
  std::size_t n = std::max<std::size_t>(o.audio.empty() ? src.length() : o.audio.size(), 32000);
  std::vector<std::int16_t> samples(n);
  src.fill(samples);
  impl_->audio.pcmu.resize(n);
  impl_->audio.pcma.resize(n);
  encode_ulaw(samples, impl_->audio.pcmu);
  encode_alaw(samples, impl_->audio.pcma);
  auto release = [this](std::uint16_t port) {
    std::lock_guard lock(impl_->ports_mutex);
    impl_->ports.give_back(port, clock::now());
  };
  for (unsigned i = 0; i < o.threads; ++i)
    impl_->workers.push_back(std::make_unique<worker>(i, impl_->options, impl_->audio, release,
                                                      [this](std::uint64_t tag, char digit) {
                                                        std::lock_guard lock(impl_->digits_mutex);
                                                        if (impl_->on_digit) impl_->on_digit(tag, digit);
                                                      }));
}

engine::~engine() = default;

void engine::set_digit_listener(std::function<void(std::uint64_t, char)> listener) {
  std::lock_guard lock(impl_->digits_mutex);
  impl_->on_digit = std::move(listener);
}

stream_handle engine::open(std::string_view local_address, std::uint16_t& port, std::string& error,
                           std::uint64_t tag) {
  sockaddr_storage addr{};
  socklen_t len = 0;
  if (!to_sockaddr(local_address, 0, addr, len)) {
    error = "not an IP address: " + std::string(local_address);
    ++impl_->open_failures;
    return {};
  }
  // A port of the range that some other program holds is skipped (and rests like a used one).
  for (int attempt = 0; attempt < 64; ++attempt) {
    std::optional<std::uint16_t> p;
    {
      std::lock_guard lock(impl_->ports_mutex);
      p = impl_->ports.take(clock::now());
    }
    if (!p) {
      error = "no free RTP port in " + std::to_string(impl_->options.first_port) + "-" +
              std::to_string(impl_->options.last_port) + " (widen --rtp-ports)";
      ++impl_->open_failures;
      return {};
    }
    set_port(addr, *p);
    // RTP with the kernel's arrival time on each datagram: the worker reads the socket on its
    // own schedule (worker::poll_rtp) and measures jitter from these.
    const int rtp = bound_socket(addr, len, true);
    set_port(addr, static_cast<std::uint16_t>(*p + 1));
    const int rtcp = rtp < 0 ? -1 : bound_socket(addr, len, false);
    if (rtp >= 0 && rtcp >= 0) {
      port = *p;
      const auto w = impl_->next.fetch_add(1) % impl_->workers.size();
      return impl_->workers[w]->open(rtp, rtcp, *p, tag);
    }
    const int err = errno;
    if (rtp >= 0) ::close(rtp);
    {
      std::lock_guard lock(impl_->ports_mutex);
      impl_->ports.give_back(*p, clock::now());
    }
    if (err != EADDRINUSE) {
      error = "cannot set up an RTP socket on " + std::string(local_address) + ": " + std::strerror(err);
      ++impl_->open_failures;
      return {};
    }
  }
  error = "64 RTP ports in a row are taken by other programs";
  ++impl_->open_failures;
  return {};
}

void engine::start(stream_handle h, const stream_params& p) {
  if (!h) return;
  impl_->workers[(h.id >> 24) % impl_->workers.size()]->start(h.id & 0xFFFFFFu, h.generation, p);
}

void engine::send_digits(stream_handle h, std::string_view digits) {
  if (!h) return;
  impl_->workers[(h.id >> 24) % impl_->workers.size()]->send_digits(h.id & 0xFFFFFFu, h.generation, digits);
}

stream_summary engine::close(stream_handle h) {
  if (!h) return {};
  return impl_->workers[(h.id >> 24) % impl_->workers.size()]->close(h.id & 0xFFFFFFu, h.generation);
}

engine_totals engine::totals() const {
  engine_totals t;
  std::vector<std::uint64_t> late(lateness_histogram::buckets, 0);
  for (const auto& w : impl_->workers) w->add_totals(t, late);
  t.open_failures = impl_->open_failures.load();
  t.late_p50_ms = late_percentile(late, 0.50);
  t.late_p99_ms = late_percentile(late, 0.99);
  t.late_counts = std::move(late);
  return t;
}

unsigned engine::threads() const { return static_cast<unsigned>(impl_->workers.size()); }

std::size_t engine::port_capacity() const { return impl_->ports.capacity(); }

}  // namespace sipfleet::rtp
