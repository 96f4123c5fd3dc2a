// UDP transport on Boost.Asio (see transport.hpp).
#include "actors/transport.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <array>
#include <atomic>
#include <boost/asio.hpp>
#include <cerrno>
#include <future>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "sip/builder.hpp"
#include "sip/method.hpp"

namespace sipfleet::actors {

namespace net = boost::asio;
using udp = net::ip::udp;
using tcp = net::ip::tcp;

std::string route_key_of(std::size_t phone) {
  static constexpr char digits[] = "0123456789abcdefghijklmnopqrstuvwxyz";
  std::string out;
  do {
    out.insert(out.begin(), digits[phone % 36]);
    phone /= 36;
  } while (phone != 0);
  return out;
}

namespace {

// What a message we send is, for the metrics: its status code (0: a request) and its method
// (the request line's; a response's from its CSeq). sip/builder.cpp wrote it ("CSeq: N
// METHOD"): a few comparisons, not a parse.
void count_outgoing(run_stats& s, std::string_view b) {
  if (b.starts_with("SIP/2.0 ")) {
    int code = 0;
    for (std::size_t i = 8; i < 11 && i < b.size() && b[i] >= '0' && b[i] <= '9'; ++i) code = code * 10 + (b[i] - '0');
    auto m = sip::method::unknown;
    if (auto p = b.find("\r\nCSeq: "); p != std::string_view::npos) {
      auto rest = b.substr(p + 8);
      rest.remove_prefix(std::min(rest.size(), rest.find(' ') + 1));  // the number
      m = sip::method_from_name(rest.substr(0, rest.find('\r')));
    }
    s.count_sip(true, code, m);
  } else {
    s.count_sip(true, 0, sip::method_from_name(b.substr(0, b.find(' '))));
  }
}

}  // namespace

std::size_t phone_from_branch(std::string_view branch) {
  constexpr std::string_view cookie = "z9hG4bK";
  if (!branch.starts_with(cookie)) return std::string_view::npos;
  branch.remove_prefix(cookie.size());
  const auto dot = branch.find('.');
  if (dot == std::string_view::npos || dot == 0 || dot > 12) return std::string_view::npos;
  std::size_t value = 0;
  for (char c : branch.substr(0, dot)) {
    std::size_t d;
    if (c >= '0' && c <= '9') {
      d = static_cast<std::size_t>(c - '0');
    } else if (c >= 'a' && c <= 'z') {
      d = static_cast<std::size_t>(c - 'a' + 10);
    } else {
      return std::string_view::npos;
    }
    value = value * 36 + d;
  }
  return value;
}

namespace {

// Heterogeneous lookup: find a phone by a string_view user without building a string.
struct string_hash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

constexpr std::size_t k_max_datagram = 65535;
// Datagrams read by one recvmmsg call, and calls per wake-up before other handlers get a turn.
constexpr unsigned k_rx_batch = 16;
constexpr int k_rx_rounds = 8;
// Sends held for one sendmmsg: at most this many, or this many bytes, before they go anyway.
constexpr std::size_t k_tx_batch = 64;
constexpr std::size_t k_tx_bytes = std::size_t{256} << 10;

// The I/O thread's transport while it handles one wake-up (see batch_scope): sends made on
// that thread then wait for the end of the wake-up and leave together.
thread_local class udp_transport* t_batching = nullptr;

ua::endpoint endpoint_of(const sockaddr_storage& a) {
  char text[INET6_ADDRSTRLEN] = {};
  if (a.ss_family == AF_INET) {
    const auto& v4 = reinterpret_cast<const sockaddr_in&>(a);
    ::inet_ntop(AF_INET, &v4.sin_addr, text, sizeof text);
    return {text, ntohs(v4.sin_port)};
  }
  const auto& v6 = reinterpret_cast<const sockaddr_in6&>(a);
  ::inet_ntop(AF_INET6, &v6.sin6_addr, text, sizeof text);
  return {text, ntohs(v6.sin6_port)};
}

// The Request-URI user of a request line, from raw bytes (for messages that do not parse).
std::string_view request_user(std::string_view bytes) {
  const auto eol = bytes.find('\n');
  const auto line = bytes.substr(0, eol);
  const auto colon = line.find("sip:");
  if (colon == std::string_view::npos) return {};
  auto rest = line.substr(colon + 4);
  const auto at = rest.find('@');
  const auto sp = rest.find(' ');
  if (at == std::string_view::npos || at > sp) return {};
  return rest.substr(0, at);
}

class udp_transport final : public transport {
 public:
  udp_transport(run_stats& stats, const transport_options& options)
      : stats_(stats), kind_(options.kind), batch_window_(options.batch_window), work_(net::make_work_guard(io_)) {}

  ~udp_transport() override { stop(); }

  sip::result<bool> bind(const transport_options& o) {
    for (const auto& ip : o.local_ips) {
      boost::system::error_code ec;
      const auto address = net::ip::make_address(ip, ec);
      if (ec) return sip::error{"--local-ip: '" + ip + "' is not an IP address"};
      auto socket = std::make_unique<udp::socket>(io_);
      socket->open(address.is_v4() ? udp::v4() : udp::v6(), ec);
      if (!ec) socket->set_option(net::socket_base::receive_buffer_size(8 << 20), ec);
      ec.clear();
      socket->set_option(net::socket_base::send_buffer_size(8 << 20), ec);
      ec.clear();
      socket->bind(udp::endpoint(address, o.port), ec);
      if (ec)
        return sip::error{"cannot bind UDP " + ip + ":" + std::to_string(o.port) + ": " + ec.message()};
      const auto local = socket->local_endpoint();
      endpoints_.push_back({local.address().to_string(), local.port()});
      sockets_.push_back(std::move(socket));
      if (kind_ == ua::transport_kind::tcp) {
        // One TCP connection per local address, from the advertised port, so that the proxy
        // finds it again for requests to the phones (their Contact names that ip:port).
        auto stream = std::make_unique<tcp_link>(io_);
        stream->local = tcp::endpoint(address, local.port());
        streams_.push_back(std::move(stream));
      }
    }
    return true;
  }

  sip::result<bool> connect(const ua::endpoint& proxy) {
    boost::system::error_code ec;
    const auto address = net::ip::make_address(proxy.host, ec);
    if (ec) return sip::error{"--proxy: '" + proxy.host + "' is not an IP address"};
    for (auto& link : streams_) {
      link->socket.open(link->local.protocol(), ec);
      link->socket.set_option(net::socket_base::reuse_address(true), ec);
      link->socket.bind(link->local, ec);
      if (ec) return sip::error{"cannot bind TCP " + link->local.address().to_string() + ":" +
                                std::to_string(link->local.port()) + ": " + ec.message()};
      link->socket.connect(tcp::endpoint(address, proxy.port), ec);
      if (ec) return sip::error{"--proxy " + proxy.host + ":" + std::to_string(proxy.port) +
                                ": cannot connect over TCP: " + ec.message()};
      link->socket.set_option(tcp::no_delay(true), ec);
      link->peer = {proxy.host, proxy.port};
    }
    return true;
  }

  std::size_t socket_count() const override { return sockets_.size(); }
  ua::endpoint local_endpoint(std::size_t socket) const override { return endpoints_.at(socket); }

  void set_routes(std::vector<phone_route> routes) override {
    route_limit_ = routes.size();
    by_user_.clear();
    by_user_.reserve(routes.size());
    for (std::size_t i = 0; i < routes.size(); ++i) by_user_.emplace(std::move(routes[i].user), i);
  }

  // The tables belong to the I/O thread once it runs: the change is carried out there, and
  // waited for, so that a phone added is reachable when this returns.
  void update_routes(std::vector<std::pair<std::size_t, std::string>> add, std::vector<std::string> remove) override {
    auto apply = [this, &add, &remove] {
      for (auto& [index, user] : add) {
        route_limit_ = std::max(route_limit_, index + 1);
        by_user_.insert_or_assign(std::move(user), index);
      }
      for (const auto& user : remove)
        if (auto it = by_user_.find(user); it != by_user_.end()) by_user_.erase(it);
    };
    if (!thread_.joinable() || stopped_) {
      apply();
      return;
    }
    std::promise<void> applied;
    net::post(io_, [&] {
      apply();
      applied.set_value();
    });
    applied.get_future().wait();
  }

  void set_ticker(tick_fn tick) override { tick_ = std::move(tick); }

  void wake_ticker() override {
    net::post(io_, [this] {
      if (!stopped_ && tick_) run_tick();
    });
  }

  void start(deliver_fn deliver, malformed_fn malformed) override {
    deliver_ = std::move(deliver);
    malformed_ = std::move(malformed);
    for (std::size_t i = 0; i < sockets_.size(); ++i) receive(i);
    for (std::size_t i = 0; i < streams_.size(); ++i) read_stream(i);
    if (tick_) net::post(io_, [this] { run_tick(); });
    thread_ = std::thread([this] { run_loop(); });
  }

  void stop() override {
    if (stopped_.exchange(true)) return;
    work_.reset();
    io_.stop();
    if (thread_.joinable()) thread_.join();
    // Handlers posted but not yet run (the I/O thread may have been sleeping out a batch
    // window) run now, with stopped_ set: update_routes' caller waits for its handler, and the
    // socket and timer handlers return at once.
    io_.restart();
    io_.poll();
    for (auto& s : sockets_) {
      boost::system::error_code ec;
      s->close(ec);
    }
    for (auto& l : streams_) {
      boost::system::error_code ec;
      l->socket.close(ec);
    }
  }

  void send(std::size_t socket, const ua::endpoint& to, std::string_view bytes) override {
    count_outgoing(stats_, bytes);
    if (kind_ == ua::transport_kind::tcp) {
      // Everything goes over the connection to the proxy (requests, and responses to what the
      // proxy sent us). Writes from several actor threads are serialised per connection.
      auto& link = *streams_[socket];
      std::lock_guard lock(link.write_mutex);
      const int fd = link.socket.native_handle();
      std::size_t done = 0;
      while (done < bytes.size()) {
        const auto n = ::send(fd, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
        if (n <= 0) {
          if (n < 0 && errno == EINTR) continue;
          stats_.send_errors.fetch_add(1, std::memory_order_relaxed);
          return;
        }
        done += static_cast<std::size_t>(n);
      }
      (void)to;
      return;
    }
    sockaddr_storage addr{};
    socklen_t len = 0;
    if (!to_sockaddr(to, addr, len)) {
      stats_.send_errors.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    const int fd = sockets_[socket]->native_handle();
    if (t_batching == this) {  // on the I/O thread, inside a wake-up: leaves at its end
      out_.push_back({fd, addr, len, out_bytes_.size(), bytes.size()});
      out_bytes_.append(bytes);
      if (out_.size() >= k_tx_batch || out_bytes_.size() >= k_tx_bytes) flush();
      return;
    }
    // sendto on one UDP socket from several threads is safe; a full buffer drops the datagram,
    // which SIP's retransmissions cover.
    (void)::sendto(fd, bytes.data(), bytes.size(), MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&addr), len);
  }

 private:
  // The I/O thread's loop. At rest it sleeps in epoll_wait and wakes for each datagram, so a
  // message is handled as it arrives. Under load that is one wake-up (a context switch, on a VM
  // a hypervisor exit) per datagram or two: at 5,000 registrations/s, ~3,000 a second, and
  // they cost more than the SIP work itself. So once two wake-ups come less than
  // `batch_window_` apart, the thread stops waiting on the sockets: it sleeps until the window
  // has passed and then takes everything that arrived in one go (io_context::poll runs what
  // epoll reports ready without blocking), and again each window while there is work. The
  // first window with nothing to do puts it back to waiting. A message then waits at most one
  // window longer; datagrams only queue in the socket meanwhile. Its receive buffer is asked
  // for 8 MiB, but the kernel grants at most net.core.rmem_max (doubled): 416 KiB on a stock
  // kernel, room for ~300 SIP datagrams, so even the longest window allowed (10 ms) overflows
  // only above ~30,000 datagrams/s.
  void run_loop() {
    using clock = std::chrono::steady_clock;
    auto previous_wake = clock::time_point{};
    auto window_start = clock::time_point{};
    bool batching = false;
    while (!io_.stopped()) {
      if (batching) {
        std::this_thread::sleep_until(window_start + batch_window_);
        window_start = clock::now();
        if (io_.poll() == 0) batching = false;
        previous_wake = window_start;
        continue;
      }
      if (io_.run_one() == 0) break;  // stopped
      const auto woke = clock::now();
      io_.poll();
      if (batch_window_.count() > 0 && woke - previous_wake < batch_window_) {
        batching = true;
        window_start = woke;
      }
      previous_wake = woke;
    }
  }

  // Ticks now and sleeps until the time the tick asks for (a wait already pending is
  // cancelled: its handler sees operation_aborted and does nothing).
  void run_tick() {
    batch_scope batch(*this);
    const auto next = tick_();
    if (next == std::chrono::steady_clock::time_point::max()) {
      ticker_.cancel();
      return;
    }
    ticker_.expires_at(next);
    ticker_.async_wait([this](boost::system::error_code ec) {
      if (ec || stopped_) return;
      run_tick();
    });
  }

  static bool to_sockaddr(const ua::endpoint& to, sockaddr_storage& addr, socklen_t& len) {
    auto* v4 = reinterpret_cast<sockaddr_in*>(&addr);
    if (::inet_pton(AF_INET, to.host.c_str(), &v4->sin_addr) == 1) {
      v4->sin_family = AF_INET;
      v4->sin_port = htons(to.port);
      len = sizeof(sockaddr_in);
      return true;
    }
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&addr);
    if (::inet_pton(AF_INET6, to.host.c_str(), &v6->sin6_addr) == 1) {
      v6->sin6_family = AF_INET6;
      v6->sin6_port = htons(to.port);
      len = sizeof(sockaddr_in6);
      return true;
    }
    return false;
  }

  // One wake-up's sends (everything the I/O thread's handler did: datagrams read, phones run,
  // timers fired) leave in one sendmmsg per socket at its end: one system call, and one chance
  // for the scheduler to switch to the proxy we just woke, instead of one per datagram.
  class batch_scope {
   public:
    explicit batch_scope(udp_transport& t) : t_(t), outer_(t_batching) { t_batching = &t; }
    ~batch_scope() {
      t_.flush();
      t_batching = outer_;
    }
    batch_scope(const batch_scope&) = delete;
    batch_scope& operator=(const batch_scope&) = delete;

   private:
    udp_transport& t_;
    udp_transport* outer_;
  };

  struct pending_send {
    int fd;
    sockaddr_storage addr;
    socklen_t len;
    std::size_t offset;
    std::size_t size;
  };

  // Sends what waits, in order: one sendmmsg per run of sends on the same socket. A datagram
  // the kernel refuses (a full buffer) is dropped as sendto would drop it; SIP retransmits.
  void flush() {
    std::size_t i = 0;
    while (i < out_.size()) {
      std::size_t n = 0;
      const int fd = out_[i].fd;
      while (i + n < out_.size() && n < k_tx_batch && out_[i + n].fd == fd) {
        auto& p = out_[i + n];
        tx_iov_[n] = {out_bytes_.data() + p.offset, p.size};
        tx_hdr_[n] = {};
        tx_hdr_[n].msg_hdr.msg_name = &p.addr;
        tx_hdr_[n].msg_hdr.msg_namelen = p.len;
        tx_hdr_[n].msg_hdr.msg_iov = &tx_iov_[n];
        tx_hdr_[n].msg_hdr.msg_iovlen = 1;
        ++n;
      }
      std::size_t done = 0;
      while (done < n) {
        const int sent = ::sendmmsg(fd, tx_hdr_.data() + done, static_cast<unsigned>(n - done), MSG_DONTWAIT);
        if (sent < 0 && errno == EINTR) continue;
        // sendmmsg stops at the first datagram that fails: skip that one and go on
        done += sent > 0 ? static_cast<std::size_t>(sent) : 1;
      }
      i += n;
    }
    out_.clear();
    out_bytes_.clear();
  }

  // Waits until socket i is readable, then reads what it holds in batches (recvmmsg) and
  // dispatches each datagram, the sends they cause leaving together at the end.
  void receive(std::size_t i) {
    sockets_[i]->async_wait(udp::socket::wait_read, [this, i](boost::system::error_code ec) {
      if (ec == net::error::operation_aborted || stopped_) return;
      on_readable(i);
    });
  }

  void on_readable(std::size_t i) {
    bool drained = false;
    {
      batch_scope batch(*this);
      const int fd = sockets_[i]->native_handle();
      for (int round = 0; round < k_rx_rounds && !drained; ++round) {
        for (unsigned k = 0; k < k_rx_batch; ++k) {
          rx_iov_[k] = {rx_buffer_.data() + k * k_max_datagram, k_max_datagram};
          rx_hdr_[k] = {};
          rx_hdr_[k].msg_hdr.msg_name = &rx_from_[k];
          rx_hdr_[k].msg_hdr.msg_namelen = sizeof(sockaddr_storage);
          rx_hdr_[k].msg_hdr.msg_iov = &rx_iov_[k];
          rx_hdr_[k].msg_hdr.msg_iovlen = 1;
        }
        const int n = ::recvmmsg(fd, rx_hdr_.data(), k_rx_batch, MSG_DONTWAIT, nullptr);
        // Fewer than asked: the queue was empty when the call returned, and any datagram that
        // comes later makes the socket readable again (edge-triggered). Another error (e.g. an
        // ICMP port unreachable reported on the socket) is consumed by the call: read on.
        if (n < 0) {
          if (errno == EAGAIN || errno == EWOULDBLOCK) drained = true;
          continue;
        }
        if (n < static_cast<int>(k_rx_batch)) drained = true;
        for (int k = 0; k < n; ++k) {
          if (rx_hdr_[k].msg_hdr.msg_flags & MSG_TRUNC) {  // over 64 KiB: not a SIP datagram
            stats_.parse_errors.fetch_add(1, std::memory_order_relaxed);
            continue;
          }
          dispatch(i, std::string_view(rx_buffer_.data() + k * k_max_datagram, rx_hdr_[k].msg_len),
                   endpoint_of(rx_from_[k]), sip::framing::datagram);
        }
      }
    }
    if (stopped_) return;
    if (drained) {
      receive(i);
    } else {  // more waiting: read on after the handlers already queued (ticks, other sockets)
      net::post(io_, [this, i] {
        if (!stopped_) on_readable(i);
      });
    }
  }

  struct tcp_link {
    explicit tcp_link(net::io_context& io) : socket(io) {}
    tcp::socket socket;
    tcp::endpoint local;
    ua::endpoint peer;
    std::string in;  // bytes received, not yet a whole message
    std::array<char, 16384> chunk{};
    std::mutex write_mutex;
  };

  void read_stream(std::size_t i) {
    auto& link = *streams_[i];
    link.socket.async_read_some(net::buffer(link.chunk), [this, i](boost::system::error_code ec, std::size_t n) {
      if (ec || stopped_) return;  // the proxy closed the connection: phones time out and report it
      auto& l = *streams_[i];
      l.in.append(l.chunk.data(), n);
      // §18.3: Content-Length frames messages on a stream.
      while (true) {
        const auto frame = sip::stream_frame_length(l.in);
        if (!frame) {  // unrecoverable framing: drop what we have
          stats_.parse_errors.fetch_add(1, std::memory_order_relaxed);
          l.in.clear();
          break;
        }
        if (*frame == 0) break;
        dispatch(i, std::string_view(l.in).substr(0, *frame), l.peer, sip::framing::stream);
        l.in.erase(0, *frame);
      }
      read_stream(i);
    });
  }

  void dispatch(std::size_t socket, std::string_view bytes, const ua::endpoint& from, sip::framing framing) {
    // Keep-alives (CRLF) and stray bytes too short to be SIP are ignored.
    if (bytes.size() < 16) return;
    auto parsed = sip::message::parse(bytes, {.framing = framing});
    if (!parsed) {
      stats_.parse_errors.fetch_add(1, std::memory_order_relaxed);
      const auto user = request_user(bytes);
      const auto it = user.empty() ? by_user_.end() : by_user_.find(user);
      if (it != by_user_.end()) malformed_(it->second, std::string(bytes), parsed.err().reason, from);
      return;
    }
    const auto& m = *parsed;
    stats_.count_sip(false, m.status_code(), m.is_response() ? m.cseq().method : m.method());
    std::size_t phone = std::string_view::npos;
    if (m.is_response()) {
      phone = phone_from_branch(m.top_via().branch);
      if (phone >= route_limit_) phone = std::string_view::npos;
    } else if (const auto it = by_user_.find(m.request_uri().user); it != by_user_.end()) {
      phone = it->second;
    }
    if (phone == std::string_view::npos) {
      stats_.unroutable.fetch_add(1, std::memory_order_relaxed);
      // §8.2.2.1: a request for a user we do not hold gets 404 (never answer an ACK).
      if (m.is_request() && m.method() != sip::method::ack) {
        const auto reply = sip::answer(m, 404, "sf404");
        send(socket, from, reply);
      }
      return;
    }
    deliver_(phone, std::make_shared<const sip::message>(std::move(parsed).value()), from);
  }

  run_stats& stats_;
  ua::transport_kind kind_;
  std::chrono::microseconds batch_window_;  // see run_loop
  net::io_context io_;
  net::executor_work_guard<net::io_context::executor_type> work_;
  std::vector<std::unique_ptr<udp::socket>> sockets_;
  std::vector<std::unique_ptr<tcp_link>> streams_;
  std::vector<ua::endpoint> endpoints_;
  // recvmmsg's buffers (one datagram each, shared by the sockets: only the I/O thread reads)
  std::vector<char> rx_buffer_ = std::vector<char>(k_rx_batch * k_max_datagram);
  std::array<mmsghdr, k_rx_batch> rx_hdr_{};
  std::array<iovec, k_rx_batch> rx_iov_{};
  std::array<sockaddr_storage, k_rx_batch> rx_from_{};
  // sends waiting for the end of the I/O thread's wake-up (see batch_scope)
  std::vector<pending_send> out_;
  std::string out_bytes_;
  std::array<mmsghdr, k_tx_batch> tx_hdr_{};
  std::array<iovec, k_tx_batch> tx_iov_{};
  std::size_t route_limit_ = 0;  // phone indices below it may be routed to (by Via branch)
  std::unordered_map<std::string, std::size_t, string_hash, std::equal_to<>> by_user_;
  deliver_fn deliver_;
  malformed_fn malformed_;
  tick_fn tick_;
  net::steady_timer ticker_{io_};
  std::thread thread_;
  std::atomic<bool> stopped_{false};
};

}  // namespace

sip::result<std::unique_ptr<transport>> transport::open(const transport_options& options, run_stats& stats) {
  auto t = std::make_unique<udp_transport>(stats, options);
  if (auto r = t->bind(options); !r) return r.err();
  if (options.kind == ua::transport_kind::tcp) {
    if (auto r = t->connect(options.proxy); !r) return r.err();
  }
  return std::unique_ptr<transport>(std::move(t));
}

}  // namespace sipfleet::actors
