// The control API's HTTP and WebSocket server (Boost.Beast, shaped like Beast's
// example/websocket/server/chat-multi: a listener, an http_session per connection, a
// websocket_session per event subscriber, and a hub that fans events out). Requests are
// answered by the router (control_api/router.hpp) on a small pool of threads, since the
// backend waits on phones; the sockets are served by one I/O thread. Beast stays in
// server.cpp: this header is all the rest of the program sees.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "control_api/backend.hpp"

namespace sipfleet::control_api {

struct server_options {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8080;  // 0: any free port (see server::port())
  std::string token;          // non-empty: every request needs "Authorization: Bearer <token>"
  std::size_t body_limit = 1 << 20;               // bytes; a larger body is answered 413
  std::chrono::milliseconds read_timeout{30000};  // a request not read in this time is dropped
  std::size_t max_connections = 512;              // more at once are answered 503 and closed
  std::size_t event_queue = 4096;                 // events queued per WebSocket client before the oldest go
  std::size_t workers = 4;                        // threads that run the router (and so the backend)
};

// One event for the WebSocket clients: its type ("call.answered"), the phone's user, and the
// whole message as JSON text (made once, sent to every client whose filter takes it).
struct api_event {
  std::string type;
  std::string user;
  std::string json;
};

// Counters a watcher (and /metrics) may read.
struct server_counters {
  std::uint64_t requests = 0;
  std::uint64_t errors_4xx = 0;
  std::uint64_t errors_5xx = 0;
  std::uint64_t connections_refused = 0;  // over max_connections
  std::uint64_t events_sent = 0;
  std::uint64_t events_dropped = 0;       // a slow client's oldest events
  std::size_t websocket_clients = 0;
};

class server {
 public:
  // Binds and starts serving. An error says what to fix (an address in use, a non-loopback
  // address without a token).
  static outcome<std::unique_ptr<server>> start(const server_options& options, backend& b);
  virtual ~server() = default;

  virtual std::uint16_t port() const = 0;
  // Any thread; cheap when nobody listens (check has_subscribers() before making the JSON).
  virtual void publish(api_event e) = 0;
  virtual bool has_subscribers() const = 0;
  virtual server_counters counters() const = 0;
  // Stops accepting, closes every connection, joins the threads. Also done by the destructor.
  virtual void stop() = 0;
};

// True for 127.0.0.0/8, ::1 and "localhost".
bool is_loopback(const std::string& host);

}  // namespace sipfleet::control_api
