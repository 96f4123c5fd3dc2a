// The control API over the fleet: control_api::backend carried out with actors::fleet, and
// the fleet's events turned into the API's event stream (GET /v1/events).
#pragma once

#include <chrono>
#include <memory>

#include "actors/fleet.hpp"
#include "actors/stats.hpp"
#include "app/run_settings.hpp"
#include "control_api/backend.hpp"
#include "control_api/server.hpp"

namespace sipfleet::app {

struct api_backend_options {
  std::chrono::steady_clock::time_point t0 = std::chrono::steady_clock::now();  // duration_s in /v1/stats
  std::chrono::milliseconds remove_timeout{5000};  // DELETE /v1/phones/{user}: time to unregister
};

class api_backend : public control_api::backend {
 public:
  // Events go to this server's WebSocket clients from now on: the fleet's (made into JSON only
  // when a client listens) and the API's own (DTMF sent). nullptr: no more (before the server
  // goes).
  virtual void attach(control_api::server* s) = 0;
};

// The fleet and the stats must outlive the backend.
std::unique_ptr<api_backend> make_api_backend(actors::fleet& f, actors::run_stats& stats,
                                              api_backend_options options = {});

// The API served for a fleet: the backend and the server, stopped in the right order (no
// event goes to a server that is gone).
class api_service {
 public:
  api_service(std::unique_ptr<api_backend> b, std::unique_ptr<control_api::server> s)
      : backend_(std::move(b)), server_(std::move(s)) {
    backend_->attach(server_.get());
  }
  ~api_service() {
    backend_->attach(nullptr);
    server_->stop();
  }
  std::uint16_t port() const { return server_->port(); }

 private:
  std::unique_ptr<api_backend> backend_;
  std::unique_ptr<control_api::server> server_;
};

// The host as it goes in a URL ([::1] for IPv6).
inline std::string api_host(const api_settings& a) {
  return a.host.find(':') != std::string::npos ? "[" + a.host + "]" : a.host;
}

// Starts the API for `f` as `settings` say; the error says what to fix.
sip::result<std::unique_ptr<api_service>> serve_api(const api_settings& settings, actors::fleet& f,
                                                    actors::run_stats& stats);

}  // namespace sipfleet::app
