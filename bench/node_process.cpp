// SPDX-License-Identifier: Apache-2.0
#include "bench/node_process.hpp"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <fcntl.h>
#include <set>
#include <stdexcept>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

namespace catchup::bench {

namespace {

using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;
using std::chrono::milliseconds;

// After SIGKILL the kernel ends a process at once; reaping is bounded all
// the same.
constexpr auto node_reap_timeout = 10s;
// What a node may print that the bench keeps (it prints a few lines per
// run at level info); older lines are dropped.
constexpr std::size_t output_lines_max = 10000;

// The pids of the nodes alive now, for the SIGINT/SIGTERM cleanup.
std::mutex live_mutex;
std::set<pid_t> live_pids;

} // namespace

void kill_live_nodes() noexcept {
  std::lock_guard<std::mutex> guard{live_mutex};
  for (auto pid : live_pids)
    ::kill(pid, SIGKILL);
}

std::string own_executable() {
  char path[4096];
  auto n = ::readlink("/proc/self/exe", path, sizeof path - 1);
  if (n <= 0)
    return "/proc/self/exe";
  path[n] = '\0';
  return path;
}

node_process::node_process(std::string owner,
                           const std::vector<std::string>& argv)
  : owner_(std::move(owner)) {
  // Everything the child needs is made before the fork: between fork and
  // exec a child of a threaded process may only make async-signal-safe
  // calls, so it must not allocate.
  std::vector<std::string> args = argv;
  std::vector<char*> c_args;
  for (auto& a : args)
    c_args.push_back(a.data());
  c_args.push_back(nullptr);
  int fds[2];
  // Close-on-exec, so that nodes started later do not hold this pipe.
  if (::pipe2(fds, O_CLOEXEC) != 0)
    throw std::runtime_error("cluster bench: cannot make a pipe for node "
                             + owner_);
  auto parent = ::getpid();
  std::lock_guard<std::mutex> guard{live_mutex};
  pid_ = ::fork();
  if (pid_ < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    throw std::runtime_error("cluster bench: cannot start node " + owner_);
  }
  if (pid_ == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    // The bench may have died before the line above took effect.
    if (::getppid() != parent)
      ::_exit(127);
    // The bench blocks SIGINT/SIGTERM/SIGHUP for its signal thread; the
    // node must start with them deliverable, as from a shell.
    sigset_t none;
    ::sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    auto null_fd = ::open("/dev/null", O_RDONLY);
    if (null_fd >= 0)
      ::dup2(null_fd, STDIN_FILENO);
    ::dup2(fds[1], STDOUT_FILENO);
    ::dup2(fds[1], STDERR_FILENO);
    ::execv(c_args[0], c_args.data());
    ::_exit(127);
  }
  live_pids.insert(pid_);
  ::close(fds[1]);
  fd_ = fds[0];
  reader_ = std::thread{[this] { read_output(); }};
}

node_process::~node_process() {
  if (!reaped_) {
    ::kill(pid_, SIGKILL);
    wait(node_reap_timeout);
  }
  if (reader_.joinable())
    reader_.join();
  if (fd_ >= 0)
    ::close(fd_);
}

bool node_process::wait_for(const std::string& part, milliseconds timeout) {
  std::unique_lock<std::mutex> lock{mtx_};
  auto deadline = clock_type::now() + timeout;
  std::size_t seen = 0; // absolute line number
  for (;;) {
    for (seen = std::max(seen, dropped_); seen < dropped_ + lines_.size();
         ++seen)
      if (lines_[seen - dropped_].find(part) != std::string::npos)
        return true;
    if (closed_)
      return false;
    if (cv_.wait_until(lock, deadline) == std::cv_status::timeout)
      return false;
  }
}

std::string node_process::find_line(const std::string& part) const {
  std::lock_guard<std::mutex> guard{mtx_};
  for (auto i = lines_.rbegin(); i != lines_.rend(); ++i)
    if (i->find(part) != std::string::npos)
      return *i;
  return {};
}

bool node_process::output_closed() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return closed_;
}

void node_process::signal(int sig) {
  if (!reaped_)
    ::kill(pid_, sig);
}

int node_process::wait(milliseconds timeout) {
  if (reaped_)
    return status_;
  auto deadline = clock_type::now() + timeout;
  int status = 0;
  for (;;) {
    // Looks without reaping: the pid leaves the registry first, since a
    // reaped pid may be reused and the interrupt cleanup kills by pid.
    siginfo_t info{};
    if (::waitid(P_PID, static_cast<id_t>(pid_), &info,
                 WEXITED | WNOHANG | WNOWAIT)
          == 0
        && info.si_pid == pid_)
      break;
    if (clock_type::now() >= deadline) {
      ::kill(pid_, SIGKILL);
      break;
    }
    // waitid has no timeout of its own; the exit closes the output,
    // which ends this wait early as a rule.
    std::unique_lock<std::mutex> lock{mtx_};
    cv_.wait_for(lock, 10ms);
  }
  forget();
  ::waitpid(pid_, &status, 0);
  reaped_ = true;
  status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return status_;
}

std::string node_process::tail(std::size_t n) const {
  std::lock_guard<std::mutex> guard{mtx_};
  std::string out;
  auto from = lines_.size() > n ? lines_.size() - n : 0;
  for (auto i = from; i < lines_.size(); ++i)
    out += "  " + owner_ + "| " + lines_[i] + "\n";
  return out;
}

void node_process::forget() {
  std::lock_guard<std::mutex> guard{live_mutex};
  live_pids.erase(pid_);
}

void node_process::read_output() {
  std::string line;
  char buf[4096];
  for (;;) {
    auto n = ::read(fd_, buf, sizeof buf);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    std::lock_guard<std::mutex> guard{mtx_};
    for (ssize_t i = 0; i < n; ++i) {
      if (buf[i] == '\n') {
        keep(std::move(line));
        line.clear();
      } else {
        line += buf[i];
      }
    }
    cv_.notify_all();
  }
  std::lock_guard<std::mutex> guard{mtx_};
  if (!line.empty())
    keep(std::move(line));
  closed_ = true;
  cv_.notify_all();
}

void node_process::keep(std::string line) {
  lines_.push_back(std::move(line));
  if (lines_.size() > output_lines_max) {
    lines_.pop_front();
    ++dropped_;
  }
}

} // namespace catchup::bench
