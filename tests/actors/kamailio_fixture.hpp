// A real Kamailio for one test: started from deploy/kamailio on 127.0.0.1 at a free port with
// its runtime files in a temp dir, stopped when the fixture goes out of scope.
#pragma once

#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>

namespace sipfleet::test {

// A port free for both UDP and TCP on 127.0.0.1 (bound to 0, read back, released).
inline std::uint16_t free_port() {
  for (int attempt = 0; attempt < 50; ++attempt) {
    const int u = ::socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(u, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    ::getsockname(u, reinterpret_cast<sockaddr*>(&a), &len);
    const int t = ::socket(AF_INET, SOCK_STREAM, 0);
    const bool tcp_free = ::bind(t, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    ::close(t);
    ::close(u);
    if (tcp_free) return ntohs(a.sin_port);
  }
  return 0;
}

inline std::string run_command(const std::string& cmd, int& status) {
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) {
    status = -1;
    return out;
  }
  std::array<char, 512> buf{};
  while (std::fgets(buf.data(), buf.size(), p) != nullptr) out += buf.data();
  status = ::pclose(p);
  return out;
}

class kamailio {
 public:
  kamailio() {
    port_ = free_port();
    REQUIRE(port_ != 0);
    int status = 0;
    auto out = run_command(std::string("bash ") + SIPFLEET_SOURCE_DIR + "/deploy/kamailio/start.sh --port " +
                               std::to_string(port_) + " 2>&1",
                           status);
    REQUIRE_MESSAGE(status == 0, "Kamailio did not start: " << out);
    while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
    dir_ = out.substr(out.rfind('\n') == std::string::npos ? 0 : out.rfind('\n') + 1);
  }
  ~kamailio() {
    int status = 0;
    run_command(std::string("bash ") + SIPFLEET_SOURCE_DIR + "/deploy/kamailio/stop.sh " + dir_ + " --clean 2>&1", status);
  }
  kamailio(const kamailio&) = delete;
  kamailio& operator=(const kamailio&) = delete;

  std::uint16_t port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  std::uint16_t port_ = 0;
  std::string dir_;
};

// Polls `done` every 20 ms until it holds or `timeout` passes; returns whether it held.
template <class F>
bool wait_until(F&& done, std::chrono::milliseconds timeout) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < until) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return done();
}

}  // namespace sipfleet::test
