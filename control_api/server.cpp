// The control API's server (see server.hpp). The pieces, as in Beast's chat-multi example:
//
//   listener --accepts--> http_session --reads a request-->  router, on the worker pool
//                              |                                  |
//                              |  <-------- the response ---------+  (posted back to the I/O
//                              thread)
//                              |
//                              +--GET /v1/events, Upgrade--> websocket_session --joins--> hub
//   phones' threads --publish(event)--> hub --net::post--> each websocket_session's queue
//
// Every socket is served by one I/O thread (no strands needed); the router runs on the
// workers because the backend waits for phones' answers. Each connection has a body limit and
// a read timeout; there is a cap on connections. A WebSocket client that reads too slowly
// loses its oldest events, and is told how many with a "dropped" event.
#include "control_api/server.hpp"

#include <atomic>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_set>
#include <vector>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include "control_api/router.hpp"

namespace sipfleet::control_api {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = net::ip::tcp;

// Expected ends of a connection are not errors worth a word.
bool quiet(beast::error_code ec) {
  return ec == net::error::operation_aborted || ec == websocket::error::closed ||
         ec == http::error::end_of_stream || ec == net::error::eof ||
         ec == net::error::connection_reset || ec == beast::error::timeout ||
         ec == net::error::broken_pipe || ec == net::error::bad_descriptor;
}

struct counters_atomic {
  std::atomic<std::uint64_t> requests{0};
  std::atomic<std::uint64_t> errors_4xx{0};
  std::atomic<std::uint64_t> errors_5xx{0};
  std::atomic<std::uint64_t> connections_refused{0};
  std::atomic<std::uint64_t> events_sent{0};
  std::atomic<std::uint64_t> events_dropped{0};
  std::atomic<std::size_t> connections{0};
};

class websocket_session;

// Who gets events: the WebSocket sessions, each with its filter.
class hub {
 public:
  void join(const std::shared_ptr<websocket_session>& s) {
    std::lock_guard lock(mutex_);
    sessions_.insert(s.get());
    weak_.push_back(s);
    count_.store(sessions_.size());
  }
  void leave(websocket_session* s) {
    std::lock_guard lock(mutex_);
    sessions_.erase(s);
    std::erase_if(weak_, [](const auto& w) { return w.expired(); });
    count_.store(sessions_.size());
  }
  std::size_t size() const { return count_.load(std::memory_order_relaxed); }
  void publish(const std::shared_ptr<const api_event>& e);

 private:
  mutable std::mutex mutex_;
  std::unordered_set<websocket_session*> sessions_;
  std::vector<std::weak_ptr<websocket_session>> weak_;
  std::atomic<std::size_t> count_{0};
};

class websocket_session : public std::enable_shared_from_this<websocket_session> {
 public:
  websocket_session(tcp::socket&& socket, event_filter filter, hub& h, counters_atomic& c,
                    std::size_t queue_limit)
      : ws_(std::move(socket)),
        filter_(std::move(filter)),
        hub_(h),
        counters_(c),
        queue_limit_(queue_limit) {}

  ~websocket_session() { hub_.leave(this); }

  const event_filter& filter() const { return filter_; }
  net::any_io_executor executor() { return ws_.get_executor(); }

  void run(http::request<http::string_body> req) {
    // A fixed send buffer (no kernel autotuning up to megabytes): what a slow reader can hold
    // back is this plus the event queue, and beyond it the oldest events go (deliver()).
    beast::error_code ignored;
    beast::get_lowest_layer(ws_).socket().set_option(net::socket_base::send_buffer_size(64 * 1024), ignored);
    ws_.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
    ws_.set_option(websocket::stream_base::decorator(
        [](websocket::response_type& res) { res.set(http::field::server, "sipfleet"); }));
    ws_.async_accept(req,
                     beast::bind_front_handler(&websocket_session::on_accept, shared_from_this()));
  }

  // On the I/O thread (posted by the hub).
  void deliver(std::shared_ptr<const api_event> e) {
    if (closed_) return;
    queue_.push_back(std::move(e));
    // Too slow a reader: the oldest waiting events go (not the one being written).
    while (queue_.size() > queue_limit_) {
      queue_.erase(queue_.begin() + (writing_ ? 1 : 0));
      ++dropped_;
      counters_.events_dropped.fetch_add(1, std::memory_order_relaxed);
    }
    if (!writing_ && accepted_) write_next();
  }

 private:
  void on_accept(beast::error_code ec) {
    if (ec) return;
    accepted_ = true;
    hub_.join(shared_from_this());
    do_read();
    if (!queue_.empty()) write_next();
  }

  // The client sends nothing we need; reading keeps the control frames (ping, close) flowing.
  void do_read() {
    ws_.async_read(read_buffer_,
                   beast::bind_front_handler(&websocket_session::on_read, shared_from_this()));
  }
  void on_read(beast::error_code ec, std::size_t) {
    if (ec) {
      closed_ = true;
      return;
    }
    read_buffer_.consume(read_buffer_.size());
    do_read();
  }

  void write_next() {
    if (queue_.empty() || closed_) return;
    writing_ = true;
    if (dropped_ > 0) {
      // Say what was lost, before the next event.
      auto note = std::make_shared<api_event>();
      note->type = "dropped";
      note->json = "{\"type\":\"dropped\",\"count\":" + std::to_string(dropped_) + "}";
      dropped_ = 0;
      queue_.push_front(std::move(note));
    }
    ws_.text(true);
    ws_.async_write(net::buffer(queue_.front()->json),
                    beast::bind_front_handler(&websocket_session::on_write, shared_from_this()));
  }

  void on_write(beast::error_code ec, std::size_t) {
    writing_ = false;
    if (ec) {
      closed_ = true;
      queue_.clear();
      return;
    }
    counters_.events_sent.fetch_add(1, std::memory_order_relaxed);
    queue_.pop_front();
    write_next();
  }

  websocket::stream<beast::tcp_stream> ws_;
  beast::flat_buffer read_buffer_;
  event_filter filter_;
  hub& hub_;
  counters_atomic& counters_;
  std::size_t queue_limit_;
  std::deque<std::shared_ptr<const api_event>> queue_;
  std::uint64_t dropped_ = 0;
  bool writing_ = false;
  bool accepted_ = false;
  bool closed_ = false;
};

void hub::publish(const std::shared_ptr<const api_event>& e) {
  std::vector<std::shared_ptr<websocket_session>> targets;
  {
    std::lock_guard lock(mutex_);
    for (const auto& w : weak_)
      if (auto s = w.lock(); s && s->filter().matches(e->user, e->type))
        targets.push_back(std::move(s));
  }
  for (auto& s : targets) {
    // Each session lives on the I/O thread: the event is handed over there, in publish order.
    auto* raw = s.get();
    net::post(raw->executor(), [s = std::move(s), e] { s->deliver(e); });
  }
}

struct shared_context {
  server_options options;
  router_options routing;
  backend& b;
  hub events;
  counters_atomic counters;
  net::thread_pool workers;
  shared_context(const server_options& o, backend& be)
      : options(o),
        routing{.token = o.token},
        b(be),
        workers(std::max<std::size_t>(1, o.workers)) {}
};

http_response to_api(const http::request<http::string_body>& req, shared_context& ctx) {
  http_request r{.method = std::string(req.method_string()),
                 .target = std::string(req.target()),
                 .authorization = std::string(req[http::field::authorization]),
                 .content_type = std::string(req[http::field::content_type]),
                 .body = req.body()};
  try {
    return route(r, ctx.b, ctx.routing);
  } catch (const std::exception& e) {  // a bug must not take the server down
    return error_response({.kind = error_kind::internal, .code = "internal", .message = e.what()});
  }
}

http::response<http::string_body> to_beast(http_response r, unsigned version, bool keep_alive) {
  http::response<http::string_body> res{static_cast<http::status>(r.status), version};
  res.set(http::field::server, "sipfleet");
  if (!r.body.empty() || r.status != 204) res.set(http::field::content_type, r.content_type);
  for (auto& [name, value] : r.headers) res.set(name, value);
  res.keep_alive(keep_alive);
  res.body() = std::move(r.body);
  res.prepare_payload();
  return res;
}

class http_session : public std::enable_shared_from_this<http_session> {
 public:
  http_session(tcp::socket&& socket, shared_context& ctx) : stream_(std::move(socket)), ctx_(ctx) {
    ctx_.counters.connections.fetch_add(1);
  }
  ~http_session() { ctx_.counters.connections.fetch_sub(1); }

  void run() {
    net::dispatch(stream_.get_executor(),
                  beast::bind_front_handler(&http_session::do_read, shared_from_this()));
  }

  // Too many connections: one answer, then closed.
  void refuse() {
    ctx_.counters.connections_refused.fetch_add(1, std::memory_order_relaxed);
    send(to_beast(
        error_response({.kind = error_kind::unavailable,
                        .code = "too_many_connections",
                        .message = "the API serves at most " +
                                   std::to_string(ctx_.options.max_connections) + " connections"}),
        11, false));
  }

 private:
  void do_read() {
    parser_.emplace();
    parser_->body_limit(ctx_.options.body_limit);
    parser_->header_limit(16 * 1024);
    stream_.expires_after(ctx_.options.read_timeout);
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&http_session::on_read, shared_from_this()));
  }

  void on_read(beast::error_code ec, std::size_t) {
    if (ec == http::error::body_limit) {
      send(to_beast(error_response({.kind = error_kind::payload_too_large,
                                    .code = "body_too_large",
                                    .message = "the body is larger than " +
                                               std::to_string(ctx_.options.body_limit) + " bytes"}),
                    11, false));
      ctx_.counters.errors_4xx.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    if (ec) {
      if (ec != http::error::end_of_stream && !quiet(ec)) {
        // A malformed request line or header: say so, then close (the stream is lost).
        ctx_.counters.errors_4xx.fetch_add(1, std::memory_order_relaxed);
        send(to_beast(
            error_response(
                {.kind = error_kind::bad_request, .code = "bad_http", .message = ec.message()}),
            11, false));
        return;
      }
      beast::error_code ignored;
      stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
      return;
    }
    ctx_.counters.requests.fetch_add(1, std::memory_order_relaxed);
    auto req = parser_->release();
    if (websocket::is_upgrade(req)) {
      upgrade(std::move(req));
      return;
    }
    stream_.expires_never();  // the router may take a while (it waits for phones)
    // The router runs on the workers; its answer is written back on the I/O thread.
    net::post(ctx_.workers, [self = shared_from_this(), req = std::move(req)]() mutable {
      auto res = to_api(req, self->ctx_);
      if (res.status >= 500)
        self->ctx_.counters.errors_5xx.fetch_add(1, std::memory_order_relaxed);
      else if (res.status >= 400)
        self->ctx_.counters.errors_4xx.fetch_add(1, std::memory_order_relaxed);
      auto out = to_beast(std::move(res), req.version(), req.keep_alive());
      auto* raw = self.get();
      net::post(
          raw->stream_.get_executor(),
          [self = std::move(self), out = std::move(out)]() mutable { self->send(std::move(out)); });
    });
  }

  void upgrade(http::request<http::string_body> req) {
    const auto reject = [&](http_response r) {
      ctx_.counters.errors_4xx.fetch_add(1, std::memory_order_relaxed);
      send(to_beast(std::move(r), req.version(), false));
    };
    if (!authorized(req[http::field::authorization], ctx_.routing)) {
      http_response r = error_response({.kind = error_kind::unauthorized,
                                        .code = "unauthorized",
                                        .message = "this API needs Authorization: Bearer <token>"});
      r.headers.emplace_back("WWW-Authenticate", "Bearer");
      reject(std::move(r));
      return;
    }
    const std::string_view target(req.target().data(), req.target().size());
    const auto path = target.substr(0, target.find('?'));
    if (path != "/v1/events" || req.method() != http::verb::get) {
      reject(error_response({.kind = error_kind::not_found,
                             .code = "no_route",
                             .message = "WebSocket is served at GET /v1/events only"}));
      return;
    }
    auto filter = parse_event_filter(target);
    if (!filter) {
      reject(error_response(filter.err()));
      return;
    }
    stream_.expires_never();  // the WebSocket stream has its own timeouts
    std::make_shared<websocket_session>(stream_.release_socket(), std::move(filter.value()),
                                        ctx_.events, ctx_.counters, ctx_.options.event_queue)
        ->run(std::move(req));
  }

  void send(http::response<http::string_body> res) {
    response_ = std::make_shared<http::response<http::string_body>>(std::move(res));
    stream_.expires_after(ctx_.options.read_timeout);
    http::async_write(stream_, *response_,
                      beast::bind_front_handler(&http_session::on_write, shared_from_this(),
                                                response_->keep_alive()));
  }

  void on_write(bool keep_alive, beast::error_code ec, std::size_t) {
    response_.reset();
    if (ec) return;
    if (!keep_alive) {
      beast::error_code ignored;
      stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
      return;
    }
    do_read();
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  shared_context& ctx_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::shared_ptr<http::response<http::string_body>> response_;
};

class listener : public std::enable_shared_from_this<listener> {
 public:
  listener(net::io_context& io, tcp::acceptor acceptor, shared_context& ctx)
      : io_(io), acceptor_(std::move(acceptor)), ctx_(ctx) {}

  void run() { do_accept(); }
  void stop() {
    beast::error_code ignored;
    acceptor_.close(ignored);
  }

 private:
  void do_accept() {
    acceptor_.async_accept(net::make_strand(io_),
                           beast::bind_front_handler(&listener::on_accept, shared_from_this()));
  }
  void on_accept(beast::error_code ec, tcp::socket socket) {
    if (ec == net::error::operation_aborted) return;  // stopped
    if (!ec) {
      auto session = std::make_shared<http_session>(std::move(socket), ctx_);
      if (ctx_.counters.connections.load() > ctx_.options.max_connections) {
        session->refuse();
      } else {
        session->run();
      }
    }
    do_accept();
  }

  net::io_context& io_;
  tcp::acceptor acceptor_;
  shared_context& ctx_;
};

class server_impl final : public server {
 public:
  server_impl(const server_options& o, backend& b) : ctx_(o, b) {}
  ~server_impl() override { stop(); }

  outcome<bool> open() {
    beast::error_code ec;
    const auto address = net::ip::make_address(
        ctx_.options.host == "localhost" ? "127.0.0.1" : ctx_.options.host, ec);
    if (ec)
      return api_error{.kind = error_kind::bad_request,
                       .code = "bad_address",
                       .message = "--api: " + ctx_.options.host + " is not an IP address"};
    tcp::acceptor acceptor(io_);
    const tcp::endpoint ep(address, ctx_.options.port);
    acceptor.open(ep.protocol(), ec);
    if (!ec) acceptor.set_option(net::socket_base::reuse_address(true), ec);
    if (!ec) acceptor.bind(ep, ec);
    if (!ec) acceptor.listen(net::socket_base::max_listen_connections, ec);
    if (ec)
      return api_error{.kind = error_kind::unavailable,
                       .code = "bind",
                       .message = "--api: cannot listen on " + ctx_.options.host + ":" +
                                  std::to_string(ctx_.options.port) + ": " + ec.message()};
    port_ = acceptor.local_endpoint().port();
    listener_ = std::make_shared<listener>(io_, std::move(acceptor), ctx_);
    listener_->run();
    thread_ = std::thread([this] { io_.run(); });
    return true;
  }

  std::uint16_t port() const override { return port_; }

  void publish(api_event e) override {
    if (ctx_.events.size() == 0) return;
    ctx_.events.publish(std::make_shared<const api_event>(std::move(e)));
  }
  bool has_subscribers() const override { return ctx_.events.size() > 0; }

  server_counters counters() const override {
    const auto& c = ctx_.counters;
    return {.requests = c.requests.load(),
            .errors_4xx = c.errors_4xx.load(),
            .errors_5xx = c.errors_5xx.load(),
            .connections_refused = c.connections_refused.load(),
            .events_sent = c.events_sent.load(),
            .events_dropped = c.events_dropped.load(),
            .websocket_clients = ctx_.events.size()};
  }

  void stop() override {
    if (stopped_.exchange(true)) return;
    if (listener_) net::post(io_, [l = listener_] { l->stop(); });
    ctx_.workers.join();  // requests in progress finish (each waits at most the backend's timeout)
    io_.stop();
    if (thread_.joinable()) thread_.join();
  }

 private:
  shared_context ctx_;
  net::io_context io_{1};
  std::shared_ptr<listener> listener_;
  std::thread thread_;
  std::uint16_t port_ = 0;
  std::atomic<bool> stopped_{false};
};

}  // namespace

bool is_loopback(const std::string& host) {
  if (host == "localhost") return true;
  beast::error_code ec;
  const auto a = net::ip::make_address(host, ec);
  return !ec && a.is_loopback();
}

outcome<std::unique_ptr<server>> server::start(const server_options& options, backend& b) {
  if (!is_loopback(options.host) && options.token.empty())
    return api_error{
        .kind = error_kind::bad_request,
        .code = "no_token",
        .message = "--api " + options.host +
                   ": serving beyond loopback needs a token (--api-token or SIPFLEET_API_TOKEN)"};
  auto s = std::make_unique<server_impl>(options, b);
  if (auto r = s->open(); !r) return r.err();
  return std::unique_ptr<server>(std::move(s));
}

}  // namespace sipfleet::control_api
