// SPDX-License-Identifier: Apache-2.0
#include "tests/support/child_process.hpp"

#include <csignal>
#include <stdexcept>
#include <sys/wait.h>
#include <unistd.h>

namespace catchup::test {

child_process::child_process(std::vector<std::string> argv) {
  int fds[2];
  if (::pipe(fds) != 0)
    throw std::runtime_error("pipe failed");
  pid_ = ::fork();
  if (pid_ < 0)
    throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    ::dup2(fds[1], STDOUT_FILENO);
    ::dup2(fds[1], STDERR_FILENO);
    ::close(fds[0]);
    ::close(fds[1]);
    std::vector<char*> args;
    for (auto& a : argv)
      args.push_back(a.data());
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  ::close(fds[1]);
  fd_ = fds[0];
  reader_ = std::thread{[this] {
    std::string line;
    char buf[4096];
    for (;;) {
      auto n = ::read(fd_, buf, sizeof buf);
      if (n <= 0)
        break;
      std::lock_guard<std::mutex> guard{mtx_};
      for (ssize_t i = 0; i < n; ++i) {
        if (buf[i] == '\n') {
          lines_.push_back(line);
          line.clear();
        } else {
          line += buf[i];
        }
      }
      cv_.notify_all();
    }
    std::lock_guard<std::mutex> guard{mtx_};
    if (!line.empty())
      lines_.push_back(line);
    closed_ = true;
    cv_.notify_all();
  }};
}

child_process::~child_process() {
  if (!reaped_) {
    ::kill(pid_, SIGKILL);
    wait(std::chrono::seconds(10));
  }
  if (reader_.joinable())
    reader_.join();
  if (fd_ >= 0)
    ::close(fd_);
}

std::string child_process::wait_for_line(
  const std::function<bool(const std::string&)>& match,
  std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock{mtx_};
  std::size_t seen = 0;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    for (; seen < lines_.size(); ++seen)
      if (match(lines_[seen]))
        return lines_[seen];
    if (closed_)
      return {};
    if (cv_.wait_until(lock, deadline) == std::cv_status::timeout)
      return {};
  }
}

void child_process::signal(int signal) {
  if (!reaped_)
    ::kill(pid_, signal);
}

int child_process::wait(std::chrono::milliseconds timeout) {
  if (reaped_)
    return status_;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  int status = 0;
  for (;;) {
    auto r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_)
      break;
    if (std::chrono::steady_clock::now() >= deadline) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
      break;
    }
    // Reaping has no blocking call with a timeout; the output thread is
    // what tests wait on, this only bounds the exit.
    std::unique_lock<std::mutex> lock{mtx_};
    cv_.wait_for(lock, std::chrono::milliseconds(10));
  }
  reaped_ = true;
  status_ = WIFEXITED(status) ? WEXITSTATUS(status)
                              : 128 + WTERMSIG(status);
  return status_;
}

std::string child_process::output() const {
  std::lock_guard<std::mutex> guard{mtx_};
  std::string out;
  for (auto& l : lines_)
    out += l + "\n";
  return out;
}

} // namespace catchup::test
