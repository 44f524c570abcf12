// SPDX-License-Identifier: Apache-2.0
#include "adapters/http_connection_gate.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <stdexcept>
#include <string_view>
#include <system_error>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <httplib.h>
#include <spdlog/spdlog.h>

namespace catchup {

namespace {

using steady = std::chrono::steady_clock;

// Descriptors the process needs besides the endpoint's connections
// (database connections, cluster links, files being imported, logs).
constexpr rlim_t descriptors_reserve = 256;
// Accepts per wake-up of the loop, so pending connections are read too
// while a flood arrives.
constexpr int accepts_per_wake_max = 64;
// Events per epoll_wait.
constexpr int events_max = 64;
// How long accepting pauses when the process is out of descriptors.
constexpr std::chrono::milliseconds out_of_descriptors_pause{100};

const std::string_view header_end = "\r\n\r\n";

// "127.0.0.1:9464", "[::1]:9464".
std::string address_and_port(const std::string& address, int port) {
  if (address.find(':') != std::string::npos)
    return "[" + address + "]:" + std::to_string(port);
  return address + ":" + std::to_string(port);
}

std::string errno_text(int error) {
  return std::system_category().message(error);
}

// A whole answer of our own (the request never reached httplib), written
// without waiting: the connection is closed right after, and a client
// that does not read loses it, not a thread of ours.
void answer_and_close(int fd, int status, std::string_view reason,
                      std::string_view body) {
  std::string text = "HTTP/1.1 " + std::to_string(status) + " ";
  text.append(reason);
  text += "\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: "
          + std::to_string(body.size()) + "\r\nConnection: close\r\n";
  if (status == 503)
    text += "Retry-After: 1\r\n";
  text += "\r\n";
  text.append(body);
  [[maybe_unused]] auto sent
    = ::send(fd, text.data(), text.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
  ::shutdown(fd, SHUT_RDWR);
  ::close(fd);
}

// Raises the soft limit of open descriptors (within the hard one) so
// `connections` fit beside the process's own; a lower hard limit is logged.
void make_room_for(std::size_t connections) {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0)
    return;
  const rlim_t wanted = static_cast<rlim_t>(connections) + descriptors_reserve;
  if (limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur >= wanted)
    return;
  if (limit.rlim_cur == RLIM_INFINITY)
    return;
  rlimit raised = limit;
  raised.rlim_cur = limit.rlim_max == RLIM_INFINITY
                      ? wanted
                      : std::min<rlim_t>(wanted, limit.rlim_max);
  if (raised.rlim_cur > limit.rlim_cur)
    ::setrlimit(RLIMIT_NOFILE, &raised);
  if (raised.rlim_cur < wanted)
    spdlog::warn("http endpoint: {} connections and the process's own need "
                 "{} descriptors; the limit is {}",
                 connections, wanted, raised.rlim_cur);
}

// A listening socket on address:port with the given backlog.
int listen_on(const std::string& address, int port, int backlog) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const auto service = std::to_string(port);
  const auto where = address_and_port(address, port);
  if (int rc = ::getaddrinfo(address.c_str(), service.c_str(), &hints, &found);
      rc != 0)
    throw std::runtime_error("http endpoint: cannot listen on " + where
                             + ": cannot resolve the address: "
                             + ::gai_strerror(rc));
  int error = 0;
  int fd = -1;
  for (auto* a = found; a != nullptr; a = a->ai_next) {
    fd = ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                  a->ai_protocol);
    if (fd < 0) {
      error = errno;
      continue;
    }
    // SO_REUSEADDR alone: a restart binds while old connections sit in
    // TIME_WAIT, but a live listener makes bind fail (SO_REUSEPORT would
    // let a second process share the port silently).
    int yes = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    if (::bind(fd, a->ai_addr, a->ai_addrlen) == 0
        && ::listen(fd, backlog) == 0)
      break;
    error = errno;
    ::close(fd);
    fd = -1;
  }
  ::freeaddrinfo(found);
  if (fd < 0)
    throw std::runtime_error(
      "http endpoint: cannot listen on " + where + ": "
      + (error != 0 ? errno_text(error) : std::string{"no address to bind"}));
  return fd;
}

int bound_port(int fd) {
  sockaddr_storage addr{};
  socklen_t len = sizeof(addr);
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
    return -1;
  if (addr.ss_family == AF_INET6)
    return ntohs(reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port);
  return ntohs(reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
}

void address_of(int fd, bool peer, std::string& ip, int& port) {
  sockaddr_storage addr{};
  socklen_t len = sizeof(addr);
  auto* sa = reinterpret_cast<sockaddr*>(&addr);
  if ((peer ? ::getpeername(fd, sa, &len) : ::getsockname(fd, sa, &len)) != 0)
    return;
  char host[NI_MAXHOST];
  char serv[NI_MAXSERV];
  if (::getnameinfo(sa, len, host, sizeof(host), serv, sizeof(serv),
                    NI_NUMERICHOST | NI_NUMERICSERV)
      == 0) {
    ip = host;
    port = std::atoi(serv);
  }
}

// Milliseconds left until `deadline` for poll(2): at least 0, rounded up.
int ms_until(steady::time_point deadline) {
  auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline
                                                           - steady::now());
  return static_cast<int>(std::max<std::int64_t>(0, left.count()));
}

// A whole request on a worker: its bytes read so far first, then the
// socket, every read and write bounded by totals, never renewed.
class gated_stream final : public httplib::Stream {
public:
  gated_stream(int fd, std::string received, steady::time_point read_deadline,
               std::chrono::milliseconds write_timeout)
    : fd_(fd),
      received_(std::move(received)),
      read_deadline_(read_deadline),
      write_timeout_(write_timeout) {
    // nop
  }

  bool is_readable() const override {
    return offset_ < received_.size() || wait_for(POLLIN, read_deadline_);
  }

  bool is_writable() const override {
    return wait_for(POLLOUT, write_deadline());
  }

  ssize_t read(char* ptr, std::size_t size) override {
    if (offset_ < received_.size()) {
      auto n = std::min(size, received_.size() - offset_);
      std::memcpy(ptr, received_.data() + offset_, n);
      offset_ += n;
      return static_cast<ssize_t>(n);
    }
    for (;;) {
      auto n = ::recv(fd_, ptr, size, 0);
      if (n >= 0)
        return n;
      if (errno == EINTR)
        continue;
      if ((errno != EAGAIN && errno != EWOULDBLOCK)
          || !wait_for(POLLIN, read_deadline_))
        return -1;
    }
  }

  ssize_t write(const char* ptr, std::size_t size) override {
    for (;;) {
      auto n = ::send(fd_, ptr, size, MSG_NOSIGNAL);
      if (n >= 0)
        return n;
      if (errno == EINTR)
        continue;
      if ((errno != EAGAIN && errno != EWOULDBLOCK)
          || !wait_for(POLLOUT, write_deadline()))
        return -1;
    }
  }

  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    address_of(fd_, true, ip, port);
  }

  void get_local_ip_and_port(std::string& ip, int& port) const override {
    address_of(fd_, false, ip, port);
  }

  int socket() const override {
    return fd_;
  }

private:
  // The write deadline runs from the first write (or readiness check).
  steady::time_point write_deadline() const {
    if (!write_started_) {
      write_started_ = true;
      write_deadline_ = steady::now() + write_timeout_;
    }
    return write_deadline_;
  }

  bool wait_for(short events, steady::time_point deadline) const {
    for (;;) {
      pollfd p{fd_, events, 0};
      int rc = ::poll(&p, 1, ms_until(deadline));
      if (rc > 0)
        return (p.revents & (events | POLLHUP | POLLERR)) != 0;
      if (rc == 0 || errno != EINTR)
        return false;
    }
  }

  int fd_;
  std::string received_;
  std::size_t offset_ = 0;
  steady::time_point read_deadline_;
  std::chrono::milliseconds write_timeout_;
  mutable bool write_started_ = false;
  mutable steady::time_point write_deadline_;
};

// A connection whose request is not whole yet.
struct pending_connection {
  std::string received;
  steady::time_point deadline;
};

// A connection with its whole request header, for a worker.
struct ready_connection {
  int fd = -1;
  std::string received;
  steady::time_point deadline;
};

} // namespace

struct connection_gate::state {
  connection_gate_limits limits;
  serve_function serve;
  int listen_fd = -1;
  int epoll_fd = -1;
  int wake_fd = -1;
  int port = 0;

  // Open connections: pending, ready or being answered.
  std::atomic<std::size_t> open{0};

  // Owned by the loop thread.
  std::unordered_map<int, pending_connection> pending;
  bool accepting_paused = false;
  steady::time_point accepting_resumes;

  std::mutex ready_mutex;
  std::condition_variable ready_changed;
  std::deque<ready_connection> ready;
  bool stopping = false;

  std::thread loop_thread;
  std::vector<std::thread> workers;
  std::mutex stop_mutex;
  bool stopped = false;

  void loop();
  void accept_new();
  void read_from(int fd);
  void close_pending(int fd, int status, std::string_view reason,
                     std::string_view body);
  void hand_over(int fd, pending_connection&& c);
  void expire(steady::time_point now);
  int wait_ms(steady::time_point now) const;
  void work();
};

void connection_gate::state::accept_new() {
  for (int i = 0; i < accepts_per_wake_max; ++i) {
    int fd = ::accept4(listen_fd, nullptr, nullptr,
                       SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED)
        continue;
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS
          || errno == ENOMEM) {
        // Out of descriptors: the connection waits in the backlog while
        // accepting pauses (the listening socket would wake us at once).
        spdlog::warn("http endpoint: cannot accept: {}", errno_text(errno));
        epoll_event ev{};
        ::epoll_ctl(epoll_fd, EPOLL_CTL_MOD, listen_fd, &ev);
        accepting_paused = true;
        accepting_resumes = steady::now() + out_of_descriptors_pause;
      }
      return;
    }
    if (open.load() >= limits.connections_max) {
      answer_and_close(fd, 503, "Service Unavailable",
                       "too many connections\n");
      continue;
    }
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLRDHUP;
    ev.data.fd = fd;
    if (::epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &ev) != 0) {
      answer_and_close(fd, 503, "Service Unavailable", "cannot watch\n");
      continue;
    }
    ++open;
    pending_connection c;
    c.deadline = steady::now()
                 + std::chrono::milliseconds(limits.request_timeout_ms);
    pending.emplace(fd, std::move(c));
  }
}

void connection_gate::state::close_pending(int fd, int status,
                                           std::string_view reason,
                                           std::string_view body) {
  ::epoll_ctl(epoll_fd, EPOLL_CTL_DEL, fd, nullptr);
  pending.erase(fd);
  if (status == 0) {
    ::close(fd);
  } else {
    answer_and_close(fd, status, reason, body);
  }
  --open;
}

void connection_gate::state::hand_over(int fd, pending_connection&& c) {
  ::epoll_ctl(epoll_fd, EPOLL_CTL_DEL, fd, nullptr);
  ready_connection r;
  r.fd = fd;
  r.received = std::move(c.received);
  r.deadline = c.deadline;
  pending.erase(fd);
  {
    std::lock_guard<std::mutex> guard{ready_mutex};
    ready.push_back(std::move(r));
  }
  ready_changed.notify_one();
}

void connection_gate::state::read_from(int fd) {
  auto it = pending.find(fd);
  if (it == pending.end())
    return;
  auto& c = it->second;
  char buf[4096];
  for (;;) {
    auto room = limits.request_header_bytes_max - c.received.size();
    auto n = ::recv(fd, buf, std::min(sizeof(buf), room + 1), 0);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK)
        return;
      close_pending(fd, 0, {}, {});
      return;
    }
    if (n == 0) {
      // Closed before its request was whole.
      close_pending(fd, 0, {}, {});
      return;
    }
    // Search only where the end may be: the new bytes and the three before.
    auto from = c.received.size() >= 3 ? c.received.size() - 3 : 0;
    c.received.append(buf, static_cast<std::size_t>(n));
    if (c.received.find(header_end, from) != std::string::npos) {
      hand_over(fd, std::move(c));
      return;
    }
    if (c.received.size() > limits.request_header_bytes_max) {
      close_pending(fd, 431, "Request Header Fields Too Large",
                    "request header too large\n");
      return;
    }
  }
}

void connection_gate::state::expire(steady::time_point now) {
  std::vector<int> late;
  for (auto& [fd, c] : pending)
    if (c.deadline <= now)
      late.push_back(fd);
  for (int fd : late)
    close_pending(fd, 408, "Request Timeout", "request not whole in time\n");
  if (accepting_paused && accepting_resumes <= now) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = listen_fd;
    ::epoll_ctl(epoll_fd, EPOLL_CTL_MOD, listen_fd, &ev);
    accepting_paused = false;
  }
}

int connection_gate::state::wait_ms(steady::time_point now) const {
  auto next = steady::time_point::max();
  for (auto& [fd, c] : pending)
    next = std::min(next, c.deadline);
  if (accepting_paused)
    next = std::min(next, accepting_resumes);
  if (next == steady::time_point::max())
    return -1;
  auto left = std::chrono::ceil<std::chrono::milliseconds>(next - now);
  return static_cast<int>(std::max<std::int64_t>(0, left.count()));
}

void connection_gate::state::loop() {
  epoll_event events[events_max];
  for (;;) {
    int n = ::epoll_wait(epoll_fd, events, events_max, wait_ms(steady::now()));
    if (n < 0 && errno != EINTR) {
      spdlog::error("http endpoint: epoll_wait failed: {}", errno_text(errno));
      break;
    }
    bool stop = false;
    for (int i = 0; i < n; ++i) {
      int fd = events[i].data.fd;
      if (fd == wake_fd)
        stop = true;
      else if (fd == listen_fd)
        accept_new();
      else
        read_from(fd);
    }
    if (stop)
      break;
    expire(steady::now());
  }
  // Stopping: what is not whole yet is closed unanswered.
  std::vector<int> left;
  for (auto& [fd, c] : pending)
    left.push_back(fd);
  for (int fd : left)
    close_pending(fd, 0, {}, {});
}

void connection_gate::state::work() {
  for (;;) {
    ready_connection r;
    {
      std::unique_lock<std::mutex> lock{ready_mutex};
      ready_changed.wait(lock, [this] { return !ready.empty() || stopping; });
      if (ready.empty())
        return;
      r = std::move(ready.front());
      ready.pop_front();
    }
    try {
      gated_stream stream{r.fd, std::move(r.received), r.deadline,
                          std::chrono::milliseconds(limits.write_timeout_ms)};
      serve(stream);
    } catch (const std::exception& e) {
      spdlog::warn("http endpoint: a request failed: {}", e.what());
    } catch (...) {
      spdlog::warn("http endpoint: a request failed");
    }
    ::shutdown(r.fd, SHUT_RDWR);
    ::close(r.fd);
    --open;
  }
}

connection_gate::connection_gate(const std::string& address, int port,
                                 connection_gate_limits limits,
                                 serve_function serve)
  : state_(std::make_unique<state>()) {
  auto* st = state_.get();
  st->limits = limits;
  st->serve = std::move(serve);
  make_room_for(limits.connections_max);
  // Backlog sized for the limit (the kernel caps it at somaxconn).
  st->listen_fd = listen_on(
    address, port, static_cast<int>(std::min<std::size_t>(
                     limits.connections_max, 65535)));
  st->port = bound_port(st->listen_fd);
  st->epoll_fd = ::epoll_create1(EPOLL_CLOEXEC);
  st->wake_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (st->epoll_fd < 0 || st->wake_fd < 0) {
    auto why = errno_text(errno);
    ::close(st->listen_fd);
    if (st->epoll_fd >= 0)
      ::close(st->epoll_fd);
    if (st->wake_fd >= 0)
      ::close(st->wake_fd);
    throw std::runtime_error("http endpoint: cannot serve on "
                             + address_and_port(address, st->port) + ": "
                             + why);
  }
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = st->listen_fd;
  ::epoll_ctl(st->epoll_fd, EPOLL_CTL_ADD, st->listen_fd, &ev);
  ev.data.fd = st->wake_fd;
  ::epoll_ctl(st->epoll_fd, EPOLL_CTL_ADD, st->wake_fd, &ev);
  for (std::size_t i = 0; i < limits.threads_max; ++i)
    st->workers.emplace_back([st] { st->work(); });
  st->loop_thread = std::thread{[st] { st->loop(); }};
}

connection_gate::~connection_gate() {
  stop();
}

int connection_gate::port() const {
  return state_->port;
}

void connection_gate::stop() {
  auto* st = state_.get();
  std::lock_guard<std::mutex> guard{st->stop_mutex};
  if (st->stopped)
    return;
  st->stopped = true;
  std::uint64_t one = 1;
  [[maybe_unused]] auto written = ::write(st->wake_fd, &one, sizeof(one));
  if (st->loop_thread.joinable())
    st->loop_thread.join();
  ::close(st->listen_fd);
  {
    std::lock_guard<std::mutex> ready_guard{st->ready_mutex};
    st->stopping = true;
  }
  st->ready_changed.notify_all();
  for (auto& w : st->workers)
    w.join();
  ::close(st->epoll_fd);
  ::close(st->wake_fd);
}

} // namespace catchup
