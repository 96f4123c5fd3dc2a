// The physical anchor for media (issue 4): how many 172-byte datagrams per second (a G.711
// RTP packet: 12-byte header + 160 bytes of 20 ms audio) this machine moves over loopback, one
// sender thread and one receiver thread, with sendto/recvfrom one at a time and with
// sendmmsg/recvmmsg in batches. Prints packets/s sent and received, loss, and CPU per packet.
//
//   bench_udp_rate [SECONDS_PER_CASE=2] [BATCH=32]
//
// Everything stays on 127.0.0.1 with ports the kernel picks; each case is bounded by its time.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <liburing.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

namespace {

constexpr std::size_t k_size = 172;

double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

int udp_socket(sockaddr_in& bound) {
  const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) {
    std::perror("socket");
    std::exit(1);
  }
  int buf = 8 << 20;
  (void)::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
  (void)::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof buf);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    std::perror("bind");
    std::exit(1);
  }
  socklen_t len = sizeof bound;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &len);
  timeval tv{0, 200000};  // the receiver notices the end within 200 ms
  (void)::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return fd;
}

struct figures {
  double sent_per_s = 0;
  double received_per_s = 0;
  double loss_pct = 0;
  double cpu_us_per_packet = 0;
};

// `senders` sockets send in turn (a socket per call, as per-call RTP ports need); one receiver.
enum class send_mode { one_by_one, sendmmsg, uring };

figures run_case(send_mode mode, double seconds, unsigned batch, unsigned senders = 1) {
  const bool batched = mode != send_mode::one_by_one;
  sockaddr_in rx_addr{}, tx_addr{};
  const int rx = udp_socket(rx_addr);
  std::vector<int> txs;
  for (unsigned i = 0; i < senders; ++i) txs.push_back(udp_socket(tx_addr));
  std::atomic<bool> sending{true};
  std::atomic<std::uint64_t> received{0};

  std::thread receiver([&] {
    std::vector<std::vector<char>> bufs(batch, std::vector<char>(2048));
    std::vector<mmsghdr> msgs(batch);
    std::vector<iovec> iov(batch);
    std::uint64_t got = 0;
    for (;;) {
      if (batched) {
        for (unsigned i = 0; i < batch; ++i) {
          iov[i] = {bufs[i].data(), bufs[i].size()};
          msgs[i] = {};
          msgs[i].msg_hdr.msg_iov = &iov[i];
          msgs[i].msg_hdr.msg_iovlen = 1;
        }
        const int n = ::recvmmsg(rx, msgs.data(), batch, MSG_WAITFORONE, nullptr);
        if (n > 0) {
          got += static_cast<std::uint64_t>(n);
          continue;
        }
      } else {
        if (::recv(rx, bufs[0].data(), bufs[0].size(), 0) > 0) {
          ++got;
          continue;
        }
      }
      if (!sending.load()) break;  // timed out after the sender stopped: done
    }
    received.store(got);
  });

  std::vector<char> payload(k_size, 'x');
  std::vector<mmsghdr> msgs(batch);
  std::vector<iovec> iov(batch);
  for (unsigned i = 0; i < batch; ++i) {
    iov[i] = {payload.data(), payload.size()};
    msgs[i] = {};
    msgs[i].msg_hdr.msg_name = &rx_addr;
    msgs[i].msg_hdr.msg_namelen = sizeof rx_addr;
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
  }
  const double cpu0 = cpu_seconds();
  const auto t0 = std::chrono::steady_clock::now();
  const auto until = t0 + std::chrono::duration<double>(seconds);
  std::uint64_t sent = 0;
  std::size_t turn = 0;
  io_uring ring{};
  std::vector<msghdr> hdrs(batch);
  if (mode == send_mode::uring) {
    if (io_uring_queue_init(batch * 2, &ring, 0) != 0) {
      std::fprintf(stderr, "io_uring_queue_init failed\n");
      std::exit(1);
    }
    for (unsigned i = 0; i < batch; ++i) hdrs[i] = msgs[i].msg_hdr;
  }
  while (std::chrono::steady_clock::now() < until) {
    for (int k = 0; k < 16; ++k) {  // check the clock every 16 rounds
      const int tx = txs[turn];
      if (++turn == txs.size()) turn = 0;
      if (mode == send_mode::uring) {
        // a batch of sends, each from the next socket in turn, in one system call
        for (unsigned i = 0; i < batch; ++i) {
          io_uring_sqe* sqe = io_uring_get_sqe(&ring);
          io_uring_prep_sendmsg(sqe, txs[turn], &hdrs[i], 0);
          if (++turn == txs.size()) turn = 0;
        }
        io_uring_submit_and_wait(&ring, batch);
        io_uring_cqe* cqe = nullptr;
        unsigned head = 0, seen = 0;
        io_uring_for_each_cqe(&ring, head, cqe) {
          if (cqe->res > 0) ++sent;
          ++seen;
        }
        io_uring_cq_advance(&ring, seen);
      } else if (batched) {
        const int n = ::sendmmsg(tx, msgs.data(), batch, 0);
        if (n > 0) sent += static_cast<std::uint64_t>(n);
      } else if (::sendto(tx, payload.data(), payload.size(), 0, reinterpret_cast<sockaddr*>(&rx_addr),
                          sizeof rx_addr) > 0) {
        ++sent;
      }
    }
  }
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  sending.store(false);
  receiver.join();
  if (mode == send_mode::uring) io_uring_queue_exit(&ring);
  const double cpu = cpu_seconds() - cpu0;
  ::close(rx);
  for (int tx : txs) ::close(tx);
  figures f;
  f.sent_per_s = static_cast<double>(sent) / wall;
  f.received_per_s = static_cast<double>(received.load()) / wall;
  f.loss_pct = sent == 0 ? 0 : 100.0 * static_cast<double>(sent - std::min(sent, received.load())) / static_cast<double>(sent);
  f.cpu_us_per_packet = received.load() == 0 ? 0 : cpu * 1e6 / static_cast<double>(received.load());
  return f;
}

}  // namespace

int main(int argc, char** argv) {
  const double seconds = argc > 1 ? std::atof(argv[1]) : 2.0;
  const unsigned batch = argc > 2 ? static_cast<unsigned>(std::atoi(argv[2])) : 32;
  if (seconds <= 0 || seconds > 60 || batch == 0 || batch > 1024) {
    std::fprintf(stderr, "usage: bench_udp_rate [SECONDS_PER_CASE (0-60], default 2] [BATCH (1-1024), default 32]\n");
    return 2;
  }
  std::printf("loopback UDP, %zu-byte datagrams (a G.711 RTP packet), 1 sender + 1 receiver thread, %.1f s per case\n",
              k_size, seconds);
  std::printf("  %-28s %14s %14s %8s %16s\n", "case", "sent/s", "received/s", "loss%", "CPU us/packet");
  auto print = [](const char* name, const figures& f) {
    std::printf("  %-28s %14.0f %14.0f %8.2f %16.2f\n", name, f.sent_per_s, f.received_per_s, f.loss_pct,
                f.cpu_us_per_packet);
  };
  char name[64];
  print("sendto/recv", run_case(send_mode::one_by_one, seconds, batch));
  std::snprintf(name, sizeof name, "sendmmsg/recvmmsg x%u", batch);
  print(name, run_case(send_mode::sendmmsg, seconds, batch));
  // sendmmsg batches on one socket only: with a socket (port) per call, a sender sends one
  // datagram per call and socket per packet time. This is its cost with 1,000 sockets.
  print("sendto over 1,000 sockets", run_case(send_mode::one_by_one, seconds, batch, 1000));
  // io_uring takes a batch of sends on different sockets in one system call: what a socket
  // per call can still batch.
  std::snprintf(name, sizeof name, "io_uring x%u, 1,000 sockets", batch);
  print(name, run_case(send_mode::uring, seconds, batch, 1000));
  std::printf("  (issue 4's target: 2,000 calls = 200,000 packets/s each way, 400,000/s in all)\n");
  return 0;
}
